//! Timeouts, cancellation and leftovers: no process of a press's group outlives it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use buttons_exec::{PressOptions, Stream};
use buttons_spec::{Args, ErrorCode, Status};
use tokio::sync::oneshot;

use crate::util::{Fixture, alive, exists, live_members, quick, wait_for_file};

/// The script records its pid (= the group id), starts a grandchild that
/// ignores SIGTERM, and sleeps. The timeout must SIGTERM the group, wait the
/// grace period, SIGKILL it, and leave nothing alive.
#[tokio::test]
async fn timeout_kills_the_whole_group_including_a_term_ignoring_grandchild() {
    let fx = Fixture::sh(
        "echo $$ > leader.pid\n\
         cut -d' ' -f5 /proc/$$/stat > leader.pgrp\n\
         sh -c 'trap \"\" TERM; echo $$ > grandchild.pid; exec sleep 30' &\n\
         while [ ! -s grandchild.pid ]; do sleep 0.01; done\n\
         echo started\n\
         sleep 30\n",
    );
    let started = Instant::now();
    let result = fx.press(quick()).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the press waited for sleep 30"
    );
    assert_eq!(result.status, Status::Timeout, "{result:?}");
    assert_eq!(result.error_type, Some(ErrorCode::Timeout));
    assert_eq!(result.exit_code, -1);
    assert_eq!(result.stdout, "started\n");
    assert!(
        result.stderr.contains("timed out after 1s"),
        "{}",
        result.stderr
    );
    assert!(result.duration_ms >= 1000, "{}", result.duration_ms);

    let leader = fx.pid("leader.pid");
    assert_eq!(
        fx.pid("leader.pgrp"),
        leader,
        "the script does not lead its own group"
    );
    let grandchild = fx.pid("grandchild.pid");
    assert!(
        live_members(leader).is_empty(),
        "{:?}",
        live_members(leader)
    );
    assert!(
        !alive(grandchild),
        "the grandchild ignoring SIGTERM survived"
    );
    assert!(!exists(leader), "the script was not reaped");
}

/// SIGTERM comes first: a script that traps it can clean up and its output is kept.
#[tokio::test]
async fn timeout_sends_sigterm_before_sigkill() {
    let fx = Fixture::sh(
        "trap 'echo cleaned up; exit 0' TERM\n\
         echo $$ > leader.pid\n\
         sleep 30 &\n\
         wait\n",
    );
    let result = fx.press(quick()).await;
    assert_eq!(result.error_type, Some(ErrorCode::Timeout), "{result:?}");
    assert!(result.stdout.contains("cleaned up"), "{result:?}");
    assert!(live_members(fx.pid("leader.pid")).is_empty());
}

/// A leader that ignores SIGTERM too is killed after the grace period.
#[tokio::test]
async fn a_leader_ignoring_sigterm_is_killed_after_the_grace() {
    let fx = Fixture::sh("trap '' TERM\necho $$ > leader.pid\nwhile :; do sleep 1; done\n");
    let started = Instant::now();
    let result = fx.press(quick()).await;
    assert_eq!(result.error_type, Some(ErrorCode::Timeout));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(live_members(fx.pid("leader.pid")).is_empty());
}

/// The sink sees the line before the script ends (it would sleep 30 s), and
/// cancelling ends the group and still returns a result.
#[tokio::test]
async fn lines_arrive_live_and_cancellation_ends_the_group() {
    let fx = Fixture::sh(
        "echo $$ > leader.pid\n\
         sh -c 'trap \"\" TERM; echo $$ > grandchild.pid; exec sleep 30' &\n\
         while [ ! -s grandchild.pid ]; do sleep 0.01; done\n\
         echo to-stderr >&2\n\
         echo ready\n\
         sleep 30\n",
    );
    let (tx, rx) = oneshot::channel::<()>();
    let tx = Mutex::new(Some(tx));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let opts = quick()
        .timeout(Duration::from_secs(60))
        .sink(move |stream, line| {
            log.lock().unwrap().push((stream, line.to_owned()));
            if line == "ready"
                && let Some(tx) = tx.lock().unwrap().take()
            {
                tx.send(()).unwrap();
            }
        })
        .cancel_on(async {
            let _ = rx.await;
        });
    let started = Instant::now();
    let result = fx.press(opts).await;
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(result.status, Status::Error, "{result:?}");
    assert_eq!(result.error_type, Some(ErrorCode::Cancelled));
    assert!(result.stderr.contains("interrupted"), "{}", result.stderr);
    assert!(result.stderr.starts_with("to-stderr\n"));
    assert_eq!(result.stdout, "ready\n");
    let seen = seen.lock().unwrap();
    assert!(
        seen.contains(&(Stream::Stderr, "to-stderr".to_owned())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(Stream::Stdout, "ready".to_owned())),
        "{seen:?}"
    );
    assert!(live_members(fx.pid("leader.pid")).is_empty());
    assert!(!alive(fx.pid("grandchild.pid")));
}

/// A backgrounded job that keeps the pipes open does not hold the press after
/// the script exits, and does not outlive it.
#[tokio::test]
async fn leftovers_are_killed_when_the_script_exits() {
    let fx = Fixture::sh("echo $$ > leader.pid\nsleep 30 &\necho $! > bg.pid\necho done\n");
    let started = Instant::now();
    let result = fx.press(PressOptions::default()).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the press waited for the job"
    );
    assert_eq!(result.status, Status::Ok, "{result:?}");
    assert_eq!(result.stdout, "done\n");
    assert!(!alive(fx.pid("bg.pid")));
    assert!(live_members(fx.pid("leader.pid")).is_empty());
}

/// A process that left the group (setsid) but holds the pipes cannot make the
/// press hang: reading stops after a bounded drain.
#[tokio::test]
async fn an_escaped_process_holding_the_pipes_does_not_hang_the_press() {
    let fx = Fixture::sh(
        "setsid sh -c 'echo $$ > escaped.pid; exec sleep 30' &\nsleep 0.2\necho done\n",
    );
    let started = Instant::now();
    let result = fx.press(PressOptions::default()).await;
    let elapsed = started.elapsed();
    let escaped = fx.pid("escaped.pid");
    nix_kill(escaped);
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert_eq!(result.status, Status::Ok, "{result:?}");
    assert_eq!(result.stdout, "done\n");
}

fn nix_kill(pid: i32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
}

/// Dropping the press future (the caller gave up) kills the group.
#[tokio::test]
async fn dropping_the_press_kills_the_group() {
    let fx =
        Fixture::sh("cut -d' ' -f5 /proc/$$/stat > leader.pgrp\necho $$ > leader.pid\nsleep 30\n");
    let args = Args::default();
    let ctx = fx.ctx(&args);
    let pid_file = fx.path().join("leader.pid");
    tokio::select! {
        _ = buttons_exec::press(&ctx, PressOptions::default()) => panic!("the press ended"),
        () = wait_for_file(&pid_file) => {}
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let leader = fx.pid("leader.pid");
    assert_eq!(
        fx.pid("leader.pgrp"),
        leader,
        "the script does not lead its own group"
    );
    for _ in 0..200 {
        if live_members(leader).is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("group {leader} still alive: {:?}", live_members(leader));
}
