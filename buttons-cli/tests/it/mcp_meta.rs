//! `buttons mcp` for agents: server identity, the Go tool's meta-tools
//! (`buttons_list`, `buttons_inspect`, `buttons_press`, `buttons_create`),
//! generated descriptions, the JSON typing rule, labelled failures and the
//! call limits, through rmcp's client driving the real binary.

use std::io::{BufRead as _, BufReader, Write as _};
use std::time::Duration;

use serde_json::{Value, json};

use crate::Sandbox;
use crate::mcp::{Client, call, connect_with, raw_session, runtime, sandbox_with_buttons, text_of};

fn names(tools: &[rmcp::model::Tool]) -> Vec<String> {
    tools.iter().map(|t| t.name.to_string()).collect()
}

#[test]
fn the_server_introduces_itself_as_buttons() {
    let sb = sandbox_with_buttons();
    runtime().block_on(async {
        let client = connect_with(&sb, Client::default(), &["mcp"]).await;
        let info = client.peer_info().unwrap();
        let server = info.server_info.clone().unwrap();
        assert_eq!(server.name, "buttons");
        assert_eq!(server.version, env!("CARGO_PKG_VERSION"));
        let instructions = info.instructions.as_deref().unwrap();
        for tool in ["buttons_list", "buttons_inspect", "buttons_press"] {
            assert!(instructions.contains(tool), "{instructions}");
        }
        assert!(!instructions.contains("buttons_create"), "{instructions}");
        client.cancel().await.unwrap();
    });
}

#[test]
fn meta_tools_list_inspect_and_press_enabled_buttons_only() {
    let sb = sandbox_with_buttons();
    runtime().block_on(async {
        let client = connect_with(&sb, Client::default(), &["mcp"]).await;
        let tools = client.list_all_tools().await.unwrap();
        let all = names(&tools);
        for meta in ["buttons_list", "buttons_inspect", "buttons_press"] {
            assert!(all.contains(&meta.to_owned()), "{all:?}");
        }
        assert!(!all.contains(&"buttons_create".to_owned()), "{all:?}");
        // Per-button tools stay.
        assert!(all.contains(&"greet".to_owned()), "{all:?}");

        let listed = client
            .call_tool(call("buttons_list", json!({})))
            .await
            .unwrap();
        assert_ne!(listed.is_error, Some(true), "{listed:?}");
        let listed = listed.structured_content.unwrap();
        let buttons = listed["buttons"].as_array().unwrap();
        let listed_names: Vec<&str> = buttons
            .iter()
            .map(|b| b["name"].as_str().unwrap())
            .collect();
        assert_eq!(listed_names, ["greet", "slow"], "{listed}");
        assert_eq!(buttons[0]["description"], "Greets someone");
        assert_eq!(buttons[0]["args"][0]["name"], "who");
        assert_eq!(buttons[0]["args"][0]["required"], true);
        assert_eq!(
            buttons[1]["description"],
            "Runs the shell script of `slow`; no arguments"
        );

        let inspected = client
            .call_tool(call("buttons_inspect", json!({"name": "greet"})))
            .await
            .unwrap();
        assert_ne!(inspected.is_error, Some(true), "{inspected:?}");
        let inspected = inspected.structured_content.unwrap();
        assert_eq!(inspected["spec"]["name"], "greet");
        assert_eq!(inspected["spec"]["mcp_enabled"], true);
        assert!(
            inspected["agents_md"]
                .as_str()
                .unwrap()
                .contains("politely"),
            "{inspected}"
        );
        assert_eq!(inspected["last_run"], Value::Null);

        let pressed = client
            .call_tool(call(
                "buttons_press",
                json!({"name": "greet", "args": {"who": "meta", "times": "2"}}),
            ))
            .await
            .unwrap();
        assert_ne!(pressed.is_error, Some(true), "{pressed:?}");
        assert!(text_of(&pressed).contains("hello meta x2"), "{pressed:?}");
        assert_eq!(pressed.structured_content.unwrap()["status"], "ok");

        let inspected = client
            .call_tool(call("buttons_inspect", json!({"name": "greet"})))
            .await
            .unwrap()
            .structured_content
            .unwrap();
        assert_eq!(inspected["last_run"]["status"], "ok", "{inspected}");
        assert_eq!(inspected["last_run"]["args"]["who"], "meta", "{inspected}");

        // A button that is not MCP-enabled is out of reach of every meta-tool.
        for (tool, args) in [
            ("buttons_press", json!({"name": "hidden"})),
            ("buttons_inspect", json!({"name": "hidden"})),
            ("buttons_press", json!({"name": "no-such-button"})),
        ] {
            let refused = client.call_tool(call(tool, args.clone())).await.unwrap();
            assert_eq!(refused.is_error, Some(true), "{tool} {args}");
            let error = refused.structured_content.unwrap();
            assert_eq!(error["code"], "NOT_FOUND", "{tool} {args}: {error}");
            assert!(
                error["hint"].as_str().unwrap().contains("buttons_list"),
                "{error}"
            );
        }
        // Bad meta-tool input: a code and a hint written for a tool call.
        for (args, code, needle) in [
            (json!({}), "MISSING_ARG", "add the argument `name`"),
            (
                json!({"name": "greet", "args": []}),
                "VALIDATION_ERROR",
                "as an object",
            ),
            (
                json!({"name": "greet"}),
                "MISSING_ARG",
                "pass the argument `who`",
            ),
        ] {
            let refused = client
                .call_tool(call("buttons_press", args.clone()))
                .await
                .unwrap();
            assert_eq!(refused.is_error, Some(true), "{args}");
            let error = refused.structured_content.unwrap();
            assert_eq!(error["code"], code, "{args}: {error}");
            let hint = error["hint"].as_str().unwrap();
            assert!(hint.contains(needle), "{args}: {hint}");
            assert!(!hint.contains("--"), "a CLI flag in a tool hint: {hint}");
        }
        client.cancel().await.unwrap();
    });
    assert!(sb.ok(&["history", "hidden"]).as_array().unwrap().is_empty());
    assert_eq!(sb.ok(&["history", "greet"]).as_array().unwrap().len(), 1);
}

#[test]
fn buttons_create_is_absent_without_allow_create() {
    let sb = sandbox_with_buttons();
    runtime().block_on(async {
        let client = connect_with(&sb, Client::default(), &["mcp"]).await;
        let tools = client.list_all_tools().await.unwrap();
        assert!(!names(&tools).contains(&"buttons_create".to_owned()));
        let refused = client
            .call_tool(call(
                "buttons_create",
                json!({"name": "sneaky", "code": "echo sneaky"}),
            ))
            .await;
        assert!(refused.is_err(), "{refused:?}");
        client.cancel().await.unwrap();
    });
    assert!(!sb.data().join("buttons/sneaky").exists());
}

#[test]
fn a_created_button_is_not_pressable_until_a_human_enables_it() {
    let sb = sandbox_with_buttons();
    runtime().block_on(async {
        let client = connect_with(&sb, Client::default(), &["mcp", "--allow-create"]).await;
        let tools = client.list_all_tools().await.unwrap();
        assert!(names(&tools).contains(&"buttons_create".to_owned()));
        let created = client
            .call_tool(call(
                "buttons_create",
                json!({
                    "name": "made",
                    "code": "printf 'made %s' \"$BUTTONS_ARG_X\"",
                    "args": ["x:string:required"],
                }),
            ))
            .await
            .unwrap();
        assert_ne!(created.is_error, Some(true), "{created:?}");
        let created = created.structured_content.unwrap();
        assert_eq!(created["mcp_enabled"], false, "{created}");
        assert!(
            created["next"]
                .as_str()
                .unwrap()
                .contains("buttons mcp enable made")
        );
        let press = || call("buttons_press", json!({"name": "made", "args": {"x": 1}}));
        let refused = client.call_tool(press()).await.unwrap();
        assert_eq!(refused.is_error, Some(true), "{refused:?}");
        assert_eq!(refused.structured_content.unwrap()["code"], "NOT_FOUND");
        assert!(
            client
                .call_tool(call("made", json!({"x": "1"})))
                .await
                .is_err()
        );

        // An HTTP button, and refused input.
        let http = client
            .call_tool(call(
                "buttons_create",
                json!({"name": "fetch", "url": "https://api.example.com/items/{{id}}",
                       "method": "POST", "args": ["id:int:required"]}),
            ))
            .await
            .unwrap();
        assert_ne!(http.is_error, Some(true), "{http:?}");
        let spec = &http.structured_content.unwrap()["spec"];
        assert_eq!(spec["url"], "https://api.example.com/items/{{id}}");
        assert_eq!(spec["method"], "POST");
        assert_eq!(spec["mcp_enabled"], false);
        for bad in [
            json!({"name": "both", "code": "true", "url": "https://example.com/"}),
            json!({"name": "neither"}),
            json!({"name": "badarg", "code": "true", "args": ["x:float:required"]}),
            json!({"name": "made", "code": "true"}),
            json!({"name": "badurl", "url": "ftp://example.com/"}),
            json!({"name": "badhdr", "url": "https://example.com/", "headers": {"bad name": "x"}}),
        ] {
            let refused = client
                .call_tool(call("buttons_create", bad.clone()))
                .await
                .unwrap();
            assert_eq!(refused.is_error, Some(true), "{bad}");
            let error = refused.structured_content.unwrap();
            let hint = error["hint"].as_str().unwrap_or_default();
            assert!(!hint.contains("--"), "a CLI flag in a tool hint: {error}");
        }

        sb.ok(&["mcp", "enable", "made"]);
        let pressed = client.call_tool(press()).await.unwrap();
        assert_ne!(pressed.is_error, Some(true), "{pressed:?}");
        assert_eq!(text_of(&pressed), "made 1");
        client.cancel().await.unwrap();
    });
    assert!(!sb.data().join("buttons/both").exists());
    assert!(!sb.data().join("buttons/neither").exists());
}

#[test]
fn trusted_creation_is_pressable_at_once() {
    let sb = Sandbox::new();
    runtime().block_on(async {
        let client = connect_with(&sb, Client::default(), &["mcp", "--allow-create=trusted"]).await;
        let created = client
            .call_tool(call(
                "buttons_create",
                json!({"name": "quick", "code": "echo quick", "runtime": "bash"}),
            ))
            .await
            .unwrap();
        assert_eq!(created.structured_content.unwrap()["mcp_enabled"], true);
        let pressed = client
            .call_tool(call("buttons_press", json!({"name": "quick"})))
            .await
            .unwrap();
        assert_ne!(pressed.is_error, Some(true), "{pressed:?}");
        assert_eq!(text_of(&pressed).trim(), "quick");
        client.cancel().await.unwrap();
    });
}

/// One rule for JSON arguments, the same through a button's own tool and
/// `buttons_press`.
#[test]
fn json_arguments_follow_one_typing_rule() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "typed",
        "--mcp",
        "--arg",
        "s:string:optional",
        "--arg",
        "n:int:optional",
        "--arg",
        "b:bool:optional",
        "--code",
        "printf '%s|%s|%s' \"${BUTTONS_ARG_S:-}\" \"${BUTTONS_ARG_N:-}\" \"${BUTTONS_ARG_B:-}\"",
    ]);
    let accepted = [
        (json!({"s": 1}), "1||"),
        (json!({"s": "x y"}), "x y||"),
        (json!({"s": true}), "true||"),
        (json!({"s": 1.5}), "1.5||"),
        (json!({"n": 3}), "|3|"),
        (json!({"n": "3"}), "|3|"),
        (json!({"n": -4}), "|-4|"),
        (json!({"b": true}), "||true"),
        (json!({"b": "false"}), "||false"),
    ];
    let refused = [
        (json!({"s": [1]}), "\"s\" is a string"),
        (json!({"s": {"a": 1}}), "\"s\" is a string"),
        (json!({"n": "x"}), "\"n\""),
        (json!({"n": 1.5}), "\"n\" is an int"),
        (json!({"n": true}), "\"n\" is an int"),
        (json!({"b": 1}), "\"b\" is a bool"),
        (json!({"b": "yes"}), "\"b\" is a bool"),
    ];
    runtime().block_on(async {
        let client = connect_with(&sb, Client::default(), &["mcp"]).await;
        for via_meta in [false, true] {
            let request = |args: &Value| {
                if via_meta {
                    call("buttons_press", json!({"name": "typed", "args": args}))
                } else {
                    call("typed", args.clone())
                }
            };
            for (args, out) in &accepted {
                let result = client.call_tool(request(args)).await.unwrap();
                assert_ne!(result.is_error, Some(true), "{args}: {result:?}");
                assert_eq!(text_of(&result), *out, "{args} (meta: {via_meta})");
            }
            for (args, needle) in &refused {
                let result = client.call_tool(request(args)).await.unwrap();
                assert_eq!(result.is_error, Some(true), "{args} (meta: {via_meta})");
                let error = result.structured_content.clone().unwrap();
                assert_eq!(error["code"], "VALIDATION_ERROR", "{args}: {error}");
                assert!(text_of(&result).contains(needle), "{args}: {error}");
            }
        }
        client.cancel().await.unwrap();
    });
}

#[test]
fn a_failed_press_is_a_tool_error_with_labelled_blocks() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "broken",
        "--mcp",
        "--code",
        "echo partial; echo 'disk full' >&2; exit 3",
    ]);
    runtime().block_on(async {
        let client = connect_with(&sb, Client::default(), &["mcp"]).await;
        for request in [
            call("broken", json!({})),
            call("buttons_press", json!({"name": "broken"})),
        ] {
            let result = client.call_tool(request).await.unwrap();
            assert_eq!(result.is_error, Some(true), "{result:?}");
            let texts: Vec<String> = serde_json::to_value(&result.content)
                .unwrap()
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["text"].as_str().unwrap().to_owned())
                .collect();
            assert!(texts.contains(&"exit code 3".to_owned()), "{texts:?}");
            assert!(
                texts.contains(&"stderr: disk full\n".to_owned()),
                "{texts:?}"
            );
            assert!(texts.contains(&"stdout: partial\n".to_owned()), "{texts:?}");
            let structured = result.structured_content.unwrap();
            assert_eq!(structured["exit_code"], 3);
            assert_eq!(structured["status"], "error");
            assert_eq!(structured["error_type"], "SCRIPT_ERROR");
            assert_eq!(structured["stderr"], "disk full\n");
        }
        client.cancel().await.unwrap();
    });
}

/// Six calls at once to a button that notes how many of its presses run:
/// never more than four.
#[test]
fn at_most_four_tool_calls_run_at_once() {
    let sb = Sandbox::new();
    let running = sb.path().join("running");
    let seen = sb.path().join("seen");
    std::fs::create_dir(&running).unwrap();
    sb.ok(&[
        "create",
        "busy",
        "--mcp",
        "--code",
        &format!(
            "touch '{r}/'$$; ls '{r}' | wc -l >> '{s}'; sleep 2; rm '{r}/'$$",
            r = running.display(),
            s = seen.display()
        ),
    ]);
    runtime().block_on(async {
        let client = connect_with(&sb, Client::default(), &["mcp"]).await;
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..6 {
            let peer = client.peer().clone();
            calls.spawn(async move { peer.call_tool(call("busy", json!({}))).await });
        }
        while let Some(done) = calls.join_next().await {
            let result = done.unwrap().unwrap();
            assert_ne!(result.is_error, Some(true), "{result:?}");
        }
        client.cancel().await.unwrap();
    });
    let counts: Vec<usize> = std::fs::read_to_string(&seen)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(counts.len(), 6, "{counts:?}");
    assert!(counts.iter().all(|c| *c <= 4), "{counts:?}");
}

/// Reads protocol lines until one has `id`, or the deadline passes.
fn response_with_id(lines: &mut impl Iterator<Item = String>, id: &Value) -> Option<Value> {
    for line in lines {
        let message: Value = serde_json::from_str(&line).ok()?;
        if &message["id"] == id {
            return Some(message);
        }
    }
    None
}

#[test]
fn an_oversized_request_gets_an_error_and_the_server_keeps_serving() {
    let sb = sandbox_with_buttons();
    let (mut child, mut stdin) = raw_session(&sb);
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = std::iter::from_fn(|| rx.recv_timeout(Duration::from_secs(30)).ok());
    assert!(
        response_with_id(&mut lines, &json!(1)).is_some(),
        "no initialize answer"
    );
    // 16 MiB of argument in one request.
    let huge = "x".repeat(16 * 1024 * 1024);
    let request = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "greet", "arguments": {"who": huge}}});
    writeln!(stdin, "{request}").unwrap();
    drop(huge);
    let answer = lines.next().expect("an answer to the oversized request");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert!(answer["error"]["code"].is_i64(), "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("4 MiB"),
        "{answer}"
    );
    assert_eq!(answer["id"], 2, "{answer}");
    let next = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "greet", "arguments": {"who": "after"}}});
    writeln!(stdin, "{next}").unwrap();
    let answer = response_with_id(&mut lines, &json!(3)).expect("the server kept serving");
    assert!(answer.to_string().contains("hello after"), "{answer}");
    drop(stdin);
    assert!(child.wait().unwrap().success());
    // Nothing ran for the refused request.
    assert_eq!(sb.ok(&["history", "greet"]).as_array().unwrap().len(), 1);
}

/// Starts a raw session and returns its stdin and a line reader of its stdout.
fn raw_lines(
    sb: &Sandbox,
) -> (
    std::process::Child,
    std::process::ChildStdin,
    impl Iterator<Item = String>,
) {
    let (mut child, stdin) = raw_session(sb);
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let lines = std::iter::from_fn(move || rx.recv_timeout(Duration::from_secs(30)).ok());
    (child, stdin, lines)
}

#[test]
fn progress_lines_become_progress_notifications() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "steps",
        "--mcp",
        "--code",
        "for i in 1 2 3; do printf '{\"pct\": 0.%s, \"msg\": \"step %s\"}\\n' $i $i >> \"$BUTTONS_PROGRESS_PATH\"; sleep 0.3; done; echo done",
    ]);
    let (mut child, mut stdin, mut lines) = raw_lines(&sb);
    assert!(response_with_id(&mut lines, &json!(1)).is_some());
    for (id, name, args) in [
        (2, "steps", json!({})),
        (3, "buttons_press", json!({"name": "steps"})),
    ] {
        let request = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": name, "arguments": args, "_meta": {"progressToken": format!("tok-{id}")}}});
        writeln!(stdin, "{request}").unwrap();
        let mut progress = Vec::new();
        let response = loop {
            let line = lines.next().expect("the server answers");
            let message: Value = serde_json::from_str(&line).unwrap();
            if message["method"] == "notifications/progress" {
                progress.push(message["params"].clone());
            } else if message["id"] == id {
                break message;
            }
        };
        assert_eq!(response["result"]["isError"], false, "{response}");
        assert_eq!(progress.len(), 3, "{progress:?}");
        for (i, p) in progress.iter().enumerate() {
            assert_eq!(p["progressToken"], format!("tok-{id}"), "{p}");
            assert_eq!(p["message"], format!("step {}", i + 1), "{p}");
            let expected = f64::from(u8::try_from(i + 1).unwrap()) / 10.0;
            assert!(
                (p["progress"].as_f64().unwrap() - expected).abs() < 1e-9,
                "{p}"
            );
            assert_eq!(p["total"], 1.0, "{p}");
        }
    }
    // Without a token: no notifications.
    let request = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
        "params": {"name": "steps", "arguments": {}}});
    writeln!(stdin, "{request}").unwrap();
    let first = lines.next().unwrap();
    let first: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["id"], 4, "{first}");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn log_lines_become_logging_notifications_at_the_level_asked_for() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "chatty",
        "--mcp",
        "--code",
        r#"for l in debug:d info:i warning:w; do printf '{"log": "%s", "level": "%s"}\n' "${l#*:}" "${l%%:*}" >> "$BUTTONS_PROGRESS_PATH"; done; echo done"#,
    ]);
    let (mut child, mut stdin, mut lines) = raw_lines(&sb);
    let init = response_with_id(&mut lines, &json!(1)).unwrap();
    assert_eq!(
        init["result"]["capabilities"]["logging"],
        json!({}),
        "{init}"
    );
    // Presses `chatty` (no progressToken) and returns the log messages sent.
    let press =
        |stdin: &mut std::process::ChildStdin, lines: &mut dyn Iterator<Item = String>, id: u64| {
            let request = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "chatty", "arguments": {}}});
            writeln!(stdin, "{request}").unwrap();
            let mut logged = Vec::new();
            loop {
                let line = lines.next().expect("the server answers");
                let message: Value = serde_json::from_str(&line).unwrap();
                if message["method"] == "notifications/message" {
                    let p = &message["params"];
                    assert_eq!(p["logger"], "chatty", "{p}");
                    logged.push(format!(
                        "{}:{}",
                        p["level"].as_str().unwrap(),
                        p["data"].as_str().unwrap()
                    ));
                } else if message["id"] == id {
                    assert_eq!(message["result"]["isError"], false, "{message}");
                    return logged;
                }
            }
        };
    // Until the client sets a level: info and above.
    assert_eq!(press(&mut stdin, &mut lines, 2), ["info:i", "warning:w"]);
    for (id, level, expected) in [
        (3, "debug", &["debug:d", "info:i", "warning:w"][..]),
        (5, "error", &[][..]),
    ] {
        let set = json!({"jsonrpc": "2.0", "id": id, "method": "logging/setLevel",
            "params": {"level": level}});
        writeln!(stdin, "{set}").unwrap();
        let answer = response_with_id(&mut lines, &json!(id)).unwrap();
        assert!(answer.get("error").is_none(), "{answer}");
        assert_eq!(
            press(&mut stdin, &mut lines, id + 1),
            expected,
            "after setLevel {level}"
        );
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn argument_descriptions_in_the_spec_reach_the_schema() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "deploy",
        "--mcp",
        "--arg",
        "env:enum:required:dev|prod",
        "--code",
        "true",
    ]);
    let spec = sb.data().join("buttons/deploy/button.json");
    let mut json: Value = serde_json::from_slice(&std::fs::read(&spec).unwrap()).unwrap();
    json["args"][0]["description"] = json!("Where to deploy");
    std::fs::write(&spec, serde_json::to_vec(&json).unwrap()).unwrap();
    runtime().block_on(async {
        let client = connect_with(&sb, Client::default(), &["mcp"]).await;
        let tools = client.list_all_tools().await.unwrap();
        let deploy = tools.iter().find(|t| t.name == "deploy").unwrap();
        assert_eq!(
            deploy.description.as_deref(),
            Some("Runs the shell script of `deploy`; arguments: env (dev|prod, required)")
        );
        let env = &deploy.input_schema["properties"]["env"];
        assert_eq!(env["description"], "Where to deploy", "{env}");
        assert_eq!(env["enum"], json!(["dev", "prod"]));
        client.cancel().await.unwrap();
    });
    // The description survives an edit of the spec.
    sb.ok(&["mcp", "disable", "deploy"]);
    let json: Value = serde_json::from_slice(&std::fs::read(&spec).unwrap()).unwrap();
    assert_eq!(json["args"][0]["description"], "Where to deploy");
}
