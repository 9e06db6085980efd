//! Progress notifications: the JSON lines a script appends to
//! `BUTTONS_PROGRESS_PATH` become `notifications/progress` for a call that
//! carried a `progressToken`.
//!
//! A line `{"pct": 0.4, "msg": "copying"}` is progress 0.4 of total 1 with
//! that message; a line with only `msg` repeats the last progress with the new
//! message; other lines are ignored. The file is read every
//! [`POLL_INTERVAL`], and once more when the press ends.

use std::path::PathBuf;
use std::time::Duration;

use buttons_store::ProgressTail;
use camino::Utf8PathBuf;
use rmcp::RoleServer;
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::service::Peer;
use serde_json::Value;
use tokio::sync::oneshot;

/// How often the progress file is read (well within the 250 ms promised).
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Follows the progress file named by `path` until `stop`, sending each
/// progress line to `peer`.
pub(super) async fn follow(
    peer: Peer<RoleServer>,
    token: ProgressToken,
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
            let Some(param) = notification(&token, &line, &mut last) else {
                continue;
            };
            if peer.notify_progress(param).await.is_err() {
                return;
            }
        }
        if stopping {
            return;
        }
    }
}

/// Progress of a drawer called as a tool: a [`StepSink`] for
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

/// The notification for one progress line, if it is one.
fn notification(
    token: &ProgressToken,
    line: &str,
    last: &mut f64,
) -> Option<ProgressNotificationParam> {
    let value: Value = serde_json::from_str(line).ok()?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::NumberOrString;

    #[test]
    fn lines_become_progress() {
        let token = ProgressToken(NumberOrString::Number(1));
        let mut last = 0.0;
        let p = notification(&token, r#"{"pct": 0.5, "msg": "half"}"#, &mut last).unwrap();
        assert_eq!((p.progress, p.message.as_deref()), (0.5, Some("half")));
        let p = notification(&token, r#"{"msg": "still"}"#, &mut last).unwrap();
        assert_eq!((p.progress, p.message.as_deref()), (0.5, Some("still")));
        let p = notification(&token, r#"{"pct": 7}"#, &mut last).unwrap();
        assert_eq!(p.progress, 1.0);
        assert!(notification(&token, r#"{"other": 1}"#, &mut last).is_none());
        assert!(notification(&token, "not json", &mut last).is_none());
    }
}
