//! Run records: one JSON file per press in `buttons/<name>/pressed/`.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use buttons_spec::{ButtonName, RunRecord, Timestamp};
use camino::Utf8PathBuf;

use crate::buttons::PRESSED_DIR;
use crate::error::{Error, Result};
use crate::private_fs::{self, Dir, FILE_MODE, TMP_PREFIX};
use crate::store::{BUTTONS_DIR, Store};

/// How many records a button keeps; older ones are pruned.
pub const MAX_RECORDS: usize = 100;

const LOCK_FILE: &str = ".lock";
/// Bytes of the record count kept in the lock file.
const COUNT_WIDTH: usize = 21;
pub(crate) const RECORD_EXT: &str = ".json";
pub(crate) const PROGRESS_EXT: &str = ".jsonl";
/// The largest run record read: 4 MiB.
pub const MAX_RECORD_BYTES: u64 = 4 * 1024 * 1024;

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

    /// A handle on a button's `pressed/` (never through a link); `None`
    /// when the button or the folder does not exist.
    pub(crate) fn pressed_handle(&self, name: &ButtonName) -> Result<Option<Dir>> {
        self.handle(&[BUTTONS_DIR, name.as_str(), PRESSED_DIR])
    }

    /// The UTF-8-named entries of a button's `pressed/` with their paths
    /// (none when the folder does not exist).
    pub(crate) fn pressed_files(&self, name: &ButtonName) -> Result<Vec<(String, PathBuf)>> {
        let Some(dir) = self.pressed_handle(name)? else {
            return Ok(Vec::new());
        };
        Ok(dir
            .entries()?
            .into_iter()
            .filter_map(|e| e.name.into_string().ok())
            .map(|n| {
                let path = dir.join(&n);
                (n, path)
            })
            .collect())
    }

    /// Makes sure `pressed/` exists as a private, real directory (never a
    /// link) and returns a handle on it: every write of a press goes through
    /// it, so a folder swapped for a link meanwhile changes nothing.
    pub(crate) fn ensure_pressed(&self, name: &ButtonName) -> Result<Dir> {
        self.button_handle(name)?.ensure_sub(PRESSED_DIR)
    }

    /// Creates the empty progress file of run `id` (`pressed/<id>.jsonl`,
    /// 0600) that a script may append JSON lines to through
    /// `BUTTONS_PROGRESS_PATH`.
    pub fn create_progress_file(&self, name: &ButtonName, id: &RunId) -> Result<Utf8PathBuf> {
        self.pressed(name)?.create_progress_file(id)
    }

    /// Removes the progress file of run `id`, if there is one (e.g. when its
    /// record could not be written).
    pub fn remove_progress_file(&self, name: &ButtonName, id: &RunId) -> Result<()> {
        match self.pressed_handle(name)? {
            Some(dir) => dir.remove_file(id.progress_file()).map(drop),
            None => Ok(()),
        }
    }

    /// Removes the progress file of run `id` if it is there and empty (the
    /// script wrote no progress): what a press whose record could not be
    /// written leaves. A progress file with lines is kept.
    pub fn remove_progress_file_if_empty(&self, name: &ButtonName, id: &RunId) -> Result<()> {
        match self.pressed_handle(name)? {
            Some(dir) => remove_if_empty(&dir, &id.progress_file()),
            None => Ok(()),
        }
    }

    /// Writes a run record atomically (serialised straight into a temporary
    /// file in `pressed/`, fsync, rename; the folder is not fsynced, so a
    /// crash may lose the newest record but never leaves a partial one)
    /// under a unique, time-sortable name, then
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
        self.pressed(name)?.write_record(id, record)
    }

    /// Prunes a button's records to one below [`MAX_RECORDS`] (and its
    /// progress files to the limit), making room for the record of a press
    /// under way. Call it while the press runs (e.g. on another thread): the
    /// [`Store::write_record`] that follows then has nothing to list or remove.
    pub fn make_room(&self, name: &ButtonName) -> Result<()> {
        self.pressed(name)?.make_room()
    }

    /// The button's `pressed/` folder, made sure of once (it exists as a
    /// private, real directory, never a link) and held open by a handle for
    /// the files of one press: its progress file, marker, pruning and record.
    pub fn pressed(&self, name: &ButtonName) -> Result<Pressed> {
        Ok(Pressed {
            dir: std::sync::Arc::new(self.ensure_pressed(name)?),
        })
    }

    /// A button's `pressed/` as a [`Pressed`], when it exists (never
    /// created: for the commands that only read or clean up).
    pub(crate) fn existing_pressed(&self, name: &ButtonName) -> Result<Option<Pressed>> {
        Ok(self.pressed_handle(name)?.map(|dir| Pressed {
            dir: std::sync::Arc::new(dir),
        }))
    }

    /// The newest `last` records, newest first: of one button, or of every
    /// button when `name` is `None`. Records that cannot be parsed are skipped;
    /// temporary files are never read.
    pub fn records(&self, name: Option<&ButtonName>, last: usize) -> Result<Vec<StoredRecord>> {
        Ok(self.records_counted(name, last)?.0)
    }

    /// [`Store::records`] with how many record files were skipped because
    /// they could not be read or parsed (a folder named `x.json`, a FIFO, a
    /// file over [`MAX_RECORD_BYTES`], broken JSON).
    pub fn records_counted(
        &self,
        name: Option<&ButtonName>,
        last: usize,
    ) -> Result<(Vec<StoredRecord>, usize)> {
        let mut out = Vec::new();
        let mut skipped = 0;
        for file in self.record_files(name)? {
            if out.len() >= last {
                break;
            }
            match self.read_record(&file) {
                Ok(Some(record)) => out.push(StoredRecord {
                    button: file.button,
                    id: file.id,
                    path: file.path,
                    record,
                }),
                // Pruned meanwhile.
                Ok(None) => {}
                Err(_) => skipped += 1,
            }
        }
        Ok((out, skipped))
    }

    /// The record files of one button, or of every button, newest first
    /// (names only: nothing is read).
    pub(crate) fn record_files(&self, name: Option<&ButtonName>) -> Result<Vec<RecordFile>> {
        let names: Vec<ButtonName> = match name {
            Some(name) => {
                self.button_handle(name)?;
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

/// A button's `pressed/` folder, checked once by [`Store::pressed`] and held
/// open: what one press writes there goes through the handle, without
/// looking the folder up again (a folder swapped for a link meanwhile
/// changes nothing).
#[derive(Debug, Clone)]
pub struct Pressed {
    pub(crate) dir: std::sync::Arc<Dir>,
}

impl Pressed {
    /// The folder's path.
    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// [`Store::create_progress_file`] in this folder.
    pub fn create_progress_file(&self, id: &RunId) -> Result<Utf8PathBuf> {
        let file = id.progress_file();
        self.dir.create_file(&file, b"", FILE_MODE)?;
        Ok(utf8(self.dir.join(file)))
    }

    /// [`Store::remove_progress_file`] in this folder.
    pub fn remove_progress_file(&self, id: &RunId) -> Result<()> {
        self.dir.remove_file(id.progress_file()).map(drop)
    }

    /// [`Store::write_run_record`] in this folder: the record is serialised
    /// straight into its temporary file (pretty-printed JSON and a newline),
    /// which is fsynced and renamed into place.
    pub fn write_record(&self, id: &RunId, record: &RunRecord) -> Result<Utf8PathBuf> {
        let dir = &*self.dir;
        let path = dir.write_atomic_streamed(&id.record_file(), FILE_MODE, |out| {
            serde_json::to_writer_pretty(&mut *out, record).map_err(std::io::Error::from)?;
            out.write_all(b"\n")
        })?;
        let lock = lock_pressed(dir)?;
        match read_count(&lock) {
            Some(count) if count < MAX_RECORDS => write_count(&lock, dir, count + 1)?,
            _ => prune_locked(&lock, dir, MAX_RECORDS)?,
        }
        Ok(utf8(path))
    }

    /// Whether [`Pressed::make_room`] has anything to do: the record count
    /// kept in `pressed/.lock` (read without waiting for the lock) says the
    /// next record would pass [`MAX_RECORDS`], or there is no count yet.
    pub fn prune_due(&self) -> bool {
        let Ok(lock) = self.dir.open_lock_file(LOCK_FILE) else {
            return true;
        };
        read_count(&lock).is_none_or(|count| count >= MAX_RECORDS)
    }

    /// [`Store::make_room`] in this folder.
    pub fn make_room(&self) -> Result<()> {
        let lock = lock_pressed(&self.dir)?;
        prune_locked(&lock, &self.dir, MAX_RECORDS - 1)
    }
}

/// A record file found in a `pressed/` folder.
#[derive(Debug, Clone)]
pub(crate) struct RecordFile {
    pub(crate) id: RunId,
    pub(crate) button: String,
    pub(crate) path: Utf8PathBuf,
}

impl Store {
    /// Opens a record file through the handles of `buttons/`, the button's
    /// folder and `pressed/` (never through a link, never blocking, a
    /// regular file only); `None` when it is gone.
    pub(crate) fn open_record(&self, file: &RecordFile) -> Result<Option<File>> {
        let Ok(button) = ButtonName::new(&file.button) else {
            return Ok(None);
        };
        match self.pressed_handle(&button)? {
            Some(dir) => dir.open_regular(&file.id.record_file()),
            None => Ok(None),
        }
    }

    /// Reads and parses a whole record file; `None` when it was pruned
    /// meanwhile or cannot be read or parsed.
    pub(crate) fn read_stored(&self, file: RecordFile) -> Result<Option<StoredRecord>> {
        Ok(self
            .read_record(&file)
            .ok()
            .flatten()
            .map(|record| StoredRecord {
                button: file.button,
                id: file.id,
                path: file.path,
                record,
            }))
    }

    /// Reads and parses a record file (see [`Store::open_record`]), at most
    /// [`MAX_RECORD_BYTES`]; `None` when it is gone.
    fn read_record(&self, file: &RecordFile) -> Result<Option<RunRecord>> {
        let path = file.path.as_std_path();
        let Some(opened) = self.open_record(file)? else {
            return Ok(None);
        };
        let bytes = private_fs::read_capped(opened, path, MAX_RECORD_BYTES)?;
        serde_json::from_slice::<RunRecord>(&bytes)
            .map(Some)
            .map_err(|e| Error::Corrupt {
                path: path.to_owned(),
                source: Box::new(e),
            })
    }
}

/// Opens `pressed/.lock` (never through a link) and holds it exclusively
/// until the returned file is dropped.
fn lock_pressed(dir: &Dir) -> Result<File> {
    let lock = dir.open_lock_file(LOCK_FILE)?;
    lock.lock()
        .map_err(Error::io("lock", dir.join(LOCK_FILE)))?;
    Ok(lock)
}

/// The record count bound kept in the lock file, if it holds one.
fn read_count(lock: &File) -> Option<usize> {
    let mut buf = [0u8; COUNT_WIDTH];
    let n = lock.read_at(&mut buf, 0).ok()?;
    std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok()
}

fn write_count(lock: &File, dir: &Dir, count: usize) -> Result<()> {
    // Fixed width, so a shorter number never leaves digits of a longer one.
    let text = format!("{count:>width$}\n", width = COUNT_WIDTH - 1);
    lock.write_all_at(text.as_bytes(), 0)
        .map_err(Error::io("write", dir.join(LOCK_FILE)))
}

/// With the lock held: removes the oldest records beyond `keep` (and progress
/// files beyond [`MAX_RECORDS`]), temporary files left by writers that
/// died and markers in `pressed/` itself (where they were kept before they
/// had `pressed/.active/`) of presses that are gone, then stores the exact
/// record count in the lock file.
fn prune_locked(lock: &File, dir: &Dir, keep: usize) -> Result<()> {
    let entries = dir.entries()?;
    dir.sweep_stale_tmp_of(&entries);
    let mut records = Vec::new();
    let mut progress = Vec::new();
    for entry in entries {
        let Ok(name) = entry.name.into_string() else {
            continue;
        };
        if name.starts_with(TMP_PREFIX) {
            continue;
        } else if is_record_name(&name) {
            records.push(name);
        } else if !name.starts_with('.') && name.ends_with(PROGRESS_EXT) {
            progress.push(name);
        } else if crate::runs::is_marker_name(&name)
            && crate::runs::legacy_marker_is_removable(dir, &name)
        {
            dir.remove_file(&name)?;
        }
    }
    let remaining = records.len().min(keep);
    for (list, keep) in [(&mut records, keep), (&mut progress, MAX_RECORDS)] {
        if list.len() > keep {
            list.sort_unstable();
            let excess = list.len() - keep;
            for old in &list[..excess] {
                dir.remove_file(old)?;
            }
        }
    }
    write_count(lock, dir, remaining)
}

/// Removes the regular file `name` of `dir` if it is there and empty.
fn remove_if_empty(dir: &Dir, name: &str) -> Result<()> {
    let Some(file) = dir.open_regular(name)? else {
        return Ok(());
    };
    let empty = file
        .metadata()
        .map_err(Error::io("inspect", dir.join(name)))?
        .len()
        == 0;
    if empty {
        dir.remove_file(name)?;
    }
    Ok(())
}
