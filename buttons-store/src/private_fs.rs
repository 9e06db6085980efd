//! File operations that keep the data directory private and never follow a
//! symbolic link inside it.
//!
//! Every operation inside the data directory goes through a directory handle
//! ([`Dir`]): the data directory is opened once, and each folder below it is
//! opened relative to its parent's handle with `O_NOFOLLOW | O_DIRECTORY`
//! (`openat`), so a link planted anywhere on the way makes the operation fail
//! instead of redirecting it, and a folder swapped for a link after it was
//! opened changes nothing: the handle still names the folder that was checked.
//! Files are created (`O_CREAT | O_EXCL | O_NOFOLLOW`), renamed, removed and
//! listed relative to a handle too (`openat`, `renameat`, `unlinkat`), never
//! by a path that is looked up again.
//!
//! Every directory is created 0700 and every file 0600 (code 0700), and the
//! mode is then set explicitly on the open descriptor (fchmod), so the umask
//! cannot loosen it. Temporary files and folders are named `.tmp-*` (which
//! `init` git-ignores); one older than [`STALE_TMP`] was left by a writer that
//! died and is removed by the next write to its folder.
//!
//! Files are read non-blocking, only when they are regular files, and only up
//! to a size cap: a FIFO, a device or an endless file is a clear error, never a
//! hang or an allocation without end.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use rustix::fs::{AtFlags, FileType, FlockOperation, Mode, OFlags};
use rustix::io::Errno;

use crate::error::{Error, Result};

/// Mode of every directory the store creates.
pub(crate) const DIR_MODE: u32 = 0o700;
/// Mode of every file the store creates.
pub(crate) const FILE_MODE: u32 = 0o600;
/// Mode of code files (`main.*`).
pub(crate) const CODE_MODE: u32 = 0o700;

/// Prefix of temporary files and directories; never a record or a button.
pub(crate) const TMP_PREFIX: &str = ".tmp-";

/// A temporary file or folder older than this was left by a writer that died.
pub(crate) const STALE_TMP: Duration = Duration::from_secs(60);

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name unique within this process and, through the pid, across processes.
pub(crate) fn unique_suffix() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{n:06}", std::process::id())
}

fn mode(bits: u32) -> Mode {
    Mode::from_raw_mode(bits)
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// What stands at a name in a directory (not following a link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// A symbolic link.
    Symlink,
    /// A FIFO, socket or device.
    Other,
}

impl Kind {
    fn of(t: FileType) -> Self {
        match t {
            FileType::Directory => Self::Dir,
            FileType::RegularFile => Self::File,
            FileType::Symlink => Self::Symlink,
            _ => Self::Other,
        }
    }
}

/// One entry of [`Dir::entries`].
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The name (any bytes).
    pub(crate) name: OsString,
    /// What it is (not following a link).
    pub(crate) kind: Kind,
}

impl Entry {
    /// The name when it is UTF-8.
    pub(crate) fn name_str(&self) -> Option<&str> {
        self.name.to_str()
    }
}

/// An open directory inside (or being) the data directory, with the path it
/// was opened at (for messages and for the paths handed back).
#[derive(Debug)]
pub(crate) struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

fn is(e: &Errno, errno: Errno) -> bool {
    *e == errno
}

impl Dir {
    /// Opens the data directory (or another root such as the global one),
    /// refusing a link at its last component; `None` when it does not exist.
    pub(crate) fn open_root(root: &Path) -> Result<Option<Self>> {
        match rustix::fs::open(root, dir_flags(), Mode::empty()) {
            Ok(fd) => Ok(Some(Self {
                fd,
                path: root.to_owned(),
            })),
            Err(e) if is(&e, Errno::NOENT) => Ok(None),
            Err(e) => Err(classify_path(e, root, "open")),
        }
    }

    /// [`Dir::open_root`], creating the root 0700 (and its parent, with
    /// default permissions: it is outside the data directory) when missing.
    pub(crate) fn ensure_root(root: &Path) -> Result<Self> {
        if let Some(dir) = Self::open_root(root)? {
            return Ok(dir);
        }
        if let Some(parent) = root.parent()
            && !parent.as_os_str().is_empty()
        {
            fs::create_dir_all(parent).map_err(Error::io("create", parent))?;
        }
        let created = match rustix::fs::mkdir(root, mode(DIR_MODE)) {
            Ok(()) => true,
            Err(e) if is(&e, Errno::EXIST) => false,
            Err(e) => return Err(Error::io("create", root)(e.into())),
        };
        let dir = Self::open_root(root)?
            .ok_or_else(|| Error::io("open", root)(io::Error::from(io::ErrorKind::NotFound)))?;
        if created {
            dir.chmod(DIR_MODE)?;
        }
        Ok(dir)
    }

    /// The path this directory was opened at.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The path of `name` in this directory (for messages and callers).
    pub(crate) fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }

    fn chmod(&self, bits: u32) -> Result<()> {
        rustix::fs::fchmod(&self.fd, mode(bits))
            .map_err(|e| Error::io("set permissions of", &self.path)(e.into()))
    }

    /// Maps an error of an operation on `name` to a clear variant.
    fn classify(&self, e: Errno, name: &OsStr, action: &'static str) -> Error {
        let path = self.join(name);
        if is(&e, Errno::LOOP) || is(&e, Errno::NOTDIR) || is(&e, Errno::EXIST) {
            match self.kind(name) {
                Ok(Some(Kind::Symlink)) => return Error::Symlink { path },
                Ok(Some(Kind::File | Kind::Other)) if !is(&e, Errno::EXIST) => {
                    return Error::NotADirectory { path };
                }
                _ => {}
            }
        }
        Error::io(action, path)(e.into())
    }

    /// What stands at `name` (not following a link); `None` when nothing.
    pub(crate) fn kind(&self, name: impl AsRef<OsStr>) -> Result<Option<Kind>> {
        let name = name.as_ref();
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(Kind::of(FileType::from_raw_mode(st.st_mode)))),
            Err(e) if is(&e, Errno::NOENT) => Ok(None),
            Err(e) => Err(Error::io("read", self.join(name))(e.into())),
        }
    }

    /// The modification time of `name` (not following a link).
    pub(crate) fn modified(&self, name: impl AsRef<OsStr>) -> Option<SystemTime> {
        let st = rustix::fs::statat(&self.fd, name.as_ref(), AtFlags::SYMLINK_NOFOLLOW).ok()?;
        let secs = u64::try_from(st.st_mtime).ok()?;
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
    }

    /// Opens the folder `name` in this one, never through a link; `None`
    /// when it does not exist.
    pub(crate) fn sub(&self, name: &str) -> Result<Option<Self>> {
        self.sub_os(OsStr::new(name))
    }

    fn sub_os(&self, name: &OsStr) -> Result<Option<Self>> {
        match rustix::fs::openat(&self.fd, name, dir_flags(), Mode::empty()) {
            Ok(fd) => Ok(Some(Self {
                fd,
                path: self.join(name),
            })),
            Err(e) if is(&e, Errno::NOENT) => Ok(None),
            Err(e) => Err(self.classify(e, name, "open")),
        }
    }

    /// [`Dir::sub`], creating the folder 0700 when missing.
    pub(crate) fn ensure_sub(&self, name: &str) -> Result<Self> {
        if let Some(dir) = self.sub(name)? {
            return Ok(dir);
        }
        match rustix::fs::mkdirat(&self.fd, name, mode(DIR_MODE)) {
            Ok(()) => {
                let dir = self.sub(name)?.ok_or_else(|| {
                    Error::io("open", self.join(name))(io::Error::from(io::ErrorKind::NotFound))
                })?;
                dir.chmod(DIR_MODE)?;
                Ok(dir)
            }
            Err(e) if is(&e, Errno::EXIST) => self.sub(name)?.ok_or_else(|| {
                Error::io("open", self.join(name))(io::Error::from(io::ErrorKind::NotFound))
            }),
            Err(e) => Err(self.classify(e, OsStr::new(name), "create")),
        }
    }

    /// Opens `parts` below this folder, one handle at a time, never through
    /// a link; `None` when one of them does not exist.
    pub(crate) fn walk(&self, parts: &[&str]) -> Result<Option<Self>> {
        let mut iter = parts.iter();
        let Some(first) = iter.next() else {
            return Ok(Some(self.try_clone()?));
        };
        let Some(mut dir) = self.sub(first)? else {
            return Ok(None);
        };
        for part in iter {
            match dir.sub(part)? {
                Some(next) => dir = next,
                None => return Ok(None),
            }
        }
        Ok(Some(dir))
    }

    /// [`Dir::walk`], creating missing folders 0700.
    pub(crate) fn ensure_walk(&self, parts: &[&str]) -> Result<Self> {
        let mut dir = self.try_clone()?;
        for part in parts {
            dir = dir.ensure_sub(part)?;
        }
        Ok(dir)
    }

    fn try_clone(&self) -> Result<Self> {
        let fd = self.fd.try_clone().map_err(Error::io("open", &self.path))?;
        Ok(Self {
            fd,
            path: self.path.clone(),
        })
    }

    /// Takes an exclusive lock on this folder (`flock`), held until this
    /// handle is dropped (or the process dies). Read-modify-writes of the
    /// files in a folder take it, so concurrent writers never lose updates.
    pub(crate) fn lock(&self) -> Result<()> {
        loop {
            match rustix::fs::flock(&self.fd, FlockOperation::LockExclusive) {
                Ok(()) => return Ok(()),
                Err(e) if is(&e, Errno::INTR) => {}
                Err(e) => return Err(Error::io("lock", &self.path)(e.into())),
            }
        }
    }

    /// Creates the new file `name` (failing if anything, link or file, is
    /// already there) with `mode`, set explicitly, and writes `bytes`.
    pub(crate) fn create_file(&self, name: &str, bytes: &[u8], mode_bits: u32) -> Result<File> {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, mode(mode_bits))
            .map_err(|e| self.classify(e, OsStr::new(name), "create"))?;
        rustix::fs::fchmod(&fd, mode(mode_bits))
            .map_err(|e| Error::io("set permissions of", self.join(name))(e.into()))?;
        let mut file = File::from(fd);
        file.write_all(bytes)
            .map_err(Error::io("write", self.join(name)))?;
        Ok(file)
    }

    /// Opens `name` for reading and writing, creating it (0600, set
    /// explicitly) when missing, never truncating, never through a link: a
    /// lock file.
    pub(crate) fn open_lock_file(&self, name: &str) -> Result<File> {
        let flags = OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, mode(FILE_MODE))
            .map_err(|e| self.classify(e, OsStr::new(name), "open"))?;
        rustix::fs::fchmod(&fd, mode(FILE_MODE))
            .map_err(|e| Error::io("set permissions of", self.join(name))(e.into()))?;
        Ok(File::from(fd))
    }

    /// Atomically replaces `name` with `bytes`: see [`Dir::write_atomic_with`].
    pub(crate) fn write_atomic(
        &self,
        name: &str,
        bytes: &[u8],
        mode_bits: u32,
        durable: bool,
    ) -> Result<PathBuf> {
        self.write_atomic_with(name, mode_bits, durable, |file| file.write_all(bytes))
    }

    /// Atomically replaces `name` with what `write` writes: a temporary
    /// `.tmp-*` file in this folder (0600 or `mode`), optionally fsynced,
    /// renamed over the target (a link there is replaced, never followed),
    /// and then the folder fsynced. A crash leaves either the old or the new
    /// file, and at worst a private `.tmp-*` file that is never read as data
    /// and that the next write here removes once it is stale.
    pub(crate) fn write_atomic_with(
        &self,
        name: &str,
        mode_bits: u32,
        durable: bool,
        write: impl FnOnce(&mut File) -> io::Result<()>,
    ) -> Result<PathBuf> {
        self.sweep_stale_tmp();
        self.replace_with(name, mode_bits, durable, durable, write)
    }

    /// [`Dir::write_atomic`] without the fsyncs and without first sweeping
    /// stale `.tmp-*` entries: for a folder that is swept otherwise (a
    /// button's `pressed/.active/`, swept by the recovery scan each press
    /// makes), where listing it again on every write would cost more than
    /// the write.
    pub(crate) fn write_atomic_unswept(
        &self,
        name: &str,
        bytes: &[u8],
        mode_bits: u32,
    ) -> Result<PathBuf> {
        self.replace_with(name, mode_bits, false, false, |file| file.write_all(bytes))
    }

    /// Atomically replaces `name` with what `write` streams into it through
    /// a 64 KiB buffer: like [`Dir::write_atomic_with`] with the file
    /// fsynced before the rename, but the folder not fsynced. After a crash
    /// the newest file may be missing (the old one, or none, is there),
    /// never partial: the trade made for run records. Stale `.tmp-*`
    /// entries are not swept first (pruning sweeps `pressed/`).
    pub(crate) fn write_atomic_streamed(
        &self,
        name: &str,
        mode_bits: u32,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<PathBuf> {
        self.replace_with(name, mode_bits, true, false, |file| {
            let mut out = io::BufWriter::with_capacity(64 * 1024, file);
            write(&mut out)?;
            out.flush()
        })
    }

    fn replace_with(
        &self,
        name: &str,
        mode_bits: u32,
        sync_file: bool,
        sync_dir: bool,
        write: impl FnOnce(&mut File) -> io::Result<()>,
    ) -> Result<PathBuf> {
        let tmp = format!("{TMP_PREFIX}{}", unique_suffix());
        let mut file = self.create_file(&tmp, b"", mode_bits)?;
        let mut guard = TempGuard {
            dir: self,
            name: Some(&tmp),
        };
        write(&mut file).map_err(Error::io("write", self.join(&tmp)))?;
        if sync_file {
            file.sync_data()
                .map_err(Error::io("sync", self.join(&tmp)))?;
        }
        drop(file);
        rustix::fs::renameat(&self.fd, tmp.as_str(), &self.fd, name)
            .map_err(|e| Error::io("rename into place", self.join(name))(e.into()))?;
        guard.name = None;
        if sync_dir {
            self.sync()?;
        }
        Ok(self.join(name))
    }

    /// fsyncs this folder (a rename in it becomes durable).
    pub(crate) fn sync(&self) -> Result<()> {
        rustix::fs::fsync(&self.fd).map_err(|e| Error::io("sync", &self.path)(e.into()))
    }

    /// Reads the regular file `name` (never through a link, never blocking
    /// on a FIFO), at most `cap` bytes; `None` when it does not exist. A link,
    /// FIFO, device or folder is [`Error::NotRegularFile`], a larger file
    /// [`Error::TooLarge`].
    pub(crate) fn read(&self, name: &str, cap: u64) -> Result<Option<Vec<u8>>> {
        match self.open_regular(name)? {
            Some(file) => read_capped(file, &self.join(name), cap).map(Some),
            None => Ok(None),
        }
    }

    /// Opens the regular file `name` for reading (never through a link,
    /// never blocking on a FIFO); `None` when it does not exist. A link,
    /// FIFO, device or folder is [`Error::NotRegularFile`].
    pub(crate) fn open_regular(&self, name: &str) -> Result<Option<File>> {
        let path = self.join(name);
        let flags =
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(&self.fd, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(e) if is(&e, Errno::NOENT) => return Ok(None),
            Err(e) if is(&e, Errno::LOOP) => {
                return Err(Error::NotRegularFile {
                    path,
                    kind: "symbolic link",
                });
            }
            Err(e) => return Err(Error::io("read", path)(e.into())),
        };
        let file = File::from(fd);
        check_regular(&file, &path)?;
        Ok(Some(file))
    }

    /// Removes the file (or link, never what it points to) `name`; false
    /// when nothing was there.
    pub(crate) fn remove_file(&self, name: impl AsRef<OsStr>) -> Result<bool> {
        let name = name.as_ref();
        match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
            Ok(()) => Ok(true),
            Err(e) if is(&e, Errno::NOENT) => Ok(false),
            Err(e) => Err(Error::io("remove", self.join(name))(e.into())),
        }
    }

    /// Removes `name` and, when it is a folder, everything in it, through
    /// handles: a link anywhere inside is removed itself, never followed.
    /// Something removed meanwhile by another process is not an error.
    pub(crate) fn remove_tree(&self, name: impl AsRef<OsStr>) -> Result<()> {
        let name = name.as_ref();
        match self.kind(name)? {
            None => return Ok(()),
            Some(Kind::Dir) => {}
            Some(_) => return self.remove_file(name).map(drop),
        }
        let sub = match self.sub_os(name) {
            Ok(Some(sub)) => sub,
            Ok(None) => return Ok(()),
            // Swapped for a link or file since: remove that, not its target.
            Err(Error::Symlink { .. } | Error::NotADirectory { .. }) => {
                return self.remove_file(name).map(drop);
            }
            Err(e) => return Err(e),
        };
        for entry in sub.entries()? {
            if entry.kind == Kind::Dir {
                sub.remove_tree(&entry.name)?;
            } else {
                sub.remove_file(&entry.name)?;
            }
        }
        match rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR) {
            Ok(()) => Ok(()),
            Err(e) if is(&e, Errno::NOENT) => Ok(()),
            Err(e) => Err(Error::io("remove", self.join(name))(e.into())),
        }
    }

    /// Renames `from` to `to` in this folder (whatever is at `from`, a link
    /// included, is moved itself).
    pub(crate) fn rename(&self, from: &str, to: &str) -> Result<()> {
        rustix::fs::renameat(&self.fd, from, &self.fd, to)
            .map_err(|e| Error::io("rename", self.join(from))(e.into()))
    }

    /// Renames `from` to `to` in this folder unless `to` exists; false when
    /// it does.
    pub(crate) fn rename_noreplace(&self, from: &str, to: &str) -> Result<bool> {
        match rustix::fs::renameat_with(
            &self.fd,
            from,
            &self.fd,
            to,
            rustix::fs::RenameFlags::NOREPLACE,
        ) {
            Ok(()) => Ok(true),
            Err(e) if is(&e, Errno::EXIST) || is(&e, Errno::NOTEMPTY) => Ok(false),
            Err(e) => Err(Error::io("rename into place", self.join(to))(e.into())),
        }
    }

    /// Every entry of this folder but `.` and `..`, with what it is (not
    /// following links).
    pub(crate) fn entries(&self) -> Result<Vec<Entry>> {
        let read_err = |e: Errno| Error::io("read", &self.path)(e.into());
        let listing = rustix::fs::Dir::read_from(&self.fd).map_err(read_err)?;
        let mut out = Vec::new();
        for entry in listing {
            let entry = entry.map_err(read_err)?;
            let bytes = entry.file_name().to_bytes();
            if bytes == b"." || bytes == b".." {
                continue;
            }
            let name = OsStr::from_bytes(bytes).to_owned();
            let kind = match entry.file_type() {
                FileType::Unknown => match self.kind(&name)? {
                    Some(kind) => kind,
                    None => continue,
                },
                t => Kind::of(t),
            };
            out.push(Entry { name, kind });
        }
        Ok(out)
    }

    /// The names of the folders here that are not hidden (`.`-prefixed) and
    /// are UTF-8: the button or drawer folders. Links are not folders.
    pub(crate) fn visible_subdirs(&self) -> Result<Vec<String>> {
        Ok(self
            .entries()?
            .into_iter()
            .filter(|e| e.kind == Kind::Dir)
            .filter_map(|e| e.name.into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .collect())
    }

    /// Removes the `.tmp-*` files and folders here older than [`STALE_TMP`]:
    /// left by a writer that was killed. Best effort: a failure here never
    /// fails the write that triggered it.
    pub(crate) fn sweep_stale_tmp(&self) {
        if let Ok(entries) = self.entries() {
            self.sweep_stale_tmp_of(&entries);
        }
    }

    /// [`Dir::sweep_stale_tmp`] over a listing of this folder already made.
    pub(crate) fn sweep_stale_tmp_of(&self, entries: &[Entry]) {
        let now = SystemTime::now();
        for entry in entries {
            if !entry.name.as_bytes().starts_with(TMP_PREFIX.as_bytes()) {
                continue;
            }
            let stale = self
                .modified(&entry.name)
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > STALE_TMP);
            if stale {
                let _ = self.remove_tree(&entry.name);
            }
        }
    }
}

/// Removes a temporary file on drop unless disarmed.
struct TempGuard<'a> {
    dir: &'a Dir,
    name: Option<&'a str>,
}

impl Drop for TempGuard<'_> {
    fn drop(&mut self) {
        if let Some(name) = self.name {
            // Nothing more can be done if this fails; the name starts with
            // `.tmp-` so it is never mistaken for real data.
            let _ = self.dir.remove_file(name);
        }
    }
}

/// A temporary folder `.tmp-*` in a folder, removed (through handles) on
/// drop unless disarmed.
pub(crate) struct TempDir<'a> {
    parent: &'a Dir,
    name: String,
    armed: bool,
}

impl<'a> TempDir<'a> {
    /// Creates `parent/.tmp-<what>-<unique>` (0700), first removing stale
    /// temporary entries of `parent`.
    pub(crate) fn create(parent: &'a Dir, what: &str) -> Result<(Self, Dir)> {
        parent.sweep_stale_tmp();
        let name = format!("{TMP_PREFIX}{what}-{}", unique_suffix());
        let dir = parent.ensure_sub(&name)?;
        Ok((
            Self {
                parent,
                name,
                armed: true,
            },
            dir,
        ))
    }

    /// Its name in the parent folder.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Keeps the folder (it was renamed into place).
    pub(crate) fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempDir<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.parent.remove_tree(&self.name);
        }
    }
}

/// What a non-regular file is, for messages.
fn describe(t: fs::FileType) -> &'static str {
    if t.is_dir() {
        "directory"
    } else if t.is_symlink() {
        "symbolic link"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else {
        "special file"
    }
}

/// Refuses an open file that is not a regular file.
fn check_regular(file: &File, path: &Path) -> Result<u64> {
    let meta = file.metadata().map_err(Error::io("read", path))?;
    if !meta.is_file() {
        return Err(Error::NotRegularFile {
            path: path.to_owned(),
            kind: describe(meta.file_type()),
        });
    }
    Ok(meta.size())
}

/// Reads an open file that must be regular, at most `cap` bytes.
fn read_regular(file: File, path: &Path, cap: u64) -> Result<Vec<u8>> {
    check_regular(&file, path)?;
    read_capped(file, path, cap)
}

/// Reads an open regular file, at most `cap` bytes ([`Error::TooLarge`]
/// beyond).
pub(crate) fn read_capped(file: File, path: &Path, cap: u64) -> Result<Vec<u8>> {
    let size = file.metadata().map_err(Error::io("read", path))?.size();
    if size > cap {
        return Err(Error::TooLarge {
            path: path.to_owned(),
            limit: cap,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // One byte more than the cap tells a file that grew past it meanwhile.
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(Error::io("read", path))?;
    if bytes.len() as u64 > cap {
        return Err(Error::TooLarge {
            path: path.to_owned(),
            limit: cap,
        });
    }
    Ok(bytes)
}

/// Reads the regular file at `path` (non-blocking open, at most `cap`
/// bytes); `None` when it does not exist. With `follow` false a link at the
/// last component is refused ([`Error::NotRegularFile`]); with it true (a
/// file the user named, outside the data directory) the link is followed but
/// its target must be a regular file too.
pub(crate) fn read_path(path: &Path, cap: u64, follow: bool) -> Result<Option<Vec<u8>>> {
    let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    if !follow {
        flags |= OFlags::NOFOLLOW;
    }
    let fd = match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(e) if is(&e, Errno::NOENT) => return Ok(None),
        Err(e) if !follow && is(&e, Errno::LOOP) => {
            return Err(Error::NotRegularFile {
                path: path.to_owned(),
                kind: "symbolic link",
            });
        }
        Err(e) => return Err(Error::io("read", path)(e.into())),
    };
    read_regular(File::from(fd), path, cap).map(Some)
}

/// Opens the regular file at `path` for reading without following a link at
/// its last component and without blocking (a FIFO, device or folder is
/// [`Error::NotRegularFile`]); `None` when it does not exist.
pub(crate) fn open_regular_path(path: &Path) -> Result<Option<File>> {
    let flags =
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let file = match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(fd) => File::from(fd),
        Err(e) if is(&e, Errno::NOENT) => return Ok(None),
        Err(e) if is(&e, Errno::LOOP) => {
            return Err(Error::NotRegularFile {
                path: path.to_owned(),
                kind: "symbolic link",
            });
        }
        Err(e) => return Err(Error::io("open", path)(e.into())),
    };
    check_regular(&file, path)?;
    Ok(Some(file))
}

/// Maps an error opening the root `path` onto clear variants.
fn classify_path(e: Errno, path: &Path, action: &'static str) -> Error {
    if is(&e, Errno::LOOP) || is(&e, Errno::NOTDIR) {
        match fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                return Error::Symlink {
                    path: path.to_owned(),
                };
            }
            Ok(m) if !m.is_dir() => {
                return Error::NotADirectory {
                    path: path.to_owned(),
                };
            }
            _ => {}
        }
    }
    Error::io(action, path)(e.into())
}

/// The permission bits of `path` (for tests).
#[cfg(test)]
pub(crate) fn tests_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
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
        let root = Dir::open_root(tmp.path()).unwrap().unwrap();
        symlink(outside.path(), tmp.path().join("pressed")).unwrap();
        assert!(matches!(
            root.ensure_sub("pressed"),
            Err(Error::Symlink { .. })
        ));
        assert!(matches!(
            root.ensure_walk(&["pressed", "x"]),
            Err(Error::Symlink { .. })
        ));
        symlink(outside.path().join("f.json"), tmp.path().join("f.json")).unwrap();
        assert!(matches!(
            root.create_file("f.json", b"x", FILE_MODE),
            Err(Error::Symlink { .. })
        ));
        assert!(matches!(
            root.read("f.json", 10),
            Err(Error::NotRegularFile { .. })
        ));
        // A rename over a link replaces the link, never writes its target.
        root.write_atomic("f.json", b"x", FILE_MODE, false).unwrap();
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
        assert_eq!(fs::read(tmp.path().join("f.json")).unwrap(), b"x");
    }

    #[test]
    fn atomic_write_replaces_and_sweeps_stale_temp_files() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Dir::open_root(tmp.path()).unwrap().unwrap();
        root.write_atomic("a", b"one", FILE_MODE, true).unwrap();
        let fresh = root.create_file(".tmp-fresh", b"s", FILE_MODE).unwrap();
        let old = root.create_file(".tmp-old", b"s", FILE_MODE).unwrap();
        old.set_modified(SystemTime::now() - 2 * STALE_TMP).unwrap();
        drop((fresh, old));
        let stale_dir = root.ensure_walk(&[".tmp-dir", "inner"]).unwrap();
        stale_dir.create_file("f", b"s", FILE_MODE).unwrap();
        File::open(tmp.path().join(".tmp-dir"))
            .unwrap()
            .set_modified(SystemTime::now() - 2 * STALE_TMP)
            .unwrap();
        root.write_atomic("a", b"two", FILE_MODE, false).unwrap();
        assert_eq!(fs::read(tmp.path().join("a")).unwrap(), b"two");
        let mut names: Vec<String> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [".tmp-fresh", "a"]);
    }

    #[test]
    fn reads_only_regular_files_up_to_the_cap() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Dir::open_root(tmp.path()).unwrap().unwrap();
        fs::write(tmp.path().join("big"), vec![b'x'; 11]).unwrap();
        assert!(matches!(
            root.read("big", 10),
            Err(Error::TooLarge { limit: 10, .. })
        ));
        assert_eq!(root.read("big", 11).unwrap().unwrap().len(), 11);
        fs::create_dir(tmp.path().join("d.json")).unwrap();
        assert!(matches!(
            root.read("d.json", 10),
            Err(Error::NotRegularFile {
                kind: "directory",
                ..
            })
        ));
        symlink("/dev/zero", tmp.path().join("zero")).unwrap();
        assert!(matches!(
            read_path(&tmp.path().join("zero"), 10, true),
            Err(Error::NotRegularFile {
                kind: "character device",
                ..
            })
        ));
        assert!(root.read("missing", 10).unwrap().is_none());
    }

    #[test]
    fn remove_tree_never_follows_links() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("keep"), "k").unwrap();
        let root = Dir::open_root(tmp.path()).unwrap().unwrap();
        let d = root.ensure_walk(&["d", "e"]).unwrap();
        d.create_file("f", b"x", FILE_MODE).unwrap();
        symlink(outside.path(), tmp.path().join("d/link")).unwrap();
        root.remove_tree("d").unwrap();
        assert!(!tmp.path().join("d").exists());
        assert!(outside.path().join("keep").exists());
    }
}
