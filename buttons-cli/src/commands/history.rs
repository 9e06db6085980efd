//! `buttons history [NAME] [--last N] [--no-output]`.

use serde_json::json;

use crate::cli::HistoryArgs;
use crate::error::CliResult;
use crate::output::{Output, Reply, table};

pub(crate) fn run(args: HistoryArgs, out: Output) -> CliResult<Reply> {
    let store = super::open_store(out)?;
    let name = args.name.as_deref().map(super::button_name).transpose()?;
    // A run whose process died before its record shows as INTERRUPTED.
    let _ = store.recover_interrupted(name.as_ref());
    // Unreadable records (a folder named x.json, a FIFO, broken JSON) are
    // skipped and counted, never fatal.
    let (records, skipped) = store.records_counted(name.as_ref(), args.last)?;
    let mut rows = Vec::with_capacity(records.len());
    let mut data = Vec::with_capacity(records.len());
    for stored in records {
        let r = &stored.record;
        rows.push(vec![
            r.started_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
            stored.button.clone(),
            r.status.as_str().to_owned(),
            r.exit_code.to_string(),
            crate::output::duration_ms(r.duration_ms),
        ]);
        let mut value = serde_json::to_value(r).expect("a RunRecord always serializes");
        if let Some(map) = value.as_object_mut() {
            if args.no_output {
                map.shift_remove("stdout");
                map.shift_remove("stderr");
            }
            map.insert("path".into(), json!(stored.path));
        }
        data.push(value);
    }
    let mut reply = if rows.is_empty() {
        Reply::new(data).stderr("No presses recorded yet.")
    } else {
        Reply::new(data).stdout(table(
            &["STARTED (UTC)", "BUTTON", "STATUS", "EXIT", "DURATION"],
            &rows,
        ))
    };
    if skipped > 0 {
        let plural = if skipped == 1 { "" } else { "s" };
        let line = format!("skipped {skipped} unreadable record{plural}");
        reply.stderr = if reply.stderr.is_empty() {
            line
        } else {
            format!("{}\n{line}", reply.stderr)
        };
        reply.skipped = Some(skipped);
    }
    Ok(reply)
}
