//! Active-run markers: `pressed/.active/<id>.running`, kept while a press
//! runs.
//!
//! A press writes its marker before it starts and removes it once its
//! record is written (or the press failed). A marker whose process is gone
//! (a crashed press) is never listed; the next press or `history` of the
//! button records its run as interrupted and removes it. The markers have a
//! folder of their own so that looking for them lists only the presses
//! under way, not the button's hundred records.

#[cfg(test)]
use std::fs;

use buttons_spec::{ButtonName, ErrorCode, PressResult, RunRecord, Timestamp};
use camino::Utf8PathBuf;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::private_fs::{Dir, Entry, FILE_MODE, Kind};
use crate::records::{RunId, utf8};
use crate::store::{BUTTONS_DIR, Store};

/// The largest marker read (they hold a few dozen bytes).
const MAX_MARKER_BYTES: u64 = 64 * 1024;

/// The extension of active-run markers: `pressed/.active/<id>.running`.
pub const MARKER_EXT: &str = ".running";

/// The folder of a button's active-run markers, inside `pressed/`.
pub const ACTIVE_DIR: &str = ".active";

/// A press under way, as its marker `pressed/.active/<id>.running` tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveRun {
    /// The process running the press.
    pub pid: u32,
    /// When the press started.
    pub started_at: Timestamp,
    /// The button's name.
    pub button: String,
    /// The run's id (the stem of its progress file and, later, its record).
    pub id: RunId,
}

pub(crate) fn is_marker_name(name: &str) -> bool {
    !name.starts_with('.') && name.ends_with(MARKER_EXT)
}

/// Whether a process with this pid exists (one we may not signal counts).
pub fn pid_alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    if raw <= 0 {
        return false;
    }
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None) {
        Ok(()) => true,
        Err(errno) => errno == nix::errno::Errno::EPERM,
    }
}

/// Reads the marker `file` of `active` (through its handle).
fn read_marker(active: &Dir, file: &str) -> Option<ActiveRun> {
    let bytes = active.read(file, MAX_MARKER_BYTES).ok()??;
    serde_json::from_slice(&bytes).ok()
}

/// Whether the marker `file` in `pressed/` (an old layout, before markers
/// had their own folder) may be removed by pruning: it cannot be read, or its
/// process is gone.
pub(crate) fn legacy_marker_is_removable(pressed: &Dir, file: &str) -> bool {
    read_marker(pressed, file).is_none_or(|run| !pid_alive(run.pid))
}

/// Whether `run` is still under way: its process lives and its record is
/// not in `pressed` yet.
fn live(pressed: &Dir, run: &ActiveRun) -> bool {
    pid_alive(run.pid) && matches!(pressed.kind(run.id.record_file()), Ok(None))
}

/// The markers among `entries` of `active` that name their button and their
/// own file, with their file names.
fn markers(active: &Dir, entries: &[Entry], button: &str) -> Vec<(String, ActiveRun)> {
    let mut out = Vec::new();
    for entry in entries {
        let Some(file) = entry.name_str() else {
            continue;
        };
        if !is_marker_name(file) {
            continue;
        }
        if let Some(run) = read_marker(active, file)
            && run.button == button
            && file.strip_suffix(MARKER_EXT) == Some(run.id.as_str())
        {
            out.push((file.to_owned(), run));
        }
    }
    out
}

impl RunId {
    /// The marker file's name: `<id>.running`.
    pub fn marker_file(&self) -> String {
        format!("{}{MARKER_EXT}", self.0)
    }
}

impl crate::records::Pressed {
    /// [`Store::mark_running`] in this folder (`name` is the button's).
    pub fn mark_running(
        &self,
        name: &ButtonName,
        id: &RunId,
        started_at: Timestamp,
    ) -> Result<Utf8PathBuf> {
        let run = ActiveRun {
            pid: std::process::id(),
            started_at,
            button: name.to_string(),
            id: id.clone(),
        };
        let json = serde_json::to_vec(&run).expect("an ActiveRun always serializes");
        let active = self.dir.ensure_sub(ACTIVE_DIR)?;
        let path = active.write_atomic_unswept(&id.marker_file(), &json, FILE_MODE)?;
        Ok(utf8(path))
    }

    /// [`Store::clear_running`] in this folder.
    pub fn clear_running(&self, id: &RunId) -> Result<()> {
        match self.dir.sub(ACTIVE_DIR)? {
            Some(active) => active.remove_file(id.marker_file()).map(drop),
            None => Ok(()),
        }
    }

    /// [`Store::recover_interrupted`] for this folder's button (`name`).
    pub fn recover_interrupted(&self, name: &ButtonName) -> Result<Vec<RunId>> {
        let Some(active) = self.dir.sub(ACTIVE_DIR)? else {
            return Ok(Vec::new());
        };
        // The one listing of `.active/` a press makes also removes the
        // temporary files of marker writers that were killed.
        let entries = active.entries()?;
        active.sweep_stale_tmp_of(&entries);
        let mut recovered = Vec::new();
        for (file, run) in markers(&active, &entries, name.as_str()) {
            if pid_alive(run.pid) {
                continue;
            }
            if matches!(self.dir.kind(run.id.record_file()), Ok(None)) {
                let mut result = PressResult::new(name.as_str(), run.started_at);
                result.fail(
                    ErrorCode::Interrupted,
                    format!(
                        "interrupted: the process running the press (pid {}) ended before \
                         it recorded the run",
                        run.pid
                    ),
                );
                let progress = run.id.progress_file();
                if matches!(self.dir.kind(&progress), Ok(Some(_))) {
                    result.progress_path =
                        Some(self.dir.join(&progress).to_string_lossy().into_owned());
                }
                let record = RunRecord::from_result(&result, Timestamp::now());
                self.write_record(&run.id, &record)?;
                recovered.push(run.id);
            }
            active.remove_file(&file)?;
        }
        Ok(recovered)
    }
}

impl Store {
    /// Writes the marker of a press of `name` under way in this process
    /// (`pressed/.active/<id>.running`, 0600, holding pid, start, button and id).
    /// Remove it with [`Store::clear_running`] once the record is written.
    pub fn mark_running(
        &self,
        name: &ButtonName,
        id: &RunId,
        started_at: Timestamp,
    ) -> Result<Utf8PathBuf> {
        self.pressed(name)?.mark_running(name, id, started_at)
    }

    /// Removes the marker of run `id`, if there is one.
    pub fn clear_running(&self, name: &ButtonName, id: &RunId) -> Result<()> {
        match self.existing_pressed(name)? {
            Some(pressed) => pressed.clear_running(id),
            None => Ok(()),
        }
    }

    /// Whether run `id` of `name` is still under way: its marker is there,
    /// its process lives and its record is not written yet.
    pub fn is_running(&self, name: &ButtonName, id: &RunId) -> bool {
        let Ok(Some(pressed)) = self.pressed_handle(name) else {
            return false;
        };
        let Ok(Some(active)) = pressed.sub(ACTIVE_DIR) else {
            return false;
        };
        read_marker(&active, &id.marker_file()).is_some_and(|run| live(&pressed, &run))
    }

    /// The presses under way in every button, oldest first. Markers left by
    /// a press whose process is gone are skipped.
    pub fn active_runs(&self) -> Result<Vec<ActiveRun>> {
        let mut out = Vec::new();
        for button in self.button_names()? {
            let Some(pressed) = self.pressed_handle(&button)? else {
                continue;
            };
            let Some(active) = pressed.sub(ACTIVE_DIR)? else {
                continue;
            };
            for (_, run) in markers(&active, &active.entries()?, button.as_str()) {
                if live(&pressed, &run) {
                    out.push(run);
                }
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Records the runs of `name` (of every button when `None`) whose
    /// process ended before it wrote their record (killed, crashed, out of
    /// memory): each marker left by such a run becomes a record with status
    /// `error`, `error_type` `INTERRUPTED`, its start time and progress file,
    /// and the marker is removed. Returns the ids recorded. Press and
    /// history call it, so the next command on a button tells what happened.
    ///
    /// A marker whose pid belongs to a live process (the press, or by pid
    /// reuse another one) is left alone.
    pub fn recover_interrupted(&self, name: Option<&ButtonName>) -> Result<Vec<RunId>> {
        let names = match name {
            Some(name) => vec![name.clone()],
            None => self.button_names()?,
        };
        let mut recovered = Vec::new();
        for button in &names {
            if let Some(pressed) = self.existing_pressed(button)? {
                recovered.extend(pressed.recover_interrupted(button)?);
            }
        }
        Ok(recovered)
    }

    /// The names of the button folders (without reading their specs);
    /// links are not button folders.
    pub(crate) fn button_names(&self) -> Result<Vec<ButtonName>> {
        let Some(dir) = self.handle(&[BUTTONS_DIR])? else {
            return Ok(Vec::new());
        };
        let mut names: Vec<ButtonName> = dir
            .entries()?
            .into_iter()
            .filter(|e| e.kind == Kind::Dir)
            .filter_map(|e| e.name.into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .filter_map(|n| ButtonName::new(&n).ok())
            .collect();
        names.sort();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CodeSource, NewButton};

    #[test]
    fn markers_live_and_dead() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::at(tmp.path()).unwrap();
        let name = ButtonName::new("b").unwrap();
        let button = buttons_spec::Button::new(&name, Timestamp::UNIX_EPOCH);
        store
            .create(NewButton {
                button,
                code: CodeSource::Scaffold,
                prompt: None,
            })
            .unwrap();
        let id = RunId::new(Timestamp::now());
        let path = store.mark_running(&name, &id, Timestamp::now()).unwrap();
        assert_eq!(crate::private_fs::tests_mode(path.as_std_path()), 0o600);
        let runs = store.active_runs().unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].id, id);
        assert!(store.is_running(&name, &id));
        // A dead pid is not listed, and pruning removes its marker.
        let dead = RunId::new(Timestamp::now());
        let marker = ActiveRun {
            pid: i32::MAX as u32,
            started_at: Timestamp::now(),
            button: "b".into(),
            id: dead.clone(),
        };
        let dead_path = path.with_file_name(dead.marker_file());
        fs::write(&dead_path, serde_json::to_vec(&marker).unwrap()).unwrap();
        assert_eq!(store.active_runs().unwrap().len(), 1);
        // Pruning leaves the markers alone; once its run is recorded, the
        // next recovery removes its marker without recording it again.
        store.make_room(&name).unwrap();
        assert!(dead_path.exists());
        let pressed = store.pressed_dir(&name);
        fs::write(pressed.join(dead.record_file()), b"{}").unwrap();
        assert!(store.recover_interrupted(Some(&name)).unwrap().is_empty());
        assert!(!dead_path.exists());
        assert!(path.exists());
        // A marker of the old layout, in `pressed/` itself, is pruned once its
        // process is gone.
        let legacy = pressed.join(dead.marker_file());
        fs::write(&legacy, serde_json::to_vec(&marker).unwrap()).unwrap();
        store.make_room(&name).unwrap();
        assert!(!legacy.exists());
        store.clear_running(&name, &id).unwrap();
        assert!(store.active_runs().unwrap().is_empty());
        assert!(!store.is_running(&name, &id));
    }

    #[test]
    fn dead_markers_become_interrupted_records() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::at(tmp.path()).unwrap();
        let name = ButtonName::new("b").unwrap();
        let button = buttons_spec::Button::new(&name, Timestamp::UNIX_EPOCH);
        store
            .create(NewButton {
                button,
                code: CodeSource::Scaffold,
                prompt: None,
            })
            .unwrap();
        // A live press is left alone.
        let live_id = RunId::new(Timestamp::now());
        store
            .mark_running(&name, &live_id, Timestamp::now())
            .unwrap();
        // A press whose process died before its record.
        let dead = RunId::new(Timestamp::now());
        let marker = ActiveRun {
            pid: i32::MAX as u32,
            started_at: Timestamp::now(),
            button: "b".into(),
            id: dead.clone(),
        };
        let dir = store.pressed_dir(&name).join(ACTIVE_DIR);
        let dead_path = dir.join(dead.marker_file());
        fs::write(&dead_path, serde_json::to_vec(&marker).unwrap()).unwrap();
        store.create_progress_file(&name, &dead).unwrap();
        // What a marker writer killed mid-write leaves, old and new.
        let stale = dir.join(".tmp-99999-000001");
        let fresh = dir.join(".tmp-99999-000002");
        fs::write(&stale, b"{\"pid\"").unwrap();
        fs::write(&fresh, b"{\"pid\"").unwrap();
        fs::File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
            .unwrap();
        // Pruning keeps it for recovery.
        store.make_room(&name).unwrap();
        assert!(dead_path.exists());

        assert_eq!(
            store.recover_interrupted(Some(&name)).unwrap(),
            vec![dead.clone()]
        );
        assert!(!dead_path.exists());
        // Recovery's listing of `.active/` swept the stale temporary file.
        assert!(!stale.exists());
        assert!(fresh.exists());
        let records = store.records(Some(&name), 10).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].id, dead);
        let record = &records[0].record;
        assert_eq!(record.status, buttons_spec::Status::Error);
        assert_eq!(record.error_type, Some(ErrorCode::Interrupted));
        assert!(record.progress_path.is_some());
        // Once only; the live press is still listed.
        assert!(store.recover_interrupted(None).unwrap().is_empty());
        assert_eq!(store.active_runs().unwrap().len(), 1);
    }
}
