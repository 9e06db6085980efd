//! `button.json`: the spec of one button.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::args::ArgDef;
use crate::error::{Error, Result};
use crate::host_lock::lock_url_template;
use crate::http::Method;
use crate::name::ButtonName;
use crate::size::DEFAULT_MAX_RESPONSE_BYTES;

/// The schema version this build writes for new buttons (as the Go tool does).
pub const SCHEMA_VERSION: u64 = 2;

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

/// The `runtime` field of `button.json`.
///
/// A known name reads as its variant (the aliases of [`Runtime::from_name`]
/// normalize: `sh` is written back as `shell`); anything else is kept in
/// [`ButtonRuntime::Other`] and written back byte for byte. What a press does
/// is decided by [`Button::kind`], not by this field alone.
///
/// ```
/// use buttons_spec::{ButtonRuntime, Runtime};
///
/// assert_eq!(ButtonRuntime::from_name("python3"), ButtonRuntime::Code(Runtime::Python));
/// assert_eq!(ButtonRuntime::from_name(""), ButtonRuntime::Unset);
/// let cobol = ButtonRuntime::from_name("cobol");
/// assert_eq!(serde_json::to_string(&cobol)?, r#""cobol""#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum ButtonRuntime {
    /// A code runtime: `shell`, `bash`, `python` or `node`.
    Code(Runtime),
    /// `prompt`: a press returns the text of `AGENTS.md`.
    Prompt,
    /// `http`, as the Go tool writes for HTTP buttons.
    Http,
    /// The empty string (or an absent field): what older Go versions wrote for
    /// HTTP buttons. Without a `url` it means a shell button; at create it
    /// means "infer from the code file, else shell".
    #[default]
    Unset,
    /// A runtime this build does not know, kept exactly as written.
    Other(String),
}

impl ButtonRuntime {
    /// Reads a `runtime` value as found in a file; never fails.
    pub fn from_name(name: &str) -> Self {
        match name {
            "" => Self::Unset,
            "prompt" => Self::Prompt,
            "http" => Self::Http,
            other => {
                Runtime::from_name(other).map_or_else(|| Self::Other(other.to_owned()), Self::Code)
            }
        }
    }

    /// The value written in `button.json`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Code(runtime) => runtime.as_str(),
            Self::Prompt => "prompt",
            Self::Http => "http",
            Self::Unset => "",
            Self::Other(other) => other,
        }
    }
}

impl From<Runtime> for ButtonRuntime {
    fn from(runtime: Runtime) -> Self {
        Self::Code(runtime)
    }
}

impl std::fmt::Display for ButtonRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ButtonRuntime {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ButtonRuntime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let name = Option::<String>::deserialize(deserializer)?;
        Ok(name.map_or(Self::Unset, |name| Self::from_name(&name)))
    }
}

/// The `kind` field of `button.json` (absent for most buttons).
///
/// ```
/// use buttons_spec::Kind;
///
/// assert_eq!(Kind::from_name("app"), Kind::App);
/// assert_eq!(serde_json::to_string(&Kind::from_name("widget"))?, r#""widget""#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `app`: an app button, not pressable.
    App,
    /// A kind this build does not know, kept exactly as written (it does not
    /// change what a press does).
    Other(String),
}

impl Kind {
    /// Reads a `kind` value as found in a file; never fails.
    pub fn from_name(name: &str) -> Self {
        match name {
            "app" => Self::App,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The value written in `button.json`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::App => "app",
            Self::Other(other) => other,
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(Self::from_name(&name))
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
/// written back unchanged, and so are unknown `runtime`, `kind` and `method`
/// values.
///
/// An HTTP button (see [`Button::kind`]) is always written the way the Go
/// tool writes new ones: `runtime` `"http"` when it is [`ButtonRuntime::Unset`]
/// (the older spelling `""`), `method` even when it is `GET`, and
/// `max_response_bytes` even when it is 0 (as the default, 10485760). Other
/// buttons omit `method` when it is `GET` and `max_response_bytes` when it is 0.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Button {
    /// 2 for files this build writes ([`SCHEMA_VERSION`]); 1 is read too.
    pub schema_version: u64,
    /// The button's name (its folder name).
    pub name: String,
    /// A one-line description.
    #[serde(default)]
    pub description: String,
    /// `shell`, `bash`, `python`, `node`, `prompt`; `http` (or `""` in older
    /// files) for HTTP buttons.
    #[serde(default)]
    pub runtime: ButtonRuntime,
    /// `app` for app buttons; absent otherwise.
    #[serde(default)]
    pub kind: Option<Kind>,
    /// The spec's own version counter; new buttons start at `"1"`.
    #[serde(default)]
    pub version: Option<String>,
    /// The URL template of an HTTP button.
    #[serde(default)]
    pub url: String,
    /// The HTTP method (GET when absent or empty).
    #[serde(default)]
    pub method: Method,
    /// Request headers, sent verbatim (never templated).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The request body template.
    #[serde(default)]
    pub body: String,
    /// Declared arguments.
    #[serde(default)]
    pub args: Vec<ArgDef>,
    /// Extra environment for code buttons (always written, may be empty).
    #[serde(default, deserialize_with = "null_as_default")]
    pub env: BTreeMap<String, String>,
    /// Press timeout in seconds (0 means the default).
    #[serde(default)]
    pub timeout_seconds: u64,
    /// Response cap in bytes (0 means the default, 10 MiB).
    #[serde(default)]
    pub max_response_bytes: u64,
    /// Lets this button reach private and loopback addresses.
    #[serde(default)]
    pub allow_private_networks: bool,
    /// The locked `host[:port]` of an HTTP button, or `*`.
    #[serde(default)]
    pub allowed_host: String,
    /// Which redirects to follow (this project's addition; absent means same-host).
    #[serde(default)]
    pub follow_redirects: Option<FollowRedirects>,
    /// Whether `buttons mcp` exposes this button as a tool.
    #[serde(default)]
    pub mcp_enabled: bool,
    /// Free-form tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Shown first on boards.
    #[serde(default)]
    pub pinned: bool,
    /// JSON Schema of the button's stdout, kept verbatim.
    #[serde(default)]
    pub output_schema: Option<serde_json::Value>,
    /// Concurrency limits, kept verbatim.
    #[serde(default)]
    pub queue: Option<serde_json::Value>,
    /// Requirements, kept verbatim.
    #[serde(default)]
    pub requires: Option<serde_json::Value>,
    /// Batteries the button needs.
    #[serde(default)]
    pub requires_batteries: Vec<String>,
    /// Triggers, kept verbatim.
    #[serde(default)]
    pub triggers: Option<serde_json::Value>,
    /// Serve settings, kept verbatim.
    #[serde(default)]
    pub serve: Option<serde_json::Value>,
    /// When the button was created.
    pub created_at: Timestamp,
    /// When the spec last changed.
    pub updated_at: Timestamp,
    /// Fields written by other versions of the tool, kept through a read-modify-write.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `button.json` as written: [`Button`]'s fields in the Go tool's order, with
/// its omitted zero values. Borrowed, so writing copies nothing.
#[derive(Serialize)]
struct Wire<'a> {
    schema_version: u64,
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    runtime: &'a ButtonRuntime,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a Kind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "str::is_empty")]
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'a Method>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    headers: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "str::is_empty")]
    body: &'a str,
    #[serde(skip_serializing_if = "<[ArgDef]>::is_empty")]
    args: &'a [ArgDef],
    env: &'a BTreeMap<String, String>,
    timeout_seconds: u64,
    #[serde(skip_serializing_if = "is_zero")]
    max_response_bytes: u64,
    #[serde(skip_serializing_if = "is_false")]
    allow_private_networks: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    allowed_host: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    follow_redirects: Option<FollowRedirects>,
    mcp_enabled: bool,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    tags: &'a [String],
    #[serde(skip_serializing_if = "is_false")]
    pinned: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_schema: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    queue: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requires: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    requires_batteries: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    triggers: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    serve: Option<&'a serde_json::Value>,
    created_at: Timestamp,
    updated_at: Timestamp,
    #[serde(flatten)]
    extra: &'a serde_json::Map<String, serde_json::Value>,
}

impl Serialize for Button {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        // Every field by name, so adding one to `Button` without writing it
        // does not compile.
        let Self {
            schema_version,
            name,
            description,
            runtime,
            kind,
            version,
            url,
            method,
            headers,
            body,
            args,
            env,
            timeout_seconds,
            max_response_bytes,
            allow_private_networks,
            allowed_host,
            follow_redirects,
            mcp_enabled,
            tags,
            pinned,
            output_schema,
            queue,
            requires,
            requires_batteries,
            triggers,
            serve,
            created_at,
            updated_at,
            extra,
        } = self;
        let http = self.kind() == ButtonKind::Http;
        Wire {
            schema_version: *schema_version,
            name,
            description,
            runtime: match runtime {
                ButtonRuntime::Unset if http => &ButtonRuntime::Http,
                other => other,
            },
            kind: kind.as_ref(),
            version: version.as_deref(),
            url,
            method: (http || *method != Method::Get).then_some(method),
            headers,
            body,
            args,
            env,
            timeout_seconds: *timeout_seconds,
            max_response_bytes: if http {
                self.max_response_bytes()
            } else {
                *max_response_bytes
            },
            allow_private_networks: *allow_private_networks,
            allowed_host,
            follow_redirects: *follow_redirects,
            mcp_enabled: *mcp_enabled,
            tags,
            pinned: *pinned,
            output_schema: output_schema.as_ref(),
            queue: queue.as_ref(),
            requires: requires.as_ref(),
            requires_batteries,
            triggers: triggers.as_ref(),
            serve: serve.as_ref(),
            created_at: *created_at,
            updated_at: *updated_at,
            extra,
        }
        .serialize(serializer)
    }
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
    /// A new shell button with every default: the same as
    /// [`Button::code`] with [`Runtime::Shell`].
    pub fn new(name: &ButtonName, now: Timestamp) -> Self {
        Self::code(name, Runtime::Shell, now)
    }

    /// A new code button of `runtime` with every default: schema
    /// [`SCHEMA_VERSION`], version `"1"`, 300 s timeout, created and updated `now`.
    ///
    /// ```
    /// use buttons_spec::{Button, ButtonKind, ButtonName, Runtime, Timestamp};
    ///
    /// let button = Button::code(&ButtonName::new("etl")?, Runtime::Python, Timestamp::UNIX_EPOCH);
    /// assert_eq!(button.kind(), ButtonKind::Code(Runtime::Python));
    /// assert!(button.to_json().contains(r#""runtime": "python""#));
    /// # Ok::<(), buttons_spec::Error>(())
    /// ```
    pub fn code(name: &ButtonName, runtime: Runtime, now: Timestamp) -> Self {
        Self::with_runtime(name, ButtonRuntime::Code(runtime), now)
    }

    /// A new prompt button (a press returns its `AGENTS.md`), with the
    /// defaults of [`Button::code`].
    pub fn prompt(name: &ButtonName, now: Timestamp) -> Self {
        Self::with_runtime(name, ButtonRuntime::Prompt, now)
    }

    /// A new HTTP button sending `GET url`, with the defaults of
    /// [`Button::code`], `max_response_bytes` at its default (10 MiB), and
    /// `allowed_host` derived from the URL template by [`lock_url_template`].
    ///
    /// # Security
    ///
    /// Refuses (`VALIDATION_ERROR`) a template whose scheme or host holds a
    /// placeholder, that carries userinfo, or that is not `http`/`https`, so
    /// an argument can never choose where the request goes.
    ///
    /// ```
    /// use buttons_spec::{Button, ButtonKind, ButtonName, Timestamp};
    ///
    /// let name = ButtonName::new("weather")?;
    /// let button = Button::http(&name, "https://API.example.com/w?city={{city}}", Timestamp::UNIX_EPOCH)?;
    /// assert_eq!(button.kind(), ButtonKind::Http);
    /// assert_eq!(button.allowed_host, "api.example.com");
    /// assert!(Button::http(&name, "https://{{host}}/w", Timestamp::UNIX_EPOCH).is_err());
    /// # Ok::<(), buttons_spec::Error>(())
    /// ```
    pub fn http(name: &ButtonName, url: &str, now: Timestamp) -> Result<Self> {
        let lock = lock_url_template(url)?;
        let mut button = Self::with_runtime(name, ButtonRuntime::Http, now);
        button.url = url.to_owned();
        button.allowed_host = lock.allowed_host;
        button.max_response_bytes = DEFAULT_MAX_RESPONSE_BYTES;
        Ok(button)
    }

    fn with_runtime(name: &ButtonName, runtime: ButtonRuntime, now: Timestamp) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            name: name.as_str().to_owned(),
            description: String::new(),
            runtime,
            kind: None,
            version: Some("1".to_owned()),
            url: String::new(),
            method: Method::Get,
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

    /// Parses `button.json` (schema version 1 or 2), refusing newer versions.
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

    /// What a press of this button does: the one place that decides it.
    ///
    /// `kind: "app"` wins; then a non-empty `url` makes an HTTP button
    /// whatever `runtime` says; then `runtime` decides (`http` without a
    /// URL is still HTTP, and fails for want of one; unset is shell).
    pub fn kind(&self) -> ButtonKind {
        if self.kind == Some(Kind::App) {
            return ButtonKind::App;
        }
        if !self.url.is_empty() {
            return ButtonKind::Http;
        }
        match &self.runtime {
            ButtonRuntime::Code(runtime) => ButtonKind::Code(*runtime),
            ButtonRuntime::Prompt => ButtonKind::Prompt,
            ButtonRuntime::Http => ButtonKind::Http,
            ButtonRuntime::Unset => ButtonKind::Code(Runtime::Shell),
            ButtonRuntime::Other(other) => ButtonKind::Unknown(other.clone()),
        }
    }

    /// What the button does, for someone choosing it (an agent reading a tool
    /// list): its `description` when it has one, else a sentence made from
    /// its kind and arguments.
    ///
    /// ```
    /// use buttons_spec::{ArgDef, Button, ButtonName};
    /// let mut button = Button::new(&ButtonName::new("deploy")?, jiff::Timestamp::UNIX_EPOCH);
    /// button.args = vec![ArgDef::parse("env:enum:required:dev|prod")?];
    /// assert_eq!(
    ///     button.describe(),
    ///     "Runs the shell script of `deploy`; arguments: env (dev|prod, required)"
    /// );
    /// button.description = "Ships it".into();
    /// assert_eq!(button.describe(), "Ships it");
    /// # Ok::<(), buttons_spec::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        use std::fmt::Write as _;
        if !self.description.trim().is_empty() {
            return self.description.trim().to_owned();
        }
        let name = &self.name;
        let mut text = match self.kind() {
            ButtonKind::Code(runtime) => {
                format!("Runs the {} script of `{name}`", runtime.as_str())
            }
            ButtonKind::Http => {
                let host = if self.allowed_host.is_empty() {
                    String::new()
                } else {
                    format!(" to {}", self.allowed_host)
                };
                format!(
                    "Sends the HTTP {} request of `{name}`{host}",
                    self.method.as_str()
                )
            }
            ButtonKind::Prompt => format!("Returns the prompt of `{name}`"),
            ButtonKind::App => format!("The app `{name}` (not pressable)"),
            ButtonKind::Unknown(runtime) => format!("Runs the {runtime} code of `{name}`"),
        };
        if self.args.is_empty() {
            text.push_str("; no arguments");
        } else {
            text.push_str("; arguments: ");
            for (i, def) in self.args.iter().enumerate() {
                if i > 0 {
                    text.push_str(", ");
                }
                let ty = if def.arg_type == crate::ArgType::Enum {
                    def.values.join("|")
                } else {
                    def.arg_type.to_string()
                };
                let need = if def.required { "required" } else { "optional" };
                let _ = write!(text, "{} ({ty}, {need})", def.name);
            }
        }
        text
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

    /// The HTTP method as written (`GET` when unset): `self.method.as_str()`.
    pub fn method(&self) -> &str {
        self.method.as_str()
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

/// Parses a `--timeout` value: a positive duration, as
/// [`parse_duration`](crate::parse_duration) reads it (`90`, `1.5`, `90s`, `2m`, `1h`).
pub fn parse_timeout(given: &str) -> Result<Duration> {
    crate::parse_duration(given).map_err(|_| Error::InvalidTimeout {
        given: given.to_owned(),
    })
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
        assert_eq!(b.runtime, ButtonRuntime::Http);
        assert_eq!(b.method, Method::Get);
        assert!(b.env.is_empty());
        assert_eq!(b.args[0].name, "city");
        let out: serde_json::Value = serde_json::from_str(&b.to_json()).unwrap();
        let orig: serde_json::Value = serde_json::from_str(GO_FILE).unwrap();
        for key in [
            "schema_version",
            "runtime",
            "method",
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
        // The file had no max_response_bytes: an HTTP button is written with the default.
        assert_eq!(out["max_response_bytes"], 10_485_760);
        let again = Button::from_json(b.to_json().as_bytes()).unwrap();
        assert_eq!(again.to_json(), b.to_json());
        assert_eq!(
            again,
            Button {
                max_response_bytes: 10_485_760,
                ..b
            }
        );
    }

    #[test]
    fn reads_schema_1_and_2_refuses_newer() {
        let old = GO_FILE.replace("\"schema_version\": 2", "\"schema_version\": 1");
        assert_eq!(Button::from_json(old.as_bytes()).unwrap().schema_version, 1);
        let newer = GO_FILE.replace("\"schema_version\": 2", "\"schema_version\": 3");
        assert!(matches!(
            Button::from_json(newer.as_bytes()),
            Err(Error::UnsupportedSchema { version: 3 })
        ));
    }

    fn name() -> ButtonName {
        ButtonName::new("x").unwrap()
    }

    fn keys(b: &Button) -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(&b.to_json()).unwrap();
        v.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn writes_go_zero_values() {
        let b = Button::new(&name(), Timestamp::UNIX_EPOCH);
        assert_eq!(
            keys(&b),
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
        let v: serde_json::Value = serde_json::from_str(&b.to_json()).unwrap();
        assert_eq!(v["schema_version"], 2);
        assert_eq!(v["runtime"], "shell");
        assert_eq!(v["created_at"], "1970-01-01T00:00:00Z");
    }

    #[test]
    fn constructors() {
        let now = Timestamp::UNIX_EPOCH;
        for runtime in Runtime::ALL {
            let b = Button::code(&name(), runtime, now);
            assert_eq!(b.runtime, ButtonRuntime::Code(runtime));
            assert_eq!(b.kind(), ButtonKind::Code(runtime));
            assert_eq!(b.schema_version, 2);
            assert_eq!(b.version.as_deref(), Some("1"));
            assert_eq!(b.timeout_seconds, 300);
            assert!(
                b.to_json()
                    .contains(&format!("\"runtime\": \"{}\",", runtime.as_str()))
            );
        }
        assert_eq!(
            Button::new(&name(), now),
            Button::code(&name(), Runtime::Shell, now)
        );

        let b = Button::prompt(&name(), now);
        assert_eq!(b.kind(), ButtonKind::Prompt);
        assert!(b.to_json().contains("\"runtime\": \"prompt\","));
        assert_eq!(keys(&b), keys(&Button::new(&name(), now)));

        let b = Button::http(
            &name(),
            "https://API.Example.com:8443/v1/{{id}}?q={{q}}",
            now,
        )
        .unwrap();
        assert_eq!(b.kind(), ButtonKind::Http);
        assert_eq!(b.runtime, ButtonRuntime::Http);
        assert_eq!(b.url, "https://API.Example.com:8443/v1/{{id}}?q={{q}}");
        assert_eq!(b.allowed_host, "api.example.com:8443");
        assert_eq!(b.method, Method::Get);
        assert_eq!(b.max_response_bytes, 10_485_760);
        assert_eq!(
            b.to_json(),
            r#"{
  "schema_version": 2,
  "name": "x",
  "runtime": "http",
  "version": "1",
  "url": "https://API.Example.com:8443/v1/{{id}}?q={{q}}",
  "method": "GET",
  "env": {},
  "timeout_seconds": 300,
  "max_response_bytes": 10485760,
  "allowed_host": "api.example.com:8443",
  "mcp_enabled": false,
  "created_at": "1970-01-01T00:00:00Z",
  "updated_at": "1970-01-01T00:00:00Z"
}
"#
        );
        for bad in [
            "https://{{host}}/x",
            "{{scheme}}://example.com/",
            "https://example.com:{{port}}/",
            "https://user:pw@example.com/",
            "ftp://example.com/",
        ] {
            let err = Button::http(&name(), bad, now).unwrap_err();
            assert!(matches!(err, Error::InvalidUrl { .. }), "{bad}: {err}");
            assert_eq!(err.code(), crate::ErrorCode::ValidationError);
        }
    }

    #[test]
    fn runtime_values() {
        for (written, runtime, written_back) in [
            ("shell", ButtonRuntime::Code(Runtime::Shell), "shell"),
            ("sh", ButtonRuntime::Code(Runtime::Shell), "shell"),
            ("bash", ButtonRuntime::Code(Runtime::Bash), "bash"),
            ("python3", ButtonRuntime::Code(Runtime::Python), "python"),
            ("js", ButtonRuntime::Code(Runtime::Node), "node"),
            ("javascript", ButtonRuntime::Code(Runtime::Node), "node"),
            ("prompt", ButtonRuntime::Prompt, "prompt"),
            ("http", ButtonRuntime::Http, "http"),
            ("", ButtonRuntime::Unset, ""),
            ("cobol", ButtonRuntime::Other("cobol".into()), "cobol"),
            ("Shell", ButtonRuntime::Other("Shell".into()), "Shell"),
        ] {
            let read: ButtonRuntime = serde_json::from_str(&format!("{written:?}")).unwrap();
            assert_eq!(read, runtime, "{written:?}");
            assert_eq!(
                serde_json::to_string(&read).unwrap(),
                format!("{written_back:?}")
            );
        }
        let unset: ButtonRuntime = serde_json::from_str("null").unwrap();
        assert_eq!(unset, ButtonRuntime::Unset);
        let kind: Kind = serde_json::from_str(r#""app""#).unwrap();
        assert_eq!(kind, Kind::App);
        assert_eq!(serde_json::to_string(&kind).unwrap(), r#""app""#);
    }

    /// A file as this build writes it (field order, indentation), with
    /// values no version of the tool knows.
    const UNKNOWN_VALUES: &str = r#"{
  "schema_version": 2,
  "name": "x",
  "runtime": "cobol",
  "kind": "widget",
  "version": "7",
  "url": "https://api.example.com/",
  "method": "PURGE",
  "env": {},
  "timeout_seconds": 300,
  "max_response_bytes": 1024,
  "allowed_host": "api.example.com",
  "mcp_enabled": false,
  "created_at": "1970-01-01T00:00:00Z",
  "updated_at": "1970-01-01T00:00:00Z",
  "zz_future": true
}
"#;

    #[test]
    fn unknown_runtime_kind_and_method_round_trip_byte_for_byte() {
        let b = Button::from_json(UNKNOWN_VALUES.as_bytes()).unwrap();
        assert_eq!(b.runtime, ButtonRuntime::Other("cobol".into()));
        assert_eq!(b.kind, Some(Kind::Other("widget".into())));
        assert_eq!(b.method, Method::Other("PURGE".into()));
        // A URL makes it an HTTP button whatever the runtime says.
        assert_eq!(b.kind(), ButtonKind::Http);
        assert_eq!(b.to_json(), UNKNOWN_VALUES);

        for (field, from, to) in [
            ("runtime", r#""cobol""#, r#""Python 3""#),
            ("kind", r#""widget""#, r#""""#),
            ("method", r#""PURGE""#, r#""post""#),
            ("method", r#""PURGE""#, r#""GE T""#),
        ] {
            let file = UNKNOWN_VALUES.replace(
                &format!("\"{field}\": {from}"),
                &format!("\"{field}\": {to}"),
            );
            assert_ne!(file, UNKNOWN_VALUES);
            let b = Button::from_json(file.as_bytes()).unwrap();
            assert_eq!(b.to_json(), file, "{field}: {to}");
        }

        // Without a URL, an unknown runtime is an unknown kind of button.
        let code = UNKNOWN_VALUES
            .replace("  \"url\": \"https://api.example.com/\",\n", "")
            .replace("  \"allowed_host\": \"api.example.com\",\n", "");
        let b = Button::from_json(code.as_bytes()).unwrap();
        assert_eq!(b.kind(), ButtonKind::Unknown("cobol".into()));
        assert_eq!(b.to_json(), code);
    }

    #[test]
    fn http_buttons_are_written_in_go_form() {
        // As older Go versions wrote HTTP buttons: runtime "", no method, no cap.
        let old = r#"{"schema_version":1,"name":"x","runtime":"","url":"https://h/","allowed_host":"h",
            "env":{},"timeout_seconds":0,"mcp_enabled":false,
            "created_at":"2026-04-10T14:32:11Z","updated_at":"2026-04-10T14:32:11Z"}"#;
        let b = Button::from_json(old.as_bytes()).unwrap();
        assert_eq!(b.runtime, ButtonRuntime::Unset);
        assert_eq!(b.kind(), ButtonKind::Http);
        assert_eq!(b.max_response_bytes, 0);
        let v: serde_json::Value = serde_json::from_str(&b.to_json()).unwrap();
        assert_eq!(v["runtime"], "http");
        assert_eq!(v["method"], "GET");
        assert_eq!(v["max_response_bytes"], 10_485_760);
        assert_eq!(
            v["schema_version"], 1,
            "a read-modify-write keeps the version"
        );

        // A code button omits method GET and max_response_bytes 0, and keeps "".
        let code = old
            .replace(r#""url":"https://h/","allowed_host":"h","#, "")
            .replace(r#""runtime":"","#, r#""runtime":"","method":"","#);
        let b = Button::from_json(code.as_bytes()).unwrap();
        assert_eq!(b.kind(), ButtonKind::Code(Runtime::Shell));
        let v: serde_json::Value = serde_json::from_str(&b.to_json()).unwrap();
        assert_eq!(v["runtime"], "");
        assert!(v.get("method").is_none(), "{v}");
        assert!(v.get("max_response_bytes").is_none(), "{v}");
        let mut b = b;
        b.method = Method::Post;
        b.max_response_bytes = 5;
        let v: serde_json::Value = serde_json::from_str(&b.to_json()).unwrap();
        assert_eq!(
            (&v["method"], &v["max_response_bytes"]),
            (&"POST".into(), &5.into())
        );
    }

    #[test]
    fn every_field_round_trips() {
        let mut b = Button::http(&name(), "https://h/{{a}}", Timestamp::UNIX_EPOCH).unwrap();
        b.description = "d".into();
        b.kind = Some(Kind::Other("k".into()));
        b.version = Some("3".into());
        b.method = Method::Patch;
        b.headers.insert("X-A".into(), "1".into());
        b.body = "{}".into();
        b.args.push(ArgDef::parse("a:string:required").unwrap());
        b.env.insert("E".into(), "v".into());
        b.timeout_seconds = 9;
        b.max_response_bytes = 99;
        b.allow_private_networks = true;
        b.follow_redirects = Some(FollowRedirects::None);
        b.mcp_enabled = true;
        b.tags.push("t".into());
        b.pinned = true;
        b.output_schema = Some(serde_json::json!({"type": "object"}));
        b.queue = Some(serde_json::json!({"n": 1}));
        b.requires = Some(serde_json::json!(["git"]));
        b.requires_batteries.push("KEY".into());
        b.triggers = Some(serde_json::json!([]));
        b.serve = Some(serde_json::json!({"port": 1}));
        b.updated_at = Timestamp::from_second(1).unwrap();
        b.extra.insert("future".into(), serde_json::json!([1]));
        assert_eq!(Button::from_json(b.to_json().as_bytes()).unwrap(), b);
        // The 28 named fields and the one extra.
        assert_eq!(keys(&b).len(), 29);
    }

    #[test]
    fn kinds() {
        let mut b = Button::new(&name(), Timestamp::UNIX_EPOCH);
        assert_eq!(b.kind(), ButtonKind::Code(Runtime::Shell));
        b.runtime = ButtonRuntime::Unset;
        assert_eq!(b.kind(), ButtonKind::Code(Runtime::Shell));
        b.runtime = ButtonRuntime::Prompt;
        assert_eq!(b.kind(), ButtonKind::Prompt);
        b.runtime = ButtonRuntime::Http;
        assert_eq!(b.kind(), ButtonKind::Http);
        b.runtime = ButtonRuntime::Other("cobol".into());
        assert_eq!(b.kind(), ButtonKind::Unknown("cobol".into()));
        b.kind = Some(Kind::Other("app ".into()));
        assert_eq!(b.kind(), ButtonKind::Unknown("cobol".into()));
        b.url = "https://h/".into();
        assert_eq!(b.kind(), ButtonKind::Http);
        b.kind = Some(Kind::App);
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
