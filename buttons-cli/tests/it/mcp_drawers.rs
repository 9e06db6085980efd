//! Drawers as MCP tools: `buttons mcp enable NAME` on a drawer, its inputs
//! as the tool's schema, a call pressing it, through rmcp's client driving
//! the real binary.

use serde_json::{Value, json};

use crate::Sandbox;
use crate::mcp::{Client, call, connect_with, runtime, text_of};

fn button(s: &Sandbox, name: &str, code: &str, args: &[&str]) {
    let mut argv = vec!["create", name, "--code", code];
    for a in args {
        argv.extend(["--arg", a]);
    }
    s.ok(&argv);
}

/// Writes a drawer.json as a user (or the Go tool) would.
fn write_drawer(s: &Sandbox, spec: &Value) {
    let name = spec["name"].as_str().unwrap().to_owned();
    s.ok(&["drawer", "create", &name]);
    let path = s.data().join("drawers").join(&name).join("drawer.json");
    std::fs::write(path, serde_json::to_string_pretty(spec).unwrap()).unwrap();
}

fn drawer_json(s: &Sandbox, name: &str) -> Value {
    let path = s.data().join("drawers").join(name).join("drawer.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Two buttons chained by the two-step drawer `greeting`; `quiet` (not
/// enabled) and `broken` (its step fails).
fn sandbox_with_drawers() -> Sandbox {
    let s = Sandbox::new();
    s.ok(&["init"]);
    button(
        &s,
        "hello",
        r#"echo "{\"greeting\": \"hi $BUTTONS_ARG_WHO x$BUTTONS_ARG_TIMES\"}""#,
        &["who:string:required", "times:int:required"],
    );
    button(
        &s,
        "shout",
        r#"echo "{\"loud\": \"$BUTTONS_ARG_WORD!\"}""#,
        &["word:string:required"],
    );
    button(&s, "boom", "echo broken >&2; exit 3", &[]);
    write_drawer(
        &s,
        &json!({
            "name": "greeting",
            "description": "Greets loudly",
            "inputs": [
                {"name": "who", "type": "string", "required": true, "description": "Who to greet"},
                {"name": "times", "type": "int", "required": true, "default": 2},
                {"name": "mood", "type": "enum", "values": ["calm", "wild"]},
                {"name": "token", "type": "string", "secret": true, "description": "An API token"},
            ],
            "steps": [
                {"id": "h", "button": "hello", "args": {"who": "${inputs.who}", "times": "${inputs.times}"}},
                {"id": "s", "button": "shout", "args": {"word": "${h.output.greeting}"}},
            ],
            "return": {"said": "${s.output.loud}"},
            "x_kept": {"by": "another tool"},
        }),
    );
    write_drawer(
        &s,
        &json!({"name": "quiet", "steps": [{"id": "h", "button": "shout", "args": {"word": "psst"}}]}),
    );
    write_drawer(
        &s,
        &json!({"name": "broken", "steps": [{"id": "x", "button": "boom"}]}),
    );
    s
}

#[test]
fn mcp_enable_and_disable_write_drawer_json_and_keep_unknown_fields() {
    let s = sandbox_with_drawers();
    let enabled = s.ok(&["mcp", "enable", "greeting"]);
    assert_eq!(
        enabled,
        json!({"drawer": "greeting", "mcp_enabled": true}),
        "{enabled}"
    );
    let spec = drawer_json(&s, "greeting");
    assert_eq!(spec["mcp_enabled"], true, "{spec}");
    assert_eq!(spec["x_kept"], json!({"by": "another tool"}), "{spec}");
    assert_eq!(spec["return"]["said"], "${s.output.loud}", "{spec}");

    s.ok(&["mcp", "disable", "greeting"]);
    let spec = drawer_json(&s, "greeting");
    assert_ne!(spec["mcp_enabled"], true, "{spec}");
    assert_eq!(spec["x_kept"], json!({"by": "another tool"}), "{spec}");

    // Buttons still work the same way, and an unknown name is still refused.
    s.ok(&["mcp", "enable", "hello"]);
    let button: Value =
        serde_json::from_slice(&std::fs::read(s.data().join("buttons/hello/button.json")).unwrap())
            .unwrap();
    assert_eq!(button["mcp_enabled"], true);
    s.err(&["mcp", "enable", "no-such-thing"], "NOT_FOUND");
}

#[test]
fn an_enabled_drawer_is_a_tool_with_its_inputs_as_schema() {
    let s = sandbox_with_drawers();
    s.ok(&["mcp", "enable", "greeting"]);
    s.ok(&["mcp", "enable", "broken"]);
    runtime().block_on(async {
        let client = connect_with(&s, Client::default(), &["mcp"]).await;
        let tools = client.list_all_tools().await.unwrap();
        let names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
        assert!(names.contains(&"greeting".to_owned()), "{names:?}");
        assert!(names.contains(&"broken".to_owned()), "{names:?}");
        assert!(!names.contains(&"quiet".to_owned()), "{names:?}");
        // Its buttons are not enabled, so they are no tools.
        assert!(!names.contains(&"hello".to_owned()), "{names:?}");

        let tool = tools.iter().find(|t| t.name == "greeting").unwrap();
        assert!(
            tool.description
                .as_deref()
                .unwrap()
                .starts_with("Greets loudly"),
            "{tool:?}"
        );
        let schema = Value::Object((*tool.input_schema).clone());
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["required"], json!(["who"]), "{schema}");
        let props = &schema["properties"];
        assert_eq!(props["who"]["type"], "string");
        assert_eq!(props["who"]["description"], "Who to greet");
        assert_eq!(props["times"]["type"], "integer");
        assert_eq!(props["times"]["default"], 2);
        assert_eq!(props["mood"]["type"], "string");
        assert_eq!(props["mood"]["enum"], json!(["calm", "wild"]));
        assert!(
            props["token"]["description"]
                .as_str()
                .unwrap()
                .contains("secret"),
            "{schema}"
        );

        // A call presses both steps; the drawer's `return` is in the result.
        let ran = client
            .call_tool(call(
                "greeting",
                json!({"who": "ada", "token": "s3cr3t-value"}),
            ))
            .await
            .unwrap();
        assert_ne!(ran.is_error, Some(true), "{ran:?}");
        let result = ran.structured_content.clone().unwrap();
        assert_eq!(result["status"], "ok", "{result}");
        assert_eq!(result["return"], json!({"said": "hi ada x2!"}), "{result}");
        assert_eq!(result["steps"].as_array().unwrap().len(), 2, "{result}");
        assert_eq!(result["inputs"]["times"], 2, "{result}");
        // The secret input never reaches the agent's copy of the result.
        assert!(!result.to_string().contains("s3cr3t-value"), "{result}");
        assert!(!text_of(&ran).contains("s3cr3t-value"));
        // And the run is recorded like `buttons drawer greeting press`.
        let runs = s.data().join("drawers/greeting/pressed");
        assert_eq!(runs.read_dir().unwrap().count(), 1);

        // A missing required input or an unknown one: a tool error with a code.
        for (args, code) in [
            (json!({}), "MISSING_INPUT"),
            (json!({"who": "x", "nope": 1}), "VALIDATION_ERROR"),
            (json!({"who": "x", "times": "many"}), "VALIDATION_ERROR"),
        ] {
            let refused = client
                .call_tool(call("greeting", args.clone()))
                .await
                .unwrap();
            assert_eq!(refused.is_error, Some(true), "{args}");
            let error = refused.structured_content.unwrap();
            assert_eq!(error["code"], code, "{args}: {error}");
        }

        // A drawer whose step fails: isError, the code in structuredContent.
        let failed = client.call_tool(call("broken", json!({}))).await.unwrap();
        assert_eq!(failed.is_error, Some(true), "{failed:?}");
        let result = failed.structured_content.clone().unwrap();
        assert_eq!(result["status"], "failed", "{result}");
        assert_eq!(result["error"]["code"], "SCRIPT_ERROR", "{result}");
        assert_eq!(result["failed_step"], "x", "{result}");
        assert!(text_of(&failed).contains("SCRIPT_ERROR"), "{failed:?}");

        // A drawer that is not enabled cannot be called.
        assert!(client.call_tool(call("quiet", json!({}))).await.is_err());
        assert!(
            !s.data()
                .join("drawers/quiet/pressed")
                .read_dir()
                .unwrap()
                .any(|_| true)
        );
        client.cancel().await.unwrap();
    });
}

#[test]
fn meta_tools_list_inspect_and_press_enabled_drawers_only() {
    let s = sandbox_with_drawers();
    s.ok(&["mcp", "enable", "greeting"]);
    runtime().block_on(async {
        let client = connect_with(&s, Client::default(), &["mcp"]).await;
        let listed = client
            .call_tool(call("buttons_list", json!({})))
            .await
            .unwrap()
            .structured_content
            .unwrap();
        let drawers = listed["drawers"].as_array().unwrap();
        assert_eq!(drawers.len(), 1, "{listed}");
        assert_eq!(drawers[0]["name"], "greeting");
        assert_eq!(drawers[0]["description"], "Greets loudly");
        assert_eq!(drawers[0]["inputs"][0]["name"], "who");
        // No buttons are enabled: the drawer's buttons are not listed.
        assert_eq!(listed["buttons"], json!([]), "{listed}");

        let press =
            |name: &str, args: Value| call("buttons_press", json!({"name": name, "args": args}));
        let ran = client
            .call_tool(press("greeting", json!({"who": "bo"})))
            .await
            .unwrap();
        assert_ne!(ran.is_error, Some(true), "{ran:?}");
        let result = ran.structured_content.unwrap();
        assert_eq!(result["return"], json!({"said": "hi bo x2!"}), "{result}");

        let inspected = client
            .call_tool(call("buttons_inspect", json!({"name": "greeting"})))
            .await
            .unwrap();
        assert_ne!(inspected.is_error, Some(true), "{inspected:?}");
        let inspected = inspected.structured_content.unwrap();
        assert_eq!(inspected["kind"], "drawer");
        assert_eq!(inspected["spec"]["steps"][1]["id"], "s", "{inspected}");
        assert_eq!(inspected["last_run"]["status"], "ok", "{inspected}");

        // A drawer that is not enabled is refused through every meta-tool.
        for (tool, args) in [
            ("buttons_inspect", json!({"name": "quiet"})),
            ("buttons_press", json!({"name": "quiet"})),
        ] {
            let refused = client.call_tool(call(tool, args)).await.unwrap();
            assert_eq!(refused.is_error, Some(true), "{tool}: {refused:?}");
            assert!(
                text_of(&refused).contains("NOT_FOUND"),
                "{tool}: {refused:?}"
            );
        }
        let runs = s.data().join("drawers/quiet/pressed");
        assert!(
            !runs.exists() || runs.read_dir().unwrap().next().is_none(),
            "a disabled drawer ran"
        );
        client.cancel().await.unwrap();
    });
}
