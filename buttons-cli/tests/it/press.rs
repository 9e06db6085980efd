//! `buttons press`: every error code it can produce, records, batteries,
//! dry runs, --follow, concurrency and Ctrl-C.

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::{Sandbox, mode};

fn history(sb: &Sandbox, name: &str) -> Vec<serde_json::Value> {
    sb.ok(&["history", name, "--last", "1000"])
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn press_ok_records_once_with_progress_file() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "hello",
        "--arg",
        "name:string:optional",
        "--code",
        "echo \"Hello, ${BUTTONS_ARG_NAME:-you}\"; echo \"$BUTTONS_PROGRESS_PATH\" >&2",
    ]);
    let data = sb.ok(&["press", "Hello", "--arg", "name=a=b"]);
    assert_eq!(data["status"], "ok");
    assert_eq!(data["exit_code"], 0);
    assert_eq!(data["stdout"], "Hello, a=b\n");
    assert_eq!(data["args"], json!({"name": "a=b"}));
    let progress = data["progress_path"].as_str().unwrap();
    assert_eq!(data["stderr"], format!("{progress}\n"));
    assert!(progress.starts_with(sb.data().join("buttons/hello/pressed").to_str().unwrap()));
    assert_eq!(mode(progress.as_ref()), 0o600);
    let records = history(&sb, "hello");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["stdout"], "Hello, a=b\n");
    assert_eq!(records[0]["status"], "ok");
    assert_eq!(mode(records[0]["path"].as_str().unwrap().as_ref()), 0o600);
    // One run, one id: `pressed/<id>.json` beside `pressed/<id>.jsonl`, and
    // the record names its progress file.
    let record = records[0]["path"].as_str().unwrap();
    assert_eq!(
        record.strip_suffix(".json"),
        progress.strip_suffix(".jsonl"),
        "{record} vs {progress}"
    );
    assert_eq!(records[0]["progress_path"], progress);
    let on_disk: serde_json::Value = serde_json::from_slice(&fs::read(record).unwrap()).unwrap();
    assert_eq!(on_disk["progress_path"], progress);
}

#[test]
fn not_found() {
    let sb = Sandbox::new();
    let e = sb.err(&["press", "nope"], "NOT_FOUND");
    assert!(
        e["hint"].as_str().unwrap().contains("buttons create"),
        "{e}"
    );
    sb.ok(&["create", "other", "--code", "true"]);
    let e = sb.err(&["press", "nope"], "NOT_FOUND");
    assert!(e["hint"].as_str().unwrap().contains("buttons list"), "{e}");
    sb.err(&["press", "nope", "--dry-run"], "NOT_FOUND");
}

#[test]
fn missing_arg_also_in_dry_run() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "b",
        "--code",
        "true",
        "--arg",
        "city:string:required",
    ]);
    for args in [&["press", "b"][..], &["press", "b", "--dry-run"]] {
        let e = sb.err(args, "MISSING_ARG");
        assert_eq!(
            e["spec"],
            json!([{"name": "city", "type": "string", "required": true}])
        );
        assert!(e["hint"].as_str().unwrap().contains("--arg city="));
    }
    assert!(history(&sb, "b").is_empty());
}

#[test]
fn validation_errors() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "b",
        "--code",
        "true",
        "--arg",
        "n:int:optional",
        "--arg",
        "e:enum:optional:x|y",
    ]);
    for args in [
        &["press", "b", "--arg", "n=three"][..],
        &["press", "b", "--arg", "e=z"],
        &["press", "b", "--arg", "other=1"],
        &["press", "b", "--arg", "novalue"],
        &["press", "b", "--arg", "n=1", "--arg", "n=2"],
        &["press", "b", "--timeout", "0"],
        &["press", "b", "--timeout", "-1"],
        &["press", "../b"],
    ] {
        sb.err(args, "VALIDATION_ERROR");
    }
    let e = sb.err(&["press", "b", "--arg", "other=1"], "VALIDATION_ERROR");
    assert!(e["hint"].as_str().unwrap().contains("n, e"), "{e}");
    assert!(history(&sb, "b").is_empty());
}

#[test]
fn timeout_kills_and_records() {
    let sb = Sandbox::new();
    sb.ok(&["create", "slow", "--code", "echo started; sleep 30"]);
    let start = Instant::now();
    let e = sb.err(&["press", "slow", "--timeout", "1"], "TIMEOUT");
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(e["hint"].as_str().unwrap().contains("--timeout"));
    let records = history(&sb, "slow");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["status"], "timeout");
    assert_eq!(records[0]["error_type"], "TIMEOUT");
    assert_eq!(records[0]["stdout"], "started\n");
}

#[test]
fn script_error_keeps_exit_code() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "fail",
        "--code",
        "echo partial; echo oops >&2; exit 3",
    ]);
    let e = sb.err(&["press", "fail"], "SCRIPT_ERROR");
    assert!(e["message"].as_str().unwrap().contains("oops"));
    // The failed press keeps its result beside the error.
    let run = sb.run(&["press", "fail"]);
    assert_eq!(run.json["data"]["stdout"], "partial\n");
    assert_eq!(run.json["data"]["stderr"], "oops\n");
    assert_eq!(run.json["data"]["exit_code"], 3);
    let records = history(&sb, "fail");
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["exit_code"], 3);
    assert_eq!(records[0]["status"], "error");
    assert_eq!(records[0]["stdout"], "partial\n");

    // A missing code file is a script error too.
    sb.ok(&["create", "gone", "--code", "true"]);
    fs::remove_file(sb.data().join("buttons/gone/main.sh")).unwrap();
    sb.err(&["press", "gone"], "SCRIPT_ERROR");
    assert_eq!(history(&sb, "gone").len(), 1);
}

#[test]
fn runtime_missing() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "js",
        "--runtime",
        "node",
        "--code",
        "console.log(1)",
    ]);
    let run = sb
        .cmd(&["press", "js"])
        .env("PATH", "/nonexistent-bin")
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(json["error"]["code"], "RUNTIME_MISSING", "{json}");
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(history(&sb, "js")[0]["error_type"], "RUNTIME_MISSING");

    // A hand-edited spec naming an unknown runtime.
    sb.ok(&["create", "odd", "--code", "true"]);
    let spec = sb.data().join("buttons/odd/button.json");
    let text = fs::read_to_string(&spec)
        .unwrap()
        .replace("\"shell\"", "\"cobol\"");
    fs::write(&spec, text).unwrap();
    sb.err(&["press", "odd"], "RUNTIME_MISSING");
}

#[test]
fn prompt_button_and_prompt_error() {
    let sb = Sandbox::new();
    sb.ok(&["create", "ask", "--prompt", "Summarise the logs"]);
    let data = sb.ok(&["press", "ask"]);
    assert_eq!(data["stdout"], "Summarise the logs\n");
    fs::remove_file(sb.data().join("buttons/ask/AGENTS.md")).unwrap();
    sb.err(&["press", "ask"], "PROMPT_ERROR");
    assert_eq!(history(&sb, "ask").len(), 2);
}

#[test]
fn real_agents_md_is_attached_scaffold_is_not() {
    let sb = Sandbox::new();
    sb.ok(&["create", "b", "--code", "true", "-d", "desc"]);
    let data = sb.ok(&["press", "b"]);
    assert!(data.get("prompt").is_none(), "{data}");
    fs::write(sb.data().join("buttons/b/AGENTS.md"), "Use with care.\n").unwrap();
    let data = sb.ok(&["press", "b"]);
    assert!(data["prompt"].as_str().unwrap().contains("Use with care."));
}

#[test]
fn argument_values_are_inert() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "echo",
        "--arg",
        "v:string:required",
        "--code",
        "printf '%s' \"$BUTTONS_ARG_V\"",
    ]);
    let marker = sb.path().join("pwned");
    let value = format!(
        "$(touch {m}); `touch {m}`; touch {m} '\"\n",
        m = marker.display()
    );
    let data = sb.ok(&["press", "echo", "--arg", &format!("v={value}")]);
    assert_eq!(data["stdout"], value);
    assert!(!marker.exists());
}

#[test]
fn batteries_reach_scripts_local_over_global_masked_in_dry_run() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "bat",
        "--code",
        "echo \"$BUTTONS_BAT_TOKEN $BUTTONS_BAT_ONLY_G\"",
    ]);
    sb.ok(&["batteries", "set", "TOKEN", "global-secret", "--global"]);
    sb.ok(&["batteries", "set", "ONLY_G", "g", "--global"]);
    sb.ok(&["batteries", "set", "TOKEN", "local-secret", "--local"]);
    let data = sb.ok(&["press", "bat"]);
    assert_eq!(data["stdout"], "local-secret g\n");

    let run = sb.run(&["press", "bat", "--dry-run"]);
    let text = String::from_utf8_lossy(&run.output.stdout).into_owned();
    assert!(!text.contains("secret"), "dry run leaked a battery: {text}");
    let data = &run.json["data"];
    assert_eq!(data["env"]["BUTTONS_BAT_TOKEN"], "********");
    assert_eq!(data["button"], "bat");
    assert_eq!(data["runtime"], "shell");
    assert_eq!(data["timeout"], 300);
}

#[test]
fn dry_run_records_nothing_and_shows_env() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "d",
        "--code",
        "touch ran",
        "--arg",
        "my-arg:int:required",
        "--timeout",
        "7",
    ]);
    let data = sb.ok(&["press", "d", "--arg", "my-arg=5", "--dry-run"]);
    assert_eq!(
        data,
        json!({
            "button": "d", "runtime": "shell", "timeout": 7,
            "args": {"my-arg": "5"}, "env": {"BUTTONS_ARG_MY_ARG": "5"},
        })
    );
    assert!(!sb.data().join("buttons/d/ran").exists());
    // create made pressed/; a dry run leaves it empty.
    assert_eq!(
        fs::read_dir(sb.data().join("buttons/d/pressed"))
            .unwrap()
            .count(),
        0
    );
    let data = sb.ok(&[
        "press",
        "d",
        "--arg",
        "my-arg=5",
        "--dry-run",
        "--timeout",
        "2",
    ]);
    assert_eq!(data["timeout"], 2);
}

#[test]
fn dry_run_of_http_button_shows_the_request() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "api",
        "--url",
        "https://api.example.com/u/{{id}}?q={{q}}",
        "--method",
        "POST",
        "--header",
        "Content-Type: application/json",
        "--body",
        "{\"q\": \"{{q}}\"}",
        "--arg",
        "id:string:required",
        "--arg",
        "q:string:required",
    ]);
    let data = sb.ok(&[
        "press",
        "api",
        "--arg",
        "id=../x",
        "--arg",
        "q=a&b\"",
        "--dry-run",
    ]);
    assert_eq!(data["method"], "POST");
    assert_eq!(data["url"], "https://api.example.com/u/..%2Fx?q=a%26b%22");
    assert_eq!(data["body"], "{\"q\": \"a&b\\\"\"}");
    assert_eq!(
        data["headers"],
        json!([["Content-Type", "application/json"]])
    );
}

#[test]
fn follow_streams_lines_to_stderr() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "f",
        "--code",
        "echo out1; echo err1 >&2; echo out2",
    ]);
    let run = sb.run(&["press", "f", "--follow"]);
    assert_eq!(run.json["data"]["stdout"], "out1\nout2\n");
    let stderr = run.stderr();
    for line in ["out1", "! err1", "out2"] {
        assert!(
            stderr.lines().any(|l| l == line),
            "{line:?} not in {stderr:?}"
        );
    }
    let run = sb.run(&["press", "f"]);
    assert!(run.stderr().is_empty(), "{}", run.stderr());
}

#[test]
fn fifty_concurrent_presses_leave_fifty_records() {
    let sb = Sandbox::new();
    sb.ok(&["create", "c", "--code", "echo hi"]);
    let children: Vec<_> = (0..50)
        .map(|_| {
            sb.cmd(&["press", "c"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let records = history(&sb, "c");
    assert_eq!(records.len(), 50);
    let pressed = sb.data().join("buttons/c/pressed");
    let names: Vec<String> = fs::read_dir(&pressed)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with(".tmp")), "{names:?}");
    assert_eq!(names.iter().filter(|n| n.ends_with(".json")).count(), 50);
}

fn alive(pid: &str) -> bool {
    // A zombie waiting for a reaper is dead for our purposes.
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

#[test]
fn ctrl_c_kills_the_group_and_records_the_run() {
    interrupt_kills_the_group_and_records_the_run("INT");
}

#[test]
fn sigterm_kills_the_group_and_records_the_run() {
    interrupt_kills_the_group_and_records_the_run("TERM");
}

#[test]
fn sighup_kills_the_group_and_records_the_run() {
    interrupt_kills_the_group_and_records_the_run("HUP");
}

/// Sends `signal` to a `buttons press` whose script backgrounds a child: the
/// whole group dies, the press fails, and the run is recorded.
fn interrupt_kills_the_group_and_records_the_run(signal: &str) {
    let sb = Sandbox::new();
    let pids = sb.path().join("pids");
    sb.ok(&[
        "create",
        "long",
        "--code",
        &format!(
            "sleep 30 & echo $! > '{p}.tmp'; echo $$ >> '{p}.tmp'; mv '{p}.tmp' '{p}'; wait",
            p = pids.display()
        ),
    ]);
    let child = sb
        .cmd(&["press", "long"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !pids.exists() {
        assert!(Instant::now() < deadline, "the script never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    let text = fs::read_to_string(&pids).unwrap();
    let group: Vec<&str> = text.lines().collect();
    assert!(group.iter().all(|p| alive(p)));
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    // 128 + the signal, as a shell reports a command it ended.
    let expected = match signal {
        "INT" => 130,
        "TERM" => 143,
        _ => 129,
    };
    assert_eq!(out.status.code(), Some(expected), "SIG{signal}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["error"]["code"], "CANCELLED", "SIG{signal}");
    for pid in &group {
        assert!(!alive(pid), "SIG{signal}: process {pid} outlived the press");
    }
    let records = history(&sb, "long");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["status"], "error", "SIG{signal}");
    let stderr = records[0]["stderr"].as_str().unwrap();
    assert!(stderr.contains("interrupted"), "SIG{signal}: {stderr}");
}

/// Issue 19: a script is started by its absolute path, as the Go tool does
/// (`$0` is `/…/buttons/NAME/main.sh`).
#[test]
fn the_script_gets_its_absolute_path_as_dollar_zero() {
    let sb = Sandbox::new();
    sb.ok(&["create", "whoami", "--code", "printf %s \"$0\""]);
    let data = sb.ok(&["press", "whoami"]);
    let expected = fs::canonicalize(sb.data())
        .unwrap()
        .join("buttons/whoami/main.sh");
    assert_eq!(data["stdout"], expected.to_str().unwrap());
}

/// The envelope and the record of a press whose output has NULs, control
/// characters and invalid UTF-8 are the bytes the JSON-value envelope and
/// the pretty-printed record had: streaming them changed nothing.
#[test]
fn envelope_and_record_bytes_are_unchanged_for_awkward_output() {
    let sb = Sandbox::new();
    let bytes: &[u8] = b"a\0b\xff\xfe\0c\t\"q\"\\ \x01\x1b[0m \xc3\xa9\n\xe2\x82";
    let octal: String = bytes.iter().map(|b| format!("\\{b:03o}")).collect();
    sb.ok(&[
        "create",
        "awk",
        "--code",
        &format!("printf '{octal}'; printf 'e\\000rr\\377' >&2; exit 2"),
    ]);
    let out = sb.cmd(&["press", "awk"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    // The old envelope: a JSON value of the result, written compactly.
    let envelope: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut old = serde_json::to_vec(&envelope).unwrap();
    old.push(b'\n');
    assert!(
        out.stdout == old,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        envelope["data"]["stdout"],
        String::from_utf8_lossy(bytes).as_ref()
    );
    assert_eq!(envelope["data"]["stderr"], "e\0rr\u{fffd}");
    // The old record: pretty-printed, and a newline.
    let pressed = sb.data().join("buttons/awk/pressed");
    let record = fs::read_dir(&pressed)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let written = fs::read(&record).unwrap();
    let parsed: buttons_spec::RunRecord = serde_json::from_slice(&written).unwrap();
    let mut old = serde_json::to_string_pretty(&parsed).unwrap();
    old.push('\n');
    assert!(
        written == old.as_bytes(),
        "{}",
        String::from_utf8_lossy(&written)
    );
    assert_eq!(parsed.stdout, envelope["data"]["stdout"]);
}
