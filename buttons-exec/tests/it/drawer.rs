//! Pressing drawers through [`Engine`]: name fill, retries, sub-drawers,
//! on_error, cancellation, secrets masked in every record.

use std::time::{Duration, Instant};

use buttons_exec::{DrawerMode, DrawerOptions, DrawerRequest, Engine};
use buttons_spec::{
    ArgDef, Button, ButtonName, Drawer, DrawerKind, ErrorCode, FailureAction, Timestamp,
};
use buttons_store::{CodeSource, NewButton, Scope, Store};
use serde_json::{Map, Value, json};

fn button(store: &Store, name: &str, code: &str, args: &[&str]) {
    let mut b = Button::new(&ButtonName::new(name).unwrap(), Timestamp::now());
    for def in args {
        b.args.push(ArgDef::parse(def).unwrap());
    }
    store
        .create(NewButton {
            button: b,
            code: CodeSource::Inline(code.into()),
            prompt: None,
        })
        .unwrap();
}

fn drawer(store: &Store, spec: Value) {
    let mut d: Drawer = serde_json::from_value(spec).unwrap();
    let name = d.name.clone();
    let blank = Drawer::new(&name, DrawerKind::Action, Timestamp::now());
    store.create_drawer(&blank).unwrap();
    d.schema_version = Some(2);
    store.save_drawer(&d, Timestamp::now()).unwrap();
}

fn setup() -> (tempfile::TempDir, Engine) {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::at(tmp.path().join("data")).unwrap();
    let engine = Engine::new(store).base_env([("PATH".into(), "/usr/bin:/bin".into())]);
    (tmp, engine)
}

fn press(engine: &Engine, name: &str, inputs: Value) -> buttons_exec::DrawerRan {
    let Value::Object(inputs) = inputs else {
        panic!()
    };
    engine
        .press_drawer_blocking(
            &DrawerRequest {
                name: name.into(),
                inputs,
                ..DrawerRequest::default()
            },
            DrawerOptions::default(),
        )
        .unwrap()
}

#[test]
fn outputs_feed_later_steps_and_inputs_fill_by_name() {
    let (_t, engine) = setup();
    let store = engine.store();
    button(
        store,
        "emit",
        "echo \"{\\\"v\\\": $BUTTONS_ARG_N}\"",
        &["n:int:required"],
    );
    button(
        store,
        "show",
        "echo \"got $BUTTONS_ARG_V $BUTTONS_ARG_WHO\"",
        &["v:int:required", "who:string:required"],
    );
    drawer(
        store,
        json!({"name": "d", "inputs": [{"name": "who", "type": "string", "required": true}, {"name": "n", "type": "int"}],
               "steps": [{"id": "emit-it", "button": "emit", "args": {"n": "${inputs.n * 2}"}},
                         {"id": "show", "button": "show", "args": {"v": "${emit-it.output.v}"}}]}),
    );
    let ran = press(&engine, "d", json!({"who": "Ada", "n": 500000}));
    assert!(ran.ok, "{:#}", ran.result);
    assert_eq!(ran.result["steps"][1]["stdout"], "got 1000000 Ada\n");
    // Each step is also in its button's own history, naming the drawer run.
    let recs = store
        .records(Some(&ButtonName::new("show").unwrap()), 5)
        .unwrap();
    assert_eq!(
        recs[0].record.drawer_run.as_deref(),
        Some(format!("d/{}", ran.id).as_str())
    );
    assert_eq!(
        store
            .drawer_runs(&ButtonName::new("d").unwrap(), 5)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn missing_and_ill_typed_inputs_run_nothing() {
    let (_t, engine) = setup();
    drawer(
        engine.store(),
        json!({"name": "d", "inputs": [{"name": "n", "type": "int", "required": true}], "steps": []}),
    );
    let req = |inputs: Map<String, Value>| DrawerRequest {
        name: "d".into(),
        inputs,
        ..DrawerRequest::default()
    };
    let err = engine
        .press_drawer_blocking(&req(Map::new()), DrawerOptions::default())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::MissingInput);
    let mut bad = Map::new();
    bad.insert("n".into(), json!("many"));
    let err = engine
        .press_drawer_blocking(&req(bad), DrawerOptions::default())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
    assert!(
        engine
            .store()
            .drawer_runs(&ButtonName::new("d").unwrap(), 5)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn retry_then_continue_then_sub_drawer_return() {
    let (t, engine) = setup();
    let store = engine.store();
    let marker = t.path().join("count");
    button(
        store,
        "flaky",
        &format!("echo x >> {0}; [ $(wc -l < {0}) -ge 3 ]", marker.display()),
        &[],
    );
    button(store, "fail", "exit 3", &[]);
    button(store, "hello", "echo '{\"greeting\": \"hi\"}'", &[]);
    drawer(
        store,
        json!({"name": "child", "steps": [{"id": "h", "button": "hello"}], "return": {"g": "${h.output.greeting}"}}),
    );
    drawer(
        store,
        json!({"name": "parent", "steps": [
            {"id": "f", "button": "flaky", "on_failure": {"action": "retry", "max_attempts": 3, "backoff": {"strategy": "fixed", "initial_ms": 10}}},
            {"id": "bad", "button": "fail", "on_failure": {"action": "continue"}},
            {"id": "sub", "kind": "drawer", "drawer": "child"}
        ], "return": {"from_child": "${sub.output.g}"}}),
    );
    let ran = press(&engine, "parent", json!({}));
    assert!(ran.ok, "{:#}", ran.result);
    assert_eq!(ran.result["steps"][0]["attempts"], 3);
    assert_eq!(ran.result["steps"][1]["status"], "failed");
    assert_eq!(ran.result["steps"][2]["output"], json!({"g": "hi"}));
    assert_eq!(ran.result["return"], json!({"from_child": "hi"}));
}

#[test]
fn on_error_handler_sees_the_code_and_cancel_still_records() {
    let (t, engine) = setup();
    let store = engine.store();
    let seen = t.path().join("seen");
    button(store, "fail", "exit 3", &[]);
    button(
        store,
        "note",
        &format!("echo \"$BUTTONS_ARG_CODE\" > {}", seen.display()),
        &["code:string:required"],
    );
    drawer(
        store,
        json!({"name": "handler", "inputs": [{"name": "error"}], "steps": [{"id": "n", "button": "note", "args": {"code": "${inputs.error.code}"}}]}),
    );
    drawer(
        store,
        json!({"name": "main", "steps": [{"id": "x", "button": "fail"}], "on_error": {"drawer": "handler"}}),
    );
    let ran = press(&engine, "main", json!({}));
    assert!(!ran.ok);
    assert_eq!(ran.result["failed_step"], "x");
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap().trim(),
        "SCRIPT_ERROR"
    );

    button(store, "sleepy", "sleep 30", &[]);
    drawer(
        store,
        json!({"name": "slow", "steps": [{"id": "s", "button": "sleepy"}, {"id": "never", "button": "fail"}]}),
    );
    let started = Instant::now();
    let ran = engine
        .press_drawer_blocking(
            &DrawerRequest {
                name: "slow".into(),
                ..DrawerRequest::default()
            },
            DrawerOptions {
                cancel: Some(Box::pin(async {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                })),
                ..DrawerOptions::default()
            },
        )
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(!ran.ok);
    assert_eq!(ran.result["steps"].as_array().unwrap().len(), 1);
    assert!(ran.record.is_ok());
}

#[test]
fn secrets_never_reach_records() {
    let (t, engine) = setup();
    let store = engine.store();
    store
        .set_battery(Scope::Local, "TOKEN", "battery-value-123")
        .unwrap();
    button(
        store,
        "echoer",
        "echo \"$BUTTONS_ARG_PW $BUTTONS_BAT_TOKEN\"",
        &["pw:string:required"],
    );
    drawer(
        store,
        json!({"name": "d", "inputs": [{"name": "pw", "secret": true, "required": true}],
        "steps": [{"id": "e", "button": "echoer", "args": {"pw": "${inputs.pw}"}}]}),
    );
    let ran = press(&engine, "d", json!({"pw": "hunter2-secret"}));
    assert!(ran.ok, "{:#}", ran.result);
    // The live result is not masked.
    assert_eq!(
        ran.result["steps"][0]["stdout"],
        "hunter2-secret battery-value-123\n"
    );
    for entry in walk(&t.path().join("data")) {
        if entry.ends_with("batteries.json") {
            continue;
        }
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        assert!(
            !text.contains("hunter2-secret") && !text.contains("battery-value-123"),
            "{}: {text}",
            entry.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Gives a button a `url` in its spec on disk (an HTTP button by its URL).
fn make_http(engine: &Engine, name: &str) {
    let path = engine
        .store()
        .root()
        .join("buttons")
        .join(name)
        .join("button.json");
    let mut spec: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    spec["url"] = json!("http://127.0.0.1:9/x");
    std::fs::write(&path, spec.to_string()).unwrap();
}

#[test]
fn http_buttons_are_found_in_steps_sub_drawers_handlers_and_references() {
    let (_tmp, engine) = setup();
    let store = engine.store();
    button(store, "plain", "echo plain", &[]);
    button(store, "web", "echo web", &[]);
    button(store, "hook", "echo hook", &[]);
    make_http(&engine, "web");
    make_http(&engine, "hook");
    drawer(
        store,
        json!({"name": "clean", "steps": [{"id": "p", "button": "plain"}]}),
    );
    drawer(
        store,
        json!({"name": "inner", "steps": [{"id": "w", "button": "web"}]}),
    );
    drawer(
        store,
        json!({"name": "handler", "steps": [{"id": "h", "button": "hook"}]}),
    );
    drawer(
        store,
        json!({"name": "outer", "steps": [
            {"id": "p", "button": "plain"},
            {"id": "i", "kind": "drawer", "drawer": "inner"}
        ], "on_error": {"drawer": "handler"}}),
    );
    drawer(
        store,
        json!({"name": "dynamic", "inputs": [{"name": "b"}],
            "steps": [{"id": "x", "button": "${inputs.b}"}]}),
    );
    let load = |name: &str| store.load_drawer(&ButtonName::new(name).unwrap()).unwrap();
    assert!(engine.drawer_http_buttons(&load("clean")).is_empty());
    assert_eq!(engine.drawer_http_buttons(&load("inner")), vec!["web"]);
    let mut found = engine.drawer_http_buttons(&load("outer"));
    found.sort();
    assert_eq!(found, vec!["hook", "web"]);
    assert_eq!(
        engine.drawer_http_buttons(&load("dynamic")),
        vec!["${inputs.b}"]
    );
}

#[test]
fn a_cancel_ends_the_press_as_cancelled() {
    let (_t, engine) = setup();
    let store = engine.store();
    drawer(
        store,
        json!({"name": "w", "steps": [{"id": "w", "kind": "wait", "duration": "30s"}]}),
    );
    let started = Instant::now();
    let ran = engine
        .press_drawer_blocking(
            &DrawerRequest {
                name: "w".into(),
                ..DrawerRequest::default()
            },
            DrawerOptions {
                cancel: Some(Box::pin(async {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                })),
                ..DrawerOptions::default()
            },
        )
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a wait is cancellable"
    );
    assert_eq!(ran.result["error"]["code"], "CANCELLED", "{:#}", ran.result);
    assert_eq!(ran.result["failed_step"], "w");
    assert!(ran.record.is_ok());
}

/// Whether `pid` is a live process (a zombie counts as gone).
fn alive(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(text) => !text
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn a_failed_item_under_stop_kills_the_in_flight_iterations() {
    let (t, engine) = setup();
    let store = engine.store();
    let pids = t.path().join("pids");
    std::fs::create_dir(&pids).unwrap();
    // Item 0 fails once the others are running; items 1 and 2 hang.
    button(
        store,
        "item",
        &format!(
            "cd '{}'; if [ \"$BUTTONS_ARG_I\" = 0 ]; then while [ ! -s 2.sleep ] || [ ! -s 1.sleep ]; do sleep 0.02; done; exit 5; fi; \
             sleep 30 & echo $! > $BUTTONS_ARG_I.tmp; mv $BUTTONS_ARG_I.tmp $BUTTONS_ARG_I.sleep; wait",
            pids.display()
        ),
        &["i:int:required"],
    );
    drawer(
        store,
        json!({"name": "stop", "steps": [
            {"id": "each", "kind": "for_each", "over": "${[0, 1, 2, 3, 4]}", "parallelism": 3,
             "steps": [{"id": "x", "button": "item", "args": {"i": "${item}"}}]}
        ]}),
    );
    let started = Instant::now();
    let ran = press(&engine, "stop", json!({}));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "in-flight iterations were not ended"
    );
    assert_eq!(
        ran.result["error"]["code"], "FOREACH_ITEM_FAILED",
        "{:#}",
        ran.result
    );
    let out = &ran.result["steps"][0]["output"];
    let results = out["results"].as_array().unwrap();
    // Items 3 and 4 never started; 1 and 2 were cancelled.
    assert_eq!(results.len(), 3, "{out:#}");
    assert_eq!(results[0]["steps"]["x"]["error"]["code"], "SCRIPT_ERROR");
    assert_eq!(results[1]["steps"]["x"]["error"]["code"], "CANCELLED");
    for i in ["1", "2"] {
        let pid = std::fs::read_to_string(pids.join(format!("{i}.sleep"))).unwrap();
        let pid = pid.trim().to_owned();
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(&pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(&pid), "the sleep of item {i} is still alive");
    }
}

#[test]
fn parallelism_50_over_1000_items_keeps_at_most_50_presses_alive() {
    let (t, engine) = setup();
    let store = engine.store();
    let live = t.path().join("live");
    let counts = t.path().join("counts");
    std::fs::create_dir(&live).unwrap();
    // Each press marks itself alive, counts the live ones, then leaves.
    button(
        store,
        "track",
        &format!(
            "cd '{}'; : > \"p$$\"; set -- p*; echo $# >> '{}'; rm -f \"p$$\"",
            live.display(),
            counts.display()
        ),
        &[],
    );
    drawer(
        store,
        json!({"name": "many", "inputs": [{"name": "items"}], "steps": [
            {"id": "each", "kind": "for_each", "over": "${inputs.items}", "parallelism": 50,
             "steps": [{"id": "t", "button": "track"}]}
        ]}),
    );
    let items: Vec<u32> = (0..1000).collect();
    let ran = press(&engine, "many", json!({"items": items}));
    assert!(ran.ok, "{}", ran.result["error"]);
    let results = ran.result["steps"][0]["output"]["results"]
        .as_array()
        .unwrap();
    assert_eq!(results.len(), 1000);
    assert!(results.iter().enumerate().all(|(i, r)| r["index"] == i));
    let seen: Vec<usize> = std::fs::read_to_string(&counts)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(seen.len(), 1000);
    let max = *seen.iter().max().unwrap();
    assert!(max <= 50, "{max} presses alive at once (parallelism 50)");
    assert!(max >= 2, "the iterations never overlapped");
}

#[test]
fn parallel_mode_reports_each_step_as_it_finishes() {
    let (_t, engine) = setup();
    let store = engine.store();
    button(store, "ok", "echo '{\"v\": 1}'", &[]);
    button(store, "slow", "sleep 0.3; echo '{\"v\": 2}'", &[]);
    drawer(
        store,
        json!({"name": "g", "steps": [
            {"id": "slow", "button": "slow"},
            {"id": "fast", "button": "ok"},
            {"id": "sum", "button": "ok", "args": {}, "kind": "aggregate",
             "from": "${[slow.output.v, fast.output.v]}", "pluck": "${item * 10}"}
        ]}),
    );
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&seen);
    let ran = engine
        .press_drawer_blocking(
            &DrawerRequest {
                name: "g".into(),
                ..DrawerRequest::default()
            },
            DrawerOptions {
                mode: DrawerMode::Parallel {
                    concurrency: 4,
                    on_failure: FailureAction::Stop,
                },
                on_step: Some(Box::new(move |entry| {
                    sink.lock()
                        .unwrap()
                        .push(entry["id"].as_str().unwrap().to_owned());
                })),
                ..DrawerOptions::default()
            },
        )
        .unwrap();
    assert!(ran.ok, "{:#}", ran.result);
    assert_eq!(ran.result["steps"][2]["output"]["values"], json!([20, 10]));
    // `fast` did not wait for `slow`; `sum` waited for both.
    assert_eq!(*seen.lock().unwrap(), ["fast", "slow", "sum"]);
}
