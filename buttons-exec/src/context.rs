//! What a press needs ([`PressContext`]) and how it behaves ([`PressOptions`]).

use std::ffi::OsString;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use buttons_spec::{Args, Batteries, Button, Timestamp};

/// The default time between SIGTERM and SIGKILL when a press is ended: 5 seconds.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// Everything a press reads: the button, its folder, its validated arguments,
/// the batteries and the caller's environment.
///
/// Nothing is read implicitly: the environment the child inherits is
/// [`base_env`](Self::base_env), which is empty unless the caller fills it
/// (see [`PressContext::from_env`]). Interpreters are looked up in the `PATH`
/// of that environment.
///
/// `Debug` shows the names of the base environment's variables, not their
/// values (an environment often holds tokens).
#[derive(Clone)]
pub struct PressContext<'a> {
    /// The button's spec.
    pub button: &'a Button,
    /// The button's folder: the working directory of the script, where
    /// `main.*` and `AGENTS.md` live.
    pub dir: &'a Path,
    /// Arguments already validated against `button.args`.
    pub args: &'a Args,
    /// Batteries, handed to code buttons as `BUTTONS_BAT_<KEY>`.
    pub batteries: &'a Batteries,
    /// The caller's environment, the first layer of the child's environment.
    pub base_env: Vec<(OsString, OsString)>,
    /// The per-press JSONL progress file (created empty by the store
    /// beforehand), handed to the script as `BUTTONS_PROGRESS_PATH`.
    pub progress_path: Option<PathBuf>,
    /// When the press started; `None` reads the system clock as it starts.
    pub started_at: Option<Timestamp>,
    /// The program that supervises a code press (see
    /// [`supervise_if_asked`](crate::supervise_if_asked)): with it, the
    /// press's process group dies with the pressing process. `None` starts
    /// the interpreter directly.
    pub supervisor: Option<PathBuf>,
}

impl<'a> PressContext<'a> {
    /// A context with an empty base environment, no progress file and the
    /// start time read when the press starts.
    pub fn new(
        button: &'a Button,
        dir: &'a Path,
        args: &'a Args,
        batteries: &'a Batteries,
    ) -> Self {
        Self {
            button,
            dir,
            args,
            batteries,
            base_env: Vec::new(),
            progress_path: None,
            started_at: None,
            supervisor: None,
        }
    }

    /// Like [`PressContext::new`], with this process's environment as the base
    /// environment (what a command-line tool wants).
    pub fn from_env(
        button: &'a Button,
        dir: &'a Path,
        args: &'a Args,
        batteries: &'a Batteries,
    ) -> Self {
        Self {
            base_env: std::env::vars_os().collect(),
            ..Self::new(button, dir, args, batteries)
        }
    }
}

impl fmt::Debug for PressContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env_names: Vec<_> = self.base_env.iter().map(|(k, _)| k).collect();
        f.debug_struct("PressContext")
            .field("button", &self.button.name)
            .field("dir", &self.dir)
            .field("args", &self.args)
            .field("batteries", &self.batteries)
            .field("base_env", &env_names)
            .field("progress_path", &self.progress_path)
            .field("started_at", &self.started_at)
            .field("supervisor", &self.supervisor)
            .finish()
    }
}

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// The child's standard output.
    Stdout,
    /// The child's standard error.
    Stderr,
}

/// Receives the child's output lines as they arrive: the stream and the line
/// (lossy UTF-8, without its line ending).
///
/// Complete lines are delivered as soon as they are read; a final line without
/// a newline is delivered when the stream ends. A line longer than
/// [`MAX_LINE`](crate::MAX_LINE) bytes is delivered in pieces of at most that
/// size, so a child that never writes a newline cannot grow memory. The sink
/// sees every line, also those past the capture cap of the result. It is
/// called from the pressing task: a slow sink slows the reading of the pipes
/// (and so, eventually, the child), it never loses lines. To forward lines to
/// another task, send them on a channel from the closure.
pub type LineSink = Box<dyn FnMut(Stream, &str) + Send>;

/// Receives the [`PressEvent`]s of a press.
pub type EventSink = Box<dyn FnMut(&PressEvent) + Send>;

/// Something a press does before it runs that a front end may show.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PressEvent {
    /// Every slot of the button's queue is taken: the press waits (within
    /// its timeout) for one to free up.
    QueueWait {
        /// The queue's name.
        queue: String,
        /// How many presses hold its slots (the pool's size).
        running: u32,
    },
    /// An idempotency key is held by another press of the same key: this
    /// one waits for its result.
    IdempotencyWait {
        /// The key.
        key: String,
    },
    /// The press is about to run: its progress file exists (the script
    /// gets it as `BUTTONS_PROGRESS_PATH`), so a front end can follow it
    /// (e.g. with `buttons_store::ProgressTail`).
    Started {
        /// The progress file, `pressed/<id>.jsonl`.
        progress_path: PathBuf,
    },
}

/// A future that, when it completes, cancels the press (e.g. built from
/// `tokio::signal::ctrl_c()`).
pub type Cancel = Pin<Box<dyn Future<Output = ()> + Send>>;

/// How a press behaves: timeout, grace period, live output, cancellation and
/// the HTTP guard.
pub struct PressOptions {
    /// Overrides the button's own timeout (`timeout_seconds`, default 300 s).
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL to the process group when the press
    /// times out or is cancelled ([`DEFAULT_GRACE`] by default).
    pub grace: Duration,
    /// Receives output lines live (`--follow`). An HTTP press hands it the
    /// body's lines (as stdout) and its notes or failure (as stderr) once the
    /// exchange is over.
    pub sink: Option<LineSink>,
    /// Cancels the press when it completes: the process group is ended like on
    /// a timeout (an HTTP request is dropped) and the result says the press
    /// was interrupted.
    pub cancel: Option<Cancel>,
    /// For HTTP buttons: the guard's options, used exactly as given (policy,
    /// any-host switch, resolver). `None` (the default) builds them with
    /// [`Options::for_button`](buttons_http::Options::for_button) from the
    /// button's `allow_private_networks` and the opt-ins
    /// `BUTTONS_ALLOW_PRIVATE_NETWORKS` and `BUTTONS_ALLOW_ANY_HOST` of
    /// [`PressContext::base_env`], never from this process's environment.
    pub http: Option<buttons_http::Options>,
    /// For HTTP buttons without [`http`](Self::http): lets this press reach
    /// private, loopback and link-local addresses, like the button's own
    /// `allow_private_networks` (off by default).
    pub allow_private_networks: bool,
    /// Told what the press is doing before it runs (e.g. waiting for a
    /// queue slot: [`PressEvent::QueueWait`]); a front end shows it.
    pub events: Option<EventSink>,
}

impl PressOptions {
    /// Sets [`timeout`](Self::timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets [`grace`](Self::grace).
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Sets the [`sink`](Self::sink).
    pub fn sink(mut self, sink: impl FnMut(Stream, &str) + Send + 'static) -> Self {
        self.sink = Some(Box::new(sink));
        self
    }

    /// Sets the HTTP guard's options ([`http`](Self::http)), e.g. a
    /// [`NetPolicy`](buttons_http::NetPolicy) and resolver of an embedder.
    pub fn http(mut self, options: buttons_http::Options) -> Self {
        self.http = Some(options);
        self
    }

    /// Sets [`allow_private_networks`](Self::allow_private_networks).
    pub fn allow_private_networks(mut self, allow: bool) -> Self {
        self.allow_private_networks = allow;
        self
    }

    /// Sets [`events`](Self::events).
    pub fn on_event(mut self, events: impl FnMut(&PressEvent) + Send + 'static) -> Self {
        self.events = Some(Box::new(events));
        self
    }

    /// Cancels the press when `cancel` completes.
    pub fn cancel_on(mut self, cancel: impl Future<Output = ()> + Send + 'static) -> Self {
        self.cancel = Some(Box::pin(cancel));
        self
    }
}

impl Default for PressOptions {
    fn default() -> Self {
        Self {
            timeout: None,
            grace: DEFAULT_GRACE,
            sink: None,
            cancel: None,
            http: None,
            allow_private_networks: false,
            events: None,
        }
    }
}

impl fmt::Debug for PressOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PressOptions")
            .field("timeout", &self.timeout)
            .field("grace", &self.grace)
            .field("sink", &self.sink.is_some())
            .field("cancel", &self.cancel.is_some())
            .field("http", &self.http)
            .field("allow_private_networks", &self.allow_private_networks)
            .field("events", &self.events.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use buttons_spec::ButtonName;

    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let button = Button::new(&ButtonName::new("b").unwrap(), Timestamp::UNIX_EPOCH);
        let args = Args::default();
        let mut batteries = Batteries::new();
        batteries.insert("TOKEN", "battery-secret").unwrap();
        let mut ctx = PressContext::new(&button, Path::new("/d"), &args, &batteries);
        ctx.base_env = vec![("AWS_SECRET".into(), "env-secret".into())];
        let shown = format!("{ctx:?}");
        assert!(
            shown.contains("AWS_SECRET") && shown.contains("TOKEN"),
            "{shown}"
        );
        assert!(!shown.contains("env-secret") && !shown.contains("battery-secret"));
    }
}
