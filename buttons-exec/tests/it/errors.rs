//! How presses fail: each failure is a result with its code.

use std::os::unix::fs::PermissionsExt;

use buttons_exec::PressOptions;
use buttons_spec::{Args, ErrorCode, Kind, Status};

use crate::util::{Fixture, path_var};

/// A `PATH` with only a shell-free directory: bash, python and node are missing.
#[tokio::test]
async fn runtime_missing_when_path_lacks_the_interpreter() {
    let empty = tempfile::tempdir().unwrap();
    for (runtime, file, code) in [
        ("bash", "main.sh", "echo hi\n"),
        ("python", "main.py", "print('hi')\n"),
        ("node", "main.js", "console.log('hi')\n"),
    ] {
        let fx = Fixture::code(runtime, file, code);
        let args = Args::default();
        let mut ctx = buttons_exec::PressContext::new(&fx.button, fx.path(), &args, &fx.batteries);
        ctx.base_env = vec![path_var(&[empty.path()])];
        let result = buttons_exec::press(&ctx, PressOptions::default())
            .await
            .unwrap();
        assert_eq!(
            result.error_type,
            Some(ErrorCode::RuntimeMissing),
            "{runtime}"
        );
        assert_eq!(result.status, Status::Error);
        assert_eq!(result.exit_code, -1);
        assert!(
            result.stderr.contains("not found on PATH"),
            "{}",
            result.stderr
        );

        // The same button with the real PATH runs.
        assert_eq!(
            fx.press(PressOptions::default()).await.stdout,
            "hi\n",
            "{runtime}"
        );
    }
}

/// An interpreter found on the given PATH is the one that runs.
#[tokio::test]
async fn interpreter_comes_from_the_base_path() {
    let bin = tempfile::tempdir().unwrap();
    let fake = bin.path().join("node");
    std::fs::write(&fake, "#!/bin/sh\necho \"fake node $1\"\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let fx = Fixture::code("node", "main.js", "");
    let args = Args::default();
    let mut ctx = buttons_exec::PressContext::new(&fx.button, fx.path(), &args, &fx.batteries);
    ctx.base_env = vec![path_var(&[bin.path()])];
    let result = buttons_exec::press(&ctx, PressOptions::default())
        .await
        .unwrap();
    // The script is given by its absolute path (`$0` is `/…/NAME/main.js`).
    let code = std::path::absolute(fx.path().join("main.js")).unwrap();
    assert_eq!(
        result.stdout,
        format!("fake node {}\n", code.display()),
        "{result:?}"
    );
}

#[tokio::test]
async fn unknown_runtime_is_runtime_missing() {
    let fx = Fixture::code("cobol", "main.sh", "echo hi\n");
    let result = fx.press(PressOptions::default()).await;
    assert_eq!(result.error_type, Some(ErrorCode::RuntimeMissing));
    assert!(result.stderr.contains("cobol"));
}

#[tokio::test]
async fn missing_code_file_is_script_error() {
    let fx = Fixture::empty("shell");
    let result = fx.press(PressOptions::default()).await;
    assert_eq!(result.error_type, Some(ErrorCode::ScriptError));
    assert!(
        result.stderr.starts_with("code file not found: "),
        "{}",
        result.stderr
    );
}

#[tokio::test]
async fn nonzero_exit_is_script_error_with_the_code_kept() {
    let fx = Fixture::sh("echo partial\necho oops >&2\nexit 3\n");
    let result = fx.press(PressOptions::default()).await;
    assert_eq!(result.status, Status::Error);
    assert_eq!(result.error_type, Some(ErrorCode::ScriptError));
    assert_eq!(result.exit_code, 3);
    assert_eq!(result.stdout, "partial\n");
    assert_eq!(result.stderr, "oops\n");
}

#[tokio::test]
async fn killed_by_a_signal_is_script_error() {
    let fx = Fixture::sh("kill -KILL $$\n");
    let result = fx.press(PressOptions::default()).await;
    assert_eq!(result.error_type, Some(ErrorCode::ScriptError));
    assert_eq!(result.exit_code, -1);
    assert!(result.stderr.contains("SIGKILL"), "{}", result.stderr);
}

#[tokio::test]
async fn success_is_ok_with_exit_zero() {
    let fx = Fixture::sh("echo fine\n");
    let result = fx.press(PressOptions::default()).await;
    assert_eq!(
        (result.status, result.exit_code, result.error_type),
        (Status::Ok, 0, None)
    );
    assert_eq!(result.button, "test-button");
    assert!(!result.truncated);
}

#[tokio::test]
async fn app_buttons_are_not_pressable() {
    let mut fx = Fixture::sh("touch ran\n");
    fx.button.kind = Some(Kind::App);
    let result = fx.press(PressOptions::default()).await;
    assert_eq!(result.error_type, Some(ErrorCode::ValidationError));
    assert!(result.stderr.contains("not pressable"));
    assert!(!fx.path().join("ran").exists());
}

#[test]
fn press_blocking_works_without_a_runtime() {
    let fx = Fixture::sh("echo blocking\n");
    let args = Args::default();
    let result = buttons_exec::press_blocking(&fx.ctx(&args), PressOptions::default()).unwrap();
    assert_eq!(result.stdout, "blocking\n");
}

#[test]
fn the_press_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let fx = Fixture::sh("");
    let args = Args::default();
    let ctx = fx.ctx(&args);
    let fut = buttons_exec::press(&ctx, PressOptions::default());
    assert_send(&fut);
}

#[tokio::test]
async fn nul_bytes_in_values_are_refused_before_running() {
    let fx = Fixture::sh("touch ran\n").with_args(&["v:string:required"]);
    let args = fx.args(&[("v", "a\0b")]);
    let result = buttons_exec::press(&fx.ctx(&args), PressOptions::default())
        .await
        .unwrap();
    assert_eq!(result.error_type, Some(ErrorCode::ValidationError));
    assert!(!fx.path().join("ran").exists());
}
