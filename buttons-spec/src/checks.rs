//! Checks `create` makes before anything is written: a script's interpreter
//! is one of the runtimes, and every `{{name}}` of an HTTP template names a
//! declared argument. Also the `{{name}}` filling of prompt text.

use crate::args::{ArgDef, Args};
use crate::button::{Button, Runtime};
use crate::error::{Error, Result};

/// Well-known script extensions whose interpreter is not a runtime here.
const FOREIGN_EXTENSIONS: &[(&str, &str)] = &[
    ("rb", "ruby"),
    ("pl", "perl"),
    ("php", "php"),
    ("lua", "lua"),
    ("ts", "deno or ts-node"),
    ("r", "Rscript"),
    ("tcl", "tclsh"),
    ("ps1", "pwsh"),
    ("fish", "fish"),
    ("zsh", "zsh"),
    ("ksh", "ksh"),
    ("go", "go"),
    ("swift", "swift"),
    ("jl", "julia"),
    ("exs", "elixir"),
];

/// The runtime of a script from its file name (extension) and its first
/// line (shebang), refusing one that names an interpreter outside the
/// runtime table: `Ok(None)` when neither says anything.
///
/// ```
/// use buttons_spec::{Runtime, detect_runtime};
/// assert_eq!(detect_runtime("x.py", b"")?, Some(Runtime::Python));
/// assert_eq!(detect_runtime("", b"#!/usr/bin/env bash\necho")?, Some(Runtime::Bash));
/// assert_eq!(detect_runtime("", b"echo hi")?, None);
/// assert!(detect_runtime("x.rb", b"puts 1").is_err());
/// assert!(detect_runtime("", b"#!/usr/bin/env ruby\nputs 1").is_err());
/// # Ok::<(), buttons_spec::Error>(())
/// ```
pub fn detect_runtime(file_name: &str, contents: &[u8]) -> Result<Option<Runtime>> {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    if let Some(ext) = &ext
        && let Some((_, interpreter)) = FOREIGN_EXTENSIONS.iter().find(|(e, _)| e == ext)
    {
        return Err(Error::UnsupportedInterpreter {
            interpreter: (*interpreter).to_owned(),
            found_in: format!("the extension .{ext}"),
        });
    }
    if let Some(rt) = Runtime::infer(file_name, contents) {
        return Ok(Some(rt));
    }
    match shebang_program(contents) {
        Some(program) => Err(Error::UnsupportedInterpreter {
            interpreter: program.to_owned(),
            found_in: "the shebang line".to_owned(),
        }),
        None => Ok(None),
    }
}

/// The program a `#!` first line runs (through `env` when it is `env`).
fn shebang_program(contents: &[u8]) -> Option<&str> {
    let first = contents.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(first).ok()?.strip_prefix("#!")?;
    let mut words = line.split_whitespace();
    let prog = words.next()?.rsplit('/').next()?;
    if prog == "env" {
        return words.find(|w| !w.starts_with('-'));
    }
    Some(prog)
}

/// The checks `create` makes on an HTTP button with the rules a press
/// applies: the literal `scheme://host[:port]` of its URL parses with the
/// URL parser a press uses (no port over 65535, no IPv6 zone id, no `%00`
/// in the host), and every header value can be sent
/// ([`header_value_problem`](crate::header_value_problem)). A button that
/// passes is never refused by a press for these reasons.
///
/// ```
/// use buttons_spec::{Button, ButtonName, Timestamp, check_http};
///
/// let name = ButtonName::new("h")?;
/// check_http(&Button::http(&name, "https://example.com:8443/{{id}}", Timestamp::UNIX_EPOCH)?)?;
/// assert!(check_http(&Button::http(&name, "http://example.com:99999/", Timestamp::UNIX_EPOCH)?).is_err());
/// # Ok::<(), buttons_spec::Error>(())
/// ```
pub fn check_http(button: &Button) -> Result<()> {
    if button.url.is_empty() {
        return Ok(());
    }
    let lock = crate::host_lock::lock_url_template(&button.url)?;
    // The locked prefix is literal: a press renders it unchanged, so it
    // parses (or fails) here exactly as at press.
    let origin = format!("{}/", &button.url[..lock.prefix_len]);
    url::Url::parse(&origin).map_err(|source| Error::UrlParse {
        url: button.url.clone(),
        source,
    })?;
    for (name, value) in &button.headers {
        if let Some(reason) = crate::http::header_value_problem(value) {
            return Err(Error::InvalidHeader {
                given: format!("{name}: {value}"),
                reason,
            });
        }
    }
    Ok(())
}

/// The names of the `{{name}}` placeholders in `template`, in order (names
/// are `[A-Za-z0-9_-]+`, exactly as the renderer matches them).
pub fn placeholder_names(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find("{{") {
        let after = &rest[at + 2..];
        let len = after
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
            .count();
        if len > 0 && after[len..].starts_with("}}") {
            names.push(&after[..len]);
            rest = &after[len + 2..];
        } else {
            rest = &rest[at + 1..];
        }
    }
    names
}

/// Refuses an HTTP button whose URL or body holds a `{{name}}` that names
/// no declared argument (it would be sent literally). Headers are sent
/// verbatim, so they are not templates.
///
/// ```
/// use buttons_spec::{ArgDef, Button, ButtonName, Timestamp, check_placeholders};
/// let name = ButtonName::new("api")?;
/// let mut button = Button::http(&name, "https://example.com/{{city}}", Timestamp::now())?;
/// assert!(check_placeholders(&button).is_err());
/// button.args.push(ArgDef::parse("city:string:required")?);
/// check_placeholders(&button)?;
/// # Ok::<(), buttons_spec::Error>(())
/// ```
pub fn check_placeholders(button: &Button) -> Result<()> {
    for (field, text) in [("url", button.url.as_str()), ("body", button.body.as_str())] {
        for name in placeholder_names(text) {
            if !button.args.iter().any(|d| d.name == name) {
                return Err(Error::UndeclaredPlaceholder {
                    name: name.to_owned(),
                    field,
                    declared: button.args.iter().map(|d| d.name.clone()).collect(),
                });
            }
        }
    }
    Ok(())
}

/// Fills the declared `{{name}}` placeholders of a prompt's text with the
/// press's argument values (an optional one not given becomes empty);
/// anything else is left as written.
///
/// ```
/// use buttons_spec::{ArgDef, Args, fill_prompt};
/// let defs = vec![ArgDef::parse("num:int:required")?];
/// let args = Args::validate(&defs, [("num", "3")])?;
/// assert_eq!(fill_prompt("Pick {{num}} of {{other}}", &defs, &args), "Pick 3 of {{other}}");
/// # Ok::<(), buttons_spec::Error>(())
/// ```
pub fn fill_prompt(text: &str, defs: &[ArgDef], args: &Args) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let name = placeholder_names(&rest[at..]).into_iter().next();
        match name {
            Some(name)
                if after.starts_with(name)
                    && after[name.len()..].starts_with("}}")
                    && defs.iter().any(|d| d.name == name) =>
            {
                out.push_str(args.get(name).map_or("", |v| v.as_str()));
                rest = &after[name.len() + 2..];
            }
            _ => {
                out.push('{');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}
