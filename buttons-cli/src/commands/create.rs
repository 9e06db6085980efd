//! `buttons create NAME [flags]`.

use std::fmt::Write as _;

use buttons_spec::{ArgDef, Button, ButtonKind, ButtonRuntime, Runtime};
use buttons_store::{CodeSource, NewButton};

use crate::cli::CreateArgs;
use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply};

/// Turns the flags into a spec, code source and prompt (no I/O).
fn build(args: CreateArgs, now: jiff::Timestamp) -> CliResult<NewButton> {
    let CreateArgs {
        name,
        code,
        file,
        runtime,
        prompt,
        args: arg_defs,
        description,
        timeout,
        url,
        method,
        headers,
        body,
        max_response_size,
        allow_private_networks,
        mcp,
    } = args;
    let name = super::button_name(&name)?;
    let mut defs = Vec::with_capacity(arg_defs.len());
    for def in &arg_defs {
        defs.push(ArgDef::parse(def)?);
    }
    buttons_spec::validate_arg_defs(&defs)?;
    let timeout_seconds = match &timeout {
        // timeout_seconds is whole seconds: a fraction rounds up.
        Some(timeout) => buttons_spec::parse_timeout(timeout)?.as_secs_f64().ceil() as u64,
        None => buttons_spec::DEFAULT_TIMEOUT_SECONDS,
    };

    let http_only = [
        ("--method", method.is_some()),
        ("--header", !headers.is_empty()),
        ("--body", body.is_some()),
        ("--max-response-size", max_response_size.is_some()),
        ("--allow-private-networks", allow_private_networks),
    ];
    let (mut button, code, prompt) = if let Some(url) = url {
        if runtime.is_some() {
            return Err(
                CliError::validation("--runtime cannot be combined with --url")
                    .with_hint("an HTTP button has no runtime: drop --runtime"),
            );
        }
        if prompt.is_some() || code.is_some() || file.is_some() {
            return Err(CliError::validation(
                "--url cannot be combined with --code, --file or --prompt",
            )
            .with_hint("make either an HTTP button (--url) or a code/prompt button"));
        }
        let mut button = Button::http(&name, &url, now)?;
        if let Some(method) = &method {
            button.method = buttons_spec::parse_method(method)?;
        }
        for header in &headers {
            let (k, v) = buttons_spec::parse_header(header)?;
            button.headers.insert(k, v);
        }
        button.body = body.unwrap_or_default();
        if let Some(size) = &max_response_size {
            button.max_response_bytes = buttons_spec::parse_size(size)?;
        }
        button.allow_private_networks = allow_private_networks;
        (button, CodeSource::Scaffold, None)
    } else {
        if let Some((flag, _)) = http_only.iter().find(|(_, set)| *set) {
            return Err(
                CliError::validation(format!("{flag} only applies to HTTP buttons"))
                    .with_hint("add --url URL, or drop the flag"),
            );
        }
        // None: a prompt button; Some(None): shell, or inferred from --file.
        let runtime = match runtime.as_deref() {
            None if prompt.is_some() => None,
            None => Some(None),
            Some("prompt") => None,
            Some(given) => match Runtime::from_name(given) {
                Some(rt) => Some(Some(rt)),
                None => {
                    return Err(buttons_spec::Error::InvalidRuntime {
                        runtime: given.to_owned(),
                    }
                    .into());
                }
            },
        };
        let button = match runtime {
            None => {
                if code.is_some() || file.is_some() {
                    return Err(CliError::validation("prompt buttons take no code")
                        .with_hint("pass the text with --prompt TEXT, or pick a code runtime"));
                }
                Button::prompt(&name, now)
            }
            Some(runtime) => {
                if prompt.is_some() {
                    let runtime = runtime.map_or("shell", Runtime::as_str);
                    return Err(CliError::validation(format!(
                        "--prompt makes a prompt button, not a {runtime} one"
                    ))
                    .with_hint("drop --runtime, or drop --prompt"));
                }
                let mut button = Button::code(&name, runtime.unwrap_or(Runtime::Shell), now);
                if runtime.is_none() {
                    // The store infers it from --file, else shell.
                    button.runtime = ButtonRuntime::Unset;
                }
                button
            }
        };
        let code = match (code, file) {
            (Some(code), _) => CodeSource::Inline(code),
            (None, Some(file)) => CodeSource::File(file),
            (None, None) => CodeSource::Scaffold,
        };
        (button, code, prompt)
    };
    button.description = description.unwrap_or_default().trim().to_owned();
    button.mcp_enabled = mcp;
    button.args = defs;
    button.timeout_seconds = timeout_seconds;
    Ok(NewButton {
        button,
        code,
        prompt,
    })
}

pub(crate) fn run(args: CreateArgs, out: Output) -> CliResult<Reply> {
    let scaffolded = args.code.is_none() && args.file.is_none() && args.prompt.is_none();
    let new = build(args, jiff::Timestamp::now())?;
    let store = super::open_store(out)?;
    let button = store.create(new).map_err(|e| {
        let forced = matches!(
            e,
            buttons_store::Error::Spec(buttons_spec::Error::UnsupportedInterpreter { .. })
        );
        let err = CliError::from(e);
        if forced {
            err.with_hint(
                "write it for shell, bash, python or node, or force one with --runtime shell|bash|python|node",
            )
        } else {
            err
        }
    })?;
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
