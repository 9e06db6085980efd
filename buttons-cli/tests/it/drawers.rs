//! Drawers through the real binary (issue 10): authoring, pressing, records,
//! secrets and the CEL edge cases.

use serde_json::{Value, json};

use crate::Sandbox;

pub(crate) fn sandbox() -> Sandbox {
    let s = Sandbox::new();
    s.ok(&["init"]);
    s
}

pub(crate) fn button(s: &Sandbox, name: &str, code: &str, args: &[&str]) {
    let mut argv = vec!["create", name, "--code", code];
    for a in args {
        argv.extend(["--arg", a]);
    }
    s.ok(&argv);
}

fn set_output_schema(s: &Sandbox, name: &str, schema: Value) {
    let path = s.data().join("buttons").join(name).join("button.json");
    let mut spec: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    spec["output_schema"] = schema;
    std::fs::write(&path, spec.to_string()).unwrap();
}

/// Writes a drawer.json as a user (or the Go tool) would.
pub(crate) fn write_drawer(s: &Sandbox, spec: Value) {
    let name = spec["name"].as_str().unwrap().to_owned();
    s.ok(&["drawer", "create", &name]);
    let path = s.data().join("drawers").join(&name).join("drawer.json");
    std::fs::write(path, serde_json::to_string_pretty(&spec).unwrap()).unwrap();
}

fn emit_and_show(s: &Sandbox) {
    button(
        s,
        "emit",
        r#"echo "{\"region\": \"us-east-1\", \"count\": $BUTTONS_ARG_N}""#,
        &["n:int:required"],
    );
    set_output_schema(
        s,
        "emit",
        json!({"type": "object", "properties": {"region": {"type": "string"}, "count": {"type": "integer"}}}),
    );
    button(
        s,
        "show",
        r#"echo "r=$BUTTONS_ARG_REGION c=$BUTTONS_ARG_COUNT who=$BUTTONS_ARG_WHO""#,
        &[
            "region:string:required",
            "count:int:required",
            "who:string:required",
        ],
    );
}

#[test]
fn connect_wires_outputs_and_an_input_fills_by_name() {
    let s = sandbox();
    emit_and_show(&s);
    s.ok(&["drawer", "create", "deploy"]);
    s.ok(&["drawer", "deploy", "add", "emit", "show"]);
    let wired = s.ok(&["drawer", "deploy", "connect", "emit", "to", "show"]);
    assert_eq!(
        wired["wired"],
        json!({"region": "${emit.output.region}", "count": "${emit.output.count}"})
    );
    s.ok(&[
        "drawer",
        "deploy",
        "set",
        "emit.args.n=${inputs.n * 2}",
        r#"inputs=[{"name":"n","type":"int","required":true},{"name":"who","type":"string","required":true}]"#,
    ]);
    let shown = s.ok(&["drawer", "deploy"]);
    assert_eq!(shown["topology"], "emit → show");
    assert_eq!(shown["validation"]["ok"], true, "{shown}");
    // 500000 * 2 reaches an int argument as 1000000, never 1e+06.
    let ran = s.ok(&["drawer", "deploy", "press", "n=500000", "who=Ada"]);
    assert_eq!(ran["status"], "ok", "{ran}");
    assert_eq!(ran["steps"][1]["stdout"], "r=us-east-1 c=1000000 who=Ada\n");
    // Each step also sits in its button's own history, naming the drawer run.
    let records = std::fs::read_dir(s.data().join("buttons/show/pressed"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect::<Vec<_>>();
    let record: Value = serde_json::from_slice(&std::fs::read(&records[0]).unwrap()).unwrap();
    assert_eq!(
        record["drawer_run"],
        format!("deploy/{}", ran["run_id"].as_str().unwrap())
    );
    let logs = s.ok(&["drawer", "deploy", "logs"]);
    assert_eq!(logs.as_array().unwrap().len(), 1);
    let summary = s.ok(&["summary"]);
    assert_eq!(summary["drawers"][0]["name"], "deploy");
    assert_eq!(summary["drawers"][0]["recent_runs"][0]["status"], "ok");
}

#[test]
fn set_is_all_or_nothing_and_explicit_connect() {
    let s = sandbox();
    emit_and_show(&s);
    s.ok(&["drawer", "create", "d"]);
    s.ok(&["drawer", "d", "add", "emit", "show", "show"]);
    let before = std::fs::read(s.data().join("drawers/d/drawer.json")).unwrap();
    s.err(
        &["drawer", "d", "set", "emit.args.n=5", "nosuch.args.x=1"],
        "VALIDATION_ERROR",
    );
    assert_eq!(
        before,
        std::fs::read(s.data().join("drawers/d/drawer.json")).unwrap()
    );
    let shown = s.ok(&["drawer", "d"]);
    assert_eq!(shown["steps"][2]["id"], "show-2");
    s.ok(&[
        "drawer",
        "d",
        "set",
        "emit.args.n=5",
        "show-2.timeout_seconds=9",
    ]);
    s.ok(&[
        "drawer",
        "d",
        "connect",
        "emit.output.region",
        "to",
        "show-2.args.who",
    ]);
    let shown = s.ok(&["drawer", "d"]);
    assert_eq!(shown["steps"][0]["args"]["n"], 5);
    assert_eq!(shown["steps"][2]["timeout_seconds"], 9);
    assert_eq!(shown["steps"][2]["args"]["who"], "${emit.output.region}");
    // Two steps press `show` under other ids: naming it by button is ambiguous.
    write_drawer(
        &s,
        json!({"name": "two", "steps": [{"id": "e", "button": "emit"}, {"id": "a", "button": "show"}, {"id": "b", "button": "show"}]}),
    );
    s.err(
        &["drawer", "two", "connect", "e", "to", "show"],
        "AMBIGUOUS",
    );
}

#[test]
fn a_sub_drawer_returns_its_map_and_self_inclusion_is_refused() {
    let s = sandbox();
    button(&s, "hello", r#"echo '{"greeting": "hi"}'"#, &[]);
    button(
        &s,
        "say",
        r#"echo "said $BUTTONS_ARG_WORD""#,
        &["word:string:required"],
    );
    write_drawer(
        &s,
        json!({"name": "child", "steps": [{"id": "h", "button": "hello"}], "return": {"g": "${h.output.greeting}"}}),
    );
    write_drawer(
        &s,
        json!({"name": "parent", "steps": [
            {"id": "sub-1", "kind": "drawer", "drawer": "child"},
            {"id": "say", "button": "say", "args": {"word": "${sub-1.output.g}!"}}
        ]}),
    );
    let ran = s.ok(&["drawer", "parent", "press"]);
    assert_eq!(ran["steps"][0]["output"], json!({"g": "hi"}));
    assert_eq!(ran["steps"][1]["stdout"], "said hi!\n");

    write_drawer(
        &s,
        json!({"name": "loop", "steps": [{"id": "again", "kind": "drawer", "drawer": "loop"}]}),
    );
    let err = s.err(&["drawer", "loop", "press"], "VALIDATION_ERROR");
    assert!(err["message"].as_str().unwrap().contains("cycle"), "{err}");
    let shown = s.ok(&["drawer", "loop"]);
    assert_eq!(shown["validation"]["ok"], false);
    assert!(shown["validation"]["errors"][0]["remediation"].is_string());
    assert!(
        !s.data()
            .join("drawers/loop/pressed")
            .read_dir()
            .unwrap()
            .any(|_| true)
    );
}

#[test]
fn on_error_runs_and_sees_the_code() {
    let s = sandbox();
    let seen = s.path().join("seen");
    button(&s, "boom", "echo broken >&2; exit 3", &[]);
    button(
        &s,
        "note",
        &format!(
            "echo \"$BUTTONS_ARG_CODE $BUTTONS_ARG_STEP\" > '{}'",
            seen.display()
        ),
        &["code:string:required", "step:string:required"],
    );
    write_drawer(
        &s,
        json!({"name": "handler", "inputs": [{"name": "error"}, {"name": "failed_step"}],
               "steps": [{"id": "n", "button": "note", "args": {"code": "${inputs.error.code}", "step": "${inputs.failed_step}"}}]}),
    );
    write_drawer(
        &s,
        json!({"name": "main", "steps": [{"id": "x", "button": "boom"}], "on_error": {"drawer": "handler"}}),
    );
    let run = s.run(&["drawer", "main", "press"]);
    assert_eq!(run.output.status.code(), Some(1));
    assert_eq!(run.json["ok"], false);
    assert_eq!(run.json["error"]["code"], "SCRIPT_ERROR");
    assert_eq!(run.json["data"]["failed_step"], "x");
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), "SCRIPT_ERROR x\n");
    let failures = s.ok(&["summary"])["recent_failures"].clone();
    assert!(
        failures
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["drawer"] == "main"),
        "{failures}"
    );
}

#[test]
fn missing_input_dry_run_and_flow_drawers() {
    let s = sandbox();
    button(&s, "echo1", r#"echo "$BUTTONS_ARG_N""#, &["n:int:required"]);
    write_drawer(
        &s,
        json!({"name": "d", "inputs": [{"name": "n", "type": "int", "required": true}], "steps": [{"id": "e", "button": "echo1"}]}),
    );
    s.err(&["drawer", "d", "press"], "MISSING_INPUT");
    s.err(&["drawer", "d", "press", "n=many"], "VALIDATION_ERROR");
    let before = std::fs::read(s.data().join("drawers/d/drawer.json")).unwrap();
    let plan = s.ok(&["drawer", "d", "press", "n=3", "--summary"]);
    assert_eq!(plan["executed"], false);
    assert_eq!(plan["steps_to_run"][0]["button"], "echo1");
    assert_eq!(
        before,
        std::fs::read(s.data().join("drawers/d/drawer.json")).unwrap()
    );
    assert_eq!(
        s.data()
            .join("drawers/d/pressed")
            .read_dir()
            .unwrap()
            .count(),
        0
    );
    assert_eq!(
        s.data()
            .join("buttons/echo1/pressed")
            .read_dir()
            .unwrap()
            .count(),
        0
    );

    s.ok(&["drawer", "create", "agentic", "--kind", "flow"]);
    s.ok(&[
        "drawer", "agentic", "stage", "add", "plan", "--title", "Plan it",
    ]);
    let err = s.err(&["drawer", "agentic", "press"], "FLOW_RUNTIME_REQUIRED");
    assert!(err["message"].as_str().unwrap().contains("flow drawer"));
    s.err(
        &["drawer", "agentic", "add", "echo1"],
        "DRAWER_KIND_MISMATCH",
    );
    s.err(
        &["drawer", "d", "stage", "add", "x"],
        "DRAWER_KIND_MISMATCH",
    );
    s.err(&["drawer", "nope", "press"], "DRAWER_NOT_FOUND");
    s.err(&["drawer", "d", "add", "nosuchbutton"], "BUTTON_NOT_FOUND");
    // Buttons and drawers share names.
    s.err(&["drawer", "create", "echo1"], "VALIDATION_ERROR");
    s.err(&["create", "d", "--code", "true"], "VALIDATION_ERROR");
}

#[test]
fn secrets_are_redacted_everywhere_on_disk() {
    let s = sandbox();
    s.ok(&["batteries", "set", "TOKEN", "battery-secret-9876"]);
    button(
        &s,
        "echoer",
        r#"echo "pw=$BUTTONS_ARG_PW tok=$BUTTONS_BAT_TOKEN""#,
        &["pw:string:required"],
    );
    write_drawer(
        &s,
        json!({"name": "d", "inputs": [{"name": "pw", "secret": true, "required": true}],
               "steps": [{"id": "e", "button": "echoer", "args": {"pw": "${inputs.pw}"}}]}),
    );
    let plan = s.ok(&["drawer", "d", "press", "pw=input-secret-1234", "--summary"]);
    assert!(!plan.to_string().contains("input-secret-1234"), "{plan}");
    let ran = s.ok(&["drawer", "d", "press", "pw=input-secret-1234"]);
    // The live result is not masked.
    assert_eq!(
        ran["steps"][0]["stdout"],
        "pw=input-secret-1234 tok=battery-secret-9876\n"
    );
    let mut files = Vec::new();
    walk(&s.data(), &mut files);
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().contains("drawers/d/pressed/"))
    );
    for f in files.iter().filter(|f| !f.ends_with("batteries.json")) {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        assert!(
            !text.contains("input-secret-1234") && !text.contains("battery-secret-9876"),
            "{} holds a secret: {text}",
            f.display()
        );
    }
    let logs = s.ok(&["drawer", "d", "logs"]);
    assert!(logs.to_string().contains("[redacted]"));
}

pub(crate) fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn cel_edge_cases() {
    let s = sandbox();
    button(
        &s,
        "echoer",
        r#"echo "$BUTTONS_ARG_V""#,
        &["v:string:required"],
    );
    button(&s, "num", r#"echo "$BUTTONS_ARG_N""#, &["n:int:required"]);
    write_drawer(
        &s,
        json!({"name": "cel", "inputs": [{"name": "count", "type": "int"}, {"name": "headers"}, {"name": "m"}],
        "steps": [
            {"id": "lit", "button": "echoer", "args": {"v": "${'us-east-1'}"}},
            {"id": "idx", "button": "echoer", "args": {"v": "${inputs.headers['X-Hub-Signature']}"}},
            {"id": "mul", "button": "num", "args": {"n": "${inputs.count * 2}"}},
            {"id": "big", "button": "num", "args": {"n": 1000000}},
            {"id": "map", "button": "echoer", "args": {"v": "m=${inputs.m} brace=${'}'}"}},
            {"id": "lit-2", "button": "echoer", "args": {"v": "${mul.output + 1} ${big.output - 1}"}}
        ]}),
    );
    let ran = s.ok(&[
        "drawer",
        "cel",
        "press",
        "count=21",
        r#"headers={"X-Hub-Signature":"sha256=abc"}"#,
        r#"m={"a":1}"#,
    ]);
    let out: Vec<&str> = ran["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stdout"].as_str().unwrap())
        .collect();
    assert_eq!(
        out,
        [
            "us-east-1\n",
            "sha256=abc\n",
            "42\n",
            "1000000\n",
            "m={\"a\":1} brace=}\n",
            "43 999999\n"
        ],
        "{ran}"
    );
}
