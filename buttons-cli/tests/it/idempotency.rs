//! Idempotency keys through the real binary: one run for many concurrent
//! presses with one key, scoped to the button, expiring, argument-checked.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::Sandbox;

fn count_runs(sb: &Sandbox, file: &str) -> usize {
    std::fs::read_to_string(sb.path().join(file))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

fn counting_button(sb: &Sandbox, name: &str) {
    let runs = sb.path().join(format!("{name}.runs"));
    sb.ok(&[
        "create",
        name,
        "--code",
        &format!(
            "echo run >> '{}'; sleep 0.3; echo \"charged $BUTTONS_ARG_AMOUNT\"",
            runs.display()
        ),
        "--arg",
        "amount:int:required",
    ]);
}

fn history_len(sb: &Sandbox, name: &str) -> usize {
    sb.ok(&["history", name]).as_array().unwrap().len()
}

#[test]
fn twenty_concurrent_presses_with_one_key_run_once_and_answer_alike() {
    let sb = Sandbox::new();
    counting_button(&sb, "charge");
    let children: Vec<_> = (0..20)
        .map(|_| {
            sb.cmd(&[
                "press",
                "charge",
                "--arg",
                "amount=5",
                "--idempotency-key",
                "order-1",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let mut results = Vec::new();
    let mut replays = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["ok"], true, "{json}");
        let mut data = json["data"].clone();
        if data.as_object_mut().unwrap().remove("replayed") == Some(Value::Bool(true)) {
            replays += 1;
        }
        results.push(data);
    }
    assert_eq!(
        count_runs(&sb, "charge.runs"),
        1,
        "the button ran more than once"
    );
    assert_eq!(replays, 19);
    assert!(results.iter().all(|r| *r == results[0]), "{results:?}");
    assert_eq!(results[0]["stdout"], "charged 5\n");
    assert_eq!(history_len(&sb, "charge"), 1);

    // The entry is private.
    let dir = sb.data().join("idempotency/charge");
    assert_eq!(crate::mode(&dir), 0o700);
    for entry in std::fs::read_dir(&dir).unwrap() {
        assert_eq!(crate::mode(&entry.unwrap().path()), 0o600);
    }
}

#[test]
fn keys_are_scoped_to_the_button_and_checked_against_the_arguments() {
    let sb = Sandbox::new();
    counting_button(&sb, "a");
    counting_button(&sb, "b");
    let press = |name: &str, amount: &str| {
        sb.run(&[
            "press",
            name,
            "--arg",
            &format!("amount={amount}"),
            "--idempotency-key",
            "k",
        ])
    };
    assert_eq!(press("a", "1").json["ok"], true);
    // The same key on another button runs that button.
    let b = press("b", "1");
    assert_eq!(b.json["ok"], true);
    assert!(b.json["data"].get("replayed").is_none(), "{}", b.json);
    assert_eq!(count_runs(&sb, "b.runs"), 1);
    // A repeat replays.
    assert_eq!(press("a", "1").json["data"]["replayed"], true);
    assert_eq!(count_runs(&sb, "a.runs"), 1);
    // Other arguments with the key are refused, and nothing runs.
    let e = sb.err(
        &["press", "a", "--arg", "amount=2", "--idempotency-key", "k"],
        "VALIDATION_ERROR",
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("key k was used with other arguments"),
        "{e}"
    );
    assert_eq!(count_runs(&sb, "a.runs"), 1);
    assert_eq!(history_len(&sb, "a"), 1);
}

#[test]
fn an_expired_key_runs_again_and_failures_are_not_kept() {
    let sb = Sandbox::new();
    counting_button(&sb, "c");
    let args = [
        "press",
        "c",
        "--arg",
        "amount=1",
        "--idempotency-key",
        "short",
        "--idempotency-ttl",
        "1s",
    ];
    assert_eq!(sb.run(&args).json["ok"], true);
    assert_eq!(sb.run(&args).json["data"]["replayed"], true);
    std::thread::sleep(Duration::from_millis(1300));
    let again = sb.run(&args);
    assert!(
        again.json["data"].get("replayed").is_none(),
        "{}",
        again.json
    );
    assert_eq!(count_runs(&sb, "c.runs"), 2);

    let fails = sb.path().join("f.runs");
    sb.ok(&[
        "create",
        "flaky",
        "--code",
        &format!("echo run >> '{}'; exit 3", fails.display()),
    ]);
    for _ in 0..2 {
        sb.err(
            &["press", "flaky", "--idempotency-key", "x"],
            "SCRIPT_ERROR",
        );
    }
    assert_eq!(count_runs(&sb, "f.runs"), 2);

    sb.err(
        &[
            "press",
            "c",
            "--idempotency-key",
            "k",
            "--idempotency-ttl",
            "1 day",
        ],
        "VALIDATION_ERROR",
    );
    sb.err(
        &["press", "c", "--idempotency-ttl", "1h"],
        "VALIDATION_ERROR",
    );
}
