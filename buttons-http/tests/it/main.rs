//! Integration tests of buttons-http against real HTTP servers on loopback.
//!
//! Every server binds inside 127.0.0.0/8. Addresses outside it appear only
//! as URLs that must be refused before any socket exists.

mod button;
mod exchange;
mod names;
mod proxy;
mod redirects;
mod vectors;

use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use buttons_http::{HttpClient, HttpRequest, NetPolicy, Options};

/// A client whose policy is opened for exactly these addresses.
pub(crate) fn client_allowing(ips: &[&str]) -> HttpClient {
    HttpClient::new(Options {
        policy: policy_allowing(ips),
        ..Options::default()
    })
}

pub(crate) fn policy_allowing(ips: &[&str]) -> NetPolicy {
    ips.iter().fold(NetPolicy::new(), |policy, ip| {
        policy.allow(ip.parse::<IpAddr>().unwrap())
    })
}

/// A client with an injected resolver: `table` maps names to addresses.
pub(crate) fn client_with_names(
    ips: &[&str],
    table: &'static [(&'static str, &'static [&'static str])],
) -> HttpClient {
    let lookup = move |host: &str| -> io::Result<Vec<IpAddr>> {
        table
            .iter()
            .find(|(name, _)| *name == host)
            .map(|(_, addrs)| addrs.iter().map(|a| a.parse().unwrap()).collect())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "unknown test name"))
    };
    HttpClient::new(Options {
        policy: policy_allowing(ips),
        allow_any_host: false,
        lookup: Arc::new(lookup),
    })
}

/// A GET locked to the URL's own host, with a short timeout.
pub(crate) fn get(url: &str) -> HttpRequest {
    let mut request = HttpRequest::new("GET", url::Url::parse(url).unwrap());
    request.timeout = Duration::from_secs(10);
    request
}
