//! The crate's error type: what keeps a press from producing a result at all.
//!
//! A press that runs and fails (a missing interpreter, a non-zero exit, a
//! timeout, an unreadable prompt) is not an error here: it is a
//! [`PressResult`](buttons_spec::PressResult) with `status` and `error_type`
//! set, so the caller still records it.

use buttons_spec::{ArgDef, ErrorCode};

/// Everything that keeps a press from running, or its record from being
/// written.
///
/// [`Error::code`] is the stable code front ends report; [`Error::hint`]
/// names the fix in this library's terms (a button's fields, a
/// [`PressRequest`](crate::PressRequest) or [`PressOptions`](crate::PressOptions)),
/// never a command line's: each front end words its own hints from the code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A name or spec value is not valid.
    #[error(transparent)]
    Spec(#[from] buttons_spec::Error),
    /// The arguments do not fit the button's definitions (a missing required
    /// argument, a value of the wrong type, an undeclared name).
    #[error("{source}")]
    InvalidArgs {
        /// The button.
        button: String,
        /// The button's argument definitions (what a front end shows).
        defs: Vec<ArgDef>,
        /// What is wrong.
        source: Box<buttons_spec::Error>,
    },
    /// The data directory could not be read or written (including an
    /// unknown button: [`ErrorCode::NotFound`]).
    #[error(transparent)]
    Store(#[from] buttons_store::Error),
    /// An HTTP button's request could not be rendered (a dry run).
    #[error(transparent)]
    Http(#[from] buttons_http::Error),
    /// The button is of a kind this build cannot press yet.
    #[error("press {kind} buttons: not supported by this build")]
    Unsupported {
        /// The kind of button, e.g. `http`.
        kind: &'static str,
    },
    /// A button's `queue` block is not valid.
    #[error("button {button}: {reason}")]
    InvalidQueue {
        /// The button.
        button: String,
        /// What is wrong.
        reason: String,
    },
    /// Every slot of the button's queue stayed taken for the whole press
    /// timeout: nothing ran.
    #[error("waited {}s for a slot of queue {queue}: all stayed taken", waited.as_secs_f32())]
    QueueTimeout {
        /// The queue.
        queue: String,
        /// How long the press waited.
        waited: std::time::Duration,
    },
    /// The press was cancelled before it ran (while it waited for a queue
    /// slot or an idempotency key): nothing ran.
    #[error("cancelled while waiting for {what}")]
    Cancelled {
        /// What it waited for, e.g. `queue openai`.
        what: String,
    },
    /// An idempotency key was used before with other arguments.
    #[error("idempotency key {key} was used with other arguments")]
    IdempotencyConflict {
        /// The key.
        key: String,
    },
    /// An idempotency key or TTL is not usable (empty, too long, zero).
    #[error("{reason}")]
    InvalidIdempotency {
        /// What is wrong.
        reason: String,
    },
    /// A smash that cannot start: no buttons, or an argument no button
    /// takes.
    #[error("{reason}")]
    InvalidSmash {
        /// What is wrong.
        reason: String,
    },
    /// A press task of a smash panicked or was aborted.
    #[error("a press of the smash did not finish: {0}")]
    Task(String),
    /// The tokio runtime behind a blocking press could not be built.
    #[error("start the async runtime for a blocking press")]
    Runtime(#[source] std::io::Error),
    /// A drawer could not be pressed (no such drawer, a flow drawer,
    /// validation errors, a missing input).
    #[error("{}", .0.message)]
    Drawer(Box<DrawerError>),
    /// A trigger cannot be added as given (an empty webhook token, a
    /// watched path that cannot be made absolute or is not UTF-8).
    #[error("{reason}")]
    InvalidTrigger {
        /// What is wrong.
        reason: String,
    },
    /// The button has no trigger of this id.
    #[error("button {button} has no trigger {id:?}")]
    TriggerNotFound {
        /// The button.
        button: String,
        /// The id asked for.
        id: String,
        /// The ids of the triggers the button has.
        ids: Vec<String>,
    },
    /// A cron trigger's schedule is not valid.
    #[error("invalid schedule {schedule:?}: {reason}")]
    InvalidSchedule {
        /// The schedule as given.
        schedule: String,
        /// Why it was refused.
        reason: String,
    },
}

/// Why a drawer could not be pressed (see [`Error::Drawer`]).
#[derive(Debug, Clone)]
pub struct DrawerError {
    /// The code (`MISSING_INPUT`, `FLOW_RUNTIME_REQUIRED`, …).
    pub code: ErrorCode,
    /// What is wrong.
    pub message: String,
    /// The fix.
    pub hint: String,
    /// Structured details (the validation findings).
    pub details: Option<serde_json::Value>,
}

impl Error {
    pub(crate) fn drawer(
        code: ErrorCode,
        message: String,
        hint: String,
        details: Option<serde_json::Value>,
    ) -> Self {
        Self::Drawer(Box::new(DrawerError {
            code,
            message,
            hint,
            details,
        }))
    }
}

impl Error {
    /// The stable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Spec(e) => e.code(),
            Self::InvalidArgs { source, .. } => source.code(),
            Self::Store(e) => e.code(),
            Self::Http(e) => e.code(),
            Self::Unsupported { .. } => ErrorCode::ValidationError,
            Self::Runtime(_) | Self::Task(_) => ErrorCode::InternalError,
            Self::InvalidQueue { .. }
            | Self::IdempotencyConflict { .. }
            | Self::InvalidIdempotency { .. }
            | Self::InvalidSmash { .. } => ErrorCode::ValidationError,
            Self::QueueTimeout { .. } => ErrorCode::QueueTimeout,
            Self::Cancelled { .. } => ErrorCode::Cancelled,
            Self::Drawer(d) => d.code,
            Self::InvalidSchedule { .. } | Self::InvalidTrigger { .. } => {
                ErrorCode::ValidationError
            }
            Self::TriggerNotFound { .. } => ErrorCode::TriggerNotFound,
        }
    }

    /// A sentence naming the fix in API terms, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::InvalidArgs { source, .. } => match source.as_ref() {
                buttons_spec::Error::MissingArg { name } => {
                    Some(format!("pass the argument `{name}`"))
                }
                buttons_spec::Error::MalformedArg { .. } => {
                    Some("give each argument as a name and a value".to_owned())
                }
                other => other.hint(),
            },
            Self::Spec(e) => e.hint(),
            Self::Store(buttons_store::Error::NotFound { .. }) => Some(
                "check the name: `Store::list` lists the buttons of the data directory".to_owned(),
            ),
            Self::Store(e) => e.hint(),
            Self::Http(e) => crate::http::api_hint(e),
            Self::Unsupported { kind } => Some(format!(
                "this build cannot press {kind} buttons; use a build with {kind} support"
            )),
            Self::Runtime(_) | Self::Cancelled { .. } | Self::Task(_) => None,
            Self::InvalidSmash { .. } => Some(
                "name the buttons in `SmashRequest::buttons`; give an argument as `k` (every button declaring it) or `NAME.k` (one button)"
                    .to_owned(),
            ),
            Self::InvalidQueue { .. } => Some(
                "give `queue` a non-empty `name`, a `concurrency` of 1 or more and an optional string `key`"
                    .to_owned(),
            ),
            Self::QueueTimeout { queue, .. } => Some(format!(
                "raise the press timeout (`PressRequest::timeout`) or the `concurrency` of queue {queue} on every button sharing it"
            )),
            Self::InvalidIdempotency { .. } => Some(
                "give a non-empty key of at most 512 bytes and a TTL like 24h".to_owned(),
            ),
            Self::IdempotencyConflict { .. } => Some(
                "use a new idempotency key for other arguments, or repeat the original arguments"
                    .to_owned(),
            ),
            Self::Drawer(d) => Some(d.hint.clone()),
            Self::InvalidTrigger { .. } => Some(
                "give a non-empty token, or `WebhookToken::Generate` to have one made; watch a path that is UTF-8"
                    .to_owned(),
            ),
            Self::TriggerNotFound { ids, .. } if ids.is_empty() => {
                Some("the button has no triggers".to_owned())
            }
            Self::TriggerNotFound { ids, .. } => Some(format!("its triggers: {}", ids.join(", "))),
            Self::InvalidSchedule { .. } => Some(
                "use 5 cron fields (minute hour day month weekday, e.g. '*/5 * * * *'), @hourly, @daily or @every 30s"
                    .to_owned(),
            ),
        }
    }

    /// The argument definitions of the button, when the arguments were wrong.
    pub fn arg_defs(&self) -> Option<&[ArgDef]> {
        match self {
            Self::InvalidArgs { defs, .. } => Some(defs),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_messages() {
        let e = Error::Unsupported { kind: "http" };
        assert_eq!(e.code(), ErrorCode::ValidationError);
        assert_eq!(
            e.to_string(),
            "press http buttons: not supported by this build"
        );
        assert!(e.hint().unwrap().contains("http"));
        let e = Error::Runtime(std::io::Error::other("no threads"));
        assert_eq!(e.code(), ErrorCode::InternalError);
        assert!(e.hint().is_none());
    }

    #[test]
    fn hints_use_api_terms() {
        let e = Error::InvalidArgs {
            button: "greet".into(),
            defs: vec![],
            source: Box::new(buttons_spec::Error::MissingArg {
                name: "name".into(),
            }),
        };
        assert_eq!(e.code(), ErrorCode::MissingArg);
        assert_eq!(e.hint().unwrap(), "pass the argument `name`");
        let e = Error::Store(buttons_store::Error::NotFound { name: "x".into() });
        assert_eq!(e.code(), ErrorCode::NotFound);
        let hint = e.hint().unwrap();
        assert!(
            !hint.contains("buttons list") && hint.contains("Store::list"),
            "{hint}"
        );
        let e = Error::Http(buttons_http::Error::MissingAllowedHost);
        let hint = e.hint().unwrap();
        assert!(
            hint.contains("`allowed_host`") && !hint.contains("buttons create"),
            "{hint}"
        );
    }
}
