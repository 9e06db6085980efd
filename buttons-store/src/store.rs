//! The store: one data directory, opened with its permissions checked.

use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use camino::{Utf8Path, Utf8PathBuf};

use crate::error::{Error, Result};
use crate::location::Location;
use crate::private_fs::{self, DIR_MODE, FILE_MODE};

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
];

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
        Ok(Self {
            global: location
                .global
                .clone()
                .filter(|g| *g != location.root && g.as_path() != root.as_std_path()),
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

    /// Creates the data directory and `buttons/` (0700) if missing.
    pub(crate) fn ensure_root(&self) -> Result<PathBuf> {
        private_fs::ensure_dirs(self.root.as_std_path(), &[BUTTONS_DIR])
    }

    /// Sets up the data directory: folders, `.gitignore` (missing lines are
    /// added, the user's own kept) and a short `AGENTS.md` (kept if present).
    pub fn init(&self) -> Result<InitReport> {
        let created = !self.root.exists();
        self.ensure_root()?;
        let gitignore = self.root.join(".gitignore");
        let existing = private_fs::read_optional(gitignore.as_std_path())?
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
            private_fs::write_atomic(
                self.root.as_std_path(),
                ".gitignore",
                text.as_bytes(),
                FILE_MODE,
                false,
            )?;
        }
        let agents = self.root.join("AGENTS.md");
        let wrote_agents =
            match private_fs::create_file(agents.as_std_path(), AGENTS_MD.as_bytes(), FILE_MODE) {
                Ok(_) => true,
                Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::AlreadyExists => {
                    false
                }
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
