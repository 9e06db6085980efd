//! Idempotency keys through [`Engine`]: one run per button and key, replays
//! without records, conflicts on other arguments.

use std::time::Duration;

use buttons_exec::{Engine, Idempotency, PressOptions, PressRequest};
use buttons_spec::{ArgDef, Button, ButtonName, ErrorCode, Status, Timestamp};
use buttons_store::{CodeSource, NewButton, Store};

fn add(store: &Store, name: &str, code: &str) {
    let mut button = Button::new(&ButtonName::new(name).unwrap(), Timestamp::now());
    button.args.push(ArgDef::parse("n:int:optional").unwrap());
    store
        .create(NewButton {
            button,
            code: CodeSource::Inline(code.into()),
            prompt: None,
        })
        .unwrap();
}

#[test]
fn concurrent_presses_with_one_key_run_once() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::at(tmp.path().join("data")).unwrap();
    let runs = tmp.path().join("runs");
    add(
        &store,
        "once",
        &format!("echo run >> '{}'; sleep 0.2; echo done", runs.display()),
    );
    let engine = Engine::new(store).base_env([("PATH".into(), "/usr/bin:/bin".into())]);
    let threads: Vec<_> = (0..20)
        .map(|_| {
            let engine = engine.clone();
            std::thread::spawn(move || {
                let request = PressRequest::new("once")
                    .arg("n", "1")
                    .idempotency_key("key-1");
                engine.press_blocking(&request, PressOptions::default())
            })
        })
        .collect();
    let rans: Vec<_> = threads
        .into_iter()
        .map(|t| t.join().unwrap().unwrap())
        .collect();
    assert_eq!(std::fs::read_to_string(&runs).unwrap(), "run\n");
    assert_eq!(rans.iter().filter(|r| !r.replayed).count(), 1);
    assert!(
        rans.iter()
            .all(|r| r.result == rans[0].result && r.id == rans[0].id)
    );
    assert_eq!(rans[0].result.status, Status::Ok);
    assert_eq!(engine.store().records(None, 50).unwrap().len(), 1);

    let err = engine
        .press_blocking(
            &PressRequest::new("once")
                .arg("n", "2")
                .idempotency_key("key-1"),
            PressOptions::default(),
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
    assert!(
        err.to_string()
            .contains("key key-1 was used with other arguments")
    );

    // An expired entry answers no more.
    let short = Idempotency::new("key-2").ttl(Duration::from_millis(200));
    let request = PressRequest::new("once").idempotency(short);
    assert!(
        !engine
            .press_blocking(&request, PressOptions::default())
            .unwrap()
            .replayed
    );
    assert!(
        engine
            .press_blocking(&request, PressOptions::default())
            .unwrap()
            .replayed
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !engine
            .press_blocking(&request, PressOptions::default())
            .unwrap()
            .replayed
    );
    assert_eq!(std::fs::read_to_string(&runs).unwrap(), "run\nrun\nrun\n");

    let empty = PressRequest::new("once").idempotency_key("");
    let err = engine
        .press_blocking(&empty, PressOptions::default())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
}
