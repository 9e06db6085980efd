//! `buttons drawer NAME trigger webhook [PATH] [--auth …]`: a drawer's
//! webhook, served by `buttons serve` and `buttons webhook listen`.

use buttons_spec::{
    AuthKind, DEFAULT_AUTH_HEADER, DrawerWebhook, RouteOwner, WebhookAuth, drawer_webhook,
    find_conflict, normalize_webhook_path, set_drawer_webhook,
};
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
    let store = super::open_store(out)?;
    let name = super::button_name(drawer)?;
    let existing = store.load_drawer(&name)?;
    let now = jiff::Timestamp::now();
    if args.remove {
        store.update_drawer(&name, now, |d| {
            set_drawer_webhook(&mut d.triggers, None);
            Ok::<_, CliError>(())
        })?;
        return Ok(
            Reply::new(json!({ "drawer": name, "webhook": null, "removed": true }))
                .stderr(format!("Removed the webhook of drawer {name}.")),
        );
    }
    let path = normalize_webhook_path(
        &args
            .path
            .clone()
            .unwrap_or_else(|| format!("/hooks/{name}")),
    )?;
    // The path is checked and claimed under the data directory's route lock,
    // so a button trigger or drawer added meanwhile cannot take it too.
    let _routes = store.lock_webhook_routes()?;
    let taken = buttons_exec::webhook_paths(&store)?;
    let me = RouteOwner::Drawer {
        name: name.to_string(),
    };
    if let Some(conflict) = find_conflict(&path, &taken, Some(&me)) {
        return Err(conflict.into());
    }
    let kind_text = args.auth.clone().unwrap_or_else(|| "header".to_owned());
    let kind = AuthKind::parse(&kind_text).ok_or_else(|| {
        CliError::validation(format!("unknown --auth {kind_text:?}"))
            .with_hint("use --auth none, basic, header or jwt")
    })?;
    let mut auth = WebhookAuth {
        kind: kind.as_str().to_owned(),
        ..WebhookAuth::default()
    };
    let mut generated = None;
    match kind {
        AuthKind::None => {}
        AuthKind::Basic => {
            auth.user = args.auth_user;
            auth.pass = args.auth_pass;
        }
        AuthKind::Header => {
            auth.header_name = Some(
                args.auth_header_name
                    .unwrap_or_else(|| DEFAULT_AUTH_HEADER.to_owned()),
            );
            auth.header_value = match args.auth_header_value {
                Some(v) => Some(v),
                None => {
                    // A generated value, kept as a battery (never in drawer.json).
                    let key = format!(
                        "WEBHOOK_{}_TOKEN",
                        name.as_str().to_ascii_uppercase().replace('-', "_")
                    );
                    let value = buttons_exec::generate_secret();
                    let scope = store.default_scope();
                    store.set_battery(scope, &key, &value)?;
                    generated = Some((key.clone(), value));
                    Some(format!("$BATTERY{{{key}}}"))
                }
            };
        }
        AuthKind::Jwt => {
            auth.jwt_secret = args.jwt_secret;
            auth.jwt_algorithm = Some(args.jwt_algorithm.unwrap_or_else(|| "HS256".to_owned()));
            auth.jwt_issuer = args.jwt_issuer;
            auth.jwt_audience = args.jwt_audience;
        }
    }
    auth.validate()?;
    let hook = DrawerWebhook {
        path: path.clone(),
        auth,
        created_at: Some(now),
        extra: drawer_webhook(existing.triggers.as_ref())
            .ok()
            .flatten()
            .map(|h| h.extra)
            .unwrap_or_default(),
    };
    store.update_drawer(&name, now, |d| {
        set_drawer_webhook(&mut d.triggers, Some(&hook));
        Ok::<_, CliError>(())
    })?;
    let mut data = json!({
        "drawer": name,
        "path": path,
        "auth": {"type": kind.as_str(), "header_name": hook.auth.header_name},
    });
    let mut text = format!(
        "Drawer {name} answers POST {path} (auth: {}).",
        kind.as_str()
    );
    if let Some((key, value)) = generated {
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
