//! Pressing an HTTP button: render the request, send it under the guard, fill
//! the result.

use std::ffi::OsStr;
use std::fmt::Write as _;

use buttons_http::{HttpClient, HttpResponse, Options};
use buttons_spec::{ErrorCode, PressResult};

use crate::capture::StreamCapture;
use crate::context::{Cancel, PressContext, PressOptions, Stream};

/// Sends the button's request and fills `result`: status, `exit_code` and
/// `http_status_code` (the HTTP status), the body as stdout, `truncated`, and
/// on failure `error_type` with the reason in stderr.
///
/// Returns the fix for a failed request, in API terms.
pub(crate) async fn run(
    ctx: &PressContext<'_>,
    opts: PressOptions,
    result: &mut PressResult,
) -> Option<String> {
    let options = opts.http.unwrap_or_else(|| {
        let mut options = Options::for_button(ctx.button, |name| env_var(&ctx.base_env, name));
        if opts.allow_private_networks {
            options.policy = options.policy.allow_private(true);
        }
        options
    });
    let outcome = match buttons_http::prepare(ctx.button, ctx.args) {
        Ok(mut request) => {
            request.timeout = crate::resolve_timeout(opts.timeout, ctx.button);
            // One client per press: building it is cheap for http:// (the
            // platform roots load only on an https:// hop, once per process).
            let client = HttpClient::new(options);
            let mut cancel = opts.cancel;
            tokio::select! {
                outcome = client.send(&request) => Some(outcome),
                () = cancelled(&mut cancel) => None,
            }
        }
        Err(err) => Some(Err(err)),
    };
    let mut hint = None;
    match &outcome {
        Some(outcome) => {
            buttons_http::fill_press_result(result, outcome);
            if let Err(err) = outcome {
                hint = api_hint(err);
            }
            if let Ok(response) = outcome {
                note_response(response, result);
            }
        }
        None => result.fail(ErrorCode::Cancelled, "interrupted: the press was cancelled"),
    }
    if let Some(mut sink) = opts.sink {
        for (stream, text) in [
            (Stream::Stdout, &result.stdout),
            (Stream::Stderr, &result.stderr),
        ] {
            let mut lines = StreamCapture::new(stream);
            lines.push(text.as_bytes(), Some(&mut sink));
            lines.finish(Some(&mut sink));
        }
    }
    hint
}

/// The fix for an HTTP failure in this crate's terms (the button's fields,
/// [`PressOptions`], the base environment), not a command line's.
pub(crate) fn api_hint(err: &buttons_http::Error) -> Option<String> {
    use buttons_http::Error as E;
    match err {
        E::BlockedAddress { .. } | E::BlockedName { .. } => Some(
            "if the button is meant to reach a private or loopback address, set `allow_private_networks` on the button or `PressOptions::allow_private_networks`"
                .to_owned(),
        ),
        E::HostLock { allowed_host, .. } => Some(format!(
            "the button may only send requests to {allowed_host}: change its `url` and `allowed_host` together"
        )),
        E::MissingAllowedHost | E::InvalidAllowedHost { .. } => Some(
            "set `allowed_host` on the button to the URL's host[:port] (`Button::http` derives it)"
                .to_owned(),
        ),
        E::AnyHostNotEnabled => Some(
            "set BUTTONS_ALLOW_ANY_HOST=1 in the engine's base environment to allow any host"
                .to_owned(),
        ),
        E::Timeout { .. } => Some(
            "raise `timeout_seconds` on the button or `PressRequest::timeout`".to_owned(),
        ),
        E::Redirect { cause, .. } => api_hint(cause),
        other => other.hint(),
    }
}

/// Says in stderr what a human (and a record) should know about a response
/// that is not an error in itself: the redirects followed and a cut body.
fn note_response(response: &HttpResponse, result: &mut PressResult) {
    let mut notes = String::new();
    for hop in &response.redirects {
        let _ = writeln!(notes, "followed a redirect to {hop}");
    }
    if response.truncated {
        let _ = writeln!(
            notes,
            "the response was cut at {} (the button's max_response_bytes)",
            buttons_spec::format_size(response.body.len() as u64)
        );
    }
    if notes.is_empty() {
        return;
    }
    if !result.stderr.is_empty() && !result.stderr.ends_with('\n') {
        result.stderr.push('\n');
    }
    // Notes first: a failure message `fill_press_result` wrote stays last.
    notes.push_str(&result.stderr);
    result.stderr = notes.trim_end().to_owned();
}

/// The last value of `name` in `env` (later entries win, as for a child's environment).
fn env_var(env: &[(std::ffi::OsString, std::ffi::OsString)], name: &str) -> Option<String> {
    env.iter()
        .rev()
        .find(|(key, _)| key == OsStr::new(name))
        .and_then(|(_, value)| value.to_str().map(str::to_owned))
}

async fn cancelled(cancel: &mut Option<Cancel>) {
    match cancel {
        Some(cancel) => cancel.await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_environment_entries_win() {
        let env = vec![
            ("BUTTONS_ALLOW_PRIVATE_NETWORKS".into(), "1".into()),
            ("OTHER".into(), "x".into()),
            ("BUTTONS_ALLOW_PRIVATE_NETWORKS".into(), "0".into()),
        ];
        assert_eq!(
            env_var(&env, "BUTTONS_ALLOW_PRIVATE_NETWORKS").as_deref(),
            Some("0")
        );
        assert_eq!(env_var(&env, "MISSING"), None);
    }
}
