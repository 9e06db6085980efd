//! Following a data directory as it changes: new run records as they are
//! written ([`RecordWatch`]) and a press's progress file as it grows
//! ([`ProgressTail`]). Both are polled: the caller decides how often.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};

use buttons_spec::ButtonName;
use camino::{Utf8Path, Utf8PathBuf};

use crate::error::{Error, Result};
use crate::records::{RunId, StoredRecord};
use crate::store::Store;

/// New run records of one button or of all, as they are written.
#[derive(Debug)]
pub struct RecordWatch {
    store: Store,
    name: Option<ButtonName>,
    seen: HashSet<RunId>,
}

impl RecordWatch {
    /// The records written since the watch started (or since the last
    /// poll), oldest first. A long press that started before a short one is
    /// reported when its record appears, whatever its id.
    pub fn poll(&mut self) -> Result<Vec<StoredRecord>> {
        let mut files = self.store.record_files(self.name.as_ref())?;
        files.retain(|f| !self.seen.contains(&f.id));
        files.reverse();
        let mut out = Vec::new();
        for file in files {
            let id = file.id.clone();
            if let Some(stored) = self.store.read_stored(file)? {
                self.seen.insert(id);
                out.push(stored);
            }
        }
        Ok(out)
    }
}

/// Reads a progress file's new complete lines as it grows.
#[derive(Debug)]
pub struct ProgressTail {
    path: Utf8PathBuf,
    offset: u64,
    partial: Vec<u8>,
}

impl ProgressTail {
    /// Starts at the beginning of the progress file at `path`.
    pub fn new(path: impl Into<Utf8PathBuf>) -> Self {
        Self {
            path: path.into(),
            offset: 0,
            partial: Vec::new(),
        }
    }

    /// The progress file.
    pub fn path(&self) -> &Utf8Path {
        &self.path
    }

    /// The complete lines appended since the last call (without their
    /// newline; invalid UTF-8 replaced). A missing file has no lines.
    pub fn read_new(&mut self) -> Result<Vec<String>> {
        let path = self.path.as_std_path();
        // Never blocks on a FIFO nor follows a link planted there.
        let Some(mut file) = crate::private_fs::open_regular_path(path)? else {
            return Ok(Vec::new());
        };
        file.seek(SeekFrom::Start(self.offset))
            .map_err(Error::io("read", path))?;
        let mut buf = Vec::new();
        let n = file
            .read_to_end(&mut buf)
            .map_err(Error::io("read", path))?;
        self.offset += n as u64;
        self.partial.extend_from_slice(&buf);
        let mut lines = Vec::new();
        while let Some(pos) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=pos).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
            if !text.trim().is_empty() {
                lines.push(text);
            }
        }
        Ok(lines)
    }

    /// What is left after the last newline, once the press has ended.
    pub fn finish(&mut self) -> Option<String> {
        let rest = String::from_utf8_lossy(&std::mem::take(&mut self.partial)).into_owned();
        (!rest.trim().is_empty()).then_some(rest)
    }
}

/// A press to tail: its button, run id and progress file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailTarget {
    /// The button.
    pub button: ButtonName,
    /// The run.
    pub id: RunId,
    /// Its progress file.
    pub path: Utf8PathBuf,
    /// Whether it was under way when looked up.
    pub running: bool,
}

impl Store {
    /// Watches for new records of `name`, or of every button.
    pub fn watch_records(&self, name: Option<&ButtonName>) -> Result<RecordWatch> {
        let seen = self.record_files(name)?.into_iter().map(|f| f.id).collect();
        Ok(RecordWatch {
            store: self.clone(),
            name: name.cloned(),
            seen,
        })
    }

    /// The press of `name` to tail: the newest one under way, else the newest
    /// recorded one. `None` when the button was never pressed.
    pub fn tail_target(&self, name: &ButtonName) -> Result<Option<TailTarget>> {
        let running = self
            .active_runs()?
            .into_iter()
            .rfind(|r| r.button == name.as_str());
        let (id, running) = match running {
            Some(run) => (run.id, true),
            None => match self.record_files(Some(name))?.into_iter().next() {
                Some(file) => (file.id, false),
                None => return Ok(None),
            },
        };
        Ok(Some(TailTarget {
            path: self.pressed_dir(name).join(id.progress_file()),
            button: name.clone(),
            id,
            running,
        }))
    }

    /// The press a progress file `pressed/<id>.jsonl` of a button in this
    /// data directory belongs to; `None` for any other path.
    pub fn tail_target_of_path(&self, path: &Utf8Path) -> Option<TailTarget> {
        let file = path.file_name()?;
        let stem = file.strip_suffix(crate::records::PROGRESS_EXT)?;
        let button_dir = path.parent()?.parent()?;
        let button = ButtonName::new(button_dir.file_name()?).ok()?;
        let id = RunId(stem.to_owned());
        let path = self.pressed_dir(&button).join(id.progress_file());
        Some(TailTarget {
            running: self.is_running(&button, &id),
            button,
            id,
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_tail_yields_complete_lines_once() {
        let tmp = tempfile::tempdir().unwrap();
        let path = Utf8PathBuf::from_path_buf(tmp.path().join("p.jsonl")).unwrap();
        let mut tail = ProgressTail::new(path.clone());
        assert!(tail.read_new().unwrap().is_empty());
        std::fs::write(&path, "{\"a\":1}\n{\"b\"").unwrap();
        assert_eq!(tail.read_new().unwrap(), ["{\"a\":1}"]);
        std::fs::write(&path, "{\"a\":1}\n{\"b\":2}\n").unwrap();
        assert_eq!(tail.read_new().unwrap(), ["{\"b\":2}"]);
        assert!(tail.read_new().unwrap().is_empty());
        assert!(tail.finish().is_none());
    }
}
