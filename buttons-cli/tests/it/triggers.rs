//! Button triggers (issue 13): `buttons trigger add|list|rm`, and cron,
//! watch and webhook presses inside a real `buttons serve` on loopback.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Sandbox;
use crate::serve::{Resp, Server};

fn records(sb: &Sandbox, name: &str) -> Vec<Value> {
    sb.ok(&["history", name]).as_array().unwrap().clone()
}

/// Waits (at most `within`) until `done` holds; panics with `what` if not.
fn wait_for(within: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spec(sb: &Sandbox, name: &str) -> Value {
    let path = sb.data().join("buttons").join(name).join("button.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn hook(server: &Server, path: &str, token: Option<&str>) -> Resp {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(t) = token {
        headers.push(("X-Buttons-Token", t));
    }
    server.request("POST", path, &headers, b"{}")
}

#[test]
fn triggers_are_added_listed_and_removed_with_real_error_codes() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "job",
        "--code",
        "echo job",
        "--arg",
        "env:string:optional",
    ]);
    sb.ok(&["create", "other", "--code", "echo other"]);
    // Unknown fields of button.json survive.
    let path = sb.data().join("buttons/job/button.json");
    let mut raw = spec(&sb, "job");
    raw["future_field"] = json!({"kept": true});
    std::fs::write(&path, raw.to_string()).unwrap();

    let cron = sb.ok(&[
        "trigger",
        "add",
        "job",
        "--cron",
        "--schedule",
        "*/5 * * * *",
        "--arg",
        "env=prod",
    ]);
    let id = cron["id"].as_str().unwrap().to_owned();
    assert!(
        id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    let stored = spec(&sb, "job");
    assert_eq!(stored["future_field"], json!({"kept": true}));
    let t = &stored["triggers"][0];
    assert_eq!(t["id"], id.as_str());
    assert_eq!(t["kind"], "cron");
    assert_eq!(t["schedule"], "*/5 * * * *");
    assert_eq!(t["args"], json!({"env": "prod"}));
    assert!(t["created_at"].is_string());

    let hook = sb.ok(&[
        "trigger",
        "add",
        "job",
        "--webhook",
        "--webhook-path",
        "/hooks/job",
        "--token",
        "s3cret-token",
    ]);
    assert_eq!(hook["path"], "/hooks/job");
    // A generated token is shown once; list redacts tokens.
    let generated = sb.ok(&[
        "trigger",
        "add",
        "other",
        "--webhook",
        "--webhook-path",
        "/hooks/other",
    ]);
    assert_eq!(generated["token_generated"], true);
    assert_eq!(generated["token"].as_str().unwrap().len(), 64);
    let listed = sb.ok(&["trigger", "list"]);
    let listed = listed["triggers"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert!(
        !listed
            .iter()
            .any(|t| t.to_string().contains("s3cret-token"))
    );
    assert_eq!(
        sb.ok(&["trigger", "list", "job"])["triggers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    sb.err(
        &[
            "trigger",
            "add",
            "job",
            "--cron",
            "--schedule",
            "every tuesday",
        ],
        "VALIDATION_ERROR",
    );
    sb.err(
        &["trigger", "add", "job", "--cron", "--schedule", "* * * *"],
        "VALIDATION_ERROR",
    );
    sb.err(
        &[
            "trigger",
            "add",
            "job",
            "--webhook",
            "--webhook-path",
            "/api/buttons",
            "--no-auth",
        ],
        "TRIGGER_CONFLICT",
    );
    sb.err(
        &[
            "trigger",
            "add",
            "other",
            "--webhook",
            "--webhook-path",
            "/hooks/job",
            "--no-auth",
        ],
        "TRIGGER_CONFLICT",
    );
    sb.err(
        &[
            "trigger",
            "add",
            "job",
            "--webhook",
            "--webhook-path",
            "no-slash",
            "--no-auth",
        ],
        "VALIDATION_ERROR",
    );
    sb.err(
        &[
            "trigger",
            "add",
            "job",
            "--cron",
            "--schedule",
            "@hourly",
            "--arg",
            "nope=1",
        ],
        "VALIDATION_ERROR",
    );
    sb.err(&["trigger", "add", "job", "--cron"], "VALIDATION_ERROR");
    sb.err(
        &["trigger", "add", "ghost", "--cron", "--schedule", "@daily"],
        "NOT_FOUND",
    );
    sb.err(&["trigger", "rm", "job", "deadbeef"], "TRIGGER_NOT_FOUND");

    let removed = sb.ok(&["trigger", "rm", "job", &id]);
    assert_eq!(removed["removed"], true);
    let left = spec(&sb, "job");
    assert_eq!(left["triggers"].as_array().unwrap().len(), 1);
    assert_eq!(left["future_field"], json!({"kept": true}));
}

#[test]
fn every_second_fires_at_least_twice_in_3_5_s_and_never_overlaps() {
    let sb = Sandbox::new();
    let log = sb.path().join("runs.log");
    let code = format!(
        "echo \"start $(date +%s%N)\" >> {log}; sleep 1.5; echo \"end $(date +%s%N)\" >> {log}",
        log = log.display()
    );
    sb.ok(&["create", "slow", "--code", &code]);
    sb.ok(&[
        "trigger",
        "add",
        "slow",
        "--cron",
        "--schedule",
        "@every 1s",
    ]);
    let server = Server::start(&sb, &[]);
    assert_eq!(server.startup["triggers_enabled"], true);
    assert_eq!(server.startup["timed_triggers"], 1);
    let events = || -> Vec<(String, u128)> {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(k, v)| (k.to_owned(), v.trim().parse().unwrap()))
            .collect()
    };
    wait_for(Duration::from_secs(20), "three finished runs", || {
        events().iter().filter(|(k, _)| k == "end").count() >= 3
    });
    drop(server);
    let events = events();
    let starts: Vec<u128> = events
        .iter()
        .filter(|(k, _)| k == "start")
        .map(|e| e.1)
        .collect();
    // Runs never overlap: each start follows the previous end.
    let mut open = false;
    for (kind, _) in &events {
        match kind.as_str() {
            "start" => {
                assert!(!open, "a run started while another ran: {events:?}");
                open = true;
            }
            _ => open = false,
        }
    }
    // Fired twice within 3.5 s: every second, the busy second skipped.
    let gap_ms = (starts[1] - starts[0]) / 1_000_000;
    assert!(
        gap_ms <= 3500,
        "the second run started {gap_ms} ms after the first"
    );
    assert!(gap_ms >= 1500, "the second run overlapped: {gap_ms} ms");
}

#[test]
fn a_watched_file_changed_twice_fires_twice() {
    let sb = Sandbox::new();
    sb.ok(&["create", "on-change", "--code", "echo changed"]);
    let watched = sb.path().join("watched.txt");
    // The file does not exist yet: it is waited for.
    sb.ok(&[
        "trigger",
        "add",
        "on-change",
        "--watch",
        "--path",
        watched.to_str().unwrap(),
    ]);
    let _server = Server::start(&sb, &[]);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(records(&sb, "on-change").is_empty());
    std::fs::write(&watched, "one").unwrap();
    wait_for(Duration::from_secs(15), "the first press", || {
        records(&sb, "on-change").len() == 1
    });
    std::thread::sleep(Duration::from_millis(1500));
    std::fs::write(&watched, "two, longer").unwrap();
    wait_for(Duration::from_secs(15), "the second press", || {
        records(&sb, "on-change").len() == 2
    });
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(records(&sb, "on-change").len(), 2, "one press per change");
}

#[test]
fn webhook_triggers_need_the_right_token_in_the_header() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "deploy",
        "--code",
        "echo \"deploying $BUTTONS_ARG_ENV\"",
        "--arg",
        "env:string:required",
    ]);
    sb.ok(&[
        "trigger",
        "add",
        "deploy",
        "--webhook",
        "--webhook-path",
        "/hooks/deploy",
        "--token",
        "t0ken-value",
        "--arg",
        "env=prod",
    ]);
    let server = Server::start(&sb, &[]);
    assert_eq!(server.startup["webhooks"], json!(["/hooks/deploy"]));

    let ok = hook(&server, "/hooks/deploy", Some("t0ken-value"));
    assert_eq!(ok.status, 202, "{}", ok.text());
    let body = ok.json();
    assert_eq!(body["ok"], true);
    assert_eq!(body["button"], "deploy");
    let run_id = body["run_id"].as_str().unwrap().to_owned();
    wait_for(
        Duration::from_secs(15),
        "the webhook press's record",
        || records(&sb, "deploy").len() == 1,
    );
    let record = &records(&sb, "deploy")[0];
    assert_eq!(record["stdout"], "deploying prod\n");
    let runs = server
        .request("GET", "/api/buttons/deploy/runs", &[], b"")
        .json();
    assert_eq!(runs["runs"][0]["id"], run_id.as_str());

    hook(&server, "/hooks/deploy", Some("wrong")).assert_error(401, "UNAUTHORIZED");
    hook(&server, "/hooks/deploy", None).assert_error(401, "UNAUTHORIZED");
    let query = hook(
        &server,
        "/hooks/deploy?token=t0ken-value",
        Some("t0ken-value"),
    );
    let error = query.assert_error(400, "VALIDATION_ERROR");
    assert!(
        error["message"].as_str().unwrap().contains("query"),
        "{error}"
    );
    let get = server.request("GET", "/hooks/deploy", &[], b"");
    assert_eq!(get.status, 405);
    hook(&server, "/hooks/nothing", Some("t0ken-value")).assert_error(404, "NOT_FOUND");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        records(&sb, "deploy").len(),
        1,
        "refused calls press nothing"
    );
    drop(server);

    // --no-triggers: nothing is served.
    let off = Server::start(&sb, &["--no-triggers"]);
    assert_eq!(off.startup["triggers_enabled"], false);
    hook(&off, "/hooks/deploy", Some("t0ken-value")).assert_error(404, "NOT_FOUND");
}

#[test]
fn triggers_added_and_removed_while_serving_take_effect() {
    let sb = Sandbox::new();
    sb.ok(&["create", "late", "--code", "echo late"]);
    let server = Server::start(&sb, &[]);
    hook(&server, "/hooks/late", Some("late-token")).assert_error(404, "NOT_FOUND");
    let added = sb.ok(&[
        "trigger",
        "add",
        "late",
        "--webhook",
        "--webhook-path",
        "/hooks/late",
        "--token",
        "late-token",
    ]);
    let start = Instant::now();
    let mut status = 0;
    while start.elapsed() < Duration::from_secs(8) {
        status = hook(&server, "/hooks/late", Some("late-token")).status;
        if status == 202 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status, 202, "the new webhook is served");
    sb.ok(&["trigger", "rm", "late", added["id"].as_str().unwrap()]);
    wait_for(Duration::from_secs(8), "the removed webhook to go", || {
        hook(&server, "/hooks/late", Some("late-token")).status == 404
    });
    // A cron trigger added while serving runs too.
    let before = records(&sb, "late").len();
    sb.ok(&[
        "trigger",
        "add",
        "late",
        "--cron",
        "--schedule",
        "@every 1s",
    ]);
    wait_for(Duration::from_secs(15), "a cron press", || {
        records(&sb, "late").len() > before
    });
}

#[test]
fn colliding_or_tokenless_webhooks_in_files_are_refused_at_serve_start() {
    let sb = Sandbox::new();
    sb.ok(&["create", "a", "--code", "echo a"]);
    sb.ok(&["create", "b", "--code", "echo b"]);
    let write = |name: &str, triggers: Value| {
        let path = sb.data().join("buttons").join(name).join("button.json");
        let mut raw = spec(&sb, name);
        raw["triggers"] = triggers;
        std::fs::write(path, raw.to_string()).unwrap();
    };
    write(
        "a",
        json!([{"id": "0000000a", "kind": "webhook", "path": "/hooks/same", "token": "ta"}]),
    );
    write(
        "b",
        json!([
            {"id": "0000000b", "kind": "webhook", "path": "/hooks/same", "token": "tb"},
            {"id": "0000000c", "kind": "webhook", "path": "/hooks/open"},
            {"id": "0000000d", "kind": "webhook", "path": "/api/buttons", "no_auth": true}
        ]),
    );
    let server = Server::start(&sb, &[]);
    assert_eq!(server.startup["webhooks"], json!(["/hooks/same"]));
    let problems = server.startup["trigger_problems"].as_array().unwrap();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert_eq!(hook(&server, "/hooks/same", Some("ta")).status, 202);
    hook(&server, "/hooks/same", Some("tb")).assert_error(401, "UNAUTHORIZED");
    hook(&server, "/hooks/open", None).assert_error(404, "NOT_FOUND");
    // The API route is the API's.
    let api = server.request("GET", "/api/buttons", &[], b"");
    assert_eq!(api.status, 200);
}

#[test]
fn webhooks_do_not_press_http_buttons_unless_allowed() {
    let sb = Sandbox::new();
    sb.ok(&["create", "web", "--url", "http://127.0.0.1:9/x"]);
    sb.ok(&[
        "trigger",
        "add",
        "web",
        "--webhook",
        "--webhook-path",
        "/hooks/web",
        "--token",
        "web-token",
    ]);
    let server = Server::start(&sb, &[]);
    hook(&server, "/hooks/web", Some("web-token")).assert_error(403, "HTTP_BUTTON_BLOCKED");
    drop(server);
    let allowed = Server::start(&sb, &["--allow-http-buttons"]);
    assert_eq!(hook(&allowed, "/hooks/web", Some("web-token")).status, 202);
}
