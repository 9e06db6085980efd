use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use buttons_spec::{ButtonName, ErrorCode, PressResult, RunRecord, Status, Timestamp};
use buttons_store::MAX_RECORDS;

use crate::{make, temp_store};

fn record(button: &str, at: Timestamp, stdout: &str) -> RunRecord {
    let mut r = PressResult::new(button, at);
    r.stdout = stdout.into();
    RunRecord::from_result(&r, at)
}

fn names(dir: impl AsRef<std::path::Path>) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

#[test]
fn fifty_concurrent_writers_leave_fifty_records() {
    let (_t, store) = temp_store();
    let name = make(&store, "b", "true");
    let store = Arc::new(store);
    let at = Timestamp::now(); // all in the same instant: names must still differ
    let threads: Vec<_> = (0..50)
        .map(|i| {
            let store = Arc::clone(&store);
            let name = name.clone();
            std::thread::spawn(move || {
                store
                    .write_record(&name, &record("b", at, &i.to_string()))
                    .unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let records = store.records(Some(&name), 1000).unwrap();
    assert_eq!(records.len(), 50);
    let mut outs: Vec<u32> = records
        .iter()
        .map(|r| r.record.stdout.parse().unwrap())
        .collect();
    outs.sort_unstable();
    assert_eq!(outs, (0..50).collect::<Vec<_>>());
    let files = names(store.buttons_dir().join("b/pressed"));
    assert!(files.iter().all(|f| !f.starts_with(".tmp")), "{files:?}");
    assert_eq!(files.iter().filter(|f| f.ends_with(".json")).count(), 50);
    for r in &records {
        assert_eq!(
            fs::metadata(&r.path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn pruned_to_the_limit_under_concurrency_newest_kept() {
    let (_t, store) = temp_store();
    let name = make(&store, "b", "true");
    let store = Arc::new(store);
    let base = Timestamp::UNIX_EPOCH;
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = Arc::clone(&store);
            let name = name.clone();
            std::thread::spawn(move || {
                for i in 0..40 {
                    let n = t * 40 + i;
                    let at = base + Duration::from_secs(n);
                    store
                        .write_record(&name, &record("b", at, &n.to_string()))
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let records = store.records(Some(&name), 1000).unwrap();
    assert_eq!(records.len(), MAX_RECORDS);
    // Newest first, and the survivors are the newest 100 of 160... unless a
    // thread's early record landed after pruning; all kept ones are sorted.
    let secs: Vec<i64> = records
        .iter()
        .map(|r| r.record.started_at.as_second())
        .collect();
    assert!(secs.windows(2).all(|w| w[0] > w[1]), "{secs:?}");
    assert_eq!(secs[0], 159);
}

#[test]
fn temp_files_are_never_records_and_stale_ones_are_swept() {
    let (_t, store) = temp_store();
    let name = make(&store, "b", "true");
    let at = Timestamp::UNIX_EPOCH;
    store.write_record(&name, &record("b", at, "real")).unwrap();
    let pressed = store.buttons_dir().join("b/pressed");
    // What a writer killed mid-write leaves: a half-written temporary file.
    let stale = pressed.join(".tmp-99999-000001");
    fs::write(&stale, "{\"button_name\": \"b\", \"std").unwrap();
    let fresh = pressed.join(".tmp-99999-000002");
    fs::write(&fresh, "{\"button_name\": \"b\"").unwrap();
    let old = SystemTime::now() - Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(old)
        .unwrap();

    let records = store.records(Some(&name), 10).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].record.stdout, "real");

    store
        .write_record(&name, &record("b", at, "again"))
        .unwrap();
    // Stale files go whenever the folder is listed for pruning.
    store.make_room(&name).unwrap();
    assert!(!stale.exists(), "stale temp file kept");
    assert!(fresh.exists(), "a live writer's temp file was removed");
    assert_eq!(store.records(Some(&name), 10).unwrap().len(), 2);
}

#[test]
fn killed_writer_never_leaves_a_record() {
    let (_t, store) = temp_store();
    let name = make(&store, "b", "true");
    let pressed = store.buttons_dir().join("b/pressed");
    assert!(pressed.is_dir(), "create makes pressed/");
    // A process writing a file the way a record is written, killed mid-way.
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg("printf '{\"button_name\":' > .tmp-killed; exec sleep 30")
        .current_dir(&pressed)
        .spawn()
        .unwrap();
    while !pressed.join(".tmp-killed").exists() {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(store.records(Some(&name), 10).unwrap().is_empty());
    assert!(store.records(None, 10).unwrap().is_empty());
}

#[test]
fn history_across_buttons_newest_first() {
    let (_t, store) = temp_store();
    let a = make(&store, "a", "true");
    let b = make(&store, "b", "true");
    let t = |s| Timestamp::UNIX_EPOCH + Duration::from_secs(s);
    store.write_record(&a, &record("a", t(1), "1")).unwrap();
    store.write_record(&b, &record("b", t(2), "2")).unwrap();
    store.write_record(&a, &record("a", t(3), "3")).unwrap();
    let all = store.records(None, 20).unwrap();
    let got: Vec<(&str, &str)> = all
        .iter()
        .map(|r| (r.button.as_str(), r.record.stdout.as_str()))
        .collect();
    assert_eq!(got, [("a", "3"), ("b", "2"), ("a", "1")]);
    assert_eq!(store.records(None, 2).unwrap().len(), 2);
    assert_eq!(
        store.records(Some(&b), 20).unwrap()[0].record.status,
        Status::Ok
    );
    let missing = ButtonName::new("nope").unwrap();
    assert_eq!(
        store.records(Some(&missing), 20).unwrap_err().code(),
        ErrorCode::NotFound
    );
}

#[test]
fn progress_file_is_empty_private_and_not_a_record() {
    let (_t, store) = temp_store();
    let name = make(&store, "b", "true");
    let path = store
        .create_progress_file(&name, &buttons_store::RunId::new(Timestamp::UNIX_EPOCH))
        .unwrap();
    assert!(path.starts_with(store.buttons_dir().join("b/pressed")));
    assert_eq!(path.extension().unwrap(), "jsonl");
    assert_eq!(fs::metadata(&path).unwrap().len(), 0);
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(store.records(Some(&name), 10).unwrap().is_empty());
    let other = store
        .create_progress_file(&name, &buttons_store::RunId::new(Timestamp::UNIX_EPOCH))
        .unwrap();
    assert_ne!(path, other);
}

#[test]
fn make_room_leaves_one_slot_and_write_keeps_the_limit() {
    let (_t, store) = temp_store();
    let name = make(&store, "b", "true");
    let base = Timestamp::UNIX_EPOCH;
    for n in 0..(MAX_RECORDS as u64 + 5) {
        let at = base + Duration::from_secs(n);
        store
            .write_record(&name, &record("b", at, &n.to_string()))
            .unwrap();
    }
    assert_eq!(store.records(Some(&name), 1000).unwrap().len(), MAX_RECORDS);
    store.make_room(&name).unwrap();
    let kept = store.records(Some(&name), 1000).unwrap();
    assert_eq!(kept.len(), MAX_RECORDS - 1);
    assert_eq!(
        kept[0].record.stdout,
        (MAX_RECORDS + 4).to_string(),
        "the newest must stay"
    );
    let at = base + Duration::from_secs(1000);
    store.write_record(&name, &record("b", at, "new")).unwrap();
    assert_eq!(store.records(Some(&name), 1000).unwrap().len(), MAX_RECORDS);
}

#[test]
fn record_count_bound_survives_outside_changes() {
    let (_t, store) = temp_store();
    let name = make(&store, "b", "true");
    let pressed = store.buttons_dir().join("b/pressed");
    let base = Timestamp::UNIX_EPOCH;
    let at = |n: u64| base + Duration::from_secs(n);
    for n in 0..MAX_RECORDS as u64 {
        store
            .write_record(&name, &record("b", at(n), &n.to_string()))
            .unwrap();
    }
    // Someone deletes half the records by hand: the bound is now too high,
    // which must cost a listing, never a record.
    let mut files: Vec<_> = fs::read_dir(&pressed)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for old in &files[..50] {
        fs::remove_file(old).unwrap();
    }
    store
        .write_record(&name, &record("b", at(500), "x"))
        .unwrap();
    assert_eq!(store.records(Some(&name), 1000).unwrap().len(), 51);

    // Another tool drops records in without counting them: the next
    // make_room recounts, and the limit holds after the write.
    for n in 0..80u64 {
        let file = pressed.join(format!("1960-01-01T00-00-{n:02}.000000000Z-1-000000.json"));
        fs::write(
            file,
            serde_json::to_vec(&record("b", at(n), "old")).unwrap(),
        )
        .unwrap();
    }
    store.make_room(&name).unwrap();
    store
        .write_record(&name, &record("b", at(600), "y"))
        .unwrap();
    let kept = store.records(Some(&name), 1000).unwrap();
    assert_eq!(kept.len(), MAX_RECORDS);
    assert_eq!(kept[0].record.stdout, "y");

    // A garbled count is ignored (the folder is listed instead).
    fs::write(pressed.join(".lock"), "garbage").unwrap();
    store
        .write_record(&name, &record("b", at(700), "z"))
        .unwrap();
    assert_eq!(store.records(Some(&name), 1000).unwrap().len(), MAX_RECORDS);
}

/// A record is never visible half-written: writers store large records
/// (1 MiB of stdout and of stderr each) while a reader lists `pressed/`
/// without pause and parses every record it sees the moment it sees it.
/// Written in place, a record's name appears when the file is created, long
/// before its 2 MiB are in: the reader catches nearly every one of those
/// windows. Written to a temporary file and renamed, the name appears only
/// with the whole content.
#[test]
fn records_appear_only_complete_to_a_concurrent_reader() {
    const WRITERS: usize = 2;
    const EACH: usize = 6;
    let (_t, store) = temp_store();
    let name = make(&store, "b", "true");
    let pressed = store.buttons_dir().join("b/pressed");
    // Created up front so the reader can list it from the start.
    store
        .create_progress_file(&name, &buttons_store::RunId::new(Timestamp::UNIX_EPOCH))
        .unwrap();
    let big = |c: char| c.to_string().repeat(buttons_spec::OUTPUT_CAP);
    let done = AtomicBool::new(false);
    let (checked, bad) = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut checked = HashSet::new();
            let mut bad = Vec::new();
            loop {
                // Read the flag first: a listing after it is final.
                let last = done.load(Ordering::Acquire);
                for entry in fs::read_dir(&pressed).unwrap() {
                    let file = entry.unwrap().file_name().into_string().unwrap();
                    // A record name, as `Store::records` takes it.
                    if file.starts_with('.') || !file.ends_with(".json") || checked.contains(&file)
                    {
                        continue;
                    }
                    let Ok(bytes) = fs::read(pressed.join(&file)) else {
                        continue; // pruned meanwhile
                    };
                    match serde_json::from_slice::<RunRecord>(&bytes) {
                        Ok(r) if r.stdout.len() == buttons_spec::OUTPUT_CAP => {}
                        Ok(r) => bad.push(format!("{file}: stdout of {}", r.stdout.len())),
                        Err(e) => bad.push(format!("{file}: {} bytes: {e}", bytes.len())),
                    }
                    checked.insert(file);
                }
                if last {
                    return (checked.len(), bad);
                }
            }
        });
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (store, name) = (&store, &name);
                s.spawn(move || {
                    for i in 0..EACH {
                        let at = Timestamp::UNIX_EPOCH + Duration::from_secs((w * EACH + i) as u64);
                        let mut r = PressResult::new("b", at);
                        r.stdout = big('o');
                        r.stderr = big('e');
                        store
                            .write_record(name, &RunRecord::from_result(&r, at))
                            .unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, Ordering::Release);
        reader.join().unwrap()
    });
    assert!(bad.is_empty(), "partial records were visible: {bad:#?}");
    assert_eq!(checked, WRITERS * EACH);
    assert_eq!(
        store.records(Some(&name), 1000).unwrap().len(),
        WRITERS * EACH
    );
}
