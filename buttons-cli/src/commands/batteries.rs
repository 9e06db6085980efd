//! `buttons batteries set|get|list|rm`.

use buttons_store::{Scope, Store};
use serde_json::json;

use crate::cli::{BatteriesCommand, ScopeArgs};
use crate::error::CliResult;
use crate::output::{Output, Reply, table};

fn scope(store: &Store, args: &ScopeArgs) -> Scope {
    if args.global {
        Scope::Global
    } else if args.local {
        Scope::Local
    } else {
        store.default_scope()
    }
}

pub(crate) fn run(cmd: BatteriesCommand, out: Output) -> CliResult<Reply> {
    let store = super::open_store(out)?;
    match cmd {
        BatteriesCommand::Set {
            key,
            value,
            scope: s,
        } => {
            let scope = scope(&store, &s);
            store.set_battery(scope, &key, &value)?;
            Ok(
                Reply::new(json!({ "key": key, "scope": scope.as_str() })).stderr(format!(
                    "Set {key} ({scope}).\n  scripts read it as $BUTTONS_BAT_{key}"
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
                let shown = if reveal { value } else { "********".to_owned() };
                rows.push(vec![key.clone(), scope.as_str().to_owned(), shown.clone()]);
                let mut item = json!({ "key": key, "scope": scope.as_str() });
                if reveal {
                    item["value"] = json!(shown);
                }
                data.push(item);
            }
            if rows.is_empty() {
                return Ok(Reply::new(data)
                    .stderr("No batteries set.\n  next: buttons batteries set KEY VALUE"));
            }
            Ok(Reply::new(data).stdout(table(&["KEY", "SCOPE", "VALUE"], &rows)))
        }
        BatteriesCommand::Rm { key, scope: s } => {
            let scope = scope(&store, &s);
            store.remove_battery(scope, &key)?;
            Ok(Reply::new(json!({ "key": key, "scope": scope.as_str() }))
                .stderr(format!("Removed {key} ({scope}).")))
        }
    }
}
