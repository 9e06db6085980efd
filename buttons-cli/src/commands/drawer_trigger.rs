//! `buttons drawer NAME trigger webhook [PATH] [--auth …]`: a drawer's
//! webhook, served by `buttons serve` and `buttons webhook listen`.

use buttons_spec::{AuthKind, DEFAULT_AUTH_HEADER, WebhookAuth};
use std::fmt::Write as _;

use clap::Parser;
use serde_json::json;

use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply};

#[derive(Debug, Parser)]
#[command(name = "buttons drawer NAME trigger webhook")]
struct WebhookVerb {
    /// The path (default /hooks/NAME).
    path: Option<String>,
    /// none | basic | header | jwt (default: header, with a generated value
    /// stored as a battery).
    #[arg(long, value_name = "TYPE")]
    auth: Option<String>,
    #[arg(long)]
    auth_user: Option<String>,
    #[arg(long)]
    auth_pass: Option<String>,
    #[arg(long)]
    auth_header_name: Option<String>,
    #[arg(long)]
    auth_header_value: Option<String>,
    #[arg(long)]
    jwt_secret: Option<String>,
    #[arg(long, value_name = "HS256|HS384|HS512")]
    jwt_algorithm: Option<String>,
    #[arg(long)]
    jwt_issuer: Option<String>,
    #[arg(long)]
    jwt_audience: Option<String>,
    /// Remove the drawer's webhook.
    #[arg(long, conflicts_with_all = ["path", "auth"])]
    remove: bool,
}

/// Runs `buttons drawer NAME trigger …` (`words` follow `trigger`).
pub(crate) fn run(drawer: &str, words: &[String], out: Output) -> CliResult<Reply> {
    match words.first().map(String::as_str) {
        Some("webhook") => {}
        other => {
            return Err(CliError::validation(format!(
                "unknown drawer trigger {:?}",
                other.unwrap_or("")
            ))
            .with_hint(
                "use `buttons drawer NAME trigger webhook [PATH] [--auth none|basic|header|jwt]`",
            ));
        }
    }
    let args = WebhookVerb::try_parse_from(
        std::iter::once("buttons drawer NAME trigger webhook".to_owned())
            .chain(words[1..].iter().cloned()),
    )
    .map_err(|e| {
        super::usage_error(
            &e,
            "see 'buttons drawer NAME trigger webhook --help'".to_owned(),
        )
    })?;
    let engine = buttons_exec::Engine::new(super::open_store(out)?);
    // The store's own errors keep the CLI's words for a missing drawer.
    let lib_error = |e: buttons_exec::Error| match e {
        buttons_exec::Error::Store(e) => CliError::from(e),
        other => other.into(),
    };
    if args.remove {
        let name = engine.remove_drawer_webhook(drawer).map_err(lib_error)?;
        return Ok(
            Reply::new(json!({ "drawer": name, "webhook": null, "removed": true }))
                .stderr(format!("Removed the webhook of drawer {name}.")),
        );
    }
    let kind_text = args.auth.clone().unwrap_or_else(|| "header".to_owned());
    let kind = AuthKind::parse(&kind_text).ok_or_else(|| {
        CliError::validation(format!("unknown --auth {kind_text:?}"))
            .with_hint("use --auth none, basic, header or jwt")
    })?;
    // Only the flags of the chosen kind are taken.
    let mut auth = WebhookAuth {
        kind: kind.as_str().to_owned(),
        ..WebhookAuth::default()
    };
    match kind {
        AuthKind::None => {}
        AuthKind::Basic => {
            auth.user = args.auth_user;
            auth.pass = args.auth_pass;
        }
        AuthKind::Header => {
            auth.header_name = args.auth_header_name;
            auth.header_value = args.auth_header_value;
        }
        AuthKind::Jwt => {
            auth.jwt_secret = args.jwt_secret;
            auth.jwt_algorithm = args.jwt_algorithm;
            auth.jwt_issuer = args.jwt_issuer;
            auth.jwt_audience = args.jwt_audience;
        }
    }
    let buttons_exec::DrawerWebhookSet {
        drawer: name,
        hook,
        generated,
    } = engine
        .set_drawer_webhook(drawer, args.path.as_deref(), auth)
        .map_err(lib_error)?;
    let path = &hook.path;
    let mut data = json!({
        "drawer": name,
        "path": path,
        "auth": {"type": kind.as_str(), "header_name": hook.auth.header_name},
    });
    let mut text = format!(
        "Drawer {name} answers POST {path} (auth: {}).",
        kind.as_str()
    );
    if let Some(buttons_exec::GeneratedSecret {
        battery: key,
        value,
    }) = generated
    {
        data["battery"] = json!(key);
        data["header_value"] = json!(value);
        let _ = write!(
            text,
            "\nSend the header {}: {value} (kept as the battery {key}).",
            hook.auth
                .header_name
                .as_deref()
                .unwrap_or(DEFAULT_AUTH_HEADER)
        );
    }
    if kind == AuthKind::None {
        text.push_str(
            "\nwarning: --auth none: anyone who reaches the server can press this drawer",
        );
    }
    Ok(Reply::new(data).stderr(text))
}
