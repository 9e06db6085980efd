//! Host names: resolved once, refused if any address is blocked, connected
//! only to the checked addresses.

use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use buttons_http::{Error, HttpClient, NetPolicy, Options};
use buttons_spec::ErrorCode;

use crate::{client_with_names, get, policy_allowing};
use buttons_http::test_support::{Server, Tripwire};

#[test]
fn localhost_is_blocked_at_dial_time() {
    let wire = Tripwire::bind("127.0.0.1");
    let client = HttpClient::new(Options::default());
    let url = format!("http://localhost:{}/", wire.addr().port());
    let err = client.send_blocking(&get(&url)).unwrap_err();
    let Error::BlockedName { host, blocked } = &err else {
        panic!("expected a resolver refusal, got {err}");
    };
    assert_eq!(host, "localhost");
    assert!(blocked.addr.is_loopback(), "{blocked}");
    assert_eq!(err.code(), ErrorCode::ScriptError);
    let message = err.to_string();
    for needle in [
        "localhost",
        "allow_private_networks: true",
        "BUTTONS_ALLOW_PRIVATE_NETWORKS=1",
    ] {
        assert!(message.contains(needle), "{needle} missing: {message}");
    }
    wire.assert_untouched();
}

#[test]
fn localhost_works_once_private_networks_are_allowed() {
    let server = Server::fixed("127.0.0.1", 200, &[], b"local");
    let client = HttpClient::new(Options {
        policy: NetPolicy::new().allow_private(true),
        ..Options::default()
    });
    let url = format!("http://localhost:{}/", server.addr().port());
    let response = client.send_blocking(&get(&url)).unwrap();
    assert_eq!(response.body, b"local");
}

#[test]
fn a_public_name_reaches_its_checked_address() {
    let server = Server::fixed("127.0.0.1", 200, &[], b"public");
    let client = client_with_names(&["127.0.0.1"], &[("public.test", &["127.0.0.1"])]);
    let url = format!("http://public.test:{}/p", server.addr().port());
    let response = client.send_blocking(&get(&url)).unwrap();
    assert_eq!(response.body, b"public");
    let host = format!("public.test:{}", server.addr().port());
    assert_eq!(server.requests()[0].header("host"), Some(host.as_str()));
}

#[test]
fn one_blocked_address_refuses_the_whole_name() {
    let wire = Tripwire::bind("127.0.0.1");
    let client = client_with_names(
        &["127.0.0.1"],
        &[("mixed.test", &["127.0.0.1", "127.0.0.2"])],
    );
    let url = format!("http://mixed.test:{}/", wire.addr().port());
    let err = client.send_blocking(&get(&url)).unwrap_err();
    let Error::BlockedName { host, blocked } = &err else {
        panic!("expected a resolver refusal, got {err}");
    };
    assert_eq!(host, "mixed.test");
    assert_eq!(blocked.addr, "127.0.0.2".parse::<IpAddr>().unwrap());
    wire.assert_untouched();
}

#[test]
fn the_next_checked_address_is_tried() {
    let server = Server::fixed("127.0.0.1", 200, &[], b"second");
    // Nothing listens on 127.0.0.3 at this port: the first connect is refused.
    let client = client_with_names(
        &["127.0.0.1", "127.0.0.3"],
        &[("two.test", &["127.0.0.3", "127.0.0.1"])],
    );
    let url = format!("http://two.test:{}/", server.addr().port());
    let response = client.send_blocking(&get(&url)).unwrap();
    assert_eq!(response.body, b"second");
}

#[test]
fn a_name_is_resolved_once_per_connection() {
    // A rebinding resolver: public-looking (allowed) first, loopback after.
    let server = Server::fixed("127.0.0.1", 200, &[], b"once");
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let lookup = move |_: &str| -> io::Result<Vec<IpAddr>> {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        Ok(vec![
            if n == 0 { "127.0.0.1" } else { "127.0.0.2" }
                .parse()
                .unwrap(),
        ])
    };
    let client = HttpClient::new(Options {
        policy: policy_allowing(&["127.0.0.1"]),
        allow_any_host: false,
        lookup: Arc::new(lookup),
    });
    let url = format!("http://rebind.test:{}/", server.addr().port());
    let response = client.send_blocking(&get(&url)).unwrap();
    assert_eq!(response.body, b"once");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn unknown_names_are_script_errors() {
    let client = client_with_names(&[], &[]);
    let err = client
        .send_blocking(&get("http://nowhere.test/"))
        .unwrap_err();
    assert!(matches!(err, Error::Resolve { .. }), "{err}");
    assert_eq!(err.code(), ErrorCode::ScriptError);
}
