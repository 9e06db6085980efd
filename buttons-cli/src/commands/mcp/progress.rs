//! Progress and log notifications: the JSON lines a script appends to
//! `BUTTONS_PROGRESS_PATH` become `notifications/progress` for a call that
//! carried a `progressToken`, and `notifications/message` (MCP logging) for
//! every call.
//!
//! A line `{"pct": 0.4, "msg": "copying"}` is progress 0.4 of total 1 with
//! that message; a line with only `msg` repeats the last progress with the new
//! message. A line `{"log": "disk almost full", "level": "warning"}` is a log
//! message from the button (`level` one of MCP's eight, `info` when absent or
//! unknown), sent when it is at least as severe as the level the client set
//! with `logging/setLevel` (`info` until it sets one). Other lines are
//! ignored. The file is read every [`POLL_INTERVAL`], and once more when the
//! press ends.

// MCP logging is deprecated by SEP-2577 but is still what hosts display, and
// the only standard way to forward a button's log lines; this module is the
// one place that uses it.
#![expect(
    deprecated,
    reason = "MCP logging (SEP-2577) is still what clients show"
)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use buttons_store::ProgressTail;
use camino::Utf8PathBuf;
use rmcp::RoleServer;
use rmcp::model::{
    LoggingLevel, LoggingMessageNotificationParam, ProgressNotificationParam, ProgressToken,
};
use rmcp::service::Peer;
use serde_json::Value;
use tokio::sync::oneshot;

/// How often the progress file is read (well within the 250 ms promised).
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// MCP's log levels, least severe first.
const LEVELS: [(&str, LoggingLevel); 8] = [
    ("debug", LoggingLevel::Debug),
    ("info", LoggingLevel::Info),
    ("notice", LoggingLevel::Notice),
    ("warning", LoggingLevel::Warning),
    ("error", LoggingLevel::Error),
    ("critical", LoggingLevel::Critical),
    ("alert", LoggingLevel::Alert),
    ("emergency", LoggingLevel::Emergency),
];

/// The rank of `info`, the level in force until the client sets one.
const INFO: u8 = 1;

/// The least severe level the client wants, shared by a session's calls.
#[derive(Clone, Debug)]
pub(super) struct LogLevel(Arc<AtomicU8>);

impl Default for LogLevel {
    fn default() -> Self {
        Self(Arc::new(AtomicU8::new(INFO)))
    }
}

impl LogLevel {
    /// Sets the level from a `logging/setLevel` request.
    pub(super) fn set(&self, level: LoggingLevel) {
        self.0.store(rank(level), Ordering::Relaxed);
    }

    fn admits(&self, level: LoggingLevel) -> bool {
        rank(level) >= self.0.load(Ordering::Relaxed)
    }
}

fn rank(level: LoggingLevel) -> u8 {
    let index = LEVELS.iter().position(|(_, l)| *l == level).unwrap_or(1);
    u8::try_from(index).unwrap_or(INFO)
}

/// What one press's follower sends, and to whom.
pub(super) struct Follow {
    pub(super) peer: Peer<RoleServer>,
    /// The call's `progressToken`: without one, no progress is sent.
    pub(super) token: Option<ProgressToken>,
    /// The `logger` of log messages: the button's name.
    pub(super) logger: String,
    pub(super) level: LogLevel,
}

/// Follows the progress file named by `path` until `stop`, sending each
/// progress and log line to the peer.
pub(super) async fn follow(
    to: Follow,
    path: oneshot::Receiver<PathBuf>,
    mut stop: oneshot::Receiver<()>,
) {
    let path = tokio::select! {
        path = path => match path {
            Ok(path) => path,
            // The press never started.
            Err(_) => return,
        },
        _ = &mut stop => return,
    };
    let Ok(path) = Utf8PathBuf::from_path_buf(path) else {
        return;
    };
    let mut tail = ProgressTail::new(path);
    let mut last = 0.0;
    loop {
        let stopping = tokio::select! {
            _ = &mut stop => true,
            () = tokio::time::sleep(POLL_INTERVAL) => false,
        };
        let mut lines = tail.read_new().unwrap_or_default();
        if stopping {
            lines.extend(tail.finish());
        }
        for line in lines {
            let Ok(value) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if let Some(log) = log_message(&value, &to.logger)
                && to.level.admits(log.level)
                && to.peer.notify_logging_message(log).await.is_err()
            {
                return;
            }
            if let Some(token) = &to.token
                && let Some(param) = notification(token, &value, &mut last)
                && to.peer.notify_progress(param).await.is_err()
            {
                return;
            }
        }
        if stopping {
            return;
        }
    }
}

/// Progress of a drawer called as a tool: a [`StepSink`](buttons_exec::StepSink) for
/// `DrawerOptions::on_step`, and the task that sends one notification per
/// finished step (`progress` k of `total` steps, message `step ID: STATUS`;
/// no outputs, which may hold secrets). The task ends once the sink is
/// dropped (when the press ends): await it before answering, so that the
/// notifications come first.
pub(super) fn drawer_steps(
    peer: Peer<RoleServer>,
    token: ProgressToken,
    total: usize,
) -> (buttons_exec::StepSink, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let sink: buttons_exec::StepSink = Box::new(move |entry: &Value| {
        let line = format!(
            "step {}: {}",
            entry["id"].as_str().unwrap_or(""),
            entry["status"].as_str().unwrap_or("")
        );
        let _ = tx.send(line);
    });
    let total = f64::from(u32::try_from(total).unwrap_or(u32::MAX));
    let task = tokio::spawn(async move {
        let mut done = 0.0;
        while let Some(message) = rx.recv().await {
            done += 1.0;
            let param = ProgressNotificationParam::new(token.clone(), done)
                .with_total(total.max(done))
                .with_message(message);
            if peer.notify_progress(param).await.is_err() {
                return;
            }
        }
    });
    (sink, task)
}

/// The progress notification for one line, if it is a progress line.
fn notification(
    token: &ProgressToken,
    value: &Value,
    last: &mut f64,
) -> Option<ProgressNotificationParam> {
    let pct = value.get("pct").and_then(Value::as_f64);
    let msg = value.get("msg").and_then(Value::as_str);
    if pct.is_none() && msg.is_none() {
        return None;
    }
    if let Some(pct) = pct.filter(|p| p.is_finite()) {
        *last = pct.clamp(0.0, 1.0);
    }
    let mut param = ProgressNotificationParam::new(token.clone(), *last).with_total(1.0);
    if let Some(msg) = msg {
        param = param.with_message(msg);
    }
    Some(param)
}

/// The log message for one line, if it is a log line.
fn log_message(value: &Value, logger: &str) -> Option<LoggingMessageNotificationParam> {
    let text = value.get("log").filter(|v| !v.is_null())?.clone();
    let level = value
        .get("level")
        .and_then(Value::as_str)
        .and_then(|name| {
            LEVELS
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, l)| *l)
        })
        .unwrap_or(LoggingLevel::Info);
    Some(LoggingMessageNotificationParam::new(level, text).with_logger(logger))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::NumberOrString;
    use serde_json::json;

    fn parse(line: &str) -> Value {
        serde_json::from_str(line).unwrap()
    }

    #[test]
    fn lines_become_progress() {
        let token = ProgressToken(NumberOrString::Number(1));
        let mut last = 0.0;
        let p = notification(&token, &parse(r#"{"pct": 0.5, "msg": "half"}"#), &mut last).unwrap();
        assert_eq!((p.progress, p.message.as_deref()), (0.5, Some("half")));
        let p = notification(&token, &parse(r#"{"msg": "still"}"#), &mut last).unwrap();
        assert_eq!((p.progress, p.message.as_deref()), (0.5, Some("still")));
        let p = notification(&token, &parse(r#"{"pct": 7}"#), &mut last).unwrap();
        assert_eq!(p.progress, 1.0);
        assert!(notification(&token, &parse(r#"{"other": 1}"#), &mut last).is_none());
        assert!(notification(&token, &parse(r#"{"log": "x"}"#), &mut last).is_none());
    }

    #[test]
    fn lines_become_log_messages() {
        let m = log_message(&parse(r#"{"log": "hi", "level": "Warning"}"#), "b").unwrap();
        assert_eq!(m.level, LoggingLevel::Warning);
        assert_eq!((m.data, m.logger.as_deref()), (json!("hi"), Some("b")));
        let m = log_message(&parse(r#"{"log": "hi", "level": "loud"}"#), "b").unwrap();
        assert_eq!(m.level, LoggingLevel::Info);
        assert!(log_message(&parse(r#"{"msg": "progress only"}"#), "b").is_none());
    }

    #[test]
    fn the_level_filters() {
        let level = LogLevel::default();
        assert!(level.admits(LoggingLevel::Info));
        assert!(!level.admits(LoggingLevel::Debug));
        level.set(LoggingLevel::Error);
        assert!(!level.admits(LoggingLevel::Warning));
        assert!(level.admits(LoggingLevel::Critical));
        level.set(LoggingLevel::Debug);
        assert!(level.admits(LoggingLevel::Debug));
    }
}
