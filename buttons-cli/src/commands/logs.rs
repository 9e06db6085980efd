//! `buttons logs [NAME] [--failed] [--limit N] [-f]` and `buttons NAME logs …`.

use std::fmt::Write as _;
use std::time::Duration;

use buttons_store::{RecordSummary, StoredRecord};
use clap::Parser as _;
use serde_json::{Value, json};

use crate::cli::{LogsArgs, NameLogs};
use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply, table};

/// How often `-f` looks for new records.
const POLL: Duration = Duration::from_millis(300);

/// `buttons NAME logs …`: the words after NAME parsed as `logs` flags.
pub(crate) fn run_for_name(words: &[String], out: Output) -> CliResult<Reply> {
    let argv = std::iter::once("buttons NAME logs".to_owned())
        .chain(words.iter().skip(2).filter(|w| *w != "--json").cloned());
    let mut parsed = NameLogs::try_parse_from(argv)
        .map_err(|e| super::usage_error(&e, "see 'buttons logs --help'".to_owned()))?;
    if parsed.args.name.is_some() {
        return Err(CliError::validation("give the button's name once")
            .with_hint("write 'buttons NAME logs' or 'buttons logs NAME'"));
    }
    parsed.args.name = words.first().cloned();
    run(parsed.args, out)
}

pub(crate) fn run(args: LogsArgs, out: Output) -> CliResult<Reply> {
    let store = super::open_store(out)?;
    let name = args.name.as_deref().map(super::button_name).transpose()?;
    // Without a button: failures across the data directory.
    let failed = args.failed || name.is_none();
    let keep = |s: &RecordSummary| !failed || s.is_failure();
    let summaries = store.summaries_where(name.as_ref(), args.limit, usize::MAX, keep)?;
    let mut records = Vec::with_capacity(summaries.len());
    for s in &summaries {
        if let Some(stored) = store.record_of(s)? {
            records.push(stored);
        }
    }
    if args.follow {
        let mut watch = store.watch_records(name.as_ref())?;
        // Oldest first, as a log reads, then new ones as they come.
        for stored in records.iter().rev() {
            if emit(out, stored).is_err() {
                return Ok(Reply::streamed());
            }
        }
        loop {
            std::thread::sleep(POLL);
            for stored in watch.poll()? {
                if failed && stored.record.status == buttons_spec::Status::Ok {
                    continue;
                }
                if emit(out, &stored).is_err() {
                    return Ok(Reply::streamed());
                }
            }
        }
    }
    let data: Vec<Value> = records.iter().map(record_json).collect();
    let reply = if records.is_empty() {
        Reply::new(data).stderr(if failed {
            "No failed runs recorded."
        } else {
            "No presses recorded yet."
        })
    } else {
        let mut text = String::new();
        for stored in &records {
            text.push_str(&human(stored));
        }
        Reply::new(data).stdout(text)
    };
    Ok(reply)
}

/// A record as `logs` and `history` give it: the record plus `button`, `id`
/// and `path`.
fn record_json(stored: &StoredRecord) -> Value {
    let mut value = serde_json::to_value(&stored.record).expect("a RunRecord always serializes");
    if let Some(map) = value.as_object_mut() {
        map.insert("id".into(), json!(stored.id));
        map.insert("path".into(), json!(stored.path));
    }
    value
}

fn human(stored: &StoredRecord) -> String {
    let r = &stored.record;
    let mut text = table(
        &["STARTED (UTC)", "BUTTON", "STATUS", "EXIT", "DURATION"],
        &[vec![
            r.started_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
            stored.button.clone(),
            r.error_type
                .map_or_else(|| r.status.as_str().to_owned(), |c| c.as_str().to_owned()),
            r.exit_code.to_string(),
            crate::output::duration_ms(r.duration_ms),
        ]],
    );
    for (label, body) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        if !body.is_empty() {
            let _ = writeln!(text, "--- {label}");
            text.push_str(body);
            if !body.ends_with('\n') {
                text.push('\n');
            }
        }
    }
    text.push('\n');
    text
}

fn emit(out: Output, stored: &StoredRecord) -> std::io::Result<()> {
    if out.is_json() {
        out.line(&record_json(stored).to_string())
    } else {
        out.line(&human(stored))
    }
}
