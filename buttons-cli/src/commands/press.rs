//! `buttons press NAME [--arg k=v]... [--timeout S] [--dry-run] [-f]`.

use std::fmt::Write as _;
use std::io::Write as _;

use buttons_cli::{PressRequest, Pressed};
use buttons_exec::{PressOptions, Stream};
use buttons_spec::{PressResult, Status};
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::PressArgs;
use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply};

pub(crate) fn run(args: PressArgs, out: Output) -> CliResult<Reply> {
    let request = PressRequest {
        name: args.name,
        args: buttons_cli::parse_press_args(&args.args)?,
        timeout: args
            .timeout
            .as_deref()
            .map(buttons_spec::parse_timeout)
            .transpose()?,
        dry_run: args.dry_run,
    };
    let store = super::open_store(out)?;

    // One press needs no thread pool: a current-thread runtime is cheapest.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Ctrl-C (and SIGTERM/SIGHUP) end the button's whole process group and the
    // run is still recorded. The handlers are installed before anything runs,
    // so an early Ctrl-C cannot kill the CLI and orphan the group.
    let mut options = PressOptions::default();
    if !request.dry_run {
        let _guard = runtime.enter();
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut hangup = signal(SignalKind::hangup())?;
        options = options.cancel_on(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
                _ = hangup.recv() => {}
            }
        });
    }
    if args.follow {
        options = options.sink(|stream, line| {
            let mut err = std::io::stderr().lock();
            let _ = match stream {
                Stream::Stdout => writeln!(err, "{line}"),
                Stream::Stderr => writeln!(err, "! {line}"),
            };
        });
    }
    let base_env: Vec<_> = std::env::vars_os().collect();
    let pressed = runtime.block_on(buttons_cli::press(&store, &request, base_env, options))?;

    let ran = match pressed {
        Pressed::DryRun(info) => {
            let text = serde_json::to_string_pretty(&info).expect("JSON values serialize");
            return Ok(Reply::new(info)
                .stderr(format!("Dry run (nothing ran, nothing recorded):\n{text}")));
        }
        Pressed::Ran(ran) => ran,
    };
    let result = &ran.result;
    if let Err(err) = &ran.record {
        // The press ran; losing its record is worth a line on stderr in any mode.
        let _ = writeln!(
            std::io::stderr().lock(),
            "warning: the run was not recorded: {}",
            err.message
        );
    }

    let status = status_line(result);
    let mut stderr = String::new();
    if !args.follow && !result.stderr.is_empty() {
        stderr.push_str(&result.stderr);
        if !stderr.ends_with('\n') {
            stderr.push('\n');
        }
    }
    let _ = write!(stderr, "{status}");
    let stdout = result.stdout.clone();
    let mut reply = Reply::new(result).stdout(stdout).stderr(stderr);
    reply.failure = buttons_cli::failure_of(result).map(CliError::from);
    Ok(reply)
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
        None => format!("exit {}", result.exit_code),
    };
    let mut status = match result.status {
        Status::Ok => format!(
            "✓ {} ok in {} ms ({exit})",
            result.button, result.duration_ms
        ),
        Status::Timeout => format!(
            "✗ {} timed out after {} ms",
            result.button, result.duration_ms
        ),
        Status::Error => format!(
            "✗ {} failed: {} ({exit}) in {} ms",
            result.button,
            result.error_type.map_or("ERROR", |c| c.as_str()),
            result.duration_ms
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
            "✗ sh failed: VALIDATION_ERROR (exit -1) in 0 ms (output truncated at 1 MiB)"
        );
    }
}
