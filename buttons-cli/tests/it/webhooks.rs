//! Drawer webhooks (issue 13): `buttons drawer NAME trigger webhook`, each
//! auth type through a real `buttons serve` (and `buttons webhook listen`)
//! on loopback, failing closed, body caps and redacted records.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::Sandbox;
use crate::serve::{Resp, Server};

/// A drawer `name` of one step pressing the button `hello`.
fn drawer(sb: &Sandbox, name: &str) {
    sb.ok(&["drawer", "create", name]);
    let path = sb.data().join("drawers").join(name).join("drawer.json");
    let mut spec: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    spec["steps"] = json!([{"id": "greet", "button": "hello"}]);
    std::fs::write(path, spec.to_string()).unwrap();
}

fn setup() -> Sandbox {
    let sb = Sandbox::new();
    sb.ok(&["create", "hello", "--code", "echo hello"]);
    sb
}

/// The drawer's run records (newest last).
fn runs(sb: &Sandbox, name: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut stack = vec![sb.data().join("drawers").join(name)];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "json")
                && p.file_name().is_some_and(|n| n != "drawer.json")
            {
                out.push(serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap());
            }
        }
    }
    out
}

fn post(server: &Server, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    server.request("POST", path, &all, body)
}

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

fn jwt(claims: &Value, key: &[u8]) -> String {
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(key),
    )
    .unwrap();
    format!("Bearer {token}")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

/// Checks a 202 that names the run, then waits for that run's record (the
/// answer comes as soon as the press starts) and checks it succeeded.
fn accepted(sb: &Sandbox, resp: &Resp, drawer: &str) -> String {
    assert_eq!(resp.status, 202, "{}", resp.text());
    let body = resp.json();
    assert_eq!(body["ok"], true, "{body}");
    assert_eq!(body["drawer"], drawer);
    let run_id = body["run_id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(run) = runs(sb, drawer)
            .into_iter()
            .find(|r| r["run_id"] == run_id.as_str())
        {
            assert_eq!(run["status"], "ok", "{run}");
            return run_id;
        }
        assert!(Instant::now() < deadline, "no record of run {run_id}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_default_auth_is_a_generated_header_value_kept_as_a_battery() {
    let sb = setup();
    drawer(&sb, "deploy");
    let set = sb.ok(&["drawer", "deploy", "trigger", "webhook"]);
    assert_eq!(set["path"], "/hooks/deploy");
    assert_eq!(set["auth"]["type"], "header");
    let value = set["header_value"].as_str().unwrap().to_owned();
    assert_eq!(value.len(), 64, "32 bytes, hex");
    let key = set["battery"].as_str().unwrap().to_owned();
    let spec: Value = serde_json::from_slice(
        &std::fs::read(sb.data().join("drawers/deploy/drawer.json")).unwrap(),
    )
    .unwrap();
    let auth = &spec["triggers"]["webhook"]["auth"];
    assert_eq!(auth["type"], "header");
    assert_eq!(auth["header_value"], format!("$BATTERY{{{key}}}"));
    assert!(
        !spec.to_string().contains(&value),
        "the value is not in drawer.json"
    );
    assert_eq!(sb.ok(&["batteries", "get", &key])["value"], value.as_str());

    let server = Server::start(&sb, &[]);
    let header = set["auth"]["header_name"].as_str().unwrap().to_owned();
    let run_id = accepted(
        &sb,
        &post(&server, "/hooks/deploy", &[(&header, &value)], b"{}"),
        "deploy",
    );
    assert!(
        runs(&sb, "deploy")
            .iter()
            .any(|r| r["run_id"] == run_id.as_str())
    );
    post(&server, "/hooks/deploy", &[(&header, "wrong")], b"{}").assert_error(401, "UNAUTHORIZED");
    post(&server, "/hooks/deploy", &[], b"{}").assert_error(401, "UNAUTHORIZED");
    assert_eq!(runs(&sb, "deploy").len(), 1);
}

#[test]
fn each_auth_type_accepts_good_credentials_and_refuses_bad_ones() {
    let sb = setup();
    for name in ["d-basic", "d-header", "d-jwt", "d-none"] {
        drawer(&sb, name);
    }
    sb.ok(&[
        "drawer",
        "d-basic",
        "trigger",
        "webhook",
        "--auth",
        "basic",
        "--auth-user",
        "ci",
        "--auth-pass",
        "p4ss",
    ]);
    sb.ok(&[
        "drawer",
        "d-header",
        "trigger",
        "webhook",
        "/in/header",
        "--auth",
        "header",
        "--auth-header-name",
        "X-Hook-Key",
        "--auth-header-value",
        "$ENV{HOOK_KEY}",
    ]);
    sb.ok(&[
        "drawer",
        "d-jwt",
        "trigger",
        "webhook",
        "--auth",
        "jwt",
        "--jwt-secret",
        "k3y",
        "--jwt-algorithm",
        "HS256",
        "--jwt-issuer",
        "ci",
        "--jwt-audience",
        "buttons",
    ]);
    sb.ok(&["drawer", "d-none", "trigger", "webhook", "--auth", "none"]);
    sb.err(
        &[
            "drawer",
            "d-basic",
            "trigger",
            "webhook",
            "--auth",
            "basic",
            "--auth-user",
            "ci",
        ],
        "VALIDATION_ERROR",
    );
    sb.err(
        &[
            "drawer",
            "d-jwt",
            "trigger",
            "webhook",
            "--auth",
            "jwt",
            "--jwt-secret",
            "k",
            "--jwt-algorithm",
            "RS256",
        ],
        "VALIDATION_ERROR",
    );
    sb.err(
        &[
            "drawer", "d-none", "trigger", "webhook", "/api/x", "--auth", "none",
        ],
        "TRIGGER_CONFLICT",
    );
    sb.err(
        &[
            "drawer",
            "d-none",
            "trigger",
            "webhook",
            "/hooks/d-basic",
            "--auth",
            "none",
        ],
        "TRIGGER_CONFLICT",
    );
    sb.err(
        &["drawer", "d-none", "trigger", "webhook", "--auth", "magic"],
        "VALIDATION_ERROR",
    );

    let server = Server::start_with(&sb, &[], |cmd| {
        cmd.env("HOOK_KEY", "from-the-env");
    });
    // basic
    accepted(
        &sb,
        &post(
            &server,
            "/hooks/d-basic",
            &[("Authorization", &basic("ci", "p4ss"))],
            b"{}",
        ),
        "d-basic",
    );
    post(
        &server,
        "/hooks/d-basic",
        &[("Authorization", &basic("ci", "nope"))],
        b"{}",
    )
    .assert_error(401, "UNAUTHORIZED");
    post(
        &server,
        "/hooks/d-basic",
        &[("Authorization", "Basic Og==")],
        b"{}",
    )
    .assert_error(401, "UNAUTHORIZED");
    // header, its value from $ENV{HOOK_KEY}
    accepted(
        &sb,
        &post(
            &server,
            "/in/header",
            &[("X-Hook-Key", "from-the-env")],
            b"{}",
        ),
        "d-header",
    );
    post(
        &server,
        "/in/header",
        &[("X-Hook-Key", "$ENV{HOOK_KEY}")],
        b"{}",
    )
    .assert_error(401, "UNAUTHORIZED");
    post(
        &server,
        "/in/header?token=from-the-env",
        &[("X-Hook-Key", "from-the-env")],
        b"{}",
    )
    .assert_error(400, "VALIDATION_ERROR");
    // jwt
    let good = json!({"exp": now() + 120, "iss": "ci", "aud": "buttons"});
    accepted(
        &sb,
        &post(
            &server,
            "/hooks/d-jwt",
            &[("Authorization", &jwt(&good, b"k3y"))],
            b"{}",
        ),
        "d-jwt",
    );
    for bad in [
        jwt(&good, b"other-key"),
        jwt(
            &json!({"exp": now() - 300, "iss": "ci", "aud": "buttons"}),
            b"k3y",
        ),
        jwt(
            &json!({"exp": now() + 120, "nbf": now() + 300, "iss": "ci", "aud": "buttons"}),
            b"k3y",
        ),
        jwt(
            &json!({"exp": now() + 120, "iss": "evil", "aud": "buttons"}),
            b"k3y",
        ),
        jwt(
            &json!({"exp": now() + 120, "iss": "ci", "aud": "else"}),
            b"k3y",
        ),
        "Bearer not.a.jwt".to_owned(),
    ] {
        post(&server, "/hooks/d-jwt", &[("Authorization", &bad)], b"{}")
            .assert_error(401, "UNAUTHORIZED");
    }
    // none (asked for explicitly)
    accepted(&sb, &post(&server, "/hooks/d-none", &[], b"{}"), "d-none");
    for name in ["d-basic", "d-header", "d-jwt", "d-none"] {
        assert_eq!(
            runs(&sb, name).len(),
            1,
            "{name}: only the accepted call pressed"
        );
    }
}

#[test]
fn unset_env_secrets_fail_closed_with_500_and_no_press() {
    let sb = setup();
    drawer(&sb, "b");
    drawer(&sb, "j");
    sb.ok(&[
        "drawer",
        "b",
        "trigger",
        "webhook",
        "--auth",
        "basic",
        "--auth-user",
        "$ENV{UNSET_USER}",
        "--auth-pass",
        "$ENV{UNSET_PASS}",
    ]);
    sb.ok(&[
        "drawer",
        "j",
        "trigger",
        "webhook",
        "--auth",
        "jwt",
        "--jwt-secret",
        "$ENV{UNSET_KEY}",
    ]);
    let server = Server::start_with(&sb, &[], |cmd| {
        cmd.env_remove("UNSET_USER")
            .env_remove("UNSET_PASS")
            .env_remove("UNSET_KEY");
    });
    // Empty Basic credentials (":") do not match empty secrets.
    post(
        &server,
        "/hooks/b",
        &[("Authorization", "Basic Og==")],
        b"{}",
    )
    .assert_error(500, "AUTH_MISCONFIGURED");
    // A JWT signed with the empty key does not verify against an empty secret.
    let token = jwt(&json!({"exp": now() + 120}), b"");
    post(&server, "/hooks/j", &[("Authorization", &token)], b"{}")
        .assert_error(500, "AUTH_MISCONFIGURED");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        runs(&sb, "b").is_empty() && runs(&sb, "j").is_empty(),
        "nothing pressed"
    );
}

#[test]
fn bodies_over_8_mib_get_413_and_no_press() {
    let sb = setup();
    drawer(&sb, "big");
    sb.ok(&["drawer", "big", "trigger", "webhook", "--auth", "none"]);
    let server = Server::start(&sb, &[]);
    let body = vec![b'a'; 9 * 1024 * 1024];
    post(&server, "/hooks/big", &[], &body).assert_error(413, "BODY_TOO_LARGE");
    // Just under the cap is taken whole (not cut).
    let mut under = b"\"".to_vec();
    under.extend(std::iter::repeat_n(b'x', 2 * 1024 * 1024));
    under.push(b'"');
    accepted(&sb, &post(&server, "/hooks/big", &[], &under), "big");
    let runs = runs(&sb, "big");
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0]["inputs"]["webhook"]["body"].as_str().map(str::len),
        Some(2 * 1024 * 1024)
    );
}

#[test]
fn the_record_redacts_authorization_cookie_and_the_auth_header() {
    let sb = setup();
    drawer(&sb, "rec");
    sb.ok(&[
        "drawer",
        "rec",
        "trigger",
        "webhook",
        "--auth-header-value",
        "hdr-s3cret",
    ]);
    let server = Server::start(&sb, &[]);
    let resp = post(
        &server,
        "/hooks/rec?source=ci",
        &[
            ("X-Webhook-Token", "hdr-s3cret"),
            ("Authorization", "Bearer bearer-s3cret"),
            ("Cookie", "session=cookie-s3cret"),
            ("X-Event", "push"),
        ],
        br#"{"ref": "main"}"#,
    );
    let run_id = accepted(&sb, &resp, "rec");
    let runs = runs(&sb, "rec");
    let record = runs
        .iter()
        .find(|r| r["run_id"] == run_id.as_str())
        .unwrap();
    let webhook = &record["inputs"]["webhook"];
    assert_eq!(webhook["headers"]["authorization"], "[redacted]");
    assert_eq!(webhook["headers"]["cookie"], "[redacted]");
    assert_eq!(webhook["headers"]["x-webhook-token"], "[redacted]");
    assert_eq!(webhook["headers"]["x-event"], "push");
    assert_eq!(webhook["body"]["ref"], "main");
    assert_eq!(webhook["query"]["source"], "ci");
    assert_eq!(webhook["method"], "POST");
    assert_eq!(webhook["path"], "/hooks/rec");
    assert!(webhook["received_at"].is_string());
    let text = record.to_string();
    for secret in ["hdr-s3cret", "bearer-s3cret", "cookie-s3cret"] {
        assert!(!text.contains(secret), "{secret} in the record");
    }
}

#[test]
fn webhook_listen_serves_the_webhooks_alone_on_loopback() {
    let sb = setup();
    drawer(&sb, "solo");
    sb.ok(&["drawer", "solo", "trigger", "webhook", "--auth", "none"]);
    let mut child = sb
        .cmd(&["webhook", "listen", "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let startup: Value = serde_json::from_str(&line).unwrap();
    let addr: std::net::SocketAddr = startup["data"]["addr"].as_str().unwrap().parse().unwrap();
    assert!(addr.ip().is_loopback());
    assert_eq!(startup["data"]["webhooks"], json!(["/hooks/solo"]));
    let server = Server {
        child,
        port: addr.port(),
        startup: startup["data"].clone(),
    };
    accepted(&sb, &post(&server, "/hooks/solo", &[], b"{}"), "solo");
    // No REST API here.
    server
        .request("GET", "/api/buttons", &[], b"")
        .assert_error(404, "NOT_FOUND");
    let started = Instant::now();
    let status = server.stop(Duration::from_secs(30));
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_webhook_is_answered_when_the_run_starts_and_refusals_before_it() {
    let sb = setup();
    sb.ok(&["create", "slow", "--code", "sleep 3; echo done"]);
    sb.ok(&["drawer", "create", "long"]);
    let path = sb.data().join("drawers/long/drawer.json");
    let mut spec: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    spec["steps"] = json!([{"id": "wait", "button": "slow"}]);
    std::fs::write(&path, spec.to_string()).unwrap();
    sb.ok(&["drawer", "long", "trigger", "webhook", "--auth", "none"]);
    let server = Server::start(&sb, &[]);
    let started = Instant::now();
    let resp = post(&server, "/hooks/long", &[], b"{}");
    let answered = started.elapsed();
    assert_eq!(resp.status, 202, "{}", resp.text());
    // The caller is not kept waiting for a 3 s step (a sender would time out).
    assert!(
        answered < Duration::from_millis(2500),
        "answered after {answered:?}"
    );
    assert!(runs(&sb, "long").is_empty(), "the run is still going");
    let run_id = accepted(&sb, &resp, "long");
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(runs(&sb, "long")[0]["run_id"], run_id.as_str());

    // A drawer that cannot be pressed is the answer, not a lost run.
    spec["inputs"] = json!([{"name": "must", "type": "string", "required": true}]);
    std::fs::write(&path, spec.to_string()).unwrap();
    let refused = post(&server, "/hooks/long", &[], b"{}");
    assert_ne!(refused.status, 202, "{}", refused.text());
    assert_eq!(
        refused.json()["error"]["code"],
        "MISSING_INPUT",
        "{}",
        refused.text()
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(runs(&sb, "long").len(), 1);
}
