//! create, list, show, delete.

use std::fs;

use serde_json::json;

use crate::{Sandbox, mode};

#[test]
fn create_code_button_inline() {
    let sb = Sandbox::new();
    let data = sb.ok(&[
        "create",
        "Hello World",
        "--code",
        "echo hi",
        "--arg",
        "name:string:optional",
        "-d",
        "Says hi",
        "--timeout",
        "30",
        "--mcp",
    ]);
    assert_eq!(data["name"], "hello-world");
    assert_eq!(data["runtime"], "shell");
    assert_eq!(data["timeout_seconds"], 30);
    assert_eq!(data["mcp_enabled"], true);
    assert_eq!(data["description"], "Says hi");
    assert_eq!(data["version"], "1");
    assert_eq!(
        data["args"],
        json!([{"name": "name", "type": "string", "required": false}])
    );
    let dir = sb.data().join("buttons/hello-world");
    assert_eq!(fs::read_to_string(dir.join("main.sh")).unwrap(), "echo hi");
    assert_eq!(mode(&dir.join("main.sh")), 0o700);
    let agents = fs::read_to_string(dir.join("AGENTS.md")).unwrap();
    assert!(agents.starts_with("<!-- buttons:scaffold -->\n"));
    assert!(agents.contains("Says hi"));
    assert_eq!(data["code_path"], dir.join("main.sh").display().to_string());
}

#[test]
fn create_scaffolds_per_runtime() {
    let sb = Sandbox::new();
    for (rt, file, shebang) in [
        ("shell", "main.sh", "#!/bin/sh"),
        ("bash", "main.sh", "#!/usr/bin/env bash"),
        ("python", "main.py", "#!/usr/bin/env python3"),
        ("node", "main.js", "#!/usr/bin/env node"),
    ] {
        let data = sb.ok(&[
            "create",
            &format!("s-{rt}"),
            "--runtime",
            rt,
            "--arg",
            "my-arg:int:required",
        ]);
        assert_eq!(data["runtime"], rt);
        let code = fs::read_to_string(sb.data().join(format!("buttons/s-{rt}/{file}"))).unwrap();
        assert!(code.starts_with(shebang), "{rt}: {code}");
        assert!(
            code.contains("BUTTONS_ARG_<NAME>") && code.contains("BUTTONS_ARG_MY_ARG"),
            "{rt}"
        );
    }
}

#[test]
fn create_from_file_infers_runtime_explicit_wins() {
    let sb = Sandbox::new();
    let script = sb.path().join("etl.py");
    fs::write(&script, "print('etl')\n").unwrap();
    let data = sb.ok(&["create", "etl", "--file", script.to_str().unwrap()]);
    assert_eq!(data["runtime"], "python");
    assert_eq!(
        fs::read_to_string(sb.data().join("buttons/etl/main.py")).unwrap(),
        "print('etl')\n"
    );
    let data = sb.ok(&[
        "create",
        "etl-sh",
        "-f",
        script.to_str().unwrap(),
        "--runtime",
        "shell",
    ]);
    assert_eq!(data["runtime"], "shell");
    let e = sb.err(
        &["create", "gone", "--file", "/nonexistent/x.sh"],
        "VALIDATION_ERROR",
    );
    assert!(e["hint"].as_str().unwrap().contains("--file"));
}

#[test]
fn create_prompt_button() {
    let sb = Sandbox::new();
    let data = sb.ok(&[
        "create",
        "review",
        "--prompt",
        "Review the open pull requests",
    ]);
    assert_eq!(data["runtime"], "prompt");
    assert_eq!(
        fs::read_to_string(sb.data().join("buttons/review/AGENTS.md")).unwrap(),
        "Review the open pull requests\n"
    );
    assert!(!sb.data().join("buttons/review/main.sh").exists());
    sb.err(
        &["create", "p2", "--prompt", "x", "--runtime", "python"],
        "VALIDATION_ERROR",
    );
    sb.err(
        &["create", "p3", "--runtime", "prompt", "--code", "echo"],
        "VALIDATION_ERROR",
    );
}

#[test]
fn create_http_button() {
    let sb = Sandbox::new();
    let data = sb.ok(&[
        "create",
        "weather",
        "--url",
        "https://API.example.com/w/{{city}}?u={{unit}}",
        "--method",
        "post",
        "--header",
        "Content-Type: application/json",
        "--header",
        "X-Key:abc",
        "--body",
        "{\"c\": \"{{city}}\"}",
        "--max-response-size",
        "1M",
        "--allow-private-networks",
        "--arg",
        "city:string:required",
        "--arg",
        "unit:enum:optional:c|f",
    ]);
    assert_eq!(data["allowed_host"], "api.example.com");
    assert_eq!(data["method"], "POST");
    assert_eq!(
        data["headers"],
        json!({"Content-Type": "application/json", "X-Key": "abc"})
    );
    assert_eq!(data["max_response_bytes"], 1 << 20);
    assert_eq!(data["allow_private_networks"], true);
    assert!(!sb.data().join("buttons/weather/main.sh").exists());
}

/// What `create` writes on disk is what the Go tool writes for new buttons:
/// schema 2, `runtime: "http"`, `method` and `max_response_bytes` (default
/// 10485760) on HTTP buttons, and an empty 0700 `pressed/` at once.
#[test]
fn create_writes_the_go_form_on_disk() {
    let sb = Sandbox::new();
    let file = |name: &str| -> serde_json::Value {
        let path = sb.data().join(format!("buttons/{name}/button.json"));
        serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
    };
    let pressed = |name: &str| {
        let dir = sb.data().join(format!("buttons/{name}/pressed"));
        assert!(fs::symlink_metadata(&dir).unwrap().is_dir(), "{name}");
        assert_eq!(mode(&dir), 0o700, "{name}");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "{name}");
    };

    let data = sb.ok(&[
        "create",
        "api",
        "--url",
        "https://API.example.com/v1/{{id}}",
        "--arg",
        "id:string:required",
    ]);
    let spec = file("api");
    assert_eq!(spec["schema_version"], 2);
    assert_eq!(spec["runtime"], "http");
    assert_eq!(spec["method"], "GET");
    assert_eq!(spec["max_response_bytes"], 10_485_760);
    assert_eq!(spec["allowed_host"], "api.example.com");
    assert_eq!(spec["url"], "https://API.example.com/v1/{{id}}");
    for key in ["schema_version", "runtime", "method", "max_response_bytes"] {
        assert_eq!(data[key], spec[key], "{key}: the reply shows the file");
    }
    pressed("api");

    sb.ok(&[
        "create",
        "purge",
        "--url",
        "https://example.com/",
        "--method",
        "purge",
    ]);
    assert_eq!(file("purge")["method"], "PURGE");

    sb.ok(&["create", "code", "--code", "true", "--runtime", "sh"]);
    let spec = file("code");
    assert_eq!(spec["schema_version"], 2);
    assert_eq!(spec["runtime"], "shell");
    assert!(spec.get("method").is_none(), "{spec}");
    assert!(spec.get("max_response_bytes").is_none(), "{spec}");
    pressed("code");

    sb.ok(&["create", "note", "--prompt", "Say hi"]);
    assert_eq!(file("note")["runtime"], "prompt");
    assert_eq!(file("note")["schema_version"], 2);
    pressed("note");
}

#[test]
fn create_validation_errors() {
    let sb = Sandbox::new();
    let url = "https://api.example.com/x";
    let cases: &[&[&str]] = &[
        &["create", "!!!", "--code", "true"],
        &["create", "../escape", "--code", "true"],
        &["create", "press", "--code", "true"],
        &["create", "a", "--arg", "x:float:required"],
        &["create", "a", "--arg", "x:string"],
        &["create", "a", "--arg", "x:enum:required:one"],
        &[
            "create",
            "a",
            "--arg",
            "a-b:string:optional",
            "--arg",
            "a_b:string:optional",
        ],
        &["create", "a", "--runtime", "cobol"],
        &["create", "a", "--timeout", "0"],
        &["create", "a", "--timeout", "soon"],
        &["create", "a", "--url", url, "--runtime", "shell"],
        &["create", "a", "--url", "https://{{host}}/x"],
        &["create", "a", "--url", "ftp://example.com/x"],
        &["create", "a", "--url", "https://user:pw@example.com/x"],
        &["create", "a", "--url", url, "--max-response-size", "3G"],
        &["create", "a", "--url", url, "--max-response-size", "lots"],
        &["create", "a", "--url", url, "--header", "no colon"],
        &["create", "a", "--url", url, "--code", "true"],
        &["create", "a", "--method", "POST"],
        &["create", "a", "--body", "{}"],
    ];
    for args in cases {
        let e = sb.err(args, "VALIDATION_ERROR");
        assert!(e.get("hint").is_some(), "{args:?}: no hint in {e}");
    }
    assert!(
        !sb.data().join("buttons").exists()
            || fs::read_dir(sb.data().join("buttons")).unwrap().count() == 0
    );
}

#[test]
fn code_limit_is_64_kib_exactly() {
    let sb = Sandbox::new();
    let ok = "#".repeat(65_536);
    sb.ok(&["create", "big", "--code", &ok]);
    let too_big = "#".repeat(65_537);
    let e = sb.err(
        &["create", "bigger", "--code", &too_big],
        "VALIDATION_ERROR",
    );
    assert!(e["hint"].as_str().unwrap().contains("--file"));
    assert!(!sb.data().join("buttons/bigger").exists());
}

#[test]
fn existing_name_is_refused_and_untouched() {
    let sb = Sandbox::new();
    sb.ok(&["create", "dup", "--code", "echo one", "-d", "first"]);
    let before = fs::read(sb.data().join("buttons/dup/button.json")).unwrap();
    let e = sb.err(&["create", "Dup", "--code", "echo two"], "VALIDATION_ERROR");
    assert!(e["message"].as_str().unwrap().contains("already exists"));
    assert_eq!(
        fs::read(sb.data().join("buttons/dup/button.json")).unwrap(),
        before
    );
    assert_eq!(
        fs::read_to_string(sb.data().join("buttons/dup/main.sh")).unwrap(),
        "echo one"
    );
}

#[test]
fn list_sorted_with_broken_entries() {
    let sb = Sandbox::new();
    sb.ok(&["create", "zeta", "--code", "true"]);
    sb.ok(&["create", "alpha", "--code", "true"]);
    fs::create_dir(sb.data().join("buttons/mid")).unwrap();
    fs::write(sb.data().join("buttons/mid/button.json"), "{").unwrap();
    let data = sb.ok(&["list"]);
    let names: Vec<&str> = data
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "mid", "zeta"]);
    assert_eq!(data[1]["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(data[0]["runtime"], "shell");
}

#[test]
fn show_one_button() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "hello",
        "--code",
        "true",
        "--arg",
        "who:string:required",
    ]);
    let data = sb.ok(&["Hello"]);
    // The Go tool's shape: {"button": spec + folders, "last_run"?, "agent_md"?}.
    let button = &data["button"];
    assert_eq!(button["name"], "hello");
    assert_eq!(button["args"][0]["name"], "who");
    let dir = button["button_dir"].as_str().unwrap();
    assert!(dir.ends_with("buttons/hello"), "{dir}");
    assert_eq!(button["code_path"], format!("{dir}/main.sh"));
    let agents = fs::read_to_string(format!("{dir}/AGENTS.md")).unwrap();
    assert_eq!(data["agent_md"], agents);
    assert!(data.get("last_run").is_none(), "{data}");
    sb.ok(&["press", "hello", "--arg", "who=Ada"]);
    let data = sb.ok(&["hello", "--json"]);
    assert_eq!(data["button"]["name"], "hello");
    assert_eq!(data["last_run"]["status"], "ok");
    assert_eq!(data["last_run"]["args"]["who"], "Ada");
    let e = sb.err(&["nope"], "NOT_FOUND");
    assert!(e["hint"].as_str().unwrap().contains("buttons list"));
    sb.err(&["..."], "VALIDATION_ERROR");
}

#[test]
fn delete_without_terminal_needs_no_confirmation() {
    let sb = Sandbox::new();
    sb.ok(&["create", "bye", "--code", "true"]);
    let data = sb.ok(&["delete", "bye"]);
    assert_eq!(data, json!({"name": "bye", "deleted": true}));
    assert!(!sb.data().join("buttons/bye").exists());
    sb.err(&["delete", "bye"], "NOT_FOUND");
    sb.ok(&["create", "bye2", "--code", "true"]);
    sb.ok(&["rm", "bye2", "-F"]);
    sb.err(&["rm", "create"], "VALIDATION_ERROR");
}
