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
pub(crate) async fn run(ctx: &PressContext<'_>, opts: PressOptions, result: &mut PressResult) {
    let options = opts
        .http
        .unwrap_or_else(|| Options::for_button(ctx.button, |name| env_var(&ctx.base_env, name)));
    let outcome = match buttons_http::prepare(ctx.button, ctx.args) {
        Ok(mut request) => {
            request.timeout = opts.timeout.unwrap_or_else(|| ctx.button.timeout());
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
    match &outcome {
        Some(outcome) => {
            buttons_http::fill_press_result(result, outcome);
            if let Ok(response) = outcome {
                note_response(response, result);
            }
        }
        None => result.fail(
            ErrorCode::ScriptError,
            "interrupted: the press was cancelled",
        ),
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
