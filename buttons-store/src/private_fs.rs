//! File operations that keep the data directory private and never follow a
//! symbolic link they did not expect.
//!
//! Every directory is created 0700 and every file 0600 (code 0700), and the
//! mode is then set explicitly on the open descriptor (fchmod), so the umask
//! cannot loosen it. Directories are opened with `O_NOFOLLOW | O_DIRECTORY`
//! and files created with `O_CREAT | O_EXCL | O_NOFOLLOW`: a planted link makes
//! the operation fail instead of redirecting it.

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::fcntl::OFlag;

use crate::error::{Error, Result};

/// Mode of every directory the store creates.
pub(crate) const DIR_MODE: u32 = 0o700;
/// Mode of every file the store creates.
pub(crate) const FILE_MODE: u32 = 0o600;
/// Mode of code files (`main.*`).
pub(crate) const CODE_MODE: u32 = 0o700;

/// Prefix of temporary files and directories; never a record or a button.
pub(crate) const TMP_PREFIX: &str = ".tmp-";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name unique within this process and, through the pid, across processes.
pub(crate) fn unique_suffix() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{n:06}", std::process::id())
}

fn nofollow_flags() -> i32 {
    (OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC).bits()
}

/// Opens an existing directory without following a link at its last component.
pub(crate) fn open_dir(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC).bits())
        .open(path)
        .map_err(|e| classify(e, path, "open"))
}

/// Maps the errors a planted link or file produces onto clear variants.
fn classify(e: io::Error, path: &Path, action: &'static str) -> Error {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Error::Symlink {
            path: path.to_owned(),
        },
        Ok(m) if !m.is_dir() && e.raw_os_error() == Some(nix::libc::ENOTDIR) => {
            Error::NotADirectory {
                path: path.to_owned(),
            }
        }
        _ => Error::io(action, path)(e),
    }
}

/// Makes sure `path` is a real directory (not a link), creating it 0700 when
/// missing. A directory it creates gets mode 0700 whatever the umask; an
/// existing one is left as it is.
pub(crate) fn ensure_dir(path: &Path) -> Result<()> {
    // Usually it exists: one open (refusing a link) settles it.
    match open_dir(path) {
        Ok(_) => return Ok(()),
        Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    match DirBuilder::new().mode(DIR_MODE).create(path) {
        Ok(()) => {
            let dir = open_dir(path)?;
            dir.set_permissions(Permissions::from_mode(DIR_MODE))
                .map_err(Error::io("set permissions of", path))
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => open_dir(path).map(drop),
        Err(e) => Err(Error::io("create", path)(e)),
    }
}

/// [`ensure_dir`] for a data directory root, whose parent is created first
/// (with default permissions: it is outside the data directory).
pub(crate) fn ensure_root_dir(root: &Path) -> Result<()> {
    if let Some(parent) = root.parent()
        && !parent.as_os_str().is_empty()
    {
        fs::create_dir_all(parent).map_err(Error::io("create", parent))?;
    }
    ensure_dir(root)
}

/// [`ensure_root_dir`] for `base` and then each of `parts` below it, in order.
pub(crate) fn ensure_dirs(base: &Path, parts: &[&str]) -> Result<PathBuf> {
    ensure_root_dir(base)?;
    let mut path = base.to_owned();
    for part in parts {
        path.push(part);
        ensure_dir(&path)?;
    }
    Ok(path)
}

/// Creates a new file (failing if anything, link or file, is already there)
/// with `mode`, set explicitly, and writes `bytes`.
pub(crate) fn create_file(path: &Path, bytes: &[u8], mode: u32) -> Result<File> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(nofollow_flags())
        .open(path)
        .map_err(|e| classify(e, path, "create"))?;
    file.set_permissions(Permissions::from_mode(mode))
        .map_err(Error::io("set permissions of", path))?;
    file.write_all(bytes).map_err(Error::io("write", path))?;
    Ok(file)
}

/// Removes a file on drop unless disarmed.
struct TempGuard<'a>(Option<&'a Path>);

impl Drop for TempGuard<'_> {
    fn drop(&mut self) {
        if let Some(path) = self.0 {
            // Nothing more can be done if this fails; the name starts with
            // `.tmp-` so it is never mistaken for real data.
            let _ = fs::remove_file(path);
        }
    }
}

/// Atomically replaces `dir/name` with `bytes`: a temporary file in `dir`
/// (0600 or `mode`), optionally fsynced, renamed over the target, and then
/// the directory fsynced. A crash leaves either the old or the new file, and at
/// worst a `.tmp-*` file that is never read as data.
pub(crate) fn write_atomic(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    mode: u32,
    durable: bool,
) -> Result<PathBuf> {
    let dir_handle = open_dir(dir)?;
    let tmp = dir.join(format!("{TMP_PREFIX}{}", unique_suffix()));
    let target = dir.join(name);
    let mut guard = TempGuard(Some(&tmp));
    let file = create_file(&tmp, bytes, mode)?;
    if durable {
        file.sync_data().map_err(Error::io("sync", &tmp))?;
    }
    drop(file);
    fs::rename(&tmp, &target).map_err(Error::io("rename into place", &target))?;
    guard.0 = None;
    if durable {
        dir_handle.sync_all().map_err(Error::io("sync", dir))?;
    }
    Ok(target)
}

/// Atomically creates or replaces `dir/name` with what `write` streams into
/// it (through a buffer): a temporary file in `dir` with `mode`, fsynced,
/// then renamed over the target. The directory is not fsynced: after a
/// crash the newest file may be missing (the old one, or none, is there),
/// never partial. `dir` must already be checked (a real directory).
pub(crate) fn write_atomic_streamed(
    dir: &Path,
    name: &str,
    mode: u32,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<PathBuf> {
    let tmp = dir.join(format!("{TMP_PREFIX}{}", unique_suffix()));
    let target = dir.join(name);
    let mut guard = TempGuard(Some(&tmp));
    let file = create_file(&tmp, b"", mode)?;
    let mut out = io::BufWriter::with_capacity(64 * 1024, file);
    write(&mut out)
        .and_then(|()| out.flush())
        .map_err(Error::io("write", &tmp))?;
    let file = out
        .into_inner()
        .map_err(|e| Error::io("write", &tmp)(e.into_error()))?;
    file.sync_data().map_err(Error::io("sync", &tmp))?;
    drop(file);
    fs::rename(&tmp, &target).map_err(Error::io("rename into place", &target))?;
    guard.0 = None;
    Ok(target)
}

/// The entries of `dir` whose names are UTF-8, with their paths and whether
/// each is a folder (not following links); none when `dir` does not exist.
pub(crate) fn dir_entries(dir: &Path) -> Result<Vec<DirEntry>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("read", dir)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(Error::io("read", dir))?;
        if let Ok(name) = entry.file_name().into_string() {
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            out.push(DirEntry {
                name,
                path: entry.path(),
                is_dir,
            });
        }
    }
    Ok(out)
}

/// One entry of [`dir_entries`].
pub(crate) struct DirEntry {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) is_dir: bool,
}

/// The names of the folders in `dir` that are not hidden (`.`-prefixed):
/// the button or drawer folders of a data directory.
pub(crate) fn visible_subdirs(dir: &Path) -> Result<Vec<String>> {
    Ok(dir_entries(dir)?
        .into_iter()
        .filter(|e| e.is_dir && !e.name.starts_with('.'))
        .map(|e| e.name)
        .collect())
}

/// Reads a whole file, `None` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path)(e)),
    }
}

/// [`read_optional`] refusing a symbolic link at the last component.
pub(crate) fn read_optional_nofollow(path: &Path) -> Result<Option<Vec<u8>>> {
    use std::io::Read as _;
    let mut file = match OpenOptions::new()
        .read(true)
        .custom_flags(nofollow_flags())
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(classify(e, path, "read")),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(Error::io("read", path))?;
    Ok(Some(bytes))
}

/// The permission bits of `path` (for tests).
#[cfg(test)]
pub(crate) fn tests_mode(path: &Path) -> u32 {
    fs::symlink_metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn refuses_links() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let link = tmp.path().join("pressed");
        symlink(outside.path(), &link).unwrap();
        assert!(matches!(ensure_dir(&link), Err(Error::Symlink { .. })));
        let file_link = tmp.path().join("f.json");
        symlink(outside.path().join("f.json"), &file_link).unwrap();
        assert!(matches!(
            create_file(&file_link, b"x", FILE_MODE),
            Err(Error::Symlink { .. })
        ));
        assert!(matches!(
            write_atomic(&link, "r.json", b"x", FILE_MODE, false),
            Err(Error::Symlink { .. })
        ));
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn atomic_write_replaces() {
        let tmp = tempfile::tempdir().unwrap();
        write_atomic(tmp.path(), "a", b"one", FILE_MODE, true).unwrap();
        write_atomic(tmp.path(), "a", b"two", FILE_MODE, false).unwrap();
        assert_eq!(fs::read(tmp.path().join("a")).unwrap(), b"two");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}
