//! `batteries set KEY` without a value: read from stdin when piped (or with
//! `-`), so the secret is never on the command line.

use std::io::Write as _;
use std::process::Stdio;
use std::time::Duration;

use crate::Sandbox;

/// Runs `buttons ARGS` with `secret` written on stdin only after the process
/// is up, and checks its argv (`/proc/PID/cmdline`) never held the secret.
fn set_piped(sb: &Sandbox, args: &[&str], secret: &str) -> serde_json::Value {
    let mut child = sb
        .cmd(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The process is waiting for stdin: its argv is what `ps` would show.
    std::thread::sleep(Duration::from_millis(100));
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap_or_default();
    assert!(
        !String::from_utf8_lossy(&cmdline).contains(secret),
        "the secret is on argv"
    );
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{secret}\n").as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_piped_secret_is_stored_and_never_on_argv() {
    let sb = Sandbox::new();
    let set = set_piped(&sb, &["batteries", "set", "TOKEN"], "pipe-s3cret");
    assert_eq!(set["data"]["key"], "TOKEN", "{set}");
    // Stored without the newline `echo` adds.
    assert_eq!(
        sb.ok(&["batteries", "get", "TOKEN"])["value"],
        "pipe-s3cret"
    );
    set_piped(&sb, &["batteries", "set", "DASH", "-"], "dash-s3cret");
    assert_eq!(sb.ok(&["batteries", "get", "DASH"])["value"], "dash-s3cret");
    // A script sees it.
    sb.ok(&[
        "create",
        "show",
        "--code",
        "printf %s \"$BUTTONS_BAT_TOKEN\"",
    ]);
    assert_eq!(sb.ok(&["press", "show"])["stdout"], "pipe-s3cret");
    // Nothing piped is no value, not an empty secret.
    let out = sb
        .cmd(&["batteries", "set", "EMPTY"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    sb.err(&["batteries", "get", "EMPTY"], "NOT_FOUND");
}

#[test]
fn on_a_terminal_the_prompt_is_hidden() {
    let sb = Sandbox::new();
    let exe = env!("CARGO_BIN_EXE_buttons");
    let mut child = std::process::Command::new("script")
        .args(["-qec", &format!("'{exe}' batteries set HID"), "/dev/null"])
        .env("HOME", sb.home())
        .env("BUTTONS_HOME", sb.data())
        .env("NO_COLOR", "1")
        .current_dir(sb.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Typed once the prompt has turned echo off (a generous wait).
    std::thread::sleep(Duration::from_millis(1500));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"typed-s3cret\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Value for HID (hidden):"), "{text}");
    assert!(!text.contains("typed-s3cret"), "echoed: {text}");
    assert_eq!(sb.ok(&["batteries", "get", "HID"])["value"], "typed-s3cret");
}
