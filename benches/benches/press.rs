//! `buttons press` latency against its floor and a peer, and its memory while a
//! button floods stdout.
//!
//! Alternates, in one run: `/bin/sh main.sh` of an empty script (the floor),
//! `just noop` (a justfile whose recipe runs the same script) and
//! `buttons press noop` (release binary, temporary BUTTONS_HOME). Prints the
//! medians and ratios (goals: press <= 0.9x just and <= 3.2x the bare run).
//! Then the peak RSS of `buttons press` while the button writes 1 GiB to
//! stdout (goal: <= 16 MiB).
#![expect(clippy::print_stdout, reason = "a benchmark reports its figures")]
#![expect(clippy::print_stderr, reason = "installing just takes a while; say so")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use buttons_benches::{alternate, median};
use buttons_spec::{Button, ButtonName, Timestamp};
use buttons_store::{CodeSource, NewButton, Store};

mod common;

use common::quiet;

const ROUNDS: usize = 300;

/// Runs with the same small environment for every contender: cargo's own
/// variables (`LD_LIBRARY_PATH` in particular, which slows every dynamic
/// loader lookup) must not tilt the comparison.
fn clean_env<'a>(cmd: &'a mut Command, home: &Path) -> &'a mut Command {
    cmd.env_clear()
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        )
        .env("HOME", home)
}

/// `just` from PATH, else installed with `cargo install` under target/.
fn find_just(target: &Path) -> Option<PathBuf> {
    if let Ok(out) = Command::new("sh").args(["-c", "command -v just"]).output()
        && out.status.success()
    {
        return Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    }
    let root = target.join("bench-tools");
    let just = root.join("bin/just");
    if just.is_file() {
        return Some(just);
    }
    eprintln!("installing just into {} (once)...", root.display());
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let ok = Command::new(cargo)
        .args(["install", "just", "--locked", "--quiet", "--root"])
        .arg(&root)
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(just)
}

fn make_button(store: &Store, name: &str, code: &str) {
    let name = ButtonName::new(name).expect("valid name");
    store
        .create(NewButton {
            button: Button::new(&name, Timestamp::now()),
            code: CodeSource::Inline(code.into()),
            prompt: None,
        })
        .expect("create");
}

/// Peak RSS (VmHWM) of a process, sampled until it exits, in KiB.
fn peak_rss_kib(cmd: &mut Command) -> u64 {
    let mut child = cmd.spawn().expect("spawn");
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_path)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kib: u64 = line
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            peak = peak.max(kib);
        }
        if child.try_wait().expect("wait").is_some() {
            return peak;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn main() {
    let exe = common::release_binary();
    let target = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/release/buttons")
        .to_owned();
    let tmp = tempfile::tempdir().expect("temp dir");
    let work = tmp.path();
    std::fs::write(work.join("main.sh"), "").expect("write main.sh");
    std::fs::write(work.join("justfile"), "noop:\n    @/bin/sh main.sh\n").expect("justfile");
    let data = work.join("data");
    let store = Store::at(&data).expect("store");
    store.init().expect("init");
    make_button(&store, "noop", "");
    make_button(&store, "flood", "yes | head -c 1073741824\n");

    let press = |name: &str| {
        let mut cmd = Command::new(&exe);
        clean_env(&mut cmd, work)
            .args(["press", name])
            .env("BUTTONS_HOME", &data)
            .current_dir(work);
        cmd
    };
    let just = find_just(&target);
    if just.is_none() {
        println!("just could not be installed: skipping the just comparison");
    }

    let mut bare = || {
        quiet(
            clean_env(&mut Command::new("/bin/sh"), work)
                .arg("main.sh")
                .current_dir(work),
        );
    };
    let mut buttons = || quiet(&mut press("noop"));
    let samples = if let Some(just) = &just {
        let mut peer = || {
            quiet(
                clean_env(&mut Command::new(just), work)
                    .arg("noop")
                    .current_dir(work),
            );
        };
        alternate(ROUNDS, &mut [&mut bare, &mut peer, &mut buttons])
    } else {
        let mut s = alternate(ROUNDS, &mut [&mut bare, &mut buttons]);
        s.insert(1, Vec::new());
        s
    };
    let bare_ms = median(&samples[0]);
    let press_ms = median(&samples[2]);
    println!("medians over {ROUNDS} alternating rounds:");
    println!("  /bin/sh main.sh       {bare_ms:7.3} ms");
    if !samples[1].is_empty() {
        let just_ms = median(&samples[1]);
        println!(
            "  just noop             {just_ms:7.3} ms  ({:.2}x bare)",
            just_ms / bare_ms
        );
        println!(
            "  buttons press noop    {press_ms:7.3} ms  ({:.2}x bare, {:.2}x just; goals <= 3.2x bare, <= 0.9x just)",
            press_ms / bare_ms,
            press_ms / just_ms
        );
    } else {
        println!(
            "  buttons press noop    {press_ms:7.3} ms  ({:.2}x bare; goal <= 3.2x)",
            press_ms / bare_ms
        );
    }

    let mut flood = press("flood");
    flood.stdout(Stdio::null()).stderr(Stdio::null());
    let kib = peak_rss_kib(&mut flood);
    println!(
        "peak RSS of buttons press while the button writes 1 GiB to stdout: {:.1} MiB (goal <= 16 MiB)",
        kib as f64 / 1024.0
    );
}
