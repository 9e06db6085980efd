//! Cross-process locks and the idempotency entries they guard: queue slots
//! under `queues/`, idempotency entries under `idempotency/`.
//!
//! A lock is an advisory file lock (`flock`) on a private file (0600 in a
//! 0700 directory, opened without following a link). The OS releases it when
//! the [`FileLock`] is dropped or its process dies, so a press killed with
//! `kill -9` never keeps a slot. Lock files are never removed: unlinking a
//! lock file another process may be about to lock would let two processes
//! hold "the" lock at once.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use buttons_spec::ButtonName;

use crate::error::{Error, Result};
use crate::private_fs::{Dir, FILE_MODE, Kind};
use crate::store::Store;

/// The folder of queue slot files inside the data directory.
pub const QUEUES_DIR: &str = "queues";
/// The folder of idempotency entries inside the data directory.
pub const IDEMPOTENCY_DIR: &str = "idempotency";
/// The shortest time between two sweeps of expired idempotency entries.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

const SWEEP_MARKER: &str = ".last-sweep";

/// An exclusive file lock held by this process, released when dropped (or
/// when the process dies).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
    path: PathBuf,
}

impl FileLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether `part` can name a folder or file below `queues/` or
/// `idempotency/`: 1 to 128 ASCII letters, digits, `-`, `_` or `.`, not
/// starting with `.`.
pub fn is_lock_name(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= 128
        && !part.starts_with('.')
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn check_name(part: &str) -> Result<()> {
    if is_lock_name(part) {
        Ok(())
    } else {
        Err(Error::InvalidLockName {
            name: part.to_owned(),
        })
    }
}

/// The largest idempotency entry read (a press result): 4 MiB.
const MAX_ENTRY_BYTES: u64 = crate::records::MAX_RECORD_BYTES;

/// Opens (creating 0600 when missing, never truncating, never following a
/// link) and tries to lock `name` in `dir`. `None` when another holder has it.
fn try_lock_file(dir: &Dir, name: &str) -> Result<Option<FileLock>> {
    let file = dir.open_lock_file(name)?;
    let path = dir.join(name);
    match file.try_lock() {
        Ok(()) => Ok(Some(FileLock { _file: file, path })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(Error::io("lock", path)(e)),
    }
}

/// The lock file of the webhook routes, in the data directory.
const ROUTES_LOCK: &str = ".webhook-routes.lock";

impl Store {
    /// Takes the data directory's webhook-route lock (`.webhook-routes.lock`,
    /// exclusive, waiting while another process holds it), released when the
    /// returned lock is dropped. A webhook path is checked against every
    /// other one and claimed under it, so two processes adding the same path
    /// at once cannot both win.
    pub fn lock_webhook_routes(&self) -> Result<FileLock> {
        let root = self.ensure_root_handle()?;
        let file = root.open_lock_file(ROUTES_LOCK)?;
        let path = root.join(ROUTES_LOCK);
        file.lock().map_err(Error::io("lock", path.clone()))?;
        Ok(FileLock { _file: file, path })
    }

    fn private_dir(&self, parts: &[&str]) -> Result<Dir> {
        for part in parts {
            check_name(part)?;
        }
        self.ensure_root_handle()?.ensure_walk(parts)
    }

    /// Tries to take one of the `size` slots of the queue pool `pool` (folder
    /// names below `queues/`, each checked with [`is_lock_name`]): slot files
    /// `slot-0.lock` … tried in order. `None` when all are held, by this or
    /// any other process.
    pub fn try_queue_slot(&self, pool: &[&str], size: u32) -> Result<Option<FileLock>> {
        let mut parts = vec![QUEUES_DIR];
        parts.extend_from_slice(pool);
        let dir = self.private_dir(&parts)?;
        for slot in 0..size.max(1) {
            if let Some(lock) = try_lock_file(&dir, &format!("slot-{slot}.lock"))? {
                return Ok(Some(lock));
            }
        }
        Ok(None)
    }

    fn idempotency_dir(&self, button: &ButtonName) -> Result<Dir> {
        self.private_dir(&[IDEMPOTENCY_DIR, button.as_str()])
    }

    /// Tries to lock the idempotency entry `key` (a name passing
    /// [`is_lock_name`], e.g. a hash of the caller's key) of `button`.
    pub fn try_lock_idempotency(&self, button: &ButtonName, key: &str) -> Result<Option<FileLock>> {
        check_name(key)?;
        let dir = self.idempotency_dir(button)?;
        try_lock_file(&dir, &format!("{key}.lock"))
    }

    /// The idempotency entry `key` of `button`, `None` when there is none.
    pub fn read_idempotency(&self, button: &ButtonName, key: &str) -> Result<Option<Vec<u8>>> {
        check_name(key)?;
        let dir = self.idempotency_dir(button)?;
        dir.read(&format!("{key}.json"), MAX_ENTRY_BYTES)
    }

    /// Writes the idempotency entry `key` of `button` atomically (0600).
    pub fn write_idempotency(&self, button: &ButtonName, key: &str, bytes: &[u8]) -> Result<()> {
        check_name(key)?;
        let dir = self.idempotency_dir(button)?;
        dir.write_atomic(&format!("{key}.json"), bytes, FILE_MODE, true)
            .map(drop)
    }

    /// Removes the idempotency entry `key` of `button` (nothing when missing).
    pub fn remove_idempotency(&self, button: &ButtonName, key: &str) -> Result<()> {
        check_name(key)?;
        self.idempotency_dir(button)?
            .remove_file(format!("{key}.json"))
            .map(drop)
    }

    /// Removes every idempotency entry `expired` says is expired (it gets
    /// the entry's bytes), at most once per [`SWEEP_INTERVAL`] across
    /// processes (the time of the last sweep is a marker file's). Returns how
    /// many were removed; 0 when it is not time yet.
    pub fn sweep_idempotency(&self, expired: impl Fn(&[u8]) -> bool) -> Result<usize> {
        let root = self.private_dir(&[IDEMPOTENCY_DIR])?;
        let recent = root
            .modified(SWEEP_MARKER)
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age < SWEEP_INTERVAL);
        if recent {
            return Ok(0);
        }
        root.write_atomic(SWEEP_MARKER, b"", FILE_MODE, false)?;
        let mut removed = 0;
        for button in root.entries()? {
            if button.kind != Kind::Dir {
                continue;
            }
            let Some(name) = button.name_str() else {
                continue;
            };
            let Some(dir) = root.sub(name)? else {
                continue;
            };
            for entry in dir.entries()? {
                let Some(file) = entry.name_str() else {
                    continue;
                };
                if entry.kind != Kind::File || !file.ends_with(".json") || file.starts_with('.') {
                    continue;
                }
                // An unreadable entry (e.g. over the cap) is left for the next write.
                if let Ok(Some(bytes)) = dir.read(file, MAX_ENTRY_BYTES)
                    && expired(&bytes)
                {
                    dir.remove_file(file)?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::symlink;

    use super::*;
    use crate::private_fs::tests_mode;

    fn store() -> (tempfile::TempDir, Store) {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::at(tmp.path()).unwrap();
        (tmp, store)
    }

    #[test]
    fn slots_are_exclusive_and_freed_on_drop() {
        let (_tmp, store) = store();
        let a = store.try_queue_slot(&["api"], 2).unwrap().unwrap();
        let b = store.try_queue_slot(&["api"], 2).unwrap().unwrap();
        assert_ne!(a.path(), b.path());
        assert!(store.try_queue_slot(&["api"], 2).unwrap().is_none());
        // Another pool is independent.
        assert!(store.try_queue_slot(&["api", "k-1"], 2).unwrap().is_some());
        drop(a);
        assert!(store.try_queue_slot(&["api"], 2).unwrap().is_some());
        assert_eq!(tests_mode(b.path()), 0o600);
        assert_eq!(tests_mode(b.path().parent().unwrap()), 0o700);
    }

    #[test]
    fn names_are_checked_and_links_refused() {
        let (tmp, store) = store();
        for bad in ["", "..", ".x", "a/b", "é"] {
            assert!(matches!(
                store.try_queue_slot(&[bad], 1),
                Err(Error::InvalidLockName { .. })
            ));
        }
        let outside = tempfile::tempdir().unwrap();
        symlink(outside.path(), tmp.path().join(QUEUES_DIR)).unwrap();
        assert!(matches!(
            store.try_queue_slot(&["api"], 1),
            Err(Error::Symlink { .. })
        ));
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn idempotency_entries_round_trip_and_sweep() {
        let (_tmp, store) = store();
        let name = ButtonName::new("b").unwrap();
        let lock = store.try_lock_idempotency(&name, "k1").unwrap().unwrap();
        assert!(store.try_lock_idempotency(&name, "k1").unwrap().is_none());
        assert!(store.try_lock_idempotency(&name, "k2").unwrap().is_some());
        drop(lock);
        assert_eq!(store.read_idempotency(&name, "k1").unwrap(), None);
        store.write_idempotency(&name, "k1", b"old").unwrap();
        store.write_idempotency(&name, "k2", b"new").unwrap();
        assert_eq!(
            store.read_idempotency(&name, "k1").unwrap().unwrap(),
            b"old"
        );
        assert_eq!(store.sweep_idempotency(|b| b == b"old").unwrap(), 1);
        assert_eq!(store.read_idempotency(&name, "k1").unwrap(), None);
        // Not again within the interval.
        store.write_idempotency(&name, "k1", b"old").unwrap();
        assert_eq!(store.sweep_idempotency(|_| true).unwrap(), 0);
        store.remove_idempotency(&name, "k1").unwrap();
        store.remove_idempotency(&name, "k1").unwrap();
        assert_eq!(
            store.read_idempotency(&name, "k2").unwrap().unwrap(),
            b"new"
        );
    }
}
