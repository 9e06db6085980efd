//! Pressing drawers: steps in order through the [`Engine`], each button
//! step a real press (batteries, validation, timeout, capture, record).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use buttons_spec::{
    ButtonName, Drawer, DrawerKind, ErrorCode, FailureAction, InputType, OUTPUT_CAP, RefContext,
    Status, Step, StepKind, Template, Timestamp, Validation, cap_output, json_to_text,
    step_dependencies, validate_drawer,
};
use buttons_store::RunId;
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use serde_json::{Map, Value, json};
use tokio::sync::watch;

use crate::context::{Cancel, PressOptions};
use crate::engine::{ArgInput, Engine, RecordOptions};
use crate::error::Error;
use crate::secrets::mask_json;

/// How deep sub-drawers may nest.
pub const MAX_DRAWER_DEPTH: usize = 16;

/// What to press: a drawer by name and its inputs.
#[derive(Debug, Clone, Default)]
pub struct DrawerRequest {
    /// The drawer's name (slugified before lookup).
    pub name: String,
    /// Inputs by name, as JSON values.
    pub inputs: Map<String, Value>,
    /// A webhook body, the `webhook` root of references.
    pub webhook_body: Option<Value>,
    /// The environment `$ENV{…}` and `env` read (nothing is read implicitly).
    pub env: BTreeMap<String, String>,
}

/// Receives each finished top-level step's entry of a drawer press (as in
/// the result's `steps`, unmasked), e.g. for progress reports.
pub type StepSink = Box<dyn FnMut(&Value) + Send>;

/// The default `concurrency` of [`DrawerMode::Parallel`]: 8 steps at once.
pub const DEFAULT_DRAWER_CONCURRENCY: usize = 8;

/// How the top-level steps of a drawer are scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DrawerMode {
    /// One after the other, in order (the default).
    #[default]
    Sequential,
    /// As a dependency graph: a step runs once every step its expressions
    /// reference has finished ([`buttons_spec::step_dependencies`]), at most
    /// `concurrency` at once.
    Parallel {
        /// Steps at once (at least 1).
        concurrency: usize,
        /// What a failed step does to the others: `Stop` cancels the
        /// running steps and starts no more; `Continue` lets independent
        /// steps go on and reports the failed step's dependents `skipped`.
        on_failure: FailureAction,
    },
}

/// How a drawer press behaves.
#[derive(Default)]
pub struct DrawerOptions {
    /// Cancels the press when it completes: the running steps' process
    /// groups are ended, later steps do not run, the run is still recorded
    /// (`CANCELLED`).
    pub cancel: Option<Cancel>,
    /// Sequential (default) or parallel scheduling of the top-level steps.
    pub mode: DrawerMode,
    /// Called with each finished top-level step.
    pub on_step: Option<StepSink>,
    /// The run's id, chosen by the caller (e.g. to answer a webhook with it
    /// before the run ends); by default a new [`RunId`] at the start.
    pub run_id: Option<RunId>,
}

/// A drawer press that ran (and was recorded).
#[derive(Debug)]
pub struct DrawerRan {
    /// The run's id.
    pub id: RunId,
    /// Whether every step that had to succeed did.
    pub ok: bool,
    /// The result (§3): `{run_id, drawer, status, …, steps, failed_step?, error?}`, unmasked.
    pub result: Value,
    /// The record's file, or why it could not be written.
    pub record: Result<camino::Utf8PathBuf, Error>,
}

/// A step failure: code, message, fix.
#[derive(Debug, Clone)]
struct StepError {
    code: ErrorCode,
    message: String,
    remediation: String,
}

impl StepError {
    fn new(code: ErrorCode, message: impl Into<String>, remediation: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            remediation: remediation.into(),
        }
    }

    fn json(&self) -> Value {
        json!({"code": self.code, "message": self.message, "remediation": self.remediation})
    }
}

/// A step's result.
struct StepOutcome {
    entry: Map<String, Value>,
    output: Value,
    error: Option<StepError>,
}

/// One drawer run's state shared by its steps.
struct Run<'a> {
    engine: &'a Engine,
    /// Any of these turning true cancels: the caller's, and those of the
    /// enclosing `for_each` or parallel scope.
    cancels: Vec<watch::Receiver<bool>>,
    secrets: Vec<String>,
    env: BTreeMap<String, String>,
    /// The top-level scheduling (used by the pressed drawer only).
    mode: DrawerMode,
    on_step: Option<Arc<Mutex<StepSink>>>,
}

/// What a list of steps produced.
struct Block {
    /// The steps' entries, in step order.
    entries: Vec<Value>,
    /// The step that ended the block, and why.
    failure: Option<(String, StepError)>,
}

impl Block {
    /// `{id: {status, output, error}}`: the nested form of `for_each`
    /// iterations and `switch` cases.
    fn brief(&self) -> Value {
        let mut map = Map::new();
        for e in &self.entries {
            let mut b = Map::new();
            for k in ["status", "output", "error", "skipped_because"] {
                if let Some(v) = e.get(k) {
                    b.insert(k.into(), v.clone());
                }
            }
            map.insert(
                e["id"].as_str().unwrap_or_default().to_owned(),
                Value::Object(b),
            );
        }
        Value::Object(map)
    }
}

fn cancelled_error() -> StepError {
    StepError::new(
        ErrorCode::Cancelled,
        "the press was cancelled",
        "press it again",
    )
}

fn ms_since(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Engine {
    /// Loads and validates a drawer for a press: `DRAWER_NOT_FOUND`, a flow
    /// drawer (`FLOW_RUNTIME_REQUIRED`), validation errors (`VALIDATION_ERROR`).
    pub fn load_drawer_for_press(&self, name: &str) -> Result<(Drawer, Validation), Error> {
        let name = ButtonName::from_user(name)?;
        let drawer = self.store().load_drawer(&name)?;
        if drawer.kind() == DrawerKind::Flow {
            return Err(Error::drawer(
                ErrorCode::FlowRuntimeRequired,
                format!("{name} is a flow drawer: it runs in an external agent runtime"),
                "press an action drawer; flow drawers are read, edited and validated only"
                    .to_owned(),
                None,
            ));
        }
        let validation = validate_drawer(&drawer, self.store());
        if !validation.ok {
            return Err(Error::drawer(
                ErrorCode::ValidationError,
                format!(
                    "drawer {name} has {} validation error(s): {}",
                    validation.errors.len(),
                    validation.errors[0].message
                ),
                validation.errors[0].remediation.clone(),
                Some(serde_json::to_value(&validation).expect("serializes")),
            ));
        }
        Ok((drawer, validation))
    }

    /// The secrets of a press of `drawer` with `inputs`: secret inputs'
    /// values (as text) and every battery value.
    pub fn drawer_secrets(&self, drawer: &Drawer, inputs: &Map<String, Value>) -> Vec<String> {
        let mut out: Vec<String> = self
            .store()
            .merged_batteries()
            .map(|b| b.iter().map(|(_, v)| v.to_owned()).collect())
            .unwrap_or_default();
        for input in drawer.inputs.iter().filter(|i| i.secret) {
            if let Some(v) = inputs.get(&input.name) {
                out.push(json_to_text(v));
            }
        }
        out.retain(|s| !s.is_empty());
        out
    }

    /// The HTTP buttons (those with a `url`) a press of `drawer` could
    /// press: its button steps, nested steps and cases, sub-drawers and
    /// `on_error` handlers, to [`MAX_DRAWER_DEPTH`]. A button name that is a
    /// reference (`${…}`) cannot be known before the run and is listed as
    /// written. For a front end that presses HTTP buttons only when allowed.
    pub fn drawer_http_buttons(&self, drawer: &Drawer) -> Vec<String> {
        let mut found = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        self.http_buttons_in(drawer, 0, &mut seen, &mut found);
        found
    }

    fn http_buttons_in(
        &self,
        drawer: &Drawer,
        depth: usize,
        seen: &mut std::collections::BTreeSet<String>,
        found: &mut Vec<String>,
    ) {
        if depth >= MAX_DRAWER_DEPTH || !seen.insert(drawer.name.clone()) {
            return;
        }
        let mut sub_drawers: Vec<&str> = drawer
            .on_error
            .as_ref()
            .map(|h| h.drawer.as_str())
            .into_iter()
            .collect();
        let mut stack: Vec<&Step> = drawer.steps.iter().collect();
        while let Some(step) = stack.pop() {
            stack.extend(step.steps.iter());
            stack.extend(step.cases.iter().flat_map(|c| c.steps.iter()));
            if let Some(d) = step.drawer.as_deref() {
                sub_drawers.push(d);
            }
            let Some(button) = step.button.as_deref() else {
                continue;
            };
            if button.contains("${") {
                found.push(button.to_owned());
            } else if let Ok(loaded) = self.load(button)
                && !loaded.button.url.is_empty()
                && !found.contains(&loaded.name.to_string())
            {
                found.push(loaded.name.to_string());
            }
        }
        for name in sub_drawers {
            if name.contains("${") {
                found.push(name.to_owned());
            } else if let Ok(n) = ButtonName::from_user(name)
                && let Ok(sub) = self.store().load_drawer(&n)
            {
                self.http_buttons_in(&sub, depth + 1, seen, found);
            }
        }
    }

    /// A dry run (`--summary`): validates, checks the inputs, resolves what
    /// can be resolved before anything runs, with secrets masked. Nothing
    /// runs and nothing is written.
    pub fn plan_drawer(&self, request: &DrawerRequest) -> Result<Value, Error> {
        let (drawer, validation) = self.load_drawer_for_press(&request.name)?;
        let inputs = check_inputs(&drawer, &request.inputs)?;
        let ctx = base_context(&inputs, request);
        let steps: Vec<Value> = drawer
            .steps
            .iter()
            .map(|s| {
                let args = Template(&Value::Object(s.args.clone()))
                    .resolve(&ctx)
                    .unwrap_or_else(|_| Value::Object(s.args.clone()));
                json!({"id": s.id, "kind": s.kind_str(), "button": s.button.as_deref().or(s.drawer.as_deref()), "args_resolved": args})
            })
            .collect();
        let mut out = json!({
            "drawer": drawer.name,
            "inputs_resolved": inputs,
            "steps_to_run": steps,
            "validation": validation,
            "executed": false,
        });
        mask_json(&mut out, &self.drawer_secrets(&drawer, &inputs));
        Ok(out)
    }

    /// Presses a drawer: loads and validates it, checks the inputs, runs the
    /// steps in order, writes the run record (secrets masked) and, when it
    /// failed, runs its `on_error` handler.
    ///
    /// `Err` means nothing ran (no such drawer, a flow drawer, validation
    /// errors, a missing or ill-typed input).
    pub async fn press_drawer(
        &self,
        request: &DrawerRequest,
        options: DrawerOptions,
    ) -> Result<DrawerRan, Error> {
        let (drawer, _) = self.load_drawer_for_press(&request.name)?;
        let inputs = check_inputs(&drawer, &request.inputs)?;
        let (tx, rx) = watch::channel(false);
        let run = Run {
            engine: self,
            cancels: vec![rx],
            secrets: Vec::new(),
            env: request.env.clone(),
            mode: options.mode,
            on_step: options.on_step.map(|s| Arc::new(Mutex::new(s))),
        };
        let press = run.drawer(
            drawer,
            inputs,
            request.webhook_body.clone(),
            0,
            options.run_id,
        );
        // The caller's cancel is watched on this task (no spawn: a
        // current-thread runtime without a driver task works too).
        let ran = match options.cancel {
            None => press.await,
            Some(cancel) => {
                let mut press = press;
                tokio::select! {
                    ran = &mut press => ran,
                    () = cancel => {
                        let _ = tx.send(true);
                        press.await
                    }
                }
            }
        };
        Ok(ran)
    }

    /// [`Engine::press_drawer`] for callers without a tokio runtime.
    ///
    /// # Panics
    ///
    /// When called from inside a tokio runtime.
    pub fn press_drawer_blocking(
        &self,
        request: &DrawerRequest,
        options: DrawerOptions,
    ) -> Result<DrawerRan, Error> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::Runtime)?
            .block_on(self.press_drawer(request, options))
    }
}

/// Checks inputs against the declarations: defaults filled, required ones
/// present (`MISSING_INPUT`), types and enum values checked
/// (`VALIDATION_ERROR`), text converted to `int`/`bool`.
pub fn check_inputs(
    drawer: &Drawer,
    given: &Map<String, Value>,
) -> Result<Map<String, Value>, Error> {
    let mut out = given.clone();
    for input in &drawer.inputs {
        let value = match given.get(&input.name).or(input.default.as_ref()) {
            Some(v) => v.clone(),
            None if input.required => {
                return Err(Error::drawer(
                    ErrorCode::MissingInput,
                    format!(
                        "missing required input {:?} of drawer {}",
                        input.name, drawer.name
                    ),
                    format!("pass it: `{}=VALUE`", input.name),
                    None,
                ));
            }
            None => continue,
        };
        let bad = |why: &str| {
            Error::drawer(
                ErrorCode::ValidationError,
                format!("input {:?}: {why}", input.name),
                format!("pass a {} value for {}", input.input_type, input.name),
                None,
            )
        };
        let typed = match input.parsed_type().unwrap_or(InputType::String) {
            InputType::String => value,
            InputType::Int => match &value {
                Value::Number(n) if n.is_i64() || n.is_u64() => value,
                Value::String(s) => s
                    .trim()
                    .parse::<i64>()
                    .map(Value::from)
                    .map_err(|_| bad("not an integer"))?,
                _ => return Err(bad("not an integer")),
            },
            InputType::Bool => match &value {
                Value::Bool(_) => value,
                Value::String(s) => {
                    Value::Bool(buttons_spec::parse_bool(s).ok_or_else(|| bad("not a bool"))?)
                }
                _ => return Err(bad("not a bool")),
            },
            InputType::Enum => {
                let text = json_to_text(&value);
                if !input.values.iter().any(|v| v == &text) {
                    return Err(bad(&format!("must be one of {}", input.values.join(", "))));
                }
                Value::String(text)
            }
        };
        out.insert(input.name.clone(), typed);
    }
    Ok(out)
}

fn base_context(inputs: &Map<String, Value>, request: &DrawerRequest) -> RefContext {
    let mut ctx = RefContext {
        env: request.env.clone(),
        ..RefContext::default()
    };
    ctx.roots
        .insert("inputs".into(), Value::Object(inputs.clone()));
    if let Some(body) = &request.webhook_body {
        ctx.roots.insert("webhook".into(), body.clone());
    }
    ctx
}

fn cap_value(v: Value, entry: &mut Map<String, Value>) -> Value {
    let len = serde_json::to_string(&v).map_or(0, |s| s.len());
    if len > OUTPUT_CAP {
        entry.insert("truncated".into(), Value::Bool(true));
        Value::String(cap_output(&v.to_string()))
    } else {
        v
    }
}

impl<'a> Run<'a> {
    fn cancelled(&self) -> bool {
        self.cancels.iter().any(|rx| *rx.borrow())
    }

    /// Completes when any of the run's cancels fires (never, when none can).
    fn cancel_future(&self) -> Cancel {
        let rxs = self.cancels.clone();
        Box::pin(async move {
            let waits: Vec<Pin<Box<dyn Future<Output = ()> + Send>>> = rxs
                .into_iter()
                .map(|mut rx| -> Pin<Box<dyn Future<Output = ()> + Send>> {
                    Box::pin(async move {
                        // A dropped sender never cancels.
                        if rx.wait_for(|c| *c).await.is_err() {
                            std::future::pending::<()>().await;
                        }
                    })
                })
                .collect();
            if waits.is_empty() {
                std::future::pending::<()>().await;
            }
            futures_util::future::select_all(waits).await;
        })
    }

    /// A run sharing this one's state, with one more cancel of its own (a
    /// `for_each` or parallel scope ending its in-flight work on stop).
    fn scoped(&self) -> (Run<'a>, watch::Sender<bool>) {
        let (tx, rx) = watch::channel(false);
        let mut cancels = self.cancels.clone();
        cancels.push(rx);
        (
            Run {
                engine: self.engine,
                cancels,
                secrets: self.secrets.clone(),
                env: self.env.clone(),
                mode: DrawerMode::Sequential,
                on_step: None,
            },
            tx,
        )
    }

    fn report(&self, entry: &Value) {
        if let Some(sink) = &self.on_step
            && let Ok(mut sink) = sink.lock()
        {
            sink(entry);
        }
    }

    /// Runs one drawer (top level or sub-drawer) and writes its record.
    fn drawer<'s>(
        &'s self,
        drawer: Drawer,
        inputs: Map<String, Value>,
        webhook: Option<Value>,
        depth: usize,
        id: Option<RunId>,
    ) -> BoxFut<'s, DrawerRan> {
        Box::pin(async move {
            let started = Instant::now();
            let started_at = Timestamp::now();
            let id = id.unwrap_or_else(|| RunId::new(started_at));
            let mut secrets = self.secrets.clone();
            secrets.extend(self.engine.drawer_secrets(&drawer, &inputs));
            let top = depth == 0;
            let child = Run {
                engine: self.engine,
                cancels: self.cancels.clone(),
                secrets,
                env: self.env.clone(),
                mode: if top {
                    self.mode
                } else {
                    DrawerMode::Sequential
                },
                on_step: if top { self.on_step.clone() } else { None },
            };
            let request = DrawerRequest {
                name: drawer.name.clone(),
                inputs: inputs.clone(),
                webhook_body: webhook,
                env: self.env.clone(),
            };
            let mut ctx = base_context(&inputs, &request);
            let run_ref = format!("{}/{}", drawer.name, id);
            let scope = Scope {
                inputs: &inputs,
                run_ref: &run_ref,
                depth,
            };
            let block = match child.mode {
                DrawerMode::Sequential => {
                    child
                        .block(&drawer.steps, &mut ctx, scope, child.on_step.is_some())
                        .await
                }
                DrawerMode::Parallel {
                    concurrency,
                    on_failure,
                } => {
                    child
                        .parallel(&drawer.steps, &mut ctx, scope, concurrency, on_failure)
                        .await
                }
            };
            let failure = block.failure;
            let finished_at = Timestamp::now();
            let mut result = json!({
                "run_id": id.as_str(),
                "drawer": drawer.name,
                "status": if failure.is_none() { "ok" } else { "failed" },
                "started_at": started_at,
                "finished_at": finished_at,
                "duration_ms": ms_since(started),
                "inputs": inputs,
                "steps": block.entries,
            });
            if let DrawerMode::Parallel { concurrency, .. } = child.mode {
                result["mode"] = json!("parallel");
                result["concurrency"] = json!(concurrency);
            }
            if let Some((step, err)) = &failure {
                result["failed_step"] = json!(step);
                result["error"] = err.json();
            }
            if failure.is_none()
                && let Some(ret) = &drawer.returns
            {
                match Template(&Value::Object(ret.clone())).resolve(&ctx) {
                    Ok(v) => result["return"] = v,
                    Err(e) => {
                        result["status"] = json!("failed");
                        result["error"] = StepError::new(
                            ErrorCode::ResolveError,
                            e.to_string(),
                            "fix the drawer's `return`",
                        )
                        .json();
                    }
                }
            }
            let ok = result["status"] == "ok";
            let mut masked = result.clone();
            mask_json(&mut masked, &child.secrets);
            let record = ButtonName::new(&drawer.name)
                .map_err(Error::from)
                .and_then(|n| {
                    child
                        .engine
                        .store()
                        .write_drawer_run(&n, &id, &masked)
                        .map_err(Error::from)
                });
            if !ok
                && let Some(handler) = &drawer.on_error
                && depth + 1 < MAX_DRAWER_DEPTH
                && let Ok(hname) = ButtonName::from_user(&handler.drawer)
                && let Ok(hdrawer) = child.engine.store().load_drawer(&hname)
            {
                let mut hinputs = Map::new();
                hinputs.insert("drawer".into(), json!(drawer.name));
                hinputs.insert("run_id".into(), json!(id.as_str()));
                hinputs.insert(
                    "failed_step".into(),
                    result.get("failed_step").cloned().unwrap_or(Value::Null),
                );
                hinputs.insert(
                    "error".into(),
                    result.get("error").cloned().unwrap_or(Value::Null),
                );
                hinputs.insert("inputs".into(), Value::Object(inputs.clone()));
                if let Ok(Value::Object(with)) =
                    Template(&Value::Object(handler.with.clone())).resolve(&ctx)
                {
                    hinputs.extend(with);
                }
                if let Ok(hinputs) = check_inputs(&hdrawer, &hinputs) {
                    // Its outcome never changes the primary result; a
                    // cancelled press does not start it.
                    if !child.cancelled() {
                        let handler_run = Run {
                            on_step: None,
                            mode: DrawerMode::Sequential,
                            ..child.scoped().0
                        };
                        let _ = handler_run
                            .drawer(hdrawer, hinputs, None, depth + 1, None)
                            .await;
                    }
                }
            }
            DrawerRan {
                id,
                ok,
                result,
                record,
            }
        })
    }

    /// Steps in order, each seeing the outputs of those before it (added to
    /// `ctx`). A failed step ends the block unless its `on_failure` is
    /// `continue`; a cancelled press always ends it.
    fn block<'s>(
        &'s self,
        steps: &'s [Step],
        ctx: &'s mut RefContext,
        scope: Scope<'s>,
        report: bool,
    ) -> BoxFut<'s, Block> {
        Box::pin(async move {
            let mut entries = Vec::new();
            let mut failure = None;
            for step in steps {
                if self.cancelled() {
                    failure = Some((step.id.clone(), cancelled_error()));
                    break;
                }
                let outcome = self.step_with_policy(step, ctx, scope).await;
                let (entry, error) = finish(step, outcome, ctx);
                if report {
                    self.report(&entry);
                }
                entries.push(entry);
                if let Some(err) = error
                    && (step_action(step) != FailureAction::Continue
                        || err.code == ErrorCode::Cancelled
                        || self.cancelled())
                {
                    failure = Some((step.id.clone(), err));
                    break;
                }
            }
            Block { entries, failure }
        })
    }

    /// The top-level steps as a dependency graph, at most `concurrency` at
    /// once; each step sees the outputs of the steps finished before it
    /// started (its dependencies among them).
    async fn parallel(
        &self,
        steps: &[Step],
        ctx: &mut RefContext,
        scope: Scope<'_>,
        concurrency: usize,
        on_failure: FailureAction,
    ) -> Block {
        #[derive(Clone, PartialEq)]
        enum State {
            Pending,
            Running,
            Ok,
            /// Failed, or skipped: the failed step it goes back to.
            Failed(String),
        }
        let deps = step_dependencies(steps);
        let mut state = vec![State::Pending; steps.len()];
        let mut entries: Vec<Option<Value>> = vec![None; steps.len()];
        let (scoped, stop) = self.scoped();
        let mut running = FuturesUnordered::new();
        let mut failure: Option<(String, StepError)> = None;
        let mut first_continued: Option<(String, StepError)> = None;
        let concurrency = concurrency.max(1);
        loop {
            if failure.is_none() && self.cancelled() {
                let at = (0..steps.len())
                    .find(|&i| state[i] == State::Pending || state[i] == State::Running)
                    .map(|i| steps[i].id.clone());
                if let Some(at) = at {
                    failure = Some((at, cancelled_error()));
                }
                let _ = stop.send(true);
            }
            if failure.is_none() {
                // Dependents of a failed (or skipped) step are skipped.
                let mut changed = true;
                while changed {
                    changed = false;
                    for i in 0..steps.len() {
                        if state[i] != State::Pending {
                            continue;
                        }
                        let cause = deps[i].iter().find_map(|&d| match &state[d] {
                            State::Failed(root) => Some(root.clone()),
                            _ => None,
                        });
                        if let Some(root) = cause {
                            entries[i] = Some(json!({
                                "id": steps[i].id, "kind": steps[i].kind_str(),
                                "status": "skipped", "skipped_because": root, "duration_ms": 0,
                            }));
                            if let Some(e) = &entries[i] {
                                self.report(e);
                            }
                            state[i] = State::Failed(root);
                            changed = true;
                        }
                    }
                }
                for i in 0..steps.len() {
                    if running.len() >= concurrency {
                        break;
                    }
                    if state[i] == State::Pending && deps[i].iter().all(|&d| state[d] == State::Ok)
                    {
                        state[i] = State::Running;
                        let snapshot = ctx.clone();
                        let scoped = &scoped;
                        let step = &steps[i];
                        running.push(async move {
                            (i, scoped.step_with_policy(step, &snapshot, scope).await)
                        });
                    }
                }
            }
            let Some((i, outcome)) = running.next().await else {
                break;
            };
            let step = &steps[i];
            let (entry, error) = finish(step, outcome, ctx);
            self.report(&entry);
            entries[i] = Some(entry);
            match error {
                None => state[i] = State::Ok,
                Some(err) => {
                    state[i] = State::Failed(step.id.clone());
                    let stop_all = err.code == ErrorCode::Cancelled
                        || (step_action(step) != FailureAction::Continue
                            && on_failure != FailureAction::Continue);
                    if failure.is_some() {
                        // Already stopping: the first failure is the one reported.
                    } else if stop_all {
                        failure = Some((step.id.clone(), err));
                        let _ = stop.send(true);
                    } else if step_action(step) != FailureAction::Continue
                        && first_continued.is_none()
                    {
                        first_continued = Some((step.id.clone(), err));
                    }
                }
            }
        }
        Block {
            entries: entries.into_iter().flatten().collect(),
            failure: failure.or(first_continued),
        }
    }

    /// A step with its `on_failure` retry policy (every kind of step).
    fn step_with_policy<'s>(
        &'s self,
        step: &'s Step,
        ctx: &'s RefContext,
        scope: Scope<'s>,
    ) -> BoxFut<'s, StepOutcome> {
        Box::pin(async move {
            let policy = step.on_failure.as_ref();
            let retry = policy.and_then(|p| p.parsed_action()) == Some(FailureAction::Retry);
            let attempts = if retry {
                policy.and_then(|p| p.max_attempts).unwrap_or(3).max(1)
            } else {
                1
            };
            let mut attempt = 1;
            loop {
                let mut outcome = self.step(step, ctx, scope).await;
                let Some(err) = &outcome.error else {
                    if attempt > 1 {
                        outcome.entry.insert("attempts".into(), json!(attempt));
                    }
                    return outcome;
                };
                let retry_on = policy.map(|p| p.retry_on.as_slice()).unwrap_or_default();
                let retryable =
                    retry_on.is_empty() || retry_on.iter().any(|c| c == err.code.as_str());
                if attempt >= attempts
                    || !retryable
                    || self.cancelled()
                    || err.code == ErrorCode::Cancelled
                {
                    if attempt > 1 {
                        outcome.entry.insert("attempts".into(), json!(attempt));
                    }
                    return outcome;
                }
                let delay = policy
                    .and_then(|p| p.backoff.clone())
                    .unwrap_or_default()
                    .delay_ms(attempt);
                let mut cancel = self.cancel_future();
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(delay)) => {}
                    () = &mut cancel => return outcome,
                }
                attempt += 1;
            }
        })
    }

    /// One attempt of one step.
    async fn step(&self, step: &Step, ctx: &RefContext, scope: Scope<'_>) -> StepOutcome {
        let started = Instant::now();
        let mut entry = Map::new();
        entry.insert("id".into(), json!(step.id));
        entry.insert("kind".into(), json!(step.kind_str()));
        let args = match Template(&Value::Object(step.args.clone())).resolve(ctx) {
            Ok(Value::Object(m)) => m,
            Ok(_) => Map::new(),
            Err(e) => {
                return failed(
                    entry,
                    started,
                    StepError::new(
                        ErrorCode::ResolveError,
                        e.to_string(),
                        "fix the reference in the step's args",
                    ),
                );
            }
        };
        match step.step_kind() {
            StepKind::Button => self.button_step(step, args, entry, scope).await,
            StepKind::Drawer => self.drawer_step(step, args, entry, started, scope).await,
            StepKind::ControlFlow(k) => match k.as_str() {
                "for_each" => self.for_each(step, ctx, entry, started, scope).await,
                "switch" => self.switch(step, ctx, entry, started, scope).await,
                "aggregate" => aggregate(step, ctx, entry, started),
                _ => self.wait(step, ctx, entry, started).await,
            },
            StepKind::Unimplemented(k) | StepKind::Unknown(k) => failed(
                entry,
                started,
                StepError::new(
                    ErrorCode::KindNotImplemented,
                    format!("step kind {k:?} is not pressed by this version"),
                    "use button, drawer, for_each, switch, aggregate or wait steps",
                ),
            ),
        }
    }

    async fn button_step(
        &self,
        step: &Step,
        args: Map<String, Value>,
        mut entry: Map<String, Value>,
        scope: Scope<'_>,
    ) -> StepOutcome {
        let started = Instant::now();
        let bname = step.button.clone().unwrap_or_default();
        entry.insert("button".into(), json!(bname));
        let loaded = match self.engine.load(&bname) {
            Ok(l) => l,
            Err(e) => {
                return failed(
                    entry,
                    started,
                    StepError::new(
                        ErrorCode::ButtonNotFound,
                        e.to_string(),
                        "create the button or fix the step",
                    ),
                );
            }
        };
        let mut args = args;
        for def in &loaded.button.args {
            if !args.contains_key(&def.name)
                && let Some(v) = scope.inputs.get(&def.name)
            {
                args.insert(def.name.clone(), v.clone());
            }
        }
        let pairs: Vec<(String, String)> = args
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), json_to_text(v)))
            .collect();
        entry.insert(
            "args".into(),
            Value::Object(pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect()),
        );
        let validated = match loaded.validate(&ArgInput::Text(pairs)) {
            Ok(a) => a,
            Err(e) => {
                let hint = e.hint().unwrap_or_default();
                return failed(
                    entry,
                    started,
                    StepError::new(e.code(), e.to_string(), hint),
                );
            }
        };
        let mut options = PressOptions {
            cancel: Some(self.cancel_future()),
            ..PressOptions::default()
        };
        if let Some(t) = step.timeout_seconds {
            options = options.timeout(Duration::from_secs(t));
        }
        let record = RecordOptions {
            secrets: self.secrets.clone(),
            drawer_run: Some(scope.run_ref.to_owned()),
        };
        let ran = match self
            .engine
            .press_loaded_recorded(&loaded, &validated, options, &record)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                let hint = e.hint().unwrap_or_default();
                return failed(
                    entry,
                    started,
                    StepError::new(e.code(), e.to_string(), hint),
                );
            }
        };
        let r = &ran.result;
        entry.insert(
            "status".into(),
            json!(if r.status == Status::Ok {
                "ok"
            } else {
                "failed"
            }),
        );
        entry.insert("exit_code".into(), json!(r.exit_code));
        entry.insert("duration_ms".into(), json!(r.duration_ms));
        entry.insert("stdout".into(), json!(cap_output(&r.stdout)));
        entry.insert("stderr".into(), json!(cap_output(&r.stderr)));
        entry.insert("button_run_id".into(), json!(ran.id.as_str()));
        // A prompt button's output is its prompt text; a code button's
        // AGENTS.md (also in `prompt`) is not its output.
        let is_prompt = loaded.button.kind() == buttons_spec::ButtonKind::Prompt;
        let output = if let Some(p) = r.prompt.as_ref().filter(|_| is_prompt) {
            Value::String(p.clone())
        } else if r.stdout.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(r.stdout.trim())
                .unwrap_or_else(|_| Value::String(r.stdout.clone()))
        };
        let error = (r.status != Status::Ok).then(|| {
            let code = r.error_type.unwrap_or(ErrorCode::ScriptError);
            let message = if code == ErrorCode::Cancelled {
                format!("button {bname} was cancelled")
            } else {
                format!("button {bname} failed (exit code {})", r.exit_code)
            };
            StepError::new(code, message, ran.hint.clone().unwrap_or_default())
        });
        StepOutcome {
            entry,
            output,
            error,
        }
    }

    async fn drawer_step(
        &self,
        step: &Step,
        args: Map<String, Value>,
        mut entry: Map<String, Value>,
        started: Instant,
        scope: Scope<'_>,
    ) -> StepOutcome {
        let dname = step.drawer.clone().unwrap_or_default();
        entry.insert("drawer".into(), json!(dname));
        entry.insert("args".into(), Value::Object(args.clone()));
        if scope.depth + 1 >= MAX_DRAWER_DEPTH {
            return failed(
                entry,
                started,
                StepError::new(
                    ErrorCode::SubdrawerFailed,
                    format!("sub-drawers nest deeper than {MAX_DRAWER_DEPTH}"),
                    "remove the recursion",
                ),
            );
        }
        let sub = ButtonName::from_user(&dname)
            .map_err(Error::from)
            .and_then(|n| self.engine.store().load_drawer(&n).map_err(Error::from));
        let sub = match sub {
            Ok(d) if d.kind() == DrawerKind::Flow => {
                return failed(
                    entry,
                    started,
                    StepError::new(
                        ErrorCode::DrawerKindMismatch,
                        format!("{dname} is a flow drawer"),
                        "use an action drawer",
                    ),
                );
            }
            Ok(d) => d,
            Err(e) => {
                return failed(
                    entry,
                    started,
                    StepError::new(
                        ErrorCode::DrawerNotFound,
                        e.to_string(),
                        "create the drawer or fix the step",
                    ),
                );
            }
        };
        let sub_inputs = match check_inputs(&sub, &args) {
            Ok(i) => i,
            Err(e) => {
                let hint = e.hint().unwrap_or_default();
                return failed(
                    entry,
                    started,
                    StepError::new(e.code(), e.to_string(), hint),
                );
            }
        };
        let ran = self
            .drawer(sub, sub_inputs, None, scope.depth + 1, None)
            .await;
        entry.insert("drawer_run_id".into(), json!(ran.id.as_str()));
        entry.insert("duration_ms".into(), ran.result["duration_ms"].clone());
        if ran.ok {
            entry.insert("status".into(), json!("ok"));
            let output = ran
                .result
                .get("return")
                .cloned()
                .unwrap_or_else(|| json!({}));
            return StepOutcome {
                entry,
                output,
                error: None,
            };
        }
        if ran.result["error"]["code"] == "CANCELLED" {
            return failed(entry, started, cancelled_error());
        }
        let inner = ran.result["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        failed(
            entry,
            started,
            StepError::new(
                ErrorCode::SubdrawerFailed,
                format!("sub-drawer {dname} failed: {inner}"),
                format!("see `buttons drawer {dname} logs`"),
            ),
        )
    }

    /// `for_each`: the nested steps once per item of `over`, at most
    /// `parallelism` iterations at once, results in input order.
    async fn for_each(
        &self,
        step: &Step,
        ctx: &RefContext,
        entry: Map<String, Value>,
        started: Instant,
        scope: Scope<'_>,
    ) -> StepOutcome {
        let items = match resolve_list(step.over.as_ref(), ctx, "over") {
            Ok(items) => items,
            Err(e) => return failed(entry, started, e),
        };
        let var = step.as_name.clone().unwrap_or_else(|| "item".to_owned());
        let parallelism = usize::try_from(step.parallelism.unwrap_or(1).max(1)).unwrap_or(1);
        let keep_going = step.on_item_failure.as_deref() == Some("continue");
        let (scoped, stop) = self.scoped();
        let mut results: Vec<Option<Value>> = vec![None; items.len()];
        let mut first_failed: Option<(usize, String, StepError)> = None;
        let mut running = FuturesUnordered::new();
        let mut next = 0;
        loop {
            while next < items.len() && running.len() < parallelism && first_failed.is_none() {
                if scoped.cancelled() {
                    break;
                }
                let index = next;
                next += 1;
                let mut local = ctx.clone();
                local.roots.insert(var.clone(), items[index].clone());
                let scoped = &scoped;
                let steps = &step.steps;
                running.push(async move {
                    let block = scoped.block(steps, &mut local, scope, false).await;
                    (index, block)
                });
            }
            let Some((index, block)) = running.next().await else {
                break;
            };
            let failed_item = block.failure.is_some();
            results[index] = Some(json!({
                "index": index,
                "item": items[index],
                "steps": block.brief(),
                "failed": failed_item,
            }));
            if let Some((at, err)) = block.failure
                && err.code != ErrorCode::Cancelled
                && !keep_going
            {
                // Stop: the in-flight iterations are cancelled (their process
                // groups ended) and no more start; the lowest failed index
                // is the one reported.
                let _ = stop.send(true);
                if first_failed.as_ref().is_none_or(|(i, ..)| index < *i) {
                    first_failed = Some((index, at, err));
                }
            }
        }
        let results: Vec<Value> = results.into_iter().flatten().collect();
        let output = json!({"results": results, "total": items.len()});
        let error = if self.cancelled() {
            Some(cancelled_error())
        } else {
            first_failed.map(|(index, at, err)| {
                StepError::new(
                    ErrorCode::ForeachItemFailed,
                    format!(
                        "item {index} failed at step {at}: {} ({})",
                        err.message, err.code
                    ),
                    "fix the failing item, or set on_item_failure to continue",
                )
            })
        };
        done(entry, started, output, error)
    }

    /// `switch`: the steps of the first case whose `when` is true, else the
    /// switch's own steps (`matched: "default"`).
    async fn switch(
        &self,
        step: &Step,
        ctx: &RefContext,
        entry: Map<String, Value>,
        started: Instant,
        scope: Scope<'_>,
    ) -> StepOutcome {
        let mut chosen: Option<(&str, &[Step])> = None;
        for case in &step.cases {
            match resolve_field(case.when.as_ref(), ctx, "when") {
                Ok(Value::Bool(true)) => {
                    chosen = Some((&case.id, &case.steps));
                    break;
                }
                Ok(Value::Bool(false)) => {}
                Ok(other) => {
                    return failed(
                        entry,
                        started,
                        StepError::new(
                            ErrorCode::ValidationError,
                            format!(
                                "the `when` of case {:?} gave {}, not a bool",
                                case.id,
                                type_name(&other)
                            ),
                            "make `when` a comparison, e.g. ${inputs.env == 'prod'}",
                        ),
                    );
                }
                Err(e) => return failed(entry, started, e),
            }
        }
        let (matched, steps) = chosen.unwrap_or(("default", &step.steps));
        let mut local = ctx.clone();
        let block = self.block(steps, &mut local, scope, false).await;
        let output = json!({"matched": matched, "steps": block.brief()});
        let error = block.failure.map(|(at, err)| {
            StepError::new(
                err.code,
                format!("case {matched}, step {at}: {}", err.message),
                err.remediation,
            )
        });
        done(entry, started, output, error)
    }

    /// `wait`: sleeps for `duration` or until `until`; cancellable.
    async fn wait(
        &self,
        step: &Step,
        ctx: &RefContext,
        entry: Map<String, Value>,
        started: Instant,
    ) -> StepOutcome {
        let bad = |why: String, fix: &str| StepError::new(ErrorCode::ValidationError, why, fix);
        let (length, until) = if step.duration.is_some() {
            let text = match resolve_field(step.duration.as_ref(), ctx, "duration") {
                Ok(v) => json_to_text(&v),
                Err(e) => return failed(entry, started, e),
            };
            match buttons_spec::parse_duration(&text) {
                Ok(d) => {
                    let until = jiff::SignedDuration::try_from(d)
                        .ok()
                        .and_then(|sd| Timestamp::now().checked_add(sd).ok());
                    (d, until)
                }
                Err(_) => {
                    return failed(
                        entry,
                        started,
                        bad(
                            format!("`duration` {text:?} is not a duration"),
                            "write it as Go does: 200ms, 90s, 2m30s, 1h",
                        ),
                    );
                }
            }
        } else {
            let text = match resolve_field(step.until.as_ref(), ctx, "until") {
                Ok(v) => json_to_text(&v),
                Err(e) => return failed(entry, started, e),
            };
            let Ok(at) = text.trim().parse::<Timestamp>() else {
                return failed(
                    entry,
                    started,
                    bad(
                        format!("`until` {text:?} is not an RFC 3339 time"),
                        "write it like 2026-01-02T15:04:05Z",
                    ),
                );
            };
            let left = at.duration_since(Timestamp::now());
            (Duration::try_from(left).unwrap_or(Duration::ZERO), Some(at))
        };
        let mut cancel = self.cancel_future();
        tokio::select! {
            () = tokio::time::sleep(length) => {}
            () = &mut cancel => return failed(entry, started, cancelled_error()),
        }
        let output = json!({"waited_ms": ms_since(started), "until": until});
        done(entry, started, output, None)
    }
}

/// What a run's steps share: the drawer's inputs (for name fill), the run
/// named in button records, the sub-drawer depth.
#[derive(Clone, Copy)]
struct Scope<'s> {
    inputs: &'s Map<String, Value>,
    run_ref: &'s str,
    depth: usize,
}

fn step_action(step: &Step) -> FailureAction {
    step.on_failure
        .as_ref()
        .and_then(|f| f.parsed_action())
        .unwrap_or(FailureAction::Stop)
}

/// A step's entry once it ended: its output added to `ctx`, then capped in
/// the entry, with its error.
fn finish(step: &Step, outcome: StepOutcome, ctx: &mut RefContext) -> (Value, Option<StepError>) {
    let mut entry = outcome.entry;
    let ok = outcome.error.is_none();
    ctx.steps.insert(
        step.id.clone(),
        json!({"output": outcome.output, "status": if ok {"ok"} else {"failed"}}),
    );
    let output = cap_value(outcome.output, &mut entry);
    entry.insert("output".into(), output);
    if let Some(err) = &outcome.error {
        entry.insert("error".into(), err.json());
    }
    (Value::Object(entry), outcome.error)
}

fn failed(mut entry: Map<String, Value>, started: Instant, err: StepError) -> StepOutcome {
    entry.insert("status".into(), json!("failed"));
    entry.insert("duration_ms".into(), json!(ms_since(started)));
    StepOutcome {
        entry,
        output: Value::Null,
        error: Some(err),
    }
}

fn done(
    mut entry: Map<String, Value>,
    started: Instant,
    output: Value,
    error: Option<StepError>,
) -> StepOutcome {
    entry.insert(
        "status".into(),
        json!(if error.is_none() { "ok" } else { "failed" }),
    );
    entry.insert("duration_ms".into(), json!(ms_since(started)));
    StepOutcome {
        entry,
        output,
        error,
    }
}

/// A control-flow field resolved against `ctx` (`RESOLVE_ERROR` when it
/// fails or is absent).
/// [`resolve_field`] for a field that must give a list (`over`, `from`).
fn resolve_list(v: Option<&Value>, ctx: &RefContext, field: &str) -> Result<Vec<Value>, StepError> {
    match resolve_field(v, ctx, field)? {
        Value::Array(items) => Ok(items),
        other => Err(StepError::new(
            ErrorCode::ValidationError,
            format!("`{field}` gave {}, not an array", type_name(&other)),
            format!("make `{field}` an expression that gives a list"),
        )),
    }
}

fn resolve_field(v: Option<&Value>, ctx: &RefContext, field: &str) -> Result<Value, StepError> {
    let Some(v) = v else {
        return Err(StepError::new(
            ErrorCode::ValidationError,
            format!("the step has no `{field}`"),
            format!("set `{field}`"),
        ));
    };
    Template(v).resolve(ctx).map_err(|e| {
        StepError::new(
            ErrorCode::ResolveError,
            e.to_string(),
            format!("fix the reference in `{field}`"),
        )
    })
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `aggregate`: `pluck` evaluated with `item` bound to each entry of `from`.
fn aggregate(
    step: &Step,
    ctx: &RefContext,
    entry: Map<String, Value>,
    started: Instant,
) -> StepOutcome {
    let items = match resolve_list(step.from.as_ref(), ctx, "from") {
        Ok(items) => items,
        Err(e) => return failed(entry, started, e),
    };
    let mut values = Vec::with_capacity(items.len());
    let mut local = ctx.clone();
    for item in items {
        local.roots.insert("item".into(), item);
        match resolve_field(step.pluck.as_ref(), &local, "pluck") {
            Ok(v) => values.push(v),
            Err(e) => return failed(entry, started, e),
        }
    }
    let count = values.len();
    done(
        entry,
        started,
        json!({"values": values, "count": count}),
        None,
    )
}
