//! `buttons smash` through the real binary: the concurrency cap, stop versus
//! continue, argument routing, and validation before anything runs.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Sandbox;
use crate::queues::{logging_script, max_alive};

fn smash(sb: &Sandbox, args: &[&str]) -> (Value, Option<i32>) {
    let mut all = vec!["smash"];
    all.extend_from_slice(args);
    let run = sb.run(&all);
    assert_eq!(run.json["ok"], true, "{}", run.json);
    (run.json["data"].clone(), run.output.status.code())
}

fn kinds(data: &Value) -> Vec<String> {
    data["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let button = r["button"].as_str().unwrap();
            if r["skipped"] == true {
                format!("{button}:skipped")
            } else if r.get("error").is_some() {
                format!("{button}:error")
            } else {
                format!("{button}:{}", r["result"]["status"].as_str().unwrap())
            }
        })
        .collect()
}

#[test]
fn five_buttons_with_concurrency_2_never_have_more_than_2_alive() {
    let sb = Sandbox::new();
    let log = sb.path().join("log");
    let names = ["s1", "s2", "s3", "s4", "s5"];
    for name in names {
        sb.ok(&["create", name, "--code", &logging_script(&log, "0.3")]);
    }
    let (data, code) = smash(&sb, &["s1", "s2,s3", "s4", "s5", "--concurrency", "2"]);
    assert_eq!(code, Some(0));
    assert_eq!(data["total"], 5);
    assert_eq!(data["failures"], 0);
    assert_eq!(kinds(&data), ["s1:ok", "s2:ok", "s3:ok", "s4:ok", "s5:ok"]);
    let (most, runs) = max_alive(&std::fs::read_to_string(&log).unwrap());
    assert_eq!(runs, 5);
    assert!(most <= 2, "{most} alive at once");
    assert_eq!(most, 2, "the smash ran one at a time");
}

#[test]
fn stop_skips_what_has_not_started_and_continue_presses_everything() {
    let sb = Sandbox::new();
    sb.ok(&["create", "good", "--code", "echo good"]);
    sb.ok(&["create", "bad", "--code", "echo no >&2; exit 3"]);
    sb.ok(&["create", "later", "--code", "echo later"]);
    let run = sb.run(&["smash", "good", "bad", "later", "--concurrency", "1"]);
    // ok: true, exit 1: the Go tool's shape for a smash with failures.
    assert_eq!(run.json["ok"], true, "{}", run.json);
    assert_eq!(run.output.status.code(), Some(1));
    let data = &run.json["data"];
    assert_eq!(kinds(data), ["good:ok", "bad:error", "later:skipped"]);
    assert_eq!(data["failures"], 1);
    assert_eq!(data["results"][1]["result"]["error_type"], "SCRIPT_ERROR");
    assert_eq!(sb.ok(&["history", "later"]).as_array().unwrap().len(), 0);

    let (data, code) = smash(
        &sb,
        &[
            "good,bad,later",
            "--concurrency",
            "1",
            "--on-failure",
            "continue",
        ],
    );
    assert_eq!(code, Some(1));
    assert_eq!(kinds(&data), ["good:ok", "bad:error", "later:ok"]);
    assert_eq!(data["failures"], 1);
}

#[test]
fn stop_kills_the_presses_under_way_and_records_them() {
    let sb = Sandbox::new();
    let started = sb.path().join("started");
    sb.ok(&[
        "create",
        "slow",
        "--code",
        &format!("touch '{}'; sleep 30", started.display()),
    ]);
    // Fails only once the slow one runs.
    sb.ok(&[
        "create",
        "bad",
        "--code",
        &format!(
            "while [ ! -e '{}' ]; do sleep 0.05; done; exit 2",
            started.display()
        ),
    ]);
    let clock = Instant::now();
    let (data, code) = smash(&sb, &["slow", "bad", "--concurrency", "2"]);
    assert!(
        clock.elapsed() < Duration::from_secs(25),
        "the slow one was not killed"
    );
    assert_eq!(code, Some(1));
    assert_eq!(kinds(&data), ["slow:error", "bad:error"]);
    assert_eq!(data["failures"], 2);
    let records = sb.ok(&["history", "slow"]);
    assert_eq!(records.as_array().unwrap().len(), 1, "{records}");
    assert_eq!(records[0]["status"], "error");
}

#[test]
fn arguments_are_routed_and_checked_before_anything_runs() {
    let sb = Sandbox::new();
    let ran = sb.path().join("ran");
    sb.ok(&[
        "create",
        "first",
        "--code",
        &format!(
            "echo \"first $BUTTONS_ARG_WHO\" >> '{}'; echo \"$BUTTONS_ARG_WHO\"",
            ran.display()
        ),
        "--arg",
        "who:string:required",
    ]);
    sb.ok(&[
        "create",
        "second",
        "--code",
        "echo \"$BUTTONS_ARG_WHO $BUTTONS_ARG_N\"",
        "--arg",
        "who:string:required",
        "--arg",
        "n:int:required",
    ]);
    // `second` lacks n: refused, and `first` never ran.
    let e = sb.err(
        &["smash", "first", "second", "--arg", "who=Ada"],
        "MISSING_ARG",
    );
    assert!(e["message"].as_str().unwrap().contains('n'), "{e}");
    assert!(!ran.exists());
    sb.err(
        &["smash", "first", "--arg", "who=a", "--arg", "nobody=1"],
        "VALIDATION_ERROR",
    );
    sb.err(
        &["smash", "first", "--arg", "who=a", "--arg", "third.who=1"],
        "VALIDATION_ERROR",
    );
    sb.err(
        &["smash", "first", "missing", "--arg", "who=a"],
        "NOT_FOUND",
    );
    assert!(!ran.exists());

    let (data, code) = smash(
        &sb,
        &[
            "first",
            "second",
            "--arg",
            "who=Ada",
            "--arg",
            "second.n=2",
            "--arg",
            "first.who=Bob",
        ],
    );
    assert_eq!(code, Some(0), "{data}");
    // `first.who` is more specific than `who`: it wins for `first`.
    assert_eq!(data["results"][0]["result"]["stdout"], "Bob\n");
    assert_eq!(data["results"][1]["result"]["stdout"], "Ada 2\n");
}

#[test]
fn human_mode_prints_a_line_per_button_and_a_summary() {
    let sb = Sandbox::new();
    sb.ok(&["create", "good", "--code", "true"]);
    sb.ok(&["create", "bad", "--code", "exit 1"]);
    sb.ok(&["create", "after", "--code", "true"]);
    let exe = env!("CARGO_BIN_EXE_buttons");
    let out = std::process::Command::new("script")
        .args([
            "-qec",
            &format!("'{exe}' smash good bad after --concurrency 1"),
            "/dev/null",
        ])
        .env("HOME", sb.home())
        .env("BUTTONS_HOME", sb.data())
        .env("NO_COLOR", "1")
        .current_dir(sb.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    assert!(text.contains("✓ good ok in "), "{text}");
    assert!(
        text.contains("✗ bad failed: SCRIPT_ERROR (exit 1)"),
        "{text}"
    );
    assert!(text.contains("– after skipped"), "{text}");
    assert!(
        text.contains("smashed 3 buttons: 1 ok, 1 failed, 1 skipped"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1));
}
