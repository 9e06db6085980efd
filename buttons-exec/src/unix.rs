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
/// __buttons-supervise`), and returns the exit code the program should end
/// with; `None` for any other command line.
///
/// A program that calls this first thing in `main` can be named as
/// [`Engine::supervisor`](crate::Engine::supervisor). A code press that
/// runs longer than 50 ms then starts it beside the script (not in front of
/// it: the script is still the press's direct child and group leader, and a
/// shorter press pays nothing for it; a pressing process killed within those
/// first 50 ms can leave its script running). Its stdin is a pipe only the pressing process holds
/// (the *lifeline*): the press writes `arm PGID` once the script's group
/// exists and `done` when the press is over. When the pipe ends without
/// `done` (the pressing process died, even by SIGKILL or the OOM killer),
/// the supervisor sends SIGKILL to the whole group, so no process of the
/// press outlives it. It never signals anything else.
///
/// # Security
///
/// It reads only its stdin, the pipe of the press that started it, and
/// kills only the group named there (never its own, never group 0 or 1).
pub fn supervise_if_asked(argv: &[std::ffi::OsString]) -> Option<std::process::ExitCode> {
    use std::io::BufRead as _;
    use std::process::ExitCode;

    if argv.get(1).map(std::ffi::OsString::as_os_str) != Some(SUPERVISOR_ARG.as_ref()) {
        return None;
    }
    if argv.len() != 2 {
        return Some(ExitCode::from(125));
    }
    let mut armed: Option<Group> = None;
    let mut line = String::new();
    let mut stdin = std::io::stdin().lock();
    loop {
        line.clear();
        match stdin.read_line(&mut line) {
            Ok(n) if n > 0 => {}
            // The pipe ended: the press's process is gone without a `done`.
            _ => break,
        }
        match line.trim().split_once(' ') {
            Some(("arm", pgid)) => {
                armed = pgid
                    .parse::<u32>()
                    .ok()
                    .and_then(Group::new)
                    .filter(|g| g.pgid != nix::unistd::getpgrp());
            }
            _ if line.trim() == "done" => return Some(ExitCode::SUCCESS),
            _ => {}
        }
    }
    if let Some(group) = armed {
        group.signal(Signal::SIGKILL);
    }
    Some(ExitCode::SUCCESS)
}

/// The pressing side of the lifeline: started before the script, armed with
/// its group, told `done` when the press is over (see [`supervise_if_asked`]).
pub(crate) struct Lifeline {
    stdin: Option<std::io::PipeWriter>,
}

impl Lifeline {
    /// Starts `program __buttons-supervise` in its own process group, with
    /// nothing but the lifeline as stdin, from a thread of its own: the
    /// press does not wait for it to start (a spawn blocks until the child
    /// has exec'd, a scheduling round trip), and that thread reaps it once
    /// it exits. `None` when the pipe cannot be made (the press runs
    /// without it).
    pub(crate) fn start(program: &std::path::Path) -> Option<Self> {
        use std::os::unix::process::CommandExt as _;
        use std::process::{Command, Stdio};

        // Both ends close on exec: the script never holds the lifeline.
        let (reader, writer) = std::io::pipe().ok()?;
        let mut command = Command::new(program);
        command
            .arg(SUPERVISOR_ARG)
            .env_clear()
            .stdin(Stdio::from(reader))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        std::thread::Builder::new()
            .name("buttons-supervise".into())
            .spawn(move || {
                if let Ok(mut child) = command.spawn() {
                    let _ = child.wait();
                }
            })
            .ok()?;
        Some(Self {
            stdin: Some(writer),
        })
    }

    /// Names the group the supervisor kills should this process die.
    pub(crate) fn arm(&mut self, group: Group) {
        self.send(&format!("arm {}\n", group.pgid.as_raw()));
    }

    fn send(&mut self, text: &str) {
        use std::io::Write as _;
        if let Some(stdin) = &mut self.stdin
            && stdin.write_all(text.as_bytes()).is_err()
        {
            self.stdin = None;
        }
    }
}

impl Drop for Lifeline {
    fn drop(&mut self) {
        // The press is over (or its future was dropped, and KillOnDrop ends
        // the group): the supervisor has nothing left to do.
        self.send("done\n");
    }
}
