//! `buttons mcp`: the enabled buttons and drawers as Model Context Protocol
//! tools over stdio, and `buttons mcp enable|disable NAME` (a button's or a
//! drawer's name: names are unique across both).
//!
//! The server speaks only protocol messages on stdout; diagnostics go to
//! stderr. Every `tools/call` goes through the same press pipeline as
//! `buttons press` (argument validation, batteries, timeouts, the
//! private-network guard, bounded capture, one run record).

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use buttons_exec::{ArgInput, DrawerOptions, DrawerRequest, Engine, Idempotency, PressOptions};
use buttons_spec::{Button, ButtonKind, ButtonName, Drawer, DrawerKind, ErrorCode, Timestamp};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{NotificationContext, RequestContext, RoleServer};
use rmcp::{ErrorData as McpError, ServerHandler, ServiceExt as _};
use serde_json::Map;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::cli::{AllowCreate, McpCommand};

mod progress;
mod transport;
use crate::commands::{button_name, open_store};
use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply};

/// How often the server looks for buttons created, deleted or toggled.
const WATCH_INTERVAL: Duration = Duration::from_millis(500);

/// `buttons mcp enable|disable NAME`: a read-modify-write of `mcp_enabled`
/// in `button.json` or, for a drawer, `drawer.json`, that keeps every other
/// field, known or not.
pub(crate) fn run(command: McpCommand, out: Output) -> CliResult<Reply> {
    let (name, enabled) = match command {
        McpCommand::Enable { name } => (name, true),
        McpCommand::Disable { name } => (name, false),
    };
    let store = open_store(out)?;
    let name = button_name(&name)?;
    let verb = if enabled { "enabled" } else { "disabled" };
    if store.drawer_exists(&name) {
        // Read-modify-write under the drawer's lock.
        let drawer = store.update_drawer(&name, Timestamp::now(), |drawer| {
            if enabled && drawer.kind() != DrawerKind::Action {
                return Err(CliError::new(
                    ErrorCode::FlowRuntimeRequired,
                    format!("{name} is a flow drawer: it cannot be pressed, so it is no MCP tool"),
                )
                .with_hint("enable an action drawer (steps), or a button"));
            }
            drawer.mcp_enabled = enabled;
            Ok(())
        })?;
        return Ok(
            Reply::new(json!({ "drawer": drawer.name, "mcp_enabled": enabled }))
                .stdout(format!("MCP {verb} for drawer {}\n", drawer.name)),
        );
    }
    let button = store.update(&name, Timestamp::now(), |b| b.mcp_enabled = enabled)?;
    Ok(
        Reply::new(json!({ "button": button.name, "mcp_enabled": enabled }))
            .stdout(format!("MCP {verb} for {}\n", button.name)),
    )
}

/// `buttons mcp`: serves until the client closes stdin. Prints nothing but
/// protocol messages on stdout.
pub(crate) fn serve(out: Output, allow_create: Option<AllowCreate>) -> ExitCode {
    let fail = |message: String| {
        let _ = writeln!(std::io::stderr().lock(), "buttons mcp: {message}");
        ExitCode::FAILURE
    };
    // Notices go to stderr only; stdout belongs to the protocol.
    let store = match open_store(out) {
        Ok(store) => store,
        Err(e) => return fail(e.message),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("failed to start the async runtime: {e}")),
    };
    let server = Server {
        engine: Arc::new(super::engine(store)),
        allow_create,
        calls: Arc::new(Semaphore::new(MAX_CONCURRENT_CALLS)),
        log_level: progress::LogLevel::default(),
    };
    let (stdio, flush) =
        transport::stdio(std::io::BufReader::new(std::io::stdin()), std::io::stdout());
    let code = runtime.block_on(async move {
        let service = match server.serve(stdio).await {
            Ok(service) => service,
            Err(e) => return fail(format!("failed to start the MCP session: {e}")),
        };
        match service.waiting().await {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => fail(format!("the MCP session ended with an error: {e}")),
        }
    });
    // Every reply reaches stdout before the process exits.
    flush.wait(Duration::from_secs(2));
    code
}

/// At most this many `tools/call` requests run at once; others wait.
const MAX_CONCURRENT_CALLS: usize = 4;

fn missing_name() -> CallToolResult {
    agent_error(
        ErrorCode::MissingArg,
        "missing the argument `name`",
        "add the argument `name`: a button's name from buttons_list",
    )
}

/// The MCP server: a view of one data directory, read afresh on every request.
#[derive(Clone)]
struct Server {
    engine: Arc<Engine>,
    /// Whether `buttons_create` is offered, and whether what it creates is
    /// MCP-enabled at once.
    allow_create: Option<AllowCreate>,
    /// Bounds the tool calls running at once.
    calls: Arc<Semaphore>,
    /// The least severe log message the client wants (`logging/setLevel`).
    log_level: progress::LogLevel,
}

/// An enabled, pressable button and its agent notes.
struct Exposed {
    button: Button,
    notes: Option<String>,
}

impl Server {
    /// Buttons with `mcp_enabled: true` that can be pressed, sorted by name.
    fn exposed(&self) -> Result<Vec<Exposed>, McpError> {
        let store = self.engine.store();
        let listed = store
            .list()
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        Ok(listed
            .into_iter()
            .filter_map(|l| l.button.ok())
            .filter(|b| b.mcp_enabled && b.kind() != ButtonKind::App)
            .map(|button| {
                let dir = store.button_dir(
                    &ButtonName::new(&button.name).expect("listed buttons have valid names"),
                );
                let notes = buttons_exec::agent_notes(&button, dir.as_std_path());
                Exposed { button, notes }
            })
            .collect())
    }

    /// Action drawers with `mcp_enabled: true`, sorted by name.
    fn exposed_drawers(&self) -> Result<Vec<Drawer>, McpError> {
        let listed = self
            .engine
            .store()
            .list_drawers()
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        Ok(listed
            .into_iter()
            .filter_map(|l| l.drawer.ok())
            .filter(|d| d.mcp_enabled && d.kind() == DrawerKind::Action)
            .collect())
    }

    /// The MCP-enabled action drawer named exactly `name`, if there is one.
    fn enabled_drawer(&self, name: &str) -> Option<Drawer> {
        let key = ButtonName::new(name).ok()?;
        let store = self.engine.store();
        if !store.drawer_exists(&key) {
            return None;
        }
        store
            .load_drawer(&key)
            .ok()
            .filter(|d| d.name == name && d.mcp_enabled && d.kind() == DrawerKind::Action)
    }

    /// What changes the tool list: names, specs' update times, enablement.
    fn fingerprint(&self) -> Option<Vec<(String, Option<Timestamp>)>> {
        let exposed = self.exposed().ok()?;
        let drawers = self.exposed_drawers().ok()?;
        Some(
            exposed
                .into_iter()
                .map(|e| (e.button.name, Some(e.button.updated_at)))
                .chain(drawers.into_iter().map(|d| (d.name, d.updated_at)))
                .collect(),
        )
    }
}

/// The MCP tool for a drawer: its name, its description (or one made from
/// its steps), and the JSON Schema of its inputs.
fn drawer_tool(drawer: &Drawer) -> Tool {
    let mut description = drawer_description(drawer);
    description.push_str(
        "\n\nA drawer (a workflow of buttons); the run result, with its `return` map, is in \
         structuredContent.",
    );
    let Value::Object(schema) = drawer.input_schema() else {
        unreachable!("input_schema always returns an object");
    };
    Tool::new(drawer.name.clone(), description, Arc::new(schema))
}

/// A drawer's description, or one made from its steps.
fn drawer_description(drawer: &Drawer) -> String {
    let description = drawer.description.trim();
    if description.is_empty() {
        format!("Runs the drawer `{}`: {}", drawer.name, drawer.topology())
    } else {
        description.to_owned()
    }
}

/// The optional tool argument carrying an idempotency key.
const IDEMPOTENCY_ARG: &str = "idempotency_key";

/// Whether the button has an argument of its own named [`IDEMPOTENCY_ARG`]
/// (then that name is the button's, not a key).
fn declares_idempotency_key(button: &Button) -> bool {
    button.args.iter().any(|a| a.name == IDEMPOTENCY_ARG)
}

/// The MCP tool for a button: its name, its description (or one made from
/// its kind and arguments) plus its agent notes, and a JSON Schema of its
/// arguments.
fn tool_of(exposed: &Exposed) -> Tool {
    let mut description = exposed.button.describe();
    if let Some(notes) = &exposed.notes {
        description.push_str("\n\n");
        description.push_str(notes.trim());
    }
    let Value::Object(mut schema) = buttons_spec::input_schema(&exposed.button.args) else {
        unreachable!("input_schema always returns an object");
    };
    if !declares_idempotency_key(&exposed.button)
        && let Some(Value::Object(properties)) = schema.get_mut("properties")
    {
        properties.insert(IDEMPOTENCY_ARG.into(), idempotency_schema());
    }
    Tool::new(exposed.button.name.clone(), description, Arc::new(schema))
}

fn idempotency_schema() -> Value {
    json!({
        "type": "string",
        "description": "Optional: press at most once for this key (scoped to the button, 24 h); \
                        a repeat with the same arguments returns the first successful result \
                        with \"replayed\": true."
    })
}

/// The meta-tools, named and shaped as the Go tool's are.
const LIST_TOOL: &str = "buttons_list";
const INSPECT_TOOL: &str = "buttons_inspect";
const PRESS_TOOL: &str = "buttons_press";
const CREATE_TOOL: &str = "buttons_create";

fn schema(value: Value) -> Arc<Map<String, Value>> {
    let Value::Object(map) = value else {
        unreachable!("tool schemas are objects");
    };
    Arc::new(map)
}

/// `buttons_list`, `buttons_inspect`, `buttons_press`, and `buttons_create`
/// when the server allows it.
fn meta_tools(allow_create: Option<AllowCreate>) -> Vec<Tool> {
    let name_arg = json!({"type": "string", "description": "The button's (or drawer's) name, as buttons_list gives it."});
    let mut tools = vec![
        Tool::new(
            LIST_TOOL,
            "Lists the buttons this server may press: name, description and arguments \
             (name, type, required, values) of each; and under `drawers` the workflows it may \
             run, with their inputs.",
            schema(json!({"type": "object", "properties": {}, "additionalProperties": false})),
        ),
        Tool::new(
            INSPECT_TOOL,
            "Shows one button: its spec (button.json), its AGENTS.md notes and its last run; \
             or one drawer: its spec (drawer.json), steps and last run.",
            schema(json!({
                "type": "object",
                "properties": {"name": name_arg},
                "required": ["name"],
                "additionalProperties": false,
            })),
        ),
        Tool::new(
            PRESS_TOOL,
            "Presses a button by name with its arguments, and returns the press result \
             (status, exit_code, stdout, stderr) in structuredContent. A drawer's name runs \
             that drawer with `args` as its inputs.",
            schema(json!({
                "type": "object",
                "properties": {
                    "name": name_arg,
                    "args": {
                        "type": "object",
                        "description": "The button's arguments (or the drawer's inputs) by name (see buttons_list).",
                        "additionalProperties": {"type": ["string", "number", "integer", "boolean"]},
                    },
                    IDEMPOTENCY_ARG: idempotency_schema(),
                },
                "required": ["name"],
                "additionalProperties": false,
            })),
        ),
    ];
    if let Some(mode) = allow_create {
        let after = match mode {
            AllowCreate::Review => {
                "The new button cannot be pressed until a human enables it for MCP \
                 (`buttons mcp enable NAME`)."
            }
            AllowCreate::Trusted => "The new button can be pressed at once.",
        };
        tools.push(Tool::new(
            CREATE_TOOL,
            format!(
                "Creates a code button (give `code`, and `runtime` shell, bash, python or node) \
                 or an HTTP button (give `url`, optionally `method`, `headers`, `body`). {after}"
            ),
            schema(json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "The new button's name (lowercase letters, digits and -)."},
                    "description": {"type": "string", "description": "What the button does."},
                    "code": {"type": "string", "description": "The script, for a code button."},
                    "runtime": {"type": "string", "enum": ["shell", "bash", "python", "node"], "description": "The script's interpreter (default shell)."},
                    "url": {"type": "string", "description": "The URL template, for an HTTP button ({{arg}} placeholders)."},
                    "method": {"type": "string", "description": "The HTTP method (default GET)."},
                    "headers": {"type": "object", "additionalProperties": {"type": "string"}, "description": "HTTP headers by name."},
                    "body": {"type": "string", "description": "The HTTP body template."},
                    "args": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "Argument definitions, each `name:type:required|optional`, enums with a fourth part `a|b`; types string, int, bool, enum.",
                    },
                    "timeout_seconds": {"type": "integer", "minimum": 1, "description": "The press timeout (default 300)."},
                },
                "required": ["name"],
                "additionalProperties": false,
            })),
        ));
    }
    tools
}

/// A tool error (not a protocol error) carrying the error envelope's fields.
/// Hints are the library's, in API terms (argument names, button fields),
/// not the command line's flags.
fn tool_error(e: &buttons_exec::Error) -> CallToolResult {
    let mut error = CliError::from_parts(e.code(), e.hint(), e);
    if let Some(defs) = e.arg_defs() {
        error.spec = Some(Box::new(
            serde_json::to_value(defs).expect("argument definitions serialize"),
        ));
    }
    envelope_error(error)
}

/// A tool error from a code, a message and a hint written for a tool call.
fn agent_error(code: ErrorCode, message: impl Into<String>, hint: &str) -> CallToolResult {
    let mut error = CliError::validation(message).with_hint(hint);
    error.code = code;
    envelope_error(error)
}

fn envelope_error(error: CliError) -> CallToolResult {
    let mut text = format!("{}: {}", error.code, error.message);
    if let Some(hint) = &error.hint {
        text.push_str("\nhint: ");
        text.push_str(hint);
    }
    let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
    result.structured_content =
        Some(serde_json::to_value(error).expect("an error envelope serializes"));
    result
}

/// A successful meta-tool answer: the value as JSON text and as structuredContent.
fn structured(value: Value) -> CallToolResult {
    let text = serde_json::to_string_pretty(&value).expect("a JSON value serializes");
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(value);
    result
}

/// How a press was asked for: by the button's own tool, or by `buttons_press`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    OwnTool,
    Meta,
}

fn not_enabled(name: &str) -> CallToolResult {
    agent_error(
        ErrorCode::NotFound,
        format!("no button named {name:?} that this server may press"),
        "call buttons_list for the buttons this server may press; a button becomes pressable \
         only when a human enables it for MCP (`buttons mcp enable NAME`)",
    )
}

impl Server {
    /// Loads an MCP-enabled, pressable button, or says why not.
    fn load_enabled(&self, name: &str, via: Via) -> Result<buttons_exec::Loaded, CallError> {
        let refused = || match via {
            Via::OwnTool => CallError::Protocol(McpError::invalid_params(
                format!(
                    "no tool named {name:?}: it does not exist or its button is not MCP-enabled \
                     (a human runs `buttons mcp enable NAME`)"
                ),
                None,
            )),
            Via::Meta => CallError::Tool(Box::new(not_enabled(name))),
        };
        let loaded = match self.engine.load(name) {
            Ok(loaded) => loaded,
            Err(e)
                if matches!(e.code(), ErrorCode::NotFound | ErrorCode::ValidationError)
                    && via == Via::Meta =>
            {
                return Err(refused());
            }
            Err(e) if e.code() == ErrorCode::NotFound => return Err(refused()),
            Err(e) => return Err(CallError::Tool(Box::new(tool_error(&e)))),
        };
        if loaded.button.name != name
            || !loaded.button.mcp_enabled
            || loaded.button.kind() == ButtonKind::App
        {
            return Err(refused());
        }
        Ok(loaded)
    }

    fn list(&self) -> Result<CallToolResult, McpError> {
        let buttons: Vec<Value> = self
            .exposed()?
            .iter()
            .map(|e| {
                json!({
                    "name": e.button.name,
                    "description": e.button.describe(),
                    "args": e.button.args,
                })
            })
            .collect();
        let drawers: Vec<Value> = self
            .exposed_drawers()?
            .iter()
            .map(|d| {
                json!({
                    "name": d.name,
                    "description": drawer_description(d),
                    "inputs": d.inputs,
                })
            })
            .collect();
        Ok(structured(
            json!({ "buttons": buttons, "drawers": drawers }),
        ))
    }

    /// `buttons_inspect` of an enabled drawer: its spec, steps and last run.
    fn inspect_drawer(&self, drawer: &Drawer) -> CallToolResult {
        let last_run = ButtonName::new(&drawer.name)
            .ok()
            .and_then(|key| self.engine.store().drawer_runs(&key, 1).ok())
            .and_then(|mut runs| runs.pop())
            // Masked when it was written.
            .map(|run| run.record);
        structured(json!({
            "name": drawer.name,
            "kind": "drawer",
            "description": drawer_description(drawer),
            "topology": drawer.topology(),
            "spec": drawer,
            "last_run": last_run,
        }))
    }

    fn inspect(&self, name: &str) -> Result<CallToolResult, CallError> {
        if let Some(drawer) = self.enabled_drawer(name) {
            return Ok(self.inspect_drawer(&drawer));
        }
        let loaded = self.load_enabled(name, Via::Meta)?;
        let notes = buttons_exec::agent_notes(&loaded.button, loaded.dir.as_std_path());
        let last_run = self
            .engine
            .store()
            .records(Some(&loaded.name), 1)
            .ok()
            .and_then(|mut records| records.pop())
            .map(|stored| serde_json::to_value(stored.record).expect("a record serializes"));
        Ok(structured(json!({
            "name": loaded.button.name,
            "description": loaded.button.describe(),
            "spec": loaded.button,
            "agents_md": notes,
            "last_run": last_run,
        })))
    }

    fn create(&self, mode: AllowCreate, input: &Map<String, Value>) -> CallToolResult {
        match create_button(&self.engine, mode, input) {
            Ok(button) => {
                let pressable = button.mcp_enabled;
                let next = if pressable {
                    format!(
                        "press it with buttons_press {{\"name\": \"{}\"}}",
                        button.name
                    )
                } else {
                    format!(
                        "a human must enable it before it can be pressed: `buttons mcp enable {}`",
                        button.name
                    )
                };
                structured(json!({
                    "name": button.name,
                    "mcp_enabled": pressable,
                    "next": next,
                    "spec": button,
                }))
            }
            Err(mut error) => {
                // Library hints may name the command line's flags; an agent
                // gets the tool's own argument names instead.
                if error.hint.as_deref().is_some_and(|h| h.contains("--")) {
                    error.hint = Some(
                        "check the arguments against the buttons_create input schema: `code` \
                         (with `runtime`) or `url` (with `method`, `headers` as an object, \
                         `body`), `args` as `name:type:required|optional` strings"
                            .to_owned(),
                    );
                }
                envelope_error(error)
            }
        }
    }

    /// Presses an enabled button with JSON arguments: one load and one
    /// validation per call.
    async fn press(
        &self,
        name: &str,
        mut supplied: Map<String, Value>,
        mut idempotency_key: Option<Value>,
        context: &RequestContext<RoleServer>,
        via: Via,
    ) -> Result<CallToolResult, CallError> {
        let loaded = self.load_enabled(name, via)?;
        if via == Via::OwnTool && !declares_idempotency_key(&loaded.button) {
            idempotency_key = supplied.remove(IDEMPOTENCY_ARG);
        }
        let idempotency = match idempotency_key {
            None | Some(Value::Null) => None,
            Some(Value::String(key)) => Some(Idempotency::new(key)),
            Some(_) => {
                return Err(CallError::Tool(Box::new(agent_error(
                    ErrorCode::ValidationError,
                    format!("{IDEMPOTENCY_ARG} must be a string"),
                    "give the key as a JSON string, or leave it out",
                ))));
            }
        };
        let args = loaded
            .validate(&ArgInput::Json(supplied))
            .map_err(|e| CallError::Tool(Box::new(tool_error(&e))))?;
        // A client's notifications/cancelled ends the press like Ctrl-C does.
        let cancelled = context.ct.clone();
        let mut options =
            PressOptions::default().cancel_on(async move { cancelled.cancelled().await });
        // The progress file becomes notifications/progress (with a
        // progressToken) and notifications/message (its `log` lines).
        let (path_tx, path_rx) = tokio::sync::oneshot::channel();
        let mut path_tx = Some(path_tx);
        options = options.on_event(move |event| {
            if let buttons_exec::PressEvent::Started { progress_path } = event
                && let Some(tx) = path_tx.take()
            {
                let _ = tx.send(progress_path.clone());
            }
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let follow = progress::Follow {
            peer: context.peer.clone(),
            token: context.meta.get_progress_token(),
            logger: loaded.button.name.clone(),
            level: self.log_level.clone(),
        };
        let follower = tokio::spawn(progress::follow(follow, path_rx, stop_rx));
        let pressed = self
            .engine
            .press_loaded_keyed(&loaded, &args, idempotency.as_ref(), options)
            .await;
        // The last lines are sent before the result.
        let _ = stop_tx.send(());
        let _ = follower.await;
        let ran = pressed.map_err(|e| CallError::Tool(Box::new(tool_error(&e))))?;
        Ok(press_reply(&ran))
    }
}

impl Server {
    /// Presses an enabled drawer through [`Engine::press_drawer`] with the
    /// call's arguments as its inputs.
    async fn press_drawer(
        &self,
        drawer: &Drawer,
        inputs: Map<String, Value>,
        context: &RequestContext<RoleServer>,
    ) -> CallToolResult {
        if let Some(key) = inputs.keys().find(|k| drawer.input(k).is_none()) {
            let known: Vec<&str> = drawer.inputs.iter().map(|i| i.name.as_str()).collect();
            return agent_error(
                ErrorCode::ValidationError,
                format!("drawer {} has no input `{key}`", drawer.name),
                &if known.is_empty() {
                    "call it with no arguments".to_owned()
                } else {
                    format!("use only its inputs: {}", known.join(", "))
                },
            );
        }
        let cancelled = context.ct.clone();
        let mut options = DrawerOptions {
            cancel: Some(Box::pin(async move { cancelled.cancelled().await })),
            ..DrawerOptions::default()
        };
        // With a progressToken, each finished step is a notifications/progress.
        let follower = context.meta.get_progress_token().map(|token| {
            let (sink, task) =
                progress::drawer_steps(context.peer.clone(), token, drawer.steps.len());
            options.on_step = Some(sink);
            task
        });
        let request = DrawerRequest {
            name: drawer.name.clone(),
            inputs,
            webhook_body: None,
            env: std::env::vars().collect(),
        };
        let pressed = self.engine.press_drawer(&request, options).await;
        if let Some(task) = follower {
            // The sink is gone with the press: the last notifications are
            // sent before the result.
            let _ = task.await;
        }
        match pressed {
            Ok(ran) => {
                // Secret inputs and battery values stay out of what the agent reads.
                let checked = buttons_exec::check_inputs(drawer, &request.inputs)
                    .unwrap_or_else(|_| request.inputs.clone());
                let mut result = ran.result.clone();
                buttons_exec::mask_json(&mut result, &self.engine.drawer_secrets(drawer, &checked));
                drawer_reply(&ran, result)
            }
            Err(e) => tool_error(&e),
        }
    }
}

/// The reply to a drawer press: the result as JSON text and in
/// `structuredContent`; a failed run is a tool error whose first blocks
/// name the status, the code, the failed step and the fix.
fn drawer_reply(ran: &buttons_exec::DrawerRan, result: Value) -> CallToolResult {
    let mut content = Vec::new();
    if !ran.ok {
        let error = &result["error"];
        content.push(ContentBlock::text(format!(
            "status: failed {}",
            error["code"].as_str().unwrap_or("")
        )));
        if let Some(step) = result["failed_step"].as_str() {
            content.push(ContentBlock::text(format!("failed step: {step}")));
        }
        if let Some(message) = error["message"].as_str() {
            content.push(ContentBlock::text(format!("error: {message}")));
        }
        if let Some(hint) = error["remediation"].as_str().filter(|h| !h.is_empty()) {
            content.push(ContentBlock::text(format!("hint: {hint}")));
        }
    }
    content.push(ContentBlock::text(
        serde_json::to_string_pretty(&result).expect("a JSON value serializes"),
    ));
    if let Err(e) = &ran.record {
        content.push(ContentBlock::text(format!(
            "warning: the run record could not be written: {}",
            CliError::from_parts(e.code(), None, e).message
        )));
    }
    let mut reply = if ran.ok {
        CallToolResult::success(content)
    } else {
        CallToolResult::error(content)
    };
    reply.structured_content = Some(result);
    reply
}

/// What a `tools/call` ends in besides a result: a protocol error (an
/// unknown tool) or a tool error.
enum CallError {
    Protocol(McpError),
    Tool(Box<CallToolResult>),
}

/// The reply to a press: stdout as text on success; on failure labelled
/// blocks (status, exit code, error, stderr, stdout, hint) an agent can
/// read; always the full result in `structuredContent`.
fn press_reply(ran: &buttons_exec::Ran) -> CallToolResult {
    let result = &ran.result;
    let mut content = Vec::new();
    if result.is_ok() {
        content.push(ContentBlock::text(result.stdout.clone()));
    } else {
        let code = result.error_type.map_or("", |c| c.as_str());
        content.push(ContentBlock::text(format!(
            "status: {} {code}",
            result.status.as_str()
        )));
        content.push(ContentBlock::text(format!(
            "exit code {}",
            result.exit_code
        )));
        if !result.stderr.is_empty() {
            content.push(ContentBlock::text(format!("stderr: {}", result.stderr)));
        }
        if !result.stdout.is_empty() {
            content.push(ContentBlock::text(format!("stdout: {}", result.stdout)));
        }
    }
    if let Some(prompt) = &result.prompt {
        content.push(ContentBlock::text(prompt.clone()));
    }
    if let Some(hint) = ran.hint.as_ref().filter(|_| !result.is_ok()) {
        content.push(ContentBlock::text(format!("hint: {hint}")));
    }
    if let Err(e) = &ran.record {
        content.push(ContentBlock::text(format!(
            "warning: the run record could not be written: {}",
            CliError::from_parts(e.code(), None, e).message
        )));
    }
    let mut reply = if result.is_ok() {
        CallToolResult::success(content)
    } else {
        CallToolResult::error(content)
    };
    let mut structured = serde_json::to_value(result).expect("a press result serializes");
    if ran.replayed
        && let Some(map) = structured.as_object_mut()
    {
        map.insert("replayed".into(), Value::Bool(true));
    }
    reply.structured_content = Some(structured);
    reply
}

/// `buttons_create`: a code or HTTP button from the tool's JSON input,
/// MCP-enabled only when the server trusts its agent.
fn create_button(
    engine: &Engine,
    mode: AllowCreate,
    input: &Map<String, Value>,
) -> Result<Button, CliError> {
    let text = |key: &str| -> Result<Option<String>, CliError> {
        match input.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(CliError::validation(format!("`{key}` must be a string"))
                .with_hint(format!("give `{key}` as a JSON string"))),
        }
    };
    let known = [
        "name",
        "description",
        "code",
        "runtime",
        "url",
        "method",
        "headers",
        "body",
        "args",
        "timeout_seconds",
    ];
    if let Some(key) = input.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(
            CliError::validation(format!("buttons_create takes no argument `{key}`"))
                .with_hint(format!("use only: {}", known.join(", "))),
        );
    }
    let Some(name) = text("name")? else {
        return Err(CliError::from_parts(
            ErrorCode::MissingArg,
            Some("add the argument `name`".to_owned()),
            &buttons_spec::Error::MissingArg {
                name: "name".into(),
            },
        ));
    };
    let name = button_name(&name)?;
    let now = Timestamp::now();
    let (url, code) = (text("url")?, text("code")?);
    let (mut button, code) = match (url, code) {
        (Some(_), Some(_)) => {
            return Err(
                CliError::validation("give either `code` or `url`, not both")
                    .with_hint("a button runs a script (`code`) or sends a request (`url`)"),
            );
        }
        (None, None) => {
            return Err(CliError::validation("give `code` or `url`")
                .with_hint("add `code` (a script) or `url` (an HTTP request)"));
        }
        (Some(url), None) => {
            if text("runtime")?.is_some() {
                return Err(CliError::validation("an HTTP button has no runtime")
                    .with_hint("drop `runtime`, or give `code` instead of `url`"));
            }
            let mut button = Button::http(&name, &url, now)?;
            if let Some(method) = text("method")? {
                button.method = buttons_spec::parse_method(&method)?;
            }
            match input.get("headers") {
                None | Some(Value::Null) => {}
                Some(Value::Object(headers)) => {
                    for (k, v) in headers {
                        let Value::String(v) = v else {
                            return Err(CliError::validation(format!(
                                "header {k:?} must be a string"
                            ))
                            .with_hint("give `headers` as an object of strings"));
                        };
                        let (k, v) = buttons_spec::parse_header(&format!("{k}: {v}"))?;
                        button.headers.insert(k, v);
                    }
                }
                Some(_) => {
                    return Err(CliError::validation("`headers` must be an object")
                        .with_hint("give `headers` as an object of strings"));
                }
            }
            button.body = text("body")?.unwrap_or_default();
            (button, buttons_store::CodeSource::Scaffold)
        }
        (None, Some(code)) => {
            for key in ["method", "headers", "body"] {
                if input.get(key).is_some_and(|v| !v.is_null()) {
                    return Err(CliError::validation(format!(
                        "`{key}` only applies to HTTP buttons"
                    ))
                    .with_hint("add `url`, or drop the argument"));
                }
            }
            let runtime = match text("runtime")? {
                None => buttons_spec::Runtime::Shell,
                Some(given) => buttons_spec::Runtime::from_name(&given)
                    .ok_or(buttons_spec::Error::InvalidRuntime { runtime: given })?,
            };
            (
                Button::code(&name, runtime, now),
                buttons_store::CodeSource::Inline(code),
            )
        }
    };
    let mut defs = Vec::new();
    match input.get("args") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let Value::String(def) = item else {
                    return Err(CliError::validation("each of `args` must be a string")
                        .with_hint("give each argument as `name:type:required|optional`"));
                };
                defs.push(buttons_spec::ArgDef::parse(def)?);
            }
        }
        Some(_) => {
            return Err(CliError::validation("`args` must be an array")
                .with_hint("give `args` as a list like [\"env:enum:required:dev|prod\"]"));
        }
    }
    buttons_spec::validate_arg_defs(&defs)?;
    button.args = defs;
    match input.get("timeout_seconds") {
        None | Some(Value::Null) => {}
        Some(value) => match value.as_u64().filter(|s| *s > 0) {
            Some(seconds) => button.timeout_seconds = seconds,
            None => {
                return Err(
                    CliError::validation("`timeout_seconds` must be a positive integer")
                        .with_hint("give a number of seconds such as 60"),
                );
            }
        },
    }
    button.description = text("description")?.unwrap_or_default().trim().to_owned();
    button.mcp_enabled = mode == AllowCreate::Trusted;
    Ok(engine.store().create(buttons_store::NewButton {
        button,
        code,
        prompt: None,
    })?)
}

impl ServerHandler for Server {
    #[expect(
        deprecated,
        reason = "MCP logging (SEP-2577) is still what clients show"
    )]
    fn get_info(&self) -> ServerConfig {
        let mut instructions = String::from(
            "Buttons are named, typed actions a human set up: scripts, HTTP requests and \
             prompts. Each MCP-enabled button is a tool of its own name; the same buttons \
             are reachable through buttons_list (what there is, with arguments), \
             buttons_inspect (one button's spec, notes and last run) and buttons_press \
             ({name, args}). A press result (status, exit_code, stdout, stderr) is in \
             structuredContent; a failed press is a tool error with the code and a hint.",
        );
        if let Some(mode) = self.allow_create {
            instructions.push_str(match mode {
                AllowCreate::Review => {
                    " buttons_create makes a new button; a human must enable it before it can \
                     be pressed."
                }
                AllowCreate::Trusted => {
                    " buttons_create makes a new button that can be pressed at once."
                }
            });
        }
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .enable_logging()
                .build(),
        )
        .with_server_info(Implementation::new("buttons", env!("CARGO_PKG_VERSION")))
        .with_instructions(instructions)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let mut tools = meta_tools(self.allow_create);
        tools.extend(self.exposed()?.iter().map(tool_of));
        tools.extend(self.exposed_drawers()?.iter().map(drawer_tool));
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        // Others wait for a slot; a cancelled wait ends here.
        let _permit = tokio::select! {
            permit = self.calls.acquire() => permit.map_err(|e| McpError::internal_error(e.to_string(), None))?,
            () = context.ct.cancelled() => {
                return Err(McpError::internal_error("the call was cancelled while waiting", None));
            }
        };
        let mut input = request.arguments.clone().unwrap_or_default();
        let outcome = match request.name.as_ref() {
            LIST_TOOL => self.list().map_err(CallError::Protocol),
            INSPECT_TOOL => match input.get("name") {
                Some(Value::String(name)) => self.inspect(name),
                _ => Err(CallError::Tool(Box::new(missing_name()))),
            },
            PRESS_TOOL => {
                let Some(Value::String(name)) = input.remove("name") else {
                    return Ok(missing_name().into());
                };
                let args = match input.remove("args") {
                    None | Some(Value::Null) => Map::new(),
                    Some(Value::Object(args)) => args,
                    Some(_) => {
                        return Ok(agent_error(
                            ErrorCode::ValidationError,
                            "`args` must be an object",
                            "give the arguments as an object, like {\"env\": \"dev\"}",
                        )
                        .into());
                    }
                };
                if let Some(key) = input.keys().find(|k| k.as_str() != IDEMPOTENCY_ARG) {
                    return Ok(agent_error(
                        ErrorCode::ValidationError,
                        format!("buttons_press takes no argument `{key}`"),
                        "give `name`, `args` (the button's arguments) and optionally `idempotency_key`",
                    )
                    .into());
                }
                let key = input.remove(IDEMPOTENCY_ARG);
                match self.enabled_drawer(&name) {
                    Some(drawer) if matches!(key, None | Some(Value::Null)) => {
                        Ok(self.press_drawer(&drawer, args, &context).await)
                    }
                    Some(_) => Ok(agent_error(
                        ErrorCode::ValidationError,
                        format!("{IDEMPOTENCY_ARG} is for buttons; `{name}` is a drawer"),
                        "call the drawer without an idempotency_key",
                    )),
                    None => self.press(&name, args, key, &context, Via::Meta).await,
                }
            }
            CREATE_TOOL if self.allow_create.is_some() => {
                let mode = self.allow_create.unwrap_or(AllowCreate::Review);
                Ok(self.create(mode, &input))
            }
            name => match self.enabled_drawer(name) {
                Some(drawer) => Ok(self.press_drawer(&drawer, input, &context).await),
                None => self.press(name, input, None, &context, Via::OwnTool).await,
            },
        };
        match outcome {
            Ok(result) => Ok(result.into()),
            Err(CallError::Tool(result)) => Ok((*result).into()),
            Err(CallError::Protocol(e)) => Err(e),
        }
    }

    #[expect(
        deprecated,
        reason = "MCP logging (SEP-2577) is still what clients show"
    )]
    async fn set_level(
        &self,
        request: rmcp::model::SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.log_level.set(request.level);
        Ok(())
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        // Tell the client when the tool list changes: a button created,
        // deleted, edited, enabled or disabled while the server runs.
        let server = self.clone();
        let peer = context.peer;
        tokio::spawn(async move {
            let mut last = server.fingerprint();
            loop {
                tokio::time::sleep(WATCH_INTERVAL).await;
                let now = server.fingerprint();
                if now != last {
                    last = now;
                    if peer.notify_tool_list_changed().await.is_err() {
                        break;
                    }
                }
            }
        });
    }
}
