//! The listener and its limits, and shutdown.
//!
//! - Headers must arrive within 5 s. hyper starts that clock whenever a
//!   connection waits for a request, so a keep-alive connection idle for 5 s
//!   is closed too (stricter than the 60 s idle limit the issue allows).
//! - A body must arrive within 30 s, and be at most 1 MiB.
//! - At most 256 connections are open; more wait in the kernel's backlog.
//! - Shutdown (SIGINT, SIGTERM): stop accepting, give running presses 10 s,
//!   then end them (SIGTERM to the process group, SIGKILL 2 s later); each
//!   is recorded before the server exits.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use buttons_exec::Engine;
use buttons_spec::ErrorCode;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{Semaphore, watch};
use tower_http::timeout::RequestBodyTimeoutLayer;

use super::api::{self, AppState, MAX_PRESSES};
use super::guard::{self, Guard};
use crate::error::CliError;

/// Time to read a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Time to read a request's body.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Open connections at most.
const MAX_CONNECTIONS: usize = 256;
/// What running presses get at shutdown before they are ended.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How the server is set up.
pub(super) struct Config {
    pub(super) addr: SocketAddr,
    pub(super) key: Option<Arc<[u8]>>,
    pub(super) allow_http_buttons: bool,
    /// What drawers' `$ENV{…}` references read (the key left out).
    pub(super) drawer_env: std::collections::BTreeMap<String, String>,
    /// Serve the webhook routes alone, no `/api/` (`buttons webhook listen`).
    pub(super) webhooks_only: bool,
}

/// A bound listener, not serving yet.
pub(super) struct Bound {
    listener: TcpListener,
    addr: SocketAddr,
    /// SIGINT and SIGTERM, installed before the startup line is printed.
    signals: [Signal; 2],
    /// Set when running presses must end (shutdown's grace is over).
    kill: (watch::Sender<bool>, watch::Receiver<bool>),
}

impl Bound {
    /// The real address (`--port 0` picks a free port).
    pub(super) fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Becomes `true` when running presses must end (for trigger presses).
    pub(super) fn kill_signal(&self) -> watch::Receiver<bool> {
        self.kill.1.clone()
    }
}

/// Binds the listener.
pub(super) async fn bind(config: &Config) -> Result<Bound, CliError> {
    let listener = TcpListener::bind(config.addr).await.map_err(|e| {
        CliError::new(
            ErrorCode::ValidationError,
            format!("cannot listen on {}: {e}", config.addr),
        )
        .with_hint("pick another --port (0 picks a free one)")
    })?;
    let addr = listener.local_addr()?;
    let signals = [
        signal(SignalKind::interrupt())?,
        signal(SignalKind::terminate())?,
    ];
    Ok(Bound {
        listener,
        addr,
        signals,
        kill: watch::channel(false),
    })
}

impl Bound {
    /// Serves until SIGINT or SIGTERM, then shuts down as the module says.
    pub(super) async fn serve(
        self,
        config: Config,
        engine: Engine,
        triggers: Option<buttons_exec::Triggers>,
    ) {
        let (stopping_tx, stopping) = watch::channel(false);
        let (kill_tx, kill) = self.kill;
        let presses = Arc::new(Semaphore::new(MAX_PRESSES));
        let state = Arc::new(AppState {
            engine,
            allow_http_buttons: config.allow_http_buttons,
            drawer_env: config.drawer_env,
            presses: Arc::clone(&presses),
            stopping,
            kill,
            triggers: triggers.clone(),
        });
        let guard = Arc::new(Guard {
            addr: self.addr,
            key: config.key,
        });
        let router = if config.webhooks_only {
            super::triggers::webhook_router(state)
        } else {
            api::router(state)
        };
        let app = router
            .layer(axum::middleware::from_fn_with_state(guard, guard::check))
            .layer(RequestBodyTimeoutLayer::new(BODY_TIMEOUT));

        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .keep_alive(true);
        let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let graceful = GracefulShutdown::new();
        let [mut int, mut term] = self.signals;
        let stop = async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        };
        tokio::pin!(stop);
        loop {
            let permit = tokio::select! {
                permit = Arc::clone(&connections).acquire_owned() => permit.expect("never closed"),
                () = &mut stop => break,
            };
            let stream = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => {
                        // Out of descriptors, or a connection reset before
                        // it was accepted: try again shortly.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut stop => break,
            };
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(app.clone());
            let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                let _ = connection.await;
                drop(permit);
            });
        }
        drop(self.listener);
        let _ = stopping_tx.send(true);
        // No more cron or watch presses; trigger presses under way are
        // waited for like API presses.
        if let Some(t) = &triggers {
            t.stop();
        }
        let idle = |within: Duration| {
            let triggers = triggers.clone();
            async move {
                match triggers {
                    Some(t) => t.pool().wait_idle(within).await,
                    None => true,
                }
            }
        };
        let all = u32::try_from(MAX_PRESSES).expect("a small number");
        let (settled, triggers_idle) = tokio::join!(
            tokio::time::timeout(SHUTDOWN_GRACE, presses.acquire_many(all)),
            idle(SHUTDOWN_GRACE)
        );
        if settled.is_err() || !triggers_idle {
            drop(settled);
            // End what still runs; each press records its interruption.
            let _ = kill_tx.send(true);
            let last = api::KILL_GRACE + Duration::from_secs(10);
            let _ = tokio::join!(
                tokio::time::timeout(last, presses.acquire_many(all)),
                idle(last)
            );
        }
        // Let finished responses reach their clients, briefly.
        let _ = tokio::time::timeout(Duration::from_secs(2), graceful.shutdown()).await;
    }
}
