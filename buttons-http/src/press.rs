//! From a button to a request, and from an outcome to a press result.

use buttons_spec::{ErrorCode, PressResult};

use crate::client::HttpResponse;
use crate::error::Error;

/// Fills the HTTP part of a press result from the outcome of
/// [`HttpClient::send`](crate::HttpClient::send).
///
/// A response sets `http_status_code`, `exit_code` (the status), `stdout`
/// (the body as lossy UTF-8) and `truncated`; a status outside 200–399 marks
/// the result `error` with `SCRIPT_ERROR`. An error marks it failed with the
/// error's code and message. Timing and the record are the caller's.
pub fn fill_press_result(result: &mut PressResult, outcome: &Result<HttpResponse, Error>) {
    match outcome {
        Ok(response) => {
            result.http_status_code = Some(response.status);
            result.exit_code = i64::from(response.status);
            result.stdout = String::from_utf8_lossy(&response.body).into_owned();
            result.truncated = response.truncated;
            if !response.is_success() {
                result.fail(
                    ErrorCode::ScriptError,
                    format!("the server answered HTTP {}", response.status),
                );
            }
        }
        Err(err) => result.fail(err.code(), err.to_string()),
    }
}
