//! The checks every request passes before a handler sees it, in order:
//!
//! 1. `Host` (server bound to loopback): a loopback name or address with the
//!    server's port, else 421. A DNS-rebinding page reaches the server under
//!    its own name (`evil.example:PORT`) and is refused.
//! 2. `Origin`, when present: the server's own (`http://` + the accepted
//!    Host), else 403. Browsers send it on cross-site requests.
//! 3. The bearer key, when there is one (all `/api/` routes but
//!    `/api/health`): compared in constant time, else 401.
//! 4. A POST's `Content-Type` is `application/json`, else 415: a cross-site
//!    HTML form can only send `text/plain`, urlencoded or multipart bodies.
//!
//! Webhook routes (outside `/api/`) skip 3 and 4: each authenticates its
//! callers itself (see [`super::triggers`]).
//!
//! On a non-loopback bind (which needs a key) the server cannot know the
//! public name clients use, so `Host` is not checked there; the key and the
//! Origin check (against the request's own Host) still apply.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use subtle::ConstantTimeEq as _;

use super::api::ApiError;

/// What the guard needs to know about the server.
#[derive(Debug, Clone)]
pub(super) struct Guard {
    /// The bound address (its port is the one a Host must name).
    pub(super) addr: SocketAddr,
    /// The bearer key, if any.
    pub(super) key: Option<Arc<[u8]>>,
}

/// The middleware: runs the checks, then the handler.
pub(super) async fn check(
    State(guard): State<Arc<Guard>>,
    request: Request,
    next: Next,
) -> Response {
    match guard.refuse(request.method(), request.uri().path(), request.headers()) {
        Some(error) => error.into_response(),
        None => next.run(request).await,
    }
}

impl Guard {
    /// Why a request is refused, if it is.
    pub(super) fn refuse(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Option<ApiError> {
        let loopback = self.addr.ip().is_loopback();
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        if loopback && !host.is_some_and(|h| self.is_loopback_authority(h)) {
            return Some(ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                "MISDIRECTED_REQUEST",
                format!(
                    "the Host header {:?} does not name this server: use 127.0.0.1:{port}, localhost:{port} or [::1]:{port}",
                    host.unwrap_or(""),
                    port = self.addr.port()
                ),
            ));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let own = origin
                .to_str()
                .ok()
                .and_then(|o| o.strip_prefix("http://"))
                .is_some_and(|o| {
                    if loopback {
                        self.is_loopback_authority(o)
                    } else {
                        host.is_some_and(|h| h.eq_ignore_ascii_case(o))
                    }
                });
            if !own {
                return Some(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "FORBIDDEN_ORIGIN",
                    format!(
                        "requests from the origin {origin:?} are refused: only the server's own origin may call it"
                    ),
                ));
            }
        }
        // Webhook routes (outside /api/) authenticate their callers
        // themselves, and may take any body type.
        let api = path == "/api" || path.starts_with("/api/");
        if let Some(key) = &self.key
            && api
            && path != "/api/health"
        {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            if !given.is_some_and(|g| key_matches(key, g.as_bytes())) {
                return Some(
                    ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "UNAUTHORIZED",
                        if given.is_some() {
                            "the API key is wrong"
                        } else {
                            "this server needs an API key"
                        },
                    )
                    .hint("send the header `Authorization: Bearer KEY`"),
                );
            }
        }
        if api && method == Method::POST && !is_json(headers) {
            return Some(
                ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UNSUPPORTED_MEDIA_TYPE",
                    "a POST must have `Content-Type: application/json`",
                )
                .hint("send the body as JSON with `Content-Type: application/json`"),
            );
        }
        None
    }

    /// `authority` is `localhost`, `127.x.y.z` or `[::1]` with the server's
    /// port (the port may be left out only when it is 80).
    fn is_loopback_authority(&self, authority: &str) -> bool {
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && !p.contains(']') => (h, Some(p)),
            _ => (authority, None),
        };
        let port_ok = match port {
            Some(p) => p.parse::<u16>().ok() == Some(self.addr.port()),
            None => self.addr.port() == 80,
        };
        let host_ok = host.eq_ignore_ascii_case("localhost")
            || host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host)
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        port_ok && host_ok
    }
}

/// The `Content-Type` is `application/json` (parameters allowed).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// Compares a presented key with the real one in constant time: the time
/// depends only on the presented key's length, never on the real key's
/// bytes or length.
pub(super) fn key_matches(key: &[u8], given: &[u8]) -> bool {
    if key.is_empty() {
        return false;
    }
    // Compare `given` with the key repeated to its length, and the lengths
    // separately: both comparisons run in constant time.
    let expected: Vec<u8> = (0..given.len()).map(|i| key[i % key.len()]).collect();
    let same_bytes = given.ct_eq(&expected);
    let same_len = (given.len() as u64).ct_eq(&(key.len() as u64));
    (same_bytes & same_len).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_only_exactly() {
        assert!(key_matches(b"s3cret", b"s3cret"));
        assert!(!key_matches(b"s3cret", b"s3cre"));
        assert!(!key_matches(b"s3cret", b"s3crets3cret"));
        assert!(!key_matches(b"s3cret", b"s3cres"));
        assert!(!key_matches(b"s3cret", b""));
        assert!(!key_matches(b"", b""));
    }

    #[test]
    fn loopback_authorities() {
        let guard = Guard {
            addr: "127.0.0.1:8080".parse().unwrap(),
            key: None,
        };
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST:8080",
            "[::1]:8080",
            "127.1.2.3:8080",
        ] {
            assert!(guard.is_loopback_authority(ok), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "127.0.0.1:8081",
            "127.0.0.1",
            "localhost",
            "[::1]",
            "10.0.0.1:8080",
            "localhost.evil.example:8080",
            "",
        ] {
            assert!(!guard.is_loopback_authority(bad), "{bad}");
        }
    }
}
