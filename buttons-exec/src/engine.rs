//! Pressing by name: the one pipeline every front end shares (the CLI, the
//! MCP server, and any program embedding this crate).
//!
//! [`Engine::press`] loads a button from a [`Store`], validates the
//! arguments, merges the batteries (local over global), resolves the
//! timeout, creates the run's progress file, runs the press and writes
//! exactly one run record beside it (`pressed/<id>.jsonl` and
//! `pressed/<id>.json`).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::time::Duration;

use buttons_spec::{
    Args, Button, ButtonKind, ButtonName, ErrorCode, PressResult, RunRecord, Timestamp,
};
use buttons_store::{RunId, Store};
use camino::Utf8PathBuf;
use serde_json::{Map, Value};

use crate::context::{PressContext, PressOptions};
use crate::error::Error;
use crate::idempotency::Idempotency;

/// The arguments of a press, as a front end received them.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgInput {
    /// `(name, value)` text pairs, as `--arg name=value` gives them.
    Text(Vec<(String, String)>),
    /// A JSON object, as an MCP or REST call gives it: values may be strings
    /// or JSON numbers and booleans, checked against the declared types.
    Json(Map<String, Value>),
}

impl Default for ArgInput {
    fn default() -> Self {
        Self::Text(Vec::new())
    }
}

/// What to press: a button by name, its arguments and an optional timeout.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PressRequest {
    /// The button's name as the caller gave it (slugified before lookup:
    /// `MyButton` finds `mybutton`).
    pub name: String,
    /// The arguments.
    pub args: ArgInput,
    /// Overrides the button's `timeout_seconds` (see [`resolve_timeout`]).
    pub timeout: Option<Duration>,
    /// An idempotency key: a repeat within its TTL answers with the first
    /// successful press's result ([`Ran::replayed`]) instead of running
    /// (see [`Engine::press`]).
    pub idempotency: Option<Idempotency>,
}

impl PressRequest {
    /// A request for `name` with no arguments.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Adds one argument.
    pub fn arg(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        match &mut self.args {
            ArgInput::Text(pairs) => pairs.push((name, value)),
            ArgInput::Json(map) => {
                map.insert(name, Value::String(value));
            }
        }
        self
    }

    /// Sets the arguments from a JSON object.
    pub fn json_args(mut self, args: Map<String, Value>) -> Self {
        self.args = ArgInput::Json(args);
        self
    }

    /// Sets [`timeout`](Self::timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets [`idempotency`](Self::idempotency) to `key` with the default
    /// TTL ([`DEFAULT_IDEMPOTENCY_TTL`](crate::DEFAULT_IDEMPOTENCY_TTL)).
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency = Some(Idempotency::new(key));
        self
    }

    /// Sets [`idempotency`](Self::idempotency).
    pub fn idempotency(mut self, idempotency: Idempotency) -> Self {
        self.idempotency = Some(idempotency);
        self
    }
}

/// The timeout of a press: the requested one, else the button's
/// `timeout_seconds`, else [`DEFAULT_TIMEOUT_SECONDS`](buttons_spec::DEFAULT_TIMEOUT_SECONDS).
pub fn resolve_timeout(requested: Option<Duration>, button: &Button) -> Duration {
    requested.unwrap_or_else(|| button.timeout())
}

/// A button loaded from the store: its name, spec and folder.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The validated name.
    pub name: ButtonName,
    /// The spec.
    pub button: Button,
    /// The button's folder.
    pub dir: Utf8PathBuf,
}

impl Loaded {
    /// Validates `input` against the button's argument definitions.
    pub fn validate(&self, input: &ArgInput) -> Result<Args, Error> {
        let validated = match input {
            ArgInput::Text(pairs) => Args::validate(
                &self.button.args,
                pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            ),
            ArgInput::Json(map) => Args::validate_json(&self.button.args, map),
        };
        validated.map_err(|source| Error::InvalidArgs {
            button: self.name.to_string(),
            defs: self.button.args.clone(),
            source: Box::new(source),
        })
    }
}

/// What a dry run found: what a press would do, without running or
/// recording anything.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The button's name.
    pub button: String,
    /// The button's `runtime` as written in its spec.
    pub runtime: String,
    /// The resolved timeout.
    pub timeout: Duration,
    /// The validated arguments.
    pub args: BTreeMap<String, String>,
    /// What the press would do.
    pub action: PlannedAction,
}

/// The kind-specific part of a [`Plan`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PlannedAction {
    /// A code button: the variables the press adds to the base environment,
    /// battery values masked (see [`dry_run_env`](crate::dry_run_env)).
    Code {
        /// Variable names and values.
        env: BTreeMap<String, String>,
    },
    /// An HTTP button: the rendered request.
    Http {
        /// The method.
        method: String,
        /// The rendered URL.
        url: String,
        /// Headers, verbatim and in order.
        headers: Vec<(String, String)>,
        /// The rendered body (lossy UTF-8), if any.
        body: Option<String>,
    },
    /// A prompt button: its `AGENTS.md` would be the result.
    Prompt,
}

/// A press that ran (successfully or not), and its record.
#[derive(Debug)]
pub struct Ran {
    /// The run's id: the stem of its record and progress file.
    pub id: RunId,
    /// The result.
    pub result: PressResult,
    /// The run record's file, or why it could not be written (the press
    /// ran all the same).
    pub record: Result<Utf8PathBuf, Error>,
    /// For a press that failed: the fix, in API terms.
    pub hint: Option<String>,
    /// The result is a replay: an earlier press with the same idempotency
    /// key answered (its id, record and result), nothing ran and no record
    /// was written.
    pub replayed: bool,
}

/// Presses buttons by name from one data directory.
///
/// Nothing is read implicitly: the environment a press inherits is
/// [`Engine::base_env`] (empty unless set; [`Engine::from_env`] takes this
/// process's).
#[derive(Debug, Clone)]
pub struct Engine {
    store: Store,
    base_env: Vec<(OsString, OsString)>,
    hidden_batteries: Vec<String>,
    supervisor: Option<std::path::PathBuf>,
}

impl Engine {
    /// An engine over `store` whose presses inherit an empty environment.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            base_env: Vec::new(),
            hidden_batteries: Vec::new(),
            supervisor: None,
        }
    }

    /// An engine whose presses inherit this process's environment (what a
    /// command-line tool wants).
    pub fn from_env(store: Store) -> Self {
        Self::new(store).base_env(std::env::vars_os())
    }

    /// Sets the environment presses inherit, the first layer of a code
    /// button's environment. Interpreters are looked up in its `PATH`; the
    /// HTTP opt-ins (`BUTTONS_ALLOW_PRIVATE_NETWORKS`, `BUTTONS_ALLOW_ANY_HOST`)
    /// are read from it.
    pub fn base_env(mut self, env: impl IntoIterator<Item = (OsString, OsString)>) -> Self {
        self.base_env = env.into_iter().collect();
        self
    }

    /// Batteries that presses do not receive: `BUTTONS_BAT_<KEY>` is not
    /// set for these keys, and a dry run does not list them. A server that
    /// uses a battery as its own credential (`buttons serve` and its
    /// `API_KEY` battery) hides it, so that no button can read the key.
    pub fn hide_batteries<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.hidden_batteries = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the program that supervises code presses (see
    /// [`supervise_if_asked`](crate::supervise_if_asked)): a program whose
    /// `main` calls that function first, usually this one
    /// (`/proc/self/exe`). Then the process group of a code press that has
    /// run past 50 ms dies with this process, even when it is killed with
    /// SIGKILL, and the run is recorded
    /// as `INTERRUPTED` by the next command on that button
    /// ([`Store::recover_interrupted`]).
    pub fn supervisor(mut self, program: impl Into<std::path::PathBuf>) -> Self {
        self.supervisor = Some(program.into());
        self
    }

    /// The merged batteries (local over global) less the
    /// [hidden](Self::hide_batteries) ones: what a press receives.
    fn batteries(&self) -> Result<buttons_spec::Batteries, Error> {
        let mut batteries = self.store.merged_batteries()?;
        for key in &self.hidden_batteries {
            batteries.remove(key);
        }
        Ok(batteries)
    }

    /// The data directory.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Loads a button by name (slugified first).
    pub fn load(&self, name: &str) -> Result<Loaded, Error> {
        let name = ButtonName::from_user(name)?;
        let button = self.store.load(&name)?;
        let dir = self.store.button_dir(&name);
        Ok(Loaded { name, button, dir })
    }

    /// A dry run: loads the button, validates the arguments (a missing
    /// required argument is still [`ErrorCode::MissingArg`]) and describes
    /// what a press would do. Nothing runs and nothing is recorded.
    pub fn plan(&self, request: &PressRequest) -> Result<Plan, Error> {
        let loaded = self.load(&request.name)?;
        let args = loaded.validate(&request.args)?;
        let button = &loaded.button;
        let action = match button.kind() {
            ButtonKind::Http => {
                let req = buttons_http::prepare(button, &args)?;
                PlannedAction::Http {
                    method: req.method,
                    url: req.url.to_string(),
                    headers: req.headers,
                    body: req.body.map(|b| String::from_utf8_lossy(&b).into_owned()),
                }
            }
            ButtonKind::Prompt => PlannedAction::Prompt,
            _ => {
                let batteries = self.batteries()?;
                let ctx = PressContext::new(button, loaded.dir.as_std_path(), &args, &batteries);
                PlannedAction::Code {
                    env: crate::dry_run_env(&ctx),
                }
            }
        };
        Ok(Plan {
            button: loaded.name.to_string(),
            runtime: button.runtime.to_string(),
            timeout: resolve_timeout(request.timeout, button),
            args: args.to_map(),
            action,
        })
    }

    /// Presses a button by name: loads it, validates the arguments, and
    /// runs it as [`Engine::press_loaded`] does.
    ///
    /// `Err` means nothing ran (an unknown button, bad arguments, an
    /// unusable data directory). A press that ran and failed is `Ok` with a
    /// failed [`PressResult`].
    ///
    /// With [`PressRequest::idempotency`], presses of one button with one
    /// key run it once: a press takes a file lock on the key's entry
    /// (others wait for it, telling [`PressOptions::events`]
    /// [`PressEvent::IdempotencyWait`](crate::PressEvent)), answers with a
    /// live entry ([`Ran::replayed`], nothing runs, no record is written) or
    /// presses and keeps a successful result for the key's TTL. The same
    /// key with other arguments is [`Error::IdempotencyConflict`]
    /// (`VALIDATION_ERROR`). Keys are scoped to the button. See the
    /// [`Idempotency`] docs for the files.
    pub async fn press(&self, request: &PressRequest, options: PressOptions) -> Result<Ran, Error> {
        let loaded = self.load(&request.name)?;
        let args = loaded.validate(&request.args)?;
        let options = match request.timeout {
            Some(timeout) => options.timeout(timeout),
            None => options,
        };
        self.press_loaded_keyed(&loaded, &args, request.idempotency.as_ref(), options)
            .await
    }

    /// [`Engine::press_loaded_once`] with a key, [`Engine::press_loaded`]
    /// without: for a front end whose callers may or may not send a key.
    pub async fn press_loaded_keyed(
        &self,
        loaded: &Loaded,
        args: &Args,
        idempotency: Option<&Idempotency>,
        options: PressOptions,
    ) -> Result<Ran, Error> {
        match idempotency {
            Some(idem) => self.press_loaded_once(loaded, args, idem, options).await,
            None => self.press_loaded(loaded, args, options).await,
        }
    }

    /// [`Engine::press_loaded`] under an idempotency key, as
    /// [`Engine::press`] does for [`PressRequest::idempotency`]: for a
    /// front end that loaded and validated the button itself.
    pub async fn press_loaded_once(
        &self,
        loaded: &Loaded,
        args: &Args,
        idempotency: &Idempotency,
        options: PressOptions,
    ) -> Result<Ran, Error> {
        crate::idempotency::press_once(self, loaded, args, idempotency, options).await
    }

    /// [`Engine::press`] for callers without a tokio runtime.
    ///
    /// # Panics
    ///
    /// When called from inside a tokio runtime (use [`Engine::press`] there).
    pub fn press_blocking(
        &self,
        request: &PressRequest,
        options: PressOptions,
    ) -> Result<Ran, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        runtime.block_on(self.press(request, options))
    }

    /// Presses a button already loaded and validated (a front end that
    /// looked the button up itself loads it once): merges the batteries,
    /// resolves the timeout ([`PressOptions::timeout`], else the button's),
    /// creates the progress file `pressed/<id>.jsonl` and the active-run
    /// marker `pressed/.active/<id>.running` (see [`Store::active_runs`]), runs the
    /// press with [`Engine::base_env`], writes the record `pressed/<id>.json`
    /// naming the progress file, and removes the marker (also when the press
    /// fails early).
    ///
    /// A button with a `queue` block first takes a slot of its queue (see
    /// [`QueueSpec`](crate::QueueSpec)), held until the record is written:
    /// when all are taken it tells [`PressOptions::events`]
    /// ([`PressEvent::QueueWait`](crate::PressEvent)) and waits up to the
    /// press timeout (on top of the script's own), then fails with
    /// [`Error::QueueTimeout`] (`QUEUE_TIMEOUT`). A cancellation while
    /// waiting is [`Error::Cancelled`]. Nothing runs or is recorded then.
    ///
    /// # Security
    ///
    /// See [`press`](crate::press): argument values reach a script only
    /// through its environment, and an HTTP request only through
    /// context-aware encoding under the private-network guard.
    pub async fn press_loaded(
        &self,
        loaded: &Loaded,
        args: &Args,
        options: PressOptions,
    ) -> Result<Ran, Error> {
        self.press_loaded_recorded(loaded, args, options, &RecordOptions::default())
            .await
    }

    /// [`Engine::press_loaded`] whose record is written with `record`'s
    /// changes: secrets masked, the drawer run named. The returned result is
    /// not masked.
    pub async fn press_loaded_recorded(
        &self,
        loaded: &Loaded,
        args: &Args,
        mut options: PressOptions,
        record_options: &RecordOptions,
    ) -> Result<Ran, Error> {
        let name = &loaded.name;
        let timeout = resolve_timeout(options.timeout, &loaded.button);
        // The queue slot is held until the record is written. Waiting for it
        // is bounded by the timeout and does not use up the script's own.
        let _slot =
            match crate::queue::acquire(&self.store, &loaded.button, args, timeout, &mut options)
                .await?
            {
                crate::queue::Acquired::Slot(slot) => slot,
                crate::queue::Acquired::Cancelled => {
                    return Err(Error::Cancelled {
                        what: "a queue slot".to_owned(),
                    });
                }
            };
        let batteries = self.batteries()?;
        // `pressed/` is made sure of once; recovery, the progress file, the
        // marker, pruning and the record go through the checked folder.
        let pressed = self.store.pressed(name)?;
        // A run whose process died before its record: recorded now, so the
        // history says what happened to it.
        let _ = pressed.recover_interrupted(name);
        let started_at = Timestamp::now();
        let id = RunId::new(started_at);
        let progress = pressed.create_progress_file(&id)?;
        // Removed once the record is written, and on every early return.
        let marker = RunningMarker::new(&pressed, name, &id, started_at)?;
        if let Some(events) = options.events.as_mut() {
            events(&crate::PressEvent::Started {
                progress_path: progress.clone().into_std_path_buf(),
            });
        }
        let mut ctx = PressContext::new(&loaded.button, loaded.dir.as_std_path(), args, &batteries);
        ctx.base_env.clone_from(&self.base_env);
        ctx.progress_path = Some(progress.clone().into_std_path_buf());
        ctx.started_at = Some(started_at);
        ctx.supervisor.clone_from(&self.supervisor);
        let options = options.timeout(timeout);
        // Pruning old records, when the record count says it is due, runs
        // while the press is under way instead of after it: on this thread,
        // once the press has had its first poll (its script started, or its
        // request sent), so no thread is started for it. The press's events
        // wait meanwhile (a few hundred microseconds). A failed pre-prune is
        // harmless: writing the record prunes again.
        let prune_due = pressed.prune_due();
        let (outcome, ()) = tokio::join!(crate::press::press_with_hint(&ctx, options), async {
            if prune_due {
                tokio::task::yield_now().await;
                let _ = pressed.make_room();
            }
        });
        let (mut result, http_hint) = outcome?;
        result.progress_path = Some(progress.to_string());
        let record = write_record(&pressed, &id, &mut result, record_options).map_err(Error::from);
        if record.is_err() {
            // No record names it: an empty progress file would only confuse.
            let _ = self.store.remove_progress_file_if_empty(name, &id);
        }
        drop(marker);
        let hint = failure_hint(&result, http_hint);
        Ok(Ran {
            id,
            result,
            record,
            hint,
            replayed: false,
        })
    }
}

/// Writes the run record of `result`, lending it the captured output: text
/// within the cap that no secret masks moves into the record and back,
/// so the output is not copied (only a capped or masked version is new).
fn write_record(
    pressed: &buttons_store::Pressed,
    id: &RunId,
    result: &mut PressResult,
    options: &RecordOptions,
) -> buttons_store::Result<Utf8PathBuf> {
    let stdout = std::mem::take(&mut result.stdout);
    let stderr = std::mem::take(&mut result.stderr);
    let mut record = RunRecord::from_result(result, Timestamp::now());
    let (record_stdout, kept_stdout) = options.lend(stdout);
    let (record_stderr, kept_stderr) = options.lend(stderr);
    record.stdout = record_stdout;
    record.stderr = record_stderr;
    options.apply(&mut record);
    let written = pressed.write_record(id, &record);
    result.stdout = kept_stdout.unwrap_or(record.stdout);
    result.stderr = kept_stderr.unwrap_or(record.stderr);
    written
}

/// Changes to the run record of one press (see
/// [`Engine::press_loaded_recorded`]).
#[derive(Debug, Clone, Default)]
pub struct RecordOptions {
    /// Values replaced by [`crate::SECRET_MASK`] wherever they appear in the
    /// record (arguments, stdout, stderr).
    pub secrets: Vec<String>,
    /// The drawer run this press is a step of (`<drawer>/<run id>`).
    pub drawer_run: Option<String>,
}

impl RecordOptions {
    /// The record's drawer run and masked arguments (its output comes
    /// through [`RecordOptions::lend`]).
    fn apply(&self, record: &mut RunRecord) {
        record.drawer_run.clone_from(&self.drawer_run);
        if self.secrets.is_empty() {
            return;
        }
        for v in record.args.values_mut() {
            *v = crate::mask_secrets(v, &self.secrets);
        }
    }

    /// The record's version of captured `text` (capped, secrets masked),
    /// and `text` itself when that version differs from it (else the record
    /// holds the very text, to be handed back after the write).
    fn lend(&self, text: String) -> (String, Option<String>) {
        let masks = self
            .secrets
            .iter()
            .any(|s| !s.is_empty() && text.contains(s.as_str()));
        if buttons_spec::fits_output_cap(&text) && !masks {
            return (text, None);
        }
        let record = crate::mask_secrets(&buttons_spec::cap_output(&text), &self.secrets);
        (record, Some(text))
    }
}

/// The active-run marker of a press (`pressed/.active/<id>.running`), removed when
/// dropped: after the record is written, or when the press returns early.
struct RunningMarker<'a> {
    pressed: &'a buttons_store::Pressed,
    id: &'a RunId,
}

impl<'a> RunningMarker<'a> {
    fn new(
        pressed: &'a buttons_store::Pressed,
        name: &ButtonName,
        id: &'a RunId,
        started_at: Timestamp,
    ) -> Result<Self, Error> {
        if let Err(e) = pressed.mark_running(name, id, started_at) {
            // Nothing ran: leave no empty progress file behind either.
            let _ = pressed.remove_progress_file(id);
            return Err(e.into());
        }
        Ok(Self { pressed, id })
    }
}

impl Drop for RunningMarker<'_> {
    fn drop(&mut self) {
        // A marker left behind is harmless: its process is gone, so it is
        // never listed, and pruning removes it.
        let _ = self.pressed.clear_running(self.id);
    }
}

/// The fix for a failed press, in API terms.
fn failure_hint(result: &PressResult, http_hint: Option<String>) -> Option<String> {
    let code = result.error_type?;
    if let Some(hint) = http_hint {
        return Some(hint);
    }
    Some(match code {
        ErrorCode::Timeout => {
            "give it more time: raise `timeout_seconds` on the button or `PressRequest::timeout`"
                .to_owned()
        }
        ErrorCode::RuntimeMissing => {
            "install the button's interpreter (sh, bash, python3 or node) on the `PATH` of the engine's base environment"
                .to_owned()
        }
        ErrorCode::PromptError => format!("write the prompt in the button's {}", crate::AGENTS_FILE),
        _ => "the result's stdout, stderr and exit_code (also in the run record) say what went wrong"
            .to_owned(),
    })
}
