//! The crate's error type: what keeps a press from producing a result at all.
//!
//! A press that runs and fails (a missing interpreter, a non-zero exit, a
//! timeout, an unreadable prompt) is not an error here: it is a
//! [`PressResult`](buttons_spec::PressResult) with `status` and `error_type`
//! set, so the caller still records it.

use buttons_spec::ErrorCode;

/// Everything that keeps [`press`](crate::press) from returning a result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The button is of a kind this build cannot press yet.
    #[error("press {kind} buttons: not supported by this build")]
    Unsupported {
        /// The kind of button, e.g. `http`.
        kind: &'static str,
    },
    /// The tokio runtime behind [`press_blocking`](crate::press_blocking) could not be built.
    #[error("start the async runtime for a blocking press")]
    Runtime(#[source] std::io::Error),
}

impl Error {
    /// The stable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unsupported { .. } => ErrorCode::ValidationError,
            Self::Runtime(_) => ErrorCode::InternalError,
        }
    }

    /// A sentence naming the fix, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Unsupported { kind } => Some(format!(
                "this build cannot press {kind} buttons; use a build with {kind} support"
            )),
            Self::Runtime(_) => None,
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
}
