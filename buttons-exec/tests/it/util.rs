//! Shared helpers: a button folder in a temporary directory and press shortcuts.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use buttons_exec::{PressContext, PressOptions};
use buttons_spec::{
    ArgDef, Args, Batteries, Button, ButtonName, ButtonRuntime, PressResult, Timestamp,
};
use tempfile::TempDir;

/// A button and its folder.
pub(crate) struct Fixture {
    pub(crate) dir: TempDir,
    pub(crate) button: Button,
    pub(crate) batteries: Batteries,
}

impl Fixture {
    /// A button of `runtime` whose code file `file` holds `code`.
    pub(crate) fn code(runtime: &str, file: &str, code: &str) -> Self {
        let fx = Self::empty(runtime);
        std::fs::write(fx.dir.path().join(file), code).unwrap();
        fx
    }

    /// A shell button running `code`.
    pub(crate) fn sh(code: &str) -> Self {
        Self::code("shell", "main.sh", code)
    }

    /// A button of `runtime` (as written in `button.json`) with nothing in its folder.
    pub(crate) fn empty(runtime: &str) -> Self {
        let name = ButtonName::new("test-button").unwrap();
        let mut button = Button::new(&name, Timestamp::UNIX_EPOCH);
        button.runtime = ButtonRuntime::from_name(runtime);
        Self {
            dir: tempfile::tempdir().unwrap(),
            button,
            batteries: Batteries::new(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Declares `defs` (e.g. `who:string:optional`).
    pub(crate) fn with_args(mut self, defs: &[&str]) -> Self {
        for def in defs {
            self.button.args.push(ArgDef::parse(def).unwrap());
        }
        self
    }

    pub(crate) fn args(&self, values: &[(&str, &str)]) -> Args {
        Args::validate(&self.button.args, values.iter().copied()).unwrap()
    }

    /// A context with this process's environment as the base.
    pub(crate) fn ctx<'a>(&'a self, args: &'a Args) -> PressContext<'a> {
        PressContext::from_env(&self.button, self.path(), args, &self.batteries)
    }

    /// Presses with no arguments, this process's environment and `opts`.
    pub(crate) async fn press(&self, opts: PressOptions) -> PressResult {
        let args = Args::default();
        buttons_exec::press(&self.ctx(&args), opts).await.unwrap()
    }

    /// Reads a file the script wrote in its folder.
    pub(crate) fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// Reads a pid the script wrote in its folder.
    pub(crate) fn pid(&self, name: &str) -> i32 {
        self.read(name).trim().parse().unwrap()
    }
}

/// Short timeouts for the lifecycle tests.
pub(crate) fn quick() -> PressOptions {
    PressOptions::default()
        .timeout(Duration::from_secs(1))
        .grace(Duration::from_millis(200))
}

/// `(PATH, value)` for a base environment.
pub(crate) fn path_var(dirs: &[&Path]) -> (OsString, OsString) {
    ("PATH".into(), std::env::join_paths(dirs).unwrap())
}

/// Fields 3 (state) and 5 (process group) of `/proc/<pid>/stat`.
fn stat(pid: &str) -> Option<(String, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.to_owned();
    let pgrp = fields.nth(1)?.parse().ok()?;
    Some((state, pgrp))
}

/// Processes of group `pgid` that are alive (not zombies).
pub(crate) fn live_members(pgid: i32) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| matches!(stat(pid), Some((state, pgrp)) if pgrp == pgid && state != "Z"))
        .collect()
}

/// Whether `pid` is a live (not zombie) process.
pub(crate) fn alive(pid: i32) -> bool {
    matches!(stat(&pid.to_string()), Some((state, _)) if state != "Z")
}

/// Whether `/proc/<pid>` exists at all (a zombie counts).
pub(crate) fn exists(pid: i32) -> bool {
    PathBuf::from(format!("/proc/{pid}")).exists()
}

/// Waits until `path` exists (the script got that far), at most 10 s.
pub(crate) async fn wait_for_file(path: &Path) {
    for _ in 0..1000 {
        if path.exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{} never appeared", path.display());
}
