//! Issue 17, the process and output half: a killed press leaves no process
//! and is recorded `INTERRUPTED`; big values are refused before spawning and
//! capped in records; a lost record shows in the JSON; `create` refuses what
//! a press would refuse; control characters from data are escaped on a
//! terminal.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Sandbox;
use crate::mcp::{call, connect_with, runtime, text_of};

/// Whether `pid` is a live process (a zombie is dead: it only waits to be reaped).
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
            !matches!(state.and_then(|s| s.chars().next()), Some('Z' | 'X') | None)
        }
        Err(_) => false,
    }
}

/// The field after the state in `/proc/PID/stat`: ppid, then pgrp.
fn pgrp_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(2)?.parse().ok()
}

/// The live processes of group `pgid`.
fn group_members(pgid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if pgrp_of(pid) == Some(pgid) && alive(pid) {
            out.push(pid);
        }
    }
    out
}

fn read_pid(path: &Path, within: Duration) -> i32 {
    let clock = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(pid) = text.trim().parse()
        {
            return pid;
        }
        assert!(
            clock.elapsed() < within,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn kill_9_of_a_press_leaves_no_process_of_its_group_and_the_run_shows_interrupted() {
    let sb = Sandbox::new();
    // The script and a job it puts in the background each write their pid.
    sb.ok(&[
        "create",
        "orphan",
        "--timeout",
        "3",
        "--code",
        "echo $$ > leader.pid; sleep 60 & echo $! > job.pid; wait",
    ]);
    let dir = sb.data().join("buttons/orphan");
    let mut press = sb
        .cmd(&["press", "orphan"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let script = read_pid(&dir.join("leader.pid"), Duration::from_secs(30));
    let job = read_pid(&dir.join("job.pid"), Duration::from_secs(30));
    let pgid = pgrp_of(script).expect("the script runs");
    assert_eq!(pgrp_of(job), Some(pgid), "the job is in the press's group");
    assert_ne!(pgid, pgrp_of(std::process::id() as i32).unwrap());

    // Past the 50 ms after which a press starts its supervisor.
    std::thread::sleep(Duration::from_millis(300));
    press.kill().unwrap(); // SIGKILL: no handler of ours runs.
    press.wait().unwrap();

    // Past the button's timeout (3 s), with a generous margin, nothing of
    // the group is alive.
    let deadline = Instant::now() + Duration::from_secs(3 + 10);
    while !group_members(pgid).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = group_members(pgid);
    if !left.is_empty() {
        let _ = Command::new("kill")
            .args(["-KILL", &format!("-{pgid}")])
            .status();
    }
    assert!(left.is_empty(), "still alive in group {pgid}: {left:?}");
    assert!(!alive(script) && !alive(job), "{script} or {job} is alive");

    // The next command on the button records the run from its marker.
    let history = sb.ok(&["history", "orphan"]);
    let runs = history.as_array().unwrap();
    assert_eq!(runs.len(), 1, "{history}");
    assert_eq!(runs[0]["status"], "error", "{history}");
    assert_eq!(runs[0]["error_type"], "INTERRUPTED", "{history}");
    let active = dir.join("pressed").join(".active");
    let markers = std::fs::read_dir(&active)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".running"))
        .count();
    assert_eq!(markers, 0, "the marker is gone once the run is recorded");
    // Once only.
    assert_eq!(sb.ok(&["history", "orphan"]).as_array().unwrap().len(), 1);
}

#[test]
fn a_press_after_a_killed_one_records_it_interrupted() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "k",
        "--code",
        "touch started; [ -n \"$BUTTONS_ARG_WAIT\" ] && sleep 60; true",
        "--arg",
        "wait:string:optional",
    ]);
    let started = sb.data().join("buttons/k/started");
    let mut press = sb
        .cmd(&["press", "k", "--arg", "wait=1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let clock = Instant::now();
    while !started.exists() {
        assert!(clock.elapsed() < Duration::from_secs(30), "never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    press.kill().unwrap();
    press.wait().unwrap();
    sb.ok(&["press", "k"]);
    let history = sb.ok(&["history", "k"]);
    let types: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["error_type"])
        .collect();
    assert_eq!(types, [&Value::Null, &json!("INTERRUPTED")], "{history}");
}

#[test]
fn a_200_kib_argument_is_refused_before_spawning_naming_it_and_records_keep_64_kib() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "big",
        "--mcp",
        "--arg",
        "payload:string:required",
        "--code",
        "echo ran >> ran.txt",
    ]);
    let ran = sb.data().join("buttons/big/ran.txt");
    runtime().block_on(async {
        let client = connect_with(&sb, (), &["mcp"]).await;
        // Over the limit of one value: refused, naming the argument and the limit.
        let result = client
            .call_tool(call("big", json!({ "payload": "x".repeat(200 << 10) })))
            .await
            .unwrap();
        assert_eq!(result.is_error, Some(true), "{result:?}");
        let structured = result.structured_content.clone().unwrap();
        assert_eq!(structured["error_type"], "VALIDATION_ERROR", "{structured}");
        let text = text_of(&result);
        assert!(text.contains("\"payload\""), "{text}");
        assert!(text.contains("131072 bytes"), "{text}");
        assert!(!text.contains("Argument list too long"), "{text}");
        assert!(!ran.exists(), "nothing was spawned");
        // Under it: the script gets the whole value, the record 64 KiB of it.
        let result = client
            .call_tool(call("big", json!({ "payload": "y".repeat(100 << 10) })))
            .await
            .unwrap();
        assert_ne!(result.is_error, Some(true), "{result:?}");
        client.cancel().await.unwrap();
    });
    assert!(ran.exists());
    let history = sb.ok(&["history", "big"]);
    for record in history.as_array().unwrap() {
        let kept = record["args"]["payload"].as_str().unwrap();
        assert!(kept.len() <= (64 << 10) + 16, "{}", kept.len());
        assert!(kept.ends_with("[truncated]"), "marked truncated");
    }
}

#[test]
fn a_big_environment_is_refused_naming_the_largest_argument_and_the_limit() {
    let sb = Sandbox::new();
    let mut create = vec!["create", "wide", "--code", "echo ran > ran.txt"];
    let defs: Vec<String> = (0..9).map(|i| format!("a{i}:string:required")).collect();
    for def in &defs {
        create.extend(["--arg", def.as_str()]);
    }
    sb.ok(&create);
    // Nine values of 120 KiB (the ninth a little longer): each fits, the
    // whole does not.
    let values: Vec<String> = (0..9)
        .map(|i| {
            format!(
                "a{i}={}",
                "v".repeat((120 << 10) + usize::from(i == 8) * 100)
            )
        })
        .collect();
    let mut press = vec!["press", "wide"];
    for value in &values {
        press.extend(["--arg", value.as_str()]);
    }
    let err = sb.err(&press, "VALIDATION_ERROR");
    let message = err["message"].as_str().unwrap();
    assert!(message.contains("1048576 bytes"), "{message}");
    assert!(message.contains("\"a8\""), "{message}");
    assert!(!sb.data().join("buttons/wide/ran.txt").exists());
}

#[test]
fn a_press_whose_record_fails_says_so_in_json_and_leaves_no_empty_progress_file() {
    let sb = Sandbox::new();
    sb.ok(&["create", "rec", "--code", "echo hi"]);
    let pressed = sb.data().join("buttons/rec/pressed");
    std::fs::create_dir_all(&pressed).unwrap();
    // A planted link where the records' lock file goes.
    std::os::unix::fs::symlink(sb.path().join("elsewhere"), pressed.join(".lock")).unwrap();
    let run = sb.run(&["press", "rec"]);
    assert_eq!(run.json["ok"], true, "{}", run.json);
    let record = &run.json["data"]["record"];
    assert_eq!(record["ok"], false, "{}", run.json);
    assert!(
        !record["error"].as_str().unwrap_or_default().is_empty(),
        "{}",
        run.json
    );
    assert!(run.stderr().contains("warning: the run was not recorded"));
    let empty_progress: Vec<_> = std::fs::read_dir(&pressed)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name().to_string_lossy().ends_with(".jsonl") && e.metadata().unwrap().len() == 0
        })
        .map(|e| e.file_name())
        .collect();
    assert!(empty_progress.is_empty(), "{empty_progress:?}");
    assert!(!sb.path().join("elsewhere").exists());
    // A press whose record was written has no `record` field.
    std::fs::remove_file(pressed.join(".lock")).unwrap();
    let data = sb.ok(&["press", "rec"]);
    assert!(data.get("record").is_none(), "{data}");
}

#[test]
fn create_refuses_urls_and_headers_that_every_press_would_refuse_with_the_reason() {
    let sb = Sandbox::new();
    for (url, reason) in [
        ("http://[fe80::1%25eth0]/x", "invalid IPv6 address"),
        ("http://example.com:99999/x", "invalid port number"),
        ("http://exa%00mple.com/{{q}}", "invalid"),
    ] {
        let err = sb.err(
            &["create", "h", "--url", url, "--arg", "q:string:optional"],
            "VALIDATION_ERROR",
        );
        let message = err["message"].as_str().unwrap();
        assert!(message.contains(reason), "{url}: {message}");
        assert!(!sb.data().join("buttons/h").exists(), "{url}");
    }
    for value in ["a\u{1}b", "a\u{7f}b"] {
        let header = format!("X-A: {value}");
        let err = sb.err(
            &[
                "create",
                "h",
                "--url",
                "http://example.com/",
                "--header",
                &header,
            ],
            "VALIDATION_ERROR",
        );
        let message = err["message"].as_str().unwrap();
        assert!(message.contains("control characters"), "{message}");
    }
    // A spec edited by hand past `create`: the press names the reason.
    sb.ok(&["create", "h", "--url", "http://example.com:8080/x"]);
    let spec = sb.data().join("buttons/h/button.json");
    let mut json: Value = serde_json::from_slice(&std::fs::read(&spec).unwrap()).unwrap();
    json["url"] = json!("http://example.com:99999/x");
    json["allowed_host"] = json!("example.com:99999");
    std::fs::write(&spec, serde_json::to_vec(&json).unwrap()).unwrap();
    let err = sb.err(&["press", "h"], "VALIDATION_ERROR");
    let message = err["message"].as_str().unwrap();
    assert!(message.contains("invalid port number"), "{message}");
}

/// What `buttons ARGS` shows on a pseudo-terminal (util-linux `script`).
fn on_tty(sb: &Sandbox, args: &str) -> String {
    let exe = env!("CARGO_BIN_EXE_buttons");
    let out = Command::new("script")
        .args(["-qec", &format!("'{exe}' {args}"), "/dev/null"])
        .env("HOME", sb.home())
        .env("BUTTONS_HOME", sb.data())
        .env("NO_COLOR", "1")
        .current_dir(sb.path())
        .stdin(Stdio::null())
        .output()
        .expect("these tests need util-linux `script` (a pseudo-terminal)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn escape_sequences_from_specs_and_records_are_escaped_on_a_terminal() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "esc",
        "-d",
        "evil \u{1b}[31mred\u{1b}[0m \u{1b}]0;title\u{7}",
        "--code",
        "echo hi",
    ]);
    sb.ok(&["press", "esc"]);
    for args in ["list", "esc", "history", "", "history esc"] {
        let text = on_tty(&sb, args);
        assert!(!text.contains('\u{1b}'), "{args}: {text:?}");
        assert!(!text.contains('\u{7}'), "{args}: {text:?}");
        if args != "history" && args != "history esc" {
            assert!(text.contains("evil \\x1b[31mred"), "{args}: {text:?}");
        }
    }
}
