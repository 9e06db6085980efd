//! Prompt buttons and `AGENTS.md` attached to code buttons.

use buttons_exec::{PressOptions, SCAFFOLD_MARKER};
use buttons_spec::{ErrorCode, Status};

use crate::util::Fixture;

#[tokio::test]
async fn prompt_button_returns_agents_md() {
    let fx = Fixture::empty("prompt");
    std::fs::write(fx.path().join("AGENTS.md"), "Summarise the diff.\n").unwrap();
    std::fs::write(fx.path().join("AGENT.md"), "legacy text").unwrap();
    let result = fx.press(PressOptions::default()).await;
    assert_eq!((result.status, result.exit_code), (Status::Ok, 0));
    assert_eq!(result.stdout, "Summarise the diff.\n");
}

#[tokio::test]
async fn prompt_button_falls_back_to_agent_md() {
    let fx = Fixture::empty("prompt");
    std::fs::write(fx.path().join("AGENT.md"), "legacy text").unwrap();
    assert_eq!(
        fx.press(PressOptions::default()).await.stdout,
        "legacy text"
    );
}

#[tokio::test]
async fn unreadable_prompt_is_prompt_error() {
    let fx = Fixture::empty("prompt");
    let result = fx.press(PressOptions::default()).await;
    assert_eq!(result.error_type, Some(ErrorCode::PromptError));
    assert_eq!(result.status, Status::Error);
    assert!(result.stderr.contains("AGENTS.md"), "{}", result.stderr);

    std::fs::create_dir(fx.path().join("AGENTS.md")).unwrap();
    let result = fx.press(PressOptions::default()).await;
    assert_eq!(result.error_type, Some(ErrorCode::PromptError));
}

#[tokio::test]
async fn code_buttons_attach_real_agents_md_only() {
    let mut fx = Fixture::sh("echo hi\n");
    fx.button.description = "Says hi".into();
    assert_eq!(fx.press(PressOptions::default()).await.prompt, None);

    let agents = fx.path().join("AGENTS.md");
    for scaffold in [
        format!(
            "{SCAFFOLD_MARKER}\n# test-button\n\nSays hi\n\nArguments arrive as BUTTONS_ARG_*.\n"
        ),
        "# test-button\n\nSays hi\n".to_owned(),
        "\n\n".to_owned(),
    ] {
        std::fs::write(&agents, &scaffold).unwrap();
        let result = fx.press(PressOptions::default()).await;
        assert_eq!(result.prompt, None, "{scaffold:?} was attached");
    }

    let real = "# test-button\n\nOnly press after the tests pass.\n";
    std::fs::write(&agents, real).unwrap();
    let result = fx.press(PressOptions::default()).await;
    assert_eq!(result.prompt.as_deref(), Some(real));
    assert_eq!(result.stdout, "hi\n");

    // Failed presses carry the instructions too.
    std::fs::write(fx.path().join("main.sh"), "exit 1\n").unwrap();
    let result = fx.press(PressOptions::default()).await;
    assert_eq!(result.error_type, Some(ErrorCode::ScriptError));
    assert_eq!(result.prompt.as_deref(), Some(real));
}
