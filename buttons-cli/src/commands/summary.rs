//! `buttons summary [--deep]` (and bare `buttons`): the orientation overview.

use std::fmt::Write as _;

use buttons_store::{Overview, OverviewOptions};
use serde_json::json;

use crate::cli::SummaryArgs;
use crate::error::CliResult;
use crate::output::{Output, Reply, table};

pub(crate) fn run(args: SummaryArgs, out: Output) -> CliResult<Reply> {
    let store = super::open_store(out)?;
    let options = OverviewOptions {
        deep: args.deep,
        ..OverviewOptions::default()
    };
    let overview = store.overview(&options)?;
    let version = env!("CARGO_PKG_VERSION");
    let text = if out.is_json() {
        String::new()
    } else {
        human(version, &overview)
    };
    let (drawers, drawer_failures) = super::drawer::summary_parts(&store);
    let mut recent_failures =
        serde_json::to_value(&overview.recent_failures).expect("failures serialize");
    if let Some(list) = recent_failures.as_array_mut() {
        list.extend(drawer_failures);
    }
    let data = json!({
        "version": version,
        "data_dir": overview.data_dir,
        "counts": overview.counts,
        "buttons": overview.buttons,
        "drawers": drawers,
        "active_runs": overview.active_runs,
        "recent_failures": recent_failures,
    });
    Ok(Reply::new(data).stdout(text))
}

fn human(version: &str, o: &Overview) -> String {
    let mut text = format!("buttons {version}  {}\n", o.data_dir);
    let _ = writeln!(
        text,
        "{} buttons, {} running, {} recent failures",
        o.counts.buttons,
        o.active_runs.len(),
        o.counts.failures_recent
    );
    if o.buttons.is_empty() {
        text.push_str("\nNo buttons yet: 'buttons create NAME --code ...' makes one.\n");
    } else {
        let rows: Vec<Vec<String>> = o
            .buttons
            .iter()
            .map(|b| {
                let runs: Vec<&str> = b.recent_runs.iter().map(|r| r.status.as_str()).collect();
                vec![
                    b.name.clone(),
                    if b.error.is_some() {
                        "broken".to_owned()
                    } else {
                        b.runtime.clone()
                    },
                    if runs.is_empty() {
                        "-".to_owned()
                    } else {
                        runs.join(" ")
                    },
                    b.description.clone(),
                ]
            })
            .collect();
        text.push('\n');
        text.push_str(&table(
            &["NAME", "RUNTIME", "LAST RUNS", "DESCRIPTION"],
            &rows,
        ));
    }
    if !o.active_runs.is_empty() {
        text.push_str("\nRunning:\n");
        for r in &o.active_runs {
            let _ = writeln!(
                text,
                "  {}  pid {}  since {}  ('buttons tail {} -f')",
                r.name,
                r.pid,
                r.started_at.strftime("%H:%M:%S UTC"),
                r.name
            );
        }
    }
    if !o.recent_failures.is_empty() {
        text.push_str("\nRecent failures:\n");
        for f in &o.recent_failures {
            let first = f.stderr.lines().next().unwrap_or("");
            let _ = writeln!(
                text,
                "  {}  {}  {}  {}",
                f.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                f.button,
                f.error_code.map_or("-", |c| c.as_str()),
                first
            );
        }
        text.push_str("  ('buttons logs' shows them in full)\n");
    }
    text
}
