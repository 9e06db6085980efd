//! Pressing by name through [`Engine`]: load, validate, batteries, one record
//! beside one progress file, typed dry runs, API-worded errors.

use std::time::Duration;

use buttons_exec::{ArgInput, Engine, PlannedAction, PressOptions, PressRequest};
use buttons_spec::{ArgDef, Button, ButtonName, ErrorCode, Status, Timestamp};
use buttons_store::{CodeSource, NewButton, Scope, Store};
use serde_json::json;

fn store_with(name: &str, code: &str, args: &[&str]) -> (tempfile::TempDir, Store) {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::at(tmp.path().join("data")).unwrap();
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
    (tmp, store)
}

fn path_env() -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    vec![("PATH".into(), "/usr/bin:/bin".into())]
}

#[test]
fn a_press_by_name_leaves_one_record_beside_its_progress_file() {
    let (_tmp, store) = store_with(
        "greet",
        "echo \"hi $BUTTONS_ARG_WHO $BUTTONS_BAT_TOKEN\"; echo '{\"step\":1}' >> \"$BUTTONS_PROGRESS_PATH\"",
        &["who:string:required"],
    );
    store.set_battery(Scope::Local, "TOKEN", "t0k").unwrap();
    let engine = Engine::new(store).base_env(path_env());
    let ran = engine
        .press_blocking(
            &PressRequest::new("Greet").arg("who", "Ada"),
            PressOptions::default(),
        )
        .unwrap();
    assert_eq!(ran.result.status, Status::Ok, "{:?}", ran.result);
    assert_eq!(ran.result.stdout, "hi Ada t0k\n");
    assert!(ran.hint.is_none());

    let record = ran.record.unwrap();
    let progress = ran.result.progress_path.clone().unwrap();
    assert_eq!(record.file_name().unwrap(), format!("{}.json", ran.id));
    assert_eq!(progress, record.with_extension("jsonl").as_str());
    assert_eq!(
        std::fs::read_to_string(&progress).unwrap(),
        "{\"step\":1}\n"
    );

    let stored = engine.store().records(None, 10).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id, ran.id);
    assert_eq!(stored[0].path, record);
    assert_eq!(
        stored[0].record.progress_path.as_deref(),
        Some(progress.as_str())
    );
}

#[test]
fn errors_before_anything_runs_name_the_fix_in_api_terms() {
    let (_tmp, store) = store_with(
        "greet",
        "echo hi",
        &["who:string:required", "n:int:optional"],
    );
    let engine = Engine::new(store).base_env(path_env());
    let press = |request: PressRequest| engine.press_blocking(&request, PressOptions::default());

    let err = press(PressRequest::new("nope")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    assert!(
        err.hint().unwrap().contains("Store::list"),
        "{:?}",
        err.hint()
    );

    let err = press(PressRequest::new("greet")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::MissingArg);
    assert_eq!(err.hint().unwrap(), "pass the argument `who`");
    assert_eq!(err.arg_defs().unwrap().len(), 2);

    let err = press(PressRequest::new("greet").arg("who", "a").arg("n", "x")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
    assert!(
        !err.hint().unwrap_or_default().contains("--"),
        "{:?}",
        err.hint()
    );

    // Nothing ran, nothing was recorded.
    assert!(engine.store().records(None, 10).unwrap().is_empty());
}

#[test]
fn json_arguments_are_checked_against_the_declared_types() {
    let (_tmp, store) = store_with("sum", "echo $BUTTONS_ARG_N", &["n:int:required"]);
    let engine = Engine::new(store).base_env(path_env());
    let json_press = |args: serde_json::Value| {
        let serde_json::Value::Object(map) = args else {
            unreachable!()
        };
        engine.press_blocking(
            &PressRequest::new("sum").json_args(map),
            PressOptions::default(),
        )
    };
    assert_eq!(json_press(json!({"n": 3})).unwrap().result.stdout, "3\n");
    let err = json_press(json!({"n": "three"})).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
}

#[test]
fn a_plan_is_typed_and_runs_nothing() {
    let (_tmp, store) = store_with("greet", "touch ran", &["who:string:required"]);
    store.set_battery(Scope::Local, "TOKEN", "secret").unwrap();
    let engine = Engine::new(store);
    let plan = engine
        .plan(
            &PressRequest::new("greet")
                .arg("who", "Ada")
                .timeout(Duration::from_secs(7)),
        )
        .unwrap();
    assert_eq!(plan.button, "greet");
    assert_eq!(plan.timeout, Duration::from_secs(7));
    assert_eq!(plan.args.get("who").map(String::as_str), Some("Ada"));
    let PlannedAction::Code { env } = &plan.action else {
        panic!("{plan:?}")
    };
    assert_eq!(env["BUTTONS_ARG_WHO"], "Ada");
    assert_eq!(env["BUTTONS_BAT_TOKEN"], buttons_exec::MASK);
    let dir = engine
        .store()
        .button_dir(&ButtonName::new("greet").unwrap());
    assert!(!dir.join("ran").exists());
    assert!(engine.store().records(None, 10).unwrap().is_empty());
    // Without a requested timeout, the button's own.
    let plan = engine
        .plan(&PressRequest::new("greet").arg("who", "x"))
        .unwrap();
    assert_eq!(plan.timeout, Duration::from_secs(300));
    let err = engine.plan(&PressRequest::new("greet")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::MissingArg);
}

#[test]
fn a_failed_press_is_recorded_and_carries_an_api_hint() {
    let (_tmp, store) = store_with("slow", "sleep 5", &[]);
    let engine = Engine::new(store).base_env(path_env());
    let request = PressRequest::new("slow").timeout(Duration::from_millis(200));
    let ran = engine
        .press_blocking(
            &request,
            PressOptions::default().grace(Duration::from_millis(50)),
        )
        .unwrap();
    assert_eq!(ran.result.error_type, Some(ErrorCode::Timeout));
    assert!(ran.hint.unwrap().contains("PressRequest::timeout"));
    assert!(ran.record.is_ok());
    assert_eq!(engine.store().records(None, 10).unwrap().len(), 1);
}

#[test]
fn text_and_json_inputs_default_to_no_arguments() {
    assert_eq!(ArgInput::default(), ArgInput::Text(vec![]));
    let request = PressRequest::new("x")
        .json_args(serde_json::Map::new())
        .arg("a", "1");
    assert_eq!(
        request.args,
        ArgInput::Json(serde_json::Map::from_iter([("a".into(), json!("1"))]))
    );
}

/// `PressOptions::allow_private_networks` is off by default: a loopback URL
/// is refused before any socket exists; switched on, the request is sent.
#[test]
fn private_networks_need_the_press_option() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    let button = Button::http(&ButtonName::new("local").unwrap(), &url, Timestamp::now()).unwrap();
    let (args, batteries) = (
        buttons_spec::Args::default(),
        buttons_spec::Batteries::new(),
    );
    let dir = tempfile::tempdir().unwrap();
    let ctx = buttons_exec::PressContext::new(&button, dir.path(), &args, &batteries);

    let refused = buttons_exec::press_blocking(&ctx, PressOptions::default()).unwrap();
    assert_eq!(
        refused.error_type,
        Some(ErrorCode::ValidationError),
        "{refused:?}"
    );
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err(), "a connection was made");
    listener.set_nonblocking(false).unwrap();

    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let _ = stream.read(&mut [0; 4096]);
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            .unwrap();
    });
    let opts = PressOptions::default().allow_private_networks(true);
    let sent = buttons_exec::press_blocking(&ctx, opts).unwrap();
    assert_eq!(sent.status, Status::Ok, "{sent:?}");
    assert_eq!(sent.stdout, "ok");
    server.join().unwrap();
}

#[test]
fn a_press_keeps_an_active_run_marker_only_while_it_runs() {
    let (_tmp, store) = store_with(
        "marked",
        "ls \"$(dirname \"$BUTTONS_PROGRESS_PATH\")/.active\"",
        &[],
    );
    let engine = Engine::new(store).base_env(path_env());
    let ran = engine
        .press_blocking(&PressRequest::new("marked"), PressOptions::default())
        .unwrap();
    assert_eq!(ran.result.status, Status::Ok, "{:?}", ran.result);
    // The script saw its own marker.
    assert!(
        ran.result.stdout.contains(&format!("{}.running", ran.id)),
        "{}",
        ran.result.stdout
    );
    // Gone once the record is written.
    let pressed = ran.record.unwrap();
    let active = pressed.with_file_name(".active");
    assert!(active.is_dir());
    assert!(!active.join(format!("{}.running", ran.id)).exists());
    assert!(engine.store().active_runs().unwrap().is_empty());
}

#[test]
fn hidden_batteries_reach_neither_a_press_nor_a_plan() {
    let (_tmp, store) = store_with(
        "bats",
        "echo \"key=${BUTTONS_BAT_API_KEY-unset} other=$BUTTONS_BAT_OTHER\"",
        &[],
    );
    store
        .set_battery(Scope::Local, "API_KEY", "s3cret")
        .unwrap();
    store.set_battery(Scope::Local, "OTHER", "kept").unwrap();
    let engine = Engine::new(store)
        .base_env(path_env())
        .hide_batteries(["API_KEY"]);
    let ran = engine
        .press_blocking(&PressRequest::new("bats"), PressOptions::default())
        .unwrap();
    assert_eq!(ran.result.status, Status::Ok, "{:?}", ran.result);
    assert_eq!(ran.result.stdout, "key=unset other=kept\n");
    let plan = engine.plan(&PressRequest::new("bats")).unwrap();
    let PlannedAction::Code { env } = plan.action else {
        panic!("a code plan: {plan:?}");
    };
    assert!(!env.contains_key("BUTTONS_BAT_API_KEY"), "{env:?}");
    assert!(env.contains_key("BUTTONS_BAT_OTHER"), "{env:?}");
    // Without hiding, the same battery is exported.
    let engine = Engine::new(engine.store().clone()).base_env(path_env());
    let ran = engine
        .press_blocking(&PressRequest::new("bats"), PressOptions::default())
        .unwrap();
    assert_eq!(ran.result.stdout, "key=s3cret other=kept\n");
}
