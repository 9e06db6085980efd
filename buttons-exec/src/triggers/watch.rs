//! Watching one file: a change of its size or mtime fires, debounced.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use notify::{RecursiveMode, Watcher as _};
use tokio::sync::mpsc;

/// Quiet time after the last event before a change fires.
pub const WATCH_DEBOUNCE: Duration = Duration::from_millis(200);
/// The longest a stream of events can hold a change back.
const MAX_DEBOUNCE: Duration = Duration::from_secs(2);
/// How often the file is looked at without an event (a missing folder, a
/// lost event).
const POLL: Duration = Duration::from_secs(1);

/// The file's size and mtime, `None` while it does not exist.
fn signature(path: &Path) -> Option<(u64, SystemTime)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// Calls `on_change` each time `path`'s size or mtime changes (a missing
/// file is waited for; its appearance is a change). Runs until dropped.
pub(crate) async fn watch_file(path: PathBuf, mut on_change: impl FnMut() + Send) {
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let mut watcher: Option<notify::RecommendedWatcher> = None;
    let mut last = signature(&path);
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if watcher.is_none()
            && let Some(dir) = path.parent().filter(|d| d.is_dir())
        {
            let tx = tx.clone();
            let target = path.clone();
            let made = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                // Only events about the watched file itself: the folder's
                // other entries (and mere opens or reads) must not keep the
                // debounce from settling.
                let relevant = match &event {
                    Ok(event) => {
                        !matches!(event.kind, notify::EventKind::Access(_))
                            && (event.paths.is_empty() || event.paths.iter().any(|p| p == &target))
                    }
                    Err(_) => true,
                };
                if relevant {
                    let _ = tx.send(());
                }
            });
            match made {
                Ok(mut w) => match w.watch(dir, RecursiveMode::NonRecursive) {
                    Ok(()) => watcher = Some(w),
                    Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot watch"),
                },
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot watch"),
            }
        }
        tokio::select! {
            _ = rx.recv() => {}
            _ = poll.tick() => {}
        }
        // Debounce: wait for a quiet moment, but never longer than
        // MAX_DEBOUNCE, so a file written without pause still fires.
        let settle_by = tokio::time::Instant::now() + MAX_DEBOUNCE;
        while tokio::time::Instant::now() < settle_by
            && let Ok(Some(())) = tokio::time::timeout(WATCH_DEBOUNCE, rx.recv()).await
        {}
        if path.parent().is_some_and(|d| !d.is_dir()) {
            watcher = None;
        }
        let now = signature(&path);
        if now != last {
            last = now;
            if now.is_some() {
                on_change();
            }
        }
    }
}
