//! The press pipeline behind `buttons press`, for every front end that
//! presses buttons by name (the CLI, `buttons mcp`).
//!
//! [`press`] loads a button from a [`Store`](buttons_store::Store), validates
//! the arguments, merges batteries (local over global), creates the progress
//! file, runs the press through `buttons-exec` and writes exactly one run
//! record. Parsing flags and printing stay in the `buttons` binary.
//!
//! # Example
//!
//! ```
//! use buttons_cli::{PressRequest, Pressed};
//! use buttons_spec::{Button, ButtonName, Timestamp};
//! use buttons_store::{CodeSource, NewButton, Store};
//!
//! let tmp = tempfile::tempdir()?;
//! let store = Store::at(tmp.path())?;
//! let button = Button::new(&ButtonName::new("hi")?, Timestamp::now());
//! store.create(NewButton { button, code: CodeSource::Inline("echo hi".into()), prompt: None })?;
//!
//! let request = PressRequest { name: "hi".into(), ..PressRequest::default() };
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! let pressed = runtime.block_on(buttons_cli::press(&store, &request, vec![], Default::default()))?;
//! let Pressed::Ran(ran) = pressed else { unreachable!() };
//! assert_eq!(ran.result.stdout, "hi\n");
//! assert!(ran.record.is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![warn(clippy::unwrap_used)]

mod engine;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use engine::{PressError, PressRequest, Pressed, Ran, failure_of, parse_press_args, press};
