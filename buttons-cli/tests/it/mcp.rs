//! `buttons mcp`: the real binary as an MCP server over stdio, driven by
//! rmcp's client (and, where Node and the MCP inspector are installed, by the
//! official inspector's command-line mode).

use std::io::{Read, Write};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use buttons_http::test_support::Server;
use rmcp::model::{CallToolRequestParams, CallToolResult, ClientConfig};
use rmcp::service::{NotificationContext, RoleClient, RunningService};
use rmcp::transport::{ConfigureCommandExt as _, TokioChildProcess};
use rmcp::{ClientHandler, ServiceExt as _};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::Sandbox;

/// A client that counts `notifications/tools/list_changed`.
#[derive(Clone, Default)]
pub(crate) struct Client {
    pub(crate) list_changed: Arc<Notify>,
}

impl ClientHandler for Client {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::default()
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.list_changed.notify_one();
    }
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn connect(sandbox: &Sandbox, client: Client) -> RunningService<RoleClient, Client> {
    connect_with(sandbox, client, &["mcp"]).await
}

/// Starts `buttons ARGS` (an `mcp` command line) as the client's server.
pub(crate) async fn connect_with<C: ClientHandler>(
    sandbox: &Sandbox,
    client: C,
    args: &[&str],
) -> RunningService<RoleClient, C> {
    let std_cmd = sandbox.cmd(args);
    let cmd = tokio::process::Command::from(std_cmd);
    let transport = TokioChildProcess::new(cmd.configure(|c| {
        c.stderr(Stdio::null());
    }))
    .unwrap();
    client.serve(transport).await.unwrap()
}

pub(crate) fn call(name: &str, args: Value) -> CallToolRequestParams {
    let Value::Object(map) = args else {
        panic!("arguments are an object")
    };
    CallToolRequestParams::new(name.to_owned()).with_arguments(map)
}

/// The per-button tools of a tool list (the meta-tools left out).
pub(crate) fn button_tools(tools: Vec<rmcp::model::Tool>) -> Vec<rmcp::model::Tool> {
    tools
        .into_iter()
        .filter(|t| !t.name.starts_with("buttons_"))
        .collect()
}

pub(crate) fn text_of(result: &CallToolResult) -> String {
    serde_json::to_value(&result.content)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap_or_default().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A sandbox with an enabled code button taking typed arguments, a disabled
/// one, and an enabled slow one.
pub(crate) fn sandbox_with_buttons() -> Sandbox {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "greet",
        "--mcp",
        "-d",
        "Greets someone",
        "--arg",
        "who:string:required",
        "--arg",
        "times:int:optional",
        "--arg",
        "loud:bool:optional",
        "--arg",
        "tone:enum:optional:warm|dry",
        "--code",
        "printf 'hello %s x%s %s %s' \"$BUTTONS_ARG_WHO\" \"${BUTTONS_ARG_TIMES:-1}\" \"${BUTTONS_ARG_LOUD:-}\" \"${BUTTONS_ARG_TONE:-}\"",
    ]);
    std::fs::write(
        sb.data().join("buttons/greet/AGENTS.md"),
        "Use this to greet people politely.\n",
    )
    .unwrap();
    sb.ok(&["create", "hidden", "--code", "echo hidden"]);
    sb.ok(&[
        "create",
        "slow",
        "--mcp",
        "--timeout",
        "1",
        "--code",
        "sleep 5",
    ]);
    sb
}

#[test]
fn lists_only_enabled_buttons_with_their_schema() {
    let sb = sandbox_with_buttons();
    runtime().block_on(async {
        let client = connect(&sb, Client::default()).await;
        let tools = button_tools(client.list_all_tools().await.unwrap());
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(names, ["greet", "slow"]);
        let greet = &tools[0];
        let description = greet.description.as_deref().unwrap();
        assert!(description.starts_with("Greets someone"), "{description}");
        assert!(
            description.contains("greet people politely"),
            "{description}"
        );
        let mut schema = Value::Object((*greet.input_schema).clone());
        // Every tool takes an optional idempotency key.
        let key = schema["properties"]
            .as_object_mut()
            .unwrap()
            .remove("idempotency_key")
            .unwrap();
        assert_eq!(key["type"], "string");
        assert_eq!(
            schema,
            json!({
                "type": "object",
                "properties": {
                    "who": {"type": "string"},
                    "times": {"type": "integer"},
                    "loud": {"type": "boolean"},
                    "tone": {"type": "string", "enum": ["warm", "dry"]},
                },
                "required": ["who"],
                "additionalProperties": false,
            })
        );
        // `slow` has no description: one is made from its kind and arguments.
        // Its scaffold AGENTS.md is not real content: no notes added.
        assert_eq!(
            tools[1].description.as_deref(),
            Some("Runs the shell script of `slow`; no arguments")
        );
        client.cancel().await.unwrap();
    });
}

#[test]
fn calls_a_code_button_and_records_the_run() {
    let sb = sandbox_with_buttons();
    runtime().block_on(async {
        let client = connect(&sb, Client::default()).await;
        let args = json!({"who": "Ada; rm -rf ~", "times": 3, "loud": true, "tone": "dry"});
        let result = client.call_tool(call("greet", args)).await.unwrap();
        assert_ne!(result.is_error, Some(true), "{result:?}");
        assert!(text_of(&result).contains("hello Ada; rm -rf ~ x3 true dry"));
        let structured = result.structured_content.unwrap();
        assert_eq!(structured["status"], "ok");
        assert_eq!(structured["button"], "greet");
        assert_eq!(structured["args"]["times"], "3");
        // The button's AGENTS.md holds real notes: attached as the prompt.
        assert!(structured["prompt"].as_str().unwrap().contains("politely"));
        client.cancel().await.unwrap();
    });
    let history = sb.ok(&["history", "greet"]);
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
}

#[test]
fn argument_errors_are_tool_errors_naming_the_argument() {
    let sb = sandbox_with_buttons();
    runtime().block_on(async {
        let client = connect(&sb, Client::default()).await;
        for (args, code, needle) in [
            (
                json!({"who": "x", "times": "many"}),
                "VALIDATION_ERROR",
                "times",
            ),
            (
                json!({"who": "x", "times": 1.5}),
                "VALIDATION_ERROR",
                "times",
            ),
            (
                json!({"who": "x", "loud": "perhaps"}),
                "VALIDATION_ERROR",
                "loud",
            ),
            (
                json!({"who": "x", "tone": "hot"}),
                "VALIDATION_ERROR",
                "tone",
            ),
            (json!({"who": "x", "extra": 1}), "VALIDATION_ERROR", "extra"),
            (json!({"times": 2}), "MISSING_ARG", "who"),
        ] {
            let result = client.call_tool(call("greet", args.clone())).await.unwrap();
            assert_eq!(result.is_error, Some(true), "{args}");
            let structured = result.structured_content.clone().unwrap();
            assert_eq!(structured["code"], code, "{args}: {structured}");
            assert!(
                text_of(&result).contains(needle),
                "{args}: {}",
                text_of(&result)
            );
        }
        // The server is still alive and well after all that.
        let ok = client
            .call_tool(call("greet", json!({"who": "y"})))
            .await
            .unwrap();
        assert_ne!(ok.is_error, Some(true));
        client.cancel().await.unwrap();
    });
    // Refused calls ran nothing, so recorded nothing; the good one did.
    assert_eq!(sb.ok(&["history", "greet"]).as_array().unwrap().len(), 1);
}

#[test]
fn a_timeout_is_a_tool_error_and_a_record() {
    let sb = sandbox_with_buttons();
    runtime().block_on(async {
        let client = connect(&sb, Client::default()).await;
        let result = client.call_tool(call("slow", json!({}))).await.unwrap();
        assert_eq!(result.is_error, Some(true));
        let structured = result.structured_content.unwrap();
        assert_eq!(structured["status"], "timeout");
        assert_eq!(structured["error_type"], "TIMEOUT");
        client.cancel().await.unwrap();
    });
    let history = sb.ok(&["history", "slow"]);
    assert_eq!(history[0]["status"], "timeout", "{history}");
}

#[test]
fn disabled_buttons_are_neither_listed_nor_callable() {
    let sb = sandbox_with_buttons();
    runtime().block_on(async {
        let client = connect(&sb, Client::default()).await;
        let refused = client.call_tool(call("hidden", json!({}))).await;
        assert!(refused.is_err(), "{refused:?}");
        let unknown = client.call_tool(call("no-such-button", json!({}))).await;
        assert!(unknown.is_err(), "{unknown:?}");
        client.cancel().await.unwrap();
    });
    assert!(sb.ok(&["history", "hidden"]).as_array().unwrap().is_empty());
}

#[test]
fn enable_and_disable_keep_unknown_fields() {
    let sb = sandbox_with_buttons();
    let spec = sb.data().join("buttons/hidden/button.json");
    let mut json: Value = serde_json::from_slice(&std::fs::read(&spec).unwrap()).unwrap();
    json["triggers"] = json!([{"kind": "cron", "spec": "@daily"}]);
    json["from_the_future"] = json!({"keep": [1, 2]});
    std::fs::write(&spec, serde_json::to_vec_pretty(&json).unwrap()).unwrap();

    let data = sb.ok(&["mcp", "enable", "Hidden"]);
    assert_eq!(data["mcp_enabled"], true);
    let after: Value = serde_json::from_slice(&std::fs::read(&spec).unwrap()).unwrap();
    assert_eq!(after["mcp_enabled"], true);
    assert_eq!(after["triggers"], json["triggers"]);
    assert_eq!(after["from_the_future"], json["from_the_future"]);

    sb.ok(&["mcp", "disable", "hidden"]);
    let after: Value = serde_json::from_slice(&std::fs::read(&spec).unwrap()).unwrap();
    assert_eq!(after["mcp_enabled"], false);
    assert_eq!(after["from_the_future"], json["from_the_future"]);

    sb.err(&["mcp", "enable", "nope"], "NOT_FOUND");
}

#[test]
fn the_tool_list_follows_the_data_directory() {
    let sb = sandbox_with_buttons();
    let client = Client::default();
    let changed = client.list_changed.clone();
    runtime().block_on(async {
        let client = connect(&sb, client).await;
        assert_eq!(
            button_tools(client.list_all_tools().await.unwrap()).len(),
            2
        );

        sb.ok(&["create", "fresh", "--mcp", "--code", "echo fresh"]);
        tokio::time::timeout(Duration::from_secs(10), changed.notified())
            .await
            .expect("notifications/tools/list_changed after a create");
        let names: Vec<String> = button_tools(client.list_all_tools().await.unwrap())
            .iter()
            .map(|t| t.name.to_string())
            .collect();
        assert_eq!(names, ["fresh", "greet", "slow"]);
        let result = client.call_tool(call("fresh", json!({}))).await.unwrap();
        assert_eq!(text_of(&result).trim(), "fresh");

        sb.ok(&["delete", "greet"]);
        tokio::time::timeout(Duration::from_secs(10), changed.notified())
            .await
            .expect("notifications/tools/list_changed after a delete");
        assert_eq!(
            button_tools(client.list_all_tools().await.unwrap()).len(),
            2
        );
        client.cancel().await.unwrap();
    });
}

#[test]
fn calls_an_http_button() {
    let sb = Sandbox::new();
    let server = Server::fixed(
        "127.0.0.1",
        200,
        &[("Content-Type", "application/json")],
        br#"{"temp": 21}"#,
    );
    let url = server.url("/weather/{{city}}?units={{units}}");
    sb.ok(&[
        "create",
        "weather",
        "--mcp",
        "--url",
        &url,
        "--allow-private-networks",
        "--arg",
        "city:string:required",
        "--arg",
        "units:enum:optional:metric|imperial",
    ]);
    runtime().block_on(async {
        let client = connect(&sb, Client::default()).await;
        let args = json!({"city": "São Paulo/../x", "units": "metric"});
        let result = client.call_tool(call("weather", args)).await.unwrap();
        assert_ne!(result.is_error, Some(true), "{result:?}");
        assert_eq!(text_of(&result), r#"{"temp": 21}"#);
        let structured = result.structured_content.unwrap();
        assert_eq!(structured["http_status_code"], 200);
        client.cancel().await.unwrap();
    });
    let [request] = &server.requests()[..] else {
        panic!("expected one request: {:?}", server.requests());
    };
    assert!(
        request
            .raw
            .starts_with(b"GET /weather/S%C3%A3o%20Paulo%2F..%2Fx?units=metric HTTP/1.1\r\n"),
        "{}",
        request.request_line
    );
}

#[test]
fn an_http_button_cannot_reach_loopback_without_the_opt_in() {
    let sb = Sandbox::new();
    sb.ok(&["create", "local", "--mcp", "--url", "http://127.0.0.1:9/x"]);
    runtime().block_on(async {
        let client = connect(&sb, Client::default()).await;
        let result = client.call_tool(call("local", json!({}))).await.unwrap();
        assert_eq!(result.is_error, Some(true));
        let structured = result.structured_content.clone().unwrap();
        let code = structured["error_type"]
            .as_str()
            .or(structured["code"].as_str());
        assert_eq!(code, Some("VALIDATION_ERROR"), "{structured}");
        assert!(text_of(&result).contains("BUTTONS_ALLOW_PRIVATE_NETWORKS"));
        client.cancel().await.unwrap();
    });
}

/// `buttons mcp` driven by hand: spawned with piped stdio, initialized, and
/// ready for raw JSON-RPC lines on the returned stdin.
pub(crate) fn raw_session(sb: &Sandbox) -> (std::process::Child, std::process::ChildStdin) {
    let mut child = sb
        .cmd(&["mcp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for message in [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    ] {
        writeln!(stdin, "{message}").unwrap();
    }
    (child, stdin)
}

#[test]
fn stdout_carries_only_protocol_messages() {
    let sb = sandbox_with_buttons();
    let (mut child, mut stdin) = raw_session(&sb);
    for message in [
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": {"name": "greet", "arguments": {"who": "raw"}}}),
    ] {
        writeln!(stdin, "{message}").unwrap();
    }
    // Give the call time to finish, then close stdin: the server exits.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains("\"id\":3") && std::time::Instant::now() < deadline {
        let n = stdout.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    drop(stdin);
    stdout.read_to_string(&mut seen).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut ids = Vec::new();
    for line in seen.lines() {
        let message: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("non-protocol line on stdout ({e}): {line:?}"));
        assert_eq!(message["jsonrpc"], "2.0", "{line}");
        if let Some(id) = message["id"].as_i64() {
            ids.push(id);
        }
    }
    assert_eq!(ids, [1, 2, 3], "{seen}");
    assert!(seen.contains("hello raw"), "{seen}");
}

/// The official MCP inspector's command-line mode (`.ci/run` installs it
/// before tests lose the network). Without Node or the inspector this test
/// fails under `CI=true` and otherwise says on the terminal that it skipped.
#[test]
fn the_official_inspector_lists_and_calls_tools() {
    let Some(inspector) = inspector() else {
        return;
    };
    let sb = sandbox_with_buttons();
    let bin = env!("CARGO_BIN_EXE_buttons");
    let inspect = |extra: &[&str]| {
        let mut cmd = std::process::Command::new(&inspector);
        // The inspector hands the server only the variables given with -e.
        cmd.args(["--cli", "-e"])
            .arg(format!("BUTTONS_HOME={}", sb.data().display()))
            .args(["-e", &format!("HOME={}", sb.home().display())])
            .args([bin, "mcp"])
            .args(extra)
            .env("HOME", sb.home());
        let output = cmd.output().unwrap();
        assert!(
            output.status.success(),
            "inspector {extra:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice::<Value>(&output.stdout).unwrap()
    };
    let listed = inspect(&["--method", "tools/list"]);
    let names: Vec<&str> = listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .filter(|n| !n.starts_with("buttons_"))
        .collect();
    assert_eq!(names, ["greet", "slow"]);
    let called = inspect(&[
        "--method",
        "tools/call",
        "--tool-name",
        "greet",
        "--tool-arg",
        "who=inspector",
    ]);
    assert!(called.to_string().contains("hello inspector"), "{called}");
    // The inspector sends `who=1` as the number 1: a string argument takes it.
    let called = inspect(&[
        "--method",
        "tools/call",
        "--tool-name",
        "greet",
        "--tool-arg",
        "who=1",
    ]);
    assert!(called.to_string().contains("hello 1 x1"), "{called}");
    let listed = inspect(&["--method", "tools/list"]);
    let info = listed.to_string();
    assert!(info.contains("buttons_press"), "{info}");
}

/// The inspector's launcher. When it cannot run, the reason fails the test
/// under `CI=true` (CI must not pass by not testing) and is otherwise shown as
/// a `skipped:` line, and the test returns early.
fn inspector() -> Option<std::path::PathBuf> {
    let why = match find_inspector() {
        Ok(launcher) => return Some(launcher),
        Err(why) => why,
    };
    let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    assert!(!ci, "the MCP inspector cannot run under CI=true: {why}");
    skipped(&why);
    None
}

/// Where the inspector is installed: `$CARGO_TARGET_DIR/mcp-inspector` when
/// that is set (a relative value is taken from the workspace root), else the
/// workspace's `target/mcp-inspector`, as `.ci/run` installs it.
fn find_inspector() -> Result<std::path::PathBuf, String> {
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Err("Node is not installed, so the MCP inspector cannot run".to_owned());
    }
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("buttons-cli sits in the workspace")
        .to_path_buf();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| workspace.join("target"), |d| workspace.join(d));
    let root = target.join("mcp-inspector");
    let launcher = root.join("node_modules/.bin/mcp-inspector");
    if launcher.exists() {
        Ok(launcher)
    } else {
        Err(format!(
            "the MCP inspector is not installed at {}; install it with \
             `npm install --prefix {} @modelcontextprotocol/inspector@2.12.0`",
            root.display(),
            root.display()
        ))
    }
}

/// Says a test skipped, where `cargo test` shows it even while it captures
/// test output: libtest captures `print!`/`eprint!`, not writes to the stderr
/// handle. (Not a fresh `/dev/stderr`: on a log file opened without append,
/// cargo's own output would overwrite the line.)
fn skipped(why: &str) {
    let line = format!("skipped: the_official_inspector_lists_and_calls_tools: {why}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Whether `pid` names a live (not zombie) process.
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

#[test]
fn a_cancelled_call_ends_the_press_group_and_records_it() {
    let sb = Sandbox::new();
    let pids = sb.path().join("pids");
    sb.ok(&[
        "create",
        "long",
        "--mcp",
        "--code",
        &format!(
            "sleep 30 & echo $! > '{p}.tmp'; echo $$ >> '{p}.tmp'; mv '{p}.tmp' '{p}'; wait",
            p = pids.display()
        ),
    ]);
    let (mut child, mut stdin) = raw_session(&sb);
    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "long", "arguments": {}}});
    writeln!(stdin, "{call}").unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !pids.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the script never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let text = std::fs::read_to_string(&pids).unwrap();
    let group: Vec<&str> = text.lines().collect();
    assert!(group.iter().all(|p| alive(p)));

    let cancelled = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 7, "reason": "the user changed their mind"}});
    writeln!(stdin, "{cancelled}").unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while group.iter().any(|p| alive(p)) {
        assert!(
            std::time::Instant::now() < deadline,
            "the press group outlived the cancellation"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The cancelled press is still recorded.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let record = loop {
        let history = sb.ok(&["history", "long"]);
        if let Some(record) = history.as_array().unwrap().first() {
            break record.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no record of the cancelled press"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(record["status"], "error", "{record}");
    assert_eq!(record["error_type"], "CANCELLED", "{record}");
    assert!(
        record["stderr"].as_str().unwrap().contains("interrupted"),
        "{record}"
    );
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn an_idempotency_key_argument_presses_once_per_tool() {
    let sb = Sandbox::new();
    let runs = sb.path().join("runs");
    for name in ["pay", "refund"] {
        sb.ok(&[
            "create",
            name,
            "--mcp",
            "--arg",
            "n:int:required",
            "--code",
            &format!(
                "echo run >> '{}'; echo \"n=$BUTTONS_ARG_N\"",
                runs.display()
            ),
        ]);
    }
    runtime().block_on(async {
        let client = connect(&sb, Client::default()).await;
        let args = json!({"n": 1, "idempotency_key": "k1"});
        let first = client.call_tool(call("pay", args.clone())).await.unwrap();
        let first = first.structured_content.unwrap();
        assert_eq!(first["status"], "ok", "{first}");
        assert!(first.get("replayed").is_none());
        let again = client.call_tool(call("pay", args.clone())).await.unwrap();
        let mut again = again.structured_content.unwrap();
        assert_eq!(
            again.as_object_mut().unwrap().remove("replayed"),
            Some(json!(true))
        );
        assert_eq!(again, first);
        // Scoped to the tool: the same key on another one runs it.
        let other = client.call_tool(call("refund", args)).await.unwrap();
        assert!(other.structured_content.unwrap().get("replayed").is_none());
        // Other arguments with the key are refused.
        let clash = client
            .call_tool(call("pay", json!({"n": 2, "idempotency_key": "k1"})))
            .await
            .unwrap();
        assert_eq!(clash.is_error, Some(true));
        assert_eq!(
            clash.structured_content.unwrap()["code"],
            "VALIDATION_ERROR"
        );
        client.cancel().await.unwrap();
    });
    assert_eq!(std::fs::read_to_string(&runs).unwrap().lines().count(), 2);
    assert_eq!(sb.ok(&["history", "pay"]).as_array().unwrap().len(), 1);
}

#[test]
fn concurrent_tool_calls_honour_a_shared_queue() {
    let sb = Sandbox::new();
    let log = sb.path().join("log");
    for name in ["qa", "qb"] {
        sb.ok(&[
            "create",
            name,
            "--mcp",
            "--code",
            &crate::queues::logging_script(&log, "0.1"),
        ]);
        crate::queues::set_queue(&sb, name, json!({"name": "shared", "concurrency": 1}));
    }
    runtime().block_on(async {
        let client = Arc::new(connect(&sb, Client::default()).await);
        let calls: Vec<_> = (0..10)
            .map(|i| {
                let client = Arc::clone(&client);
                tokio::spawn(async move {
                    let name = if i % 2 == 0 { "qa" } else { "qb" };
                    client.call_tool(call(name, json!({}))).await.unwrap()
                })
            })
            .collect();
        for c in calls {
            let result = c.await.unwrap();
            assert_ne!(result.is_error, Some(true), "{result:?}");
        }
    });
    let (most, runs) = crate::queues::max_alive(&std::fs::read_to_string(&log).unwrap());
    assert_eq!(runs, 10);
    assert_eq!(most, 1, "two presses of the queue ran at once");
}
