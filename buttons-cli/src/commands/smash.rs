//! `buttons smash A B … | smash a,b,c [--arg k=v | NAME.k=v]... [--on-failure stop|continue] [--concurrency N] [--timeout S]`.
//!
//! The orchestration (concurrency, stop/continue, argument routing) is
//! `buttons_exec::Engine::smash`; this parses and prints.

use std::io::Write as _;

use buttons_exec::{OnFailure, SmashItem, SmashOutcome, SmashRequest};
use buttons_spec::Status;
use serde_json::{Value, json};
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::{OnFailureArg, SmashArgs};
use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply};

pub(crate) fn run(args: SmashArgs, out: Output) -> CliResult<Reply> {
    let request = SmashRequest {
        buttons: args
            .names
            .iter()
            .flat_map(|n| n.split(','))
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect(),
        args: super::press::parse_press_args(&args.args)?,
        on_failure: match args.on_failure {
            OnFailureArg::Stop => OnFailure::Stop,
            OnFailureArg::Continue => OnFailure::Continue,
        },
        concurrency: args.concurrency.map(usize::from),
        timeout: args
            .timeout
            .as_deref()
            .map(buttons_spec::parse_timeout)
            .transpose()?,
    };
    let engine = super::engine(super::open_store(out)?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Ctrl-C (and SIGTERM/SIGHUP) stop the smash: running presses are
    // cancelled and recorded, the rest skipped.
    let cancel = {
        let _guard = runtime.enter();
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut hangup = signal(SignalKind::hangup())?;
        Box::pin(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
                _ = hangup.recv() => {}
            }
        })
    };
    let human = !out.is_json();
    let report = runtime.block_on(engine.smash(&request, Some(cancel), |item| {
        if human {
            let line = line_of(item);
            let _ = writeln!(std::io::stdout().lock(), "{}", crate::output::escape(&line));
        }
    }))?;
    let total = report.results.len();
    let failures = report.failures;
    let skipped = report
        .results
        .iter()
        .filter(|i| matches!(i.outcome, SmashOutcome::Skipped))
        .count();
    let results: Vec<Value> = report.results.into_iter().map(item_json).collect();
    let summary = format!(
        "smashed {total} button{}: {} ok, {failures} failed, {skipped} skipped",
        if total == 1 { "" } else { "s" },
        total - failures - skipped
    );
    let mut reply = Reply::new(json!({
        "results": results,
        "total": total,
        "failures": failures,
    }))
    .stderr(summary);
    reply.exit_failure = failures > 0;
    Ok(reply)
}

/// One item as JSON: `{button, result}`, `{button, error}` or `{button, skipped: true}`.
fn item_json(item: SmashItem) -> Value {
    match item.outcome {
        SmashOutcome::Ran(ran) => json!({"button": item.button, "result": ran.result}),
        SmashOutcome::Failed(e) => json!({"button": item.button, "error": CliError::from(e)}),
        _ => json!({"button": item.button, "skipped": true}),
    }
}

/// One human line as a button finishes: ✓, ✗ or –.
fn line_of(item: &SmashItem) -> String {
    match &item.outcome {
        SmashOutcome::Ran(ran) => {
            let r = &ran.result;
            match r.status {
                Status::Ok => format!("✓ {} ok in {} ms", item.button, r.duration_ms),
                Status::Timeout => {
                    format!("✗ {} timed out after {} ms", item.button, r.duration_ms)
                }
                Status::Error => format!(
                    "✗ {} failed: {} (exit {}) in {} ms",
                    item.button,
                    r.error_type.map_or("ERROR", |c| c.as_str()),
                    r.exit_code,
                    r.duration_ms
                ),
            }
        }
        SmashOutcome::Failed(e) => format!("✗ {} failed: {}: {e}", item.button, e.code()),
        _ => format!("– {} skipped", item.button),
    }
}
