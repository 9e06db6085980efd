//! HTTP requests for Buttons under a private-network guard and a host lock.
//!
//! This crate owns what an HTTP button's press sends and where it may go:
//! the [`NetPolicy`] of `private-networks.md` (every IANA not-globally-reachable
//! range, IPv6 forms judged by the IPv4 they carry), the checks on a URL before
//! anything is sent ([`check_url`], [`check_host_lock`]), a resolver that
//! refuses a name if any of its addresses is blocked and connects only to the
//! checked ones, redirects re-checked hop by hop, the response cap and the
//! press timeout ([`HttpClient`]). Rendering templates is `buttons-encode`'s
//! job, running presses and writing records `buttons-exec`'s.
//!
//! # Example
//!
//! ```
//! use buttons_http::{HttpClient, HttpRequest, NetPolicy, Options};
//! use buttons_spec::ErrorCode;
//!
//! let client = HttpClient::new(Options::default());
//! // The cloud metadata address, spelled as an IPv4-mapped IPv6 literal:
//! // refused before any socket exists.
//! let url = url::Url::parse("http://[::ffff:169.254.169.254]/latest/meta-data/")?;
//! let err = client.send_blocking(&HttpRequest::new("GET", url)).unwrap_err();
//! assert_eq!(err.code(), ErrorCode::ValidationError);
//!
//! assert!(NetPolicy::new().is_blocked("10.0.0.1".parse()?));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![warn(clippy::unwrap_used)]

mod client;
mod error;
mod guard;
mod policy;
mod press;
mod resolve;
#[cfg(feature = "test-support")]
pub mod test_support;
mod tls;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use client::{HttpClient, HttpRequest, HttpResponse, MAX_REDIRECTS, Options, USER_AGENT};
pub use error::Error;
pub use guard::{check_host_lock, check_url};
pub use policy::{Blocked, NetPolicy, Verdict, classify, embedded_ipv4};
pub use press::{fill_press_result, prepare};
pub use resolve::{Lookup, LookupFuture, SystemLookup};
