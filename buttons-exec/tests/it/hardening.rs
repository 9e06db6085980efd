//! Big values: the environment a script would get is checked before
//! anything is spawned; the supervisor entry point only answers its own
//! command line.

use buttons_exec::{MAX_ENV_TOTAL, MAX_ENV_VAR, PressOptions, SUPERVISOR_ARG, supervise_if_asked};
use buttons_spec::{ErrorCode, Status};

use crate::util::Fixture;

#[tokio::test]
async fn a_200_kib_argument_is_a_validation_error_naming_it_and_the_limit() {
    let fx = Fixture::sh("echo ran > ran.txt").with_args(&["payload:string:required"]);
    let big = "x".repeat(200 << 10);
    let args = fx.args(&[("payload", &big)]);
    let result = buttons_exec::press(&fx.ctx(&args), PressOptions::default())
        .await
        .unwrap();
    assert_eq!(result.status, Status::Error);
    assert_eq!(result.error_type, Some(ErrorCode::ValidationError));
    assert!(result.stderr.contains("\"payload\""), "{}", result.stderr);
    assert!(
        result.stderr.contains(&format!("{MAX_ENV_VAR} bytes")),
        "{}",
        result.stderr
    );
    assert!(!fx.path().join("ran.txt").exists(), "nothing was spawned");
}

#[tokio::test]
async fn an_environment_over_the_total_limit_names_the_largest_argument() {
    let defs: Vec<String> = (0..10).map(|i| format!("a{i}:string:required")).collect();
    let defs: Vec<&str> = defs.iter().map(String::as_str).collect();
    let fx = Fixture::sh("echo ran > ran.txt").with_args(&defs);
    let values: Vec<(String, String)> = (0..10)
        .map(|i| (format!("a{i}"), "v".repeat((110 << 10) + i * 10)))
        .collect();
    let pairs: Vec<(&str, &str)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let args = fx.args(&pairs);
    let result = buttons_exec::press(&fx.ctx(&args), PressOptions::default())
        .await
        .unwrap();
    assert_eq!(result.error_type, Some(ErrorCode::ValidationError));
    assert!(
        result.stderr.contains(&format!("{MAX_ENV_TOTAL} bytes")),
        "{}",
        result.stderr
    );
    assert!(result.stderr.contains("\"a9\""), "{}", result.stderr);
    assert!(!fx.path().join("ran.txt").exists());
}

#[tokio::test]
async fn a_value_under_the_limit_reaches_the_script_whole() {
    let fx = Fixture::sh("printf %s \"$BUTTONS_ARG_PAYLOAD\" | wc -c")
        .with_args(&["payload:string:required"]);
    let value = "y".repeat(100 << 10);
    let args = fx.args(&[("payload", &value)]);
    let result = buttons_exec::press(&fx.ctx(&args), PressOptions::default())
        .await
        .unwrap();
    assert_eq!(result.status, Status::Ok, "{}", result.stderr);
    assert_eq!(result.stdout.trim(), (100 << 10).to_string());
}

#[test]
fn the_supervisor_answers_only_its_own_command_line() {
    let argv = |words: &[&str]| words.iter().map(Into::into).collect::<Vec<_>>();
    assert!(supervise_if_asked(&argv(&["buttons", "press", "x"])).is_none());
    assert!(supervise_if_asked(&argv(&["buttons"])).is_none());
    // Its own word with anything after it: a usage failure, not a run.
    let code = supervise_if_asked(&argv(&["buttons", SUPERVISOR_ARG, "/bin/sh"]));
    assert_eq!(code, Some(std::process::ExitCode::from(125)));
}
