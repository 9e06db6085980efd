//! Idempotency keys: a retried press with the same key answers with the
//! first one's result instead of running again.
//!
//! An entry is `idempotency/<button>/<hash of the key>.json` (private,
//! written atomically), so a key is scoped to its button: key K on button A
//! never answers for button B. It holds a hash of the canonical arguments
//! (the validated values, sorted by name), the run's id and record, the
//! result and when it expires. Only successful presses are kept: a failed
//! one runs again on the next try.
//!
//! Presses with one key are serialised by a file lock on the entry
//! (`<hash>.lock`): concurrent presses run the button once, the others wait
//! for the lock and answer with the entry it left. Expired entries are
//! removed when read, and by a sweep of the whole folder at most once per
//! [`SWEEP_INTERVAL`](buttons_store::SWEEP_INTERVAL).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use buttons_spec::{Args, PressResult, Status};
use buttons_store::RunId;
use camino::Utf8PathBuf;
use serde::{Deserialize, Serialize};

use crate::context::{PressEvent, PressOptions};
use crate::engine::{Engine, Loaded, Ran};
use crate::error::Error;
use crate::queue::{cancelled_within, sha256_hex};

/// How long an idempotency entry answers by default: 24 hours.
pub const DEFAULT_IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest key accepted, in bytes.
pub const MAX_IDEMPOTENCY_KEY: usize = 512;

/// An idempotency key on a press (see [`PressRequest::idempotency`](crate::PressRequest)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    /// The caller's key: any non-empty text up to [`MAX_IDEMPOTENCY_KEY`] bytes.
    pub key: String,
    /// How long a successful result answers for the key.
    pub ttl: Duration,
}

impl Idempotency {
    /// `key` with the [`DEFAULT_IDEMPOTENCY_TTL`].
    pub fn new(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            ttl: DEFAULT_IDEMPOTENCY_TTL,
        }
    }

    /// Sets [`ttl`](Self::ttl).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    fn check(&self) -> Result<(), Error> {
        let reason = if self.key.trim().is_empty() {
            "the idempotency key is empty"
        } else if self.key.len() > MAX_IDEMPOTENCY_KEY {
            "the idempotency key is longer than 512 bytes"
        } else if self.ttl.is_zero() {
            "the idempotency TTL is zero"
        } else {
            return Ok(());
        };
        Err(Error::InvalidIdempotency {
            reason: reason.to_owned(),
        })
    }
}

/// Parses a duration in Go's syntax (`24h`, `1h30m`, `90s`, `1.5h`,
/// `250ms`; units `ns`, `us`, `µs`, `ms`, `s`, `m`, `h`): the one parser of
/// [`buttons_spec::parse_go_duration`], its error as an idempotency error.
/// Zero, negative or malformed values are `VALIDATION_ERROR`.
pub fn parse_go_duration(given: &str) -> Result<Duration, Error> {
    buttons_spec::parse_go_duration(given).map_err(|_| Error::InvalidIdempotency {
        reason: format!("{given:?} is not a duration like 24h, 90m or 1h30m"),
    })
}

/// What an entry holds.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    args_sha256: String,
    expires_at_ms: u128,
    run_id: RunId,
    record: Utf8PathBuf,
    result: PressResult,
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// Whether an entry's bytes are expired (or unreadable) at `now`.
fn expired(bytes: &[u8], now: u128) -> bool {
    serde_json::from_slice::<Entry>(bytes).map_or(true, |e| e.expires_at_ms <= now)
}

const FIRST_POLL: Duration = Duration::from_millis(10);
const MAX_POLL: Duration = Duration::from_millis(100);

/// Presses `loaded` once for `idem`: see the module documentation.
pub(crate) async fn press_once(
    engine: &Engine,
    loaded: &Loaded,
    args: &Args,
    idem: &Idempotency,
    mut options: PressOptions,
) -> Result<Ran, Error> {
    idem.check()?;
    let store = engine.store();
    let name = &loaded.name;
    let entry_name = sha256_hex(idem.key.as_bytes());
    let args_sha256 = sha256_hex(
        serde_json::to_string(&args.to_map())
            .expect("a map of strings serializes")
            .as_bytes(),
    );
    // A failed sweep only leaves expired entries for the next one.
    let _ = store.sweep_idempotency(|bytes| expired(bytes, now_ms()));

    let mut poll = FIRST_POLL;
    let mut told = false;
    let _lock = loop {
        if let Some(lock) = store.try_lock_idempotency(name, &entry_name)? {
            break lock;
        }
        if !told && let Some(events) = options.events.as_mut() {
            events(&PressEvent::IdempotencyWait {
                key: idem.key.clone(),
            });
        }
        told = true;
        if cancelled_within(&mut options.cancel, poll).await {
            return Err(Error::Cancelled {
                what: format!("idempotency key {}", idem.key),
            });
        }
        poll = (poll * 2).min(MAX_POLL);
    };

    if let Some(bytes) = store.read_idempotency(name, &entry_name)? {
        match serde_json::from_slice::<Entry>(&bytes) {
            Ok(entry) if entry.expires_at_ms > now_ms() => {
                if entry.args_sha256 != args_sha256 {
                    return Err(Error::IdempotencyConflict {
                        key: idem.key.clone(),
                    });
                }
                return Ok(Ran {
                    id: entry.run_id,
                    result: entry.result,
                    record: Ok(entry.record),
                    hint: None,
                    replayed: true,
                });
            }
            // Expired, or not an entry this build can read: it answers no more.
            _ => store.remove_idempotency(name, &entry_name)?,
        }
    }

    let ran = engine.press_loaded(loaded, args, options).await?;
    if ran.result.status == Status::Ok
        && let Ok(record) = &ran.record
    {
        let entry = Entry {
            args_sha256,
            expires_at_ms: now_ms().saturating_add(idem.ttl.as_millis()),
            run_id: ran.id.clone(),
            record: record.clone(),
            result: ran.result.clone(),
        };
        let bytes = serde_json::to_vec(&entry).expect("an entry serializes");
        // The press ran and is recorded; a lost entry only means a retry
        // runs again.
        let _ = store.write_idempotency(name, &entry_name, &bytes);
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        let cases = [
            ("24h", 86_400_000),
            ("1h30m", 5_400_000),
            ("90s", 90_000),
            ("1.5h", 5_400_000),
            ("250ms", 250),
            ("2h45m30s", 9_930_000),
        ];
        for (given, ms) in cases {
            assert_eq!(parse_go_duration(given).unwrap().as_millis(), ms, "{given}");
        }
        for bad in ["", "0s", "-1h", "10", "h", "1d", "1h-", "1..2s"] {
            let err = parse_go_duration(bad).unwrap_err();
            assert_eq!(
                err.code(),
                buttons_spec::ErrorCode::ValidationError,
                "{bad}"
            );
        }
    }

    #[test]
    fn keys_are_checked() {
        assert!(Idempotency::new("k").check().is_ok());
        assert!(Idempotency::new(" ").check().is_err());
        assert!(Idempotency::new("k".repeat(513)).check().is_err());
        assert!(Idempotency::new("k").ttl(Duration::ZERO).check().is_err());
    }
}
