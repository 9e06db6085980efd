//! The `button.json` model of Buttons and every rule about what a button may be.
//!
//! This crate owns button names, argument definitions and press-time argument
//! validation, the `BUTTONS_ARG_*` mapping, size parsing, the host lock of HTTP
//! URL templates, the press result and run record types, and the stable
//! [`ErrorCode`]s every other crate reports. It also owns the `drawer.json`
//! model ([`Drawer`]), `${…}` references evaluated as CEL ([`Template`],
//! [`RefContext`]) and the drawer validator ([`validate_drawer`], which looks
//! other buttons and drawers up through a [`DrawerLookup`]). It performs no I/O: reading and
//! writing files is `buttons-store`'s job, running buttons `buttons-exec`'s,
//! encoding templates `buttons-encode`'s.
//!
//! # Example
//!
//! ```
//! use buttons_spec::{ArgDef, Args, ErrorCode};
//!
//! let defs = vec![ArgDef::parse("city:string:required")?, ArgDef::parse("days:int:optional")?];
//! buttons_spec::validate_arg_defs(&defs)?;
//!
//! let (key, value) = buttons_spec::split_press_arg("city=Paris")?;
//! let args = Args::validate(&defs, [(key, value)])?;
//! assert_eq!(args.get("city").unwrap().as_str(), "Paris");
//!
//! let err = Args::validate(&defs, [("days", "2")]).unwrap_err();
//! assert_eq!(err.code(), ErrorCode::MissingArg);
//! # Ok::<(), buttons_spec::Error>(())
//! ```
#![warn(missing_docs)]
#![warn(clippy::unwrap_used)]

mod args;
mod batteries;
mod button;
mod checks;
mod drawer;
mod duration;
mod error;
mod files;
mod host_lock;
mod http;
mod name;
mod result;
mod size;
mod trigger;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use args::{
    ARG_ENV_PREFIX, ArgDef, ArgType, ArgValue, Args, arg_env_var, input_schema, parse_bool,
    split_press_arg, validate_arg_defs,
};
pub use batteries::{
    BATTERIES_SCHEMA_VERSION, BATTERY_ENV_PREFIX, Batteries, BatteriesFile, REDACTED, redact,
    validate_battery_key,
};
pub use button::{
    Button, ButtonKind, ButtonRuntime, DEFAULT_TIMEOUT_SECONDS, FollowRedirects, Kind,
    MAX_SCHEMA_VERSION, Runtime, SCHEMA_VERSION, parse_timeout,
};
pub use checks::{check_http, check_placeholders, detect_runtime, fill_prompt, placeholder_names};
pub use drawer::{
    Backoff, Case, DRAWER_SCHEMA_VERSION, Drawer, DrawerInput, DrawerKind, DrawerLookup,
    FailureAction, Finding, InputType, OnError, OnFailure, RefContext, RefError, Reference,
    Segment, Severity, Step, StepKind, Template, Validation, check_syntax, json_to_text,
    references, scan, step_dependencies, validate_drawer,
};
pub use duration::{format_duration, parse_duration, parse_go_duration};
pub use error::{Error, ErrorCode, Result};
pub use files::{AGENTS_FILE, LEGACY_AGENTS_FILE, SCAFFOLD_MARKER};
pub use host_lock::{HostLock, lock_url_template};
pub use http::{Method, header_value_problem, parse_header, parse_method};
pub use jiff::Timestamp;
pub use name::{ButtonName, MAX_NAME_LEN, RESERVED_NAMES, slugify};
pub use result::{
    OUTPUT_CAP, PressResult, RECORD_ARG_CAP, RunRecord, Status, TRUNCATED_MARKER, cap_output,
    cap_record_arg, fits_output_cap,
};
pub use size::{DEFAULT_MAX_RESPONSE_BYTES, MAX_RESPONSE_BYTES_CEILING, format_size, parse_size};
pub use trigger::{
    AuthKind, DEFAULT_AUTH_HEADER, DrawerWebhook, MAX_WEBHOOK_PATH, RouteOwner, SecretRef,
    TOKEN_HEADER, Trigger, TriggerKind, WebhookAuth, WebhookPath, drawer_webhook, find_conflict,
    is_trigger_id, new_trigger_id, normalize_webhook_path, parse_triggers, resolve_routes,
    set_drawer_webhook, triggers_value,
};
