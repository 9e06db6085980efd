//! `buttons trigger add|list|rm`: a button's cron, watch and webhook
//! triggers (run by `buttons serve`).

use std::fmt::Write as _;

use buttons_exec::{ArgInput, Engine, Schedule, webhook_paths};
use buttons_spec::{
    ErrorCode, Trigger, TriggerKind, find_conflict, normalize_webhook_path, parse_triggers, redact,
    split_press_arg, triggers_value,
};
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
    let store = super::open_store(out)?;
    let name = super::button_name(&args.button)?;
    let engine = Engine::new(store);
    let loaded = engine.load(name.as_str())?;
    let kind = if args.cron {
        TriggerKind::Cron
    } else if args.watch {
        TriggerKind::Watch
    } else {
        TriggerKind::Webhook
    };
    let now = jiff::Timestamp::now();
    let mut trigger = Trigger::new(kind, now);
    let mut generated_token = None;
    match kind {
        TriggerKind::Cron => {
            let schedule = args.schedule.unwrap_or_default();
            Schedule::parse(&schedule)?;
            trigger.schedule = Some(schedule.trim().to_owned());
        }
        TriggerKind::Watch => {
            let path = args.path.unwrap_or_default();
            let absolute = std::path::absolute(&path).map_err(|e| {
                CliError::validation(format!("cannot resolve {}: {e}", path.display()))
            })?;
            let text = absolute.to_str().ok_or_else(|| {
                CliError::validation(format!("the path {} is not UTF-8", absolute.display()))
            })?;
            trigger.path = Some(text.to_owned());
        }
        TriggerKind::Webhook => {
            let path = normalize_webhook_path(args.webhook_path.as_deref().unwrap_or(""))?;
            let taken = webhook_paths(engine.store())?;
            if let Some(conflict) = find_conflict(&path, &taken, None) {
                return Err(conflict.into());
            }
            trigger.path = Some(path);
            if args.no_auth {
                trigger.no_auth = true;
            } else {
                let token = match args.token {
                    Some(t) if !t.trim().is_empty() => t.trim().to_owned(),
                    Some(_) => {
                        return Err(CliError::validation("--token is empty")
                            .with_hint("leave --token out to have one generated"));
                    }
                    None => {
                        let token = buttons_exec::generate_secret();
                        generated_token = Some(token.clone());
                        token
                    }
                };
                trigger.token = Some(token);
            }
        }
    }
    let mut pairs = Vec::new();
    for raw in &args.args {
        let (k, v) = split_press_arg(raw)?;
        pairs.push((k.to_owned(), v.to_owned()));
    }
    // The arguments must be ones the button takes, as every press checks.
    loaded.validate(&ArgInput::Text(pairs.clone()))?;
    if !pairs.is_empty() {
        trigger.args = Some(pairs.into_iter().collect());
    }
    trigger.validate()?;
    let mut existing = parse_triggers(loaded.button.triggers.as_ref())?;
    while existing.iter().any(|t| t.id == trigger.id) {
        trigger.id = buttons_spec::new_trigger_id();
    }
    let added = trigger.clone();
    engine.store().update(&name, now, move |button| {
        // Read again under the update: another writer may have changed it.
        existing = parse_triggers(button.triggers.as_ref()).unwrap_or(existing);
        existing.push(added);
        button.triggers = Some(triggers_value(&existing));
    })?;
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
    let store = super::open_store(out)?;
    let name = super::button_name(button)?;
    let spec = store.load(&name)?;
    let triggers = parse_triggers(spec.triggers.as_ref())?;
    if !triggers.iter().any(|t| t.id == id) {
        let ids: Vec<&str> = triggers.iter().map(|t| t.id.as_str()).collect();
        return Err(CliError::new(
            ErrorCode::TriggerNotFound,
            format!("button {name} has no trigger {id:?}"),
        )
        .with_hint(if ids.is_empty() {
            format!("{name} has no triggers")
        } else {
            format!(
                "its triggers: {} (see `buttons trigger list {name}`)",
                ids.join(", ")
            )
        }));
    }
    let id_owned = id.to_owned();
    store.update(&name, jiff::Timestamp::now(), move |button| {
        let mut triggers = parse_triggers(button.triggers.as_ref()).unwrap_or_default();
        triggers.retain(|t| t.id != id_owned);
        button.triggers = Some(triggers_value(&triggers));
    })?;
    Ok(
        Reply::new(json!({ "button": name, "id": id, "removed": true }))
            .stderr(format!("Removed trigger {id} from {name}.")),
    )
}
