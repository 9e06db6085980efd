//! Runs buttons: the layer applications embed to press a button and get its
//! [`PressResult`](buttons_spec::PressResult).
//!
//! This crate owns what a press does: code buttons run as their own process
//! group with the environment of the reference (batteries, the button's
//! `env`, `BUTTONS_ARG_*`, `BUTTONS_PROGRESS_PATH`), a timeout and
//! cancellation that end the whole group (SIGTERM, grace, SIGKILL), output
//! captured up to 1 MiB per stream however much the script writes, live
//! output lines for a sink; prompt buttons return their `AGENTS.md`; HTTP
//! buttons send their request through `buttons-http`'s guard (private
//! networks, host lock, redirects, response cap) within the same timeout and
//! cancellation. It leaves finding buttons, loading batteries, creating the
//! progress file and writing run records to `buttons-store`, validating
//! arguments to `buttons-spec`, and rendering and guarding HTTP requests to
//! `buttons-http`. Unix only.
//!
//! [`press`] is async (tokio); [`press_blocking`] is for callers without a
//! runtime. Nothing is read implicitly: the child's base environment, the
//! `PATH` interpreters are found in and the start time are in the
//! [`PressContext`].
//!
//! # Example
//!
//! ```
//! use buttons_exec::{PressContext, PressOptions};
//! use buttons_spec::{ArgDef, Args, Batteries, Button, ButtonName, Status, Timestamp};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("main.sh"), "echo \"hello $BUTTONS_ARG_WHO\"\n")?;
//! let mut button = Button::new(&ButtonName::new("greet")?, Timestamp::UNIX_EPOCH);
//! button.args.push(ArgDef::parse("who:string:required")?);
//!
//! let args = Args::validate(&button.args, [("who", "$(whoami)")])?;
//! let batteries = Batteries::new();
//! let ctx = PressContext::new(&button, dir.path(), &args, &batteries);
//! let result = buttons_exec::press_blocking(&ctx, PressOptions::default())?;
//!
//! assert_eq!(result.status, Status::Ok);
//! assert_eq!(result.stdout, "hello $(whoami)\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![warn(clippy::unwrap_used)]

mod capture;
mod code;
mod context;
mod env;
mod error;
mod http;
mod press;
mod prompt;
mod unix;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use capture::MAX_LINE;
pub use context::{Cancel, DEFAULT_GRACE, LineSink, PressContext, PressOptions, Stream};
pub use env::{MASK, PROGRESS_ENV, dry_run_env, find_interpreter};
pub use error::Error;
pub use press::{press, press_blocking};
pub use prompt::{
    AGENTS_FILE, LEGACY_AGENTS_FILE, SCAFFOLD_MARKER, agent_notes, is_scaffold_agents_md,
};
