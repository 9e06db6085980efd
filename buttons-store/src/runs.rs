//! Active-run markers: `pressed/<id>.running`, kept while a press runs.
//!
//! A press writes its marker before it starts and removes it once its
//! record is written (or the press failed). A marker whose process is gone
//! (a crashed press) is never listed, and pruning removes it.

use std::fs;
use std::io;
use std::path::Path;

use buttons_spec::{ButtonName, ErrorCode, PressResult, RunRecord, Timestamp};
use camino::Utf8PathBuf;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::private_fs::{self, FILE_MODE};
use crate::records::{RunId, remove_if_present, utf8};
use crate::store::Store;

/// The extension of active-run markers: `pressed/<id>.running`.
pub const MARKER_EXT: &str = ".running";

/// A press under way, as its marker `pressed/<id>.running` tells it.
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

fn read_marker(path: &Path) -> Option<ActiveRun> {
    let bytes = private_fs::read_optional(path).ok()??;
    serde_json::from_slice(&bytes).ok()
}

/// Whether the marker at `path` belongs to a press still under way: its
/// process lives and its record is not written yet.
pub(crate) fn marker_is_live(path: &Path) -> bool {
    read_marker(path).is_some_and(|run| live(path, &run))
}

/// Whether pruning may remove the marker at `path`: it cannot be read, or
/// its press is over and its record is written. A marker whose process died
/// before the record stays until [`Store::recover_interrupted`] records it.
pub(crate) fn marker_is_removable(path: &Path) -> bool {
    match read_marker(path) {
        None => true,
        Some(run) => {
            !live(path, &run)
                && fs::symlink_metadata(path.with_file_name(run.id.record_file())).is_ok()
        }
    }
}

fn live(marker: &Path, run: &ActiveRun) -> bool {
    let record = marker.with_file_name(run.id.record_file());
    pid_alive(run.pid) && fs::symlink_metadata(record).is_err()
}

impl RunId {
    /// The marker file's name: `<id>.running`.
    pub fn marker_file(&self) -> String {
        format!("{}{MARKER_EXT}", self.0)
    }
}

impl Store {
    /// Writes the marker of a press of `name` under way in this process
    /// (`pressed/<id>.running`, 0600, holding pid, start, button and id).
    /// Remove it with [`Store::clear_running`] once the record is written.
    pub fn mark_running(
        &self,
        name: &ButtonName,
        id: &RunId,
        started_at: Timestamp,
    ) -> Result<Utf8PathBuf> {
        let dir = self.ensure_pressed(name)?;
        let run = ActiveRun {
            pid: std::process::id(),
            started_at,
            button: name.to_string(),
            id: id.clone(),
        };
        let json = serde_json::to_vec(&run).expect("an ActiveRun always serializes");
        let path = private_fs::write_atomic(&dir, &id.marker_file(), &json, FILE_MODE, false)?;
        Ok(utf8(path))
    }

    /// Removes the marker of run `id`, if there is one.
    pub fn clear_running(&self, name: &ButtonName, id: &RunId) -> Result<()> {
        remove_if_present(
            &self
                .pressed_dir(name)
                .join(id.marker_file())
                .into_std_path_buf(),
        )
    }

    /// Whether run `id` of `name` is still under way: its marker is there,
    /// its process lives and its record is not written yet.
    pub fn is_running(&self, name: &ButtonName, id: &RunId) -> bool {
        marker_is_live(self.pressed_dir(name).join(id.marker_file()).as_std_path())
    }

    /// The presses under way in every button, oldest first. Markers left by
    /// a press whose process is gone are skipped.
    pub fn active_runs(&self) -> Result<Vec<ActiveRun>> {
        let mut out = Vec::new();
        for button in self.button_names()? {
            for (file, path) in self.pressed_files(&button)? {
                if !is_marker_name(&file) {
                    continue;
                }
                if let Some(run) = read_marker(&path)
                    && run.button == button.as_str()
                    && file.strip_suffix(MARKER_EXT) == Some(run.id.as_str())
                    && live(&path, &run)
                {
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
            for (file, path) in self.pressed_files(button)? {
                if !is_marker_name(&file) {
                    continue;
                }
                let Some(run) = read_marker(&path) else {
                    continue;
                };
                if run.button != button.as_str()
                    || file.strip_suffix(MARKER_EXT) != Some(run.id.as_str())
                    || pid_alive(run.pid)
                {
                    continue;
                }
                if fs::symlink_metadata(path.with_file_name(run.id.record_file())).is_err() {
                    let mut result = PressResult::new(button.as_str(), run.started_at);
                    result.fail(
                        ErrorCode::Interrupted,
                        format!(
                            "interrupted: the process running the press (pid {}) ended before it recorded the run",
                            run.pid
                        ),
                    );
                    let progress = path.with_file_name(run.id.progress_file());
                    if fs::symlink_metadata(&progress).is_ok() {
                        result.progress_path = Some(progress.to_string_lossy().into_owned());
                    }
                    let record = RunRecord::from_result(&result, Timestamp::now());
                    self.write_run_record(button, &run.id, &record)?;
                    recovered.push(run.id);
                }
                remove_if_present(&path)?;
            }
        }
        Ok(recovered)
    }

    /// The names of the button folders (without reading their specs).
    pub(crate) fn button_names(&self) -> Result<Vec<ButtonName>> {
        let dir = self.buttons_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("read", &dir)(e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(Error::io("read", &dir))?;
            if let Ok(file) = entry.file_name().into_string()
                && !file.starts_with('.')
                && let Ok(name) = ButtonName::new(&file)
            {
                names.push(name);
            }
        }
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
        assert_eq!(private_fs::tests_mode(path.as_std_path()), 0o600);
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
        // Once its run is recorded, pruning removes its marker.
        fs::write(path.with_file_name(dead.record_file()), b"{}").unwrap();
        store.make_room(&name).unwrap();
        assert!(!dead_path.exists());
        assert!(path.exists());
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
        let dir = store.pressed_dir(&name);
        let dead_path = dir.join(dead.marker_file());
        fs::write(&dead_path, serde_json::to_vec(&marker).unwrap()).unwrap();
        store.create_progress_file(&name, &dead).unwrap();
        // Pruning keeps it for recovery.
        store.make_room(&name).unwrap();
        assert!(dead_path.exists());

        assert_eq!(
            store.recover_interrupted(Some(&name)).unwrap(),
            vec![dead.clone()]
        );
        assert!(!dead_path.exists());
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
