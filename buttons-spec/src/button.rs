//! `button.json`: the spec of one button.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

use crate::args::ArgDef;
use crate::error::{Error, Result};
use crate::size::DEFAULT_MAX_RESPONSE_BYTES;

/// The schema version this build writes for new buttons.
pub const SCHEMA_VERSION: u64 = 1;

/// The newest schema version this build reads.
pub const MAX_SCHEMA_VERSION: u64 = 2;

/// The default press timeout: 300 seconds.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 300;

/// An interpreter runtime of a code button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Runtime {
    /// `/bin/sh main.sh` (the default).
    Shell,
    /// `bash main.sh`, `bash` from `PATH`.
    Bash,
    /// `python3 main.py` (then `python`), from `PATH`.
    Python,
    /// `node main.js`, from `PATH`.
    Node,
}

impl Runtime {
    /// Every code runtime, in table order.
    pub const ALL: [Runtime; 4] = [Self::Shell, Self::Bash, Self::Python, Self::Node];

    /// The name written in `button.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shell => "shell",
            Self::Bash => "bash",
            Self::Python => "python",
            Self::Node => "node",
        }
    }

    /// Parses a runtime name as written by this tool or older Go versions
    /// (`sh`, `python3`, `js`, `javascript` are accepted aliases).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "shell" | "sh" => Some(Self::Shell),
            "bash" => Some(Self::Bash),
            "python" | "python3" => Some(Self::Python),
            "node" | "javascript" | "js" => Some(Self::Node),
            _ => None,
        }
    }

    /// The code file in the button folder: `main.sh`, `main.py` or `main.js`.
    pub fn code_file(self) -> &'static str {
        match self {
            Self::Shell | Self::Bash => "main.sh",
            Self::Python => "main.py",
            Self::Node => "main.js",
        }
    }

    /// Guesses the runtime of a script from its file name, then its shebang line.
    pub fn infer(file_name: &str, contents: &[u8]) -> Option<Self> {
        let ext = file_name
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase());
        match ext.as_deref() {
            Some("py") => return Some(Self::Python),
            Some("js" | "mjs" | "cjs") => return Some(Self::Node),
            Some("bash") => return Some(Self::Bash),
            Some("sh") => return Some(Self::Shell),
            _ => {}
        }
        let first = contents.split(|&b| b == b'\n').next()?;
        let line = std::str::from_utf8(first).ok()?.strip_prefix("#!")?;
        let mut words = line.split_whitespace();
        let mut prog = words.next()?.rsplit('/').next()?;
        if prog == "env" {
            prog = words.find(|w| !w.starts_with('-'))?;
        }
        match prog {
            p if p.starts_with("python") => Some(Self::Python),
            "node" | "nodejs" => Some(Self::Node),
            "bash" => Some(Self::Bash),
            "sh" | "dash" => Some(Self::Shell),
            _ => None,
        }
    }
}

/// What kind of button a spec describes, and so what a press does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonKind {
    /// Runs a script with this runtime.
    Code(Runtime),
    /// Sends an HTTP request (`url` is non-empty, whatever `runtime` says).
    Http,
    /// Returns the text of `AGENTS.md`.
    Prompt,
    /// `kind: "app"`: not pressable.
    App,
    /// A runtime this build does not know (pressing it is `RUNTIME_MISSING`).
    Unknown(String),
}

/// Which redirects an HTTP button follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FollowRedirects {
    /// Follow redirects that stay on the locked host (the default).
    #[default]
    SameHost,
    /// Follow redirects to any host (each hop still checked against the private-network policy).
    Any,
    /// Never follow: the 3xx response is the result.
    None,
}

/// The spec of one button, as stored in `button.json`.
///
/// Field names, omitted zero values and timestamps match what the Go tool
/// writes. Fields this build does not know are kept in [`Button::extra`] and
/// written back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Button {
    /// 1 for files this build writes; 2 is read too.
    pub schema_version: u64,
    /// The button's name (its folder name).
    pub name: String,
    /// A one-line description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// `shell`, `bash`, `python`, `node`, `prompt`; empty or `http` for HTTP buttons.
    #[serde(default)]
    pub runtime: String,
    /// `app` for app buttons; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The spec's own version counter; new buttons start at `"1"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The URL template of an HTTP button.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// The HTTP method (GET when empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub method: String,
    /// Request headers, sent verbatim (never templated).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The request body template.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
    /// Declared arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<ArgDef>,
    /// Extra environment for code buttons (always written, may be empty).
    #[serde(default, deserialize_with = "null_as_default")]
    pub env: BTreeMap<String, String>,
    /// Press timeout in seconds (0 means the default).
    #[serde(default)]
    pub timeout_seconds: u64,
    /// Response cap in bytes (0 means the default, 10 MiB).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_response_bytes: u64,
    /// Lets this button reach private and loopback addresses.
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_private_networks: bool,
    /// The locked `host[:port]` of an HTTP button, or `*`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub allowed_host: String,
    /// Which redirects to follow (this project's addition; absent means same-host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_redirects: Option<FollowRedirects>,
    /// Whether `buttons mcp` exposes this button as a tool.
    #[serde(default)]
    pub mcp_enabled: bool,
    /// Free-form tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Shown first on boards.
    #[serde(default, skip_serializing_if = "is_false")]
    pub pinned: bool,
    /// JSON Schema of the button's stdout, kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<serde_json::Value>,
    /// Concurrency limits, kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<serde_json::Value>,
    /// Requirements, kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<serde_json::Value>,
    /// Batteries the button needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires_batteries: Vec<String>,
    /// Triggers, kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggers: Option<serde_json::Value>,
    /// Serve settings, kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serve: Option<serde_json::Value>,
    /// When the button was created.
    pub created_at: Timestamp,
    /// When the spec last changed.
    pub updated_at: Timestamp,
    /// Fields written by other versions of the tool, kept through a read-modify-write.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn null_as_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl Button {
    /// A new shell button with every default: schema 1, version `"1"`, 300 s
    /// timeout, created and updated `now`.
    pub fn new(name: &crate::ButtonName, now: Timestamp) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            name: name.as_str().to_owned(),
            description: String::new(),
            runtime: Runtime::Shell.as_str().to_owned(),
            kind: None,
            version: Some("1".to_owned()),
            url: String::new(),
            method: String::new(),
            headers: BTreeMap::new(),
            body: String::new(),
            args: Vec::new(),
            env: BTreeMap::new(),
            timeout_seconds: DEFAULT_TIMEOUT_SECONDS,
            max_response_bytes: 0,
            allow_private_networks: false,
            allowed_host: String::new(),
            follow_redirects: None,
            mcp_enabled: false,
            tags: Vec::new(),
            pinned: false,
            output_schema: None,
            queue: None,
            requires: None,
            requires_batteries: Vec::new(),
            triggers: None,
            serve: None,
            created_at: now,
            updated_at: now,
            extra: serde_json::Map::new(),
        }
    }

    /// Parses `button.json`, refusing schema versions above 2.
    ///
    /// ```
    /// let json = br#"{"schema_version":1,"name":"hi","runtime":"shell","env":{},
    ///   "timeout_seconds":300,"mcp_enabled":false,"created_at":"2026-04-10T14:32:11Z",
    ///   "updated_at":"2026-04-10T14:32:11Z","future_field":[1,2]}"#;
    /// let button = buttons_spec::Button::from_json(json)?;
    /// assert!(button.to_json().contains("\"future_field\": ["));
    /// # Ok::<(), buttons_spec::Error>(())
    /// ```
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(Error::Json)?;
        if let Some(version) = value
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
            && version > MAX_SCHEMA_VERSION
        {
            return Err(Error::UnsupportedSchema { version });
        }
        serde_json::from_value(value).map_err(Error::Json)
    }

    /// The spec as pretty-printed JSON with a final newline, as written to disk.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a Button always serializes");
        s.push('\n');
        s
    }

    /// What a press of this button does.
    pub fn kind(&self) -> ButtonKind {
        if self.kind.as_deref() == Some("app") {
            ButtonKind::App
        } else if !self.url.is_empty() {
            ButtonKind::Http
        } else if self.runtime == "prompt" {
            ButtonKind::Prompt
        } else if self.runtime.is_empty() {
            ButtonKind::Code(Runtime::Shell)
        } else {
            Runtime::from_name(&self.runtime).map_or_else(
                || ButtonKind::Unknown(self.runtime.clone()),
                ButtonKind::Code,
            )
        }
    }

    /// The press timeout (the default when `timeout_seconds` is 0).
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(if self.timeout_seconds == 0 {
            DEFAULT_TIMEOUT_SECONDS
        } else {
            self.timeout_seconds
        })
    }

    /// The response cap in bytes (the default when unset).
    pub fn max_response_bytes(&self) -> u64 {
        if self.max_response_bytes == 0 {
            DEFAULT_MAX_RESPONSE_BYTES
        } else {
            self.max_response_bytes
        }
    }

    /// The HTTP method, `GET` when unset.
    pub fn method(&self) -> &str {
        if self.method.is_empty() {
            "GET"
        } else {
            &self.method
        }
    }

    /// The redirect policy: as set, `any` for `allowed_host: "*"`, else same-host.
    pub fn follow_redirects(&self) -> FollowRedirects {
        match self.follow_redirects {
            Some(policy) => policy,
            None if self.allowed_host == "*" => FollowRedirects::Any,
            None => FollowRedirects::SameHost,
        }
    }
}

/// Parses a `--timeout` value: a positive whole number of seconds.
pub fn parse_timeout(given: &str) -> Result<Duration> {
    match given.trim().parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err(Error::InvalidTimeout {
            given: given.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GO_FILE: &str = r#"{
  "schema_version": 2,
  "name": "weather",
  "description": "Get weather",
  "runtime": "http",
  "url": "https://api.example.com/w?city={{city}}",
  "method": "GET",
  "args": [{"name": "city", "type": "string", "required": true}],
  "env": null,
  "timeout_seconds": 30,
  "allowed_host": "api.example.com",
  "mcp_enabled": true,
  "output_schema": {"type": "object", "properties": {"t": {"type": "number"}}},
  "queue": {"name": "api", "concurrency": 3},
  "triggers": [{"kind": "cron", "spec": "@daily"}],
  "never_seen_before": {"nested": [1, "two", null]},
  "created_at": "2026-04-10T14:32:11.123456789+02:00",
  "updated_at": "2026-04-10T14:32:11Z"
}"#;

    #[test]
    fn reads_go_files_and_keeps_unknown_fields() {
        let b = Button::from_json(GO_FILE.as_bytes()).unwrap();
        assert_eq!(b.kind(), ButtonKind::Http);
        assert!(b.env.is_empty());
        assert_eq!(b.args[0].name, "city");
        let out: serde_json::Value = serde_json::from_str(&b.to_json()).unwrap();
        let orig: serde_json::Value = serde_json::from_str(GO_FILE).unwrap();
        for key in [
            "output_schema",
            "queue",
            "triggers",
            "never_seen_before",
            "allowed_host",
            "args",
        ] {
            assert_eq!(out[key], orig[key], "{key} changed");
        }
        assert_eq!(out["env"], serde_json::json!({}));
        assert_eq!(Button::from_json(b.to_json().as_bytes()).unwrap(), b);
    }

    #[test]
    fn refuses_newer_schema() {
        let newer = GO_FILE.replace("\"schema_version\": 2", "\"schema_version\": 3");
        assert!(matches!(
            Button::from_json(newer.as_bytes()),
            Err(Error::UnsupportedSchema { version: 3 })
        ));
    }

    #[test]
    fn writes_go_zero_values() {
        let name = crate::ButtonName::new("x").unwrap();
        let b = Button::new(&name, Timestamp::UNIX_EPOCH);
        let v: serde_json::Value = serde_json::from_str(&b.to_json()).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "schema_version",
                "name",
                "runtime",
                "version",
                "env",
                "timeout_seconds",
                "mcp_enabled",
                "created_at",
                "updated_at"
            ]
        );
        assert_eq!(v["created_at"], "1970-01-01T00:00:00Z");
    }

    #[test]
    fn kinds() {
        let name = crate::ButtonName::new("x").unwrap();
        let mut b = Button::new(&name, Timestamp::UNIX_EPOCH);
        assert_eq!(b.kind(), ButtonKind::Code(Runtime::Shell));
        b.runtime = "prompt".into();
        assert_eq!(b.kind(), ButtonKind::Prompt);
        b.runtime = "cobol".into();
        assert_eq!(b.kind(), ButtonKind::Unknown("cobol".into()));
        b.kind = Some("app".into());
        assert_eq!(b.kind(), ButtonKind::App);
    }

    #[test]
    fn infers_runtime() {
        assert_eq!(Runtime::infer("x.py", b""), Some(Runtime::Python));
        assert_eq!(
            Runtime::infer("x", b"#!/usr/bin/env -S node\n"),
            Some(Runtime::Node)
        );
        assert_eq!(Runtime::infer("x", b"#!/bin/bash\n"), Some(Runtime::Bash));
        assert_eq!(Runtime::infer("x", b"echo"), None);
    }

    #[test]
    fn timeouts() {
        assert!(parse_timeout("0").is_err());
        assert!(parse_timeout("-3").is_err());
        assert_eq!(parse_timeout("30").unwrap(), Duration::from_secs(30));
    }
}
