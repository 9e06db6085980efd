//! Webhook authentication and payloads, for any front end that serves
//! button or drawer webhooks.
//!
//! - [`check_button_token`]: a button webhook's token, only from the
//!   `X-Buttons-Token` header (a `?token=` query is refused), compared in
//!   constant time.
//! - [`Authenticator`]: a drawer webhook's `none`, `basic`, `header` or
//!   `jwt` auth, its secrets resolved once ([`resolve_secret`]). It fails
//!   closed: a secret that resolves empty makes every request
//!   [`AuthFailure::Misconfigured`].
//! - [`webhook_payload`]: the `{body, headers, query, method, path,
//!   received_at}` value a drawer press gets as `inputs.webhook`, with
//!   credentials redacted.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use buttons_spec::{AuthKind, Batteries, SecretRef, Timestamp, WebhookAuth};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq as _;

/// The largest webhook body: 8 MiB. A larger one is refused (413), never cut.
pub const MAX_WEBHOOK_BODY: usize = 8 * 1024 * 1024;
/// What redacted header values read in a payload.
pub const REDACTED_HEADER: &str = "[redacted]";
/// The clock skew a JWT's `exp` and `nbf` are allowed, in seconds.
pub const JWT_LEEWAY_SECS: u64 = 30;
/// Headers always redacted in a payload.
const ALWAYS_REDACTED: &[&str] = &[
    "authorization",
    "cookie",
    "proxy-authorization",
    "x-buttons-token",
];

/// Request headers as `(name, value)` pairs; names compare without regard
/// to case.
pub type Headers = [(String, String)];

fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Why a webhook request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthFailure {
    /// The route's secret resolves to nothing: nobody is let in (500
    /// `AUTH_MISCONFIGURED`).
    Misconfigured(String),
    /// Missing or wrong credentials (401 `UNAUTHORIZED`).
    Unauthorized(String),
    /// Credentials in the query string (400 `VALIDATION_ERROR`).
    TokenInQuery,
}

impl AuthFailure {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Misconfigured(_) => 500,
            Self::Unauthorized(_) => 401,
            Self::TokenInQuery => 400,
        }
    }

    /// The error code to answer with.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Misconfigured(_) => "AUTH_MISCONFIGURED",
            Self::Unauthorized(_) => "UNAUTHORIZED",
            Self::TokenInQuery => "VALIDATION_ERROR",
        }
    }

    /// The fix, in API terms.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::Misconfigured(_) => {
                "set the secret the webhook names (its $ENV{…} variable or battery) and restart the server"
            }
            Self::Unauthorized(_) => "send the credentials the webhook was set up with",
            Self::TokenInQuery => "send the token in the X-Buttons-Token header, not in the URL",
        }
    }
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Misconfigured(why) => write!(f, "this webhook is misconfigured: {why}"),
            Self::Unauthorized(why) => f.write_str(why),
            Self::TokenInQuery => f.write_str(
                "a token in the query string is refused: URLs end up in logs and browser history",
            ),
        }
    }
}

/// Compares a presented secret with the real one in constant time (the
/// time depends only on the presented secret's length). An empty real
/// secret matches nothing.
pub fn secret_matches(expected: &[u8], given: &[u8]) -> bool {
    if expected.is_empty() {
        return false;
    }
    let padded: Vec<u8> = (0..given.len())
        .map(|i| expected[i % expected.len()])
        .collect();
    let same_bytes = given.ct_eq(&padded);
    let same_len = (given.len() as u64).ct_eq(&(expected.len() as u64));
    (same_bytes & same_len).into()
}

/// A fresh secret: 32 bytes from the system's random source, as 64
/// lowercase hex digits (webhook tokens, drawer webhook header values).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the system's random source works");
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `query` (the raw query string) names a `token` parameter.
fn has_token_param(query: &str) -> bool {
    url::form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k.eq_ignore_ascii_case("token"))
}

/// Checks a button webhook call: `expected` is the trigger's token (`None`
/// only for a trigger added with `--no-auth`).
///
/// # Security
///
/// A `token` query parameter is refused whatever its value, so a token
/// never has to travel in a URL; the header's value is compared in constant
/// time; an empty expected token lets nobody in.
pub fn check_button_token(
    expected: Option<&str>,
    headers: &Headers,
    query: &str,
) -> Result<(), AuthFailure> {
    if has_token_param(query) {
        return Err(AuthFailure::TokenInQuery);
    }
    let Some(expected) = expected else {
        return Ok(());
    };
    match header(headers, buttons_spec::TOKEN_HEADER) {
        Some(given) if secret_matches(expected.as_bytes(), given.trim().as_bytes()) => Ok(()),
        Some(_) => Err(AuthFailure::Unauthorized(
            "the X-Buttons-Token is wrong".to_owned(),
        )),
        None => Err(AuthFailure::Unauthorized(
            "this webhook needs the X-Buttons-Token header".to_owned(),
        )),
    }
}

/// Resolves a secret field: `$ENV{VAR}` from `env`, `$BATTERY{KEY}` from
/// `batteries`, anything else as written. Unset references resolve empty.
pub fn resolve_secret(raw: &str, env: &BTreeMap<String, String>, batteries: &Batteries) -> String {
    match SecretRef::parse(raw) {
        SecretRef::Literal(s) => s,
        SecretRef::Env(var) => env.get(&var).cloned().unwrap_or_default(),
        SecretRef::Battery(key) => batteries.get(&key).map(str::to_owned).unwrap_or_default(),
    }
}

enum Resolved {
    None,
    Basic {
        user: String,
        pass: String,
    },
    Header {
        name: String,
        value: String,
    },
    Jwt {
        key: DecodingKey,
        validation: Box<Validation>,
    },
    Misconfigured(String),
}

/// A drawer webhook's authentication with its secrets resolved.
///
/// `Debug` shows only the kind.
pub struct Authenticator {
    resolved: Resolved,
    header_name: Option<String>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.resolved {
            Resolved::None => "none",
            Resolved::Basic { .. } => "basic",
            Resolved::Header { .. } => "header",
            Resolved::Jwt { .. } => "jwt",
            Resolved::Misconfigured(_) => "misconfigured",
        };
        f.debug_struct("Authenticator")
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Resolves `auth`'s secrets. A misconfiguration (an unknown type, a
    /// secret that resolves empty, an unknown algorithm) is kept and
    /// reported by every [`check`](Self::check).
    pub fn new(auth: &WebhookAuth, env: &BTreeMap<String, String>, batteries: &Batteries) -> Self {
        let secret = |field: &Option<String>| {
            field
                .as_deref()
                .map(|raw| resolve_secret(raw, env, batteries))
                .unwrap_or_default()
        };
        let misconfigured = |why: &str| Resolved::Misconfigured(why.to_owned());
        let resolved = match auth.kind() {
            None => misconfigured("its auth type is not none, basic, header or jwt"),
            Some(AuthKind::None) => Resolved::None,
            Some(AuthKind::Basic) => {
                let (user, pass) = (secret(&auth.user), secret(&auth.pass));
                if user.is_empty() || pass.is_empty() {
                    misconfigured("its basic user or password resolves empty")
                } else {
                    Resolved::Basic { user, pass }
                }
            }
            Some(AuthKind::Header) => {
                let name = auth.header_name.clone().unwrap_or_default();
                let value = secret(&auth.header_value);
                if name.trim().is_empty() || value.is_empty() {
                    misconfigured("its header name or value resolves empty")
                } else {
                    Resolved::Header { name, value }
                }
            }
            Some(AuthKind::Jwt) => {
                let key = secret(&auth.jwt_secret);
                let algorithm = match auth.jwt_algorithm.as_deref().unwrap_or("HS256") {
                    "HS256" => Some(Algorithm::HS256),
                    "HS384" => Some(Algorithm::HS384),
                    "HS512" => Some(Algorithm::HS512),
                    _ => None,
                };
                match algorithm {
                    _ if key.is_empty() => misconfigured("its JWT secret resolves empty"),
                    None => misconfigured("its JWT algorithm is not HS256, HS384 or HS512"),
                    Some(alg) => {
                        let mut validation = Validation::new(alg);
                        validation.leeway = JWT_LEEWAY_SECS;
                        validation.validate_exp = true;
                        validation.validate_nbf = true;
                        validation.set_required_spec_claims(&["exp"]);
                        match auth.jwt_issuer.as_deref().filter(|s| !s.is_empty()) {
                            Some(iss) => validation.set_issuer(&[iss]),
                            None => validation.iss = None,
                        }
                        match auth.jwt_audience.as_deref().filter(|s| !s.is_empty()) {
                            Some(aud) => validation.set_audience(&[aud]),
                            None => validation.validate_aud = false,
                        }
                        Resolved::Jwt {
                            key: DecodingKey::from_secret(key.as_bytes()),
                            validation: Box::new(validation),
                        }
                    }
                }
            }
        };
        let header_name = (auth.kind() == Some(AuthKind::Header))
            .then(|| auth.header_name.clone())
            .flatten();
        Self {
            resolved,
            header_name,
        }
    }

    /// The configured auth header's name, redacted in payloads too.
    pub fn auth_header(&self) -> Option<&str> {
        self.header_name.as_deref()
    }

    /// Checks one request's headers (and query: credentials there are
    /// refused).
    ///
    /// # Security
    ///
    /// Fails closed: a misconfigured route refuses everyone, before looking
    /// at the request. Shared secrets are compared in constant time; a JWT
    /// must carry `exp`, and `exp`/`nbf` (30 s of skew), `iss` and `aud`
    /// (when configured) and the algorithm (exactly the configured one)
    /// are checked.
    pub fn check(&self, headers: &Headers, query: &str) -> Result<(), AuthFailure> {
        if let Resolved::Misconfigured(why) = &self.resolved {
            return Err(AuthFailure::Misconfigured(why.clone()));
        }
        if has_token_param(query) {
            return Err(AuthFailure::TokenInQuery);
        }
        let unauthorized = |why: &str| Err(AuthFailure::Unauthorized(why.to_owned()));
        let authorization = header(headers, "authorization").map(str::trim);
        match &self.resolved {
            Resolved::None => Ok(()),
            Resolved::Misconfigured(_) => unreachable!("handled above"),
            Resolved::Basic { user, pass } => {
                let Some(encoded) = authorization.and_then(|a| strip_scheme(a, "Basic")) else {
                    return unauthorized("this webhook needs Basic credentials");
                };
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .unwrap_or_default();
                let text = String::from_utf8_lossy(&decoded);
                let (u, p) = text.split_once(':').unwrap_or((&text, ""));
                let ok_user = secret_matches(user.as_bytes(), u.as_bytes());
                let ok_pass = secret_matches(pass.as_bytes(), p.as_bytes());
                if ok_user & ok_pass {
                    Ok(())
                } else {
                    unauthorized("the Basic credentials are wrong")
                }
            }
            Resolved::Header { name, value } => match header(headers, name) {
                Some(given) if secret_matches(value.as_bytes(), given.trim().as_bytes()) => Ok(()),
                Some(_) => unauthorized("the auth header's value is wrong"),
                None => Err(AuthFailure::Unauthorized(format!(
                    "this webhook needs the {name} header"
                ))),
            },
            Resolved::Jwt { key, validation } => {
                let Some(token) = authorization.and_then(|a| strip_scheme(a, "Bearer")) else {
                    return unauthorized("this webhook needs `Authorization: Bearer JWT`");
                };
                match jsonwebtoken::decode::<Value>(token.trim(), key, validation) {
                    Ok(_) => Ok(()),
                    Err(e) => Err(AuthFailure::Unauthorized(format!(
                        "the JWT is not accepted: {e}"
                    ))),
                }
            }
        }
    }
}

fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest)
}

/// One received webhook call.
#[derive(Debug, Clone, Copy)]
pub struct WebhookCall<'a> {
    /// `POST`, usually.
    pub method: &'a str,
    /// The request's path.
    pub path: &'a str,
    /// The raw query string (without `?`).
    pub query: &'a str,
    /// The request headers.
    pub headers: &'a Headers,
    /// The body (at most [`MAX_WEBHOOK_BODY`]).
    pub body: &'a [u8],
    /// When it arrived.
    pub received_at: Timestamp,
}

/// The value a drawer press gets as `inputs.webhook`: `{body, headers,
/// query, method, path, received_at}`. The body is JSON when it parses,
/// else text. Header names are lowercase.
///
/// # Security
///
/// `Authorization`, `Cookie`, `Proxy-Authorization`, `X-Buttons-Token` and
/// `auth_header` (the route's own auth header) read [`REDACTED_HEADER`], so
/// no credential reaches a step or a run record.
pub fn webhook_payload(call: &WebhookCall<'_>, auth_header: Option<&str>) -> Value {
    let mut headers: Map<String, Value> = Map::new();
    for (k, v) in call.headers {
        let name = k.to_ascii_lowercase();
        let redact = ALWAYS_REDACTED.contains(&name.as_str())
            || auth_header.is_some_and(|h| h.eq_ignore_ascii_case(&name));
        let value = if redact { REDACTED_HEADER } else { v.as_str() };
        match headers.get_mut(&name) {
            Some(Value::String(existing)) if !redact => {
                existing.push_str(", ");
                existing.push_str(value);
            }
            Some(_) => {}
            None => {
                headers.insert(name, Value::String(value.to_owned()));
            }
        }
    }
    let mut query: Map<String, Value> = Map::new();
    for (k, v) in url::form_urlencoded::parse(call.query.as_bytes()) {
        query
            .entry(k.into_owned())
            .or_insert(Value::String(v.into_owned()));
    }
    let body = if call.body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(call.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(call.body).into_owned()))
    };
    json!({
        "body": body,
        "headers": headers,
        "query": query,
        "method": call.method,
        "path": call.path,
        "received_at": call.received_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn auth(kind: &str) -> WebhookAuth {
        WebhookAuth {
            kind: kind.into(),
            ..WebhookAuth::default()
        }
    }

    fn no_env() -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    #[test]
    fn generated_secrets_are_32_random_bytes() {
        let (a, b) = (generate_secret(), generate_secret());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn secrets_match_exactly() {
        assert!(secret_matches(b"abc", b"abc"));
        for bad in [&b"ab"[..], b"abcd", b"abd", b"", b"abcabc"] {
            assert!(!secret_matches(b"abc", bad));
        }
        assert!(!secret_matches(b"", b""));
    }

    #[test]
    fn button_tokens_only_from_the_header() {
        let good = h(&[("x-buttons-token", "t0k")]);
        assert_eq!(check_button_token(Some("t0k"), &good, ""), Ok(()));
        assert!(matches!(
            check_button_token(Some("t0k"), &h(&[("X-Buttons-Token", "nope")]), ""),
            Err(AuthFailure::Unauthorized(_))
        ));
        assert_eq!(
            check_button_token(Some("t0k"), &good, "a=1&token=t0k"),
            Err(AuthFailure::TokenInQuery)
        );
        assert!(check_button_token(Some("t0k"), &[], "").is_err());
        assert_eq!(check_button_token(None, &[], ""), Ok(()));
        assert!(check_button_token(Some(""), &h(&[("x-buttons-token", "")]), "").is_err());
    }

    #[test]
    fn basic_and_header_auth() {
        let mut basic = auth("basic");
        basic.user = Some("u".into());
        basic.pass = Some("$ENV{PASS}".into());
        let env: BTreeMap<_, _> = [("PASS".to_owned(), "p@ss".to_owned())].into();
        let a = Authenticator::new(&basic, &env, &Batteries::default());
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let ok = format!("Basic {}", b64("u:p@ss"));
        assert_eq!(a.check(&h(&[("Authorization", &ok)]), ""), Ok(()));
        let bad = format!("Basic {}", b64("u:nope"));
        assert_eq!(
            a.check(&h(&[("Authorization", &bad)]), "")
                .unwrap_err()
                .status(),
            401
        );
        // Unset: fails closed, even for the empty credentials `Og==` (":").
        let a = Authenticator::new(&basic, &no_env(), &Batteries::default());
        let e = a
            .check(&h(&[("Authorization", "Basic Og==")]), "")
            .unwrap_err();
        assert_eq!((e.status(), e.code()), (500, "AUTH_MISCONFIGURED"));

        let mut header = auth("header");
        header.header_name = Some("X-Hook".into());
        header.header_value = Some("v4lue".into());
        let a = Authenticator::new(&header, &no_env(), &Batteries::default());
        assert_eq!(a.auth_header(), Some("X-Hook"));
        assert_eq!(a.check(&h(&[("x-hook", "v4lue")]), ""), Ok(()));
        assert!(a.check(&h(&[("x-hook", "v4lu")]), "").is_err());
        assert!(a.check(&[], "").is_err());
        assert_eq!(
            a.check(&h(&[("x-hook", "v4lue")]), "token=v4lue"),
            Err(AuthFailure::TokenInQuery)
        );
        assert!(
            Authenticator::new(&auth("none"), &no_env(), &Batteries::default())
                .check(&[], "")
                .is_ok()
        );
        assert_eq!(
            Authenticator::new(&auth("magic"), &no_env(), &Batteries::default())
                .check(&[], "")
                .unwrap_err()
                .status(),
            500
        );
    }

    fn jwt(claims: &Value, key: &[u8], alg: Algorithm) -> String {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(alg),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(key),
        )
        .unwrap()
    }

    #[test]
    fn jwt_auth_checks_claims_and_algorithm() {
        let mut cfg = auth("jwt");
        cfg.jwt_secret = Some("k3y".into());
        cfg.jwt_issuer = Some("ci".into());
        cfg.jwt_audience = Some("buttons".into());
        let a = Authenticator::new(&cfg, &no_env(), &Batteries::default());
        let now = Timestamp::now().as_second();
        let bearer = |t: String| h(&[("Authorization", &format!("Bearer {t}"))]);
        let good = json!({"exp": now + 60, "iss": "ci", "aud": "buttons"});
        assert_eq!(
            a.check(&bearer(jwt(&good, b"k3y", Algorithm::HS256)), ""),
            Ok(())
        );
        // Within the 30 s skew, and beyond it.
        let skewed = json!({"exp": now - 10, "iss": "ci", "aud": "buttons"});
        assert_eq!(
            a.check(&bearer(jwt(&skewed, b"k3y", Algorithm::HS256)), ""),
            Ok(())
        );
        for bad in [
            json!({"exp": now - 120, "iss": "ci", "aud": "buttons"}),
            json!({"exp": now + 60, "nbf": now + 120, "iss": "ci", "aud": "buttons"}),
            json!({"exp": now + 60, "iss": "other", "aud": "buttons"}),
            json!({"exp": now + 60, "iss": "ci", "aud": "other"}),
            json!({"iss": "ci", "aud": "buttons"}),
        ] {
            assert!(
                a.check(&bearer(jwt(&bad, b"k3y", Algorithm::HS256)), "")
                    .is_err(),
                "{bad}"
            );
        }
        assert!(
            a.check(&bearer(jwt(&good, b"other", Algorithm::HS256)), "")
                .is_err()
        );
        assert!(
            a.check(&bearer(jwt(&good, b"k3y", Algorithm::HS512)), "")
                .is_err()
        );
        assert!(a.check(&[], "").is_err());
        // An unset secret: a JWT signed with the empty key is refused (500).
        cfg.jwt_secret = Some("$ENV{UNSET}".into());
        let a = Authenticator::new(&cfg, &no_env(), &Batteries::default());
        let e = a
            .check(&bearer(jwt(&good, b"", Algorithm::HS256)), "")
            .unwrap_err();
        assert_eq!(e.code(), "AUTH_MISCONFIGURED");
    }

    #[test]
    fn payloads_redact_credentials() {
        let headers = h(&[
            ("Authorization", "Bearer x"),
            ("Cookie", "a=b"),
            ("X-Hook", "secret"),
            ("X-Buttons-Token", "t"),
            ("X-Other", "1"),
            ("X-Other", "2"),
        ]);
        let call = WebhookCall {
            method: "POST",
            path: "/hooks/a",
            query: "a=1&b=two%20words",
            headers: &headers,
            body: br#"{"n": 1}"#,
            received_at: Timestamp::now(),
        };
        let p = webhook_payload(&call, Some("x-hook"));
        for k in ["authorization", "cookie", "x-hook", "x-buttons-token"] {
            assert_eq!(p["headers"][k], REDACTED_HEADER, "{k}");
        }
        assert_eq!(p["headers"]["x-other"], "1, 2");
        assert_eq!(p["body"]["n"], 1);
        assert_eq!(p["query"]["b"], "two words");
        assert_eq!(p["method"], "POST");
        let text = webhook_payload(
            &WebhookCall {
                body: b"not json",
                ..call
            },
            None,
        );
        assert_eq!(text["body"], "not json");
    }
}
