//! The orientation overview: every button with its last runs, the presses
//! under way and the recent failures, read cheaply (see [`RecordSummary`]).

use buttons_spec::{ArgDef, ButtonName, ErrorCode, Status, Timestamp};
use camino::Utf8PathBuf;
use serde::Serialize;

use crate::error::Result;
use crate::store::Store;
use crate::summary::RecordSummary;

/// What [`Store::overview`] gathers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverviewOptions {
    /// Runs shown per button (default 3).
    pub recent_runs: usize,
    /// Failures shown (default 5).
    pub failures: usize,
    /// How many of the newest runs are searched for failures (default 50).
    pub failure_scan: usize,
    /// Bytes of stderr kept per failure (default 200).
    pub stderr_bytes: usize,
    /// Parse every record in full and search all of them for failures
    /// (slow on large histories; the default reads only record heads).
    pub deep: bool,
}

impl Default for OverviewOptions {
    fn default() -> Self {
        Self {
            recent_runs: 3,
            failures: 5,
            failure_scan: 50,
            stderr_bytes: 200,
            deep: false,
        }
    }
}

/// The whole data directory at a glance.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// The data directory.
    pub data_dir: Utf8PathBuf,
    /// How many of each there are.
    pub counts: Counts,
    /// Every button, by name.
    pub buttons: Vec<ButtonOverview>,
    /// The presses under way.
    pub active_runs: Vec<ActiveRunOverview>,
    /// The newest failures, newest first.
    pub recent_failures: Vec<FailureOverview>,
}

/// Counts of an [`Overview`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Buttons (broken ones included).
    pub buttons: usize,
    /// Drawers (broken ones included).
    pub drawers: usize,
    /// Failures among the runs searched (see [`OverviewOptions::failure_scan`]).
    pub failures_recent: usize,
}

/// One button in an [`Overview`].
#[derive(Debug, Clone, Serialize)]
pub struct ButtonOverview {
    /// The name.
    pub name: String,
    /// The description.
    pub description: String,
    /// The runtime as written in the spec.
    pub runtime: String,
    /// The argument definitions.
    pub args: Vec<ArgDef>,
    /// The timeout.
    pub timeout_seconds: u64,
    /// The tags, when there are any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Why the spec could not be read, for a broken button.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The newest runs, newest first.
    pub recent_runs: Vec<RunOverview>,
}

/// One run in a [`ButtonOverview`].
#[derive(Debug, Clone, Serialize)]
pub struct RunOverview {
    /// The run id.
    pub id: String,
    /// How it ended.
    pub status: Status,
    /// Its wall time.
    pub duration_ms: u64,
    /// When it started.
    pub started_at: Timestamp,
    /// The error code of a failed run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<ErrorCode>,
}

/// One press under way in an [`Overview`].
#[derive(Debug, Clone, Serialize)]
pub struct ActiveRunOverview {
    /// The button.
    pub name: String,
    /// The run id.
    pub id: String,
    /// The process pressing it.
    pub pid: u32,
    /// When it started.
    pub started_at: Timestamp,
}

/// One failure in an [`Overview`].
#[derive(Debug, Clone, Serialize)]
pub struct FailureOverview {
    /// The run id.
    pub id: String,
    /// The button.
    pub button: String,
    /// The error code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<ErrorCode>,
    /// The first bytes of its stderr.
    pub stderr: String,
    /// When it started.
    pub started_at: Timestamp,
}

impl From<&RecordSummary> for RunOverview {
    fn from(s: &RecordSummary) -> Self {
        Self {
            id: s.id.to_string(),
            status: s.status,
            duration_ms: s.duration_ms,
            started_at: s.started_at,
            error_code: s.error_type,
        }
    }
}

impl Store {
    /// The overview of this data directory: each button with its newest
    /// runs, the presses under way and the newest failures.
    ///
    /// Unless [`OverviewOptions::deep`], it reads each button's spec, the
    /// heads of its newest few records, and stderr only of the failures it
    /// shows: its cost does not grow with the size of recorded output.
    pub fn overview(&self, options: &OverviewOptions) -> Result<Overview> {
        let listed = self.list()?;
        let mut buttons = Vec::with_capacity(listed.len());
        for entry in listed {
            let runs = match ButtonName::new(&entry.name) {
                Ok(name) => self.recent(
                    Some(&name),
                    options.recent_runs,
                    usize::MAX,
                    options.deep,
                    |_| true,
                )?,
                Err(_) => Vec::new(),
            };
            let recent_runs = runs.iter().map(RunOverview::from).collect();
            buttons.push(match entry.button {
                Ok(b) => ButtonOverview {
                    timeout_seconds: b.timeout().as_secs(),
                    name: b.name,
                    description: b.description,
                    runtime: b.runtime.to_string(),
                    args: b.args,
                    tags: b.tags,
                    error: None,
                    recent_runs,
                },
                Err(e) => ButtonOverview {
                    name: entry.name,
                    description: String::new(),
                    runtime: String::new(),
                    args: Vec::new(),
                    timeout_seconds: 0,
                    tags: Vec::new(),
                    error: Some(e.to_string()),
                    recent_runs,
                },
            });
        }
        let scan = if options.deep {
            usize::MAX
        } else {
            options.failure_scan
        };
        let failures = self.recent(
            None,
            usize::MAX,
            scan,
            options.deep,
            RecordSummary::is_failure,
        )?;
        let mut recent_failures = Vec::new();
        for f in failures.iter().take(options.failures) {
            let stderr = self
                .stderr_head(f, options.stderr_bytes)?
                .unwrap_or_default();
            recent_failures.push(FailureOverview {
                id: f.id.to_string(),
                button: f.button.clone(),
                error_code: f.error_type,
                stderr,
                started_at: f.started_at,
            });
        }
        let active_runs = self
            .active_runs()?
            .into_iter()
            .map(|r| ActiveRunOverview {
                name: r.button,
                id: r.id.to_string(),
                pid: r.pid,
                started_at: r.started_at,
            })
            .collect();
        Ok(Overview {
            data_dir: self.root.clone(),
            counts: Counts {
                buttons: buttons.len(),
                drawers: self.list_drawers().map_or(0, |d| d.len()),
                failures_recent: failures.len(),
            },
            buttons,
            active_runs,
            recent_failures,
        })
    }

    fn recent(
        &self,
        name: Option<&ButtonName>,
        last: usize,
        scan: usize,
        deep: bool,
        keep: impl FnMut(&RecordSummary) -> bool,
    ) -> Result<Vec<RecordSummary>> {
        if !deep {
            return self.summaries_where(name, last, scan, keep);
        }
        let mut keep = keep;
        let mut out = Vec::new();
        for file in self.record_files(name)?.into_iter().take(scan) {
            if out.len() >= last {
                break;
            }
            if let Some(stored) = self.read_stored(file.clone())? {
                let summary = RecordSummary::from_stored(&file, &stored.record);
                if keep(&summary) {
                    out.push(summary);
                }
            }
        }
        Ok(out)
    }
}
