//! Integration tests: the real `buttons` binary in a fresh temporary
//! BUTTONS_HOME and HOME (never the repository's `.buttons/` or the user's).

mod batteries;
mod buttons;
mod cancel;
mod cli;
mod create_checks;
mod drawers;
mod drawers_flow;
mod drawers_mcp;
mod drawers_parallel;
mod durations;
mod examples;
mod hardening_fs;
mod hardening_press;
mod history;
mod http;
mod idempotency;
mod mcp;
mod mcp_drawers;
mod mcp_meta;
mod orientation;
mod press;
mod queues;
mod raw;
mod secrets;
mod serve;
mod smash;
mod suggest;
mod triggers;
mod tty;
mod webhooks;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A sandbox: temporary HOME, BUTTONS_HOME and working directory.
pub(crate) struct Sandbox {
    pub(crate) tmp: tempfile::TempDir,
}

/// What one run of the binary produced.
pub(crate) struct Run {
    pub(crate) output: Output,
    pub(crate) json: Value,
}

impl Run {
    pub(crate) fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
}

impl Sandbox {
    pub(crate) fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("home")).unwrap();
        std::fs::create_dir(tmp.path().join("work")).unwrap();
        Self { tmp }
    }

    pub(crate) fn data(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    pub(crate) fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    pub(crate) fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// The binary with HOME, BUTTONS_HOME and the working directory inside the sandbox.
    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_buttons"));
        cmd.args(args)
            .env("HOME", self.home())
            .env("BUTTONS_HOME", self.data())
            .env_remove("BUTTONS_ALLOW_PRIVATE_NETWORKS")
            .env_remove("BUTTONS_ALLOW_ANY_HOST")
            .current_dir(self.tmp.path().join("work"));
        cmd
    }

    /// Runs with stdout piped (so output is JSON) and parses the envelope.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        let output = self.cmd(args).output().unwrap();
        let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: stdout is not one JSON object ({e}): {}\nstderr: {}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        Run { output, json }
    }

    /// Runs, asserts success (exit 0, `ok: true`) and returns `data`.
    pub(crate) fn ok(&self, args: &[&str]) -> Value {
        let run = self.run(args);
        assert_eq!(run.json["ok"], true, "{args:?}: {}", run.json);
        assert_eq!(run.output.status.code(), Some(0), "{args:?}");
        assert_eq!(
            run.json.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["ok", "data"]
        );
        run.json["data"].clone()
    }

    /// Runs, asserts failure with `code` and exit status 1, and returns `error`.
    pub(crate) fn err(&self, args: &[&str], code: &str) -> Value {
        let run = self.run(args);
        assert_eq!(run.json["ok"], false, "{args:?}: {}", run.json);
        assert_eq!(run.json["error"]["code"], code, "{args:?}: {}", run.json);
        assert_eq!(run.output.status.code(), Some(1), "{args:?}");
        let keys: Vec<&String> = run.json.as_object().unwrap().keys().collect();
        if keys == ["ok", "error", "data"] {
            // Only a press that ran and failed keeps its result as `data`.
            let data = &run.json["data"];
            assert!(
                args.contains(&"press"),
                "{args:?}: data on a non-press failure"
            );
            assert_eq!(data["error_type"], code, "{args:?}: {}", run.json);
            assert_ne!(data["status"], "ok", "{args:?}");
            assert!(data["exit_code"].is_i64() && data["stdout"].is_string());
        } else {
            assert_eq!(keys, ["ok", "error"], "{args:?}: {}", run.json);
        }
        for key in run.json["error"].as_object().unwrap().keys() {
            assert!(
                ["code", "message", "hint", "spec"].contains(&key.as_str()),
                "unexpected error field {key}"
            );
        }
        assert!(!run.json["error"]["message"].as_str().unwrap().is_empty());
        run.json["error"].clone()
    }
}

pub(crate) fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}
