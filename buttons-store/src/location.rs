//! Where the data directory is: `BUTTONS_HOME`, the nearest `.buttons/`
//! walking up from the working directory, or `~/.buttons/`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The name of a data directory inside a project or a home directory.
pub const DATA_DIR_NAME: &str = ".buttons";

/// How the data directory was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// `BUTTONS_HOME` names it.
    Env,
    /// The nearest `.buttons/` above the working directory.
    Project,
    /// `~/.buttons/`.
    Home,
}

/// The resolved data directory, and the global one that global batteries
/// live in: `~/.buttons/`, or with `BUTTONS_HOME` set the data directory
/// itself (so there is no separate local scope, as in the Go tool).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The data directory every command reads and writes.
    pub root: PathBuf,
    /// How it was found.
    pub source: Source,
    /// Where global batteries live: `$BUTTONS_HOME` when that names the
    /// data directory, else `~/.buttons/` when a home directory is known.
    pub global: Option<PathBuf>,
}

impl Location {
    /// Resolves the data directory from explicit inputs: the value of
    /// `BUTTONS_HOME` (empty counts as unset; relative is taken from `cwd`),
    /// the working directory, and the home directory.
    ///
    /// The only I/O is checking which `.buttons` directories exist while
    /// walking up from `cwd`.
    pub fn resolve(buttons_home: Option<&OsStr>, cwd: &Path, home: Option<&Path>) -> Result<Self> {
        if let Some(dir) = buttons_home.filter(|d| !d.is_empty()) {
            let root = cwd.join(dir);
            return Ok(Self {
                global: Some(root.clone()),
                root,
                source: Source::Env,
            });
        }
        let global = home.map(|h| h.join(DATA_DIR_NAME));
        for dir in cwd.ancestors() {
            let candidate = dir.join(DATA_DIR_NAME);
            if candidate.is_dir() {
                let source = if global.as_deref() == Some(candidate.as_path()) {
                    Source::Home
                } else {
                    Source::Project
                };
                return Ok(Self {
                    root: candidate,
                    source,
                    global,
                });
            }
        }
        match global.clone() {
            Some(root) => Ok(Self {
                root,
                source: Source::Home,
                global,
            }),
            None => Err(Error::NoDataDir),
        }
    }

    /// [`Location::resolve`] with `BUTTONS_HOME`, the current directory and
    /// `HOME` from this process.
    pub fn from_env() -> Result<Self> {
        let cwd = std::env::current_dir().map_err(Error::io("read the current directory", "."))?;
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        Self::resolve(
            std::env::var_os("BUTTONS_HOME").as_deref(),
            &cwd,
            home.as_deref(),
        )
    }

    /// Whether the data directory is also the global one.
    pub fn is_global(&self) -> bool {
        self.global.as_deref() == Some(self.root.as_path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_order() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let project = tmp.path().join("proj");
        let deep = project.join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::create_dir_all(home.join(".buttons")).unwrap();

        let env = Location::resolve(Some(OsStr::new("x")), &deep, Some(&home)).unwrap();
        // BUTTONS_HOME is the global directory too: ~/.buttons plays no part.
        assert!(env.is_global());
        assert_eq!(
            (env.root, env.source, env.global),
            (deep.join("x"), Source::Env, Some(deep.join("x")))
        );

        let none = Location::resolve(Some(OsStr::new("")), &deep, Some(&home)).unwrap();
        assert_eq!(
            (none.root, none.source),
            (home.join(".buttons"), Source::Home)
        );

        std::fs::create_dir(project.join(".buttons")).unwrap();
        let proj = Location::resolve(None, &deep, Some(&home)).unwrap();
        assert_eq!(
            (proj.root, proj.source),
            (project.join(".buttons"), Source::Project)
        );
        assert_eq!(proj.global, Some(home.join(".buttons")));

        assert!(matches!(
            Location::resolve(None, Path::new("/nonexistent-dir-xyz"), None),
            Err(Error::NoDataDir)
        ));
    }
}
