//! The crate's error type and the stable error codes shared by every crate.

use serde::{Deserialize, Serialize};

/// A stable, machine-readable error code.
///
/// These are the codes of the JSON envelope (`{"ok": false, "error": {"code": …}}`)
/// that agents and scripts match on. Every crate's `Error::code()` returns one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ErrorCode {
    /// A button (or battery, or record) does not exist.
    NotFound,
    /// A required argument was not supplied.
    MissingArg,
    /// Input was rejected: a bad name, argument, flag, URL or spec.
    ValidationError,
    /// The press ran out of time.
    Timeout,
    /// The script failed, or the HTTP request failed or was refused.
    ScriptError,
    /// The interpreter for the button's runtime is not installed.
    RuntimeMissing,
    /// A prompt button's text could not be read.
    PromptError,
    /// Anything else: an I/O failure or a broken invariant.
    InternalError,
    /// The command does not apply here, e.g. an interactive view without a terminal.
    NotApplicable,
    /// A press waited for a slot of its button's queue longer than its
    /// timeout allowed, and did not run.
    QueueTimeout,
    /// The press was cancelled (by the caller, a client's cancellation or
    /// Ctrl-C) before it finished.
    Cancelled,
    /// A required drawer input was not supplied, or has the wrong type.
    MissingInput,
    /// A drawer does not exist.
    DrawerNotFound,
    /// A button a drawer step names does not exist.
    ButtonNotFound,
    /// A `${…}` reference could not be evaluated.
    ResolveError,
    /// A sub-drawer step failed.
    SubdrawerFailed,
    /// A flow drawer was pressed: it needs an external agent runtime.
    FlowRuntimeRequired,
    /// A drawer verb does not apply to this kind of drawer.
    DrawerKindMismatch,
    /// More than one candidate matched.
    Ambiguous,
    /// A step kind this version does not press yet.
    KindNotImplemented,
    /// A button has no trigger with that id.
    TriggerNotFound,
    /// A webhook path is taken by another trigger (or by `/api/…`).
    TriggerConflict,
    /// A webhook's secret resolves to nothing: the route refuses everyone.
    AuthMisconfigured,
    /// An iteration of a `for_each` step failed (`on_item_failure: stop`).
    ForeachItemFailed,
    /// The process running a press ended (killed, crashed) before it wrote
    /// the run's record; a later command recorded the run from its marker.
    Interrupted,
}

impl ErrorCode {
    /// The code as it appears on the wire, e.g. `"MISSING_ARG"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "NOT_FOUND",
            Self::MissingArg => "MISSING_ARG",
            Self::ValidationError => "VALIDATION_ERROR",
            Self::Timeout => "TIMEOUT",
            Self::ScriptError => "SCRIPT_ERROR",
            Self::RuntimeMissing => "RUNTIME_MISSING",
            Self::PromptError => "PROMPT_ERROR",
            Self::InternalError => "INTERNAL_ERROR",
            Self::NotApplicable => "NOT_APPLICABLE",
            Self::QueueTimeout => "QUEUE_TIMEOUT",
            Self::Cancelled => "CANCELLED",
            Self::MissingInput => "MISSING_INPUT",
            Self::DrawerNotFound => "DRAWER_NOT_FOUND",
            Self::ButtonNotFound => "BUTTON_NOT_FOUND",
            Self::ResolveError => "RESOLVE_ERROR",
            Self::SubdrawerFailed => "SUBDRAWER_FAILED",
            Self::FlowRuntimeRequired => "FLOW_RUNTIME_REQUIRED",
            Self::DrawerKindMismatch => "DRAWER_KIND_MISMATCH",
            Self::Ambiguous => "AMBIGUOUS",
            Self::KindNotImplemented => "KIND_NOT_IMPLEMENTED",
            Self::TriggerNotFound => "TRIGGER_NOT_FOUND",
            Self::TriggerConflict => "TRIGGER_CONFLICT",
            Self::AuthMisconfigured => "AUTH_MISCONFIGURED",
            Self::ForeachItemFailed => "FOREACH_ITEM_FAILED",
            Self::Interrupted => "INTERRUPTED",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong while parsing or validating a button spec or its input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A button name is not acceptable.
    #[error("invalid button name {name:?}: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A button name is one of the CLI's command names.
    #[error("button name {name:?} is reserved (it is a buttons command)")]
    ReservedName {
        /// The reserved name.
        name: String,
    },
    /// An argument definition (`name:type:required|optional[:a|b]`) is malformed.
    #[error("invalid argument definition {definition:?}: {reason}")]
    InvalidArgDef {
        /// The definition as given.
        definition: String,
        /// Why it was refused.
        reason: String,
    },
    /// Two argument definitions share a name.
    #[error("argument {name:?} is defined twice")]
    DuplicateArg {
        /// The duplicated name.
        name: String,
    },
    /// Two argument names map to the same `BUTTONS_ARG_*` variable.
    #[error("arguments {first:?} and {second:?} both map to the environment variable {env_var}")]
    ArgEnvCollision {
        /// The first argument.
        first: String,
        /// The second argument.
        second: String,
        /// The shared variable name.
        env_var: String,
    },
    /// A `--arg` value is not of the form `key=value`.
    #[error("malformed argument {given:?}: expected key=value")]
    MalformedArg {
        /// What was given.
        given: String,
    },
    /// A required argument was not supplied at press time.
    #[error("missing required argument {name:?}")]
    MissingArg {
        /// The missing argument's name.
        name: String,
    },
    /// An argument was supplied that the button does not declare.
    #[error("unknown argument {name:?}")]
    UnknownArg {
        /// The supplied name.
        name: String,
        /// The names the button declares.
        declared: Vec<String>,
    },
    /// An argument was supplied twice.
    #[error("argument {name:?} was given more than once")]
    RepeatedArg {
        /// The repeated name.
        name: String,
    },
    /// An argument value does not fit its declared type.
    #[error("invalid value {value:?} for argument {name:?}: {reason}")]
    InvalidArgValue {
        /// The argument's name.
        name: String,
        /// The value as given.
        value: String,
        /// What was expected.
        reason: String,
    },
    /// A size such as `10M` could not be parsed or is out of range.
    #[error("invalid size {given:?}: {reason}")]
    InvalidSize {
        /// What was given.
        given: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A URL template is not acceptable for an HTTP button.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL template as given.
        url: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A `--header` line is not `Key: Value`, or its value holds a line break.
    #[error("invalid header {given:?}: {reason}")]
    InvalidHeader {
        /// The header line as given.
        given: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// An HTTP method is not a word of letters.
    #[error("invalid HTTP method {given:?}")]
    InvalidMethod {
        /// The method as given.
        given: String,
    },
    /// A runtime name is not one of `shell`, `bash`, `python`, `node`, `prompt`.
    #[error("unsupported runtime {runtime:?}")]
    InvalidRuntime {
        /// The runtime as given.
        runtime: String,
    },
    /// A timeout is zero or not a duration.
    #[error("invalid timeout {given:?}: expected a positive duration (90, 1.5, 90s, 2m, 1h)")]
    InvalidTimeout {
        /// What was given.
        given: String,
    },
    /// A script's extension or shebang names an interpreter that is not a runtime.
    #[error(
        "{found_in} names {interpreter:?}, which is not one of the runtimes (shell, bash, python, node)"
    )]
    UnsupportedInterpreter {
        /// The interpreter named.
        interpreter: String,
        /// Where: "the shebang line" or "the extension .rb".
        found_in: String,
    },
    /// An HTTP template's `{{name}}` names no declared argument.
    #[error("the {field} has the placeholder {{{{{name}}}}}, which names no declared argument")]
    UndeclaredPlaceholder {
        /// The placeholder's name.
        name: String,
        /// `url` or `body`.
        field: &'static str,
        /// The declared argument names.
        declared: Vec<String>,
    },
    /// A duration is zero or not a number with an optional unit.
    #[error("invalid duration {given:?}: expected a positive duration (90, 1.5, 90s, 2m, 1h)")]
    InvalidDuration {
        /// What was given.
        given: String,
    },
    /// A battery key is not `[A-Z][A-Z0-9_]*`.
    #[error(
        "invalid battery key {key:?}: keys are uppercase letters, digits and '_', starting with a letter"
    )]
    InvalidBatteryKey {
        /// The key as given.
        key: String,
    },
    /// A `button.json` uses a schema version this build does not understand.
    #[error(
        "button.json has schema_version {version}, newer than this build understands (at most 2)"
    )]
    UnsupportedSchema {
        /// The version found.
        version: u64,
    },
    /// A `button.json` is not valid JSON or does not have the expected shape.
    #[error("button.json is not valid")]
    Json(#[source] serde_json::Error),
    /// A `batteries.json` uses a schema version this build does not understand.
    #[error(
        "batteries.json has schema_version {version}, newer than this build understands (at most 1)"
    )]
    UnsupportedBatteriesSchema {
        /// The version found.
        version: u64,
    },
    /// A `batteries.json` is not valid JSON, or is neither the envelope
    /// `{"schema_version": 1, "batteries": {KEY: value}}` nor a flat `{KEY: value}` map.
    #[error("batteries.json is not valid")]
    BatteriesJson(#[source] serde_json::Error),
    /// A trigger (or a button's `triggers` list) is not acceptable.
    #[error("invalid trigger: {reason}")]
    InvalidTrigger {
        /// Why it was refused.
        reason: String,
    },
    /// A webhook path is `/api/…` or taken by another trigger.
    #[error("the webhook path {path:?} is taken by {taken_by}")]
    TriggerConflict {
        /// The path.
        path: String,
        /// Who has it: `the REST API`, `button NAME (trigger ID)`, `drawer NAME`.
        taken_by: String,
    },
    /// The literal `scheme://host[:port]` of an HTTP button's URL does not
    /// parse as a press would parse it (port out of range, IPv6 zone id,
    /// forbidden host character…).
    #[error("invalid URL {url:?}: {source}")]
    UrlParse {
        /// The URL template as given.
        url: String,
        /// The URL parser's reason.
        #[source]
        source: url::ParseError,
    },
}

impl Error {
    /// The stable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::MissingArg { .. } => ErrorCode::MissingArg,
            Self::TriggerConflict { .. } => ErrorCode::TriggerConflict,
            _ => ErrorCode::ValidationError,
        }
    }

    /// A sentence naming the fix, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::InvalidName { .. } => Some(
                "use lowercase letters, digits and '-' (at most 128 characters), e.g. 'deploy-site'"
                    .to_owned(),
            ),
            Self::ReservedName { name } => Some(format!("pick another name, e.g. '{name}-button'")),
            Self::InvalidArgDef { .. } => Some(
                "write arguments as name:type:required|optional, types string|int|bool|enum, enums with a fourth part a|b|c"
                    .to_owned(),
            ),
            Self::DuplicateArg { .. } | Self::ArgEnvCollision { .. } => {
                Some("give each argument a distinct name".to_owned())
            }
            Self::MalformedArg { .. } => Some("pass arguments as --arg key=value".to_owned()),
            Self::MissingArg { name } => Some(format!("pass it with --arg {name}=VALUE")),
            Self::UnknownArg { declared, .. } => Some(if declared.is_empty() {
                "this button takes no arguments".to_owned()
            } else {
                format!("this button takes: {}", declared.join(", "))
            }),
            Self::RepeatedArg { .. } => Some("pass each argument once".to_owned()),
            Self::InvalidSize { .. } => {
                Some("use a positive size such as 1024, 10K, 10M or 1G (at most 2G)".to_owned())
            }
            Self::UrlParse { .. } => Some(
                "fix the host or port: a port is at most 65535, an IPv6 literal has no zone id (%eth0), a host has no %00 or spaces"
                    .to_owned(),
            ),
            Self::InvalidUrl { .. } => Some(
                "use http:// or https:// with a literal host; {{arg}} placeholders belong in the path, query or fragment, credentials in --header"
                    .to_owned(),
            ),
            Self::InvalidHeader { .. } => Some("write headers as --header 'Key: Value'".to_owned()),
            Self::InvalidMethod { .. } => {
                Some("use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS".to_owned())
            }
            Self::InvalidRuntime { .. } => {
                Some("use one of: shell, bash, python, node, prompt".to_owned())
            }
            Self::InvalidTimeout { .. } => Some("e.g. --timeout 30, --timeout 90s or --timeout 2m".to_owned()),
            Self::UnsupportedInterpreter { .. } => Some(
                "write the script for shell, bash, python or node, or set the runtime explicitly to force one"
                    .to_owned(),
            ),
            Self::UndeclaredPlaceholder { name, .. } => Some(format!(
                "declare it as an argument (e.g. {name}:string:required), or fix the placeholder's name"
            )),
            Self::InvalidDuration { .. } => Some("a number of seconds, or with a unit: 90s, 2m, 1h".to_owned()),
            Self::UnsupportedSchema { .. } => {
                Some("upgrade buttons to read this button".to_owned())
            }
            Self::UnsupportedBatteriesSchema { .. } => {
                Some("upgrade buttons to read these batteries".to_owned())
            }
            Self::BatteriesJson(_) => Some(
                "write it as {\"schema_version\": 1, \"batteries\": {\"KEY\": \"value\"}}".to_owned(),
            ),
            Self::InvalidBatteryKey { key } => {
                Some(format!("e.g. {}", key.to_ascii_uppercase().replace(['-', ' ', '.'], "_")))
            }
            Self::InvalidTrigger { .. } => Some(
                "use --cron --schedule '*/5 * * * *' (or @every 30s, @hourly, @daily), --watch --path FILE, or --webhook --webhook-path /hooks/NAME"
                    .to_owned(),
            ),
            Self::TriggerConflict { .. } => Some(
                "pick another --webhook-path (not under /api/), or remove the other trigger first"
                    .to_owned(),
            ),
            Self::InvalidArgValue { .. } | Self::Json(_) => None,
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
