//! Human output on a terminal, through util-linux `script` (a pseudo-terminal).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use crate::Sandbox;

/// Runs `buttons ARGS` on a pseudo-terminal with `input` typed in; returns
/// what the terminal showed (stdout and stderr together) and the exit code.
fn on_tty(sb: &Sandbox, args: &str, input: &str) -> (String, i32) {
    on_tty_with(sb, args, input, Some("1"))
}

/// [`on_tty`] with `NO_COLOR` set to `no_color`, or unset.
fn on_tty_with(sb: &Sandbox, args: &str, input: &str, no_color: Option<&str>) -> (String, i32) {
    assert!(
        Command::new("script").arg("--version").output().is_ok(),
        "these tests need util-linux `script` (a pseudo-terminal)"
    );
    let exe = env!("CARGO_BIN_EXE_buttons");
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &format!("'{exe}' {args}"), "/dev/null"])
        .env("HOME", sb.home())
        .env("BUTTONS_HOME", sb.data())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .current_dir(sb.path());
    if let Some(value) = no_color {
        cmd.env("NO_COLOR", value);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    (text, out.status.code().unwrap())
}

#[test]
fn press_prints_output_and_a_status_line() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "hi",
        "--code",
        "echo \"Hello, $BUTTONS_ARG_WHO!\"",
        "--arg",
        "who:string:required",
    ]);
    let (text, code) = on_tty(&sb, "press hi --arg who=World", "");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("Hello, World!\n"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("✓ hi ok in ")), "{text}");
    // The script's output comes first, the status line after it.
    assert!(
        text.find("Hello, World!") < text.find("✓ hi ok in "),
        "{text}"
    );
    assert!(!text.contains("\"ok\""), "JSON on a terminal: {text}");

    sb.ok(&["create", "bad", "--code", "echo oops >&2; exit 4"]);
    let (text, code) = on_tty(&sb, "press bad", "");
    assert_eq!(code, 1);
    assert!(text.contains("oops"), "{text}");
    assert!(
        text.contains("✗ bad failed: SCRIPT_ERROR (exit 4)"),
        "{text}"
    );
}

#[test]
fn errors_name_the_fix() {
    let sb = Sandbox::new();
    let (text, code) = on_tty(&sb, "press nope", "");
    assert_eq!(code, 1);
    assert!(text.contains("error: button \"nope\" not found"), "{text}");
    assert!(
        text.contains("hint: there are no buttons here yet: make one with 'buttons create NAME'"),
        "{text}"
    );
}

#[test]
fn list_is_an_aligned_table_and_batteries_stay_hidden() {
    let sb = Sandbox::new();
    sb.ok(&["create", "a", "--code", "true", "-d", "first"]);
    sb.ok(&[
        "create",
        "longer-name",
        "--runtime",
        "python",
        "--arg",
        "x:int:optional",
    ]);
    sb.ok(&["batteries", "set", "TOKEN", "sekrit"]);
    let (text, _) = on_tty(&sb, "list", "");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "NAME         KIND    ARGS  DESCRIPTION");
    assert_eq!(lines[1], "a            shell         first");
    assert_eq!(lines[2], "longer-name  python  [x]");
    let (text, _) = on_tty(&sb, "batteries list", "");
    assert!(text.contains("TOKEN") && !text.contains("sekrit"), "{text}");
}

#[test]
fn delete_asks_on_a_terminal() {
    let sb = Sandbox::new();
    sb.ok(&["create", "keep", "--code", "true"]);
    let (text, code) = on_tty(&sb, "delete keep", "n\n");
    assert_eq!(code, 0);
    assert!(
        text.contains("[y/N]") && text.contains("Kept keep."),
        "{text}"
    );
    assert!(sb.data().join("buttons/keep").is_dir());
    let (text, _) = on_tty(&sb, "rm keep", "y\n");
    assert!(text.contains("Deleted keep."), "{text}");
    assert!(!sb.data().join("buttons/keep").exists());
}

#[test]
fn loose_data_dir_notice_once_in_human_mode() {
    let sb = Sandbox::new();
    std::fs::create_dir(sb.data()).unwrap();
    std::fs::set_permissions(sb.data(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (text, _) = on_tty(&sb, "list", "");
    assert_eq!(
        text.matches("note: tightened permissions").count(),
        1,
        "{text}"
    );
    let (text, _) = on_tty(&sb, "list", "");
    assert!(!text.contains("note:"), "{text}");
}

#[test]
fn follow_prints_each_line_once_in_order() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "steps",
        "--code",
        "echo one; sleep 0.3; echo two >&2; sleep 0.3; echo three",
    ]);
    let (text, code) = on_tty(&sb, "press steps --follow", "");
    assert_eq!(code, 0, "{text}");
    for line in ["one", "! two", "three"] {
        assert_eq!(
            text.lines().filter(|l| *l == line).count(),
            1,
            "{line:?} once: {text}"
        );
    }
    let at = |s: &str| text.find(s).unwrap();
    assert!(
        at("one\n") < at("! two\n") && at("! two\n") < at("three\n"),
        "{text}"
    );
    assert!(at("three\n") < at("✓ steps ok in "), "{text}");
}

#[test]
fn a_status_line_after_output_without_a_newline_has_its_own_line() {
    let sb = Sandbox::new();
    sb.ok(&["create", "bare", "--code", r#"printf '{"a":1}'"#]);
    for args in ["press bare", "press bare --follow"] {
        let (text, code) = on_tty(&sb, args, "");
        assert_eq!(code, 0, "{text}");
        assert!(text.lines().any(|l| l == r#"{"a":1}"#), "{args}: {text}");
        assert!(
            text.lines().any(|l| l.starts_with("✓ bare ok in ")),
            "{args}: {text}"
        );
    }
}

#[test]
fn a_long_press_shows_a_spinner_that_is_gone_at_the_end() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "nap",
        "--code",
        r#"echo '{"msg":"half","pct":50}' >> "$BUTTONS_PROGRESS_PATH"; sleep 2; echo done"#,
    ]);
    let (text, code) = on_tty(&sb, "press nap", "");
    assert_eq!(code, 0, "{text}");
    // Shown past one second, with the name, the time and the script's progress.
    let frame = text.rfind("nap · ").expect("no spinner drawn");
    assert!(text.contains("nap · 1."), "{text}");
    assert!(text.contains(" · half 50%"), "{text}");
    // Erased (clear line) after its last frame, before the output and status.
    let rest = &text[frame..];
    let erased = rest.find("\x1b[2K").expect("the spinner was not erased");
    assert!(erased < rest.find("done").unwrap(), "{text:?}");
    let status = text.lines().find(|l| l.contains("nap ok in ")).unwrap();
    assert!(status.starts_with("✓ nap ok in "), "{status:?}");

    // Never in a pipe.
    let run = sb.run(&["press", "nap"]);
    assert!(!run.stderr().contains("nap ·"), "{}", run.stderr());
}

#[test]
fn marks_are_coloured_on_a_terminal_unless_told_not_to() {
    let sb = Sandbox::new();
    sb.ok(&["create", "hi", "--code", "echo hi"]);
    let green = "\u{1b}[1m\u{1b}[32m✓";
    let (text, _) = on_tty_with(&sb, "press hi", "", None);
    assert!(
        text.contains(green) || text.contains("\u{1b}[32m"),
        "{text:?}"
    );
    let (text, _) = on_tty_with(&sb, "press nope", "", None);
    assert!(
        text.contains("\u{1b}[") && text.contains("error:"),
        "{text:?}"
    );
    // NO_COLOR, and --color never, turn it off.
    let (text, _) = on_tty_with(&sb, "press hi", "", Some("1"));
    assert!(!text.contains('\u{1b}'), "{text:?}");
    let (text, _) = on_tty_with(&sb, "press hi --color never", "", None);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(text.contains("✓ hi ok in "), "{text:?}");
}

#[test]
fn color_drives_clap_s_own_errors_and_help() {
    let sb = Sandbox::new();
    // clap's error for an unknown flag, on a terminal: coloured by default…
    let (text, code) = on_tty_with(&sb, "press --no-such-flag x", "", None);
    assert_eq!(code, 1, "{text:?}");
    assert!(text.contains("unexpected argument"), "{text:?}");
    assert!(text.contains('\u{1b}'), "{text:?}");
    // …not with --color never (in either spelling, anywhere on the line)…
    for args in [
        "--color never press --no-such-flag x",
        "press --no-such-flag x --color=never",
    ] {
        let (text, _) = on_tty_with(&sb, args, "", None);
        assert!(text.contains("unexpected argument"), "{text:?}");
        assert!(!text.contains('\u{1b}'), "{args}: {text:?}");
    }
    // …and with --color always even when NO_COLOR is set.
    let (text, _) = on_tty_with(&sb, "press --no-such-flag x --color always", "", Some("1"));
    assert!(text.contains('\u{1b}'), "{text:?}");
    // Help: --color always colours it in a pipe, --color never not on a terminal.
    let out = sb.cmd(&["--color", "always", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\u{1b}["));
    let out = sb.cmd(&["press", "--help"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
    let (text, _) = on_tty_with(&sb, "press --help --color never", "", None);
    assert!(
        text.contains("Usage:") && !text.contains('\u{1b}'),
        "{text:?}"
    );
    let (text, _) = on_tty_with(&sb, "press --help", "", None);
    assert!(text.contains('\u{1b}'), "{text:?}");
}
