//! `buttons press NAME [--arg k=v]... [--timeout S] [--dry-run] [-f]`.

use std::fmt::Write as _;
use std::io::Write as _;

use buttons_cli::{PressRequest, Pressed};
use buttons_exec::{PressOptions, Stream};
use buttons_spec::Status;
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

    let mut status = match result.status {
        Status::Ok => format!(
            "✓ {} ok in {} ms (exit {})",
            result.button, result.duration_ms, result.exit_code
        ),
        Status::Timeout => format!(
            "✗ {} timed out after {} ms",
            result.button, result.duration_ms
        ),
        Status::Error => format!(
            "✗ {} failed: {} (exit {}) in {} ms",
            result.button,
            result.error_type.map_or("ERROR", |c| c.as_str()),
            result.exit_code,
            result.duration_ms
        ),
    };
    if result.truncated {
        status.push_str(" (output truncated at 1 MiB)");
    }
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
