//! Fuzzes the first-hop and redirect checks of buttons-http on URLs after
//! rendering.
//!
//! The input is used three ways: as a whole URL, as a redirect `Location`
//! joined to a public base, and as an argument value rendered into the path
//! and query of a host-locked template. Invariants: no panic; a URL whose
//! host is an IP literal that the built-in table blocks (by the parsed host,
//! or by re-reading the serialised host independently) is never allowed; an
//! allowed URL is http(s) without userinfo; a rendered template stays on its
//! locked host and passes the check.
#![no_main]

use std::net::IpAddr;

use buttons_encode::UrlTemplate;
use buttons_http::{NetPolicy, check_host_lock, check_url, classify};
use buttons_spec::{ArgDef, Args};
use libfuzzer_sys::fuzz_target;
use url::{Host, Url};

fn assert_guarded(url: &Url, policy: &NetPolicy) {
    let verdict = check_url(url, policy);
    let literal: Option<IpAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => Some(ip.into()),
        Some(Host::Ipv6(ip)) => Some(ip.into()),
        _ => None,
    };
    if let Some(ip) = literal {
        if classify(ip).is_block() {
            assert!(verdict.is_err(), "blocked literal {ip} allowed in {url}");
        }
    }
    if verdict.is_ok() {
        assert!(matches!(url.scheme(), "http" | "https"), "{url}");
        assert!(
            url.username().is_empty() && url.password().is_none(),
            "{url}"
        );
        // Re-read the serialised host the way a naive guard would: it must
        // not name a blocked address the check let through.
        let host = url.host_str().expect("an allowed URL has a host");
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            assert!(!classify(ip).is_block(), "{host} allowed in {url}");
        }
        // And the parser agrees with itself after a round trip.
        let again = Url::parse(url.as_str()).expect("a serialised URL parses");
        assert_eq!(again.host(), url.host(), "{url}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let policy = NetPolicy::new();
    if let Ok(url) = Url::parse(input) {
        assert_guarded(&url, &policy);
    }
    let base = Url::parse("http://8.8.8.8/a/b?c").expect("base");
    if let Ok(next) = base.join(input) {
        assert_guarded(&next, &policy);
    }

    let declared = [
        ArgDef::parse("p:string:optional").expect("def"),
        ArgDef::parse("q:string:optional").expect("def"),
    ];
    let template = UrlTemplate::parse("http://8.8.8.8:8080/x/{{p}}?q={{q}}#{{p}}", &declared)
        .expect("template");
    let Ok(args) = Args::validate(&declared, [("p", input), ("q", input)]) else {
        return;
    };
    let Ok(rendered) = template.render(&args) else {
        return;
    };
    let url = Url::parse(&rendered).expect("a rendered template parses");
    assert!(check_url(&url, &policy).is_ok(), "{rendered}");
    assert!(
        check_host_lock(&url, "8.8.8.8:8080", false).is_ok(),
        "{rendered}"
    );
});
