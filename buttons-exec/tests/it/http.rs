//! HTTP buttons pressed through `buttons_exec::press` against loopback
//! servers the tests start. Nothing here contacts an address outside
//! 127.0.0.0/8: "public" hosts are modelled with an injected policy and resolver.

use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use buttons_exec::{PressContext, PressOptions, Stream};
use buttons_http::test_support::{Reply, Server, Tripwire, response};
use buttons_http::{NetPolicy, Options};
use buttons_spec::{Args, ErrorCode, FollowRedirects, Method, PressResult, Status, Timestamp};

use crate::util::Fixture;

/// An HTTP button for `url`, locked to its host.
fn http_fixture(url: &str, defs: &[&str]) -> Fixture {
    let mut fx = Fixture::empty("").with_args(defs);
    fx.button.url = url.to_owned();
    fx.button.allowed_host = buttons_spec::lock_url_template(url).unwrap().allowed_host;
    fx
}

/// Options opening the policy for exactly `ip`.
fn allowing(ip: &str) -> Options {
    Options {
        policy: NetPolicy::new().allow(ip.parse::<IpAddr>().unwrap()),
        ..Options::default()
    }
}

async fn press_with(
    fx: &Fixture,
    values: &[(&str, &str)],
    base_env: &[(&str, &str)],
    opts: PressOptions,
) -> PressResult {
    let args = fx.args(values);
    let mut ctx = PressContext::new(&fx.button, fx.path(), &args, &fx.batteries);
    ctx.base_env = base_env
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    buttons_exec::press(&ctx, opts).await.unwrap()
}

fn quick() -> PressOptions {
    PressOptions::default().timeout(Duration::from_secs(10))
}

#[tokio::test]
async fn a_press_sends_the_rendered_request_and_fills_the_result() {
    let server = Server::fixed("127.0.0.1", 200, &[], b"pong\n");
    let mut fx = http_fixture(
        &server.url("/files/{{id}}/x?q={{q}}&limit=10#{{id}}"),
        &["id:string:required", "q:string:required"],
    );
    fx.button.method = Method::Post;
    fx.button
        .headers
        .insert("Authorization".into(), "Bearer {{id}}".into());
    fx.button.body = r#"{"user": "{{id}}", "role": "viewer"}"#.into();
    let started_at = Timestamp::from_second(1_700_000_000).unwrap();
    let args = fx.args(&[
        ("id", r#"../../etc","role":"admin"#),
        ("q", "real&admin=true"),
    ]);
    let mut ctx = PressContext::new(&fx.button, fx.path(), &args, &fx.batteries);
    ctx.started_at = Some(started_at);
    let result = buttons_exec::press(&ctx, quick().http(allowing("127.0.0.1")))
        .await
        .unwrap();

    assert_eq!(result.status, Status::Ok, "{}", result.stderr);
    assert_eq!(
        (result.exit_code, result.http_status_code),
        (200, Some(200))
    );
    assert_eq!(result.stdout, "pong\n");
    assert_eq!(result.stderr, "");
    assert!(!result.truncated);
    assert_eq!(result.started_at, started_at);
    assert_eq!(result.args["q"], "real&admin=true");
    assert_eq!(result.button, "test-button");

    let [request] = &server.requests()[..] else {
        panic!("expected one request: {:?}", server.requests());
    };
    assert_eq!(
        request.request_line,
        "POST /files/..%2F..%2Fetc%22%2C%22role%22%3A%22admin/x?q=real%26admin%3Dtrue&limit=10 HTTP/1.1"
    );
    assert_eq!(request.header("authorization"), Some("Bearer {{id}}"));
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["role"], "viewer");
    assert_eq!(body["user"], r#"../../etc","role":"admin"#);
}

#[tokio::test]
async fn loopback_is_blocked_unless_the_button_or_the_base_env_opts_in() {
    let wire = Tripwire::bind("127.0.0.1");
    let mut fx = http_fixture(&format!("http://{}/x", wire.addr()), &[]);
    let result = press_with(&fx, &[], &[], quick()).await;
    assert_eq!(result.status, Status::Error);
    assert_eq!(result.error_type, Some(ErrorCode::ValidationError));
    assert_eq!(result.http_status_code, None);
    assert_eq!(result.exit_code, -1);
    for needle in [
        "127.0.0.1",
        "--allow-private-networks",
        "BUTTONS_ALLOW_PRIVATE_NETWORKS=1",
    ] {
        assert!(
            result.stderr.contains(needle),
            "{needle}: {}",
            result.stderr
        );
    }
    // An opt-in spelled `0` is no opt-in.
    let env_off = [("BUTTONS_ALLOW_PRIVATE_NETWORKS", "0")];
    let result = press_with(&fx, &[], &env_off, quick()).await;
    assert_eq!(result.error_type, Some(ErrorCode::ValidationError));
    wire.assert_untouched();

    let server = Server::fixed("127.0.0.1", 200, &[], b"local");
    fx = http_fixture(&server.url("/x"), &[]);
    let env_on = [("BUTTONS_ALLOW_PRIVATE_NETWORKS", "1")];
    let result = press_with(&fx, &[], &env_on, quick()).await;
    assert_eq!(
        (result.status, result.stdout.as_str()),
        (Status::Ok, "local")
    );
    fx.button.allow_private_networks = true;
    let result = press_with(&fx, &[], &[], quick()).await;
    assert_eq!(
        (result.status, result.stdout.as_str()),
        (Status::Ok, "local")
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn an_explicit_http_override_replaces_the_button_and_env_opt_ins() {
    let wire = Tripwire::bind("127.0.0.1");
    let mut fx = http_fixture(&format!("http://{}/x", wire.addr()), &[]);
    fx.button.allow_private_networks = true;
    let env_on = [("BUTTONS_ALLOW_PRIVATE_NETWORKS", "1")];
    let opts = quick().http(Options::default());
    let result = press_with(&fx, &[], &env_on, opts).await;
    assert_eq!(result.error_type, Some(ErrorCode::ValidationError));
    wire.assert_untouched();
}

#[tokio::test]
async fn any_host_needs_the_base_env_opt_in() {
    let server = Server::fixed("127.0.0.1", 200, &[], b"anywhere");
    let mut fx = http_fixture(&server.url("/x"), &[]);
    fx.button.allowed_host = "*".into();
    fx.button.allow_private_networks = true;
    let result = press_with(&fx, &[], &[], quick()).await;
    assert_eq!(result.error_type, Some(ErrorCode::ValidationError));
    assert!(
        result.stderr.contains("BUTTONS_ALLOW_ANY_HOST=1"),
        "{}",
        result.stderr
    );
    assert!(server.requests().is_empty());
    let env = [("BUTTONS_ALLOW_ANY_HOST", "1")];
    let result = press_with(&fx, &[], &env, quick()).await;
    assert_eq!(result.stdout, "anywhere");
}

#[tokio::test]
async fn a_public_name_and_a_redirect_to_a_blocked_address() {
    // "public.test" resolves to 127.0.0.1, the only address the policy opens;
    // it redirects to 127.0.0.2, which stays blocked.
    let wire = Tripwire::bind("127.0.0.1");
    let target = format!("http://127.0.0.2:{}/secret", wire.addr().port());
    let location = target.clone();
    let server = Server::start("127.0.0.1", move |_| {
        Reply::Send(response(302, &[("Location", &location)], b""))
    });
    let mut fx = http_fixture(
        &format!("http://public.test:{}/start", server.addr().port()),
        &[],
    );
    fx.button.follow_redirects = Some(FollowRedirects::Any);
    let lookup = |host: &str| -> io::Result<Vec<IpAddr>> {
        match host {
            "public.test" => Ok(vec!["127.0.0.1".parse().unwrap()]),
            _ => Err(io::Error::new(io::ErrorKind::NotFound, "unknown test name")),
        }
    };
    let options = Options {
        lookup: Arc::new(lookup),
        ..allowing("127.0.0.1")
    };
    let result = press_with(&fx, &[], &[], quick().http(options)).await;
    assert_eq!(result.error_type, Some(ErrorCode::ScriptError));
    assert!(result.stderr.contains(&target), "{}", result.stderr);
    assert_eq!(server.requests().len(), 1);
    assert_eq!(
        server.requests()[0].header("host"),
        Some(format!("public.test:{}", server.addr().port()).as_str())
    );
    wire.assert_untouched();
}

#[tokio::test]
async fn a_followed_redirect_and_a_cut_body_are_noted_in_stderr() {
    let server = Server::start("127.0.0.1", |request| {
        if request.target() == "/old" {
            Reply::Send(response(301, &[("Location", "/new")], b""))
        } else {
            Reply::Send(response(200, &[], &[b'x'; 4096]))
        }
    });
    let mut fx = http_fixture(&server.url("/old"), &[]);
    fx.button.max_response_bytes = 1024;
    let result = press_with(&fx, &[], &[], quick().http(allowing("127.0.0.1"))).await;
    assert_eq!(result.status, Status::Ok);
    assert!(result.truncated);
    assert_eq!(result.stdout.len(), 1024);
    let new = server.url("/new");
    assert!(
        result
            .stderr
            .contains(&format!("followed a redirect to {new}")),
        "{}",
        result.stderr
    );
    assert!(result.stderr.contains("cut at 1 KiB"), "{}", result.stderr);
}

#[tokio::test]
async fn a_server_error_keeps_the_status_and_body() {
    let server = Server::fixed("127.0.0.1", 500, &[], b"boom");
    let fx = http_fixture(&server.url("/x"), &[]);
    let result = press_with(&fx, &[], &[], quick().http(allowing("127.0.0.1"))).await;
    assert_eq!(result.status, Status::Error);
    assert_eq!(result.error_type, Some(ErrorCode::ScriptError));
    assert_eq!(
        (result.exit_code, result.http_status_code),
        (500, Some(500))
    );
    assert_eq!(result.stdout, "boom");
    assert!(result.stderr.contains("HTTP 500"), "{}", result.stderr);
}

#[tokio::test]
async fn the_press_timeout_covers_a_silent_server() {
    let server = Server::silent("127.0.0.1");
    let fx = http_fixture(&server.url("/x"), &[]);
    let opts = PressOptions::default()
        .timeout(Duration::from_millis(300))
        .http(allowing("127.0.0.1"));
    let clock = Instant::now();
    let result = press_with(&fx, &[], &[], opts).await;
    assert!(clock.elapsed() < Duration::from_secs(5));
    assert_eq!(result.status, Status::Timeout);
    assert_eq!(result.error_type, Some(ErrorCode::Timeout));
    assert_eq!(result.exit_code, -1);
    assert!(result.duration_ms >= 300, "{}", result.duration_ms);
}

#[tokio::test]
async fn the_button_timeout_applies_without_an_override() {
    let server = Server::silent("127.0.0.1");
    let mut fx = http_fixture(&server.url("/x"), &[]);
    fx.button.timeout_seconds = 1;
    let opts = PressOptions::default().http(allowing("127.0.0.1"));
    let result = press_with(&fx, &[], &[], opts).await;
    assert_eq!(result.error_type, Some(ErrorCode::Timeout));
    assert!(result.duration_ms >= 1000, "{}", result.duration_ms);
}

#[tokio::test]
async fn cancellation_ends_the_request() {
    let server = Server::silent("127.0.0.1");
    let fx = http_fixture(&server.url("/x"), &[]);
    let opts = quick()
        .http(allowing("127.0.0.1"))
        .cancel_on(tokio::time::sleep(Duration::from_millis(200)));
    let clock = Instant::now();
    let result = press_with(&fx, &[], &[], opts).await;
    assert!(clock.elapsed() < Duration::from_secs(5));
    assert_eq!(result.status, Status::Error);
    assert_eq!(result.error_type, Some(ErrorCode::Cancelled));
    assert!(result.stderr.contains("interrupted"), "{}", result.stderr);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_value_making_a_dot_segment_is_a_validation_result() {
    let wire = Tripwire::bind("127.0.0.1");
    let fx = http_fixture(
        &format!("http://{}/a/{{{{p}}}}/b", wire.addr()),
        &["p:string:required"],
    );
    let opts = quick().http(allowing("127.0.0.1"));
    let result = press_with(&fx, &[("p", "..")], &[], opts).await;
    assert_eq!(result.error_type, Some(ErrorCode::ValidationError));
    assert_eq!(result.args["p"], "..");
    wire.assert_untouched();
}

#[tokio::test]
async fn the_sink_gets_the_body_lines_and_the_reason() {
    let server = Server::fixed("127.0.0.1", 503, &[], b"line one\nline two");
    let fx = http_fixture(&server.url("/x"), &[]);
    let lines = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&lines);
    let opts = quick()
        .http(allowing("127.0.0.1"))
        .sink(move |stream, line| seen.lock().unwrap().push((stream, line.to_owned())));
    let result = press_with(&fx, &[], &[], opts).await;
    assert_eq!(result.http_status_code, Some(503));
    let lines = lines.lock().unwrap().clone();
    assert_eq!(
        lines,
        [
            (Stream::Stdout, "line one".to_owned()),
            (Stream::Stdout, "line two".to_owned()),
            (Stream::Stderr, "the server answered HTTP 503".to_owned()),
        ]
    );
}

#[test]
fn press_blocking_sends_http_too() {
    let server = Server::fixed("127.0.0.1", 200, &[], b"blocking");
    let mut fx = http_fixture(&server.url("/x"), &[]);
    fx.button.allow_private_networks = true;
    let args = Args::default();
    let ctx = PressContext::new(&fx.button, fx.path(), &args, &fx.batteries);
    let result = buttons_exec::press_blocking(&ctx, PressOptions::default()).unwrap();
    assert_eq!(result.stdout, "blocking");
}
