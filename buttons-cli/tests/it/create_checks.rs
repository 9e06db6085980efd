//! `create` refuses at create time what would only fail at press time: an
//! interpreter outside the runtime table, a placeholder naming no argument.
//! Prompt buttons fill their declared `{{args}}` at press.

use crate::Sandbox;

#[test]
fn a_foreign_interpreter_is_refused_naming_the_runtimes() {
    let sb = Sandbox::new();
    let script = sb.path().join("hello.rb");
    std::fs::write(&script, "#!/usr/bin/env ruby\nputs 'hi'\n").unwrap();
    let file = script.to_str().unwrap();
    let err = sb.err(&["create", "rb", "--file", file], "VALIDATION_ERROR");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("ruby") && message.contains("shell, bash, python, node"),
        "{err}"
    );
    assert!(err["hint"].as_str().unwrap().contains("--runtime"), "{err}");
    assert!(
        !sb.data().join("buttons/rb").exists(),
        "a refused button left files"
    );

    // A shebang alone (inline code, no extension) is caught too.
    let err = sb.err(
        &["create", "inline", "--code", "#!/usr/bin/env ruby\nputs 1"],
        "VALIDATION_ERROR",
    );
    assert!(
        err["message"].as_str().unwrap().contains("shebang"),
        "{err}"
    );

    // --runtime forces it.
    let made = sb.ok(&["create", "forced", "--file", file, "--runtime", "shell"]);
    assert_eq!(made["runtime"], "shell");
    // The table's own interpreters still infer.
    let py = sb.path().join("x");
    std::fs::write(&py, "#!/usr/bin/env python3\nprint(1)\n").unwrap();
    let made = sb.ok(&["create", "py", "--file", py.to_str().unwrap()]);
    assert_eq!(made["runtime"], "python");
}

#[test]
fn a_placeholder_naming_no_argument_is_refused() {
    let sb = Sandbox::new();
    let err = sb.err(
        &[
            "create",
            "api",
            "--url",
            "https://api.example.com/{{missing}}",
        ],
        "VALIDATION_ERROR",
    );
    assert!(
        err["message"].as_str().unwrap().contains("{{missing}}"),
        "{err}"
    );
    let err = sb.err(
        &[
            "create",
            "api",
            "--url",
            "https://api.example.com/{{id}}",
            "--arg",
            "id:string:required",
            "--method",
            "POST",
            "--body",
            r#"{"q": "{{qq}}"}"#,
        ],
        "VALIDATION_ERROR",
    );
    assert!(err["message"].as_str().unwrap().contains("{{qq}}"), "{err}");
    sb.ok(&[
        "create",
        "api",
        "--url",
        "https://api.example.com/{{id}}",
        "--arg",
        "id:string:required",
    ]);
}

#[test]
fn prompt_buttons_fill_their_declared_arguments() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "pick",
        "--prompt",
        "Pick {{num}} items from {{shelf}}; keep {{unknown}} as is.",
        "--arg",
        "num:int:required",
        "--arg",
        "shelf:string:optional",
    ]);
    let ran = sb.ok(&["press", "pick", "--arg", "num=3", "--arg", "shelf=top"]);
    let text = ran["stdout"].as_str().unwrap();
    assert!(
        text.contains("Pick 3 items from top; keep {{unknown}} as is."),
        "{text}"
    );
    let ran = sb.ok(&["press", "pick", "--arg", "num=4"]);
    assert!(
        ran["stdout"]
            .as_str()
            .unwrap()
            .contains("Pick 4 items from ;"),
        "{ran}"
    );
}
