//! One exchange: literal-IP refusals, the loopback opt-ins, headers and body
//! on the wire, the cap, the timeout, status and scheme handling.

use std::time::{Duration, Instant};

use buttons_http::{Error, HttpClient, HttpRequest, NetPolicy, Options};
use buttons_spec::ErrorCode;

use crate::{client_allowing, get};
use buttons_http::test_support::{Reply, Server, Tripwire, closed_addr, response};

#[test]
fn blocked_literals_are_refused_before_any_socket() {
    // A resolver that fails the test if it is ever asked: literals never reach it.
    let lookup = |host: &str| -> std::io::Result<Vec<std::net::IpAddr>> {
        panic!("resolver called for {host}")
    };
    let client = HttpClient::new(Options {
        lookup: std::sync::Arc::new(lookup),
        ..Options::default()
    });
    for url in [
        "http://10.0.0.1/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://0x7f.1/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://[fd00:ec2::254]/",
        "https://192.168.1.1:8443/",
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::1]/",
        "http://100.100.100.200/",
    ] {
        let mut request = get(url);
        request.allowed_host = "*".into();
        let client = HttpClient::new(Options {
            allow_any_host: true,
            ..client.options().clone()
        });
        let err = client.send_blocking(&request).unwrap_err();
        assert!(
            matches!(err, Error::BlockedAddress { .. }),
            "{url}: expected a literal refusal, got {err}"
        );
        assert_eq!(err.code(), ErrorCode::ValidationError, "{url}");
    }
}

#[test]
fn loopback_is_blocked_by_default() {
    let wire = Tripwire::bind("127.0.0.1");
    let client = HttpClient::new(Options::default());
    let err = client.send_blocking(&get(&wire.url("/"))).unwrap_err();
    assert!(matches!(err, Error::BlockedAddress { .. }), "{err}");
    assert_eq!(err.code(), ErrorCode::ValidationError);
    let message = err.to_string();
    assert!(
        message.contains("BUTTONS_ALLOW_PRIVATE_NETWORKS=1"),
        "{message}"
    );
    assert!(
        message.contains("allow_private_networks: true"),
        "{message}"
    );
    wire.assert_untouched();
}

#[test]
fn loopback_is_allowed_with_the_option_and_with_the_variable() {
    let server = Server::fixed("127.0.0.1", 200, &[], b"hello");
    let opened = HttpClient::new(Options {
        policy: NetPolicy::new().allow_private(true),
        ..Options::default()
    });
    let from_env = HttpClient::new(Options::from_vars(|name| {
        (name == "BUTTONS_ALLOW_PRIVATE_NETWORKS").then(|| "1".to_owned())
    }));
    for client in [opened, from_env] {
        let response = client.send_blocking(&get(&server.url("/x"))).unwrap();
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, &b"hello"[..])
        );
        assert!(response.is_success());
    }
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn headers_and_body_reach_the_server_verbatim() {
    let server = Server::fixed("127.0.0.1", 201, &[("X-Reply", "yes")], b"{}");
    let client = client_allowing(&["127.0.0.1"]);
    let mut request = get(&server.url("/items/a%2Fb?q=a+b&r=%26"));
    request.method = "POST".into();
    request.headers = vec![
        ("X-Api-Key".into(), "{{key}} stays  as  is".into()),
        (
            "Content-Type".into(),
            "application/json; charset=utf-8".into(),
        ),
        ("X-Multi".into(), "one".into()),
        ("X-Multi".into(), "two".into()),
    ];
    request.body = Some(br#"{"user":"a\"b"}"#.to_vec());
    let response = client.send_blocking(&request).unwrap();
    assert_eq!(response.status, 201);
    assert!(
        response.headers.contains(&("x-reply".into(), "yes".into())),
        "{:?}",
        response.headers
    );
    let seen = &server.requests()[0];
    assert_eq!(seen.request_line, "POST /items/a%2Fb?q=a+b&r=%26 HTTP/1.1");
    assert_eq!(seen.header("x-api-key"), Some("{{key}} stays  as  is"));
    assert_eq!(
        seen.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(seen.header_values("x-multi"), ["one", "two"]);
    assert_eq!(seen.body, br#"{"user":"a\"b"}"#);
    assert_eq!(
        seen.header("host"),
        Some(server.addr().to_string().as_str())
    );
}

#[test]
fn body_is_cut_at_the_cap() {
    let big = vec![b'x'; 300_000];
    let server = Server::fixed("127.0.0.1", 200, &[], &big);
    let client = client_allowing(&["127.0.0.1"]);
    let mut request = get(&server.url("/big"));
    request.max_response_bytes = 1000;
    let response = client.send_blocking(&request).unwrap();
    assert_eq!(response.body.len(), 1000);
    assert!(response.truncated);

    request.max_response_bytes = 300_000;
    let response = client.send_blocking(&request).unwrap();
    assert_eq!(response.body.len(), 300_000);
    assert!(!response.truncated, "a body exactly at the cap is whole");
}

#[test]
fn cap_stops_reading_an_endless_body() {
    // Headers promise a huge body; the server sends 64 KiB and then stalls.
    // With a 1 KiB cap the client must stop reading instead of waiting for the rest.
    let mut head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n".to_vec();
    head.extend(std::iter::repeat_n(b'y', 64 * 1024));
    let server = Server::start("127.0.0.1", move |_| Reply::SendThenStall(head.clone()));
    let client = client_allowing(&["127.0.0.1"]);
    let mut request = get(&server.url("/"));
    request.max_response_bytes = 1024;
    request.timeout = Duration::from_secs(5);
    let response = client.send_blocking(&request).unwrap();
    assert_eq!(response.body.len(), 1024);
    assert!(response.truncated);
}

#[test]
fn timeout_when_the_server_never_answers() {
    let server = Server::silent("127.0.0.1");
    let client = client_allowing(&["127.0.0.1"]);
    let mut request = get(&server.url("/"));
    request.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = client.send_blocking(&request).unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert_eq!(err.code(), ErrorCode::Timeout);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn timeout_covers_the_body() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf".to_vec();
    let server = Server::start("127.0.0.1", move |_| Reply::SendThenStall(head.clone()));
    let client = client_allowing(&["127.0.0.1"]);
    let mut request = get(&server.url("/"));
    request.timeout = Duration::from_millis(300);
    let err = client.send_blocking(&request).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Timeout, "{err}");
}

#[test]
fn error_statuses_are_responses_and_map_to_script_error() {
    let server = Server::fixed("127.0.0.1", 404, &[], b"nope");
    let client = client_allowing(&["127.0.0.1"]);
    let outcome = client.send_blocking(&get(&server.url("/missing")));
    let response = outcome.as_ref().unwrap();
    assert_eq!(response.status, 404);
    assert!(!response.is_success());

    let mut result = buttons_spec::PressResult::new("b", buttons_spec::Timestamp::UNIX_EPOCH);
    buttons_http::fill_press_result(&mut result, &outcome);
    assert_eq!(result.status, buttons_spec::Status::Error);
    assert_eq!(result.error_type, Some(ErrorCode::ScriptError));
    assert_eq!(
        (result.exit_code, result.http_status_code),
        (404, Some(404))
    );
    assert_eq!(result.stdout, "nope");
}

#[test]
fn connection_refused_is_a_script_error() {
    let addr = closed_addr("127.0.0.1");
    let client = client_allowing(&["127.0.0.1"]);
    let err = client
        .send_blocking(&get(&format!("http://{addr}/")))
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    assert_eq!(err.code(), ErrorCode::ScriptError);
}

#[test]
fn scheme_userinfo_and_host_lock_are_checked_first() {
    let wire = Tripwire::bind("127.0.0.1");
    let client = client_allowing(&["127.0.0.1"]);
    let with_userinfo = format!("http://user:pw@{}/", wire.addr());
    let mut locked_elsewhere = get(&wire.url("/"));
    locked_elsewhere.allowed_host = "api.example.com".into();
    let mut unlocked = get(&wire.url("/"));
    unlocked.allowed_host = String::new();
    let mut any = get(&wire.url("/"));
    any.allowed_host = "*".into();
    for (request, what) in [
        (get(&with_userinfo), "userinfo"),
        (locked_elsewhere, "host lock"),
        (unlocked, "missing allowed_host"),
        (any, "* without BUTTONS_ALLOW_ANY_HOST"),
    ] {
        let err = client.send_blocking(&request).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationError, "{what}: {err}");
    }
    let err = client
        .send_blocking(&HttpRequest::new(
            "GET",
            url::Url::parse("ftp://127.0.0.1/").unwrap(),
        ))
        .unwrap_err();
    assert!(matches!(err, Error::Scheme { .. }), "{err}");
    wire.assert_untouched();
}

#[test]
fn any_host_works_with_its_opt_in() {
    let server = Server::fixed("127.0.0.1", 200, &[], b"ok");
    let client = HttpClient::new(Options {
        allow_any_host: true,
        ..client_allowing(&["127.0.0.1"]).options().clone()
    });
    let mut request = get(&server.url("/"));
    request.allowed_host = "*".into();
    assert_eq!(client.send_blocking(&request).unwrap().status, 200);
}

#[test]
fn plain_http_does_not_load_the_root_store() {
    // The only test here that uses https: the root store is process-wide.
    let server = Server::fixed("127.0.0.1", 200, &[], b"ok");
    let client = client_allowing(&["127.0.0.1"]);
    client.send_blocking(&get(&server.url("/"))).unwrap();
    assert!(!client.tls_ready(), "plain http built the https client");
    assert!(
        !HttpClient::tls_roots_loaded(),
        "plain http loaded the root store"
    );
    // An https URL loads it, and the shared config is accepted by reqwest:
    // the failure is the handshake with this plain-text server.
    let https = format!("https://{}/", server.addr());
    let err = client.send_blocking(&get(&https)).unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    assert!(client.tls_ready());
    assert!(HttpClient::tls_roots_loaded());
    // A second client reuses the process-wide configuration.
    let second = client_allowing(&["127.0.0.1"]);
    let err = second.send_blocking(&get(&https)).unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err}");
}

#[tokio::test(flavor = "current_thread")]
async fn async_send_on_the_callers_runtime() {
    let server = Server::fixed("127.0.0.1", 200, &[], b"async");
    let client = client_allowing(&["127.0.0.1"]);
    let response = client.send(&get(&server.url("/"))).await.unwrap();
    assert_eq!(response.body, b"async");
}

#[test]
fn invalid_method_and_header_are_validation_errors() {
    let wire = Tripwire::bind("127.0.0.1");
    let client = client_allowing(&["127.0.0.1"]);
    let mut request = get(&wire.url("/"));
    request.method = "GE T".into();
    assert_eq!(
        client.send_blocking(&request).unwrap_err().code(),
        ErrorCode::ValidationError
    );
    let mut request = get(&wire.url("/"));
    request
        .headers
        .push(("X-Bad".into(), "a\r\nInjected: 1".into()));
    assert_eq!(
        client.send_blocking(&request).unwrap_err().code(),
        ErrorCode::ValidationError
    );
    wire.assert_untouched();
}

#[test]
fn responses_keep_their_status_line_and_headers() {
    let server = Server::start("127.0.0.1", |_| {
        Reply::Send(response(503, &[("Retry-After", "7")], b"busy"))
    });
    let client = client_allowing(&["127.0.0.1"]);
    let response = client.send_blocking(&get(&server.url("/"))).unwrap();
    assert_eq!(response.status, 503);
    assert!(
        response
            .headers
            .contains(&("retry-after".into(), "7".into()))
    );
}
