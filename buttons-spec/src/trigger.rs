//! Triggers: what presses a button or a drawer without a person.
//!
//! A button's `triggers` list in `button.json` holds [`Trigger`]s, the Go
//! tool's shape `{id, kind, schedule?, path?, token?, args?, created_at}`
//! (plus this project's `no_auth`, written only when true). A drawer's
//! `triggers` object may hold a `webhook` ([`DrawerWebhook`]) with its
//! authentication ([`WebhookAuth`]). Fields this build does not know are
//! kept and written back.
//!
//! This module checks shapes and webhook paths ([`normalize_webhook_path`],
//! [`find_conflict`]); scheduling, watching and authenticating are
//! `buttons-exec`'s.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Timestamp;
use crate::error::{Error, Result};

/// The header a button webhook's token travels in (never the query string).
pub const TOKEN_HEADER: &str = "X-Buttons-Token";
/// The longest webhook path.
pub const MAX_WEBHOOK_PATH: usize = 256;
/// The header a drawer webhook with `header` auth reads unless told otherwise.
pub const DEFAULT_AUTH_HEADER: &str = "X-Webhook-Token";

fn is_false(b: &bool) -> bool {
    !*b
}

/// What fires a trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerKind {
    /// A cron schedule (5 fields, `@hourly`, `@daily`, `@every 30s`, …).
    Cron,
    /// A file whose content changes.
    Watch,
    /// `POST` to a path of the server.
    Webhook,
}

impl TriggerKind {
    /// The kind as written in `button.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cron => "cron",
            Self::Watch => "watch",
            Self::Webhook => "webhook",
        }
    }

    /// Reads a kind as written in `button.json`.
    pub fn parse(kind: &str) -> Option<Self> {
        match kind {
            "cron" => Some(Self::Cron),
            "watch" => Some(Self::Watch),
            "webhook" => Some(Self::Webhook),
            _ => None,
        }
    }
}

impl fmt::Display for TriggerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of a button's `triggers` list.
///
/// `Debug` shows the token as `[redacted]`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// 8 lowercase hex digits, unique within the button.
    #[serde(default)]
    pub id: String,
    /// `cron`, `watch` or `webhook` (see [`Trigger::kind`]).
    #[serde(default)]
    pub kind: String,
    /// A cron trigger's schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// A watch trigger's file, or a webhook trigger's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A webhook trigger's token (sent as `X-Buttons-Token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The arguments each press gets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<BTreeMap<String, String>>,
    /// A webhook trigger that was explicitly added without a token (this
    /// project's addition; a tokenless webhook without it is not served).
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_auth: bool,
    /// When the trigger was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Fields this build does not know, kept for a round trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trigger")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("schedule", &self.schedule)
            .field("path", &self.path)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("args", &self.args)
            .field("no_auth", &self.no_auth)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl Trigger {
    /// A new trigger of `kind` with a fresh id.
    pub fn new(kind: TriggerKind, created_at: Timestamp) -> Self {
        Self {
            id: new_trigger_id(),
            kind: kind.as_str().to_owned(),
            schedule: None,
            path: None,
            token: None,
            args: None,
            no_auth: false,
            created_at: Some(created_at),
            extra: Map::new(),
        }
    }

    /// The kind, when this build knows it.
    pub fn kind(&self) -> Option<TriggerKind> {
        TriggerKind::parse(&self.kind)
    }

    /// Checks the shape: an 8-hex id, a known kind, a schedule for cron, a
    /// file for watch, a valid path and a token (or `no_auth`) for webhook.
    /// The schedule's syntax is checked by whoever runs it.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| Err(Error::InvalidTrigger { reason });
        if !is_trigger_id(&self.id) {
            return bad(format!("id {:?} is not 8 lowercase hex digits", self.id));
        }
        let Some(kind) = self.kind() else {
            return bad(format!(
                "kind {:?} is not cron, watch or webhook",
                self.kind
            ));
        };
        let empty = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
        match kind {
            TriggerKind::Cron if empty(&self.schedule) => {
                return bad("a cron trigger needs a schedule".to_owned());
            }
            TriggerKind::Watch if empty(&self.path) => {
                return bad("a watch trigger needs a file path".to_owned());
            }
            TriggerKind::Webhook => {
                let path = self.path.as_deref().unwrap_or("");
                normalize_webhook_path(path)?;
                if empty(&self.token) && !self.no_auth {
                    return bad(
                        "a webhook trigger needs a token (or an explicit --no-auth)".to_owned()
                    );
                }
            }
            _ => {}
        }
        for key in self.args.iter().flat_map(BTreeMap::keys) {
            if key.is_empty() {
                return bad("an argument name is empty".to_owned());
            }
        }
        Ok(())
    }
}

/// A fresh trigger id: 8 lowercase hex digits from the system's random
/// source.
pub fn new_trigger_id() -> String {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).expect("the system's random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `id` is 8 lowercase hex digits.
pub fn is_trigger_id(id: &str) -> bool {
    id.len() == 8 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Reads a button's `triggers` value: absent or `null` is empty; otherwise
/// a list of trigger objects.
pub fn parse_triggers(value: Option<&Value>) -> Result<Vec<Trigger>> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v @ Value::Array(_)) => {
            serde_json::from_value(v.clone()).map_err(|e| Error::InvalidTrigger {
                reason: format!("the triggers list is not valid: {e}"),
            })
        }
        Some(_) => Err(Error::InvalidTrigger {
            reason: "triggers is not a list".to_owned(),
        }),
    }
}

/// The `triggers` value for a list (always a list, even when empty).
pub fn triggers_value(triggers: &[Trigger]) -> Value {
    serde_json::to_value(triggers).expect("triggers serialize")
}

/// Checks a webhook path and returns it normalized (a trailing `/`
/// dropped).
///
/// # Security
///
/// Paths under `/api` are the REST API's and are refused with
/// [`Error::TriggerConflict`], so a trigger can never shadow or stand in for
/// an API route; only `[A-Za-z0-9._~/-]` is allowed, with no empty, `.` or
/// `..` segments.
pub fn normalize_webhook_path(path: &str) -> Result<String> {
    let bad = |reason: &str| {
        Err(Error::InvalidTrigger {
            reason: format!("webhook path {path:?} {reason}"),
        })
    };
    if !path.starts_with('/') {
        return bad("must start with '/'");
    }
    if path.len() > MAX_WEBHOOK_PATH {
        return bad("is longer than 256 characters");
    }
    let trimmed = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    if trimmed.is_empty() || trimmed == "/" {
        return bad("names no route (it is only '/')");
    }
    if !trimmed
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'/' | b'-'))
    {
        return bad("may hold only letters, digits, '.', '_', '~', '-' and '/'");
    }
    if trimmed[1..]
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return bad("has an empty, '.' or '..' segment");
    }
    let lower = trimmed.to_ascii_lowercase();
    if lower == "/api" || lower.starts_with("/api/") {
        return Err(Error::TriggerConflict {
            path: trimmed.to_owned(),
            taken_by: "the REST API (/api/…)".to_owned(),
        });
    }
    Ok(trimmed.to_owned())
}

/// Who serves a webhook path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteOwner {
    /// A button's webhook trigger.
    Button {
        /// The button.
        name: String,
        /// The trigger's id.
        id: String,
    },
    /// A drawer's webhook.
    Drawer {
        /// The drawer.
        name: String,
    },
}

impl fmt::Display for RouteOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Button { name, id } => write!(f, "button {name} (trigger {id})"),
            Self::Drawer { name } => write!(f, "drawer {name}"),
        }
    }
}

/// A webhook path and who serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookPath {
    /// The normalized path.
    pub path: String,
    /// Who serves it.
    pub owner: RouteOwner,
}

/// The conflict `path` would have with `taken` (paths compare without
/// regard to case), ignoring routes of `except` itself.
pub fn find_conflict(
    path: &str,
    taken: &[WebhookPath],
    except: Option<&RouteOwner>,
) -> Option<Error> {
    taken
        .iter()
        .filter(|t| Some(&t.owner) != except)
        .find(|t| t.path.eq_ignore_ascii_case(path))
        .map(|t| Error::TriggerConflict {
            path: path.to_owned(),
            taken_by: t.owner.to_string(),
        })
}

/// Splits routes into the ones to serve and the refused ones: of routes
/// sharing a path, the first by owner (drawers after buttons, then by name
/// and id) wins and the others are refused.
pub fn resolve_routes(mut routes: Vec<WebhookPath>) -> (Vec<WebhookPath>, Vec<Error>) {
    routes.sort_by(|a, b| a.owner.cmp(&b.owner));
    let mut served: Vec<WebhookPath> = Vec::new();
    let mut refused = Vec::new();
    for route in routes {
        match find_conflict(&route.path, &served, None) {
            Some(Error::TriggerConflict { path, taken_by }) => {
                refused.push(Error::TriggerConflict {
                    path,
                    taken_by: format!("{taken_by}, so {} is not served", route.owner),
                });
            }
            Some(other) => refused.push(other),
            None => served.push(route),
        }
    }
    (served, refused)
}

/// How a drawer webhook authenticates its callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// Anyone may call (must be asked for explicitly).
    None,
    /// `Authorization: Basic` with a user and password.
    Basic,
    /// A header carrying a shared value.
    Header,
    /// `Authorization: Bearer` with an HMAC-signed JWT.
    Jwt,
}

impl AuthKind {
    /// The kind as written in `drawer.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Basic => "basic",
            Self::Header => "header",
            Self::Jwt => "jwt",
        }
    }

    /// Reads a kind.
    pub fn parse(kind: &str) -> Option<Self> {
        match kind {
            "none" => Some(Self::None),
            "basic" => Some(Self::Basic),
            "header" => Some(Self::Header),
            "jwt" => Some(Self::Jwt),
            _ => None,
        }
    }
}

/// A drawer webhook's authentication. Secret fields may be literal, or
/// `$ENV{VAR}` / `$BATTERY{KEY}` references ([`SecretRef`]).
///
/// `Debug` redacts the secret fields.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookAuth {
    /// `none`, `basic`, `header` or `jwt`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Basic: the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Basic: the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<String>,
    /// Header: the header's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_name: Option<String>,
    /// Header: the expected value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_value: Option<String>,
    /// JWT: the HMAC key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_secret: Option<String>,
    /// JWT: `HS256`, `HS384` or `HS512` (default `HS256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_algorithm: Option<String>,
    /// JWT: the required `iss`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_issuer: Option<String>,
    /// JWT: the required `aud`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_audience: Option<String>,
    /// Fields this build does not know, kept for a round trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for WebhookAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = |v: &Option<String>| v.as_ref().map(|_| "[redacted]");
        f.debug_struct("WebhookAuth")
            .field("kind", &self.kind)
            .field("user", &self.user)
            .field("pass", &r(&self.pass))
            .field("header_name", &self.header_name)
            .field("header_value", &r(&self.header_value))
            .field("jwt_secret", &r(&self.jwt_secret))
            .field("jwt_algorithm", &self.jwt_algorithm)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .finish_non_exhaustive()
    }
}

impl WebhookAuth {
    /// The kind, when this build knows it.
    pub fn kind(&self) -> Option<AuthKind> {
        AuthKind::parse(&self.kind)
    }

    /// Checks that the fields the kind needs are there (their values are
    /// resolved, and refused when empty, by whoever serves the route).
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: &str| {
            Err(Error::InvalidTrigger {
                reason: reason.to_owned(),
            })
        };
        let missing = |v: &Option<String>| v.as_deref().is_none_or(str::is_empty);
        match self.kind() {
            None => bad("the webhook auth type is not none, basic, header or jwt"),
            Some(AuthKind::Basic) if missing(&self.user) || missing(&self.pass) => {
                bad("basic auth needs --auth-user and --auth-pass")
            }
            Some(AuthKind::Header) if missing(&self.header_name) || missing(&self.header_value) => {
                bad("header auth needs --auth-header-name and --auth-header-value")
            }
            Some(AuthKind::Jwt) if missing(&self.jwt_secret) => bad("jwt auth needs --jwt-secret"),
            Some(AuthKind::Jwt)
                if !matches!(
                    self.jwt_algorithm.as_deref().unwrap_or("HS256"),
                    "HS256" | "HS384" | "HS512"
                ) =>
            {
                bad("--jwt-algorithm must be HS256, HS384 or HS512")
            }
            _ => Ok(()),
        }
    }
}

/// A drawer's webhook: `drawer.json` `triggers.webhook`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DrawerWebhook {
    /// The path (see [`normalize_webhook_path`]).
    #[serde(default)]
    pub path: String,
    /// How callers authenticate.
    #[serde(default)]
    pub auth: WebhookAuth,
    /// When it was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Fields this build does not know, kept for a round trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The webhook in a drawer's `triggers` value, if any.
pub fn drawer_webhook(triggers: Option<&Value>) -> Result<Option<DrawerWebhook>> {
    let Some(hook) = triggers.and_then(|t| t.get("webhook")) else {
        return Ok(None);
    };
    if hook.is_null() {
        return Ok(None);
    }
    serde_json::from_value(hook.clone())
        .map(Some)
        .map_err(|e| Error::InvalidTrigger {
            reason: format!("the drawer's webhook is not valid: {e}"),
        })
}

/// Sets (or with `None` removes) the webhook in a drawer's `triggers`
/// value, keeping its other entries.
pub fn set_drawer_webhook(triggers: &mut Option<Value>, hook: Option<&DrawerWebhook>) {
    let mut map = match triggers.take() {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    match hook {
        Some(h) => {
            map.insert(
                "webhook".into(),
                serde_json::to_value(h).expect("a webhook serializes"),
            );
        }
        None => {
            map.shift_remove("webhook");
        }
    }
    *triggers = Some(Value::Object(map));
}

/// Where a secret's value comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// The text itself.
    Literal(String),
    /// `$ENV{VAR}`: an environment variable of the server.
    Env(String),
    /// `$BATTERY{KEY}`: a battery.
    Battery(String),
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Literal(_) => f.write_str("Literal([redacted])"),
            Self::Env(v) => write!(f, "Env({v})"),
            Self::Battery(k) => write!(f, "Battery({k})"),
        }
    }
}

impl SecretRef {
    /// Reads `$ENV{VAR}`, `$BATTERY{KEY}` or a literal.
    pub fn parse(raw: &str) -> Self {
        let inner = |prefix: &str| {
            raw.strip_prefix(prefix)
                .and_then(|r| r.strip_suffix('}'))
                .filter(|n| {
                    !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                })
                .map(str::to_owned)
        };
        if let Some(var) = inner("$ENV{") {
            return Self::Env(var);
        }
        if let Some(key) = inner("$BATTERY{") {
            return Self::Battery(key);
        }
        Self::Literal(raw.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts() -> Timestamp {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn ids_are_eight_hex_digits() {
        let a = new_trigger_id();
        let b = new_trigger_id();
        assert!(is_trigger_id(&a) && is_trigger_id(&b), "{a} {b}");
        assert_ne!(a, b);
        for bad in ["", "1234567", "123456789", "ABCDEF12", "1234567g"] {
            assert!(!is_trigger_id(bad), "{bad}");
        }
    }

    #[test]
    fn triggers_round_trip_with_unknown_fields() {
        let raw = serde_json::json!([{
            "id": "0a1b2c3d", "kind": "cron", "schedule": "@daily",
            "created_at": "2026-01-01T00:00:00Z", "future": {"x": 1}
        }]);
        let parsed = parse_triggers(Some(&raw)).unwrap();
        assert_eq!(parsed[0].kind(), Some(TriggerKind::Cron));
        parsed[0].validate().unwrap();
        assert_eq!(triggers_value(&parsed), raw);
        assert!(parse_triggers(None).unwrap().is_empty());
        assert!(parse_triggers(Some(&serde_json::json!({}))).is_err());
    }

    #[test]
    fn webhooks_need_a_token_unless_no_auth() {
        let mut t = Trigger::new(TriggerKind::Webhook, ts());
        t.path = Some("/hooks/deploy".into());
        assert!(t.validate().is_err());
        t.no_auth = true;
        t.validate().unwrap();
        t.no_auth = false;
        t.token = Some("s3cret".into());
        t.validate().unwrap();
        assert!(!format!("{t:?}").contains("s3cret"));
    }

    #[test]
    fn webhook_paths() {
        assert_eq!(normalize_webhook_path("/hooks/a/").unwrap(), "/hooks/a");
        assert_eq!(normalize_webhook_path("/x").unwrap(), "/x");
        for api in ["/api", "/api/buttons", "/API/x", "/api/"] {
            let e = normalize_webhook_path(api).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::TriggerConflict, "{api}");
        }
        for bad in [
            "", "/", "x", "/a//b", "/a/../b", "/a/./b", "/a b", "/a?x=1", "/%2e",
        ] {
            assert!(normalize_webhook_path(bad).is_err(), "{bad}");
        }
        assert!(normalize_webhook_path(&format!("/{}", "a".repeat(300))).is_err());
    }

    #[test]
    fn conflicts_are_found_and_resolved() {
        let a = RouteOwner::Button {
            name: "a".into(),
            id: "00000001".into(),
        };
        let taken = vec![WebhookPath {
            path: "/hooks/x".into(),
            owner: a.clone(),
        }];
        assert!(find_conflict("/HOOKS/x", &taken, None).is_some());
        assert!(find_conflict("/hooks/x", &taken, Some(&a)).is_none());
        assert!(find_conflict("/hooks/y", &taken, None).is_none());
        let d = RouteOwner::Drawer { name: "d".into() };
        let (served, refused) = resolve_routes(vec![
            WebhookPath {
                path: "/hooks/x".into(),
                owner: d,
            },
            taken[0].clone(),
        ]);
        assert_eq!(served, taken);
        assert_eq!(refused.len(), 1);
        assert!(refused[0].to_string().contains("drawer d"));
    }

    #[test]
    fn auth_shapes_and_secret_refs() {
        let mut auth = WebhookAuth {
            kind: "basic".into(),
            user: Some("u".into()),
            ..WebhookAuth::default()
        };
        assert!(auth.validate().is_err());
        auth.pass = Some("$ENV{PASS}".into());
        auth.validate().unwrap();
        assert!(!format!("{auth:?}").contains("PASS"));
        auth.kind = "magic".into();
        assert!(auth.validate().is_err());
        assert_eq!(SecretRef::parse("$ENV{A_1}"), SecretRef::Env("A_1".into()));
        assert_eq!(
            SecretRef::parse("$BATTERY{K}"),
            SecretRef::Battery("K".into())
        );
        assert_eq!(
            SecretRef::parse("$ENV{}"),
            SecretRef::Literal("$ENV{}".into())
        );
        assert_eq!(
            SecretRef::parse("plain"),
            SecretRef::Literal("plain".into())
        );
    }

    #[test]
    fn drawer_webhooks_keep_other_triggers() {
        let mut triggers = Some(serde_json::json!({"other": [1]}));
        let hook = DrawerWebhook {
            path: "/hooks/d".into(),
            auth: WebhookAuth {
                kind: "none".into(),
                ..WebhookAuth::default()
            },
            ..DrawerWebhook::default()
        };
        set_drawer_webhook(&mut triggers, Some(&hook));
        assert_eq!(drawer_webhook(triggers.as_ref()).unwrap(), Some(hook));
        assert_eq!(triggers.as_ref().unwrap()["other"], serde_json::json!([1]));
        set_drawer_webhook(&mut triggers, None);
        assert_eq!(drawer_webhook(triggers.as_ref()).unwrap(), None);
    }
}
