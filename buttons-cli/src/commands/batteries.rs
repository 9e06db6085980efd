//! `buttons batteries set|get|list|rm`.

use buttons_store::{Scope, Store};
use serde_json::json;

use crate::cli::{BatteriesCommand, ScopeArgs};
use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply, table};

/// The scope a `set`/`rm` lands in, and a line saying so when it is not the
/// one asked for (`--local` with `BUTTONS_HOME` set: there is one file).
fn scope(store: &Store, args: &ScopeArgs) -> (Scope, Option<String>) {
    let requested = if args.global {
        Some(Scope::Global)
    } else if args.local {
        Some(Scope::Local)
    } else {
        None
    };
    let scope = store.scope(requested);
    let note = requested.is_some_and(|r| r != scope).then(|| {
        format!(
            "\n  there is no separate local scope here: this is the one batteries file, {}",
            store.batteries_path(scope).display()
        )
    });
    (scope, note)
}

/// The value of `batteries set KEY` without one on the command line: a
/// hidden prompt on a terminal, else all of stdin less one final newline.
fn read_secret(key: &str) -> CliResult<String> {
    use std::io::{IsTerminal as _, Read as _};

    let stdin = std::io::stdin();
    let value = if stdin.is_terminal() {
        rpassword::prompt_password(format!("Value for {key} (hidden): "))?
    } else {
        let mut text = String::new();
        stdin.lock().read_to_string(&mut text).map_err(|e| {
            CliError::validation(format!("could not read the value from stdin: {e}"))
        })?;
        let trimmed = text
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t))
            .unwrap_or(&text);
        trimmed.to_owned()
    };
    if value.is_empty() {
        return Err(
            CliError::validation(format!("no value given for {key}")).with_hint(format!(
                "pipe it in: echo \"$VALUE\" | buttons batteries set {key}"
            )),
        );
    }
    Ok(value)
}

pub(crate) fn run(cmd: BatteriesCommand, out: Output) -> CliResult<Reply> {
    let store = super::open_store(out)?;
    match cmd {
        BatteriesCommand::Set {
            key,
            value,
            scope: s,
        } => {
            let (scope, note) = scope(&store, &s);
            buttons_spec::validate_battery_key(&key)?;
            let value = match value {
                Some(value) if value != "-" => value,
                _ => read_secret(&key)?,
            };
            store.set_battery(scope, &key, &value)?;
            Ok(
                Reply::new(json!({ "key": key, "scope": scope.as_str() })).stderr(format!(
                    "Set {key} ({scope}).\n  scripts read it as $BUTTONS_BAT_{key}{}",
                    note.unwrap_or_default()
                )),
            )
        }
        BatteriesCommand::Get { key } => {
            let (value, scope) = store.battery(&key)?;
            let text = format!("{value}\n");
            Ok(
                Reply::new(json!({ "key": key, "value": value, "scope": scope.as_str() }))
                    .stdout(text),
            )
        }
        BatteriesCommand::List { reveal } => {
            let entries = store.battery_entries()?;
            let mut rows = Vec::new();
            let mut data = Vec::new();
            for (key, value, scope) in entries {
                let shown = if reveal {
                    value
                } else {
                    buttons_spec::redact(&value)
                };
                rows.push(vec![key.clone(), scope.as_str().to_owned(), shown.clone()]);
                data.push(json!({ "key": key, "value": shown, "scope": scope.as_str() }));
            }
            if rows.is_empty() {
                return Ok(Reply::new(data)
                    .stderr("No batteries set.\n  next: buttons batteries set KEY VALUE"));
            }
            Ok(Reply::new(data).stdout(table(&["KEY", "SCOPE", "VALUE"], &rows)))
        }
        BatteriesCommand::Rm { key, scope: s } => {
            let (scope, note) = scope(&store, &s);
            store.remove_battery(scope, &key)?;
            Ok(
                Reply::new(json!({ "key": key, "scope": scope.as_str() })).stderr(format!(
                    "Removed {key} ({scope}).{}",
                    note.unwrap_or_default()
                )),
            )
        }
    }
}
