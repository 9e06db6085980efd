//! Redirects: every hop re-checked (policy, resolver, host lock), credentials
//! dropped across origins, method rules, the hop limit.

use buttons_http::{Error, MAX_REDIRECTS};
use buttons_spec::{ErrorCode, FollowRedirects};

use crate::{client_allowing, client_with_names, get};
use buttons_http::test_support::{Reply, Server, Tripwire, redirect, response};

#[test]
fn redirect_from_an_allowed_host_to_a_blocked_one_is_refused() {
    let target = Tripwire::bind("127.0.0.2");
    let port = target.addr().port();
    for location in [
        format!("http://127.0.0.2:{port}/"),
        format!("//127.0.0.2:{port}/"),
        format!("/\\127.0.0.2:{port}/"),
        format!("http://[::ffff:127.0.0.2]:{port}/"),
        format!("http://2130706434:{port}/"),
    ] {
        let redirect_to = location.clone();
        let allowed = Server::start("127.0.0.1", move |_| {
            Reply::Send(redirect(302, &redirect_to))
        });
        let client = client_allowing(&["127.0.0.1"]);
        let mut request = get(&allowed.url("/start"));
        request.follow_redirects = FollowRedirects::Any;
        let err = client.send_blocking(&request).unwrap_err();
        let Error::Redirect { cause, .. } = &err else {
            panic!("{location}: expected a refused redirect, got {err}");
        };
        assert!(
            matches!(**cause, Error::BlockedAddress { .. }),
            "{location}: {cause}"
        );
        assert_eq!(err.code(), ErrorCode::ScriptError, "{location}");
        assert_eq!(allowed.requests().len(), 1);
    }
    target.assert_untouched();
}

#[test]
fn redirect_to_a_name_resolving_to_a_blocked_address_is_refused() {
    let target = Tripwire::bind("127.0.0.2");
    let location = format!("http://internal.test:{}/", target.addr().port());
    let allowed = Server::start("127.0.0.1", move |_| Reply::Send(redirect(301, &location)));
    let client = client_with_names(&["127.0.0.1"], &[("internal.test", &["127.0.0.2"])]);
    let mut request = get(&allowed.url("/"));
    request.follow_redirects = FollowRedirects::Any;
    let err = client.send_blocking(&request).unwrap_err();
    assert!(matches!(err, Error::BlockedName { .. }), "{err}");
    assert_eq!(err.code(), ErrorCode::ScriptError);
    target.assert_untouched();
}

#[test]
fn same_host_refuses_a_redirect_to_another_host() {
    let other = Tripwire::bind("127.0.0.2");
    let location = other.url("/elsewhere");
    let expected = location.clone();
    let origin = Server::start("127.0.0.1", move |_| Reply::Send(redirect(302, &location)));
    // Both addresses are open: only the host lock can refuse this hop.
    let client = client_allowing(&["127.0.0.1", "127.0.0.2"]);
    let request = get(&origin.url("/"));
    assert_eq!(request.follow_redirects, FollowRedirects::SameHost);
    let err = client.send_blocking(&request).unwrap_err();
    let Error::RedirectOffHost { location, .. } = &err else {
        panic!("expected an off-host refusal, got {err}");
    };
    assert_eq!(location, &expected);
    assert!(err.to_string().contains(&expected), "{err}");
    assert_eq!(err.code(), ErrorCode::ScriptError);
    other.assert_untouched();
}

#[test]
fn same_host_redirects_are_followed() {
    let server = Server::start("127.0.0.1", |req| {
        Reply::Send(match req.target() {
            "/a" => redirect(302, "/b?x=1"),
            _ => response(200, &[], b"at b"),
        })
    });
    let client = client_allowing(&["127.0.0.1"]);
    let mut request = get(&server.url("/a"));
    request
        .headers
        .push(("Authorization".into(), "Bearer same-origin".into()));
    let response = client.send_blocking(&request).unwrap();
    assert_eq!(response.body, b"at b");
    assert_eq!(
        response.redirects,
        [url::Url::parse(&server.url("/b?x=1")).unwrap()]
    );
    assert_eq!(response.final_url.as_str(), server.url("/b?x=1"));
    let second = &server.requests()[1];
    assert_eq!(second.header("authorization"), Some("Bearer same-origin"));
}

#[test]
fn follow_none_returns_the_redirect() {
    let other = Tripwire::bind("127.0.0.1");
    let location = other.url("/");
    let origin = Server::start("127.0.0.1", move |_| Reply::Send(redirect(302, &location)));
    let client = client_allowing(&["127.0.0.1"]);
    let mut request = get(&origin.url("/"));
    request.follow_redirects = FollowRedirects::None;
    let response = client.send_blocking(&request).unwrap();
    assert_eq!(response.status, 302);
    assert!(response.is_success());
    assert!(response.redirects.is_empty());
    assert!(
        response
            .headers
            .iter()
            .any(|(n, v)| n == "location" && v == &other.url("/"))
    );
    other.assert_untouched();
}

fn credential_request(url: &str) -> buttons_http::HttpRequest {
    let mut request = get(url);
    request.follow_redirects = FollowRedirects::Any;
    request.headers = vec![
        ("Authorization".into(), "Bearer secret-token".into()),
        ("Cookie".into(), "session=secret".into()),
        ("Proxy-Authorization".into(), "Basic c2VjcmV0".into()),
        ("X-Keep".into(), "kept".into()),
    ];
    request
}

#[test]
fn credentials_are_dropped_when_the_origin_changes() {
    let target = Server::fixed("127.0.0.2", 200, &[], b"landed");
    // Another address, and the same address on another port: both are new origins.
    let same_ip_other_port = Server::fixed("127.0.0.1", 200, &[], b"landed");
    for target in [&target, &same_ip_other_port] {
        let location = target.url("/landing");
        let origin = Server::start("127.0.0.1", move |_| Reply::Send(redirect(307, &location)));
        let client = client_allowing(&["127.0.0.1", "127.0.0.2"]);
        let response = client
            .send_blocking(&credential_request(&origin.url("/")))
            .unwrap();
        assert_eq!(response.body, b"landed");
        let first = &origin.requests()[0];
        assert_eq!(first.header("authorization"), Some("Bearer secret-token"));
        let landed = target.requests().pop().unwrap();
        for secret in ["authorization", "cookie", "proxy-authorization"] {
            assert_eq!(landed.header(secret), None, "{secret} crossed origins");
        }
        assert_eq!(landed.header("x-keep"), Some("kept"));
    }
}

#[test]
fn see_other_turns_post_into_get_and_307_keeps_the_body() {
    let server = Server::start("127.0.0.1", |req| {
        Reply::Send(match req.target() {
            "/303" => redirect(303, "/after"),
            "/302" => redirect(302, "/after"),
            "/307" => redirect(307, "/after"),
            "/308" => redirect(308, "/after"),
            _ => response(200, &[], b"done"),
        })
    });
    let client = client_allowing(&["127.0.0.1"]);
    for (path, method, body) in [
        ("/303", "GET", &b""[..]),
        ("/302", "GET", b""),
        ("/307", "POST", b"payload"),
        ("/308", "POST", b"payload"),
    ] {
        let mut request = get(&server.url(path));
        request.method = "POST".into();
        request
            .headers
            .push(("Content-Type".into(), "text/plain".into()));
        request.body = Some(b"payload".to_vec());
        client.send_blocking(&request).unwrap();
        let after = server.requests().pop().unwrap();
        assert_eq!(after.target(), "/after");
        assert_eq!(after.method(), method, "{path}");
        assert_eq!(after.body, body, "{path}");
        assert_eq!(
            after.header("content-type").is_some(),
            method == "POST",
            "{path}"
        );
    }
}

#[test]
fn at_most_ten_redirects() {
    let server = Server::start("127.0.0.1", |req| {
        let n: usize = req.target().trim_start_matches('/').parse().unwrap_or(0);
        Reply::Send(redirect(302, &format!("/{}", n + 1)))
    });
    let client = client_allowing(&["127.0.0.1"]);
    let err = client.send_blocking(&get(&server.url("/0"))).unwrap_err();
    assert!(matches!(err, Error::TooManyRedirects { .. }), "{err}");
    assert_eq!(err.code(), ErrorCode::ScriptError);
    assert_eq!(server.requests().len(), MAX_REDIRECTS + 1);
}

#[test]
fn redirect_to_another_scheme_is_refused() {
    for location in [
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/",
        "ftp://8.8.8.8/",
    ] {
        let target = location.to_owned();
        let server = Server::start("127.0.0.1", move |_| Reply::Send(redirect(302, &target)));
        let client = client_allowing(&["127.0.0.1"]);
        let mut request = get(&server.url("/"));
        request.follow_redirects = FollowRedirects::Any;
        let err = client.send_blocking(&request).unwrap_err();
        let Error::Redirect { cause, .. } = &err else {
            panic!("{location}: expected a refused redirect, got {err}");
        };
        assert!(
            matches!(**cause, Error::Scheme { .. }),
            "{location}: {cause}"
        );
    }
}

#[test]
fn allowed_host_star_follows_any_host() {
    let target = Server::fixed("127.0.0.2", 200, &[], b"any");
    let location = target.url("/");
    let origin = Server::start("127.0.0.1", move |_| Reply::Send(redirect(302, &location)));
    let client = buttons_http::HttpClient::new(buttons_http::Options {
        allow_any_host: true,
        ..client_allowing(&["127.0.0.1", "127.0.0.2"])
            .options()
            .clone()
    });
    let mut request = get(&origin.url("/"));
    request.allowed_host = "*".into();
    let response = client.send_blocking(&request).unwrap();
    assert_eq!(response.body, b"any");
}
