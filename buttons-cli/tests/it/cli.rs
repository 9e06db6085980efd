//! Envelope, parse errors, version, completions, data directory checks.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::{Sandbox, mode};

#[test]
fn parse_errors_are_validation_errors_with_exit_1() {
    let sb = Sandbox::new();
    let e = sb.err(&["create"], "VALIDATION_ERROR");
    assert!(e["message"].as_str().unwrap().contains("NAME"), "{e}");
    sb.err(&["create", "x", "--no-such-flag"], "VALIDATION_ERROR");
    sb.err(&["history", "--last", "many"], "VALIDATION_ERROR");
    sb.err(
        &["create", "x", "--code", "a", "--file", "b"],
        "VALIDATION_ERROR",
    );
    sb.err(&["hello", "extra"], "VALIDATION_ERROR");
}

#[test]
fn help_and_version_exit_0() {
    let sb = Sandbox::new();
    let out = sb.cmd(&["--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("press"));
    let data = sb.ok(&["version"]);
    assert_eq!(data["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn json_flag_forces_json_and_is_global() {
    let sb = Sandbox::new();
    let data = sb.ok(&["list", "--json"]);
    assert_eq!(data, serde_json::json!([]));
    sb.ok(&["--json", "version"]);
}

#[test]
fn completions_print_a_script() {
    let sb = Sandbox::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = sb.cmd(&["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        // The dynamic registration: the shell calls `COMPLETE=SHELL buttons`.
        assert!(
            text.contains("buttons") && text.contains("COMPLETE"),
            "{shell}: {text}"
        );
    }
    sb.err(&["completions", "tcsh"], "VALIDATION_ERROR");
}

#[test]
fn init_writes_private_files_and_merges_gitignore() {
    let sb = Sandbox::new();
    fs::create_dir(sb.data()).unwrap();
    fs::write(sb.data().join(".gitignore"), "mine\n").unwrap();
    let data = sb.ok(&["init"]);
    assert_eq!(data["agents_md"], true);
    let text = fs::read_to_string(sb.data().join(".gitignore")).unwrap();
    assert!(text.starts_with("mine\n"));
    for line in buttons_store::GITIGNORE_LINES {
        assert!(text.lines().any(|l| l == *line), "{line}");
    }
    assert_eq!(mode(&sb.data()), 0o700);
    assert_eq!(mode(&sb.data().join("buttons")), 0o700);
    assert_eq!(mode(&sb.data().join("AGENTS.md")), 0o600);
    let again = sb.ok(&["init"]);
    assert_eq!(again["gitignore_added"], serde_json::json!([]));
}

#[test]
fn init_without_buttons_home_makes_dot_buttons_in_cwd() {
    let sb = Sandbox::new();
    let out = sb
        .cmd(&["init"])
        .env_remove("BUTTONS_HOME")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(sb.path().join("work/.buttons/.gitignore").is_file());
    // Commands run below it find it by walking up.
    fs::create_dir(sb.path().join("work/sub")).unwrap();
    let out = sb
        .cmd(&["create", "found", "--code", "true"])
        .env_remove("BUTTONS_HOME")
        .current_dir(sb.path().join("work/sub"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        sb.path()
            .join("work/.buttons/buttons/found/button.json")
            .is_file()
    );
}

#[test]
fn everything_private_under_umask_000() {
    let sb = Sandbox::new();
    let exe = env!("CARGO_BIN_EXE_buttons");
    let script = format!(
        "umask 000; '{exe}' init && '{exe}' create b --code 'echo hi' && '{exe}' batteries set K v"
    );
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("HOME", sb.home())
        .env("BUTTONS_HOME", sb.data())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(mode(&sb.data()), 0o700);
    assert_eq!(mode(&sb.data().join("buttons/b")), 0o700);
    assert_eq!(mode(&sb.data().join("buttons/b/button.json")), 0o600);
    assert_eq!(mode(&sb.data().join("buttons/b/AGENTS.md")), 0o600);
    assert_eq!(mode(&sb.data().join("buttons/b/main.sh")), 0o700);
    assert_eq!(mode(&sb.data().join("batteries.json")), 0o600);
    assert_eq!(mode(&sb.data().join(".gitignore")), 0o600);
}

#[test]
fn loose_data_dir_is_tightened() {
    let sb = Sandbox::new();
    fs::create_dir(sb.data()).unwrap();
    fs::set_permissions(sb.data(), fs::Permissions::from_mode(0o777)).unwrap();
    let run = sb.run(&["list"]);
    assert_eq!(run.json["ok"], true);
    assert_eq!(mode(&sb.data()), 0o700);
    // JSON mode: the notice is not printed.
    assert!(run.stderr().is_empty(), "{}", run.stderr());
}

#[test]
fn foreign_data_dir_is_refused() {
    let sb = Sandbox::new();
    fs::create_dir(sb.data()).unwrap();
    if !is_root() {
        // Cannot hand a directory to another user; the decision itself is
        // unit-tested in buttons-store (`check_root`).
        return;
    }
    std::os::unix::fs::chown(sb.data(), Some(65534), Some(65534)).unwrap();
    let e = sb.err(&["list"], "VALIDATION_ERROR");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains(&sb.data().display().to_string()),
        "{message}"
    );
    assert!(e["hint"].as_str().unwrap().contains("BUTTONS_HOME"));
}

fn is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

#[test]
fn unusable_data_dir_is_an_internal_error() {
    let sb = Sandbox::new();
    fs::write(sb.path().join("file"), "").unwrap();
    let out = sb
        .cmd(&["create", "x", "--code", "true"])
        .env("BUTTONS_HOME", sb.path().join("file/data"))
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["error"]["code"], "INTERNAL_ERROR", "{json}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn broken_pipe_exits_quietly() {
    let sb = Sandbox::new();
    sb.ok(&["create", "b0", "--code", "true", "-d", &"x".repeat(2000)]);
    let spec = fs::read_to_string(sb.data().join("buttons/b0/button.json")).unwrap();
    for i in 1..200 {
        let dir = sb.data().join(format!("buttons/b{i}"));
        fs::create_dir(&dir).unwrap();
        fs::write(
            dir.join("button.json"),
            spec.replace("\"b0\"", &format!("\"b{i}\"")),
        )
        .unwrap();
    }
    let exe = env!("CARGO_BIN_EXE_buttons");
    let err_file = sb.path().join("stderr.txt");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; '{exe}' list 2>'{}' | head -c 1 >/dev/null",
            err_file.display()
        ))
        .env("HOME", sb.home())
        .env("BUTTONS_HOME", sb.data())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "buttons did not exit 0 on a closed pipe"
    );
    assert_eq!(fs::read_to_string(&err_file).unwrap(), "");
}

#[test]
fn ls_and_completions_are_reserved_and_help_mentions_buttons_name() {
    let sb = Sandbox::new();
    for name in ["ls", "completions"] {
        let err = sb.err(&["create", name, "--code", "true"], "VALIDATION_ERROR");
        assert!(
            err["message"].as_str().unwrap().contains("reserved"),
            "{err}"
        );
    }
    let help = sb.cmd(&["--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("`buttons NAME` shows one button"), "{help}");
}
