//! The spinner of a press on a terminal: one line on stderr, shown once the
//! press has run for a second, with the button's name, the time so far and
//! the last `msg`/`pct` the script wrote to `BUTTONS_PROGRESS_PATH`; erased
//! when the press ends. Never drawn in pipes or with `--json`.

use std::time::{Duration, Instant};

use buttons_spec::ButtonName;
use buttons_store::{ProgressTail, Store};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a press runs before the spinner shows.
const DELAY: Duration = Duration::from_secs(1);
const TICK: Duration = Duration::from_millis(100);

/// A spinner for one press; cleared when dropped.
pub(crate) struct Spinner {
    bar: ProgressBar,
}

impl Spinner {
    pub(crate) fn new() -> Self {
        let bar = ProgressBar::hidden();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .expect("the template is valid")
                .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "),
        );
        Self { bar }
    }

    /// The bar, for printing lines above it (`ProgressBar::suspend`).
    pub(crate) fn handle(&self) -> ProgressBar {
        self.bar.clone()
    }

    /// Draws the spinner until the future is dropped (never returns).
    pub(crate) async fn run(&self, store: &Store, name: &str) {
        let started = Instant::now();
        tokio::time::sleep(DELAY).await;
        self.bar.set_draw_target(ProgressDrawTarget::stderr());
        let name = ButtonName::from_user(name).ok();
        let mut tail: Option<ProgressTail> = None;
        let mut last = String::new();
        loop {
            if tail.is_none()
                && let Some(name) = &name
                && let Ok(Some(target)) = store.tail_target(name)
                && target.running
            {
                tail = Some(ProgressTail::new(target.path));
            }
            if let Some(tail) = &mut tail
                && let Ok(lines) = tail.read_new()
                && let Some(update) = lines.iter().rev().find_map(|l| describe(l))
            {
                last = update;
            }
            let elapsed = buttons_spec::format_duration(started.elapsed());
            let label = name.as_ref().map_or("press", ButtonName::as_str);
            self.bar.set_message(if last.is_empty() {
                format!("{label} · {elapsed}")
            } else {
                format!("{label} · {elapsed} · {last}")
            });
            self.bar.tick();
            tokio::time::sleep(TICK).await;
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// `msg` and `pct` of one progress line (`{"msg": "…", "pct": 40}`), as
/// `… 40%`; `None` for a line with neither.
fn describe(line: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let msg = value.get("msg").and_then(|m| m.as_str()).map(str::trim);
    let pct = value.get("pct").and_then(serde_json::Value::as_f64);
    let pct = pct.map(|p| format!("{}%", p.clamp(0.0, 100.0).round()));
    match (msg, pct) {
        (Some(m), Some(p)) => Some(format!("{m} {p}")),
        (Some(m), None) => Some(m.chars().take(60).collect()),
        (None, Some(p)) => Some(p),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_read_as_msg_and_pct() {
        assert_eq!(describe(r#"{"msg":"half","pct":50}"#).unwrap(), "half 50%");
        assert_eq!(describe(r#"{"pct":12.4}"#).unwrap(), "12%");
        assert_eq!(describe(r#"{"msg":"x"}"#).unwrap(), "x");
        assert!(describe("not json").is_none());
        assert!(describe(r#"{"other":1}"#).is_none());
    }
}
