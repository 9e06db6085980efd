//! Process groups: signalling a press's group and waiting for it to be gone.

use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// How often a group is checked while waiting for it to end.
const POLL: Duration = Duration::from_millis(5);

/// How long to wait, after SIGKILL, for the group's processes to die.
const KILL_WAIT: Duration = Duration::from_secs(1);

/// The process group a press's child leads (its id is the child's pid).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Group {
    pgid: Pid,
}

impl Group {
    pub(crate) fn new(leader: u32) -> Option<Self> {
        let pgid = i32::try_from(leader).ok().filter(|&p| p > 1)?;
        Some(Self {
            pgid: Pid::from_raw(pgid),
        })
    }

    /// Sends `signal` to every process of the group. False when the group
    /// has no process left (not even a zombie).
    pub(crate) fn signal(self, signal: Signal) -> bool {
        killpg(self.pgid, signal) != Err(Errno::ESRCH)
    }

    /// Whether a process of the group is still alive. Zombies do not count:
    /// they are dead, and reaping an orphan is its new parent's job.
    pub(crate) fn has_live_members(self) -> bool {
        if killpg(self.pgid, None::<Signal>) == Err(Errno::ESRCH) {
            return false;
        }
        live_member_in_proc(self.pgid.as_raw()).unwrap_or(true)
    }

    /// SIGKILL to the group, then waits (bounded) until none of its processes
    /// is alive.
    pub(crate) async fn kill(self) {
        if !self.signal(Signal::SIGKILL) {
            return;
        }
        let deadline = tokio::time::Instant::now() + KILL_WAIT;
        while self.has_live_members() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Scans `/proc` for a process of group `pgid` that is not a zombie. `None`
/// where `/proc` cannot be read (then the caller assumes one is alive).
#[cfg(target_os = "linux")]
fn live_member_in_proc(pgid: i32) -> Option<bool> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp …`; comm may contain anything, so split after the last ')'.
        let Some((_, fields)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = fields.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|p| p.parse::<i32>().ok());
        if pgrp == Some(pgid) && !matches!(state, Some("Z" | "X" | "x")) {
            return Some(true);
        }
    }
    Some(false)
}

#[cfg(not(target_os = "linux"))]
fn live_member_in_proc(_pgid: i32) -> Option<bool> {
    None
}

/// Sends SIGKILL to the group when dropped while armed: a press future
/// dropped half-way (its caller gave up on it) still leaves no process behind.
#[derive(Debug)]
pub(crate) struct KillOnDrop {
    group: Option<Group>,
}

impl KillOnDrop {
    pub(crate) fn new(group: Group) -> Self {
        Self { group: Some(group) }
    }

    /// The press ended its group itself; nothing to do on drop.
    pub(crate) fn disarm(mut self) {
        self.group = None;
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(group) = self.group {
            group.signal(Signal::SIGKILL);
        }
    }
}
