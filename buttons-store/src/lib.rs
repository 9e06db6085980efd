//! The on-disk data directory of Buttons.
//!
//! This crate owns where the data directory is ([`Location`]), its set-up
//! ([`Store::init`]), button folders (create, list, load, save, delete),
//! drawer folders ([`Store::create_drawer`], [`Store::write_drawer_run`]),
//! batteries (local over global, one file with `BUTTONS_HOME` set), run
//! records (atomic, unique, time-sortable, pruned to [`MAX_RECORDS`]), light
//! summaries of them read from a bounded head ([`Store::summaries`],
//! [`Store::overview`]) and the markers of presses under way
//! ([`Store::active_runs`]), queue slot locks ([`Store::try_queue_slot`]) and
//! idempotency entries ([`Store::try_lock_idempotency`]). It keeps the directory private: every directory
//! 0700 and every file 0600 (code 0700) whatever the umask, a pre-existing
//! data directory tightened or refused, and no write through a symbolic link.
//! It runs nothing (that is `buttons-exec`) and prints nothing
//! (that is the `buttons` CLI).
//!
//! # Example
//!
//! ```
//! use buttons_spec::{ButtonName, PressResult, RunRecord, Timestamp};
//! use buttons_store::{CodeSource, NewButton, Store};
//!
//! let tmp = tempfile::tempdir()?;
//! let store = Store::at(tmp.path())?;
//! let name = ButtonName::new("hello")?;
//! let button = buttons_spec::Button::new(&name, Timestamp::UNIX_EPOCH);
//! store.create(NewButton { button, code: CodeSource::Scaffold, prompt: None })?;
//!
//! let result = PressResult::new("hello", Timestamp::UNIX_EPOCH);
//! store.write_record(&name, &RunRecord::from_result(&result, Timestamp::UNIX_EPOCH))?;
//! assert_eq!(store.records(Some(&name), 20)?.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![warn(clippy::unwrap_used)]

mod batteries;
mod buttons;
mod drawers;
mod error;
mod follow;
mod location;
mod locks;
mod overview;
mod private_fs;
mod records;
mod runs;
mod store;
mod summary;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use batteries::{BATTERIES_FILE, Scope};
pub use buttons::{
    AGENTS_FILE, CodeSource, Listed, MAX_CODE_BYTES, NewButton, PRESSED_DIR, SCAFFOLD_MARKER,
    SPEC_FILE,
};
pub use drawers::{DRAWER_FILE, DRAWERS_DIR, DrawerRun, ListedDrawer};
pub use error::{Error, Result};
pub use follow::{ProgressTail, RecordWatch, TailTarget};
pub use location::{DATA_DIR_NAME, Location, Source};
pub use locks::{FileLock, IDEMPOTENCY_DIR, QUEUES_DIR, SWEEP_INTERVAL, is_lock_name};
pub use overview::{
    ActiveRunOverview, ButtonOverview, Counts, FailureOverview, Overview, OverviewOptions,
    RunOverview,
};
pub use records::{MAX_RECORDS, Pressed, RunId, StoredRecord, record_stem};
pub use runs::{ACTIVE_DIR, ActiveRun, MARKER_EXT, pid_alive};
pub use store::{BUTTONS_DIR, GITIGNORE_LINES, InitReport, Notice, RootCheck, Store, check_root};
pub use summary::RecordSummary;
// Size caps of the files the store reads (hardening, issue 17).
pub use batteries::MAX_BATTERIES_BYTES;
pub use buttons::{MAX_SOURCE_BYTES, MAX_SPEC_BYTES};
pub use records::MAX_RECORD_BYTES;

/// Opens the regular file at `path` for reading without blocking and
/// without following a link at its last component: a FIFO, device, folder
/// or link is [`Error::NotRegularFile`] (so a planted FIFO cannot hang the
/// reader); `None` when it does not exist. For files beside the data (an
/// `AGENTS.md`) read by path.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("AGENTS.md");
/// assert!(buttons_store::open_regular_file(&path).unwrap().is_none());
/// std::fs::write(&path, "notes").unwrap();
/// assert!(buttons_store::open_regular_file(&path).unwrap().is_some());
/// ```
pub fn open_regular_file(path: &std::path::Path) -> Result<Option<std::fs::File>> {
    private_fs::open_regular_path(path)
}

/// Reads a file the user named (a link to one is followed), opened without
/// blocking: it must be a regular file of at most `cap` bytes, else
/// [`Error::NotRegularFile`] or [`Error::TooLarge`] naming the path; `None`
/// when it does not exist.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("body.json");
/// std::fs::write(&path, "{}").unwrap();
/// assert_eq!(buttons_store::read_user_file(&path, 16).unwrap().unwrap(), b"{}");
/// assert!(buttons_store::read_user_file(&path, 1).is_err());
/// ```
pub fn read_user_file(path: &std::path::Path, cap: u64) -> Result<Option<Vec<u8>>> {
    private_fs::read_path(path, cap, true)
}
