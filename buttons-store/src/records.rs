//! Run records: one JSON file per press in `buttons/<name>/pressed/`.

use std::fs::Permissions;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use buttons_spec::{ButtonName, RunRecord, Timestamp};
use camino::Utf8PathBuf;
use nix::fcntl::OFlag;

use crate::buttons::PRESSED_DIR;
use crate::error::{Error, Result};
use crate::private_fs::{self, FILE_MODE, TMP_PREFIX};
use crate::store::{BUTTONS_DIR, Store};

/// How many records a button keeps; older ones are pruned.
pub const MAX_RECORDS: usize = 100;

const LOCK_FILE: &str = ".lock";
/// Bytes of the record count kept in the lock file.
const COUNT_WIDTH: usize = 21;
pub(crate) const RECORD_EXT: &str = ".json";
pub(crate) const PROGRESS_EXT: &str = ".jsonl";
/// Temporary files older than this were left by a writer that died.
const STALE_TMP: Duration = Duration::from_secs(600);

/// A run record with the button it belongs to and its file.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    /// The button.
    pub button: String,
    /// The run's id (the record file's stem).
    pub id: RunId,
    /// The record file.
    pub path: Utf8PathBuf,
    /// The record.
    pub record: RunRecord,
}

/// A unique, time-sortable file stem: `2026-04-10T14-32-11.123456789Z-<pid>-<n>`.
/// The timestamp orders records; pid and a per-process counter make
/// simultaneous presses distinct.
pub fn record_stem(at: Timestamp) -> String {
    format!(
        "{}.{:09}Z-{}",
        at.strftime("%Y-%m-%dT%H-%M-%S"),
        at.subsec_nanosecond(),
        private_fs::unique_suffix()
    )
}

/// The id of one press: the stem its record (`pressed/<id>.json`) and its
/// progress file (`pressed/<id>.jsonl`) share. Ids are unique (see
/// [`record_stem`]) and sort by start time.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct RunId(pub(crate) String);

impl RunId {
    /// A new, unique id for a press that started `at`.
    pub fn new(at: Timestamp) -> Self {
        Self(record_stem(at))
    }

    /// The id as text, e.g. `2026-04-10T14-32-11.123456789Z-4242-0`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The record file's name: `<id>.json`.
    pub fn record_file(&self) -> String {
        format!("{}{RECORD_EXT}", self.0)
    }

    /// The progress file's name: `<id>.jsonl`.
    pub fn progress_file(&self) -> String {
        format!("{}{PROGRESS_EXT}", self.0)
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A path inside the data directory, whose path was checked to be UTF-8 when
/// the store was opened (and whose components are valid names).
pub(crate) fn utf8(path: PathBuf) -> Utf8PathBuf {
    Utf8PathBuf::from_path_buf(path).expect("paths inside the UTF-8 data directory are UTF-8")
}

pub(crate) fn is_record_name(name: &str) -> bool {
    !name.starts_with('.') && name.ends_with(RECORD_EXT)
}

impl Store {
    pub(crate) fn pressed_dir(&self, name: &ButtonName) -> Utf8PathBuf {
        self.button_dir(name).join(PRESSED_DIR)
    }

    /// The UTF-8-named entries of a button's `pressed/` with their paths
    /// (none when the folder does not exist).
    pub(crate) fn pressed_files(&self, name: &ButtonName) -> Result<Vec<(String, PathBuf)>> {
        Ok(
            private_fs::dir_entries(self.pressed_dir(name).as_std_path())?
                .into_iter()
                .map(|e| (e.name, e.path))
                .collect(),
        )
    }

    /// Makes sure `pressed/` exists as a private, real directory (never a link).
    pub(crate) fn ensure_pressed(&self, name: &ButtonName) -> Result<PathBuf> {
        if fs::symlink_metadata(self.button_dir(name)).is_err() {
            return Err(Error::NotFound {
                name: name.to_string(),
            });
        }
        private_fs::ensure_dirs(
            self.root.as_std_path(),
            &[BUTTONS_DIR, name.as_str(), PRESSED_DIR],
        )
    }

    /// Creates the empty progress file of run `id` (`pressed/<id>.jsonl`,
    /// 0600) that a script may append JSON lines to through
    /// `BUTTONS_PROGRESS_PATH`.
    pub fn create_progress_file(&self, name: &ButtonName, id: &RunId) -> Result<Utf8PathBuf> {
        let dir = self.ensure_pressed(name)?;
        let path = dir.join(id.progress_file());
        private_fs::create_file(&path, b"", FILE_MODE)?;
        Ok(utf8(path))
    }

    /// Removes the progress file of run `id`, if there is one (e.g. when its
    /// record could not be written).
    pub fn remove_progress_file(&self, name: &ButtonName, id: &RunId) -> Result<()> {
        remove_if_present(
            &self
                .pressed_dir(name)
                .join(id.progress_file())
                .into_std_path_buf(),
        )
    }

    /// Removes the progress file of run `id` if it is there and empty (the
    /// script wrote no progress): what a press whose record could not be
    /// written leaves. A progress file with lines is kept.
    pub fn remove_progress_file_if_empty(&self, name: &ButtonName, id: &RunId) -> Result<()> {
        let path = self.pressed_dir(name).join(id.progress_file());
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() && meta.len() == 0 => remove_if_present(path.as_std_path()),
            _ => Ok(()),
        }
    }

    /// Writes a run record atomically (temporary file in `pressed/`, fsync,
    /// rename, fsync of the folder) under a unique, time-sortable name, then
    /// keeps the button's records to [`MAX_RECORDS`]. Safe under concurrent
    /// writers: N presses leave N records (up to the limit).
    ///
    /// The lock file `pressed/.lock` holds an upper bound of the number of
    /// records, kept under the lock: every writer adds one after its rename,
    /// every pruning sets it to the exact count. Only when the bound exceeds
    /// the limit is the folder listed and pruned, so a press that ran
    /// [`Store::make_room`] first does not list the folder again.
    pub fn write_record(&self, name: &ButtonName, record: &RunRecord) -> Result<Utf8PathBuf> {
        self.write_run_record(name, &RunId::new(record.started_at), record)
    }

    /// [`Store::write_record`] under a given run id (`pressed/<id>.json`),
    /// beside the run's progress file. An existing record of that id is
    /// replaced.
    pub fn write_run_record(
        &self,
        name: &ButtonName,
        id: &RunId,
        record: &RunRecord,
    ) -> Result<Utf8PathBuf> {
        let dir = self.ensure_pressed(name)?;
        let mut json = serde_json::to_string_pretty(record).expect("a RunRecord always serializes");
        json.push('\n');
        let path =
            private_fs::write_atomic(&dir, &id.record_file(), json.as_bytes(), FILE_MODE, true)?;
        let lock = lock_pressed(&dir)?;
        match read_count(&lock) {
            Some(count) if count < MAX_RECORDS => write_count(&lock, &dir, count + 1)?,
            _ => prune_locked(&lock, &dir, MAX_RECORDS)?,
        }
        Ok(utf8(path))
    }

    /// Prunes a button's records to one below [`MAX_RECORDS`] (and its
    /// progress files to the limit), making room for the record of a press
    /// under way. Call it while the press runs (e.g. on another thread): the
    /// [`Store::write_record`] that follows then has nothing to list or remove.
    pub fn make_room(&self, name: &ButtonName) -> Result<()> {
        let dir = self.ensure_pressed(name)?;
        let lock = lock_pressed(&dir)?;
        prune_locked(&lock, &dir, MAX_RECORDS - 1)
    }

    /// The newest `last` records, newest first: of one button, or of every
    /// button when `name` is `None`. Records that cannot be parsed are skipped;
    /// temporary files are never read.
    pub fn records(&self, name: Option<&ButtonName>, last: usize) -> Result<Vec<StoredRecord>> {
        let mut out = Vec::new();
        for file in self.record_files(name)? {
            if out.len() >= last {
                break;
            }
            if let Some(stored) = read_stored(file)? {
                out.push(stored);
            }
        }
        Ok(out)
    }

    /// The record files of one button, or of every button, newest first
    /// (names only: nothing is read).
    pub(crate) fn record_files(&self, name: Option<&ButtonName>) -> Result<Vec<RecordFile>> {
        let names: Vec<ButtonName> = match name {
            Some(name) => {
                if fs::symlink_metadata(self.button_dir(name)).is_err() {
                    return Err(Error::NotFound {
                        name: name.to_string(),
                    });
                }
                vec![name.clone()]
            }
            None => self.button_names()?,
        };
        let mut files: Vec<RecordFile> = Vec::new();
        for button in &names {
            for (file, path) in self.pressed_files(button)? {
                if is_record_name(&file) {
                    let stem = file.strip_suffix(RECORD_EXT).unwrap_or(&file).to_owned();
                    files.push(RecordFile {
                        id: RunId(stem),
                        button: button.to_string(),
                        path: utf8(path),
                    });
                }
            }
        }
        files.sort_unstable_by(|a, b| b.id.cmp(&a.id));
        Ok(files)
    }
}

/// A record file found in a `pressed/` folder.
#[derive(Debug, Clone)]
pub(crate) struct RecordFile {
    pub(crate) id: RunId,
    pub(crate) button: String,
    pub(crate) path: Utf8PathBuf,
}

/// Reads and parses a whole record file; `None` when it was pruned meanwhile
/// or cannot be parsed.
pub(crate) fn read_stored(file: RecordFile) -> Result<Option<StoredRecord>> {
    let Some(bytes) = private_fs::read_optional(file.path.as_std_path())? else {
        return Ok(None);
    };
    Ok(serde_json::from_slice::<RunRecord>(&bytes)
        .ok()
        .map(|record| StoredRecord {
            button: file.button,
            id: file.id,
            path: file.path,
            record,
        }))
}

/// Opens `pressed/.lock` (never through a link) and holds it exclusively
/// until the returned file is dropped.
fn lock_pressed(dir: &Path) -> Result<File> {
    let lock_path = dir.join(LOCK_FILE);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .mode(FILE_MODE)
        .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC).bits())
        .open(&lock_path)
        .map_err(Error::io("open", &lock_path))?;
    lock.set_permissions(Permissions::from_mode(FILE_MODE))
        .map_err(Error::io("set permissions of", &lock_path))?;
    lock.lock().map_err(Error::io("lock", &lock_path))?;
    Ok(lock)
}

/// The record count bound kept in the lock file, if it holds one.
fn read_count(lock: &File) -> Option<usize> {
    let mut buf = [0u8; COUNT_WIDTH];
    let n = lock.read_at(&mut buf, 0).ok()?;
    std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok()
}

fn write_count(lock: &File, dir: &Path, count: usize) -> Result<()> {
    // Fixed width, so a shorter number never leaves digits of a longer one.
    let text = format!("{count:>width$}\n", width = COUNT_WIDTH - 1);
    lock.write_all_at(text.as_bytes(), 0)
        .map_err(Error::io("write", dir.join(LOCK_FILE)))
}

/// With the lock held: removes the oldest records beyond `keep` (and progress
/// files beyond [`MAX_RECORDS`]), temporary files left by writers that
/// died and active-run markers of presses that are gone, then stores the exact record count in the lock file.
fn prune_locked(lock: &File, dir: &Path, keep: usize) -> Result<()> {
    let mut records = Vec::new();
    let mut progress = Vec::new();
    let now = SystemTime::now();
    for entry in fs::read_dir(dir).map_err(Error::io("read", dir))? {
        let entry = entry.map_err(Error::io("read", dir))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with(TMP_PREFIX) {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > STALE_TMP);
            if stale {
                remove_if_present(&entry.path())?;
            }
        } else if is_record_name(&name) {
            records.push(name);
        } else if !name.starts_with('.') && name.ends_with(PROGRESS_EXT) {
            progress.push(name);
        } else if crate::runs::is_marker_name(&name)
            && crate::runs::marker_is_removable(&entry.path())
        {
            remove_if_present(&entry.path())?;
        }
    }
    let remaining = records.len().min(keep);
    for (list, keep) in [(&mut records, keep), (&mut progress, MAX_RECORDS)] {
        if list.len() > keep {
            list.sort_unstable();
            let excess = list.len() - keep;
            for old in &list[..excess] {
                remove_if_present(&dir.join(old))?;
            }
        }
    }
    write_count(lock, dir, remaining)
}

pub(crate) fn remove_if_present(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", path)(e)),
    }
}
