//! The crate's error type.

use std::error::Error as StdError;
use std::time::Duration;

use buttons_spec::ErrorCode;

use crate::policy::Blocked;

/// How a user opts in to private networks; named by every refusal.
pub(crate) const PRIVATE_OPT_IN: &str = "to allow private networks, set `allow_private_networks: true` on the button (`buttons create --allow-private-networks`) or press with BUTTONS_ALLOW_PRIVATE_NETWORKS=1";

/// Everything that can go wrong while checking or sending a guarded request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL's scheme is not `http` or `https`.
    #[error("refused {url:?}: only http and https URLs are allowed")]
    Scheme {
        /// The URL.
        url: String,
    },
    /// The URL carries `user:pass@`.
    #[error("refused {url:?}: credentials in the URL (user:pass@) are not allowed")]
    Userinfo {
        /// The URL, as given.
        url: String,
    },
    /// The URL has no host.
    #[error("refused {url:?}: the URL has no host")]
    NoHost {
        /// The URL.
        url: String,
    },
    /// The URL's host is a literal IP address the policy blocks.
    #[error(
        "refused {url:?}: {blocked} is a private-network address, blocked before any connection; {PRIVATE_OPT_IN}"
    )]
    BlockedAddress {
        /// The URL.
        url: String,
        /// The address and why it is blocked.
        blocked: Blocked,
    },
    /// A host name resolves to at least one address the policy blocks.
    #[error(
        "refused {host}: it resolves to {blocked}, a private-network address; {PRIVATE_OPT_IN}"
    )]
    BlockedName {
        /// The host name.
        host: String,
        /// The first blocked address and why it is blocked.
        blocked: Blocked,
    },
    /// A host name did not resolve.
    #[error("could not resolve {host}: {reason}")]
    Resolve {
        /// The host name.
        host: String,
        /// What the resolver said.
        reason: String,
    },
    /// The URL's host is not the button's locked host.
    #[error("refused {url:?}: its host {host} is not the button's locked host {allowed_host}")]
    HostLock {
        /// The URL.
        url: String,
        /// The URL's `host[:port]`.
        host: String,
        /// The locked `host[:port]`.
        allowed_host: String,
    },
    /// The request has no `allowed_host`: a spec built in memory without
    /// [`Button::http`](buttons_spec::Button::http), or a `button.json`
    /// written without one by an older version.
    #[error(
        "the button has no allowed_host, so its host cannot be locked: set `allowed_host` on the button (`Button::http` derives it from the URL)"
    )]
    MissingAllowedHost,
    /// `allowed_host` is `*` but any-host requests were not enabled for the press.
    #[error(
        "the button allows any host (allowed_host \"*\"), which needs BUTTONS_ALLOW_ANY_HOST=1"
    )]
    AnyHostNotEnabled,
    /// `allowed_host` is not a `host[:port]`.
    #[error("invalid allowed_host {allowed_host:?}")]
    InvalidAllowedHost {
        /// The value found.
        allowed_host: String,
    },
    /// A URL could not be parsed.
    #[error("invalid URL {url:?}: {source}")]
    Url {
        /// The URL as given.
        url: String,
        /// The parser's complaint.
        #[source]
        source: url::ParseError,
    },
    /// The HTTP method is not a valid token.
    #[error("invalid HTTP method {method:?}")]
    Method {
        /// The method as given.
        method: String,
    },
    /// A header name or value cannot be sent.
    #[error("invalid header {name:?}: {reason}")]
    Header {
        /// The header's name.
        name: String,
        /// Why it cannot be sent.
        reason: &'static str,
    },
    /// A redirect hop failed a check; `cause` says which.
    #[error("refused the redirect to {location:?}: {cause}")]
    Redirect {
        /// The resolved `Location` of the hop.
        location: String,
        /// The check that failed.
        cause: Box<Error>,
    },
    /// A redirect leaves the locked host under `follow_redirects: same-host`.
    #[error("refused the redirect to {location:?}: it leaves the locked host {allowed_host}")]
    RedirectOffHost {
        /// The resolved `Location` of the hop.
        location: String,
        /// The locked `host[:port]`.
        allowed_host: String,
    },
    /// A redirect's `Location` is missing or not a URL.
    #[error("invalid redirect location {location:?} from {url}")]
    Location {
        /// The `Location` header as received (lossy UTF-8).
        location: String,
        /// The URL that answered with it.
        url: String,
    },
    /// More redirects than allowed.
    #[error("stopped after {max} redirects (the next was to {location:?})")]
    TooManyRedirects {
        /// The redirect limit.
        max: usize,
        /// Where the next hop would have gone.
        location: String,
    },
    /// The request failed in transport (connection refused, reset, TLS...).
    #[error("could not complete the request to {url}: {detail}")]
    Transport {
        /// The URL of the hop that failed.
        url: String,
        /// The innermost cause, for humans.
        detail: String,
        /// reqwest's error.
        #[source]
        source: reqwest::Error,
    },
    /// The press timeout ran out (it covers connect, headers and body).
    #[error("no complete response within {} s", .timeout.as_secs_f64())]
    Timeout {
        /// The timeout.
        timeout: Duration,
    },
    /// The HTTPS configuration (the platform's root certificates) could not be loaded.
    #[error("could not load the system's root certificates for https: {reason}")]
    Tls {
        /// What went wrong.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("could not build the HTTP client")]
    Client(#[source] reqwest::Error),
    /// The runtime of the blocking API could not be started.
    #[error("could not start the HTTP runtime")]
    Runtime(#[source] std::io::Error),
    /// The button's URL or body template could not be parsed or rendered.
    #[error(transparent)]
    Template(#[from] buttons_encode::Error),
}

impl Error {
    /// The stable code: `VALIDATION_ERROR` for a request refused before
    /// anything is sent, `SCRIPT_ERROR` for refusals at resolution or on a
    /// redirect and for transport failures, `TIMEOUT` for the timeout.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Scheme { .. }
            | Self::Userinfo { .. }
            | Self::NoHost { .. }
            | Self::BlockedAddress { .. }
            | Self::HostLock { .. }
            | Self::MissingAllowedHost
            | Self::AnyHostNotEnabled
            | Self::InvalidAllowedHost { .. }
            | Self::Url { .. }
            | Self::Method { .. }
            | Self::Header { .. } => ErrorCode::ValidationError,
            Self::BlockedName { .. }
            | Self::Resolve { .. }
            | Self::Redirect { .. }
            | Self::RedirectOffHost { .. }
            | Self::Location { .. }
            | Self::TooManyRedirects { .. }
            | Self::Transport { .. }
            | Self::Tls { .. } => ErrorCode::ScriptError,
            Self::Timeout { .. } => ErrorCode::Timeout,
            Self::Client(_) | Self::Runtime(_) => ErrorCode::InternalError,
            Self::Template(e) => e.code(),
        }
    }

    /// A sentence naming the fix, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::BlockedAddress { .. } | Self::BlockedName { .. } => Some(
                "if this button is meant to reach your own machine or network, set `allow_private_networks: true` on the button (`buttons create --allow-private-networks`) or press with BUTTONS_ALLOW_PRIVATE_NETWORKS=1"
                    .to_owned(),
            ),
            Self::Scheme { .. } | Self::Userinfo { .. } | Self::NoHost { .. } => Some(
                "use an http:// or https:// URL with a host; pass credentials in a header".to_owned(),
            ),
            Self::HostLock { allowed_host, .. } => Some(format!(
                "the button may only send requests to {allowed_host}; re-create it to change the host"
            )),
            Self::MissingAllowedHost => Some(
                "set `allowed_host` to the URL's literal host[:port] (e.g. \"allowed_host\": \"api.example.com\" in button.json), or re-create the button with `buttons create NAME --url URL`, which derives it"
                    .to_owned(),
            ),
            Self::InvalidAllowedHost { .. } => Some(
                "set `allowed_host` to the URL's literal host[:port] (e.g. \"allowed_host\": \"api.example.com\" in button.json), or to \"*\" for any host"
                    .to_owned(),
            ),
            Self::AnyHostNotEnabled => {
                Some("press with BUTTONS_ALLOW_ANY_HOST=1 to allow any host".to_owned())
            }
            Self::RedirectOffHost { .. } => Some(
                "set \"follow_redirects\": \"any\" in button.json to follow redirects to other hosts, or \"none\" to get the redirect itself"
                    .to_owned(),
            ),
            Self::Redirect { cause, .. } => cause.hint(),
            Self::TooManyRedirects { .. } => Some(
                "set \"follow_redirects\": \"none\" in button.json to get the redirect itself"
                    .to_owned(),
            ),
            Self::Timeout { .. } => Some("raise the button's timeout (--timeout)".to_owned()),
            Self::Tls { .. } => Some(
                "install the system's CA certificates (e.g. the ca-certificates package)".to_owned(),
            ),
            Self::Template(e) => e.hint(),
            Self::Resolve { .. }
            | Self::Url { .. }
            | Self::Method { .. }
            | Self::Header { .. }
            | Self::Location { .. }
            | Self::Transport { .. }
            | Self::Client(_)
            | Self::Runtime(_) => None,
        }
    }

    pub(crate) fn transport(url: &url::Url, source: reqwest::Error) -> Self {
        let mut detail = source.to_string();
        let mut cause: Option<&dyn StdError> = source.source();
        while let Some(inner) = cause {
            detail = inner.to_string();
            cause = inner.source();
        }
        Self::Transport {
            url: url.to_string(),
            detail,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_both_opt_ins() {
        let blocked = Blocked {
            addr: "127.0.0.1".parse().unwrap(),
            reason: "loopback",
        };
        let err = Error::BlockedName {
            host: "localhost".into(),
            blocked,
        };
        let msg = err.to_string();
        for needle in [
            "localhost",
            "127.0.0.1",
            "allow_private_networks: true",
            "--allow-private-networks",
            "BUTTONS_ALLOW_PRIVATE_NETWORKS=1",
        ] {
            assert!(msg.contains(needle), "{needle} missing from {msg}");
        }
        assert_eq!(err.code(), ErrorCode::ScriptError);
        let literal = Error::BlockedAddress {
            url: "http://127.0.0.1/".into(),
            blocked,
        };
        assert_eq!(literal.code(), ErrorCode::ValidationError);
        assert!(
            literal
                .to_string()
                .contains("BUTTONS_ALLOW_PRIVATE_NETWORKS=1")
        );
    }
}
