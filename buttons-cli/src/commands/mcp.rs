//! `buttons mcp`: the enabled buttons as Model Context Protocol tools over
//! stdio, and `buttons mcp enable|disable NAME`.
//!
//! The server speaks only protocol messages on stdout; diagnostics go to
//! stderr. Every `tools/call` goes through the same press pipeline as
//! `buttons press` (argument validation, batteries, timeouts, the
//! private-network guard, bounded capture, one run record).

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use buttons_exec::{ArgInput, Engine, Idempotency, PressOptions};
use buttons_spec::{Button, ButtonKind, ErrorCode, Timestamp};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{NotificationContext, RequestContext, RoleServer};
use rmcp::{ErrorData as McpError, ServerHandler, ServiceExt as _};
use serde_json::{Value, json};

use crate::cli::McpCommand;
use crate::commands::{button_name, open_store};
use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply};

/// How often the server looks for buttons created, deleted or toggled.
const WATCH_INTERVAL: Duration = Duration::from_millis(500);

/// `buttons mcp enable|disable NAME`: a read-modify-write of `mcp_enabled`
/// that keeps every other field, known or not.
pub(crate) fn run(command: McpCommand, out: Output) -> CliResult<Reply> {
    let (name, enabled) = match command {
        McpCommand::Enable { name } => (name, true),
        McpCommand::Disable { name } => (name, false),
    };
    let store = open_store(out)?;
    let name = button_name(&name)?;
    let button = store.update(&name, Timestamp::now(), |b| b.mcp_enabled = enabled)?;
    let verb = if enabled { "enabled" } else { "disabled" };
    Ok(
        Reply::new(json!({ "button": button.name, "mcp_enabled": enabled }))
            .stdout(format!("MCP {verb} for {}\n", button.name)),
    )
}

/// `buttons mcp`: serves until the client closes stdin. Prints nothing but
/// protocol messages on stdout.
pub(crate) fn serve(out: Output) -> ExitCode {
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
        engine: Arc::new(Engine::from_env(store)),
    };
    runtime.block_on(async move {
        let service = match server.serve(rmcp::transport::stdio()).await {
            Ok(service) => service,
            Err(e) => return fail(format!("failed to start the MCP session: {e}")),
        };
        match service.waiting().await {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => fail(format!("the MCP session ended with an error: {e}")),
        }
    })
}

/// The MCP server: a view of one data directory, read afresh on every request.
#[derive(Clone)]
struct Server {
    engine: Arc<Engine>,
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
                    &buttons_spec::ButtonName::new(&button.name)
                        .expect("listed buttons have valid names"),
                );
                let notes = buttons_exec::agent_notes(&button, dir.as_std_path());
                Exposed { button, notes }
            })
            .collect())
    }

    /// What changes the tool list: names, specs' update times, enablement.
    fn fingerprint(&self) -> Option<Vec<(String, Timestamp)>> {
        let exposed = self.exposed().ok()?;
        Some(
            exposed
                .into_iter()
                .map(|e| (e.button.name, e.button.updated_at))
                .collect(),
        )
    }
}

/// The optional tool argument carrying an idempotency key.
const IDEMPOTENCY_ARG: &str = "idempotency_key";

/// Whether the button has an argument of its own named [`IDEMPOTENCY_ARG`]
/// (then that name is the button's, not a key).
fn declares_idempotency_key(button: &Button) -> bool {
    button.args.iter().any(|a| a.name == IDEMPOTENCY_ARG)
}

/// The MCP tool for a button: its name, its description plus its agent
/// notes, and a JSON Schema of its arguments.
fn tool_of(exposed: &Exposed) -> Tool {
    let mut description = exposed.button.description.clone();
    if let Some(notes) = &exposed.notes {
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str(notes.trim());
    }
    let Value::Object(mut schema) = buttons_spec::input_schema(&exposed.button.args) else {
        unreachable!("input_schema always returns an object");
    };
    if !declares_idempotency_key(&exposed.button)
        && let Some(Value::Object(properties)) = schema.get_mut("properties")
    {
        properties.insert(
            IDEMPOTENCY_ARG.into(),
            serde_json::json!({
                "type": "string",
                "description": "Optional: press at most once for this key (scoped to this tool, 24 h);                                 a repeat with the same arguments returns the first successful result                                 with \"replayed\": true."
            }),
        );
    }
    Tool::new(exposed.button.name.clone(), description, Arc::new(schema))
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

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .build(),
        )
        .with_instructions(
            "Each tool presses a button: a script, an HTTP request or a prompt. \
             structuredContent holds the press result (status, exit_code, stdout, stderr).",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let tools = self.exposed()?.iter().map(tool_of).collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        // One load and one validation per call.
        let not_a_tool = || {
            McpError::invalid_params(
                format!(
                    "no tool named {:?}: it does not exist or its button is not MCP-enabled \
                     (buttons mcp enable NAME)",
                    request.name
                ),
                None,
            )
        };
        let loaded = match self.engine.load(&request.name) {
            Ok(loaded) => loaded,
            Err(e) if e.code() == ErrorCode::NotFound => return Err(not_a_tool()),
            Err(e) => return Ok(tool_error(&e).into()),
        };
        if loaded.button.name != request.name
            || !loaded.button.mcp_enabled
            || loaded.button.kind() == ButtonKind::App
        {
            return Err(not_a_tool());
        }
        let mut supplied = request.arguments.clone().unwrap_or_default();
        let idempotency = if declares_idempotency_key(&loaded.button) {
            None
        } else {
            match supplied.remove(IDEMPOTENCY_ARG) {
                None | Some(Value::Null) => None,
                Some(Value::String(key)) => Some(Idempotency::new(key)),
                Some(_) => {
                    return Err(McpError::invalid_params(
                        format!("{IDEMPOTENCY_ARG} must be a string"),
                        None,
                    ));
                }
            }
        };
        let supplied = ArgInput::Json(supplied);
        let args = match loaded.validate(&supplied) {
            Ok(args) => args,
            Err(e) => return Ok(tool_error(&e).into()),
        };
        // A client's notifications/cancelled ends the press like Ctrl-C does.
        let cancelled = context.ct.clone();
        let options = PressOptions::default().cancel_on(async move { cancelled.cancelled().await });
        let pressed = match &idempotency {
            Some(idem) => {
                self.engine
                    .press_loaded_once(&loaded, &args, idem, options)
                    .await
            }
            None => self.engine.press_loaded(&loaded, &args, options).await,
        };
        let ran = match pressed {
            Ok(ran) => ran,
            Err(error) => return Ok(tool_error(&error).into()),
        };
        let result = &ran.result;
        let mut content = vec![ContentBlock::text(result.stdout.clone())];
        if !result.is_ok() && !result.stderr.is_empty() {
            content.push(ContentBlock::text(result.stderr.clone()));
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
        Ok(reply.into())
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
