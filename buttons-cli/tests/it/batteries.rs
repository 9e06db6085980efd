//! batteries set|get|list|rm: the file format (the Go tool's envelope), the
//! scopes (one file with BUTTONS_HOME set; project over ~/.buttons without)
//! and redaction in `list`.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::{Sandbox, mode};

/// A `batteries.json` as the Go tool writes it.
const GO_FILE: &str = r#"{
  "schema_version": 1,
  "batteries": {
    "API_TOKEN": "go-written-token"
  }
}
"#;

fn on_disk(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Writes `text` as a private file, creating its private directory.
fn plant(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// The binary without BUTTONS_HOME, in the sandbox's working directory
/// (HOME is still the sandbox's).
fn without_buttons_home(sb: &Sandbox, args: &[&str]) -> Command {
    let mut cmd = sb.cmd(args);
    cmd.env_remove("BUTTONS_HOME");
    cmd
}

/// Runs `cmd` with stdout piped, asserts success and returns `data`.
fn ok(mut cmd: Command) -> Value {
    let output = cmd.output().unwrap();
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{cmd:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    assert_eq!(json["ok"], true, "{cmd:?}: {json}");
    assert_eq!(output.status.code(), Some(0));
    json["data"].clone()
}

/// Runs `buttons ARGS` on a pseudo-terminal (util-linux `script`), so output
/// is human; returns what the terminal showed.
fn on_tty(sb: &Sandbox, args: &str) -> String {
    assert!(
        Command::new("script").arg("--version").output().is_ok(),
        "these tests need util-linux `script` (a pseudo-terminal)"
    );
    let exe = env!("CARGO_BIN_EXE_buttons");
    let out = Command::new("script")
        .args(["-qec", &format!("'{exe}' {args}"), "/dev/null"])
        .env("HOME", sb.home())
        .env("BUTTONS_HOME", sb.data())
        .env("NO_COLOR", "1")
        .current_dir(sb.path().join("work"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    assert_eq!(out.status.code(), Some(0), "{args}: {text}");
    text
}

#[test]
fn set_get_list_rm() {
    let sb = Sandbox::new();
    let data = sb.ok(&["batteries", "set", "API_TOKEN", "s3cret-value"]);
    assert_eq!(data, json!({"key": "API_TOKEN", "scope": "global"}));
    let file = sb.data().join("batteries.json");
    assert_eq!(mode(&file), 0o600);
    let data = sb.ok(&["batteries", "get", "API_TOKEN"]);
    assert_eq!(data["value"], "s3cret-value");

    let run = sb.run(&["batteries", "list"]);
    let text = String::from_utf8_lossy(&run.output.stdout);
    assert!(!text.contains("s3cret"), "list printed a value: {text}");
    assert_eq!(
        run.json["data"],
        json!([{"key": "API_TOKEN", "value": "••••alue", "scope": "global"}])
    );
    let data = sb.ok(&["batteries", "list", "--reveal"]);
    assert_eq!(data[0]["value"], "s3cret-value");
    let data = sb.ok(&["batteries", "list", "--show-values"]);
    assert_eq!(data[0]["value"], "s3cret-value");

    sb.ok(&["batteries", "rm", "API_TOKEN"]);
    sb.err(&["batteries", "get", "API_TOKEN"], "NOT_FOUND");
    sb.err(&["batteries", "rm", "API_TOKEN"], "NOT_FOUND");
    assert_eq!(
        on_disk(&file),
        json!({"schema_version": 1, "batteries": {}})
    );
}

/// `list` redacts every value, in JSON and in the human table: `••••` and
/// the last 4 characters, `••••` alone under 8 characters; keys stay visible.
#[test]
fn list_redacts_values_in_json_and_on_a_terminal() {
    let sb = Sandbox::new();
    sb.ok(&["batteries", "set", "LONG", "sk-live-0123456789abcdef"]);
    sb.ok(&["batteries", "set", "SHORT", "1234567"]);
    sb.ok(&["batteries", "set", "EIGHT", "12345678"]);
    assert_eq!(
        sb.ok(&["batteries", "list"]),
        json!([
            {"key": "EIGHT", "value": "••••5678", "scope": "global"},
            {"key": "LONG", "value": "••••cdef", "scope": "global"},
            {"key": "SHORT", "value": "••••", "scope": "global"},
        ])
    );

    let text = on_tty(&sb, "batteries list");
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .filter(|r: &Vec<&str>| !r.is_empty())
        .collect();
    assert_eq!(
        rows,
        [
            vec!["KEY", "SCOPE", "VALUE"],
            vec!["EIGHT", "global", "••••5678"],
            vec!["LONG", "global", "••••cdef"],
            vec!["SHORT", "global", "••••"],
        ],
        "{text}"
    );
    assert!(
        !text.contains("sk-live") && !text.contains("1234"),
        "{text}"
    );
    let text = on_tty(&sb, "batteries list --reveal");
    assert!(
        text.contains("sk-live-0123456789abcdef") && text.contains("1234567"),
        "{text}"
    );
}

/// A `batteries.json` written by the Go tool is read (also by a press), and
/// what this build writes is that envelope again.
#[test]
fn reads_a_go_written_file_and_writes_the_envelope() {
    let sb = Sandbox::new();
    let file = sb.data().join("batteries.json");
    plant(&file, GO_FILE);
    assert_eq!(
        sb.ok(&["batteries", "get", "API_TOKEN"]),
        json!({"key": "API_TOKEN", "value": "go-written-token", "scope": "global"})
    );
    sb.ok(&[
        "create",
        "show",
        "--code",
        "echo \"$BUTTONS_BAT_API_TOKEN\"",
    ]);
    assert_eq!(sb.ok(&["press", "show"])["stdout"], "go-written-token\n");

    sb.ok(&["batteries", "set", "NEW_KEY", "new-value"]);
    assert_eq!(
        on_disk(&file),
        json!({"schema_version": 1, "batteries": {
            "API_TOKEN": "go-written-token", "NEW_KEY": "new-value"}})
    );
    sb.ok(&["batteries", "rm", "NEW_KEY"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), GO_FILE);
}

/// The flat `{KEY: value}` file earlier versions of this project wrote is
/// still read, and the first write turns it into the envelope.
#[test]
fn reads_a_legacy_flat_file_and_rewrites_it_as_the_envelope() {
    let sb = Sandbox::new();
    let file = sb.data().join("batteries.json");
    plant(&file, "{\n  \"OLD_KEY\": \"flat-value\"\n}\n");
    assert_eq!(
        sb.ok(&["batteries", "get", "OLD_KEY"])["value"],
        "flat-value"
    );
    assert_eq!(sb.ok(&["batteries", "list"])[0]["key"], "OLD_KEY");
    sb.ok(&["batteries", "set", "OTHER", "o"]);
    assert_eq!(
        on_disk(&file),
        json!({"schema_version": 1, "batteries": {"OLD_KEY": "flat-value", "OTHER": "o"}})
    );
    assert_eq!(mode(&file), 0o600);
}

/// With BUTTONS_HOME set, `$BUTTONS_HOME/batteries.json` is the only file
/// (global, as in the Go tool): a project `.buttons/` in the working
/// directory and `~/.buttons/` are not read, and `--local` writes that same
/// file, saying so on a terminal.
#[test]
fn buttons_home_is_the_one_global_file() {
    let sb = Sandbox::new();
    let elsewhere = "{\"TOKEN\": \"not-this-one\"}";
    let home_file = sb.home().join(".buttons/batteries.json");
    let project_file = sb.path().join("work/.buttons/batteries.json");
    plant(&home_file, elsewhere);
    plant(&project_file, elsewhere);
    sb.err(&["batteries", "get", "TOKEN"], "NOT_FOUND");

    let data = sb.ok(&["batteries", "set", "TOKEN", "the-one", "--local"]);
    assert_eq!(data, json!({"key": "TOKEN", "scope": "global"}));
    let data = sb.ok(&["batteries", "set", "OTHER", "o", "--global"]);
    assert_eq!(data, json!({"key": "OTHER", "scope": "global"}));
    let file = sb.data().join("batteries.json");
    assert_eq!(
        on_disk(&file),
        json!({"schema_version": 1, "batteries": {"OTHER": "o", "TOKEN": "the-one"}})
    );
    assert_eq!(
        sb.ok(&["batteries", "get", "TOKEN"]),
        json!({"key": "TOKEN", "value": "the-one", "scope": "global"})
    );
    let list = sb.ok(&["batteries", "list"]);
    let scopes: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["scope"].as_str().unwrap())
        .collect();
    assert_eq!(scopes, ["global", "global"]);
    for other in [&home_file, &project_file] {
        assert_eq!(std::fs::read_to_string(other).unwrap(), elsewhere);
    }

    let text = on_tty(&sb, "batteries set TOKEN again --local");
    assert!(text.contains("Set TOKEN (global)."), "{text}");
    assert!(
        text.contains("no separate local scope") && text.contains(&file.display().to_string()),
        "{text}"
    );
    sb.ok(&["batteries", "rm", "TOKEN", "--local"]);
    assert_eq!(
        on_disk(&file),
        json!({"schema_version": 1, "batteries": {"OTHER": "o"}})
    );
}

/// Without BUTTONS_HOME: the project's `.buttons/batteries.json` (local)
/// over `~/.buttons/batteries.json` (global), in `get`, `list` and a press.
#[test]
fn local_overrides_global_without_buttons_home() {
    let sb = Sandbox::new();
    let run = |args: &[&str]| ok(without_buttons_home(&sb, args));
    run(&["init"]);
    let local_file = sb.path().join("work/.buttons/batteries.json");
    let global_file = sb.home().join(".buttons/batteries.json");

    let data = run(&["batteries", "set", "TOKEN", "global-value", "--global"]);
    assert_eq!(data, json!({"key": "TOKEN", "scope": "global"}));
    run(&["batteries", "set", "ONLY_G", "g", "--global"]);
    assert_eq!(mode(&sb.home().join(".buttons")), 0o700);
    assert_eq!(
        on_disk(&global_file),
        json!({"schema_version": 1, "batteries": {"ONLY_G": "g", "TOKEN": "global-value"}})
    );
    assert!(!local_file.exists());
    let data = run(&["batteries", "get", "TOKEN"]);
    assert_eq!(
        (&data["value"], &data["scope"]),
        (&json!("global-value"), &json!("global"))
    );

    // Without a flag, set writes the project's file.
    let data = run(&["batteries", "set", "TOKEN", "local-value"]);
    assert_eq!(data, json!({"key": "TOKEN", "scope": "local"}));
    assert_eq!(
        on_disk(&local_file),
        json!({"schema_version": 1, "batteries": {"TOKEN": "local-value"}})
    );
    let data = run(&["batteries", "get", "TOKEN"]);
    assert_eq!(
        (&data["value"], &data["scope"]),
        (&json!("local-value"), &json!("local"))
    );
    assert_eq!(
        run(&["batteries", "list"]),
        json!([
            {"key": "ONLY_G", "value": "••••", "scope": "global"},
            {"key": "TOKEN", "value": "••••alue", "scope": "global"},
            {"key": "TOKEN", "value": "••••alue", "scope": "local"},
        ])
    );
    run(&[
        "create",
        "bat",
        "--code",
        "echo \"$BUTTONS_BAT_TOKEN $BUTTONS_BAT_ONLY_G\"",
    ]);
    assert_eq!(run(&["press", "bat"])["stdout"], "local-value g\n");

    run(&["batteries", "rm", "TOKEN", "--local"]);
    assert_eq!(run(&["batteries", "get", "TOKEN"])["value"], "global-value");
    assert_eq!(run(&["press", "bat"])["stdout"], "global-value g\n");
}

#[test]
fn battery_errors() {
    let sb = Sandbox::new();
    sb.err(&["batteries", "set", "lower", "v"], "VALIDATION_ERROR");
    sb.err(&["batteries", "set", "A-B", "v"], "VALIDATION_ERROR");
    sb.err(&["batteries", "get", "bad key"], "VALIDATION_ERROR");
    sb.err(
        &["batteries", "set", "K", "v", "--global", "--local"],
        "VALIDATION_ERROR",
    );
    sb.err(&["batteries", "get", "MISSING"], "NOT_FOUND");
    let file = sb.data().join("batteries.json");
    plant(&file, "not json");
    let e = sb.err(&["batteries", "list"], "VALIDATION_ERROR");
    assert!(e["hint"].as_str().unwrap().contains("batteries.json"));

    // A newer envelope is refused, not guessed at, and left as it is.
    let newer = r#"{"schema_version": 2, "batteries": {"K": {"sealed": "x"}}}"#;
    plant(&file, newer);
    let e = sb.err(&["batteries", "set", "K", "v"], "VALIDATION_ERROR");
    assert!(
        e["message"].as_str().unwrap().contains("schema_version 2"),
        "{e}"
    );
    assert!(e["hint"].as_str().unwrap().contains("upgrade"), "{e}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), newer);
}
