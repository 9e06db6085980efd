//! Ctrl-C during a press: the run is recorded as `CANCELLED` and the CLI
//! exits 130; "exit -1" is never shown.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Sandbox;

#[test]
fn sigint_records_cancelled_and_exits_130() {
    let sb = Sandbox::new();
    sb.ok(&["create", "slow", "--code", "touch started; sleep 30"]);
    let started = sb.data().join("buttons/slow/started");
    let child = sb
        .cmd(&["press", "slow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let clock = Instant::now();
    while !started.exists() {
        assert!(
            clock.elapsed() < Duration::from_secs(30),
            "the script never started"
        );
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
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["ok"], false, "{json}");
    assert_eq!(json["error"]["code"], "CANCELLED", "{json}");
    assert_eq!(json["data"]["error_type"], "CANCELLED", "{json}");
    assert!(clock.elapsed() < Duration::from_secs(25));
    // The record says so too.
    let history = sb.ok(&["history", "slow"]);
    assert_eq!(history[0]["error_type"], "CANCELLED", "{history}");
    assert!(!json.to_string().contains("exit -1"), "{json}");
}
