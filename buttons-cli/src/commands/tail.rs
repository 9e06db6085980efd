//! `buttons tail NAME|PATH [-f]`: a press's progress file (JSON lines).

use std::time::Duration;

use buttons_store::{ProgressTail, TailTarget};
use camino::Utf8Path;
use serde_json::{Value, json};

use crate::cli::TailArgs;
use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply};

/// How often `-f` looks for new lines and for the press's end.
const POLL: Duration = Duration::from_millis(100);

pub(crate) fn run(args: TailArgs, out: Output) -> CliResult<Reply> {
    let store = super::open_store(out)?;
    let target = if args.target.contains('/') || args.target.ends_with(".jsonl") {
        let path = Utf8Path::new(&args.target);
        let absolute = std::path::absolute(path.as_std_path())?;
        let absolute = camino::Utf8PathBuf::from_path_buf(absolute)
            .map_err(|p| CliError::validation(format!("not a UTF-8 path: {}", p.display())))?;
        store.tail_target_of_path(&absolute).ok_or_else(|| {
            CliError::validation(format!(
                "{} is not a progress file (buttons/NAME/pressed/ID.jsonl)",
                args.target
            ))
        })?
    } else {
        let name = super::button_name(&args.target)?;
        // NOT_FOUND for an unknown button.
        store.load(&name)?;
        store.tail_target(&name)?.ok_or_else(|| {
            CliError::new(
                buttons_spec::ErrorCode::NotFound,
                format!("{name} was never pressed"),
            )
            .with_hint(format!("press it with 'buttons press {name}'"))
        })?
    };
    let mut tail = ProgressTail::new(target.path.clone());
    if args.follow {
        return follow(&store, &target, &mut tail, out);
    }
    let lines = tail.read_new()?;
    let mut text = String::new();
    for line in &lines {
        text.push_str(line);
        text.push('\n');
    }
    let values: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| Value::String(l.clone())))
        .collect();
    let data = json!({
        "button": target.button,
        "id": target.id,
        "path": target.path,
        "running": target.running,
        "lines": values,
    });
    Ok(Reply::new(data).stdout(text))
}

/// Prints lines as they are appended, until the press ends (its marker is
/// gone or its record is written), then what is left.
fn follow(
    store: &buttons_store::Store,
    target: &TailTarget,
    tail: &mut ProgressTail,
    out: Output,
) -> CliResult<Reply> {
    loop {
        let running = store.is_running(&target.button, &target.id);
        for line in tail.read_new()? {
            if out.line(&line).is_err() {
                return Ok(Reply::streamed());
            }
        }
        if !running {
            if let Some(rest) = tail.finish() {
                let _ = out.line(&rest);
            }
            return Ok(Reply::streamed());
        }
        std::thread::sleep(POLL);
    }
}
