//! The press entry points and the one dispatch on the kind of button.

use std::time::Instant;

use buttons_spec::{ButtonKind, ErrorCode, PressResult, Timestamp};

use crate::context::{PressContext, PressOptions};
use crate::error::Error;
use crate::{code, http, prompt};

/// Presses a button and returns its result.
///
/// Every press that gets to run, or fails the way a press can fail, returns
/// `Ok` with a [`PressResult`]: `status` and `error_type` say how it ended
/// (`RUNTIME_MISSING`, `SCRIPT_ERROR` with the exit code kept, `TIMEOUT`,
/// `PROMPT_ERROR`, `VALIDATION_ERROR` for app buttons). A cancelled press
/// (see [`PressOptions::cancel`]) ends with status `error`, `CANCELLED`,
/// and says it was interrupted in `stderr`, so the caller still records it.
/// `Err` means no press happened (the blocking runtime could not start; no
/// kind of button is unpressable in this build).
///
/// What a press does, by kind:
/// - **code**: the interpreter (see [`find_interpreter`](crate::find_interpreter))
///   runs `main.sh`/`main.py`/`main.js` in the button folder, in its own
///   process group, stdin empty, with the environment of
///   [`PressContext::base_env`], then `BUTTONS_BAT_<KEY>` per battery, then
///   the button's `env`, then `BUTTONS_ARG_<NAME>` per argument, then
///   `BUTTONS_PROGRESS_PATH` (later entries win). Output is captured up to
///   [`OUTPUT_CAP`](buttons_spec::OUTPUT_CAP) per stream. A real (not
///   scaffold) `AGENTS.md` is attached as `prompt`.
///
///   When the script exits, anything left of its process group (a job it
///   put in the background) is killed, and the press returns: nothing a
///   press starts outlives it. On timeout or cancellation the group gets
///   SIGTERM, up to [`PressOptions::grace`] to exit, then SIGKILL.
/// - **http**: the URL and body templates are rendered with the arguments
///   ([`buttons_http::prepare`]) and the request is sent under the guard of
///   [`PressOptions::http`] (by default: the button's
///   `allow_private_networks` and the `BUTTONS_ALLOW_PRIVATE_NETWORKS` /
///   `BUTTONS_ALLOW_ANY_HOST` opt-ins of [`PressContext::base_env`]). The
///   timeout covers connect, every redirect hop, headers and body.
///   `exit_code` and `http_status_code` carry the HTTP status, stdout the
///   body (lossy UTF-8, cut at `max_response_bytes` with `truncated` set);
///   status 200–399 is `ok`, anything else `SCRIPT_ERROR`. A request refused
///   before anything is sent (a blocked literal IP, the host lock, a value
///   rendering a `..` segment) is `VALIDATION_ERROR`; a name resolving to a
///   blocked address, a refused redirect or a transport failure is
///   `SCRIPT_ERROR`; the reason (naming the opt-ins, or the refused
///   `Location`) is in stderr. Followed redirects and a cut body are noted in
///   stderr of an `ok` result.
/// - **prompt**: `AGENTS.md` (else `AGENT.md`) is the result's stdout.
/// - **app**: not pressable (`VALIDATION_ERROR`).
///
/// # Security
///
/// Argument values reach the script only through `BUTTONS_ARG_*` variables:
/// the interpreter is started directly with the code file as its only
/// argument, never through a shell command line built from values, so shell
/// syntax in a value (`$(…)`, `` `…` ``, `;`) is inert text. Interpreters are
/// looked up in the `PATH` of the base environment, which is trusted.
///
/// Argument values reach an HTTP request only through `buttons-encode`'s
/// context-aware encoding of the path, query, fragment and body; headers are
/// sent verbatim; every hop is checked against the policy and the button's
/// locked host before anything is sent to it.
pub async fn press(ctx: &PressContext<'_>, opts: PressOptions) -> Result<PressResult, Error> {
    Ok(press_with_hint(ctx, opts).await?.0)
}

/// [`press`], plus the fix for a failed HTTP request in API terms.
pub(crate) async fn press_with_hint(
    ctx: &PressContext<'_>,
    opts: PressOptions,
) -> Result<(PressResult, Option<String>), Error> {
    let clock = Instant::now();
    let mut hint = None;
    let started_at = ctx.started_at.unwrap_or_else(Timestamp::now);
    let mut result = PressResult::new(ctx.button.name.clone(), started_at);
    result.args = ctx.args.to_map();
    // The one place that decides what a press does.
    match ctx.button.kind() {
        ButtonKind::Code(runtime) => {
            code::run(ctx, runtime, opts, &mut result).await;
            result.prompt = prompt::agent_notes(ctx.button, ctx.dir);
        }
        ButtonKind::Prompt => prompt::press(ctx.button, ctx.args, ctx.dir, &mut result),
        ButtonKind::Http => {
            hint = http::run(ctx, opts, &mut result).await;
            result.prompt = prompt::agent_notes(ctx.button, ctx.dir);
        }
        ButtonKind::App => result.fail(ErrorCode::ValidationError, "app buttons are not pressable"),
        ButtonKind::Unknown(runtime) => result.fail(
            ErrorCode::RuntimeMissing,
            format!("unsupported runtime: {runtime}"),
        ),
    }
    result.duration_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok((result, hint))
}

/// [`press`] for callers without a tokio runtime: runs it on a new
/// current-thread runtime (with time, I/O and signal drivers, so a
/// `tokio::signal::ctrl_c()` cancellation future works).
///
/// # Panics
///
/// When called from inside a tokio runtime (use [`press`] there).
pub fn press_blocking(ctx: &PressContext<'_>, opts: PressOptions) -> Result<PressResult, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(press(ctx, opts))
}
