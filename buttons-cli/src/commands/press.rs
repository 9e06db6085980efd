//! `buttons press NAME [--arg k=v]... [--timeout S] [--dry-run] [-f]`.

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use buttons_exec::{
    ArgInput, Engine, Idempotency, Plan, PlannedAction, PressOptions, PressRequest, Stream,
};
use buttons_spec::{ErrorCode, PressResult, Status};
use serde_json::{Value, json};
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::PressArgs;
use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply};

pub(crate) fn run(args: PressArgs, out: Output) -> CliResult<Reply> {
    if !args.raw {
        return press(args, out);
    }
    // Raw: stdout is the script's alone; an error before the run is the
    // envelope on stderr.
    press(args, out).or_else(|err| {
        let mut stderr = std::io::stderr().lock();
        let _ = serde_json::to_writer(&mut stderr, &json!({ "ok": false, "error": &err }));
        let _ = writeln!(stderr);
        let mut reply = Reply::streamed();
        reply.failure = Some(err);
        Ok(reply)
    })
}

fn press(args: PressArgs, out: Output) -> CliResult<Reply> {
    let request = PressRequest {
        name: args.name,
        args: ArgInput::Text(parse_press_args(&args.args)?),
        timeout: args
            .timeout
            .as_deref()
            .map(buttons_spec::parse_timeout)
            .transpose()?,
        idempotency: args
            .idempotency_key
            .map(|key| -> CliResult<Idempotency> {
                let ttl = buttons_exec::parse_go_duration(&args.idempotency_ttl)?;
                Ok(Idempotency::new(key).ttl(ttl))
            })
            .transpose()?,
    };
    let engine = super::engine(super::open_store(out)?);
    if args.dry_run {
        let plan = engine
            .plan(&request)
            .map_err(|e| press_error(&engine, &request.name, e))?;
        let info = plan_json(&plan);
        let text = serde_json::to_string_pretty(&info).expect("JSON values serialize");
        return Ok(
            Reply::new(info).stderr(format!("Dry run (nothing ran, nothing recorded):\n{text}"))
        );
    }

    // One press needs no thread pool: a current-thread runtime is cheapest.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Ctrl-C (and SIGTERM/SIGHUP) end the button's whole process group and the
    // run is still recorded. The handlers are installed before anything runs,
    // so an early Ctrl-C cannot kill the CLI and orphan the group.
    // The signal that cancelled the press decides the exit status (128 + it).
    let caught = Arc::new(AtomicI32::new(0));
    let mut options = {
        let _guard = runtime.enter();
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut hangup = signal(SignalKind::hangup())?;
        let caught = Arc::clone(&caught);
        PressOptions::default().cancel_on(async move {
            let signo = tokio::select! {
                _ = interrupt.recv() => SignalKind::interrupt(),
                _ = terminate.recv() => SignalKind::terminate(),
                _ = hangup.recv() => SignalKind::hangup(),
            };
            caught.store(signo.as_raw_value(), Ordering::SeqCst);
        })
    };
    if !out.is_json() {
        options = options.on_event(super::show_press_event);
    }
    // A person watching a terminal sees a spinner once the press takes a while.
    let spinner = (!out.is_json() && !args.raw && std::io::stderr().is_terminal())
        .then(crate::progress::Spinner::new);
    if args.follow {
        let bar = spinner.as_ref().map(crate::progress::Spinner::handle);
        options = options.sink(move |stream, line| {
            let write = || {
                let mut err = std::io::stderr().lock();
                let _ = match stream {
                    Stream::Stdout => writeln!(err, "{line}"),
                    Stream::Stderr => writeln!(err, "! {line}"),
                };
            };
            match &bar {
                Some(bar) => bar.suspend(write),
                None => write(),
            }
        });
    }
    let ran = runtime
        .block_on(async {
            let press = engine.press(&request, options);
            match &spinner {
                Some(spinner) => tokio::select! {
                    ran = press => ran,
                    () = spinner.run(engine.store(), &request.name) => unreachable!("the spinner never ends"),
                },
                None => press.await,
            }
        })
        .map_err(|e| press_error(&engine, &request.name, e))?;
    // Erased before the status line is written.
    drop(spinner);
    let buttons_exec::Ran {
        result,
        record,
        replayed,
        ..
    } = ran;
    if let Err(err) = &record {
        // The press ran; losing its record is worth a line on stderr in any mode.
        let line = format!(
            "warning: the run was not recorded: {}",
            crate::output::escape(&CliError::from_parts(err.code(), None, err).message)
        );
        let _ = writeln!(anstream::stderr().lock(), "{}", crate::color::paint(&line));
    }

    if args.raw {
        return raw_reply(&result, caught.load(Ordering::SeqCst));
    }

    let mut status = status_line(&result);
    if replayed {
        status.push_str(" (replayed: an earlier press with this idempotency key)");
    }
    // What the terminal shows ends with a newline before the status line,
    // so `printf '{"a":1}'` does not get the status glued on.
    let mut stderr = String::new();
    if !args.follow && !result.stdout.is_empty() && !result.stdout.ends_with('\n') {
        stderr.push('\n');
    }
    if !args.follow && !result.stderr.is_empty() {
        stderr.push_str(&result.stderr);
        if !stderr.ends_with('\n') {
            stderr.push('\n');
        }
    }
    let _ = write!(stderr, "{status}");
    let mut failure = failure_of(&result);
    if let Some(failure) = &mut failure
        && failure.code == ErrorCode::Cancelled
    {
        let signo = caught.load(Ordering::SeqCst);
        failure.exit = Some(u8::try_from(128 + signo).unwrap_or(130));
    }
    // The result moves into the reply: the envelope is written from it, or
    // its stdout is what a person sees (`-f` already showed every line as
    // it came: print it once).
    let mut reply = if out.is_json() {
        let mut reply = Reply::press(result, replayed);
        // A press whose record was lost says so in its data, not only on stderr.
        if let (Err(err), Some(press)) = (&record, reply.press.as_mut()) {
            let message = CliError::from_parts(err.code(), None, err).message;
            press.record = Some(json!({ "ok": false, "error": message }));
        }
        reply
    } else if args.follow {
        Reply::new(Value::Null)
    } else {
        Reply::new(Value::Null).stdout(result.stdout)
    };
    // The script's own output, as a terminal running it would show it.
    reply = reply.stderr(stderr).verbatim();
    reply.failure = failure;
    Ok(reply)
}

/// A library error as the CLI reports it; a missing button names the data
/// directory searched and the closest names.
fn press_error(engine: &Engine, name: &str, e: buttons_exec::Error) -> CliError {
    let missing = matches!(
        e,
        buttons_exec::Error::Store(buttons_store::Error::NotFound { .. })
    );
    let err = CliError::from(e);
    if missing {
        crate::suggest::button_not_found(engine.store(), name, err)
    } else {
        err
    }
}

/// `--raw`: the output as is, and the script's exit status as ours.
fn raw_reply(result: &PressResult, signo: i32) -> CliResult<Reply> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(result.stdout_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(result.stderr.as_bytes());
    let exit = match (result.status, result.http_status_code) {
        (Status::Ok, _) => 0,
        (_, Some(_)) => 1,
        _ if result.error_type == Some(ErrorCode::Cancelled) => {
            u8::try_from(128 + signo).unwrap_or(130)
        }
        _ => u8::try_from(result.exit_code)
            .ok()
            .filter(|c| *c != 0)
            .unwrap_or(1),
    };
    let mut reply = Reply::streamed();
    if exit != 0 {
        let mut failure = failure_of(result).unwrap_or_else(|| CliError::validation("failed"));
        failure.exit = Some(exit);
        reply.failure = Some(failure);
    }
    Ok(reply)
}

/// Splits `--arg key=value` strings on their first `=`.
pub(crate) fn parse_press_args(given: &[String]) -> CliResult<Vec<(String, String)>> {
    given
        .iter()
        .map(|g| {
            buttons_spec::split_press_arg(g)
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .map_err(CliError::from)
        })
        .collect()
}

/// A dry run as `--dry-run` prints it: `{button, runtime, timeout, args}`
/// plus `env` for code buttons, or `method`, `url`, `headers`, `body`.
fn plan_json(plan: &Plan) -> Value {
    let mut info = json!({
        "button": plan.button,
        "runtime": plan.runtime,
        "timeout": plan.timeout.as_secs(),
        "args": plan.args,
    });
    match &plan.action {
        PlannedAction::Http {
            method,
            url,
            headers,
            body,
        } => {
            info["method"] = json!(method);
            info["url"] = json!(url);
            info["headers"] = json!(
                headers
                    .iter()
                    .map(|(k, v)| json!([k, v]))
                    .collect::<Vec<_>>()
            );
            info["body"] = json!(body);
        }
        PlannedAction::Code { env } => info["env"] = json!(env),
        _ => {}
    }
    info
}

/// The error envelope of a press that ran and failed: its code, the script's
/// stderr (or the reason) as the message, and a hint in the command line's words.
fn failure_of(result: &PressResult) -> Option<CliError> {
    let code = result.error_type?;
    let stderr = result.stderr.trim();
    let message = if stderr.is_empty() && result.exit_code < 0 {
        format!("{} did not run", result.button)
    } else if stderr.is_empty() {
        format!(
            "{} failed with exit code {}",
            result.button, result.exit_code
        )
    } else {
        stderr.to_owned()
    };
    let hint = match code {
        ErrorCode::Timeout => "give it more time with --timeout, e.g. --timeout 10m".to_owned(),
        ErrorCode::Cancelled => format!(
            "the run was recorded: see 'buttons history {}'",
            result.button
        ),
        ErrorCode::RuntimeMissing => {
            "install the button's interpreter (sh, bash, python3 or node) or fix PATH".to_owned()
        }
        ErrorCode::PromptError => {
            format!("write the prompt in buttons/{}/AGENTS.md", result.button)
        }
        _ => format!("see 'buttons history {}' for its output", result.button),
    };
    Some(CliError::new(code, message).with_hint(hint))
}

/// The one-line human summary of a press. An HTTP press shows its status
/// and body size where a script shows its exit code, and says when the
/// response was cut at the button's cap (the stderr above it says where).
fn status_line(result: &PressResult) -> String {
    let exit = match result.http_status_code {
        Some(code) => format!(
            "HTTP {code} · {}",
            buttons_spec::format_size(result.stdout.len() as u64)
        ),
        // -1 is "no exit code": the script never ran or was killed.
        None if result.exit_code < 0 => "did not run".to_owned(),
        None => format!("exit {}", result.exit_code),
    };
    let took = crate::output::duration_ms(result.duration_ms);
    let mut status = match result.status {
        Status::Ok => format!("✓ {} ok in {took} ({exit})", result.button),
        Status::Timeout => format!("✗ {} timed out after {took}", result.button),
        Status::Error if result.error_type == Some(ErrorCode::Cancelled) => {
            format!("✗ {} cancelled after {took}", result.button)
        }
        Status::Error => format!(
            "✗ {} failed: {} ({exit}) in {took}",
            result.button,
            result.error_type.map_or("ERROR", |c| c.as_str())
        ),
    };
    if result.truncated {
        status.push_str(if result.http_status_code.is_some() {
            " (response truncated at the button's max_response_size)"
        } else {
            " (output truncated at 1 MiB)"
        });
    }
    status
}

#[cfg(test)]
mod tests {
    use buttons_spec::{ErrorCode, Timestamp};

    use super::*;

    fn http_result(status: u16, body: usize) -> PressResult {
        let mut result = PressResult::new("api", Timestamp::UNIX_EPOCH);
        result.http_status_code = Some(status);
        result.exit_code = i64::from(status);
        result.stdout = "x".repeat(body);
        result.duration_ms = 7;
        result
    }

    #[test]
    fn http_presses_show_status_size_and_cap() {
        let mut result = http_result(200, 1229);
        assert_eq!(
            status_line(&result),
            "✓ api ok in 7 ms (HTTP 200 · 1.2 KiB)"
        );
        result.truncated = true;
        assert_eq!(
            status_line(&result),
            "✓ api ok in 7 ms (HTTP 200 · 1.2 KiB) (response truncated at the button's max_response_size)"
        );
        let mut result = http_result(500, 3);
        result.fail(ErrorCode::ScriptError, "the server answered HTTP 500");
        assert_eq!(
            status_line(&result),
            "✗ api failed: SCRIPT_ERROR (HTTP 500 · 3 B) in 7 ms"
        );
    }

    #[test]
    fn code_presses_show_the_exit_code() {
        let mut result = PressResult::new("sh", Timestamp::UNIX_EPOCH);
        result.truncated = true;
        assert_eq!(
            status_line(&result),
            "✓ sh ok in 0 ms (exit 0) (output truncated at 1 MiB)"
        );
        result.fail(ErrorCode::ValidationError, "refused");
        assert_eq!(
            status_line(&result),
            "✗ sh failed: VALIDATION_ERROR (did not run) in 0 ms (output truncated at 1 MiB)"
        );
    }
}
