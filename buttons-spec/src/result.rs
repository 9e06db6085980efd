//! The result of a press and the run record kept for it.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;

/// How much of stdout and of stderr a result and a run record keep: 1 MiB each.
pub const OUTPUT_CAP: usize = 1 << 20;

/// The marker appended to output that was cut at [`OUTPUT_CAP`].
pub const TRUNCATED_MARKER: &str = "\n[truncated]";

/// How a press ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Exit code 0, HTTP 200–399, or a prompt read.
    Ok,
    /// Anything else.
    Error,
    /// The press ran out of time.
    Timeout,
}

impl Status {
    /// `ok`, `error` or `timeout`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Timeout => "timeout",
        }
    }
}

/// The result of one press (`data` of `buttons press --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PressResult {
    /// The button's name.
    pub button: String,
    /// How the press ended.
    pub status: Status,
    /// The script's exit code, the HTTP status, or -1.
    pub exit_code: i64,
    /// The HTTP status, for HTTP buttons that got a response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status_code: Option<u16>,
    /// Captured standard output (or the response body, or the prompt text).
    pub stdout: String,
    /// Captured standard error (or the reason the press failed).
    pub stderr: String,
    /// Wall time of the press.
    pub duration_ms: u64,
    /// The error code when the press did not succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<ErrorCode>,
    /// The button's `AGENTS.md` text, when it has real content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// The arguments the press was given.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
    /// When the press started.
    pub started_at: Timestamp,
    /// The JSONL progress file the script could append to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_path: Option<String>,
    /// Output (or a response body) was cut at its cap.
    #[serde(default, skip_serializing_if = "is_false")]
    pub truncated: bool,
    /// The exact captured stdout bytes (or response body) when they are not
    /// valid UTF-8, so that [`stdout`](Self::stdout) is only their lossy text;
    /// `None` when `stdout` is exact. Never serialised: the JSON result and
    /// the run record hold the text. See [`PressResult::stdout_bytes`].
    #[serde(skip)]
    pub raw_stdout: Option<Vec<u8>>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl PressResult {
    /// A result for a press that started at `started_at` and has not produced anything yet.
    pub fn new(button: impl Into<String>, started_at: Timestamp) -> Self {
        Self {
            button: button.into(),
            status: Status::Ok,
            exit_code: 0,
            http_status_code: None,
            stdout: String::new(),
            stderr: String::new(),
            duration_ms: 0,
            error_type: None,
            prompt: None,
            args: BTreeMap::new(),
            started_at,
            progress_path: None,
            truncated: false,
            raw_stdout: None,
        }
    }

    /// Sets [`stdout`](Self::stdout) from captured bytes, moving them (no
    /// copy) when they are UTF-8, else keeping them as
    /// [`raw_stdout`](Self::raw_stdout) beside their lossy text.
    pub fn set_stdout_bytes(&mut self, bytes: Vec<u8>) {
        match String::from_utf8(bytes) {
            Ok(text) => {
                self.stdout = text;
                self.raw_stdout = None;
            }
            Err(e) => {
                let bytes = e.into_bytes();
                self.stdout = String::from_utf8_lossy(&bytes).into_owned();
                self.raw_stdout = Some(bytes);
            }
        }
    }

    /// The captured stdout as bytes, exactly as the script wrote them (or
    /// the response body as it came), up to the cap.
    pub fn stdout_bytes(&self) -> &[u8] {
        self.raw_stdout.as_deref().unwrap_or(self.stdout.as_bytes())
    }

    /// Marks the result failed with `code`, putting `message` in stderr.
    pub fn fail(&mut self, code: ErrorCode, message: impl Into<String>) {
        self.status = if code == ErrorCode::Timeout {
            Status::Timeout
        } else {
            Status::Error
        };
        self.error_type = Some(code);
        if self.exit_code == 0 {
            self.exit_code = -1;
        }
        let message = message.into();
        if self.stderr.is_empty() {
            self.stderr = message;
        } else {
            if !self.stderr.ends_with('\n') {
                self.stderr.push('\n');
            }
            self.stderr.push_str(&message);
        }
    }

    /// Whether the press succeeded.
    pub fn is_ok(&self) -> bool {
        self.status == Status::Ok
    }
}

/// One press as recorded in `buttons/<name>/pressed/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The button's name.
    pub button_name: String,
    /// When the press started.
    pub started_at: Timestamp,
    /// When it finished.
    pub finished_at: Timestamp,
    /// The exit code, HTTP status or -1.
    pub exit_code: i64,
    /// The HTTP status, for HTTP buttons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status_code: Option<u16>,
    /// How the press ended.
    pub status: Status,
    /// The error code when it did not succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<ErrorCode>,
    /// Standard output, at most 1 MiB, then `\n[truncated]`.
    pub stdout: String,
    /// Standard error, at most 1 MiB, then `\n[truncated]`.
    pub stderr: String,
    /// Wall time of the press.
    pub duration_ms: u64,
    /// The arguments the press was given.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
    /// The run's JSONL progress file (`pressed/<id>.jsonl`, beside the
    /// record `pressed/<id>.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_path: Option<String>,
    /// When the press was a drawer step: `<drawer>/<drawer run id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawer_run: Option<String>,
}

impl RunRecord {
    /// The record of a finished press.
    pub fn from_result(result: &PressResult, finished_at: Timestamp) -> Self {
        Self {
            button_name: result.button.clone(),
            started_at: result.started_at,
            finished_at,
            exit_code: result.exit_code,
            http_status_code: result.http_status_code,
            status: result.status,
            error_type: result.error_type,
            stdout: cap_output(&result.stdout),
            stderr: cap_output(&result.stderr),
            duration_ms: result.duration_ms,
            args: result
                .args
                .iter()
                .map(|(k, v)| (k.clone(), cap_record_arg(v)))
                .collect(),
            progress_path: result.progress_path.clone(),
            drawer_run: None,
        }
    }
}

/// Whether [`cap_output`] keeps `text` as it is: it is at most
/// [`OUTPUT_CAP`] bytes, or already capped (ends with [`TRUNCATED_MARKER`]
/// within the cap). Lets a caller move such text instead of copying it.
pub fn fits_output_cap(text: &str) -> bool {
    let already_capped =
        text.len() <= OUTPUT_CAP + TRUNCATED_MARKER.len() && text.ends_with(TRUNCATED_MARKER);
    text.len() <= OUTPUT_CAP || already_capped
}

/// Cuts `text` to at most [`OUTPUT_CAP`] bytes (on a character boundary) and
/// appends [`TRUNCATED_MARKER`] when anything was cut. Idempotent: output that
/// was already capped (as `buttons-exec` returns it) is kept as it is.
pub fn cap_output(text: &str) -> String {
    if fits_output_cap(text) {
        return text.to_owned();
    }
    let mut end = OUTPUT_CAP;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + TRUNCATED_MARKER.len());
    out.push_str(&text[..end]);
    out.push_str(TRUNCATED_MARKER);
    out
}

/// The most bytes of one argument value a run record keeps: 64 KiB.
pub const RECORD_ARG_CAP: usize = 64 << 10;

/// Cuts an argument value to at most [`RECORD_ARG_CAP`] bytes (on a
/// character boundary) and appends [`TRUNCATED_MARKER`] when anything was
/// cut, as a run record keeps it. The press itself got the whole value.
pub fn cap_record_arg(value: &str) -> String {
    if value.len() <= RECORD_ARG_CAP {
        return value.to_owned();
    }
    let mut end = RECORD_ARG_CAP;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + TRUNCATED_MARKER.len());
    out.push_str(&value[..end]);
    out.push_str(TRUNCATED_MARKER);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_64_kib_of_an_argument() {
        assert_eq!(cap_record_arg("small"), "small");
        let exact = "a".repeat(RECORD_ARG_CAP);
        assert_eq!(cap_record_arg(&exact), exact);
        let big = "é".repeat(RECORD_ARG_CAP);
        let capped = cap_record_arg(&big);
        assert!(capped.ends_with(TRUNCATED_MARKER));
        assert!(capped.len() <= RECORD_ARG_CAP + TRUNCATED_MARKER.len());
        let mut result = PressResult::new("b", Timestamp::UNIX_EPOCH);
        result.args.insert("big".into(), "x".repeat(200 << 10));
        let record = RunRecord::from_result(&result, Timestamp::UNIX_EPOCH);
        assert_eq!(
            record.args["big"].len(),
            RECORD_ARG_CAP + TRUNCATED_MARKER.len()
        );
    }

    #[test]
    fn caps_output() {
        assert_eq!(cap_output("hi"), "hi");
        let big = "é".repeat(OUTPUT_CAP);
        let capped = cap_output(&big);
        assert!(capped.ends_with(TRUNCATED_MARKER));
        assert!(capped.len() <= OUTPUT_CAP + TRUNCATED_MARKER.len());
        assert_eq!(cap_output(&capped), capped);
        // Cut just short of the cap on a multi-byte boundary: capping again keeps it.
        assert_eq!(capped.matches(TRUNCATED_MARKER).count(), 1);
        assert!(capped.len() > OUTPUT_CAP);
    }

    #[test]
    fn result_json_shape() {
        let mut r = PressResult::new("b", Timestamp::UNIX_EPOCH);
        r.fail(ErrorCode::Timeout, "timed out after 1s");
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["status"], "timeout");
        assert_eq!(v["error_type"], "TIMEOUT");
        assert_eq!(v["exit_code"], -1);
        assert!(v.get("truncated").is_none());
        let rec = RunRecord::from_result(&r, Timestamp::UNIX_EPOCH);
        assert_eq!(serde_json::to_value(&rec).unwrap()["button_name"], "b");
    }
}
