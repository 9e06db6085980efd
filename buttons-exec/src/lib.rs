//! Presses buttons: the layer every front end, and any application, presses
//! through.
//!
//! [`Engine`] presses a button by name from a [`Store`](buttons_store::Store):
//! it loads the spec, validates the arguments ([`ArgInput`] as text pairs or
//! JSON), merges the batteries, resolves the timeout ([`resolve_timeout`]),
//! creates the run's progress file, runs the press and writes one run record
//! beside it, both named by the run's id ([`Ran::id`]). [`Engine::plan`] is a
//! typed dry run ([`Plan`]). The same press path honours a button's `queue`
//! ([`QueueSpec`]: cross-process slots, `QUEUE_TIMEOUT`), idempotency keys
//! ([`PressRequest::idempotency`], [`Idempotency`]: one run per button and
//! key, replays flagged [`Ran::replayed`]), and [`Engine::smash`] presses
//! many buttons at once ([`SmashRequest`]). [`Engine::press_drawer`] presses a drawer:
//! its steps in order (or as a dependency graph, [`DrawerMode::Parallel`]),
//! with `for_each`, `switch`, `aggregate` and `wait`, each button step a press
//! through the same pipeline, with secrets masked in every record
//! ([`Engine::plan_drawer`] is its dry run). [`Triggers`] runs a data
//! directory's button triggers (cron [`Schedule`]s, watched files, webhook
//! routes) and drawer webhooks for a long-running front end, in a bounded
//! [`TriggerPool`], reloading them every second; [`Authenticator`],
//! [`check_button_token`] and [`webhook_payload`] authenticate webhook calls
//! (failing closed) and shape what a drawer press receives. Errors
//! ([`Error`]) carry a stable
//! [`code`](Error::code) and a [`hint`](Error::hint) in API terms.
//!
//! Below it, [`press`] runs one button from an in-memory spec
//! ([`PressContext`]): code buttons run as their own process group with the
//! environment of the reference (batteries, the button's `env`,
//! `BUTTONS_ARG_*`, `BUTTONS_PROGRESS_PATH`), a timeout and cancellation that
//! end the whole group (SIGTERM, grace, SIGKILL), output captured up to
//! 1 MiB per stream however much the script writes, live output lines for a
//! sink; prompt buttons return their `AGENTS.md`; HTTP buttons send their
//! request through `buttons-http`'s guard (private networks, host lock,
//! redirects, response cap) within the same timeout and cancellation. Files
//! are `buttons-store`'s, argument rules `buttons-spec`'s, rendering and
//! guarding HTTP requests `buttons-http`'s. Unix only.
//!
//! Async entry points ([`Engine::press`], [`press`]) run on tokio; the
//! `_blocking` ones are for callers without a runtime. Nothing is read
//! implicitly: the child's base environment (and so the `PATH` interpreters
//! are found in) is the engine's or the context's.
//!
//! # Example
//!
//! ```
//! use buttons_exec::{Engine, PressOptions, PressRequest};
//! use buttons_spec::{ArgDef, Button, ButtonName, Status, Timestamp};
//! use buttons_store::{CodeSource, NewButton, Store};
//!
//! let tmp = tempfile::tempdir()?;
//! let store = Store::at(tmp.path())?;
//! let mut button = Button::new(&ButtonName::new("greet")?, Timestamp::now());
//! button.args.push(ArgDef::parse("who:string:required")?);
//! let code = CodeSource::Inline("echo \"hello $BUTTONS_ARG_WHO\"".into());
//! store.create(NewButton { button, code, prompt: None })?;
//!
//! let engine = Engine::from_env(store);
//! let request = PressRequest::new("greet").arg("who", "$(whoami)");
//! let ran = engine.press_blocking(&request, PressOptions::default())?;
//! assert_eq!(ran.result.status, Status::Ok);
//! assert_eq!(ran.result.stdout, "hello $(whoami)\n");
//! assert_eq!(engine.store().records(None, 10)?.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![warn(clippy::unwrap_used)]

mod capture;
mod code;
mod context;
mod drawer;
mod engine;
mod env;
mod error;
mod http;
mod idempotency;
mod press;
mod prompt;
mod queue;
mod secrets;
mod smash;
mod triggers;
mod unix;
mod webhook;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use capture::MAX_LINE;
pub use context::{
    Cancel, DEFAULT_GRACE, EventSink, LineSink, PressContext, PressEvent, PressOptions, Stream,
};
pub use drawer::{
    DEFAULT_DRAWER_CONCURRENCY, DrawerMode, DrawerOptions, DrawerRan, DrawerRequest,
    MAX_DRAWER_DEPTH, StepSink, check_inputs,
};
pub use engine::{
    ArgInput, Engine, Loaded, Plan, PlannedAction, PressRequest, Ran, RecordOptions,
    resolve_timeout,
};
pub use env::{MASK, MAX_ENV_TOTAL, MAX_ENV_VAR, PROGRESS_ENV, dry_run_env, find_interpreter};
pub use error::{DrawerError, Error};
pub use idempotency::{
    DEFAULT_IDEMPOTENCY_TTL, Idempotency, MAX_IDEMPOTENCY_KEY, parse_go_duration,
};
pub use press::{press, press_blocking};
pub use prompt::{
    AGENTS_FILE, LEGACY_AGENTS_FILE, SCAFFOLD_MARKER, agent_notes, is_scaffold_agents_md,
};
pub use queue::{QueueSpec, pool_size};
pub use secrets::{SECRET_MASK, mask_json, mask_secrets};
pub use smash::{
    MAX_SMASH_CONCURRENCY, OnFailure, SmashItem, SmashOutcome, SmashReport, SmashRequest,
    default_concurrency,
};
pub use triggers::{
    AddedTrigger, Admission, DrawerWebhookSet, GeneratedSecret, MAX_TRIGGER_PRESSES,
    MAX_TRIGGER_WAITING, NewTrigger, PressRefused, RELOAD_EVERY, Schedule, TriggerOptions,
    TriggerPool, TriggerSlot, Triggers, WATCH_DEBOUNCE, WebhookRoute, WebhookToken, webhook_paths,
};
pub use unix::{SUPERVISOR_ARG, supervise_if_asked};
pub use webhook::{
    AuthFailure, Authenticator, Headers, JWT_LEEWAY_SECS, MAX_WEBHOOK_BODY, REDACTED_HEADER,
    WebhookCall, check_button_token, generate_secret, resolve_secret, secret_matches,
    webhook_payload,
};
