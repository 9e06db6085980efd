//! Drawers, part 2 (issue 11) through the real binary: `for_each`, `switch`,
//! `aggregate`, `wait`, unimplemented kinds, `on_failure` on every kind, the
//! authoring forms; and the rest of part 1 (issue 10): the raw schema, a
//! prompt button step, `--webhook-body`, Ctrl-C, human output.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Sandbox;
use crate::drawers::{button, sandbox, walk, write_drawer};

/// A failed drawer press: exit 1 and the envelope's error code.
fn failed(s: &Sandbox, args: &[&str], code: &str) -> Value {
    let run = s.run(args);
    assert_eq!(run.json["ok"], false, "{args:?}: {}", run.json);
    assert_eq!(run.json["error"]["code"], code, "{args:?}: {}", run.json);
    assert_eq!(run.output.status.code(), Some(1), "{args:?}");
    assert_eq!(run.json["data"]["status"], "failed", "{}", run.json);
    run.json["data"].clone()
}

fn nap(s: &Sandbox) {
    button(
        s,
        "nap",
        r#"sleep "$BUTTONS_ARG_S"; echo "{\"slept\": \"$BUTTONS_ARG_S\"}""#,
        &["s:string:required"],
    );
    button(s, "naps", r#"echo '["0.4", "0.4", "0.4", "0.4"]'"#, &[]);
}

fn loop_drawer(name: &str, parallelism: Option<u32>) -> Value {
    let mut each = json!({"id": "each", "kind": "for_each", "over": "${list.output}", "as": "secs",
        "steps": [{"id": "z", "button": "nap", "args": {"s": "${secs}"}}]});
    if let Some(p) = parallelism {
        each["parallelism"] = json!(p);
    }
    json!({"name": name, "steps": [{"id": "list", "button": "naps"}, each]})
}

#[test]
fn for_each_over_a_buttons_list_serial_and_parallel() {
    let s = sandbox();
    nap(&s);
    write_drawer(&s, loop_drawer("par", Some(4)));
    write_drawer(&s, loop_drawer("ser", None));
    let ran = s.ok(&["drawer", "par", "press"]);
    let each = &ran["steps"][1];
    assert_eq!(each["status"], "ok", "{ran}");
    assert_eq!(each["output"]["total"], 4);
    let results = each["output"]["results"].as_array().unwrap();
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["index"], i, "{r}");
        assert_eq!(r["item"], "0.4");
        assert_eq!(r["failed"], false);
        assert_eq!(r["steps"]["z"]["output"], json!({"slept": "0.4"}));
    }
    // Four 0.4 s sleeps at once: well under the 1.6 s they take in a row
    // (generous: the machine is shared).
    let par_ms = each["duration_ms"].as_u64().unwrap();
    assert!(par_ms < 1200, "parallel for_each took {par_ms} ms");
    let ran = s.ok(&["drawer", "ser", "press"]);
    let ser_ms = ran["steps"][1]["duration_ms"].as_u64().unwrap();
    assert!(ser_ms >= 1600, "serial for_each took {ser_ms} ms");
    assert_eq!(ran["steps"][1]["output"]["results"][3]["index"], 3);
}

#[test]
fn for_each_stops_or_continues_on_failing_items() {
    let s = sandbox();
    button(
        &s,
        "check",
        r#"[ "$BUTTONS_ARG_V" != bad ] && echo "ok-$BUTTONS_ARG_V""#,
        &["v:string:required"],
    );
    let spec = |name: &str, on_item_failure: &str| {
        json!({"name": name, "inputs": [{"name": "items"}], "steps": [
            {"id": "each", "kind": "for_each", "over": "${inputs.items}", "on_item_failure": on_item_failure,
             "steps": [{"id": "c", "button": "check", "args": {"v": "${item}"}}]},
            {"id": "after", "button": "check", "args": {"v": "after"}}
        ]})
    };
    write_drawer(&s, spec("stops", "stop"));
    write_drawer(&s, spec("goes-on", "continue"));
    let items = r#"items=["a","bad","c"]"#;
    let data = failed(
        &s,
        &["drawer", "stops", "press", items],
        "FOREACH_ITEM_FAILED",
    );
    assert_eq!(data["failed_step"], "each");
    let out = &data["steps"][0]["output"];
    assert_eq!(out["total"], 3);
    let results = out["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "the third item never ran: {out}");
    assert_eq!(results[1]["failed"], true);
    assert_eq!(results[1]["steps"]["c"]["error"]["code"], "SCRIPT_ERROR");
    assert!(
        data["error"]["message"]
            .as_str()
            .unwrap()
            .contains("item 1")
    );
    assert_eq!(
        data["steps"].as_array().unwrap().len(),
        1,
        "after never ran"
    );

    let ran = s.ok(&["drawer", "goes-on", "press", items]);
    let results = ran["steps"][0]["output"]["results"].as_array().unwrap();
    let failed: Vec<bool> = results
        .iter()
        .map(|r| r["failed"].as_bool().unwrap())
        .collect();
    assert_eq!(failed, [false, true, false]);
    assert_eq!(results[2]["steps"]["c"]["output"], "ok-c\n");
    assert_eq!(ran["steps"][1]["stdout"], "ok-after\n");
}

#[test]
fn switch_picks_prod_staging_or_default() {
    let s = sandbox();
    button(
        &s,
        "say",
        r#"echo "$BUTTONS_ARG_W""#,
        &["w:string:required"],
    );
    write_drawer(
        &s,
        json!({"name": "route", "inputs": [{"name": "env", "required": true}], "steps": [
            {"id": "pick", "kind": "switch",
             "cases": [
                {"id": "prod", "when": "${inputs.env == 'prod'}", "steps": [{"id": "p", "button": "say", "args": {"w": "to prod"}}]},
                {"id": "staging", "when": "${inputs.env.startsWith('stag')}", "steps": [{"id": "s", "button": "say", "args": {"w": "to staging"}}]}
             ],
             "steps": [{"id": "d", "button": "say", "args": {"w": "to ${inputs.env}"}}]}
        ]}),
    );
    for (env, matched, id, said) in [
        ("prod", "prod", "p", "to prod\n"),
        ("staging", "staging", "s", "to staging\n"),
        ("dev", "default", "d", "to dev\n"),
    ] {
        let ran = s.ok(&["drawer", "route", "press", &format!("env={env}")]);
        let out = &ran["steps"][0]["output"];
        assert_eq!(out["matched"], matched, "{ran}");
        assert_eq!(out["steps"][id]["output"], said, "{ran}");
        assert_eq!(out["steps"].as_object().unwrap().len(), 1);
    }
    // `when` must be a bool.
    write_drawer(
        &s,
        json!({"name": "odd", "steps": [{"id": "pick", "kind": "switch",
            "cases": [{"id": "c", "when": "${'yes'}", "steps": []}]}]}),
    );
    let data = failed(&s, &["drawer", "odd", "press"], "VALIDATION_ERROR");
    assert!(
        data["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a bool")
    );
}

#[test]
fn aggregate_plucks_and_on_failure_applies_to_every_kind() {
    let s = sandbox();
    button(&s, "nums", r#"echo '[{"n": 1}, {"n": 2}, {"n": 3}]'"#, &[]);
    button(
        &s,
        "say",
        r#"echo "$BUTTONS_ARG_W""#,
        &["w:string:required"],
    );
    write_drawer(
        &s,
        json!({"name": "agg", "inputs": [{"name": "notalist", "default": 5}], "steps": [
            {"id": "list", "button": "nums"},
            {"id": "doubled", "kind": "aggregate", "from": "${list.output}", "pluck": "${item.n * 2}"},
            {"id": "broken", "kind": "aggregate", "from": "${inputs.notalist}", "pluck": "${item}",
             "on_failure": {"action": "continue"}},
            {"id": "show", "button": "say", "args": {"w": "${doubled.output.values} of ${doubled.output.count}"}}
        ]}),
    );
    let ran = s.ok(&["drawer", "agg", "press"]);
    assert_eq!(
        ran["steps"][1]["output"],
        json!({"values": [2, 4, 6], "count": 3})
    );
    assert_eq!(ran["steps"][2]["status"], "failed");
    assert_eq!(ran["steps"][2]["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(ran["steps"][3]["stdout"], "[2,4,6] of 3\n");
    // Without `continue`, the same failure stops the press.
    write_drawer(
        &s,
        json!({"name": "agg2", "inputs": [{"name": "notalist", "default": 5}], "steps": [
            {"id": "broken", "kind": "aggregate", "from": "${inputs.notalist}", "pluck": "${item}"},
            {"id": "show", "button": "say", "args": {"w": "never"}}
        ]}),
    );
    let data = failed(&s, &["drawer", "agg2", "press"], "VALIDATION_ERROR");
    assert_eq!(data["failed_step"], "broken");
    assert_eq!(data["steps"].as_array().unwrap().len(), 1);
    // A retried wait with a bad `until` is attempted max_attempts times.
    write_drawer(
        &s,
        json!({"name": "w", "inputs": [{"name": "t", "default": "soon"}], "steps": [
            {"id": "w", "kind": "wait", "until": "${inputs.t}",
             "on_failure": {"action": "retry", "max_attempts": 2, "backoff": {"initial_ms": 10}}}
        ]}),
    );
    let data = failed(&s, &["drawer", "w", "press"], "VALIDATION_ERROR");
    assert_eq!(data["steps"][0]["attempts"], 2, "{data}");
}

#[test]
fn wait_lasts_its_duration_and_until_in_the_past_is_immediate() {
    let s = sandbox();
    write_drawer(
        &s,
        json!({"name": "w", "steps": [
            {"id": "pause", "kind": "wait", "duration": "200ms"},
            {"id": "past", "kind": "wait", "until": "2001-01-01T00:00:00Z"}
        ]}),
    );
    let clock = Instant::now();
    let ran = s.ok(&["drawer", "w", "press"]);
    assert!(clock.elapsed() >= Duration::from_millis(150));
    let pause = &ran["steps"][0];
    assert!(pause["duration_ms"].as_u64().unwrap() >= 150, "{pause}");
    assert!(pause["output"]["waited_ms"].as_u64().unwrap() >= 150);
    assert!(pause["output"]["until"].is_string(), "{pause}");
    assert_eq!(ran["steps"][1]["output"]["until"], "2001-01-01T00:00:00Z");
    assert!(ran["steps"][1]["output"]["waited_ms"].as_u64().unwrap() < 1000);
    // A literal that is no duration is a validation error before anything runs.
    write_drawer(
        &s,
        json!({"name": "bad", "steps": [{"id": "w", "kind": "wait", "duration": "a while"}]}),
    );
    let err = s.err(&["drawer", "bad", "press"], "VALIDATION_ERROR");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("is not a duration")
    );
}

#[test]
fn unimplemented_kinds_fail_at_press_and_warn_in_validation() {
    let s = sandbox();
    for kind in ["split", "merge", "transform", "batch"] {
        let name = format!("k-{kind}");
        write_drawer(
            &s,
            json!({"name": name, "steps": [{"id": "x", "kind": kind}]}),
        );
        let shown = s.ok(&["drawer", &name]);
        assert_eq!(shown["validation"]["ok"], true);
        assert!(
            shown["validation"]["warnings"][0]["message"]
                .as_str()
                .unwrap()
                .contains("KIND_NOT_IMPLEMENTED")
        );
        failed(&s, &["drawer", &name, "press"], "KIND_NOT_IMPLEMENTED");
    }
}

#[test]
fn add_for_each_and_wait_forms_and_set_paths() {
    let s = sandbox();
    button(
        &s,
        "say",
        r#"echo "$BUTTONS_ARG_W""#,
        &["w:string:required"],
    );
    button(&s, "nums", r#"echo '[{"n": 1}, {"n": 2}]'"#, &[]);
    s.ok(&["drawer", "create", "d"]);
    let added = s.ok(&["drawer", "d", "add", "nums", "for_each:say", "wait:200ms"]);
    assert_eq!(added["added"], json!(["nums", "for_each", "wait"]));
    let shown = &added["drawer"];
    assert_eq!(shown["steps"][1]["kind"], "for_each");
    assert_eq!(shown["steps"][1]["steps"][0]["button"], "say");
    assert_eq!(shown["steps"][1]["steps"][0]["args"]["w"], "${item}");
    assert_eq!(shown["steps"][2]["duration"], "200ms");
    assert_eq!(shown["validation"]["ok"], true, "{shown}");
    s.err(&["drawer", "d", "add", "wait:forever"], "VALIDATION_ERROR");
    s.ok(&[
        "drawer",
        "d",
        "set",
        "for_each.over=${nums.output}",
        "for_each.as=row",
        "for_each.parallelism=2",
        "for_each.on_item_failure=continue",
        "for_each.steps.0.args.w=n=${row.n}",
        "wait.duration=2m30s",
    ]);
    s.ok(&["drawer", "d", "add", "wait:1s"]);
    s.ok(&[
        "drawer",
        "d",
        "set",
        "wait-2.until=2001-01-01T00:00:00Z",
        "wait-2.duration=null",
    ]);
    let spec: Value =
        serde_json::from_slice(&std::fs::read(s.data().join("drawers/d/drawer.json")).unwrap())
            .unwrap();
    let each = &spec["steps"][1];
    assert_eq!(each["over"], "${nums.output}");
    assert_eq!(each["as"], "row");
    assert_eq!(each["parallelism"], 2);
    assert_eq!(each["on_item_failure"], "continue");
    assert_eq!(spec["steps"][2]["duration"], "2m30s");
    assert_eq!(spec["steps"][3]["until"], "2001-01-01T00:00:00Z");
    assert!(spec["steps"][3].get("duration").is_none(), "{spec}");
    // The remaining set paths of an aggregate step.
    write_drawer(
        &s,
        json!({"name": "a", "steps": [{"id": "list", "button": "nums"}, {"id": "agg", "kind": "aggregate", "from": "${list.output}", "pluck": "${item}"}]}),
    );
    s.ok(&["drawer", "a", "set", "agg.pluck=${item.n + 10}"]);
    let ran = s.ok(&["drawer", "a", "press"]);
    assert_eq!(ran["steps"][1]["output"]["values"], json!([11, 12]));
    // The for_each drawer presses (the wait step shortened first).
    s.ok(&["drawer", "d", "set", "wait.duration=10ms"]);
    let ran = s.ok(&["drawer", "d", "press", "items=[]"]);
    let results = &ran["steps"][1]["output"]["results"];
    assert_eq!(results[1]["steps"]["say"]["output"], "n=2\n", "{ran}");
}

#[test]
fn schema_is_printed_raw() {
    let s = sandbox();
    let out = s.cmd(&["drawer", "schema"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(schema.get("ok").is_none(), "not in the envelope: {schema}");
    assert_eq!(schema["title"], "drawer.json");
    assert!(schema["properties"]["steps"].is_object());
    // The same with --json: the schema is the output.
    let out = s.cmd(&["drawer", "schema", "--json"]).output().unwrap();
    let again: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again, schema);
}

#[test]
fn a_prompt_button_is_a_step_and_webhook_bodies_are_read() {
    let s = sandbox();
    s.ok(&["create", "ask", "--prompt", "Summarise the logs"]);
    button(
        &s,
        "say",
        r#"echo "$BUTTONS_ARG_W""#,
        &["w:string:required"],
    );
    write_drawer(
        &s,
        json!({"name": "p", "steps": [
            {"id": "ask", "button": "ask"},
            {"id": "say", "button": "say", "args": {"w": "got: ${ask.output}"}}
        ]}),
    );
    let ran = s.ok(&["drawer", "p", "press"]);
    assert_eq!(ran["steps"][0]["status"], "ok");
    assert!(
        ran["steps"][0]["output"]
            .as_str()
            .unwrap()
            .starts_with("Summarise the logs"),
        "{ran}"
    );
    assert_eq!(ran["steps"][1]["stdout"], "got: Summarise the logs\n\n");

    write_drawer(
        &s,
        json!({"name": "hook", "steps": [
            {"id": "say", "button": "say", "args": {"w": "${webhook.ref} by ${webhook.pusher.name}"}}
        ]}),
    );
    let body = r#"{"ref": "refs/heads/main", "pusher": {"name": "ada"}}"#;
    let ran = s.ok(&["drawer", "hook", "press", "--webhook-body", body]);
    assert_eq!(ran["steps"][0]["stdout"], "refs/heads/main by ada\n");
    let file = s.path().join("body.json");
    std::fs::write(&file, r#"{"ref": "v2", "pusher": {"name": "bob"}}"#).unwrap();
    let at = format!("@{}", file.display());
    let ran = s.ok(&["drawer", "hook", "press", "--webhook-body", &at]);
    assert_eq!(ran["steps"][0]["stdout"], "v2 by bob\n");
    s.err(
        &["drawer", "hook", "press", "--webhook-body", "{not json"],
        "VALIDATION_ERROR",
    );
}

#[test]
fn sigint_between_or_during_steps_is_cancelled_and_recorded() {
    let s = sandbox();
    let started = s.path().join("started");
    button(
        &s,
        "slow",
        &format!("touch '{}'; sleep 30", started.display()),
        &[],
    );
    button(&s, "after", "echo after", &[]);
    write_drawer(
        &s,
        json!({"name": "d", "steps": [{"id": "first", "button": "after"}, {"id": "slow", "button": "slow"}, {"id": "never", "button": "after"}]}),
    );
    let child = s
        .cmd(&["drawer", "d", "press"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let clock = Instant::now();
    while !started.exists() {
        assert!(clock.elapsed() < Duration::from_secs(30), "never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(clock.elapsed() < Duration::from_secs(20));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["error"]["code"], "CANCELLED", "{json}");
    assert_eq!(json["data"]["failed_step"], "slow");
    assert_eq!(json["data"]["steps"].as_array().unwrap().len(), 2);
    let logs = s.ok(&["drawer", "d", "logs"]);
    assert_eq!(logs[0]["error"]["code"], "CANCELLED", "{logs}");
    assert_eq!(logs[0]["steps"][1]["error"]["code"], "CANCELLED");
}

#[test]
fn secrets_are_masked_in_loops_and_aggregates() {
    let s = sandbox();
    button(
        &s,
        "echoer",
        r#"echo "{\"v\": \"$BUTTONS_ARG_V\"}""#,
        &["v:string:required"],
    );
    write_drawer(
        &s,
        json!({"name": "d", "inputs": [{"name": "pw", "secret": true, "required": true}], "steps": [
            {"id": "each", "kind": "for_each", "over": "${[inputs.pw, 'x']}", "parallelism": 2,
             "steps": [{"id": "e", "button": "echoer", "args": {"v": "${item}"}}]},
            {"id": "agg", "kind": "aggregate", "from": "${each.output.results}", "pluck": "${item.steps.e.output.v}"},
            {"id": "pick", "kind": "switch", "cases": [{"id": "c", "when": "${true}", "steps": [
                {"id": "s", "button": "echoer", "args": {"v": "${agg.output.values[0]}"}}]}]}
        ]}),
    );
    let ran = s.ok(&["drawer", "d", "press", "pw=loop-secret-5150"]);
    // The live result is not masked.
    assert_eq!(
        ran["steps"][1]["output"]["values"],
        json!(["loop-secret-5150", "x"])
    );
    assert_eq!(
        ran["steps"][2]["output"]["steps"]["s"]["output"]["v"],
        "loop-secret-5150"
    );
    let mut files = Vec::new();
    walk(&s.data(), &mut files);
    assert!(files.len() > 3);
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        assert!(
            !text.contains("loop-secret-5150"),
            "{} holds the secret: {text}",
            f.display()
        );
    }
}

#[test]
fn human_output_has_a_line_per_step_and_the_result() {
    let s = sandbox();
    button(&s, "hello", r#"echo '{"greeting": "hi"}'"#, &[]);
    button(&s, "boom", "exit 3", &[]);
    write_drawer(
        &s,
        json!({"name": "d", "steps": [
            {"id": "hello", "button": "hello"},
            {"id": "boom", "button": "boom", "on_failure": {"action": "continue"}},
            {"id": "pause", "kind": "wait", "duration": "10ms"}
        ], "return": {"said": "${hello.output.greeting}"}}),
    );
    assert!(
        Command::new("script").arg("--version").output().is_ok(),
        "this test needs util-linux `script` (a pseudo-terminal)"
    );
    let exe = env!("CARGO_BIN_EXE_buttons");
    let out = Command::new("script")
        .args(["-qec", &format!("'{exe}' drawer d press"), "/dev/null"])
        .env("HOME", s.home())
        .env("BUTTONS_HOME", s.data())
        .env("NO_COLOR", "1")
        .current_dir(s.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert_eq!(out.status.code(), Some(0), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("✓ hello  ok "), "{text}");
    assert!(lines[0].ends_with(" ms"), "{text}");
    assert!(
        lines[1].starts_with("✗ boom   failed ") && lines[1].contains("SCRIPT_ERROR"),
        "{text}"
    );
    assert!(lines[2].starts_with("✓ pause  ok "), "{text}");
    assert_eq!(lines[3], r#"result: {"said":"hi"}"#, "{text}");
    assert!(lines[4].starts_with("drawer d: ok in "), "{text}");
    assert!(!text.contains("\"ok\":"), "no JSON envelope: {text}");
}
