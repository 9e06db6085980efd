//! `buttons trigger add|list|rm`: a button's cron, watch and webhook
//! triggers (run by `buttons serve`).

use std::fmt::Write as _;

use buttons_exec::{AddedTrigger, Engine, NewTrigger, WebhookToken};
use buttons_spec::{Trigger, TriggerKind, parse_triggers, redact, split_press_arg};
use serde_json::{Value, json};

use crate::cli::{TriggerAddArgs, TriggerCommand};
use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply, table};

/// Runs one `buttons trigger` verb.
pub(crate) fn run(command: TriggerCommand, out: Output) -> CliResult<Reply> {
    match command {
        TriggerCommand::Add(args) => add(*args, out),
        TriggerCommand::List { button } => list(button.as_deref(), out),
        TriggerCommand::Rm { button, id } => rm(&button, &id, out),
    }
}

/// A trigger as shown: the token redacted (it was shown once, at `add`).
fn shown(button: &str, t: &Trigger) -> Value {
    let mut value = serde_json::to_value(t).expect("a trigger serializes");
    if let Some(token) = &t.token {
        value["token"] = json!(redact(token));
    }
    value["button"] = json!(button);
    value
}

fn add(args: TriggerAddArgs, out: Output) -> CliResult<Reply> {
    let engine = Engine::new(super::open_store(out)?);
    let token_given = args.token.is_some();
    let new = if args.cron {
        NewTrigger::Cron {
            schedule: args.schedule.unwrap_or_default(),
        }
    } else if args.watch {
        NewTrigger::Watch {
            path: args.path.unwrap_or_default(),
        }
    } else {
        NewTrigger::Webhook {
            path: args.webhook_path.unwrap_or_default(),
            token: match args.token {
                _ if args.no_auth => WebhookToken::NoAuth,
                Some(token) => WebhookToken::Given(token),
                None => WebhookToken::Generate,
            },
        }
    };
    let mut pairs = Vec::new();
    for raw in &args.args {
        let (k, v) = split_press_arg(raw)?;
        pairs.push((k.to_owned(), v.to_owned()));
    }
    let AddedTrigger {
        button: name,
        trigger,
        generated_token,
    } = engine
        .add_trigger(&args.button, new, &pairs)
        .map_err(|e| match e {
            buttons_exec::Error::InvalidTrigger { .. }
                if token_given && !args.cron && !args.watch =>
            {
                CliError::validation("--token is empty")
                    .with_hint("leave --token out to have one generated")
            }
            other => other.into(),
        })?;
    let kind = trigger.kind().map_or("", TriggerKind::as_str);
    let mut data = shown(name.as_str(), &trigger);
    let mut text = format!("Added {} trigger {} to {name}", kind, trigger.id);
    if let Some(token) = generated_token {
        data["token"] = json!(token);
        data["token_generated"] = json!(true);
        let _ = write!(
            text,
            "\nIts token (shown once; send it as the X-Buttons-Token header): {token}"
        );
    }
    if trigger.no_auth {
        text.push_str(
            "\nwarning: this webhook takes no token: anyone who reaches the server can press it",
        );
    }
    text.push_str("\n`buttons serve` runs it (within 2 s if it is already running).");
    Ok(Reply::new(data).stderr(text))
}

fn list(button: Option<&str>, out: Output) -> CliResult<Reply> {
    let store = super::open_store(out)?;
    let mut all = Vec::new();
    match button {
        Some(b) => {
            let name = super::button_name(b)?;
            let spec = store.load(&name)?;
            for t in parse_triggers(spec.triggers.as_ref())? {
                all.push(shown(name.as_str(), &t));
            }
        }
        None => {
            for entry in store.list()? {
                let Ok(spec) = entry.button else { continue };
                for t in parse_triggers(spec.triggers.as_ref()).unwrap_or_default() {
                    all.push(shown(&spec.name, &t));
                }
            }
        }
    }
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|t| {
            let s = |k: &str| t[k].as_str().unwrap_or("").to_owned();
            let what = match t["kind"].as_str() {
                Some("cron") => s("schedule"),
                _ => s("path"),
            };
            vec![s("button"), s("id"), s("kind"), what]
        })
        .collect();
    let text = if rows.is_empty() {
        "No triggers.".to_owned()
    } else {
        table(&["BUTTON", "ID", "KIND", "SCHEDULE/PATH"], &rows)
    };
    Ok(Reply::new(json!({ "triggers": all })).stdout(text))
}

fn rm(button: &str, id: &str, out: Output) -> CliResult<Reply> {
    let engine = Engine::new(super::open_store(out)?);
    let name = engine.remove_trigger(button, id).map_err(|e| match &e {
        buttons_exec::Error::TriggerNotFound { button, ids, .. } => {
            let hint = if ids.is_empty() {
                format!("{button} has no triggers")
            } else {
                format!(
                    "its triggers: {} (see `buttons trigger list {button}`)",
                    ids.join(", ")
                )
            };
            CliError::from(e).with_hint(hint)
        }
        _ => e.into(),
    })?;
    Ok(
        Reply::new(json!({ "button": name, "id": id, "removed": true }))
            .stderr(format!("Removed trigger {id} from {name}.")),
    )
}
