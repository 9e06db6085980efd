//! Queues through [`Engine`]: one pool per queue name (the smallest
//! `concurrency`), slots across presses, waits bounded by the timeout.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use buttons_exec::{Engine, PressEvent, PressOptions, PressRequest};
use buttons_spec::{ArgDef, Button, ButtonName, ErrorCode, Status, Timestamp};
use buttons_store::{CodeSource, NewButton, Store};
use serde_json::json;

fn add(store: &Store, name: &str, code: &str, queue: serde_json::Value, args: &[&str]) {
    let mut button = Button::new(&ButtonName::new(name).unwrap(), Timestamp::now());
    button.queue = Some(queue);
    for def in args {
        button.args.push(ArgDef::parse(def).unwrap());
    }
    store
        .create(NewButton {
            button,
            code: CodeSource::Inline(code.into()),
            prompt: None,
        })
        .unwrap();
}

fn path_env() -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    vec![("PATH".into(), "/usr/bin:/bin".into())]
}

/// The `(start, end)` nanosecond intervals a log of `S`/`E` lines records.
pub(crate) fn intervals(log: &str) -> Vec<(u128, u128)> {
    let mut open = std::collections::HashMap::new();
    let mut out = Vec::new();
    for line in log.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let (pid, what, at) = (parts[0], parts[1], parts[2].parse::<u128>().unwrap());
        match what {
            "S" => {
                open.insert(pid.to_owned(), at);
            }
            _ => out.push((open.remove(pid).expect("an end after its start"), at)),
        }
    }
    assert!(open.is_empty(), "unfinished runs in {log}");
    out.sort_unstable();
    out
}

/// The greatest number of intervals alive at one instant.
pub(crate) fn max_overlap(intervals: &[(u128, u128)]) -> usize {
    let mut edges: Vec<(u128, i32)> = intervals
        .iter()
        .flat_map(|&(s, e)| [(s, 1), (e, -1)])
        .collect();
    // Ends before starts at the same instant.
    edges.sort_unstable();
    let (mut alive, mut most) = (0i32, 0i32);
    for (_, d) in edges {
        alive += d;
        most = most.max(alive);
    }
    usize::try_from(most).unwrap()
}

/// A script logging its start and end (pid, S|E, nanoseconds) to `log`.
pub(crate) fn logging_script(log: &std::path::Path, sleep: &str) -> String {
    let log = log.display();
    format!(
        "echo \"$$ S $(date +%s%N)\" >> '{log}'; sleep {sleep}; echo \"$$ E $(date +%s%N)\" >> '{log}'"
    )
}

#[test]
fn two_buttons_sharing_a_queue_never_overlap_and_the_smallest_concurrency_wins() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::at(tmp.path().join("data")).unwrap();
    let log = tmp.path().join("log");
    let code = logging_script(&log, "0.05");
    add(
        &store,
        "a",
        &code,
        json!({"name": "shared", "concurrency": 1}),
        &[],
    );
    // Declares 4: the pool is still 1, the smallest.
    add(
        &store,
        "b",
        &code,
        json!({"name": "shared", "concurrency": 4}),
        &[],
    );
    let engine = Engine::new(store).base_env(path_env());
    let threads: Vec<_> = (0..10)
        .map(|i| {
            let engine = engine.clone();
            std::thread::spawn(move || {
                let name = if i % 2 == 0 { "a" } else { "b" };
                let request = PressRequest::new(name).timeout(Duration::from_secs(60));
                engine.press_blocking(&request, PressOptions::default())
            })
        })
        .collect();
    for t in threads {
        let ran = t.join().unwrap().unwrap();
        assert_eq!(ran.result.status, Status::Ok, "{:?}", ran.result);
    }
    let spans = intervals(&std::fs::read_to_string(&log).unwrap());
    assert_eq!(spans.len(), 10);
    assert_eq!(max_overlap(&spans), 1, "{spans:?}");
}

#[test]
fn a_key_makes_pools_of_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::at(tmp.path().join("data")).unwrap();
    let log = tmp.path().join("log");
    add(
        &store,
        "k",
        &logging_script(&log, "0.5"),
        json!({"name": "per-user", "concurrency": 1, "key": "${args.user}"}),
        &["user:string:required"],
    );
    let engine = Engine::new(store).base_env(path_env());
    let threads: Vec<_> = ["u1", "u2"]
        .into_iter()
        .map(|user| {
            let engine = engine.clone();
            std::thread::spawn(move || {
                let request = PressRequest::new("k").arg("user", user);
                engine.press_blocking(&request, PressOptions::default())
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().unwrap().result.status, Status::Ok);
    }
    // Two keys, two pools of one: the two presses overlapped.
    let spans = intervals(&std::fs::read_to_string(&log).unwrap());
    assert_eq!(max_overlap(&spans), 2, "{spans:?}");
}

#[test]
fn a_wait_past_the_timeout_is_queue_timeout_and_nothing_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::at(tmp.path().join("data")).unwrap();
    let marker = tmp.path().join("ran");
    add(
        &store,
        "q",
        &format!("touch '{}'", marker.display()),
        json!({"name": "busy", "concurrency": 1}),
        &[],
    );
    // Someone else holds the only slot.
    let held = store.try_queue_slot(&["busy"], 1).unwrap().unwrap();
    let engine = Engine::new(store).base_env(path_env());
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let options = PressOptions::default().on_event(move |e| seen.lock().unwrap().push(e.clone()));
    let request = PressRequest::new("q").timeout(Duration::from_millis(300));
    let err = engine.press_blocking(&request, options).unwrap_err();
    assert_eq!(err.code(), ErrorCode::QueueTimeout, "{err}");
    assert!(err.hint().unwrap().contains("concurrency"));
    assert_eq!(
        *events.lock().unwrap(),
        [PressEvent::QueueWait {
            queue: "busy".into(),
            running: 1
        }]
    );
    assert!(!marker.exists());
    assert!(engine.store().records(None, 10).unwrap().is_empty());
    // Once the slot is free the press runs, with its whole timeout.
    drop(held);
    let ran = engine
        .press_blocking(&request, PressOptions::default())
        .unwrap();
    assert_eq!(ran.result.status, Status::Ok, "{:?}", ran.result);
    assert!(marker.exists());
}

#[test]
fn a_bad_queue_block_is_a_validation_error() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::at(tmp.path().join("data")).unwrap();
    add(
        &store,
        "bad",
        "true",
        json!({"name": "", "concurrency": 1}),
        &[],
    );
    let engine = Engine::new(store).base_env(path_env());
    let err = engine
        .press_blocking(&PressRequest::new("bad"), PressOptions::default())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
}

#[test]
fn a_cancelled_wait_ends_at_once_and_runs_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::at(tmp.path().join("data")).unwrap();
    add(
        &store,
        "c",
        "true",
        json!({"name": "busy", "concurrency": 1}),
        &[],
    );
    let _held = store.try_queue_slot(&["busy"], 1).unwrap().unwrap();
    let engine = Engine::new(store).base_env(path_env());
    let options = PressOptions::default()
        .cancel_on(async { tokio::time::sleep(Duration::from_millis(100)).await });
    let clock = std::time::Instant::now();
    let request = PressRequest::new("c").timeout(Duration::from_secs(60));
    let err = engine.press_blocking(&request, options).unwrap_err();
    assert!(
        matches!(err, buttons_exec::Error::Cancelled { .. }),
        "{err}"
    );
    assert!(clock.elapsed() < Duration::from_secs(30));
    assert!(engine.store().records(None, 10).unwrap().is_empty());
}

#[test]
fn smash_honours_a_shared_queue() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::at(tmp.path().join("data")).unwrap();
    let log = tmp.path().join("log");
    let names: Vec<String> = (1..=4).map(|i| format!("m{i}")).collect();
    for name in &names {
        add(
            &store,
            name,
            &logging_script(&log, "0.1"),
            json!({"name": "one-at-a-time", "concurrency": 1}),
            &[],
        );
    }
    let engine = Engine::new(store).base_env(path_env());
    let request = buttons_exec::SmashRequest {
        buttons: names,
        concurrency: Some(4),
        ..buttons_exec::SmashRequest::default()
    };
    let report = engine.smash_blocking(&request, |_| {}).unwrap();
    assert_eq!(report.failures, 0);
    let spans = intervals(&std::fs::read_to_string(&log).unwrap());
    assert_eq!(spans.len(), 4);
    assert_eq!(max_overlap(&spans), 1, "{spans:?}");
}
