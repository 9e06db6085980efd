//! The `drawer.json` model: workflows of buttons.
//!
//! A drawer chains buttons (and other drawers) into steps whose JSON outputs
//! feed later steps' arguments through `${…}` references, evaluated as CEL
//! ([`refs`](crate::Template)). [`Drawer`] reads every shape the Go tool
//! writes (v1, v2 action, v2 flow) and keeps unknown fields for a
//! read-modify-write; [`validate_drawer`] is the static check every
//! front end shows and `press` runs first.

mod graph;
mod model;
mod refs;
mod validate;

pub use graph::step_dependencies;
pub use model::{
    Backoff, Case, DRAWER_SCHEMA_VERSION, Drawer, DrawerInput, DrawerKind, FailureAction,
    InputType, OnError, OnFailure, Step, StepKind,
};
pub use refs::{
    RefContext, RefError, Reference, Segment, Template, check_syntax, json_to_text, references,
    scan,
};
pub use validate::{DrawerLookup, Finding, Severity, Validation, validate_drawer};
