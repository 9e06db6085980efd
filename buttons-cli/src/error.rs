//! The CLI's error: a stable code, a message, a hint naming the fix, and
//! optionally the button's argument spec. One function, [`CliError::from`]
//! impls plus [`CliError::exit_code`], decides how every error is reported.

use std::process::ExitCode;

use buttons_spec::ErrorCode;
use serde::Serialize;

/// An error as the envelope shows it: `{"code", "message", "hint"?, "spec"?}`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CliError {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) spec: Option<Box<serde_json::Value>>,
    /// The process exit status, when not 1 (130 after Ctrl-C).
    #[serde(skip)]
    pub(crate) exit: Option<u8>,
}

impl CliError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: None,
            spec: None,
            exit: None,
        }
    }

    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationError, message)
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Every error exits 1, except a press ended by a signal (128 + its number).
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.exit.unwrap_or(1))
    }

    /// Builds an error from any library error: its message followed by every
    /// distinct cause in its source chain, with `code` and `hint`.
    pub(crate) fn from_parts(
        code: ErrorCode,
        hint: Option<String>,
        err: &dyn std::error::Error,
    ) -> Self {
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        Self {
            code,
            message,
            hint,
            spec: None,
            exit: None,
        }
    }
}

impl From<buttons_store::Error> for CliError {
    fn from(e: buttons_store::Error) -> Self {
        Self::from_parts(e.code(), e.hint(), &e)
    }
}

impl From<buttons_spec::Error> for CliError {
    fn from(e: buttons_spec::Error) -> Self {
        Self::from_parts(e.code(), e.hint(), &e)
    }
}

impl From<buttons_exec::Error> for CliError {
    /// The library's hints name API concepts; the command line words its
    /// own (flags and commands).
    fn from(e: buttons_exec::Error) -> Self {
        use buttons_exec::Error as E;
        let hint = match &e {
            E::InvalidArgs { button, source, .. } => Some(match source.as_ref() {
                buttons_spec::Error::MissingArg { name } => {
                    format!("pass it with --arg {name}=VALUE")
                }
                buttons_spec::Error::UnknownArg { name, declared } => {
                    crate::suggest::unknown_arg_hint(button, name, declared)
                }
                buttons_spec::Error::MalformedArg { .. } => {
                    "pass arguments as --arg key=value".to_owned()
                }
                other => other
                    .hint()
                    .unwrap_or_else(|| format!("run 'buttons {button}' to see its arguments")),
            }),
            E::Store(buttons_store::Error::NotFound { .. }) => {
                Some("run 'buttons list' to see the buttons there are".to_owned())
            }
            E::Store(inner) => inner.hint(),
            E::Spec(inner) => inner.hint(),
            E::Http(inner) => inner.hint(),
            E::QueueTimeout { queue, .. } => Some(format!(
                "wait longer with --timeout SECS, or raise the concurrency of queue {queue} on every button sharing it"
            )),
            E::IdempotencyConflict { .. } => Some(
                "use a new --idempotency-key for other arguments, or repeat the original ones"
                    .to_owned(),
            ),
            other => other.hint(),
        };
        let mut error = Self::from_parts(e.code(), hint, &e);
        if let Some(defs) = e.arg_defs() {
            error.spec = Some(Box::new(
                serde_json::to_value(defs).expect("argument definitions serialize"),
            ));
        }
        error
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        Self::from_parts(ErrorCode::InternalError, None, &e)
    }
}

/// The result type of commands.
pub(crate) type CliResult<T> = Result<T, CliError>;
