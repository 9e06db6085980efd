//! Queues: at most `concurrency` presses of the buttons sharing a queue (and
//! resolved key) run at once, across processes, with no daemon.
//!
//! A button declares `"queue": {"name": "openai", "concurrency": 3, "key":
//! "${args.user_id}"}`. The pool of a queue name is `concurrency` slot files
//! under `queues/<name>/` (and `queues/<name>/k-<hash of the key>/` when a
//! key is given); a press holds one slot's file lock while it runs. The OS
//! drops the lock when the process dies, so a killed press never keeps a
//! slot.
//!
//! **One pool per queue name**: its size is the smallest `concurrency`
//! declared by the buttons of the data directory that share the name, so
//! buttons disagreeing about the size never see different pools.

use std::time::Duration;

use buttons_spec::{Args, Button};
use buttons_store::{FileLock, Store, is_lock_name};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::context::{Cancel, PressEvent, PressOptions};
use crate::error::Error;

/// A button's `queue` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    /// The queue's name: buttons with the same name share one pool.
    pub name: String,
    /// How many presses may hold the queue at once (at least 1; default 1).
    pub concurrency: u32,
    /// The key template: `${args.X}` and `${inputs.X}` are replaced by the
    /// argument `X`; each resolved key is a pool of its own.
    pub key: Option<String>,
}

impl QueueSpec {
    /// Reads the `queue` block of `button`: `None` when it has none (or it is
    /// `null`). A block without a non-empty `name`, or with a `concurrency`
    /// that is not a whole number from 1 up, is `VALIDATION_ERROR`.
    pub fn from_button(button: &Button) -> Result<Option<Self>, Error> {
        let Some(block) = button.queue.as_ref().filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let invalid = |why: &str| Error::InvalidQueue {
            button: button.name.to_string(),
            reason: why.to_owned(),
        };
        let Value::Object(map) = block else {
            return Err(invalid("`queue` must be an object"));
        };
        let name = match map.get("name") {
            Some(Value::String(name)) if !name.trim().is_empty() => name.trim().to_owned(),
            _ => return Err(invalid("`queue.name` must be a non-empty string")),
        };
        let concurrency = match map.get("concurrency") {
            None | Some(Value::Null) => 1,
            Some(v) => v
                .as_u64()
                .filter(|n| *n >= 1)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| invalid("`queue.concurrency` must be a whole number from 1 up"))?,
        };
        let key = match map.get("key") {
            None | Some(Value::Null) => None,
            Some(Value::String(key)) if key.is_empty() => None,
            Some(Value::String(key)) => Some(key.clone()),
            Some(_) => return Err(invalid("`queue.key` must be a string")),
        };
        Ok(Some(Self {
            name,
            concurrency,
            key,
        }))
    }

    /// The key for a press with `args`: `${args.X}` and `${inputs.X}` become
    /// the value of argument `X` (empty when unset); other text is kept.
    pub fn resolve_key(&self, args: &Args) -> Option<String> {
        let template = self.key.as_ref()?;
        let values = args.to_map();
        let mut out = String::new();
        let mut rest = template.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let expr = after[..end].trim();
            match expr
                .strip_prefix("args.")
                .or_else(|| expr.strip_prefix("inputs."))
            {
                Some(arg) => out.push_str(values.get(arg).map_or("", String::as_str)),
                None => out.push_str(&rest[start..start + 2 + end + 1]),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }
}

/// The hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The size of the pool of queue `name`: the smallest `concurrency` among
/// the buttons of `store` declaring it, and `own` (the pressed button's).
/// Buttons whose spec or queue block cannot be read are left out.
pub fn pool_size(store: &Store, name: &str, own: u32) -> Result<u32, Error> {
    let mut size = own;
    for listed in store.list()? {
        if let Ok(button) = listed.button
            && let Ok(Some(spec)) = QueueSpec::from_button(&button)
            && spec.name == name
        {
            size = size.min(spec.concurrency);
        }
    }
    Ok(size.max(1))
}

/// The folders below `queues/` of the pool of `name` and `key`.
fn pool_dirs(name: &str, key: Option<&str>) -> Vec<String> {
    let mut dirs = vec![if is_lock_name(name) && !name.starts_with("h-") {
        name.to_owned()
    } else {
        format!("h-{}", &sha256_hex(name.as_bytes())[..32])
    }];
    if let Some(key) = key {
        dirs.push(format!("k-{}", &sha256_hex(key.as_bytes())[..32]));
    }
    dirs
}

/// The first wait between tries for a slot, doubled up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(10);
const MAX_POLL: Duration = Duration::from_millis(100);

/// What waiting for a slot ended with.
pub(crate) enum Acquired {
    /// The slot (held until dropped), or `None` for a button without a queue.
    Slot(Option<FileLock>),
    /// The press was cancelled while it waited.
    Cancelled,
}

/// Takes a slot of the button's queue, waiting at most `wait`; tells
/// `options.events` once when it has to wait. A cancellation
/// (`options.cancel`) while waiting ends the wait; the future stays usable.
pub(crate) async fn acquire(
    store: &Store,
    button: &Button,
    args: &Args,
    wait: Duration,
    options: &mut PressOptions,
) -> Result<Acquired, Error> {
    let Some(spec) = QueueSpec::from_button(button)? else {
        return Ok(Acquired::Slot(None));
    };
    let size = pool_size(store, &spec.name, spec.concurrency)?;
    let key = spec.resolve_key(args);
    let dirs = pool_dirs(&spec.name, key.as_deref());
    let parts: Vec<&str> = dirs.iter().map(String::as_str).collect();
    if let Some(slot) = store.try_queue_slot(&parts, size)? {
        return Ok(Acquired::Slot(Some(slot)));
    }
    if let Some(events) = options.events.as_mut() {
        events(&PressEvent::QueueWait {
            queue: spec.name.clone(),
            running: size,
        });
    }
    let deadline = tokio::time::Instant::now() + wait;
    let mut poll = FIRST_POLL;
    loop {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(Error::QueueTimeout {
                queue: spec.name,
                waited: wait,
            });
        }
        let nap = poll.min(deadline - now);
        if cancelled_within(&mut options.cancel, nap).await {
            return Ok(Acquired::Cancelled);
        }
        if let Some(slot) = store.try_queue_slot(&parts, size)? {
            return Ok(Acquired::Slot(Some(slot)));
        }
        poll = (poll * 2).min(MAX_POLL);
    }
}

/// Sleeps `nap`, or less when `cancel` completes first (then `true`).
pub(crate) async fn cancelled_within(cancel: &mut Option<Cancel>, nap: Duration) -> bool {
    match cancel.as_mut() {
        Some(cancel) => tokio::select! {
            () = cancel.as_mut() => true,
            () = tokio::time::sleep(nap) => false,
        },
        None => {
            tokio::time::sleep(nap).await;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use buttons_spec::{ArgDef, ButtonName, ErrorCode, Timestamp};
    use serde_json::json;

    use super::*;

    fn button(queue: Value) -> Button {
        let mut b = Button::new(&ButtonName::new("b").unwrap(), Timestamp::UNIX_EPOCH);
        b.queue = Some(queue);
        b
    }

    #[test]
    fn reads_the_block() {
        let spec = QueueSpec::from_button(&button(json!({"name": "api", "concurrency": 3})))
            .unwrap()
            .unwrap();
        assert_eq!((spec.name.as_str(), spec.concurrency), ("api", 3));
        assert_eq!(
            QueueSpec::from_button(&button(json!({"name": "api"})))
                .unwrap()
                .unwrap()
                .concurrency,
            1
        );
        for bad in [
            json!({"concurrency": 1}),
            json!({"name": "a", "concurrency": 0}),
            json!({"name": "a", "concurrency": "2"}),
            json!("api"),
        ] {
            let err = QueueSpec::from_button(&button(bad)).unwrap_err();
            assert_eq!(err.code(), ErrorCode::ValidationError);
        }
        assert_eq!(QueueSpec::from_button(&button(Value::Null)).unwrap(), None);
    }

    #[test]
    fn resolves_keys() {
        let mut b = button(json!({"name": "a", "key": "u-${args.user}/${inputs.user}${x}"}));
        b.args.push(ArgDef::parse("user:string:required").unwrap());
        let spec = QueueSpec::from_button(&b).unwrap().unwrap();
        let args = Args::validate(&b.args, [("user", "7")]).unwrap();
        assert_eq!(spec.resolve_key(&args).unwrap(), "u-7/7${x}");
        let pools = pool_dirs("a b", Some("k"));
        assert!(pools[0].starts_with("h-") && pools[1].starts_with("k-"));
        assert_eq!(pool_dirs("api", None), ["api"]);
    }
}
