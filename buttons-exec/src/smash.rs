//! Smash: press many buttons at once, through the same press path as one
//! press (queues, records, timeouts), with a cap on how many run together.
//!
//! Everything is checked before anything runs: every button exists, every
//! argument reaches a button declaring it, every button's required
//! arguments are there. Under [`OnFailure::Stop`] the first failure stops
//! the smash: buttons not yet started are [`SmashOutcome::Skipped`], running
//! ones are cancelled (their process groups ended) and recorded as the
//! interrupted presses they are.

use std::collections::BTreeSet;
use std::time::Duration;

use buttons_spec::{Args, ButtonName, Status};
use tokio::task::JoinSet;

use crate::context::{Cancel, PressOptions};
use crate::engine::{ArgInput, Engine, Loaded, Ran};
use crate::error::Error;

/// The most buttons a smash runs at once.
pub const MAX_SMASH_CONCURRENCY: usize = 50;

/// What a smash does after a button fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnFailure {
    /// Start nothing more; cancel the presses under way (the default).
    #[default]
    Stop,
    /// Press every button whatever happens to the others.
    Continue,
}

/// What to smash.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SmashRequest {
    /// The buttons, by name (slugified before lookup), in order.
    pub buttons: Vec<String>,
    /// `(name, value)` pairs: `k` goes to every button declaring `k`,
    /// `NAME.k` only to button `NAME` (and wins over `k` there). A `k` no
    /// button declares, or a `NAME` not smashed, is `VALIDATION_ERROR`.
    pub args: Vec<(String, String)>,
    /// What a failure does.
    pub on_failure: OnFailure,
    /// How many presses run at once; `None` is [`default_concurrency`].
    /// Clamped to 1..=[`MAX_SMASH_CONCURRENCY`].
    pub concurrency: Option<usize>,
    /// The timeout of each press (else each button's own).
    pub timeout: Option<Duration>,
}

/// The default concurrency: the number of cores, at most
/// [`MAX_SMASH_CONCURRENCY`].
pub fn default_concurrency() -> usize {
    std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(MAX_SMASH_CONCURRENCY)
}

/// How one button of a smash ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum SmashOutcome {
    /// It ran (successfully or not; a cancelled press is an error result).
    Ran(Box<Ran>),
    /// It could not run (e.g. `QUEUE_TIMEOUT`).
    Failed(Error),
    /// It never started: an earlier failure stopped the smash.
    Skipped,
}

/// One button of a smash and how it ended.
#[derive(Debug)]
pub struct SmashItem {
    /// The button's name.
    pub button: String,
    /// How it ended.
    pub outcome: SmashOutcome,
}

impl SmashItem {
    /// Whether it counts as a failure: an error, or a result that is not ok.
    pub fn failed(&self) -> bool {
        match &self.outcome {
            SmashOutcome::Ran(ran) => ran.result.status != Status::Ok,
            SmashOutcome::Failed(_) => true,
            SmashOutcome::Skipped => false,
        }
    }
}

/// What a smash did, one item per requested button in the requested order.
#[derive(Debug)]
pub struct SmashReport {
    /// The buttons and their outcomes.
    pub results: Vec<SmashItem>,
    /// How many failed (see [`SmashItem::failed`]).
    pub failures: usize,
}

fn invalid(reason: String) -> Error {
    Error::InvalidSmash { reason }
}

impl Engine {
    /// Loads every button of `request` and validates the arguments each
    /// gets; nothing runs. See [`SmashRequest::args`] for the routing.
    pub fn plan_smash(&self, request: &SmashRequest) -> Result<Vec<(Loaded, Args)>, Error> {
        if request.buttons.is_empty() {
            return Err(invalid("name at least one button to smash".to_owned()));
        }
        let loaded = request
            .buttons
            .iter()
            .map(|name| self.load(name))
            .collect::<Result<Vec<_>, _>>()?;
        let names: BTreeSet<&str> = loaded.iter().map(|l| l.name.as_str()).collect();
        let mut per_button: Vec<Vec<(String, String)>> = vec![Vec::new(); loaded.len()];
        let mut specific: Vec<Vec<(String, String)>> = vec![Vec::new(); loaded.len()];
        for (key, value) in &request.args {
            if let Some((target, arg)) = key.split_once('.') {
                let target = ButtonName::from_user(target)?;
                if !names.contains(target.as_str()) {
                    return Err(invalid(format!(
                        "argument {key}: {target} is not one of the buttons smashed"
                    )));
                }
                for (i, l) in loaded.iter().enumerate() {
                    if l.name == target {
                        specific[i].push((arg.to_owned(), value.clone()));
                    }
                }
            } else {
                let mut taken = false;
                for (i, l) in loaded.iter().enumerate() {
                    if l.button.args.iter().any(|d| d.name == *key) {
                        per_button[i].push((key.clone(), value.clone()));
                        taken = true;
                    }
                }
                if !taken {
                    return Err(invalid(format!(
                        "argument {key}: none of the buttons smashed declares it"
                    )));
                }
            }
        }
        loaded
            .into_iter()
            .zip(per_button.into_iter().zip(specific))
            .map(|(l, (general, specific))| {
                // `NAME.k` is more specific than `k`: it wins for its button.
                let mut pairs: Vec<(String, String)> = general
                    .into_iter()
                    .filter(|(k, _)| !specific.iter().any(|(s, _)| s == k))
                    .collect();
                pairs.extend(specific);
                let args = l.validate(&ArgInput::Text(pairs))?;
                Ok((l, args))
            })
            .collect()
    }

    /// Presses the buttons of `request` (checked first by
    /// [`Engine::plan_smash`]: `Err` means nothing ran), at most
    /// `concurrency` at once, each through [`Engine::press_loaded`] (so
    /// queues hold and every run is recorded). `on_done` hears about each
    /// button as it finishes (skipped ones at the end). `cancel` ends the
    /// whole smash like a stopping failure does.
    pub async fn smash(
        &self,
        request: &SmashRequest,
        cancel: Option<Cancel>,
        mut on_done: impl FnMut(&SmashItem),
    ) -> Result<SmashReport, Error> {
        let planned = self.plan_smash(request)?;
        let total = planned.len();
        let concurrency = request
            .concurrency
            .unwrap_or_else(default_concurrency)
            .clamp(1, MAX_SMASH_CONCURRENCY);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut cancel = cancel;
        let mut results: Vec<Option<SmashItem>> = (0..total).map(|_| None).collect();
        let mut running = JoinSet::new();
        let mut queue = planned.into_iter().enumerate();
        let mut stopped = false;
        loop {
            while !stopped && running.len() < concurrency {
                let Some((index, (loaded, args))) = queue.next() else {
                    break;
                };
                let engine = self.clone();
                let mut rx = stop_rx.clone();
                let mut options = PressOptions::default().cancel_on(async move {
                    // A dropped sender (the smash is over) cancels nothing.
                    if rx.wait_for(|stop| *stop).await.is_err() {
                        std::future::pending::<()>().await;
                    }
                });
                if let Some(timeout) = request.timeout {
                    options = options.timeout(timeout);
                }
                running.spawn(async move {
                    let pressed = engine.press_loaded(&loaded, &args, options).await;
                    (index, loaded.name.to_string(), pressed)
                });
            }
            if running.is_empty() {
                break;
            }
            let joined = match cancel.as_mut() {
                Some(c) if !stopped => tokio::select! {
                    joined = running.join_next() => joined,
                    () = c.as_mut() => {
                        stopped = true;
                        let _ = stop_tx.send(true);
                        continue;
                    }
                },
                _ => running.join_next().await,
            };
            let Some(joined) = joined else { break };
            let (index, button, pressed) = joined.map_err(|e| Error::Task(e.to_string()))?;
            let item = SmashItem {
                button,
                outcome: match pressed {
                    Ok(ran) => SmashOutcome::Ran(Box::new(ran)),
                    Err(e) => SmashOutcome::Failed(e),
                },
            };
            if item.failed() && request.on_failure == OnFailure::Stop && !stopped {
                stopped = true;
                let _ = stop_tx.send(true);
            }
            on_done(&item);
            results[index] = Some(item);
        }
        for (index, (loaded, _)) in queue {
            let item = SmashItem {
                button: loaded.name.to_string(),
                outcome: SmashOutcome::Skipped,
            };
            on_done(&item);
            results[index] = Some(item);
        }
        let results: Vec<SmashItem> = results.into_iter().flatten().collect();
        let failures = results.iter().filter(|i| i.failed()).count();
        Ok(SmashReport { results, failures })
    }

    /// [`Engine::smash`] for callers without a tokio runtime.
    ///
    /// # Panics
    ///
    /// When called from inside a tokio runtime (use [`Engine::smash`] there).
    pub fn smash_blocking(
        &self,
        request: &SmashRequest,
        on_done: impl FnMut(&SmashItem),
    ) -> Result<SmashReport, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        runtime.block_on(self.smash(request, None, on_done))
    }
}
