//! Issue 19, "Orientation: what an agent calls first": `buttons` with no
//! command and `summary`, active-run markers, `logs`, `tail`, `board`.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Sandbox;

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn spawn_press(sb: &Sandbox, name: &str) -> Child {
    sb.cmd(&["press", name, "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn pressed_dir(sb: &Sandbox, name: &str) -> std::path::PathBuf {
    sb.data().join("buttons").join(name).join("pressed")
}

#[test]
fn bare_buttons_and_summary_give_the_overview() {
    let sb = Sandbox::new();
    sb.ok(&["create", "good", "--code", "echo hi", "-d", "says hi"]);
    sb.ok(&["create", "bad", "--code", "echo oops >&2; exit 3"]);
    sb.ok(&["press", "good"]);
    sb.err(&["press", "bad"], "SCRIPT_ERROR");
    for args in [
        &["--json"][..],
        &["summary", "--json"],
        &["summary", "--deep"],
    ] {
        let data = sb.ok(args);
        assert_eq!(data["version"], env!("CARGO_PKG_VERSION"), "{args:?}");
        assert_eq!(
            data["counts"],
            serde_json::json!({"buttons": 2, "drawers": 0, "failures_recent": 1})
        );
        assert_eq!(data["drawers"], serde_json::json!([]));
        assert_eq!(data["active_runs"], serde_json::json!([]));
        let buttons = data["buttons"].as_array().unwrap();
        let good = buttons.iter().find(|b| b["name"] == "good").unwrap();
        assert_eq!(good["description"], "says hi");
        assert_eq!(good["runtime"], "shell");
        assert_eq!(good["timeout_seconds"], 300);
        assert_eq!(good["recent_runs"][0]["status"], "ok");
        assert!(good["recent_runs"][0].get("error_code").is_none());
        let failure = &data["recent_failures"][0];
        assert_eq!(failure["button"], "bad");
        assert_eq!(failure["error_code"], "SCRIPT_ERROR");
        assert_eq!(failure["stderr"], "oops\n");
        assert!(data["data_dir"].as_str().unwrap().ends_with("data"));
    }
    // Piped with no flag at all: JSON too.
    let run = sb.run(&[]);
    assert_eq!(run.json["ok"], true);
    assert_eq!(run.output.status.code(), Some(0));
}

#[test]
fn summary_lists_a_running_press_and_not_a_dead_marker() {
    let sb = Sandbox::new();
    sb.ok(&["create", "slow", "--code", "sleep 5"]);
    // A marker left by a press that crashed: its pid is gone.
    let dir = pressed_dir(&sb, "slow").join(".active");
    std::fs::create_dir_all(&dir).unwrap();
    let dead_id = "2020-01-01T00-00-00.000000000Z-1-000000";
    std::fs::write(
        dir.join(format!("{dead_id}.running")),
        serde_json::json!({"pid": i32::MAX, "started_at": "2020-01-01T00:00:00Z", "button": "slow", "id": dead_id}).to_string(),
    )
    .unwrap();
    assert_eq!(sb.ok(&["summary"])["active_runs"], serde_json::json!([]));

    let mut child = spawn_press(&sb, "slow");
    let mut active = Value::Null;
    wait_for("the press to show in the summary", || {
        active = sb.ok(&["summary"])["active_runs"].clone();
        active.as_array().is_some_and(|a| !a.is_empty())
    });
    let runs = active.as_array().unwrap();
    assert_eq!(runs.len(), 1, "{active}");
    assert_eq!(runs[0]["name"], "slow");
    assert_eq!(runs[0]["pid"], child.id());
    assert_ne!(runs[0]["id"], dead_id);
    let marker = dir.join(format!("{}.running", runs[0]["id"].as_str().unwrap()));
    assert_eq!(crate::mode(&marker), 0o600);
    child.kill().unwrap();
    child.wait().unwrap();
    // Killed outright, its marker stays, but its pid is gone.
    assert_eq!(sb.ok(&["--json"])["active_runs"], serde_json::json!([]));
}

#[test]
fn a_finished_press_leaves_no_marker() {
    let sb = Sandbox::new();
    sb.ok(&["create", "quick", "--code", "true"]);
    sb.ok(&["press", "quick"]);
    let leftovers: Vec<_> = std::fs::read_dir(pressed_dir(&sb, "quick").join(".active"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".running"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn logs_show_failures_or_one_buttons_runs() {
    let sb = Sandbox::new();
    sb.ok(&["create", "good", "--code", "echo hi"]);
    sb.ok(&["create", "bad", "--code", "echo oops >&2; exit 3"]);
    sb.ok(&["press", "good"]);
    sb.err(&["press", "bad"], "SCRIPT_ERROR");
    sb.ok(&["press", "good"]);

    // Without NAME: failures only, across the data directory.
    let all = sb.ok(&["logs"]);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["button_name"], "bad");
    assert_eq!(all[0]["stderr"], "oops\n");
    assert!(all[0]["id"].is_string() && all[0]["path"].is_string());

    // With NAME: that button's runs, newest first.
    let good = sb.ok(&["logs", "good"]);
    assert_eq!(good.as_array().unwrap().len(), 2);
    assert!(good[0]["started_at"].as_str() > good[1]["started_at"].as_str());
    assert_eq!(
        sb.ok(&["logs", "good", "--limit", "1"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(sb.ok(&["logs", "good", "--failed"]), serde_json::json!([]));
    assert_eq!(sb.ok(&["good", "logs"]), good);
    assert_eq!(
        sb.ok(&["bad", "logs", "--failed"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    sb.err(&["logs", "nope"], "NOT_FOUND");
    sb.err(&["good", "logs", "--bogus"], "VALIDATION_ERROR");
}

#[test]
fn logs_follow_prints_new_records_as_json_lines() {
    let sb = Sandbox::new();
    sb.ok(&["create", "b", "--code", "echo run"]);
    let mut child = sb
        .cmd(&["logs", "b", "-f"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    sb.ok(&["press", "b"]);
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let line = lines.next().unwrap().unwrap();
    let record: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(record["button_name"], "b");
    assert_eq!(record["stdout"], "run\n");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn tail_follow_ends_with_the_press() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "steps",
        "--code",
        "for i in 1 2 3; do echo \"{\\\"step\\\":$i}\" >> \"$BUTTONS_PROGRESS_PATH\"; sleep 0.3; done",
    ]);
    sb.err(&["tail", "steps"], "NOT_FOUND");
    let mut press = spawn_press(&sb, "steps");
    wait_for("the press to start", || {
        sb.ok(&["summary"])["active_runs"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    });
    let start = Instant::now();
    let out = sb.cmd(&["tail", "steps", "-f"]).output().unwrap();
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text, "{\"step\":1}\n{\"step\":2}\n{\"step\":3}\n");
    assert!(press.wait().unwrap().success());

    // Not following: the newest press's lines as data; a path works too.
    let data = sb.ok(&["tail", "steps"]);
    assert_eq!(data["running"], false);
    assert_eq!(data["lines"][2]["step"], 3);
    let path = data["path"].as_str().unwrap().to_owned();
    assert_eq!(sb.ok(&["tail", &path])["id"], data["id"]);
    sb.err(&["tail", "nope"], "NOT_FOUND");
}

#[test]
fn history_no_output_leaves_out_stdout_and_stderr() {
    let sb = Sandbox::new();
    sb.ok(&["create", "b", "--code", "echo out; echo err >&2"]);
    sb.ok(&["press", "b"]);
    let full = sb.ok(&["history", "b"]);
    assert_eq!(full[0]["stdout"], "out\n");
    let light = sb.ok(&["history", "--no-output"]);
    let record = light[0].as_object().unwrap();
    assert!(!record.contains_key("stdout") && !record.contains_key("stderr"));
    assert_eq!(record["status"], "ok");
}

#[test]
fn board_needs_a_terminal() {
    let sb = Sandbox::new();
    let err = sb.err(&["board", "--json"], "NOT_APPLICABLE");
    assert!(err["message"].as_str().unwrap().contains("terminal"));
    sb.err(&["board"], "NOT_APPLICABLE");
}
