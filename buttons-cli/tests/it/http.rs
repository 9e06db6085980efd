//! HTTP buttons end to end: `buttons create --url …` then `buttons press`
//! against loopback servers these tests start, which record the raw request.
//! Nothing here contacts an address outside 127.0.0.0/8.

use buttons_http::test_support::{Reply, Server, Tripwire, response};
use serde_json::{Value, json};

use crate::{Run, Sandbox};

/// Runs the binary with extra environment variables and parses its envelope.
fn run_env(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = sb.cmd(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    Run { output, json }
}

/// The run records of `name`, newest first.
fn history(sb: &Sandbox, name: &str) -> Vec<Value> {
    sb.ok(&["history", name, "--last", "1000"])
        .as_array()
        .unwrap()
        .clone()
}

fn assert_names_opt_ins(message: &str) {
    for needle in [
        "allow_private_networks: true",
        "--allow-private-networks",
        "BUTTONS_ALLOW_PRIVATE_NETWORKS=1",
    ] {
        assert!(message.contains(needle), "{needle} missing from {message}");
    }
}

#[test]
fn path_query_fragment_json_and_headers_arrive_as_rendered() {
    let sb = Sandbox::new();
    let server = Server::fixed("127.0.0.1", 200, &[], b"created\n");
    sb.ok(&[
        "create",
        "api",
        "--url",
        &server.url("/files/{{id}}/download?q={{q}}&limit=10#{{id}}"),
        "--method",
        "POST",
        "--header",
        "Authorization: Bearer {{tok}}",
        "--header",
        "Content-Type: application/json",
        "--body",
        r#"{"user": "{{u}}", "role": "viewer", "q": "{{q}}"}"#,
        "--arg",
        "id:string:required",
        "--arg",
        "q:string:required",
        "--arg",
        "u:string:required",
        "--arg",
        "tok:string:optional",
        "--allow-private-networks",
    ]);
    let data = sb.ok(&[
        "press",
        "api",
        "--arg",
        "id=../../etc/passwd",
        "--arg",
        "q=real&admin=true",
        "--arg",
        r#"u=","role":"admin"#,
        "--arg",
        "tok=leaked",
    ]);
    assert_eq!(data["status"], "ok");
    assert_eq!(data["exit_code"], 200);
    assert_eq!(data["http_status_code"], 200);
    assert_eq!(data["stdout"], "created\n");
    assert_eq!(data["args"]["q"], "real&admin=true");

    let [request] = &server.requests()[..] else {
        panic!("expected one request: {:?}", server.requests());
    };
    assert_eq!(
        request.request_line,
        "POST /files/..%2F..%2Fetc%2Fpasswd/download?q=real%26admin%3Dtrue&limit=10 HTTP/1.1"
    );
    // Headers are sent verbatim: a placeholder in one is not substituted.
    assert_eq!(request.header("authorization"), Some("Bearer {{tok}}"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body,
        json!({"user": r#"","role":"admin"#, "role": "viewer", "q": "real&admin=true"})
    );
    assert_eq!(history(&sb, "api").len(), 1);
}

#[test]
fn form_bodies_and_fragments_are_encoded() {
    let sb = Sandbox::new();
    let server = Server::fixed("127.0.0.1", 200, &[], b"");
    let url = server.url("/p/{{v}}?x=1#frag-{{v}}");
    sb.ok(&[
        "create",
        "form",
        "--url",
        &url,
        "--method",
        "put",
        "--header",
        "Content-Type: application/x-www-form-urlencoded",
        "--body",
        "name={{v}}&role=viewer",
        "--arg",
        "v:string:required",
        "--allow-private-networks",
    ]);
    let dry = sb.ok(&["press", "form", "--arg", "v=a b&role=admin#x", "--dry-run"]);
    let rendered = format!(
        "http://{}/p/a%20b%26role%3Dadmin%23x?x=1#frag-a%20b%26role%3Dadmin%23x",
        server.addr()
    );
    assert_eq!(dry["url"], rendered);
    sb.ok(&["press", "form", "--arg", "v=a b&role=admin#x"]);
    let [request] = &server.requests()[..] else {
        panic!("expected one request: {:?}", server.requests());
    };
    assert_eq!(
        request.request_line,
        "PUT /p/a%20b%26role%3Dadmin%23x?x=1 HTTP/1.1"
    );
    assert_eq!(request.body, b"name=a+b%26role%3Dadmin%23x&role=viewer");
}

#[test]
fn loopback_is_blocked_by_default_and_nothing_is_sent() {
    let sb = Sandbox::new();
    let wire = Tripwire::bind("127.0.0.1");
    let url = format!("http://{}/admin", wire.addr());
    sb.ok(&["create", "local", "--url", &url]);
    let error = sb.err(&["press", "local"], "VALIDATION_ERROR");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("127.0.0.1"), "{message}");
    assert_names_opt_ins(message);
    wire.assert_untouched();
    // The refused press is still a press: one record, saying why.
    let records = history(&sb, "local");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["error_type"], "VALIDATION_ERROR");
    assert_eq!(records[0]["status"], "error");
    assert!(records[0].get("http_status_code").is_none());
}

#[test]
fn loopback_is_allowed_by_the_create_flag_or_the_press_env() {
    let sb = Sandbox::new();
    let server = Server::fixed("127.0.0.1", 200, &[], b"hi");
    sb.ok(&["create", "env", "--url", &server.url("/env")]);
    let run = run_env(
        &sb,
        &["press", "env"],
        &[("BUTTONS_ALLOW_PRIVATE_NETWORKS", "1")],
    );
    assert_eq!(run.json["data"]["stdout"], "hi", "{}", run.json);
    assert_eq!(run.output.status.code(), Some(0));
    sb.ok(&[
        "create",
        "flag",
        "--url",
        &server.url("/flag"),
        "--allow-private-networks",
    ]);
    assert_eq!(sb.ok(&["press", "flag"])["stdout"], "hi");
    let targets: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.request_line.clone())
        .collect();
    assert_eq!(targets, ["GET /env HTTP/1.1", "GET /flag HTTP/1.1"]);
    assert_eq!(history(&sb, "env").len(), 1);
    assert_eq!(history(&sb, "flag").len(), 1);
}

#[test]
fn localhost_is_refused_when_it_resolves() {
    let sb = Sandbox::new();
    let wire = Tripwire::bind("127.0.0.1");
    let url = format!("http://localhost:{}/", wire.addr().port());
    sb.ok(&["create", "lh", "--url", &url]);
    let error = sb.err(&["press", "lh"], "SCRIPT_ERROR");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("localhost"), "{message}");
    assert_names_opt_ins(message);
    wire.assert_untouched();
    assert_eq!(history(&sb, "lh")[0]["error_type"], "SCRIPT_ERROR");
}

#[test]
fn a_server_error_is_a_script_error_keeping_the_status() {
    let sb = Sandbox::new();
    let server = Server::fixed("127.0.0.1", 500, &[], b"internal oops");
    sb.ok(&[
        "create",
        "five",
        "--url",
        &server.url("/"),
        "--allow-private-networks",
    ]);
    let error = sb.err(&["press", "five"], "SCRIPT_ERROR");
    assert!(
        error["message"].as_str().unwrap().contains("HTTP 500"),
        "{error}"
    );
    let records = history(&sb, "five");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["http_status_code"], 500);
    assert_eq!(records[0]["exit_code"], 500);
    assert_eq!(records[0]["stdout"], "internal oops");
}

#[test]
fn the_response_cap_truncates_and_says_so() {
    let sb = Sandbox::new();
    let server = Server::fixed("127.0.0.1", 200, &[], &[b'z'; 5000]);
    sb.ok(&[
        "create",
        "big",
        "--url",
        &server.url("/"),
        "--max-response-size",
        "1K",
        "--allow-private-networks",
    ]);
    let data = sb.ok(&["press", "big"]);
    assert_eq!(data["truncated"], true);
    assert_eq!(data["stdout"].as_str().unwrap().len(), 1024);
    let stderr = data["stderr"].as_str().unwrap();
    assert!(stderr.contains("cut at 1 KiB"), "{stderr}");
    assert!(
        history(&sb, "big")[0]["stderr"]
            .as_str()
            .unwrap()
            .contains("cut at")
    );
}

#[test]
fn a_silent_server_times_out() {
    let sb = Sandbox::new();
    let server = Server::silent("127.0.0.1");
    sb.ok(&[
        "create",
        "slow",
        "--url",
        &server.url("/"),
        "--timeout",
        "1",
        "--allow-private-networks",
    ]);
    sb.err(&["press", "slow"], "TIMEOUT");
    let records = history(&sb, "slow");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["status"], "timeout");
    assert!(records[0]["duration_ms"].as_u64().unwrap() >= 1000);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_placeholder_in_the_host_is_refused_at_create() {
    let sb = Sandbox::new();
    for url in [
        "http://{{h}}/x",
        "http://127.0.0.1:{{port}}/x",
        "http://{{h}}.example.com/x",
        "http://127.0.0.{{n}}/x",
    ] {
        let error = sb.err(&["create", "h", "--url", url], "VALIDATION_ERROR");
        assert!(
            error["message"].as_str().unwrap().contains("placeholder"),
            "{url}: {error}"
        );
    }
    assert_eq!(sb.ok(&["list"]), json!([]));
}

#[test]
fn a_redirect_to_another_host_is_refused_naming_the_location() {
    let sb = Sandbox::new();
    let other = Server::start("127.0.0.2", |_| Reply::Send(response(200, &[], b"x")));
    let target = format!("http://{}/stolen", other.addr());
    let sent = target.clone();
    let first = Server::start("127.0.0.1", move |_| {
        Reply::Send(response(302, &[("Location", &sent)], b""))
    });
    sb.ok(&[
        "create",
        "hop",
        "--url",
        &first.url("/start"),
        "--header",
        "Authorization: Bearer secret",
        "--allow-private-networks",
    ]);
    let error = sb.err(&["press", "hop"], "SCRIPT_ERROR");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(&target), "{message}");
    assert_eq!(first.requests().len(), 1);
    assert!(other.requests().is_empty(), "the second host was contacted");
    assert_eq!(history(&sb, "hop").len(), 1);
}

#[test]
fn dry_run_shows_the_exact_request_and_sends_nothing() {
    let sb = Sandbox::new();
    let server = Server::fixed("127.0.0.1", 200, &[], b"");
    sb.ok(&[
        "create",
        "dry",
        "--url",
        &server.url("/u/{{id}}?q={{q}}"),
        "--method",
        "PATCH",
        "--header",
        "X-Token: {{id}}",
        "--body",
        r#"{"id": "{{id}}"}"#,
        "--arg",
        "id:string:required",
        "--arg",
        "q:string:required",
        "--allow-private-networks",
    ]);
    let data = sb.ok(&[
        "press",
        "dry",
        "--arg",
        "id=a/b\"",
        "--arg",
        "q=1 2",
        "--dry-run",
    ]);
    assert_eq!(data["method"], "PATCH");
    assert_eq!(
        data["url"],
        format!("http://{}/u/a%2Fb%22?q=1+2", server.addr())
    );
    assert_eq!(data["headers"], json!([["X-Token", "{{id}}"]]));
    assert_eq!(data["body"], r#"{"id": "a/b\""}"#);
    assert!(server.requests().is_empty());
    assert!(history(&sb, "dry").is_empty());
}

#[test]
fn the_environment_proxy_is_not_used() {
    let sb = Sandbox::new();
    let proxy = Tripwire::bind("127.0.0.1");
    let server = Server::fixed("127.0.0.1", 200, &[], b"direct");
    sb.ok(&[
        "create",
        "direct",
        "--url",
        &server.url("/d"),
        "--allow-private-networks",
        // Through the proxy, the press would wait on the tripwire: fail fast.
        "--timeout",
        "5",
    ]);
    let proxy_url = format!("http://{}", proxy.addr());
    let env: Vec<(&str, &str)> = ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
        .into_iter()
        .map(|name| (name, proxy_url.as_str()))
        .collect();
    let run = run_env(&sb, &["press", "direct"], &env);
    assert_eq!(run.json["data"]["stdout"], "direct", "{}", run.json);
    assert_eq!(server.requests().len(), 1);
    proxy.assert_untouched();
}
