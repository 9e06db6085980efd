//! Light run summaries: the head of a record file, without its output.
//!
//! A record's JSON puts `button_name, started_at, finished_at, exit_code,
//! http_status_code?, status, error_type?` before `stdout` and `stderr`
//! (which may hold a mebibyte each), and `duration_ms` after them. A summary
//! reads a bounded prefix and suffix of the file and parses only those
//! fields, so summarizing hundreds of large records stays cheap. A record
//! written in another field order is parsed in full instead.

use std::io::Read;
use std::os::unix::fs::FileExt;

use buttons_spec::{ButtonName, ErrorCode, RunRecord, Status, Timestamp};
use camino::Utf8PathBuf;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::records::{RecordFile, RunId, StoredRecord};
use crate::store::Store;

/// Bytes read from the start of a record for its head fields.
const HEAD_BYTES: usize = 4096;
/// Bytes read from the end of a record for `duration_ms`.
const TAIL_BYTES: u64 = 4096;

/// One press, as a summary shows it: a record without its output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSummary {
    /// The button.
    pub button: String,
    /// The run's id (the record file's stem).
    pub id: RunId,
    /// The record file.
    pub path: Utf8PathBuf,
    /// When the press started.
    pub started_at: Timestamp,
    /// When it finished.
    pub finished_at: Timestamp,
    /// The exit code, HTTP status or -1.
    pub exit_code: i64,
    /// The HTTP status, for HTTP buttons.
    pub http_status_code: Option<u16>,
    /// How the press ended.
    pub status: Status,
    /// The error code when it did not succeed.
    pub error_type: Option<ErrorCode>,
    /// Wall time of the press (from the record, else from its timestamps).
    pub duration_ms: u64,
}

impl RecordSummary {
    /// Whether the press did not succeed.
    pub fn is_failure(&self) -> bool {
        self.status != Status::Ok
    }

    pub(crate) fn from_stored(file: &RecordFile, r: &RunRecord) -> Self {
        Self {
            button: file.button.clone(),
            id: file.id.clone(),
            path: file.path.clone(),
            started_at: r.started_at,
            finished_at: r.finished_at,
            exit_code: r.exit_code,
            http_status_code: r.http_status_code,
            status: r.status,
            error_type: r.error_type,
            duration_ms: r.duration_ms,
        }
    }
}

#[derive(Deserialize)]
struct Head {
    started_at: Timestamp,
    finished_at: Timestamp,
    exit_code: i64,
    #[serde(default)]
    http_status_code: Option<u16>,
    status: Status,
    #[serde(default)]
    error_type: Option<ErrorCode>,
}

#[derive(Deserialize)]
struct StderrOnly {
    #[serde(default)]
    stderr: String,
}

/// The offset of the first `"key"` outside a string in `bytes`. Before
/// `stdout`, a record holds only names, timestamps, numbers and codes, and a
/// quote inside a JSON string is always escaped, so an unescaped `"key"`
/// followed by `:` is the key itself.
fn find_key(bytes: &[u8], key: &str) -> Option<usize> {
    let needle = format!("\"{key}\"");
    let needle = needle.as_bytes();
    let mut from = 0;
    while let Some(pos) = bytes[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
    {
        let escaped = pos > 0 && bytes[pos - 1] == b'\\';
        let rest = &bytes[pos + needle.len()..];
        let colon = rest
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b':');
        if !escaped && colon {
            return Some(pos);
        }
        from = pos + 1;
    }
    None
}

/// The head fields from the start of a record (up to its `stdout` key).
fn parse_head(prefix: &[u8]) -> Option<Head> {
    let end = find_key(prefix, "stdout")?;
    let mut object = prefix[..end].trim_ascii_end().to_vec();
    if object.last() == Some(&b',') {
        object.pop();
    }
    object.push(b'}');
    serde_json::from_slice(&object).ok()
}

/// `duration_ms` from the end of a record: the last unescaped key whose
/// value is a number (an argument of that name would hold a string).
fn parse_duration(suffix: &[u8]) -> Option<u64> {
    let needle = b"\"duration_ms\"";
    let mut best = None;
    let mut from = 0;
    while let Some(pos) = suffix[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
    {
        from = pos + 1;
        if pos > 0 && suffix[pos - 1] == b'\\' {
            continue;
        }
        let rest = suffix[pos + needle.len()..].trim_ascii_start();
        let Some(rest) = rest.strip_prefix(b":") else {
            continue;
        };
        let rest = rest.trim_ascii_start();
        let digits: Vec<u8> = rest
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .copied()
            .collect();
        if let Some(n) = std::str::from_utf8(&digits)
            .ok()
            .and_then(|d| d.parse().ok())
        {
            best = Some(n);
        }
    }
    best
}

fn read_summary(store: &Store, file: &RecordFile) -> Result<Option<RecordSummary>> {
    let path = file.path.as_std_path();
    let Some(mut f) = store.open_record(file)? else {
        return Ok(None);
    };
    let mut prefix = Vec::with_capacity(HEAD_BYTES);
    (&mut f)
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut prefix)
        .map_err(Error::io("read", path))?;
    let Some(head) = parse_head(&prefix) else {
        // Another field order, or a record too short to have output: parse it all.
        return Ok(store
            .read_stored(file.clone())?
            .map(|stored| RecordSummary::from_stored(file, &stored.record)));
    };
    let len = f.metadata().map_err(Error::io("read", path))?.len();
    let start = len.saturating_sub(TAIL_BYTES);
    let mut suffix = vec![0u8; usize::try_from(len - start).unwrap_or(0)];
    let duration = match f.read_exact_at(&mut suffix, start) {
        Ok(()) => parse_duration(&suffix),
        Err(_) => None,
    }
    .unwrap_or_else(|| {
        let ms = head.finished_at.duration_since(head.started_at).as_millis();
        u64::try_from(ms.max(0)).unwrap_or(0)
    });
    Ok(Some(RecordSummary {
        button: file.button.clone(),
        id: file.id.clone(),
        path: file.path.clone(),
        started_at: head.started_at,
        finished_at: head.finished_at,
        exit_code: head.exit_code,
        http_status_code: head.http_status_code,
        status: head.status,
        error_type: head.error_type,
        duration_ms: duration,
    }))
}

impl Store {
    /// Summaries of the newest `last` records, newest first: of one button,
    /// or of every button when `name` is `None`. Only a bounded prefix and
    /// suffix of each record is read (see the module docs); records that
    /// cannot be parsed are skipped.
    pub fn summaries(&self, name: Option<&ButtonName>, last: usize) -> Result<Vec<RecordSummary>> {
        self.summaries_where(name, last, usize::MAX, |_| true)
    }

    /// Like [`Store::summaries`], keeping only the summaries `keep` accepts,
    /// among at most the newest `scan` records.
    pub fn summaries_where(
        &self,
        name: Option<&ButtonName>,
        last: usize,
        scan: usize,
        mut keep: impl FnMut(&RecordSummary) -> bool,
    ) -> Result<Vec<RecordSummary>> {
        let mut out = Vec::new();
        for file in self.record_files(name)?.into_iter().take(scan) {
            if out.len() >= last {
                break;
            }
            // An unreadable record (a folder, a FIFO) is skipped, as by `records`.
            if let Ok(Some(summary)) = read_summary(self, &file)
                && keep(&summary)
            {
                out.push(summary);
            }
        }
        Ok(out)
    }

    /// The full record a summary describes (`None` if it was pruned since).
    pub fn record_of(&self, summary: &RecordSummary) -> Result<Option<StoredRecord>> {
        self.read_stored(RecordFile {
            id: summary.id.clone(),
            button: summary.button.clone(),
            path: summary.path.clone(),
        })
    }

    /// The first `max_bytes` of a record's stderr (cut on a character
    /// boundary), or `None` if the record was pruned since.
    pub fn stderr_head(&self, summary: &RecordSummary, max_bytes: usize) -> Result<Option<String>> {
        let file = RecordFile {
            id: summary.id.clone(),
            button: summary.button.clone(),
            path: summary.path.clone(),
        };
        let Ok(Some(opened)) = self.open_record(&file) else {
            return Ok(None);
        };
        let Ok(bytes) = crate::private_fs::read_capped(
            opened,
            summary.path.as_std_path(),
            crate::records::MAX_RECORD_BYTES,
        ) else {
            return Ok(None);
        };
        let Ok(StderrOnly { mut stderr }) = serde_json::from_slice(&bytes) else {
            return Ok(None);
        };
        if stderr.len() > max_bytes {
            let mut end = max_bytes;
            while !stderr.is_char_boundary(end) {
                end -= 1;
            }
            stderr.truncate(end);
        }
        Ok(Some(stderr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use buttons_spec::PressResult;

    #[test]
    fn head_and_duration_from_a_pretty_record() {
        let mut result = PressResult::new("b", Timestamp::UNIX_EPOCH);
        result.stdout = "\"stdout\": x \\\"duration_ms\\\": 5".repeat(2000);
        result.fail(ErrorCode::ScriptError, "boom \"stderr\": 1");
        result.duration_ms = 1234;
        result.args.insert("duration_ms".into(), "99".into());
        let record = RunRecord::from_result(&result, Timestamp::UNIX_EPOCH);
        let json = serde_json::to_string_pretty(&record).unwrap();
        let head = parse_head(&json.as_bytes()[..HEAD_BYTES]).unwrap();
        assert_eq!(head.status, Status::Error);
        assert_eq!(head.error_type, Some(ErrorCode::ScriptError));
        assert_eq!(head.exit_code, -1);
        let tail = &json.as_bytes()[json.len() - 200..];
        assert_eq!(parse_duration(tail), Some(1234));
        let compact = serde_json::to_string(&record).unwrap();
        assert!(parse_head(compact.as_bytes()).is_some());
    }

    #[test]
    fn summaries_match_full_records() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::at(tmp.path()).unwrap();
        let name = ButtonName::new("b").unwrap();
        store
            .create(crate::NewButton {
                button: buttons_spec::Button::new(&name, Timestamp::UNIX_EPOCH),
                code: crate::CodeSource::Scaffold,
                prompt: None,
            })
            .unwrap();
        for i in 0..5u64 {
            let mut result = PressResult::new("b", Timestamp::now());
            result.stdout = "x".repeat(10_000);
            result.duration_ms = i;
            if i % 2 == 1 {
                result.fail(ErrorCode::Timeout, "e".repeat(500));
            }
            store
                .write_record(&name, &RunRecord::from_result(&result, Timestamp::now()))
                .unwrap();
        }
        let full = store.records(Some(&name), 10).unwrap();
        let light = store.summaries(Some(&name), 10).unwrap();
        assert_eq!(full.len(), light.len());
        for (f, l) in full.iter().zip(&light) {
            assert_eq!(
                RecordSummary::from_stored(
                    &RecordFile {
                        id: f.id.clone(),
                        button: f.button.clone(),
                        path: f.path.clone(),
                    },
                    &f.record
                ),
                *l
            );
        }
        let failed = store
            .summaries_where(None, 10, 50, RecordSummary::is_failure)
            .unwrap();
        assert_eq!(failed.len(), 2);
        let head = store.stderr_head(&failed[0], 200).unwrap().unwrap();
        assert_eq!(head, "e".repeat(200));
    }
}
