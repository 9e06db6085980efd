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

/// The first argument that turns a program into a press supervisor (see
/// [`supervise_if_asked`]).
pub const SUPERVISOR_ARG: &str = "__buttons-supervise";

/// Runs the press supervisor when `argv` asks for it (`PROGRAM
/// __buttons-supervise INTERPRETER CODE_FILE`), and returns the exit code the
/// program should end with; `None` for any other command line.
///
/// A program that calls this first thing in `main` can be named as
/// [`Engine::supervisor`](crate::Engine::supervisor): a code press then
/// starts it, as the leader of the press's process group, instead of the
/// interpreter. The supervisor starts the interpreter (in the same group,
/// stdin empty, environment and working directory its own) and waits for
/// it. Its own stdin is a pipe whose other end only the pressing process
/// holds (the *lifeline*): when that process dies, even by SIGKILL or the
/// OOM killer, the pipe ends and the supervisor sends SIGKILL to the whole
/// group, so no process of the press outlives it. The interpreter's exit
/// status becomes the supervisor's (a signal is raised again, so the press
/// sees the same death).
///
/// # Security
///
/// The interpreter and code file come from the command line the press
/// built; no argument value reaches it (they stay in the environment).
pub fn supervise_if_asked(argv: &[std::ffi::OsString]) -> Option<std::process::ExitCode> {
    use std::os::unix::process::ExitStatusExt as _;
    use std::process::{Command, ExitCode, Stdio};

    if argv.get(1).map(std::ffi::OsString::as_os_str) != Some(SUPERVISOR_ARG.as_ref()) {
        return None;
    }
    let (Some(interpreter), Some(code_file), None) = (argv.get(2), argv.get(3), argv.get(4)) else {
        return Some(ExitCode::from(125));
    };
    // The lifeline: nothing is ever written to stdin, so a read returns only
    // once the pressing process closed it, or died.
    std::thread::spawn(|| {
        use std::io::Read as _;
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin().lock();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        let _ = killpg(nix::unistd::getpgrp(), Signal::SIGKILL);
    });
    let Ok(status) = Command::new(interpreter)
        .arg(code_file)
        .stdin(Stdio::null())
        .status()
    else {
        // As a shell reports a program it cannot start.
        return Some(ExitCode::from(127));
    };
    if let Some(code) = status.code() {
        return Some(ExitCode::from(u8::try_from(code).unwrap_or(1)));
    }
    let signal = status.signal().unwrap_or(0);
    if let Ok(sig) = Signal::try_from(signal) {
        let _ = nix::sys::signal::raise(sig);
    }
    Some(ExitCode::from(u8::try_from(128 + signal).unwrap_or(255)))
}
