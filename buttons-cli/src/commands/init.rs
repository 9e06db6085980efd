//! `buttons init`: set up ./.buttons (or BUTTONS_HOME).

use std::fmt::Write as _;

use buttons_store::{DATA_DIR_NAME, Location, Source, Store};
use serde_json::json;

use crate::error::CliResult;
use crate::output::{Output, Reply};

pub(crate) fn run(out: Output) -> CliResult<Reply> {
    let cwd = std::env::current_dir()?;
    let location = match std::env::var_os("BUTTONS_HOME").filter(|h| !h.is_empty()) {
        Some(home) => Location {
            root: cwd.join(home),
            source: Source::Env,
            global: None,
        },
        None => Location {
            root: cwd.join(DATA_DIR_NAME),
            source: Source::Project,
            global: None,
        },
    };
    let store = Store::open(&location)?;
    if let Some(notice) = store.notice() {
        out.notice(&notice.to_string());
    }
    let report = store.init()?;
    let mut text = format!(
        "{} {}\n",
        if report.created { "Created" } else { "Checked" },
        report.root
    );
    if !report.gitignore_added.is_empty() {
        let _ = writeln!(
            text,
            "  .gitignore: added {}",
            report.gitignore_added.join(", ")
        );
    }
    if report.wrote_agents_md {
        text.push_str("  wrote AGENTS.md\n");
    }
    text.push_str("  next: buttons create hello --code 'echo hello'");
    Ok(Reply::new(json!({
        "path": report.root,
        "created": report.created,
        "gitignore_added": report.gitignore_added,
        "agents_md": report.wrote_agents_md,
    }))
    .stderr(text))
}
