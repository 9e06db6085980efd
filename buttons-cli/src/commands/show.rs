//! `buttons NAME`: show one button.

use std::fmt::Write as _;

use buttons_store::AGENTS_FILE;
use serde_json::json;

use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply};

pub(crate) fn run(words: &[String], out: Output) -> CliResult<Reply> {
    let words: Vec<&String> = words.iter().filter(|w| *w != "--json").collect();
    let [name] = words.as_slice() else {
        return Err(CliError::validation(format!(
            "unexpected arguments after the button name: {}",
            words
                .iter()
                .skip(1)
                .map(|w| w.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        ))
        .with_hint("show a button with 'buttons NAME'; see 'buttons --help' for commands"));
    };
    let store = super::open_store(out)?;
    let name = super::button_name(name).map_err(|e| {
        if name.starts_with('-') {
            CliError::validation(format!("unknown option {name}")).with_hint("see 'buttons --help'")
        } else {
            e
        }
    })?;
    let button = store.load(&name).map_err(|e| {
        let err = CliError::from(e);
        if err.code != buttons_spec::ErrorCode::NotFound {
            return err;
        }
        let commands = crate::suggest::commands_like(words[0]);
        let buttons = crate::suggest::closest(
            name.as_str(),
            crate::suggest::button_names(&store)
                .iter()
                .map(String::as_str),
        );
        let mut err = crate::suggest::button_not_found(&store, name.as_str(), err);
        if !commands.is_empty() {
            err.message = format!(
                "unknown command {:?}, and no button of that name in {}",
                words[0],
                store.buttons_dir()
            );
            let guess = crate::suggest::did_you_mean(&commands).unwrap_or_default();
            err.hint = Some(match buttons.first() {
                Some(button) => format!("{guess} (or the button `{button}`?)"),
                None => format!("{guess} (see 'buttons --help' for commands)"),
            });
        }
        err
    })?;
    let dir = store.button_dir(&name);
    let code_path = store.code_path(&button);
    let last = store.records(Some(&name), 1)?.into_iter().next();

    let mut text = format!("{}  ({})\n", button.name, super::list::kind_label(&button));
    if !button.description.is_empty() {
        let _ = writeln!(text, "  {}", button.description);
    }
    if !button.url.is_empty() {
        let _ = writeln!(text, "  request:  {} {}", button.method(), button.url);
    }
    if button.args.is_empty() {
        text.push_str("  args:     none\n");
    } else {
        text.push_str("  args:\n");
        for def in &button.args {
            let _ = writeln!(text, "    {:<30} -> ${}", def.to_string(), def.env_var());
        }
    }
    let _ = writeln!(text, "  timeout:  {}s", button.timeout().as_secs());
    let _ = writeln!(text, "  folder:   {}", dir);
    if let Some(code) = &code_path {
        let _ = writeln!(text, "  code:     {}", code);
    }
    if let Some(last) = &last {
        let _ = writeln!(
            text,
            "  last run: {} {} ({})",
            last.record.started_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            last.record.status.as_str(),
            crate::output::duration_ms(last.record.duration_ms)
        );
    }
    // As the Go tool: {"button": spec + folders, "last_run"?, "agent_md"?}.
    let mut data = json!({ "button": super::button_data(&button, &dir, code_path.as_deref()) });
    if let Some(last) = &last {
        data["last_run"] = json!(last.record);
    }
    if let Some(text) = read_agents_md(&dir) {
        data["agent_md"] = json!(text);
    }
    Ok(Reply::new(data).stdout(text))
}

/// The button's `AGENTS.md`, at most 1 MiB of it (lossy UTF-8).
fn read_agents_md(dir: &camino::Utf8Path) -> Option<String> {
    use std::io::Read as _;
    // Non-blocking and regular files only: a FIFO there must not hang `show`.
    let file = buttons_store::open_regular_file(dir.join(AGENTS_FILE).as_std_path()).ok()??;
    let mut bytes = Vec::new();
    file.take(buttons_spec::OUTPUT_CAP as u64)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}
