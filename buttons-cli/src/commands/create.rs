//! `buttons create NAME [flags]`.

use std::fmt::Write as _;

use buttons_spec::{ArgDef, Button, ButtonKind, Runtime};
use buttons_store::{CodeSource, NewButton};

use crate::cli::CreateArgs;
use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply};

/// Turns the flags into a spec, code source and prompt (no I/O).
fn build(args: CreateArgs, now: jiff::Timestamp) -> CliResult<NewButton> {
    let name = super::button_name(&args.name)?;
    let mut button = Button::new(&name, now);
    button.description = args.description.unwrap_or_default().trim().to_owned();
    button.mcp_enabled = args.mcp;
    for def in &args.args {
        button.args.push(ArgDef::parse(def)?);
    }
    buttons_spec::validate_arg_defs(&button.args)?;
    if let Some(timeout) = &args.timeout {
        button.timeout_seconds = buttons_spec::parse_timeout(timeout)?.as_secs();
    }

    let http_only = [
        ("--method", args.method.is_some()),
        ("--header", !args.headers.is_empty()),
        ("--body", args.body.is_some()),
        ("--max-response-size", args.max_response_size.is_some()),
        ("--allow-private-networks", args.allow_private_networks),
    ];
    if let Some(url) = args.url {
        if args.runtime.is_some() {
            return Err(
                CliError::validation("--runtime cannot be combined with --url")
                    .with_hint("an HTTP button has no runtime: drop --runtime"),
            );
        }
        if args.prompt.is_some() || args.code.is_some() || args.file.is_some() {
            return Err(CliError::validation(
                "--url cannot be combined with --code, --file or --prompt",
            )
            .with_hint("make either an HTTP button (--url) or a code/prompt button"));
        }
        let lock = buttons_spec::lock_url_template(&url)?;
        button.runtime.clear();
        button.url = url;
        button.allowed_host = lock.allowed_host;
        button.method = buttons_spec::parse_method(args.method.as_deref().unwrap_or("GET"))?;
        for header in &args.headers {
            let (k, v) = buttons_spec::parse_header(header)?;
            button.headers.insert(k, v);
        }
        button.body = args.body.unwrap_or_default();
        if let Some(size) = &args.max_response_size {
            button.max_response_bytes = buttons_spec::parse_size(size)?;
        }
        button.allow_private_networks = args.allow_private_networks;
        return Ok(NewButton {
            button,
            code: CodeSource::Scaffold,
            prompt: None,
        });
    }
    if let Some((flag, _)) = http_only.iter().find(|(_, set)| *set) {
        return Err(
            CliError::validation(format!("{flag} only applies to HTTP buttons"))
                .with_hint("add --url URL, or drop the flag"),
        );
    }

    let runtime = match args.runtime.as_deref() {
        None if args.prompt.is_some() => "prompt".to_owned(),
        None => String::new(), // shell, or inferred from --file
        Some("prompt") => "prompt".to_owned(),
        Some(given) => match Runtime::from_name(given) {
            Some(rt) if Runtime::ALL.contains(&rt) => rt.as_str().to_owned(),
            _ => {
                return Err(buttons_spec::Error::InvalidRuntime {
                    runtime: given.to_owned(),
                }
                .into());
            }
        },
    };
    if runtime == "prompt" && (args.code.is_some() || args.file.is_some()) {
        return Err(CliError::validation("prompt buttons take no code")
            .with_hint("pass the text with --prompt TEXT, or pick a code runtime"));
    }
    if args.prompt.is_some() && runtime != "prompt" {
        return Err(CliError::validation(format!(
            "--prompt makes a prompt button, not a {runtime} one"
        ))
        .with_hint("drop --runtime, or drop --prompt"));
    }
    button.runtime = runtime;
    let code = match (args.code, args.file) {
        (Some(code), _) => CodeSource::Inline(code),
        (None, Some(file)) => CodeSource::File(file),
        (None, None) => CodeSource::Scaffold,
    };
    Ok(NewButton {
        button,
        code,
        prompt: args.prompt,
    })
}

pub(crate) fn run(args: CreateArgs, out: Output) -> CliResult<Reply> {
    let scaffolded = args.code.is_none() && args.file.is_none() && args.prompt.is_none();
    let new = build(args, jiff::Timestamp::now())?;
    let store = super::open_store(out)?;
    let button = store.create(new)?;
    let name = buttons_spec::ButtonName::new(&button.name)?;
    let dir = store.button_dir(&name);
    let code_path = store.code_path(&button);

    let mut text = format!("Created button {}\n", button.name);
    let edit = match button.kind() {
        ButtonKind::Code(_) => code_path.clone(),
        ButtonKind::Prompt => Some(dir.join(buttons_store::AGENTS_FILE)),
        _ => None,
    };
    if let Some(edit) = &edit {
        let verb = if scaffolded { "edit" } else { "code" };
        let _ = writeln!(text, "  {verb}:  {}", edit);
    }
    let mut press = format!("buttons press {}", button.name);
    for def in button.args.iter().filter(|d| d.required) {
        let _ = write!(press, " --arg {}=<{}>", def.name, def.arg_type);
    }
    let _ = write!(text, "  next:  {press}");

    let data = super::button_data(&button, &dir, code_path.as_deref());
    Ok(Reply::new(data).stderr(text))
}
