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
}

/// A bound listener, not serving yet.
pub(super) struct Bound {
    listener: TcpListener,
    addr: SocketAddr,
    /// SIGINT and SIGTERM, installed before the startup line is printed.
    signals: [Signal; 2],
}

impl Bound {
    /// The real address (`--port 0` picks a free port).
    pub(super) fn local_addr(&self) -> SocketAddr {
        self.addr
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
    })
}

impl Bound {
    /// Serves until SIGINT or SIGTERM, then shuts down as the module says.
    pub(super) async fn serve(self, config: Config, engine: Engine) {
        let (stopping_tx, stopping) = watch::channel(false);
        let (kill_tx, kill) = watch::channel(false);
        let presses = Arc::new(Semaphore::new(MAX_PRESSES));
        let state = Arc::new(AppState {
            engine,
            allow_http_buttons: config.allow_http_buttons,
            drawer_env: config.drawer_env,
            presses: Arc::clone(&presses),
            stopping,
            kill,
        });
        let guard = Arc::new(Guard {
            addr: self.addr,
            key: config.key,
        });
        let app = api::router(state)
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
        let all = u32::try_from(MAX_PRESSES).expect("a small number");
        let settled = tokio::time::timeout(SHUTDOWN_GRACE, presses.acquire_many(all)).await;
        if settled.is_err() {
            // End what still runs; each press records its interruption.
            let _ = kill_tx.send(true);
            let _ = tokio::time::timeout(
                api::KILL_GRACE + Duration::from_secs(10),
                presses.acquire_many(all),
            )
            .await;
        }
        // Let finished responses reach their clients, briefly.
        let _ = tokio::time::timeout(Duration::from_secs(2), graceful.shutdown()).await;
    }
}
