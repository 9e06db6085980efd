//! Drawers: `drawers/<name>/` with `drawer.json`, `AGENTS.md` and `pressed/`
//! run records, under the same privacy rules as buttons.

use std::fs;
use std::io;

use buttons_spec::{Button, ButtonName, Drawer, DrawerLookup, Timestamp};
use camino::Utf8PathBuf;
use serde_json::Value;

use crate::buttons::{AGENTS_FILE, PRESSED_DIR, SCAFFOLD_MARKER};
use crate::error::{Error, Result};
use crate::private_fs::{self, FILE_MODE, TMP_PREFIX};
use crate::records::{MAX_RECORDS, RunId, utf8};
use crate::store::Store;

/// The folder of drawers inside the data directory.
pub const DRAWERS_DIR: &str = "drawers";

/// The spec file in a drawer folder.
pub const DRAWER_FILE: &str = "drawer.json";

/// One entry of [`Store::list_drawers`]: a drawer, or why it could not be read.
#[derive(Debug)]
pub struct ListedDrawer {
    /// The folder name.
    pub name: String,
    /// The parsed drawer, or the error reading it.
    pub drawer: Result<Drawer>,
}

/// A drawer run record read back: its id and JSON.
#[derive(Debug, Clone)]
pub struct DrawerRun {
    /// The run's id (the file's stem).
    pub id: String,
    /// The record.
    pub record: Value,
}

impl Store {
    /// The `drawers/` folder.
    pub fn drawers_dir(&self) -> Utf8PathBuf {
        self.root().join(DRAWERS_DIR)
    }

    /// The folder of a drawer (one safe path component below `drawers/`).
    pub fn drawer_dir(&self, name: &ButtonName) -> Utf8PathBuf {
        self.drawers_dir().join(name.as_str())
    }

    /// Whether a drawer of that name exists (a folder, link or not).
    pub fn drawer_exists(&self, name: &ButtonName) -> bool {
        fs::symlink_metadata(self.drawer_dir(name)).is_ok()
    }

    /// Creates a drawer: `drawer.json` (0600), a scaffold `AGENTS.md` and an
    /// empty `pressed/` (0700), written in a temporary folder and renamed
    /// into place. A name taken by a button or a drawer is refused.
    ///
    /// # Security
    ///
    /// The name must be a valid [`ButtonName`]; no write follows a link.
    pub fn create_drawer(&self, drawer: &Drawer) -> Result<Drawer> {
        let name = ButtonName::new(&drawer.name)?;
        if fs::symlink_metadata(self.button_dir(&name)).is_ok() {
            return Err(Error::NameTaken {
                name: name.to_string(),
                by: "button",
            });
        }
        let dir = private_fs::ensure_dirs(self.root().as_std_path(), &[DRAWERS_DIR])?;
        let target = dir.join(name.as_str());
        if fs::symlink_metadata(&target).is_ok() {
            return Err(Error::NameTaken {
                name: name.to_string(),
                by: "drawer",
            });
        }
        let tmp = dir.join(format!(
            "{TMP_PREFIX}create-{name}-{}",
            private_fs::unique_suffix()
        ));
        private_fs::ensure_dir(&tmp)?;
        let guard = RemoveOnDrop(Some(tmp.clone()));
        private_fs::create_file(
            &tmp.join(DRAWER_FILE),
            drawer.to_json().as_bytes(),
            FILE_MODE,
        )?;
        let agents = format!(
            "{SCAFFOLD_MARKER}\n# {name}\n\nA drawer: a workflow of buttons. Press it with `buttons drawer {name} press`.\n"
        );
        private_fs::create_file(&tmp.join(AGENTS_FILE), agents.as_bytes(), FILE_MODE)?;
        private_fs::ensure_dir(&tmp.join(PRESSED_DIR))?;
        let handle = private_fs::open_dir(&dir)?;
        let from = tmp.strip_prefix(&dir).expect("the temp dir is in drawers/");
        match nix::fcntl::renameat2(
            &handle,
            from,
            &handle,
            name.as_str(),
            nix::fcntl::RenameFlags::RENAME_NOREPLACE,
        ) {
            Ok(()) => {
                let mut guard = guard;
                guard.0 = None;
            }
            Err(nix::errno::Errno::EEXIST | nix::errno::Errno::ENOTEMPTY) => {
                return Err(Error::NameTaken {
                    name: name.to_string(),
                    by: "drawer",
                });
            }
            Err(e) => return Err(Error::io("rename into place", &target)(e.into())),
        }
        Ok(drawer.clone())
    }

    /// Reads a drawer (`DRAWER_NOT_FOUND` when there is none).
    pub fn load_drawer(&self, name: &ButtonName) -> Result<Drawer> {
        let path = self.drawer_dir(name).join(DRAWER_FILE);
        let bytes = private_fs::read_optional_nofollow(path.as_std_path())?.ok_or_else(|| {
            Error::DrawerNotFound {
                name: name.to_string(),
            }
        })?;
        let mut drawer = Drawer::from_json(&bytes).map_err(|e| Error::Corrupt {
            path: path.into(),
            source: Box::new(e),
        })?;
        if drawer.name.is_empty() {
            drawer.name = name.to_string();
        }
        Ok(drawer)
    }

    /// Writes a drawer back atomically with `updated_at` set to `now`;
    /// unknown fields are kept.
    pub fn save_drawer(&self, drawer: &Drawer, now: Timestamp) -> Result<Drawer> {
        let name = ButtonName::new(&drawer.name)?;
        let dir = self.drawer_dir(&name);
        private_fs::open_dir(dir.as_std_path())?;
        if fs::symlink_metadata(dir.join(DRAWER_FILE)).is_err() {
            return Err(Error::DrawerNotFound {
                name: name.to_string(),
            });
        }
        let mut drawer = drawer.clone();
        drawer.updated_at = Some(now);
        private_fs::write_atomic(
            dir.as_std_path(),
            DRAWER_FILE,
            drawer.to_json().as_bytes(),
            FILE_MODE,
            true,
        )?;
        Ok(drawer)
    }

    /// Read-modify-write of a drawer: loads it, applies `change`, and saves
    /// it with `updated_at` bumped to `now` (`change` may refuse with an
    /// error of its own, and then nothing is written).
    pub fn update_drawer<E: From<Error>>(
        &self,
        name: &ButtonName,
        now: Timestamp,
        change: impl FnOnce(&mut Drawer) -> std::result::Result<(), E>,
    ) -> std::result::Result<Drawer, E> {
        let mut drawer = self.load_drawer(name)?;
        change(&mut drawer)?;
        drawer.name = name.to_string();
        Ok(self.save_drawer(&drawer, now)?)
    }

    /// Every drawer, sorted by name.
    pub fn list_drawers(&self) -> Result<Vec<ListedDrawer>> {
        let mut out = Vec::new();
        for name in private_fs::visible_subdirs(self.drawers_dir().as_std_path())? {
            let drawer = ButtonName::new(&name)
                .map_err(Error::from)
                .and_then(|n| self.load_drawer(&n));
            out.push(ListedDrawer { name, drawer });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Deletes a drawer and its run records (renamed aside first).
    pub fn delete_drawer(&self, name: &ButtonName) -> Result<()> {
        let dir = self.drawer_dir(name);
        match fs::symlink_metadata(&dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(Error::NotADirectory { path: dir.into() }),
            Err(_) => {
                return Err(Error::DrawerNotFound {
                    name: name.to_string(),
                });
            }
        }
        let aside = self.drawers_dir().join(format!(
            "{TMP_PREFIX}delete-{name}-{}",
            private_fs::unique_suffix()
        ));
        fs::rename(&dir, &aside).map_err(Error::io("move aside", &dir))?;
        fs::remove_dir_all(&aside).map_err(Error::io("remove", &aside))
    }

    /// Writes a drawer run record `drawers/<name>/pressed/<id>.json`
    /// atomically (0600 in a 0700 folder), then keeps the newest
    /// [`MAX_RECORDS`]. The caller masks secrets and caps outputs first.
    pub fn write_drawer_run(
        &self,
        name: &ButtonName,
        id: &RunId,
        record: &Value,
    ) -> Result<Utf8PathBuf> {
        if !self.drawer_exists(name) {
            return Err(Error::DrawerNotFound {
                name: name.to_string(),
            });
        }
        let dir = private_fs::ensure_dirs(
            self.root().as_std_path(),
            &[DRAWERS_DIR, name.as_str(), PRESSED_DIR],
        )?;
        let mut json = serde_json::to_string_pretty(record).expect("JSON always serializes");
        json.push('\n');
        let path =
            private_fs::write_atomic(&dir, &id.record_file(), json.as_bytes(), FILE_MODE, true)?;
        let mut names = record_names(&dir)?;
        if names.len() > MAX_RECORDS {
            names.sort();
            for old in &names[..names.len() - MAX_RECORDS] {
                match fs::remove_file(dir.join(old)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io("remove", dir.join(old))(e)),
                }
            }
        }
        Ok(utf8(path))
    }

    /// The newest `limit` run records of a drawer, newest first (unreadable
    /// ones skipped).
    pub fn drawer_runs(&self, name: &ButtonName, limit: usize) -> Result<Vec<DrawerRun>> {
        let dir = self.drawer_dir(name).join(PRESSED_DIR);
        let mut names = match record_names(dir.as_std_path()) {
            Ok(n) => n,
            Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        };
        names.sort();
        names.reverse();
        let mut out = Vec::new();
        for file in names {
            if out.len() >= limit {
                break;
            }
            let Ok(Some(bytes)) = private_fs::read_optional_nofollow(dir.join(&file).as_std_path())
            else {
                continue;
            };
            if let Ok(record) = serde_json::from_slice(&bytes) {
                out.push(DrawerRun {
                    id: file.trim_end_matches(".json").to_owned(),
                    record,
                });
            }
        }
        Ok(out)
    }
}

fn record_names(dir: &std::path::Path) -> Result<Vec<String>> {
    let entries = fs::read_dir(dir).map_err(Error::io("read", dir))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(Error::io("read", dir))?;
        if let Ok(name) = entry.file_name().into_string()
            && !name.starts_with('.')
            && name.ends_with(".json")
        {
            out.push(name);
        }
    }
    Ok(out)
}

struct RemoveOnDrop(Option<std::path::PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            let _ = fs::remove_dir_all(p);
        }
    }
}

/// Looks buttons and drawers up for the drawer validator.
impl DrawerLookup for Store {
    fn button(&self, name: &str) -> Option<Button> {
        let name = ButtonName::from_user(name).ok()?;
        self.load(&name).ok()
    }

    fn drawer(&self, name: &str) -> Option<Drawer> {
        let name = ButtonName::from_user(name).ok()?;
        self.load_drawer(&name).ok()
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use buttons_spec::DrawerKind;

    use super::*;
    use crate::{CodeSource, NewButton};

    fn mode(p: &std::path::Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn create_is_private_whatever_the_umask_and_names_are_shared() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::at(tmp.path().join("d")).unwrap();
        let old = nix::sys::stat::umask(nix::sys::stat::Mode::empty());
        let made = store.create_drawer(&Drawer::new(
            "flow1",
            DrawerKind::Action,
            Timestamp::UNIX_EPOCH,
        ));
        nix::sys::stat::umask(old);
        made.unwrap();
        let dir = store.drawer_dir(&ButtonName::new("flow1").unwrap());
        assert_eq!(mode(dir.as_std_path()), 0o700);
        assert_eq!(mode(dir.join(DRAWER_FILE).as_std_path()), 0o600);
        assert_eq!(mode(dir.join(PRESSED_DIR).as_std_path()), 0o700);
        // A button may not take a drawer's name, nor a drawer a button's.
        let n = ButtonName::new("flow1").unwrap();
        let err = store
            .create(NewButton {
                button: Button::new(&n, Timestamp::UNIX_EPOCH),
                code: CodeSource::Scaffold,
                prompt: None,
            })
            .unwrap_err();
        assert!(
            matches!(err, Error::NameTaken { by: "drawer", .. }),
            "{err:?}"
        );
        let b = ButtonName::new("btn").unwrap();
        store
            .create(NewButton {
                button: Button::new(&b, Timestamp::UNIX_EPOCH),
                code: CodeSource::Scaffold,
                prompt: None,
            })
            .unwrap();
        let err = store
            .create_drawer(&Drawer::new(
                "btn",
                DrawerKind::Action,
                Timestamp::UNIX_EPOCH,
            ))
            .unwrap_err();
        assert!(
            matches!(err, Error::NameTaken { by: "button", .. }),
            "{err:?}"
        );
    }

    #[test]
    fn unknown_fields_survive_save() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::at(tmp.path().join("d")).unwrap();
        store
            .create_drawer(&Drawer::new("x", DrawerKind::Action, Timestamp::UNIX_EPOCH))
            .unwrap();
        let n = ButtonName::new("x").unwrap();
        let path = store.drawer_dir(&n).join(DRAWER_FILE);
        fs::write(&path, r#"{"name":"x","steps":[],"go_field":{"a":1}}"#).unwrap();
        let d = store.load_drawer(&n).unwrap();
        store.save_drawer(&d, Timestamp::UNIX_EPOCH).unwrap();
        let back: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(back["go_field"], serde_json::json!({"a": 1}));
    }

    #[test]
    fn refuses_a_linked_drawer_file_and_keeps_100_runs() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::at(tmp.path().join("d")).unwrap();
        store
            .create_drawer(&Drawer::new("x", DrawerKind::Action, Timestamp::UNIX_EPOCH))
            .unwrap();
        let n = ButtonName::new("x").unwrap();
        for i in 0..105 {
            let id = RunId::new(Timestamp::from_second(i).unwrap());
            store
                .write_drawer_run(&n, &id, &serde_json::json!({"i": i}))
                .unwrap();
        }
        let runs = store.drawer_runs(&n, 1000).unwrap();
        assert_eq!(runs.len(), MAX_RECORDS);
        assert_eq!(runs[0].record["i"], 104);
        let path = store.drawer_dir(&n).join(DRAWER_FILE);
        let secret = tmp.path().join("secret.json");
        fs::write(&secret, r#"{"name":"x","steps":[]}"#).unwrap();
        fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&secret, &path).unwrap();
        assert!(store.load_drawer(&n).is_err());
    }
}
