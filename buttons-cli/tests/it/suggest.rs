//! "Did you mean …?" for commands, buttons and arguments, and the dynamic
//! shell completion of button and argument names.

use crate::Sandbox;

fn greet(sb: &Sandbox) {
    sb.ok(&[
        "create",
        "greet",
        "--code",
        "echo hi",
        "--arg",
        "name:string:optional",
    ]);
}

#[test]
fn an_unknown_command_gets_clap_s_suggestion() {
    let sb = Sandbox::new();
    greet(&sb);
    let err = sb.err(&["lst"], "NOT_FOUND");
    assert!(
        err["hint"]
            .as_str()
            .unwrap()
            .contains("did you mean `list`?"),
        "{err}"
    );
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("unknown command \"lst\""),
        "{err}"
    );
}

#[test]
fn an_unknown_button_names_the_closest_and_the_data_directory() {
    let sb = Sandbox::new();
    greet(&sb);
    let err = sb.err(&["press", "gret"], "NOT_FOUND");
    assert!(
        err["hint"]
            .as_str()
            .unwrap()
            .contains("did you mean `greet`?"),
        "{err}"
    );
    let dir = sb.data().join("buttons");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains(dir.to_str().unwrap()),
        "{err}"
    );
    let err = sb.err(&["press", "zzzzzz"], "NOT_FOUND");
    assert!(
        !err["hint"].as_str().unwrap().contains("did you mean"),
        "{err}"
    );
}

#[test]
fn an_unknown_argument_names_the_closest_declared_one() {
    let sb = Sandbox::new();
    greet(&sb);
    let err = sb.err(&["press", "greet", "--arg", "nme=Ada"], "VALIDATION_ERROR");
    assert!(
        err["hint"]
            .as_str()
            .unwrap()
            .contains("did you mean `--arg name=…`?"),
        "{err}"
    );
}

fn complete(sb: &Sandbox, words: &[&str]) -> String {
    let out = sb
        .cmd(&[&["--", "buttons"], words].concat())
        .env("COMPLETE", "fish")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completion_offers_button_and_argument_names() {
    let sb = Sandbox::new();
    greet(&sb);
    sb.ok(&["create", "other", "--code", "true"]);
    let names = complete(&sb, &["press", "gr"]);
    assert!(names.lines().any(|l| l == "greet"), "{names}");
    assert!(!names.lines().any(|l| l == "other"), "{names}");
    let names = complete(&sb, &["gr"]);
    assert!(names.lines().any(|l| l == "greet"), "{names}");
    let args = complete(&sb, &["press", "greet", "--arg", "n"]);
    assert!(args.lines().any(|l| l == "name="), "{args}");
    let script = sb.cmd(&["completions", "bash"]).output().unwrap();
    assert!(String::from_utf8_lossy(&script.stdout).contains("COMPLETE"));
}
