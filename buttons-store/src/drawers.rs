//! Drawers: `drawers/<name>/` with `drawer.json`, `AGENTS.md` and `pressed/`
//! run records, under the same privacy rules as buttons.

use std::fs;

use buttons_spec::{Button, ButtonName, Drawer, DrawerLookup, Timestamp};
use camino::Utf8PathBuf;
use serde_json::Value;

use crate::buttons::{AGENTS_FILE, MAX_SPEC_BYTES, PRESSED_DIR, SCAFFOLD_MARKER};
use crate::error::{Error, Result};
use crate::private_fs::{self, Dir, FILE_MODE, Kind, TMP_PREFIX, TempDir};
use crate::records::{MAX_RECORD_BYTES, MAX_RECORDS, RunId, utf8};
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
    /// The name must be a valid [`ButtonName`]; everything goes through
    /// folder handles that never follow a link.
    pub fn create_drawer(&self, drawer: &Drawer) -> Result<Drawer> {
        let name = ButtonName::new(&drawer.name)?;
        if fs::symlink_metadata(self.button_dir(&name)).is_ok() {
            return Err(Error::NameTaken {
                name: name.to_string(),
                by: "button",
            });
        }
        let dir = self.ensure_root_handle()?.ensure_sub(DRAWERS_DIR)?;
        let taken = || Error::NameTaken {
            name: name.to_string(),
            by: "drawer",
        };
        if dir.kind(name.as_str())?.is_some() {
            return Err(taken());
        }
        let (tmp, tmp_dir) = TempDir::create(&dir, &format!("create-{name}"))?;
        tmp_dir.create_file(DRAWER_FILE, drawer.to_json().as_bytes(), FILE_MODE)?;
        let agents = format!(
            "{SCAFFOLD_MARKER}\n# {name}\n\nA drawer: a workflow of buttons. Press it with `buttons drawer {name} press`.\n"
        );
        tmp_dir.create_file(AGENTS_FILE, agents.as_bytes(), FILE_MODE)?;
        tmp_dir.ensure_sub(PRESSED_DIR)?;
        drop(tmp_dir);
        if !dir.rename_noreplace(tmp.name(), name.as_str())? {
            return Err(taken());
        }
        tmp.disarm();
        Ok(drawer.clone())
    }

    /// A handle on a drawer's folder (never through a link);
    /// `DRAWER_NOT_FOUND` when there is none.
    fn drawer_handle(&self, name: &ButtonName) -> Result<Dir> {
        self.handle(&[DRAWERS_DIR, name.as_str()])?
            .ok_or_else(|| Error::DrawerNotFound {
                name: name.to_string(),
            })
    }

    /// Reads a drawer (`DRAWER_NOT_FOUND` when there is none).
    ///
    /// # Security
    ///
    /// `drawer.json` is read through folder handles that never follow a
    /// link, opened non-blocking, and must be a regular file of at most
    /// [`MAX_SPEC_BYTES`] (else `VALIDATION_ERROR` naming it).
    pub fn load_drawer(&self, name: &ButtonName) -> Result<Drawer> {
        load_drawer_in(&self.drawer_handle(name)?, name)
    }

    /// Writes a drawer back atomically with `updated_at` set to `now`;
    /// unknown fields are kept. It takes the drawer's lock; for a
    /// read-modify-write use [`Store::update_drawer`].
    pub fn save_drawer(&self, drawer: &Drawer, now: Timestamp) -> Result<Drawer> {
        let name = ButtonName::new(&drawer.name)?;
        let dir = self.drawer_handle(&name)?;
        dir.lock()?;
        save_drawer_in(&dir, &name, drawer, now)
    }

    /// Read-modify-write of a drawer under its exclusive lock: loads it,
    /// applies `change` (nothing is written when it fails), and saves it
    /// with `updated_at` set to `now`. Concurrent updates never lose one
    /// another's change.
    pub fn update_drawer<E: From<Error>>(
        &self,
        name: &ButtonName,
        now: Timestamp,
        change: impl FnOnce(&mut Drawer) -> std::result::Result<(), E>,
    ) -> std::result::Result<Drawer, E> {
        let dir = self.drawer_handle(name)?;
        dir.lock()?;
        let mut drawer = load_drawer_in(&dir, name)?;
        change(&mut drawer)?;
        drawer.name = name.to_string();
        Ok(save_drawer_in(&dir, name, &drawer, now)?)
    }

    /// Every drawer, sorted by name.
    pub fn list_drawers(&self) -> Result<Vec<ListedDrawer>> {
        let mut out = Vec::new();
        let Some(dir) = self.handle(&[DRAWERS_DIR])? else {
            return Ok(out);
        };
        for name in dir.visible_subdirs()? {
            let drawer = ButtonName::new(&name)
                .map_err(Error::from)
                .and_then(|n| self.load_drawer(&n));
            out.push(ListedDrawer { name, drawer });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Deletes a drawer and its run records (renamed aside first, removed
    /// through handles: a link is refused or removed itself, never followed).
    pub fn delete_drawer(&self, name: &ButtonName) -> Result<()> {
        let not_found = || Error::DrawerNotFound {
            name: name.to_string(),
        };
        let dir = self.handle(&[DRAWERS_DIR])?.ok_or_else(not_found)?;
        match dir.kind(name.as_str())? {
            Some(Kind::Dir) => {}
            Some(Kind::Symlink) => {
                return Err(Error::Symlink {
                    path: dir.join(name.as_str()),
                });
            }
            Some(_) => {
                return Err(Error::NotADirectory {
                    path: dir.join(name.as_str()),
                });
            }
            None => return Err(not_found()),
        }
        dir.sweep_stale_tmp();
        let aside = format!("{TMP_PREFIX}delete-{name}-{}", private_fs::unique_suffix());
        dir.rename(name.as_str(), &aside)?;
        dir.remove_tree(&aside)
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
        let dir = self.drawer_handle(name)?.ensure_sub(PRESSED_DIR)?;
        let mut json = serde_json::to_string_pretty(record).expect("JSON always serializes");
        json.push('\n');
        let path = dir.write_atomic(&id.record_file(), json.as_bytes(), FILE_MODE, true)?;
        let mut names = record_names(&dir)?;
        if names.len() > MAX_RECORDS {
            names.sort();
            for old in &names[..names.len() - MAX_RECORDS] {
                dir.remove_file(old)?;
            }
        }
        Ok(utf8(path))
    }

    /// The newest `limit` run records of a drawer, newest first (unreadable
    /// ones skipped).
    pub fn drawer_runs(&self, name: &ButtonName, limit: usize) -> Result<Vec<DrawerRun>> {
        let Some(dir) = self.handle(&[DRAWERS_DIR, name.as_str(), PRESSED_DIR])? else {
            return Ok(Vec::new());
        };
        let mut names = record_names(&dir)?;
        names.sort();
        names.reverse();
        let mut out = Vec::new();
        for file in names {
            if out.len() >= limit {
                break;
            }
            let Ok(Some(bytes)) = dir.read(&file, MAX_RECORD_BYTES) else {
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

fn load_drawer_in(dir: &Dir, name: &ButtonName) -> Result<Drawer> {
    let path = dir.join(DRAWER_FILE);
    let bytes = dir
        .read(DRAWER_FILE, MAX_SPEC_BYTES)?
        .ok_or_else(|| Error::DrawerNotFound {
            name: name.to_string(),
        })?;
    let mut drawer = Drawer::from_json(&bytes).map_err(|e| Error::Corrupt {
        path,
        source: Box::new(e),
    })?;
    if drawer.name.is_empty() {
        drawer.name = name.to_string();
    }
    Ok(drawer)
}

fn save_drawer_in(dir: &Dir, name: &ButtonName, drawer: &Drawer, now: Timestamp) -> Result<Drawer> {
    if dir.kind(DRAWER_FILE)?.is_none() {
        return Err(Error::DrawerNotFound {
            name: name.to_string(),
        });
    }
    let mut drawer = drawer.clone();
    drawer.updated_at = Some(now);
    dir.write_atomic(DRAWER_FILE, drawer.to_json().as_bytes(), FILE_MODE, true)?;
    Ok(drawer)
}

fn record_names(dir: &Dir) -> Result<Vec<String>> {
    Ok(dir
        .entries()?
        .into_iter()
        .filter_map(|e| e.name.into_string().ok())
        .filter(|n| !n.starts_with('.') && n.ends_with(".json"))
        .collect())
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
