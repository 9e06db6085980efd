//! `--timeout` takes durations with units; the human output reads them back.

use crate::Sandbox;

#[test]
fn timeouts_take_units() {
    let sb = Sandbox::new();
    let made = sb.ok(&["create", "t", "--code", "true", "--timeout", "2m"]);
    assert_eq!(made["timeout_seconds"], 120, "{made}");
    for (given, secs) in [("2m", 120), ("90", 90), ("90s", 90), ("1h", 3600)] {
        let plan = sb.ok(&["press", "t", "--timeout", given, "--dry-run"]);
        assert_eq!(plan["timeout"], secs, "{given}: {plan}");
    }
    let err = sb.err(
        &["press", "t", "--timeout", "2 parsecs"],
        "VALIDATION_ERROR",
    );
    assert!(err["message"].as_str().unwrap().contains("2m"), "{err}");
    sb.err(&["press", "t", "--timeout", "0"], "VALIDATION_ERROR");
    // A fraction of a second is a real timeout for a press.
    sb.ok(&["create", "nap", "--code", "sleep 5"]);
    sb.err(&["press", "nap", "--timeout", "0.5"], "TIMEOUT");
}
