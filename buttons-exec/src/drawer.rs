//! Pressing drawers: steps in order through the [`Engine`], each button
//! step a real press (batteries, validation, timeout, capture, record).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use buttons_spec::{
    ButtonName, Drawer, DrawerKind, ErrorCode, FailureAction, InputType, OUTPUT_CAP, RefContext,
    Status, Step, StepKind, Template, Timestamp, Validation, cap_output, json_to_text,
    validate_drawer,
};
use buttons_store::RunId;
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

/// How a drawer press behaves.
#[derive(Default)]
pub struct DrawerOptions {
    /// Cancels the press when it completes: the running step's process
    /// group is ended, later steps do not run, the run is still recorded.
    pub cancel: Option<Cancel>,
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
    cancel: watch::Receiver<bool>,
    secrets: Vec<String>,
    env: BTreeMap<String, String>,
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
        let watcher = options.cancel.map(|cancel| {
            tokio::spawn(async move {
                cancel.await;
                let _ = tx.send(true);
            })
        });
        let run = Run {
            engine: self,
            cancel: rx,
            secrets: Vec::new(),
            env: request.env.clone(),
        };
        let ran = run
            .drawer(drawer, inputs, request.webhook_body.clone(), 0)
            .await;
        if let Some(w) = watcher {
            w.abort();
        }
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

impl Run<'_> {
    fn cancelled(&self) -> bool {
        *self.cancel.borrow()
    }

    fn cancel_future(&self) -> Cancel {
        let mut rx = self.cancel.clone();
        Box::pin(async move {
            // No cancel given: the sender is gone and this never completes.
            if rx.wait_for(|c| *c).await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }

    /// Runs one drawer (top level or sub-drawer) and writes its record.
    fn drawer<'s>(
        &'s self,
        drawer: Drawer,
        inputs: Map<String, Value>,
        webhook: Option<Value>,
        depth: usize,
    ) -> BoxFut<'s, DrawerRan> {
        Box::pin(async move {
            let started = Instant::now();
            let started_at = Timestamp::now();
            let id = RunId::new(started_at);
            let mut secrets = self.secrets.clone();
            secrets.extend(self.engine.drawer_secrets(&drawer, &inputs));
            let child = Run {
                engine: self.engine,
                cancel: self.cancel.clone(),
                secrets,
                env: self.env.clone(),
            };
            let request = DrawerRequest {
                name: drawer.name.clone(),
                inputs: inputs.clone(),
                webhook_body: webhook,
                env: self.env.clone(),
            };
            let mut ctx = base_context(&inputs, &request);
            let mut steps = Vec::new();
            let mut failure: Option<(String, StepError)> = None;
            for step in &drawer.steps {
                if child.cancelled() {
                    failure = Some((
                        step.id.clone(),
                        StepError::new(
                            ErrorCode::Timeout,
                            "the press was cancelled",
                            "press it again",
                        ),
                    ));
                    break;
                }
                let run_ref = format!("{}/{}", drawer.name, id);
                let outcome = child
                    .step_with_policy(step, &ctx, &inputs, &run_ref, depth)
                    .await;
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
                steps.push(Value::Object(entry));
                if let Some(err) = outcome.error {
                    let action = step
                        .on_failure
                        .as_ref()
                        .and_then(|f| f.parsed_action())
                        .unwrap_or(FailureAction::Stop);
                    if action != FailureAction::Continue {
                        failure = Some((step.id.clone(), err));
                        break;
                    }
                }
            }
            let finished_at = Timestamp::now();
            let mut result = json!({
                "run_id": id.as_str(),
                "drawer": drawer.name,
                "status": if failure.is_none() { "ok" } else { "failed" },
                "started_at": started_at,
                "finished_at": finished_at,
                "duration_ms": u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                "inputs": inputs,
                "steps": steps,
            });
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
                    // Its outcome never changes the primary result.
                    let _ = child.drawer(hdrawer, hinputs, None, depth + 1).await;
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

    /// A step with its `on_failure` retry policy.
    async fn step_with_policy(
        &self,
        step: &Step,
        ctx: &RefContext,
        inputs: &Map<String, Value>,
        run_ref: &str,
        depth: usize,
    ) -> StepOutcome {
        let policy = step.on_failure.as_ref();
        let retry = policy.and_then(|p| p.parsed_action()) == Some(FailureAction::Retry);
        let attempts = if retry {
            policy.and_then(|p| p.max_attempts).unwrap_or(3).max(1)
        } else {
            1
        };
        let mut attempt = 1;
        loop {
            let mut outcome = self.step(step, ctx, inputs, run_ref, depth).await;
            let Some(err) = &outcome.error else {
                if attempt > 1 {
                    outcome.entry.insert("attempts".into(), json!(attempt));
                }
                return outcome;
            };
            let retry_on = policy.map(|p| p.retry_on.as_slice()).unwrap_or_default();
            let retryable = retry_on.is_empty() || retry_on.iter().any(|c| c == err.code.as_str());
            if attempt >= attempts || !retryable || self.cancelled() {
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
    }

    /// One attempt of one step.
    async fn step(
        &self,
        step: &Step,
        ctx: &RefContext,
        inputs: &Map<String, Value>,
        run_ref: &str,
        depth: usize,
    ) -> StepOutcome {
        let started = Instant::now();
        let mut entry = Map::new();
        entry.insert("id".into(), json!(step.id));
        entry.insert("kind".into(), json!(step.kind_str()));
        let fail = |mut entry: Map<String, Value>, err: StepError| {
            entry.insert("status".into(), json!("failed"));
            entry.insert(
                "duration_ms".into(),
                json!(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)),
            );
            StepOutcome {
                entry,
                output: Value::Null,
                error: Some(err),
            }
        };
        let args = match Template(&Value::Object(step.args.clone())).resolve(ctx) {
            Ok(Value::Object(m)) => m,
            Ok(_) => Map::new(),
            Err(e) => {
                return fail(
                    entry,
                    StepError::new(
                        ErrorCode::ResolveError,
                        e.to_string(),
                        "fix the reference in the step's args",
                    ),
                );
            }
        };
        match step.step_kind() {
            StepKind::Button => {
                let bname = step.button.clone().unwrap_or_default();
                entry.insert("button".into(), json!(bname));
                let loaded = match self.engine.load(&bname) {
                    Ok(l) => l,
                    Err(e) => {
                        return fail(
                            entry,
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
                        && let Some(v) = inputs.get(&def.name)
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
                        return fail(entry, StepError::new(e.code(), e.to_string(), hint));
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
                    drawer_run: Some(run_ref.to_owned()),
                };
                let ran = match self
                    .engine
                    .press_loaded_recorded(&loaded, &validated, options, &record)
                    .await
                {
                    Ok(r) => r,
                    Err(e) => {
                        let hint = e.hint().unwrap_or_default();
                        return fail(entry, StepError::new(e.code(), e.to_string(), hint));
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
                let output = if let Some(p) = &r.prompt {
                    Value::String(p.clone())
                } else if r.stdout.trim().is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(r.stdout.trim())
                        .unwrap_or_else(|_| Value::String(r.stdout.clone()))
                };
                let error = (r.status != Status::Ok).then(|| {
                    StepError::new(
                        r.error_type.unwrap_or(ErrorCode::ScriptError),
                        format!("button {bname} failed (exit code {})", r.exit_code),
                        ran.hint.clone().unwrap_or_default(),
                    )
                });
                StepOutcome {
                    entry,
                    output,
                    error,
                }
            }
            StepKind::Drawer => {
                let dname = step.drawer.clone().unwrap_or_default();
                entry.insert("drawer".into(), json!(dname));
                entry.insert("args".into(), Value::Object(args.clone()));
                if depth + 1 >= MAX_DRAWER_DEPTH {
                    return fail(
                        entry,
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
                        return fail(
                            entry,
                            StepError::new(
                                ErrorCode::DrawerKindMismatch,
                                format!("{dname} is a flow drawer"),
                                "use an action drawer",
                            ),
                        );
                    }
                    Ok(d) => d,
                    Err(e) => {
                        return fail(
                            entry,
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
                        return fail(entry, StepError::new(e.code(), e.to_string(), hint));
                    }
                };
                let ran = self.drawer(sub, sub_inputs, None, depth + 1).await;
                entry.insert("drawer_run_id".into(), json!(ran.id.as_str()));
                entry.insert("duration_ms".into(), ran.result["duration_ms"].clone());
                if ran.ok {
                    entry.insert("status".into(), json!("ok"));
                    let output = ran
                        .result
                        .get("return")
                        .cloned()
                        .unwrap_or_else(|| json!({}));
                    StepOutcome {
                        entry,
                        output,
                        error: None,
                    }
                } else {
                    let inner = ran.result["error"]["message"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned();
                    fail(
                        entry,
                        StepError::new(
                            ErrorCode::SubdrawerFailed,
                            format!("sub-drawer {dname} failed: {inner}"),
                            format!("see `buttons drawer {dname} logs`"),
                        ),
                    )
                }
            }
            StepKind::ControlFlow(k) | StepKind::Unimplemented(k) | StepKind::Unknown(k) => fail(
                entry,
                StepError::new(
                    ErrorCode::KindNotImplemented,
                    format!("step kind {k:?} is not pressed by this version"),
                    "use button and drawer steps",
                ),
            ),
        }
    }
}
