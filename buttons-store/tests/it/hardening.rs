//! File-system hardening (issue 17) at the store level: handles that never
//! follow a link (even one planted while writing), locked read-modify-writes,
//! git-ignored temporary files, and capped, non-blocking reads of regular
//! files only.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use buttons_spec::{Drawer, DrawerKind, ErrorCode, PressResult, RunRecord, Timestamp};
use buttons_store::{Error, MAX_SPEC_BYTES, RunId, Scope};

use crate::{make, temp_store};

fn record() -> RunRecord {
    let result = PressResult::new("b", Timestamp::now());
    RunRecord::from_result(&result, Timestamp::now())
}

fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    assert!(
        std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap()
            .success()
    );
}

/// Flips `target` between the real folder and a link to `outside` until
/// `stop` is set, and puts the real folder back.
fn flip(
    target: std::path::PathBuf,
    outside: std::path::PathBuf,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let aside = target.with_file_name(".flip-aside");
        let mut flips = 0;
        while !stop.load(Ordering::Relaxed) {
            if std::fs::rename(&target, &aside).is_ok() {
                let _ = symlink(&outside, &target);
                std::thread::yield_now();
                let _ = std::fs::remove_file(&target);
                // A writer may have made a fresh folder meanwhile (inside
                // the data directory: allowed); the real one goes back.
                while std::fs::rename(&aside, &target).is_err() {
                    let _ = std::fs::remove_dir_all(&target);
                }
                flips += 1;
            }
            std::thread::yield_now();
        }
        flips
    })
}

#[test]
fn flipping_pressed_or_the_button_folder_never_lets_a_write_out() {
    let (tmp, store) = temp_store();
    let name = make(&store, "b", "true");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(outside.join("pressed")).unwrap();
    let button_dir = store.button_dir(&name).into_std_path_buf();
    for (target, link_to) in [
        (button_dir.join("pressed"), outside.join("pressed")),
        (button_dir.clone(), outside.clone()),
    ] {
        let stop = Arc::new(AtomicBool::new(false));
        let flipper = flip(target, link_to, stop.clone());
        for _ in 0..300 {
            let id = RunId::new(Timestamp::now());
            let _ = store.create_progress_file(&name, &id);
            let _ = store.mark_running(&name, &id, Timestamp::now());
            let _ = store.write_run_record(&name, &id, &record());
            let _ = store.clear_running(&name, &id);
        }
        stop.store(true, Ordering::Relaxed);
        assert!(flipper.join().unwrap() > 0, "the flipper never flipped");
        let written: Vec<_> = std::fs::read_dir(outside.join("pressed"))
            .unwrap()
            .collect();
        assert!(written.is_empty(), "written outside: {written:?}");
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1);
    }
}

#[test]
fn delete_never_follows_a_linked_buttons_folder() {
    let (tmp, store) = temp_store();
    let (_other_tmp, other) = temp_store();
    let victim = make(&other, "victim", "true");
    std::fs::remove_dir(store.buttons_dir()).unwrap();
    symlink(other.buttons_dir(), store.buttons_dir()).unwrap();
    let err = store.delete(&victim).unwrap_err();
    assert!(matches!(err, Error::Symlink { .. }), "{err:?}");
    assert!(other.load(&victim).is_ok());
    drop(tmp);
}

#[test]
fn twenty_threads_setting_batteries_keep_twenty_keys() {
    let (_tmp, store) = temp_store();
    std::thread::scope(|s| {
        for i in 0..20 {
            let store = &store;
            s.spawn(move || {
                store
                    .set_battery(Scope::Global, &format!("K{i}"), "v")
                    .unwrap();
            });
        }
    });
    assert_eq!(store.batteries(Scope::Global).unwrap().iter().count(), 20);
    std::thread::scope(|s| {
        for i in 0..10 {
            let store = &store;
            s.spawn(move || {
                store
                    .remove_battery(Scope::Global, &format!("K{i}"))
                    .unwrap()
            });
            s.spawn(move || {
                store
                    .set_battery(Scope::Global, &format!("N{i}"), "v")
                    .unwrap();
            });
        }
    });
    let batteries = store.batteries(Scope::Global).unwrap();
    let keys: Vec<&str> = batteries.iter().map(|(k, _)| k).collect();
    assert_eq!(keys.len(), 20, "{keys:?}");
    for i in 0..10 {
        let (gone, new) = (format!("K{i}"), format!("N{i}"));
        assert!(!keys.contains(&gone.as_str()), "{gone} came back: {keys:?}");
        assert!(keys.contains(&new.as_str()), "{new} was lost: {keys:?}");
    }
}

#[test]
fn concurrent_updates_of_a_button_and_a_drawer_lose_nothing() {
    let (_tmp, store) = temp_store();
    let name = make(&store, "b", "true");
    store
        .create_drawer(&Drawer::new("d", DrawerKind::Action, Timestamp::UNIX_EPOCH))
        .unwrap();
    let drawer = buttons_spec::ButtonName::new("d").unwrap();
    std::thread::scope(|s| {
        for i in 0..20 {
            let (store, name, drawer) = (&store, &name, &drawer);
            s.spawn(move || {
                store
                    .update(name, Timestamp::now(), |b| {
                        b.extra.insert(format!("x{i}"), i.into());
                    })
                    .unwrap();
                store
                    .update_drawer(drawer, Timestamp::now(), |d| {
                        d.extra.insert(format!("x{i}"), i.into());
                        Ok::<_, Error>(())
                    })
                    .unwrap();
            });
        }
    });
    assert_eq!(store.load(&name).unwrap().extra.len(), 20);
    assert_eq!(store.load_drawer(&drawer).unwrap().extra.len(), 20);
    // A refused change writes nothing.
    let before = std::fs::read(store.button_dir(&name).join("button.json")).unwrap();
    let err = store
        .try_update(&name, Timestamp::now(), |b| {
            b.description = "changed".into();
            Err(Error::NotFound { name: "x".into() })
        })
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }));
    let after = std::fs::read(store.button_dir(&name).join("button.json")).unwrap();
    assert_eq!(before, after);
}

#[test]
fn specs_batteries_and_records_must_be_small_regular_files() {
    let (_tmp, store) = temp_store();
    let name = make(&store, "b", "true");
    let spec = store
        .button_dir(&name)
        .join("button.json")
        .into_std_path_buf();
    let check = |err: Error, path: &Path| {
        assert_eq!(err.code(), ErrorCode::ValidationError, "{err:?}");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    };
    mkfifo(&spec);
    check(store.load(&name).unwrap_err(), &spec);
    std::fs::remove_file(&spec).unwrap();
    symlink("/dev/zero", &spec).unwrap();
    check(store.load(&name).unwrap_err(), &spec);
    std::fs::remove_file(&spec).unwrap();
    let big = format!(
        "{{\"name\":\"b\",\"description\":\"{}\"}}",
        "x".repeat(usize::try_from(MAX_SPEC_BYTES).unwrap())
    );
    std::fs::write(&spec, big).unwrap();
    let err = store.load(&name).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");

    let batteries = store.batteries_path(Scope::Global);
    mkfifo(&batteries);
    check(store.batteries(Scope::Global).unwrap_err(), &batteries);
    check(
        store.set_battery(Scope::Global, "K", "v").unwrap_err(),
        &batteries,
    );

    // Records: a folder, a FIFO and a link to /dev/zero are skipped and counted.
    let name = make(&store, "c", "true");
    store.write_record(&name, &record()).unwrap();
    let pressed = store.button_dir(&name).join("pressed").into_std_path_buf();
    std::fs::create_dir(pressed.join("2099-01-01T00-00-00.000000000Z-1-000000.json")).unwrap();
    mkfifo(&pressed.join("2099-01-01T00-00-01.000000000Z-1-000000.json"));
    symlink(
        "/dev/zero",
        pressed.join("2099-01-01T00-00-02.000000000Z-1-000000.json"),
    )
    .unwrap();
    let (records, skipped) = store.records_counted(Some(&name), 20).unwrap();
    assert_eq!((records.len(), skipped), (1, 3));
    assert_eq!(store.summaries(Some(&name), 20).unwrap().len(), 1);
}

#[test]
fn init_git_ignores_temp_files_and_the_next_write_removes_stale_ones() {
    let (_tmp, store) = temp_store();
    let text = std::fs::read_to_string(store.root().join(".gitignore")).unwrap();
    assert!(text.lines().any(|l| l == ".tmp-*"), "{text}");
    // What a writer killed between its temp file and its rename leaves.
    let old = std::time::SystemTime::now() - Duration::from_secs(120);
    let stale = store.root().join(".tmp-4242-000001");
    let fresh = store.root().join(".tmp-4242-000002");
    for path in [&stale, &fresh] {
        std::fs::write(path, "secret").unwrap();
    }
    std::fs::File::options()
        .append(true)
        .open(&stale)
        .unwrap()
        .set_modified(old)
        .unwrap();
    store.set_battery(Scope::Global, "K", "v").unwrap();
    assert!(!stale.exists(), "a stale temp file survived the next write");
    assert!(
        fresh.exists(),
        "a fresh temp file may belong to a writer at work"
    );
}

#[test]
fn a_global_directory_that_is_a_link_is_resolved_once_and_used() {
    let tmp = tempfile::tempdir().unwrap();
    let dotfiles = tmp.path().join("dotfiles/buttons");
    std::fs::create_dir_all(&dotfiles).unwrap();
    std::fs::set_permissions(
        &dotfiles,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let global = tmp.path().join("home-buttons");
    symlink(&dotfiles, &global).unwrap();
    let location = buttons_store::Location {
        root: tmp.path().join("project/.buttons"),
        source: buttons_store::Source::Project,
        global: Some(global),
    };
    let store = buttons_store::Store::open(&location).unwrap();
    store.set_battery(Scope::Global, "G", "g").unwrap();
    assert_eq!(store.battery("G").unwrap(), ("g".to_owned(), Scope::Global));
    assert!(dotfiles.join("batteries.json").is_file());
}
