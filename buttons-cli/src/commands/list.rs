//! `buttons list`.

use buttons_spec::{Button, ButtonKind};
use serde_json::{Value, json};

use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply, table};

/// A short label for a button's kind: its runtime, `http` or `prompt`.
pub(crate) fn kind_label(button: &Button) -> String {
    match button.kind() {
        ButtonKind::Code(rt) => rt.as_str().to_owned(),
        ButtonKind::Http => "http".to_owned(),
        ButtonKind::Prompt => "prompt".to_owned(),
        ButtonKind::App => "app".to_owned(),
        ButtonKind::Unknown(rt) => format!("{rt}?"),
    }
}

pub(crate) fn run(out: Output) -> CliResult<Reply> {
    let store = super::open_store(out)?;
    let listed = store.list()?;
    let mut data = Vec::with_capacity(listed.len());
    let mut rows = Vec::with_capacity(listed.len());
    for entry in listed {
        match entry.button {
            Ok(button) => {
                if !out.is_json() {
                    let args: Vec<String> = button
                        .args
                        .iter()
                        .map(|a| {
                            if a.required {
                                a.name.clone()
                            } else {
                                format!("[{}]", a.name)
                            }
                        })
                        .collect();
                    rows.push(vec![
                        button.name.clone(),
                        kind_label(&button),
                        args.join(" "),
                        button.description.clone(),
                    ]);
                }
                data.push(serde_json::to_value(&button).expect("a Button always serializes"));
            }
            Err(err) => {
                let err = CliError::from(err);
                rows.push(vec![
                    entry.name.clone(),
                    "broken".to_owned(),
                    String::new(),
                    err.message.clone(),
                ]);
                data.push(json!({ "name": entry.name, "error": err }));
            }
        }
    }
    let human = if rows.is_empty() {
        String::new()
    } else {
        table(&["NAME", "KIND", "ARGS", "DESCRIPTION"], &rows)
    };
    let mut reply = Reply::new(Value::Array(data)).stdout(human);
    if rows.is_empty() {
        reply = reply.stderr(format!(
            "No buttons in {}.\n  next: buttons create hello --code 'echo hello'",
            store.buttons_dir()
        ));
    }
    Ok(reply)
}
