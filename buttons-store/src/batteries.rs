//! Batteries: `batteries.json` in the data directory (local) and in
//! `~/.buttons/` (global); local wins. With `BUTTONS_HOME` set there is one
//! file, `$BUTTONS_HOME/batteries.json`, and it is the global one (as in the
//! Go tool). The file is the Go tool's envelope
//! `{"schema_version": 1, "batteries": {...}}`; a legacy flat map is read too.

use std::fmt;
use std::path::PathBuf;

use buttons_spec::{Batteries, BatteriesFile};

use crate::error::{Error, Result};
use crate::private_fs::{Dir, FILE_MODE};
use crate::store::{Store, ensure_gitignore_tmp};

/// The batteries file name.
pub const BATTERIES_FILE: &str = "batteries.json";

/// The largest `batteries.json` read: 1 MiB.
pub const MAX_BATTERIES_BYTES: u64 = 1024 * 1024;

/// Which `batteries.json` a battery lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// `~/.buttons/batteries.json`, seen from every project; with
    /// `BUTTONS_HOME` set, `$BUTTONS_HOME/batteries.json`.
    Global,
    /// A project's own `.buttons/batteries.json`; overrides global. There is
    /// no local scope when the data directory is the global one (always so
    /// with `BUTTONS_HOME` set): see [`Store::scope`].
    Local,
}

impl Scope {
    /// `global` or `local`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Local => "local",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Store {
    /// The directory holding `scope`'s file. When the data directory is the
    /// global one (or no home is known) both scopes are the data directory.
    fn scope_dir(&self, scope: Scope) -> PathBuf {
        match (scope, &self.global) {
            (Scope::Global, Some(global)) => global.clone(),
            _ => self.root.clone().into_std_path_buf(),
        }
    }

    /// The scope `set` and `rm` use without `--global`/`--local`: local when
    /// the data directory is a project's, global otherwise.
    pub fn default_scope(&self) -> Scope {
        if self.global.is_some() {
            Scope::Local
        } else {
            Scope::Global
        }
    }

    /// The scope a request for `requested` (or for the default, `None`)
    /// lands in. Where there is only one file (the data directory is the
    /// global one, as always with `BUTTONS_HOME` set) that is
    /// [`Scope::Global`], whatever was asked for: a local request writes the
    /// same single file.
    pub fn scope(&self, requested: Option<Scope>) -> Scope {
        match requested {
            _ if !self.has_separate_global() => Scope::Global,
            Some(scope) => scope,
            None => self.default_scope(),
        }
    }

    /// Whether the two scopes are distinct files.
    pub fn has_separate_global(&self) -> bool {
        self.global.is_some()
    }

    /// The `batteries.json` of one scope.
    pub fn batteries_path(&self, scope: Scope) -> PathBuf {
        self.scope_dir(scope).join(BATTERIES_FILE)
    }

    /// Reads one scope's batteries (empty when the file does not exist).
    ///
    /// Both the Go tool's envelope and the flat map earlier versions of this
    /// project wrote are read; see [`BatteriesFile::from_json`].
    pub fn batteries(&self, scope: Scope) -> Result<Batteries> {
        Ok(self.batteries_file(scope)?.batteries)
    }

    fn batteries_file(&self, scope: Scope) -> Result<BatteriesFile> {
        match Dir::open_root(&self.scope_dir(scope))? {
            Some(dir) => read_batteries(&dir),
            None => Ok(BatteriesFile::default()),
        }
    }

    /// Global batteries with local ones layered on top: what a press gets.
    pub fn merged_batteries(&self) -> Result<Batteries> {
        let local = self.batteries(Scope::Local)?;
        if !self.has_separate_global() {
            return Ok(local);
        }
        Ok(self.batteries(Scope::Global)?.merged_with(&local))
    }

    /// Every battery with the scope it comes from, sorted by key then scope
    /// (a local entry shadowing a global one follows it).
    pub fn battery_entries(&self) -> Result<Vec<(String, String, Scope)>> {
        let mut out = Vec::new();
        let scopes: &[Scope] = if self.has_separate_global() {
            &[Scope::Global, Scope::Local]
        } else {
            &[Scope::Global]
        };
        for &scope in scopes {
            for (k, v) in self.batteries(scope)?.iter() {
                out.push((k.to_owned(), v.to_owned(), scope));
            }
        }
        out.sort_by(|a, b| (&a.0, a.2).cmp(&(&b.0, b.2)));
        Ok(out)
    }

    /// Looks a battery up, local first.
    pub fn battery(&self, key: &str) -> Result<(String, Scope)> {
        buttons_spec::validate_battery_key(key)?;
        let mut scopes = vec![Scope::Local];
        if self.has_separate_global() {
            scopes.push(Scope::Global);
        }
        for scope in scopes {
            if let Some(v) = self.batteries(scope)?.get(key) {
                let scope = if self.has_separate_global() {
                    scope
                } else {
                    Scope::Global
                };
                return Ok((v.to_owned(), scope));
            }
        }
        Err(Error::BatteryNotFound {
            key: key.to_owned(),
        })
    }

    /// Sets a battery in one scope (file written atomically, mode 0600, as
    /// the envelope whatever shape it was read in). The read-modify-write
    /// holds the folder's exclusive lock: concurrent `set`s and `rm`s (in any
    /// process) never lose one another's change.
    pub fn set_battery(&self, scope: Scope, key: &str, value: &str) -> Result<()> {
        buttons_spec::validate_battery_key(key)?;
        self.update_batteries(scope, |file| {
            file.batteries.insert(key, value)?;
            Ok(())
        })
    }

    /// Removes a battery from one scope (`NOT_FOUND` if it is not there),
    /// under the same lock as [`Store::set_battery`].
    pub fn remove_battery(&self, scope: Scope, key: &str) -> Result<()> {
        buttons_spec::validate_battery_key(key)?;
        self.update_batteries(scope, |file| match file.batteries.remove(key) {
            Some(_) => Ok(()),
            None => Err(Error::BatteryNotFound {
                key: key.to_owned(),
            }),
        })
    }

    /// Read-modify-write of one scope's `batteries.json` under an exclusive
    /// lock of its folder; nothing is written when `change` fails.
    fn update_batteries(
        &self,
        scope: Scope,
        change: impl FnOnce(&mut BatteriesFile) -> Result<()>,
    ) -> Result<()> {
        let dir = self.scope_dir(scope);
        if dir != self.root {
            // The global directory gets the same ownership check as the data directory.
            Store::at(&dir)?;
        }
        let handle = Dir::ensure_root(&dir)?;
        ensure_gitignore_tmp(&handle);
        handle.lock()?;
        let mut file = read_batteries(&handle)?;
        change(&mut file)?;
        let json = file.to_json();
        handle.write_atomic(BATTERIES_FILE, json.as_bytes(), FILE_MODE, true)?;
        Ok(())
    }
}

/// Reads `batteries.json` in `dir` (non-blocking, never through a link, a
/// regular file of at most [`MAX_BATTERIES_BYTES`]); empty when missing.
fn read_batteries(dir: &Dir) -> Result<BatteriesFile> {
    let Some(bytes) = dir.read(BATTERIES_FILE, MAX_BATTERIES_BYTES)? else {
        return Ok(BatteriesFile::default());
    };
    BatteriesFile::from_json(&bytes).map_err(|e| match e {
        buttons_spec::Error::UnsupportedBatteriesSchema { .. } => Error::Spec(e),
        other => Error::Corrupt {
            path: dir.join(BATTERIES_FILE),
            source: Box::new(other),
        },
    })
}
