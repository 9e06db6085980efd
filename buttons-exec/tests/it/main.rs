//! Integration tests of buttons-exec: real subprocesses in temporary button folders.

mod util;

mod capture;
mod drawer;
mod engine;
mod env;
mod errors;
mod hardening;
mod http;
mod idempotency;
mod injection;
mod lifecycle;
mod prompt;
mod queues;
mod smash;
mod triggers;
