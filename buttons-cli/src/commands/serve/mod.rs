//! `buttons serve`: the buttons as a REST API (compatible with the Go tool's
//! `buttons serve`), safe by default.
//!
//! - [`guard`]: the checks every request passes first (Host, Origin, bearer
//!   key, Content-Type).
//! - [`api`]: the routes and their JSON.
//! - [`server`]: the listener, connection limits and timeouts, and shutdown.
//! - [`triggers`]: the webhook routes of button triggers and drawers (cron
//!   and watch triggers run in [`buttons_exec::Triggers`]).
//!
//! Every press goes through [`buttons_exec::Engine`], like `buttons press`
//! and `buttons mcp`: argument validation, batteries, timeouts, the
//! private-network guard, bounded capture, one run record.

mod api;
mod guard;
mod server;
mod triggers;

use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs as _};
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::sync::Arc;

use buttons_exec::Engine;
use buttons_spec::ErrorCode;
use serde_json::json;

use crate::cli::ServeArgs;
use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply};

/// The environment variable a key may come from (last of the sources).
pub(crate) const KEY_ENV: &str = "BUTTONS_API_KEY";
/// The battery a key may come from.
pub(crate) const KEY_BATTERY: &str = "API_KEY";

/// Where the key came from (first wins, in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeySource {
    File,
    Flag,
    Battery,
    Env,
}

impl KeySource {
    fn as_str(self) -> &'static str {
        match self {
            Self::File => "api_key_file",
            Self::Flag => "api_key_flag",
            Self::Battery => "api_key_battery",
            Self::Env => "env",
        }
    }
}

/// `buttons serve`: serves in the foreground until SIGINT or SIGTERM.
pub(crate) fn run(args: ServeArgs, out: Output) -> CliResult<Reply> {
    run_mode(args, false, out)
}

/// `buttons webhook listen`: the webhook routes alone, on loopback, until
/// SIGINT or SIGTERM.
pub(crate) fn run_webhooks(port: u16, out: Output) -> CliResult<Reply> {
    let args = ServeArgs {
        host: "127.0.0.1".to_owned(),
        port,
        api_key_file: None,
        api_key: None,
        allow_http_buttons: false,
        no_triggers: false,
    };
    run_mode(args, true, out)
}

fn run_mode(args: ServeArgs, webhooks_only: bool, out: Output) -> CliResult<Reply> {
    let store = super::open_store(out)?;
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let battery = store
        .merged_batteries()?
        .get(KEY_BATTERY)
        .map(str::to_owned);
    // A webhook listener has no `/api/` to guard with a key.
    let key = if webhooks_only {
        None
    } else {
        resolve_key(&args, battery.as_deref(), &env)?
    };
    if key
        .as_ref()
        .is_some_and(|(_, source)| *source == KeySource::Flag)
    {
        let _ = writeln!(
            std::io::stderr().lock(),
            "warning: --api-key is visible to every user of this machine in `ps`; \
             prefer --api-key-file (mode 0600) or the API_KEY battery"
        );
    }
    let ip = resolve_host(&args.host)?;
    if key.is_none() && !ip.is_loopback() {
        return Err(CliError::validation(format!(
            "refusing to serve on {} without an API key: without a key the server binds loopback only",
            args.host
        ))
        .with_hint(
            "use --host 127.0.0.1, or set a key: --api-key-file PATH, the API_KEY battery or $BUTTONS_API_KEY",
        ));
    }
    // The key never reaches a child: not through the environment, and not
    // through the battery it came from (or one that holds the same value).
    let child_env: Vec<_> = env.into_iter().filter(|(k, _)| k != KEY_ENV).collect();
    // What drawers' `$ENV{…}` references read: the same, as text.
    let drawer_env = child_env
        .iter()
        .filter_map(|(k, v)| Some((k.to_str()?.to_owned(), v.to_str()?.to_owned())))
        .collect();
    let mut engine = Engine::new(store)
        .base_env(child_env)
        .supervisor(super::supervisor());
    let hide_battery = key.as_ref().is_some_and(|(k, source)| {
        *source == KeySource::Battery || battery.as_deref() == Some(k.as_str())
    });
    if hide_battery {
        engine = engine.hide_batteries([KEY_BATTERY]);
    }
    let config = server::Config {
        addr: SocketAddr::new(ip, args.port),
        key: key.as_ref().map(|(k, _)| Arc::from(k.as_bytes())),
        allow_http_buttons: args.allow_http_buttons,
        drawer_env,
        webhooks_only,
    };
    let no_triggers = args.no_triggers;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            CliError::new(
                ErrorCode::InternalError,
                format!("start the async runtime: {e}"),
            )
        })?;
    let auth = match &key {
        Some((_, source)) => json!({ "type": "bearer", "source": source.as_str() }),
        None => json!({ "type": "none", "loopback_only": true }),
    };
    runtime.block_on(async move {
        let bound = server::bind(&config).await?;
        let addr = bound.local_addr();
        let triggers = (!no_triggers).then(|| {
            buttons_exec::Triggers::start(
                engine.clone(),
                buttons_exec::TriggerOptions {
                    timed: !webhooks_only,
                    env: config.drawer_env.clone(),
                    cancel: Some(bound.kill_signal()),
                    ..buttons_exec::TriggerOptions::default()
                },
            )
        });
        let endpoints: &[&str] = if webhooks_only { &[] } else { api::ENDPOINTS };
        let startup = json!({
            "addr": addr.to_string(),
            "auth": auth,
            "triggers_enabled": triggers.is_some(),
            "timed_triggers": triggers.as_ref().map_or(0, buttons_exec::Triggers::timed_count),
            "webhooks": triggers.as_ref().map(buttons_exec::Triggers::paths).unwrap_or_default(),
            "trigger_problems": triggers.as_ref().map(buttons_exec::Triggers::problems).unwrap_or_default(),
            "endpoints": endpoints,
        });
        let line = if out.is_json() {
            json!({ "ok": true, "data": startup }).to_string()
        } else {
            let mut text = format!("Serving buttons on http://{addr}");
            if key.is_none() {
                text.push_str(" (no key: loopback only)");
            }
            for endpoint in endpoints {
                text.push_str("\n  ");
                text.push_str(endpoint);
            }
            for path in triggers.as_ref().map(buttons_exec::Triggers::paths).unwrap_or_default() {
                text.push_str("\n  POST ");
                text.push_str(&path);
                text.push_str(" (webhook)");
            }
            for problem in triggers.as_ref().map(buttons_exec::Triggers::problems).unwrap_or_default() {
                text.push_str("\n  warning: ");
                text.push_str(&problem);
            }
            text
        };
        out.line(&line)?;
        bound.serve(config, engine, triggers).await;
        Ok::<_, CliError>(())
    })?;
    Ok(Reply::streamed())
}

/// The key, from the first source that has one: `--api-key-file`,
/// `--api-key`, the `API_KEY` battery, `$BUTTONS_API_KEY`.
fn resolve_key(
    args: &ServeArgs,
    battery: Option<&str>,
    env: &[(OsString, OsString)],
) -> CliResult<Option<(String, KeySource)>> {
    if let Some(path) = &args.api_key_file {
        return read_key_file(path).map(|k| Some((k, KeySource::File)));
    }
    if let Some(key) = &args.api_key {
        return non_empty(key, "--api-key").map(|k| Some((k, KeySource::Flag)));
    }
    if let Some(key) = battery.filter(|k| !k.trim().is_empty()) {
        return non_empty(key, "the API_KEY battery").map(|k| Some((k, KeySource::Battery)));
    }
    let from_env = env
        .iter()
        .rev()
        .find(|(k, _)| k == KEY_ENV)
        .and_then(|(_, v)| v.to_str())
        .filter(|v| !v.trim().is_empty());
    match from_env {
        Some(key) => non_empty(key, "$BUTTONS_API_KEY").map(|k| Some((k, KeySource::Env))),
        None => Ok(None),
    }
}

fn non_empty(key: &str, what: &str) -> CliResult<String> {
    let key = key.trim();
    if key.is_empty() {
        return Err(CliError::validation(format!("{what} is empty")));
    }
    Ok(key.to_owned())
}

/// Reads a key file that only its owner, this user, can read: mode 0600 (or
/// stricter), owned by the effective user.
fn read_key_file(path: &Path) -> CliResult<String> {
    let shown = path.display();
    let file = std::fs::File::open(path)
        .map_err(|e| CliError::validation(format!("cannot open the API key file {shown}: {e}")))?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(CliError::validation(format!(
            "the API key file {shown} is not a file"
        )));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(CliError::validation(format!(
            "the API key file {shown} is readable by others (mode {:o})",
            meta.mode() & 0o777
        ))
        .with_hint(format!("chmod 600 {shown}")));
    }
    if meta.uid() != nix::unistd::geteuid().as_raw() {
        return Err(CliError::validation(format!(
            "the API key file {shown} is not owned by the user running the server"
        )));
    }
    let mut text = String::new();
    file.take(64 * 1024)
        .read_to_string(&mut text)
        .map_err(|e| CliError::validation(format!("cannot read the API key file {shown}: {e}")))?;
    non_empty(&text, &format!("the API key file {shown}"))
}

/// `--host` as an address: an IP literal, `localhost`, or a name resolved
/// once at startup.
fn resolve_host(host: &str) -> CliResult<IpAddr> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(ip);
    }
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    (host, 0)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .map(|a| a.ip())
        .ok_or_else(|| {
            CliError::validation(format!("--host {host:?} is not an address or a known name"))
        })
}
