//! [`Engine::smash`]: the concurrency cap, stop and continue, argument
//! routing, and checks before anything runs.

use buttons_exec::{Engine, OnFailure, SmashOutcome, SmashRequest};
use buttons_spec::{ArgDef, Button, ButtonName, ErrorCode, Status, Timestamp};
use buttons_store::{CodeSource, NewButton, Store};

use crate::queues::{intervals, logging_script, max_overlap};

fn add(store: &Store, name: &str, code: &str, args: &[&str]) {
    let mut button = Button::new(&ButtonName::new(name).unwrap(), Timestamp::now());
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

fn engine(store: Store) -> Engine {
    Engine::new(store).base_env([("PATH".into(), "/usr/bin:/bin".into())])
}

#[test]
fn at_most_concurrency_presses_are_alive() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::at(tmp.path().join("data")).unwrap();
    let log = tmp.path().join("log");
    let names: Vec<String> = (1..=5).map(|i| format!("b{i}")).collect();
    for name in &names {
        add(&store, name, &logging_script(&log, "0.2"), &[]);
    }
    let engine = engine(store);
    let request = SmashRequest {
        buttons: names.clone(),
        concurrency: Some(2),
        ..SmashRequest::default()
    };
    let mut finished = Vec::new();
    let report = engine
        .smash_blocking(&request, |item| finished.push(item.button.clone()))
        .unwrap();
    assert_eq!(report.failures, 0);
    assert_eq!(finished.len(), 5);
    let order: Vec<&str> = report.results.iter().map(|i| i.button.as_str()).collect();
    assert_eq!(order, names);
    let spans = intervals(&std::fs::read_to_string(&log).unwrap());
    assert_eq!(spans.len(), 5);
    assert_eq!(max_overlap(&spans), 2, "{spans:?}");
}

#[test]
fn stop_skips_and_continue_runs_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::at(tmp.path().join("data")).unwrap();
    add(&store, "ok", "true", &[]);
    add(&store, "bad", "exit 1", &[]);
    add(
        &store,
        "next",
        "echo \"$BUTTONS_ARG_X\"",
        &["x:string:required"],
    );
    let engine = engine(store);
    let mut request = SmashRequest {
        buttons: vec!["ok".into(), "bad".into(), "next".into()],
        args: vec![("next.x".into(), "1".into())],
        concurrency: Some(1),
        ..SmashRequest::default()
    };
    let report = engine.smash_blocking(&request, |_| {}).unwrap();
    assert_eq!(report.failures, 1);
    assert!(matches!(report.results[2].outcome, SmashOutcome::Skipped));
    assert!(
        engine
            .store()
            .records(Some(&ButtonName::new("next").unwrap()), 5)
            .unwrap()
            .is_empty()
    );

    request.on_failure = OnFailure::Continue;
    let report = engine.smash_blocking(&request, |_| {}).unwrap();
    assert_eq!(report.failures, 1);
    let SmashOutcome::Ran(ran) = &report.results[2].outcome else {
        panic!("next did not run")
    };
    assert_eq!(ran.result.status, Status::Ok);
    assert_eq!(ran.result.stdout, "1\n");

    // A missing required argument: nothing runs.
    request.args.clear();
    let err = engine.smash_blocking(&request, |_| {}).unwrap_err();
    assert_eq!(err.code(), ErrorCode::MissingArg);
    assert_eq!(engine.store().records(None, 50).unwrap().len(), 5);
    request.buttons.clear();
    let err = engine.smash_blocking(&request, |_| {}).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
}
