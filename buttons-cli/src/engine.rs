//! The press pipeline every front end shares: load the button, validate the
//! arguments, merge the batteries, create the progress file, run the press,
//! record it.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use buttons_exec::{PressContext, PressOptions};
use buttons_spec::{
    Args, Button, ButtonKind, ButtonName, ErrorCode, PressResult, RunRecord, Timestamp,
};
use buttons_store::Store;
use serde::Serialize;
use serde_json::{Value, json};

/// What to press and how.
#[derive(Debug, Clone, Default)]
pub struct PressRequest {
    /// The button's name as the user typed it (slugified before lookup).
    pub name: String,
    /// Argument values, `(name, value)`.
    pub args: Vec<(String, String)>,
    /// Overrides the button's timeout.
    pub timeout: Option<Duration>,
    /// Validate and describe the press without running or recording it.
    pub dry_run: bool,
}

/// Why a press could not produce a result: the fields of the error envelope.
#[derive(Debug, Clone, Serialize)]
pub struct PressError {
    /// The stable code.
    pub code: ErrorCode,
    /// What went wrong.
    pub message: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The button's argument definitions, when the arguments were wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<Box<Value>>,
}

impl fmt::Display for PressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PressError {}

impl PressError {
    /// An envelope for `err`: its message followed by every distinct cause in
    /// its source chain, with `code` and `hint`.
    pub fn from_error(code: ErrorCode, hint: Option<String>, err: &dyn std::error::Error) -> Self {
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        Self {
            code,
            message,
            hint,
            spec: None,
        }
    }
}

impl From<buttons_store::Error> for PressError {
    fn from(e: buttons_store::Error) -> Self {
        Self::from_error(e.code(), e.hint(), &e)
    }
}

impl From<buttons_spec::Error> for PressError {
    fn from(e: buttons_spec::Error) -> Self {
        Self::from_error(e.code(), e.hint(), &e)
    }
}

impl From<buttons_exec::Error> for PressError {
    fn from(e: buttons_exec::Error) -> Self {
        Self::from_error(e.code(), e.hint(), &e)
    }
}

impl From<buttons_http::Error> for PressError {
    fn from(e: buttons_http::Error) -> Self {
        Self::from_error(e.code(), e.hint(), &e)
    }
}

/// A press that ran, and where its record went.
#[derive(Debug)]
pub struct Ran {
    /// The result.
    pub result: PressResult,
    /// The run record's file, or why it could not be written.
    pub record: Result<PathBuf, PressError>,
}

/// What [`press`] did.
#[derive(Debug)]
pub enum Pressed {
    /// The button ran (successfully or not) and was recorded.
    Ran(Box<Ran>),
    /// A dry run: what would run, as `{button, runtime, timeout, args, …}`.
    DryRun(Value),
}

/// Splits `--arg key=value` strings on their first `=`.
pub fn parse_press_args(given: &[String]) -> Result<Vec<(String, String)>, PressError> {
    given
        .iter()
        .map(|g| {
            buttons_spec::split_press_arg(g)
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .map_err(PressError::from)
        })
        .collect()
}

/// Loads a button and validates arguments against it; argument errors carry
/// the button's argument definitions as `spec`.
fn load_and_validate(
    store: &Store,
    request: &PressRequest,
) -> Result<(ButtonName, Button, Args), PressError> {
    let name = ButtonName::from_user(&request.name)?;
    let button = store.load(&name).map_err(|e| {
        let mut err = PressError::from(e);
        if err.code == ErrorCode::NotFound {
            err.hint = Some("run 'buttons list' to see the buttons there are".to_owned());
        }
        err
    })?;
    let args =
        Args::validate(&button.args, request.args.iter().map(|(k, v)| (k, v))).map_err(|e| {
            let mut err = PressError::from(e);
            err.spec = Some(Box::new(
                serde_json::to_value(&button.args).expect("argument definitions serialize"),
            ));
            if err.hint.is_none() {
                err.hint = Some(format!("run 'buttons {name}' to see its arguments"));
            }
            err
        })?;
    Ok((name, button, args))
}

/// Presses a button by name: loads it, validates the arguments, merges the
/// batteries (local over global), creates the progress file, runs it with
/// `base_env` as the caller's environment, and writes exactly one run
/// record. A dry run stops after validation and records nothing.
///
/// `Err` means nothing ran (unknown button, bad arguments, an unusable data
/// directory). A press that ran and failed is `Ok` with a failed
/// [`PressResult`].
pub async fn press(
    store: &Store,
    request: &PressRequest,
    base_env: Vec<(OsString, OsString)>,
    options: PressOptions,
) -> Result<Pressed, PressError> {
    let (name, button, args) = load_and_validate(store, request)?;
    let batteries = store.merged_batteries()?;
    let dir = store.button_dir(&name);
    let timeout = request.timeout.unwrap_or_else(|| button.timeout());

    if request.dry_run {
        let mut info = json!({
            "button": name,
            "runtime": button.runtime,
            "timeout": timeout.as_secs(),
            "args": args.to_map(),
        });
        if button.kind() == ButtonKind::Http {
            let req = buttons_http::prepare(&button, &args)?;
            info["method"] = json!(req.method);
            info["url"] = json!(req.url.as_str());
            info["headers"] = json!(
                req.headers
                    .iter()
                    .map(|(k, v)| json!([k, v]))
                    .collect::<Vec<_>>()
            );
            info["body"] = match &req.body {
                Some(body) => json!(String::from_utf8_lossy(body)),
                None => Value::Null,
            };
        } else {
            let ctx = PressContext::new(&button, &dir, &args, &batteries);
            info["env"] = json!(buttons_exec::dry_run_env(&ctx));
        }
        return Ok(Pressed::DryRun(info));
    }

    let started_at = Timestamp::now();
    let progress = store.create_progress_file(&name, started_at)?;
    let mut ctx = PressContext::new(&button, &dir, &args, &batteries);
    ctx.base_env = base_env;
    ctx.progress_path = Some(progress.clone());
    ctx.started_at = Some(started_at);
    let mut options = options;
    options.timeout = Some(timeout);
    // Pruning old records overlaps the press instead of following it.
    let room = {
        let (store, name) = (store.clone(), name.clone());
        std::thread::spawn(move || store.make_room(&name))
    };
    let result = buttons_exec::press(&ctx, options).await;
    // A failed pre-prune is harmless: write_record prunes again.
    let _ = room.join();
    let mut result = result?;
    result.progress_path = Some(progress.display().to_string());
    let record = RunRecord::from_result(&result, Timestamp::now());
    let record = store.write_record(&name, &record).map_err(PressError::from);
    Ok(Pressed::Ran(Box::new(Ran { result, record })))
}

/// The error envelope of a press that ran and failed: its code, the script's
/// stderr (or the reason) as the message, and a hint.
pub fn failure_of(result: &PressResult) -> Option<PressError> {
    let code = result.error_type?;
    let stderr = result.stderr.trim();
    let message = if stderr.is_empty() {
        format!(
            "{} failed with exit code {}",
            result.button, result.exit_code
        )
    } else {
        stderr.to_owned()
    };
    let hint = match code {
        ErrorCode::Timeout => "give it more time with --timeout SECS".to_owned(),
        ErrorCode::RuntimeMissing => {
            "install the button's interpreter (sh, bash, python3 or node) or fix PATH".to_owned()
        }
        ErrorCode::PromptError => {
            format!("write the prompt in buttons/{}/AGENTS.md", result.button)
        }
        _ => format!("see 'buttons history {}' for its output", result.button),
    };
    Some(PressError {
        code,
        message,
        hint: Some(hint),
        spec: None,
    })
}
