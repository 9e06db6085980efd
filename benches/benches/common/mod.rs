//! Helpers shared by the CLI benchmarks: the release `buttons` binary.
#![allow(dead_code, reason = "each bench binary uses some of these helpers")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Builds (if needed) and returns the release `buttons` binary.
pub(crate) fn release_binary() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("benches/ sits in the workspace")
        .to_owned();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "buttons-cli",
            "--bin",
            "buttons",
        ])
        .current_dir(&root)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the release binary failed");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    target.join("release").join("buttons")
}

/// Runs `cmd` with no input and no output, asserting that it succeeds.
// `expect` cannot work here: the module is compiled into every bench binary
// and only some of them call this.
#[allow(
    dead_code,
    reason = "not every bench binary that includes this module uses it"
)]
pub(crate) fn quiet(cmd: &mut Command) {
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the command runs");
    assert!(status.success(), "{cmd:?} failed");
}

/// `cmd` with a small, fixed environment (PATH, HOME, BUTTONS_HOME) and
/// `home` as its working directory, so every measured run sees the same.
pub(crate) fn clean_env<'a>(cmd: &'a mut Command, home: &Path, data: &Path) -> &'a mut Command {
    cmd.env_clear()
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        )
        .env("HOME", home)
        .env("BUTTONS_HOME", data)
        .current_dir(home)
}
