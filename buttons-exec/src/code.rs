//! Pressing a code button: the interpreter runs `main.*` in its own process group.
//!
//! How a press ends its processes:
//! - **Normal exit.** When the script (the group leader) exits, whatever is
//!   left of its group (a backgrounded job still holding the pipes, say) gets
//!   SIGKILL at once: the press is over and nothing it started outlives it.
//!   The pipes are then read to their end; a process that left the group
//!   (`setsid`) but kept them open is given [`DRAIN_LIMIT`], then abandoned.
//! - **Timeout or cancellation.** SIGTERM to the group; the press waits until
//!   no process of the group is alive, at most the grace period; then SIGKILL
//!   to the group, and waits (bounded) until every process of it is dead.
//! - **The press future is dropped.** SIGKILL to the group.
//!
//! The script is always reaped by the press; orphaned grandchildren that were
//! killed are reaped by their new parent (init or a subreaper), as the kernel
//! arranges.

use std::pin::pin;
use std::process::{ExitStatus, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use buttons_spec::{ErrorCode, PressResult, Runtime};
use nix::sys::signal::Signal;
use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::capture::{StreamCapture, pump};
use crate::context::{Cancel, PressContext, PressOptions, Stream};
use crate::env::{child_env, find_interpreter, missing_message};
use crate::unix::{Group, KillOnDrop, Lifeline};

/// How long the pipes are still read after the group is gone, for a process
/// outside the group that holds them open.
const DRAIN_LIMIT: Duration = Duration::from_secs(1);

/// How long a press runs before its supervisor (see
/// [`PressContext::supervisor`]) is started: shorter presses never pay for
/// one; a pressing process killed within this time can leave its script
/// running.
const SUPERVISOR_DELAY: Duration = Duration::from_millis(50);

/// How often the group is checked during the grace period.
const GRACE_POLL: Duration = Duration::from_millis(20);

/// Why the script stopped.
enum Reason {
    Exited,
    TimedOut,
    Cancelled,
}

/// Runs the code button and fills `result` (output, status, exit code).
pub(crate) async fn run(
    ctx: &PressContext<'_>,
    runtime: Runtime,
    opts: PressOptions,
    result: &mut PressResult,
) {
    let Some(interpreter) = find_interpreter(runtime, &ctx.base_env) else {
        result.fail(ErrorCode::RuntimeMissing, missing_message(runtime));
        return;
    };
    let code_file = ctx.dir.join(runtime.code_file());
    if !code_file.is_file() {
        result.fail(
            ErrorCode::ScriptError,
            format!("code file not found: {}", code_file.display()),
        );
        return;
    }
    let env = match child_env(ctx) {
        Ok(env) => env,
        Err(message) => {
            result.fail(ErrorCode::ValidationError, message);
            return;
        }
    };
    result.progress_path = ctx
        .progress_path
        .as_ref()
        .map(|p| p.to_string_lossy().into_owned());

    // The interpreter gets one argument, the code file's absolute path (so
    // `$0` is `/…/buttons/NAME/main.sh`): no shell, no value from the press
    // on a command line.
    // The supervisor starts beside the script once the press has run for
    // SUPERVISOR_DELAY: a press shorter than that pays nothing for it.
    let mut lifeline: Option<Lifeline> = None;
    let mut command = Command::new(&interpreter);
    command
        .arg(std::path::absolute(&code_file).unwrap_or(code_file))
        .stdin(Stdio::null());
    command
        .current_dir(ctx.dir)
        .env_clear()
        .envs(env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            result.fail(
                ErrorCode::ScriptError,
                format!("failed to start {}: {e}", interpreter.display()),
            );
            return;
        }
    };
    let Some(group) = child.id().and_then(Group::new) else {
        result.fail(ErrorCode::InternalError, "the script has no process id");
        return;
    };
    let guard = KillOnDrop::new(group);
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");

    let timeout = crate::resolve_timeout(opts.timeout, ctx.button);
    let deadline = Instant::now().checked_add(timeout);
    let sink = Mutex::new(opts.sink);
    let mut out = StreamCapture::new(Stream::Stdout);
    let mut err = StreamCapture::new(Stream::Stderr);

    let (reason, status) = {
        let mut readers = pin!(async {
            tokio::join!(pump(stdout, &mut out, &sink), pump(stderr, &mut err, &sink))
        });
        let mut supervisor = pin!(supervise(
            &mut child,
            group,
            deadline,
            opts.grace,
            opts.cancel
        ));
        let mut readers_done = false;
        let mut watch = pin!(tokio::time::sleep(SUPERVISOR_DELAY));
        let mut watched = ctx.supervisor.is_none();
        let ending = loop {
            tokio::select! {
                ending = &mut supervisor => break ending,
                _ = &mut readers, if !readers_done => readers_done = true,
                () = &mut watch, if !watched => {
                    watched = true;
                    lifeline = ctx.supervisor.as_deref().and_then(Lifeline::start);
                    if let Some(lifeline) = &mut lifeline {
                        lifeline.arm(group);
                    }
                }
            }
        };
        if !readers_done {
            // Every process of the group is dead: the pipes end as soon as
            // what is buffered in them is read, unless an escaped process holds them.
            let _ = tokio::time::timeout(DRAIN_LIMIT, &mut readers).await;
        }
        ending
    };
    guard.disarm();
    drop(lifeline);

    let mut sink = sink.into_inner().unwrap_or_else(PoisonError::into_inner);
    out.finish(sink.as_mut());
    err.finish(sink.as_mut());
    let (stdout, raw_stdout, out_cut) = out.into_output();
    let (stderr, err_cut) = err.into_text();
    result.stdout = stdout;
    result.raw_stdout = raw_stdout;
    result.stderr = stderr;
    result.truncated = out_cut || err_cut;

    match (reason, status) {
        (Reason::TimedOut, _) => {
            result.exit_code = -1;
            result.fail(
                ErrorCode::Timeout,
                format!("timed out after {}", describe(timeout)),
            );
        }
        (Reason::Cancelled, _) => {
            result.exit_code = -1;
            result.fail(ErrorCode::Cancelled, "interrupted: the press was cancelled");
        }
        (Reason::Exited, Ok(status)) => record_exit(status, result),
        (Reason::Exited, Err(e)) => {
            result.exit_code = -1;
            result.fail(
                ErrorCode::InternalError,
                format!("failed to wait for the script: {e}"),
            );
        }
    }
}

/// Fills status and exit code from how the script exited.
fn record_exit(status: ExitStatus, result: &mut PressResult) {
    use std::os::unix::process::ExitStatusExt;

    if status.success() {
        result.exit_code = 0;
        return;
    }
    match status.code() {
        Some(code) => {
            // As the Go tool does: the script's own stderr says what went wrong.
            result.exit_code = i64::from(code);
            result.status = buttons_spec::Status::Error;
            result.error_type = Some(ErrorCode::ScriptError);
        }
        None => {
            result.exit_code = -1;
            let signal = status
                .signal()
                .and_then(|s| Signal::try_from(s).ok())
                .map_or_else(|| "a signal".to_owned(), |s| s.as_str().to_owned());
            result.fail(
                ErrorCode::ScriptError,
                format!("the script was terminated by {signal}"),
            );
        }
    }
}

/// Waits for the script to exit, the deadline or cancellation, and ends the
/// process group accordingly (see the module docs).
async fn supervise(
    child: &mut Child,
    group: Group,
    deadline: Option<Instant>,
    grace: Duration,
    mut cancel: Option<Cancel>,
) -> (Reason, std::io::Result<ExitStatus>) {
    let reason = tokio::select! {
        status = child.wait() => {
            group.kill().await;
            return (Reason::Exited, status);
        }
        () = sleep_until(deadline) => Reason::TimedOut,
        () = cancelled(&mut cancel) => Reason::Cancelled,
    };
    group.signal(Signal::SIGTERM);
    let kill_at = Instant::now() + grace;
    let mut status = None;
    loop {
        tokio::select! {
            s = child.wait(), if status.is_none() => status = Some(s),
            () = tokio::time::sleep(GRACE_POLL), if status.is_some() => {}
            () = tokio::time::sleep_until(kill_at) => break,
        }
        if status.is_some() && !group.has_live_members() {
            break;
        }
    }
    group.kill().await;
    let status = match status {
        Some(status) => status,
        None => child.wait().await,
    };
    (reason, status)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

async fn cancelled(cancel: &mut Option<Cancel>) {
    match cancel {
        Some(cancel) => cancel.await,
        None => std::future::pending().await,
    }
}

/// `300s`, `1.5s`, `200ms`.
fn describe(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{d:?}")
    }
}
