//! Batteries: `batteries.json` in the data directory (local) and in
//! `~/.buttons/` (global). Local wins.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use buttons_spec::Batteries;

use crate::error::{Error, Result};
use crate::private_fs::{self, FILE_MODE};
use crate::store::Store;

/// The batteries file name.
pub const BATTERIES_FILE: &str = "batteries.json";

/// Which `batteries.json` a battery lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// `~/.buttons/batteries.json`, seen from every project.
    Global,
    /// The data directory's own `batteries.json`; overrides global.
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

    /// Whether the two scopes are distinct files.
    pub fn has_separate_global(&self) -> bool {
        self.global.is_some()
    }

    /// The `batteries.json` of one scope.
    pub fn batteries_path(&self, scope: Scope) -> PathBuf {
        self.scope_dir(scope).join(BATTERIES_FILE)
    }

    /// Reads one scope's batteries (empty when the file does not exist).
    pub fn batteries(&self, scope: Scope) -> Result<Batteries> {
        let path = self.batteries_path(scope);
        let Some(bytes) = private_fs::read_optional(&path)? else {
            return Ok(Batteries::new());
        };
        let corrupt = |source: Box<dyn std::error::Error + Send + Sync>| Error::Corrupt {
            path: path.clone(),
            source,
        };
        let map: BTreeMap<String, String> =
            serde_json::from_slice(&bytes).map_err(|e| corrupt(Box::new(e)))?;
        Batteries::from_map(map).map_err(|e| corrupt(Box::new(e)))
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

    /// Sets a battery in one scope (file written atomically, mode 0600).
    pub fn set_battery(&self, scope: Scope, key: &str, value: &str) -> Result<()> {
        let mut batteries = self.batteries(scope)?;
        batteries.insert(key, value)?;
        self.write_batteries(scope, &batteries)
    }

    /// Removes a battery from one scope (`NOT_FOUND` if it is not there).
    pub fn remove_battery(&self, scope: Scope, key: &str) -> Result<()> {
        buttons_spec::validate_battery_key(key)?;
        let mut batteries = self.batteries(scope)?;
        if batteries.remove(key).is_none() {
            return Err(Error::BatteryNotFound {
                key: key.to_owned(),
            });
        }
        self.write_batteries(scope, &batteries)
    }

    fn write_batteries(&self, scope: Scope, batteries: &Batteries) -> Result<()> {
        let dir = self.scope_dir(scope);
        if dir != self.root {
            // The global directory gets the same ownership check as the data directory.
            Store::at(&dir)?;
        }
        private_fs::ensure_root_dir(&dir)?;
        let mut json = serde_json::to_string_pretty(batteries.as_map())
            .expect("a string map always serializes");
        json.push('\n');
        private_fs::write_atomic(&dir, BATTERIES_FILE, json.as_bytes(), FILE_MODE, true)?;
        Ok(())
    }
}
