//! The store: one data directory, opened with its permissions checked.

use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use camino::{Utf8Path, Utf8PathBuf};

use crate::error::{Error, Result};
use crate::location::Location;
use crate::private_fs::{DIR_MODE, Dir, FILE_MODE};

/// The folder of buttons inside the data directory.
pub const BUTTONS_DIR: &str = "buttons";

/// Lines `init` makes sure `.gitignore` has: the secret-bearing files.
pub const GITIGNORE_LINES: &[&str] = &[
    "batteries.json",
    "history.json",
    "webhook.json",
    "agent.json",
    "buttons/*/pressed/",
    "drawers/*/pressed/",
    "idempotency/",
    "queues/",
    ".tmp-*",
    ".webhook-routes.lock",
];

/// The largest `.gitignore` read (1 MiB).
const MAX_GITIGNORE_BYTES: u64 = 1024 * 1024;

const AGENTS_MD: &str = "\
# Buttons

This folder holds buttons: named, typed actions an agent or a person can press.

- `buttons list` shows them; `buttons NAME` shows one.
- `buttons press NAME --arg key=value` runs one and prints a JSON result when
  piped (`{\"ok\": true, \"data\": {...}}` or `{\"ok\": false, \"error\": {\"code\", \"message\"}}`).
- `buttons create NAME --code '...' --arg key:string:required` makes one.
- Each button is `buttons/NAME/` with `button.json`, its code (`main.sh`,
  `main.py` or `main.js`) and `AGENTS.md`. Scripts read arguments from
  `BUTTONS_ARG_<NAME>` environment variables and secrets from `BUTTONS_BAT_<KEY>`.
- Run records live in `buttons/NAME/pressed/` (git-ignored, private).
";

/// Something the store did that the user should hear about once.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// The data directory was group- or world-accessible and was tightened to 0700.
    Tightened {
        /// The data directory.
        path: PathBuf,
        /// Its mode before (permission bits).
        from_mode: u32,
    },
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tightened { path, from_mode } => write!(
                f,
                "tightened permissions of {} from {from_mode:04o} to 0700 (it held secrets readable by others)",
                path.display()
            ),
        }
    }
}

/// What to do about a pre-existing data directory, given its owner and mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RootCheck {
    /// Owned by us and private.
    Private,
    /// Owned by us but group/world accessible: tighten to 0700.
    Tighten,
    /// Owned by someone else: refuse.
    Foreign,
}

/// Decides about a data directory owned by `owner` with permission bits
/// `mode`, for a process running as `me`.
///
/// # Security
///
/// A data directory owned by another user could have been prepared by them
/// (with buttons they wrote, or links into their files): it is refused, never
/// "fixed".
pub fn check_root(owner: u32, mode: u32, me: u32) -> RootCheck {
    if owner != me {
        RootCheck::Foreign
    } else if mode & 0o077 != 0 {
        RootCheck::Tighten
    } else {
        RootCheck::Private
    }
}

/// One data directory: its buttons, batteries and run records.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) root: Utf8PathBuf,
    pub(crate) global: Option<PathBuf>,
    notice: Option<Notice>,
}

impl Store {
    /// Opens the data directory at `location` (it need not exist yet).
    ///
    /// An existing directory owned by us but accessible to others is
    /// tightened to 0700 ([`Store::notice`] says so); one owned by another user
    /// is refused.
    ///
    /// A data directory that is itself a symbolic link (a user's own choice,
    /// e.g. `~/.buttons` pointing into a dotfiles checkout) is resolved once
    /// here; links *inside* it are never followed when writing.
    pub fn open(location: &Location) -> Result<Self> {
        let notice = check_existing_root(&location.root)?;
        let resolved = fs::canonicalize(&location.root).unwrap_or_else(|_| location.root.clone());
        let root =
            Utf8PathBuf::from_path_buf(resolved).map_err(|path| Error::NonUtf8Path { path })?;
        // The global directory may be a link too (a dotfiles checkout): it is
        // resolved once here, as the data directory is, so that the handles
        // opened on it later (which never follow a link) accept it.
        let global = location
            .global
            .clone()
            .filter(|g| *g != location.root)
            .map(|g| fs::canonicalize(&g).unwrap_or(g));
        Ok(Self {
            global: global.filter(|g| g.as_path() != root.as_std_path()),
            root,
            notice,
        })
    }

    /// Opens the data directory at `root` with no global directory.
    pub fn at(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        Self::open(&Location {
            root,
            source: crate::Source::Env,
            global: None,
        })
    }

    /// The data directory.
    pub fn root(&self) -> &Utf8Path {
        &self.root
    }

    /// What opening the store changed, to tell the user once.
    pub fn notice(&self) -> Option<&Notice> {
        self.notice.as_ref()
    }

    /// The `buttons/` folder.
    pub fn buttons_dir(&self) -> Utf8PathBuf {
        self.root.join(BUTTONS_DIR)
    }

    /// A handle on the data directory; `None` when it does not exist yet.
    pub(crate) fn root_handle(&self) -> Result<Option<Dir>> {
        Dir::open_root(self.root.as_std_path())
    }

    /// A handle on the data directory, created (0700) if missing.
    pub(crate) fn ensure_root_handle(&self) -> Result<Dir> {
        Dir::ensure_root(self.root.as_std_path())
    }

    /// A handle on `parts` below the data directory (never through a link);
    /// `None` when one of them does not exist.
    pub(crate) fn handle(&self, parts: &[&str]) -> Result<Option<Dir>> {
        match self.root_handle()? {
            Some(root) => root.walk(parts),
            None => Ok(None),
        }
    }

    /// Creates the data directory and `buttons/` (0700) if missing, and
    /// returns a handle on `buttons/`. An existing `.gitignore` that lacks
    /// the temporary-file line gets it (an upgrade from an older version).
    pub(crate) fn ensure_buttons(&self) -> Result<Dir> {
        let root = self.ensure_root_handle()?;
        ensure_gitignore_tmp(&root);
        root.ensure_sub(BUTTONS_DIR)
    }

    /// Sets up the data directory: folders, `.gitignore` (missing lines are
    /// added, the user's own kept) and a short `AGENTS.md` (kept if present).
    pub fn init(&self) -> Result<InitReport> {
        let created = !self.root.exists();
        let root = self.ensure_root_handle()?;
        root.ensure_sub(BUTTONS_DIR)?;
        let existing = root
            .read(GITIGNORE, MAX_GITIGNORE_BYTES)?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let present: Vec<&str> = existing.lines().map(str::trim).collect();
        let missing: Vec<&str> = GITIGNORE_LINES
            .iter()
            .copied()
            .filter(|l| !present.contains(l))
            .collect();
        if !missing.is_empty() {
            let mut text = existing.clone();
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            if text.is_empty() {
                text.push_str(
                    "# Written by buttons init: secrets and run records stay out of git.\n",
                );
            }
            for line in &missing {
                text.push_str(line);
                text.push('\n');
            }
            root.write_atomic(GITIGNORE, text.as_bytes(), FILE_MODE, false)?;
        }
        let wrote_agents = match root.create_file("AGENTS.md", AGENTS_MD.as_bytes(), FILE_MODE) {
            Ok(_) => true,
            Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(e),
        };
        Ok(InitReport {
            root: self.root.clone(),
            created,
            gitignore_added: missing.iter().map(|s| (*s).to_owned()).collect(),
            wrote_agents_md: wrote_agents,
        })
    }
}

/// What `init` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitReport {
    /// The data directory.
    pub root: Utf8PathBuf,
    /// Whether it did not exist before.
    pub created: bool,
    /// Lines added to `.gitignore`.
    pub gitignore_added: Vec<String>,
    /// Whether `AGENTS.md` was written (it is never overwritten).
    pub wrote_agents_md: bool,
}

const GITIGNORE: &str = ".gitignore";

/// Adds the `.tmp-*` line to an existing `.gitignore` of the data directory
/// that lacks it (one written by an older version), so the temporary files
/// of writers that were killed are never offered for commit. Best effort; a
/// data directory without `.gitignore` (never `init`ed) is left alone.
pub(crate) fn ensure_gitignore_tmp(root: &Dir) {
    let Ok(Some(bytes)) = root.read(GITIGNORE, MAX_GITIGNORE_BYTES) else {
        return;
    };
    let text = String::from_utf8_lossy(&bytes);
    if text.lines().any(|l| l.trim() == TMP_LINE) {
        return;
    }
    let mut text = text.into_owned();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(TMP_LINE);
    text.push('\n');
    let _ = root.write_atomic(GITIGNORE, text.as_bytes(), FILE_MODE, false);
}

/// The `.gitignore` line covering temporary files and folders.
const TMP_LINE: &str = ".tmp-*";

fn check_existing_root(root: &Path) -> Result<Option<Notice>> {
    let meta = match fs::metadata(root) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", root)(e)),
    };
    if !meta.is_dir() {
        return Err(Error::NotADirectory {
            path: root.to_owned(),
        });
    }
    let me = nix::unistd::geteuid().as_raw();
    let mode = meta.permissions().mode() & 0o7777;
    match check_root(meta.uid(), mode, me) {
        RootCheck::Private => Ok(None),
        RootCheck::Foreign => Err(Error::ForeignOwner {
            path: root.to_owned(),
            owner: meta.uid(),
            me,
        }),
        RootCheck::Tighten => {
            fs::set_permissions(root, fs::Permissions::from_mode(DIR_MODE))
                .map_err(Error::io("set permissions of", root))?;
            Ok(Some(Notice::Tightened {
                path: root.to_owned(),
                from_mode: mode,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_decisions() {
        assert_eq!(check_root(1000, 0o700, 1000), RootCheck::Private);
        assert_eq!(check_root(1000, 0o755, 1000), RootCheck::Tighten);
        assert_eq!(check_root(1000, 0o710, 1000), RootCheck::Tighten);
        assert_eq!(check_root(0, 0o700, 1000), RootCheck::Foreign);
        assert_eq!(check_root(1000, 0o700, 0), RootCheck::Foreign);
    }

    #[test]
    fn tightens_loose_root_once() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("data");
        fs::create_dir(&root).unwrap();
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
        let store = Store::at(&root).unwrap();
        assert!(matches!(
            store.notice(),
            Some(Notice::Tightened {
                from_mode: 0o755,
                ..
            })
        ));
        assert_eq!(
            fs::metadata(&root).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert!(Store::at(&root).unwrap().notice().is_none());
    }

    #[test]
    fn refuses_foreign_root_when_we_can_chown() {
        // CI runs as root, which can hand a directory to `nobody`.
        if !nix::unistd::geteuid().is_root() {
            assert_eq!(
                check_root(65534, 0o700, nix::unistd::geteuid().as_raw()),
                RootCheck::Foreign
            );
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("data");
        fs::create_dir(&root).unwrap();
        std::os::unix::fs::chown(&root, Some(65534), Some(65534)).unwrap();
        let err = Store::at(&root).unwrap_err();
        assert!(
            matches!(err, Error::ForeignOwner { owner: 65534, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains(&root.display().to_string()));
        assert!(err.hint().unwrap().contains("chown"));
    }

    #[test]
    fn init_merges_gitignore() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("d");
        fs::create_dir(&root).unwrap();
        fs::write(root.join(".gitignore"), "my-own-line\nbatteries.json").unwrap();
        let store = Store::at(&root).unwrap();
        let report = store.init().unwrap();
        let text = fs::read_to_string(root.join(".gitignore")).unwrap();
        assert!(text.starts_with("my-own-line\nbatteries.json\n"), "{text}");
        for line in GITIGNORE_LINES {
            assert_eq!(text.lines().filter(|l| l == line).count(), 1, "{line}");
        }
        assert!(
            !report
                .gitignore_added
                .contains(&"batteries.json".to_owned())
        );
        assert!(report.wrote_agents_md);
        assert!(root.join("buttons").is_dir());
        let again = store.init().unwrap();
        assert!(again.gitignore_added.is_empty() && !again.wrote_agents_md);
    }
}
