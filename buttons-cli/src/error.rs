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
}

impl CliError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: None,
            spec: None,
        }
    }

    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationError, message)
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Every error exits 1.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::FAILURE
    }

    /// Builds an error from any library error: its Display and source chain
    /// as the message, its code and hint.
    fn from_parts(code: ErrorCode, hint: Option<String>, err: &dyn std::error::Error) -> Self {
        buttons_cli::PressError::from_error(code, hint, err).into()
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

impl From<buttons_cli::PressError> for CliError {
    fn from(e: buttons_cli::PressError) -> Self {
        Self {
            code: e.code,
            message: e.message,
            hint: e.hint,
            spec: e.spec,
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        Self::from_parts(ErrorCode::InternalError, None, &e)
    }
}

/// The result type of commands.
pub(crate) type CliResult<T> = Result<T, CliError>;
