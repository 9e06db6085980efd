//! Queues through the real binary: presses of buttons sharing a queue never
//! overlap beyond its concurrency, across processes; a wait past the timeout
//! is QUEUE_TIMEOUT; a killed press frees its slot.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Sandbox;

/// Sets the `queue` block of a button's `button.json`.
pub(crate) fn set_queue(sb: &Sandbox, name: &str, queue: Value) {
    let path = sb.data().join(format!("buttons/{name}/button.json"));
    let mut spec: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    spec["queue"] = queue;
    std::fs::write(&path, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();
}

/// A script logging `PID S|E NANOS` lines to `log` around a sleep.
pub(crate) fn logging_script(log: &Path, sleep: &str) -> String {
    let log = log.display();
    format!(
        "echo \"$$ S $(date +%s%N)\" >> '{log}'; sleep {sleep}; echo \"$$ E $(date +%s%N)\" >> '{log}'"
    )
}

/// The greatest number of runs alive at one instant in such a log.
pub(crate) fn max_alive(log: &str) -> (usize, usize) {
    let mut edges = Vec::new();
    let mut runs = 0;
    for line in log.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let at: u128 = parts[2].parse().unwrap();
        let step = if parts[1] == "S" {
            runs += 1;
            1
        } else {
            -1
        };
        edges.push((at, step));
    }
    edges.sort_unstable();
    let (mut alive, mut most) = (0i32, 0i32);
    for (_, step) in edges {
        alive += step;
        most = most.max(alive);
    }
    (usize::try_from(most).unwrap(), runs)
}

#[test]
fn ten_concurrent_cli_presses_of_two_buttons_sharing_a_queue_never_overlap() {
    let sb = Sandbox::new();
    let log = sb.path().join("log");
    for (name, concurrency) in [("qa", 1), ("qb", 3)] {
        sb.ok(&["create", name, "--code", &logging_script(&log, "0.1")]);
        set_queue(
            &sb,
            name,
            json!({"name": "shared", "concurrency": concurrency}),
        );
    }
    let children: Vec<_> = (0..10)
        .map(|i| {
            let name = if i % 2 == 0 { "qa" } else { "qb" };
            sb.cmd(&["press", name, "--timeout", "120"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["ok"], true, "{json}");
    }
    let (most, runs) = max_alive(&std::fs::read_to_string(&log).unwrap());
    assert_eq!(runs, 10);
    assert_eq!(most, 1, "two presses of the queue ran at once");
}

#[test]
fn a_wait_past_the_timeout_is_queue_timeout_and_kill_9_frees_the_slot() {
    let sb = Sandbox::new();
    let started = sb.path().join("started");
    let pid_file = sb.path().join("pid");
    sb.ok(&[
        "create",
        "hold",
        "--code",
        &format!(
            "echo $$ > '{}'; touch '{}'; sleep 30",
            pid_file.display(),
            started.display()
        ),
    ]);
    sb.ok(&["create", "other", "--code", "echo ran"]);
    for name in ["hold", "other"] {
        set_queue(&sb, name, json!({"name": "one", "concurrency": 1}));
    }
    let mut holder = sb
        .cmd(&["press", "hold"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !started.exists() {
        assert!(Instant::now() < deadline, "the holder never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let e = sb.err(&["press", "other", "--timeout", "1"], "QUEUE_TIMEOUT");
    assert!(e["message"].as_str().unwrap().contains("one"), "{e}");
    assert!(e["hint"].as_str().unwrap().contains("--timeout"), "{e}");
    // Nothing ran, nothing was recorded.
    assert_eq!(sb.ok(&["history", "other"]).as_array().unwrap().len(), 0);

    // SIGKILL gives the holder no chance to clean up: the OS drops its lock.
    holder.kill().unwrap();
    holder.wait().unwrap();
    let data = sb.ok(&["press", "other", "--timeout", "20"]);
    assert_eq!(data["stdout"], "ran\n");
    // The holder's orphaned script is this test's to end.
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let _ = Command::new("kill").args(["-9", pid.trim()]).status();
}

#[test]
fn human_mode_says_what_it_waits_for() {
    assert!(
        Command::new("script").arg("--version").output().is_ok(),
        "this test needs util-linux `script` (a pseudo-terminal)"
    );
    let sb = Sandbox::new();
    sb.ok(&["create", "w", "--code", "echo ran"]);
    set_queue(&sb, "w", json!({"name": "api", "concurrency": 1}));
    // Hold the only slot the way a press does: a lock on its slot file.
    let slot_dir = sb.data().join("queues/api");
    std::fs::create_dir_all(&slot_dir).unwrap();
    let slot = std::fs::File::create(slot_dir.join("slot-0.lock")).unwrap();
    slot.lock().unwrap();
    let exe = env!("CARGO_BIN_EXE_buttons");
    let out = Command::new("script")
        .args(["-qec", &format!("'{exe}' press w --timeout 1"), "/dev/null"])
        .env("HOME", sb.home())
        .env("BUTTONS_HOME", sb.data())
        .env("NO_COLOR", "1")
        .current_dir(sb.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("waiting for queue api (1 running)"), "{text}");
    assert!(text.contains("waited 1s for a slot of queue api"), "{text}");
    assert!(text.contains("--timeout"), "{text}");
    drop(slot);
}
