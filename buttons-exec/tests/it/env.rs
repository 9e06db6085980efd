//! The child's environment (reference §5 order) and working directory.

use buttons_exec::PressOptions;
use buttons_spec::{Args, Status};

use crate::util::Fixture;

const DUMP: &str = r#"for name in ONLY_BASE BUTTONS_BAT_K BUTTONS_BAT_J BUTTONS_BAT_L E BUTTONS_ARG_A \
            BUTTONS_ARG_B BUTTONS_PROGRESS_PATH CARGO_MANIFEST_DIR; do
  eval "printf '%s=%s|' \"\$name\" \"\${$name-unset}\""
done > env.out
pwd -P > cwd.out
"#;

/// Base, then batteries, then the button's env, then arguments, then the
/// progress path: each later layer overrides the earlier ones.
#[tokio::test]
async fn layers_apply_in_order_later_wins() {
    let mut fx = Fixture::sh(DUMP).with_args(&["a:string:optional", "b:string:optional"]);
    fx.batteries.insert("K", "battery-k").unwrap();
    fx.batteries.insert("J", "battery-j").unwrap();
    fx.batteries.insert("L", "battery-l").unwrap();
    fx.button
        .env
        .insert("BUTTONS_BAT_J".into(), "button-j".into());
    fx.button
        .env
        .insert("BUTTONS_ARG_A".into(), "button-a".into());
    fx.button
        .env
        .insert("BUTTONS_ARG_B".into(), "button-b".into());
    fx.button.env.insert("E".into(), "button-e".into());
    fx.button
        .env
        .insert("BUTTONS_PROGRESS_PATH".into(), "button-p".into());
    let args = fx.args(&[("a", "arg-a")]);
    let progress = fx.path().join("progress.jsonl");
    let mut ctx = buttons_exec::PressContext::new(&fx.button, fx.path(), &args, &fx.batteries);
    ctx.base_env = vec![
        ("ONLY_BASE".into(), "base".into()),
        ("BUTTONS_BAT_K".into(), "base-k".into()),
        ("E".into(), "base-e".into()),
        ("BUTTONS_ARG_A".into(), "base-a".into()),
    ];
    ctx.progress_path = Some(progress.clone());
    let result = buttons_exec::press(&ctx, PressOptions::default())
        .await
        .unwrap();
    assert_eq!(result.status, Status::Ok, "{result:?}");
    let expected = format!(
        "ONLY_BASE=base|BUTTONS_BAT_K=battery-k|BUTTONS_BAT_J=button-j|BUTTONS_BAT_L=battery-l|\
         E=button-e|BUTTONS_ARG_A=arg-a|BUTTONS_ARG_B=button-b|BUTTONS_PROGRESS_PATH={}|\
         CARGO_MANIFEST_DIR=unset|",
        progress.display()
    );
    assert_eq!(fx.read("env.out"), expected);
    assert_eq!(result.progress_path, Some(progress.display().to_string()));
    assert_eq!(result.args["a"], "arg-a");
}

/// Nothing of the caller's own environment leaks in unless it is in `base_env`.
#[tokio::test]
async fn only_the_given_base_environment_is_inherited() {
    let fx = Fixture::sh(DUMP);
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    let args = Args::default();
    let ctx = buttons_exec::PressContext::new(&fx.button, fx.path(), &args, &fx.batteries);
    let result = buttons_exec::press(&ctx, PressOptions::default())
        .await
        .unwrap();
    assert_eq!(result.status, Status::Ok, "{result:?}");
    assert!(fx.read("env.out").contains("CARGO_MANIFEST_DIR=unset|"));
    // With the process environment as base, it is inherited.
    fx.press(PressOptions::default()).await;
    assert!(!fx.read("env.out").contains("CARGO_MANIFEST_DIR=unset|"));
}

#[tokio::test]
async fn runs_in_the_button_folder_with_empty_stdin() {
    let fx = Fixture::sh("pwd -P > cwd.out\ncat > stdin.out\n");
    let result = fx.press(PressOptions::default()).await;
    assert_eq!(result.status, Status::Ok, "{result:?}");
    let cwd = fx.read("cwd.out");
    assert_eq!(
        cwd.trim_end(),
        fx.path().canonicalize().unwrap().to_str().unwrap()
    );
    assert_eq!(fx.read("stdin.out"), "");
}

#[tokio::test]
async fn dry_run_env_masks_batteries() {
    let mut fx = Fixture::sh("").with_args(&["a:string:optional"]);
    fx.batteries.insert("TOKEN", "hunter2").unwrap();
    let args = fx.args(&[("a", "x")]);
    let ctx = fx.ctx(&args);
    let env = buttons_exec::dry_run_env(&ctx);
    assert_eq!(env["BUTTONS_BAT_TOKEN"], buttons_exec::MASK);
    assert_eq!(env["BUTTONS_ARG_A"], "x");
    assert!(!format!("{env:?}").contains("hunter2"));
    assert!(!env.contains_key("PATH"), "only added variables are shown");
}
