//! `buttons press` latency against its floor and a peer, and its memory while a
//! button floods stdout.
//!
//! Alternates, in one run: `/bin/sh main.sh` of an empty script (the floor),
//! `just noop` (a justfile whose recipe runs the same script; when `just` is
//! not on PATH, `sh -c 'sh main.sh'` stands in for it: a runner that starts
//! one more process) and `buttons press noop` (release binary, temporary
//! BUTTONS_HOME). Prints the medians and ratios (goals: press <= 0.85x just
//! and <= 3.0x the bare run). Then, alternating, `/bin/true` and
//! `buttons version` (goal: <= 1.3x). Then the peak RSS of `buttons press`
//! while the button writes 1 GiB to stdout (goal: <= 8 MiB).
//!
//! `BUTTONS_BENCH_ALT=/path/to/buttons` measures another build of the binary
//! against this one in the same run (press, version and the peak RSS), e.g.
//! a static one:
//!
//! ```text
//! RUSTFLAGS='-C target-feature=+crt-static' CARGO_TARGET_DIR=target/static \
//!   cargo build --release -p buttons-cli --bin buttons --target x86_64-unknown-linux-gnu
//! BUTTONS_BENCH_ALT=target/static/x86_64-unknown-linux-gnu/release/buttons \
//!   cargo bench -p buttons-benches --bench press
//! ```
#![expect(clippy::print_stdout, reason = "a benchmark reports its figures")]

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

/// `just` from PATH, if it is there (nothing is installed for a bench).
fn find_just() -> Option<PathBuf> {
    let out = Command::new("sh")
        .args(["-c", "command -v just"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
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
    let tmp = tempfile::tempdir().expect("temp dir");
    let work = tmp.path();
    std::fs::write(work.join("main.sh"), "").expect("write main.sh");
    std::fs::write(work.join("justfile"), "noop:\n    @/bin/sh main.sh\n").expect("justfile");
    let data = work.join("data");
    let store = Store::at(&data).expect("store");
    store.init().expect("init");
    make_button(&store, "noop", "");
    make_button(&store, "flood", "yes | head -c 1073741824\n");

    // `buttons WORDS…` of the binary `exe`, in the bench's environment.
    let run = |exe: &Path, words: &[&str]| {
        let mut cmd = Command::new(exe);
        clean_env(&mut cmd, work)
            .args(words)
            .env("BUTTONS_HOME", &data)
            .current_dir(work);
        cmd
    };
    let press = |name: &str| run(&exe, &["press", name]);
    let just = find_just();
    let peer_name = if just.is_some() {
        "just noop"
    } else {
        println!("just is not on PATH: sh -c 'sh main.sh' stands in for `just noop`");
        "sh -c 'sh main.sh'"
    };

    let mut bare = || {
        quiet(
            clean_env(&mut Command::new("/bin/sh"), work)
                .arg("main.sh")
                .current_dir(work),
        );
    };
    let mut peer = || {
        let mut cmd = match &just {
            Some(just) => {
                let mut cmd = Command::new(just);
                cmd.arg("noop");
                cmd
            }
            None => {
                let mut cmd = Command::new("/bin/sh");
                cmd.args(["-c", "/bin/sh main.sh"]);
                cmd
            }
        };
        quiet(clean_env(&mut cmd, work).current_dir(work));
    };
    let mut buttons = || quiet(&mut press("noop"));
    let samples = alternate(ROUNDS, &mut [&mut bare, &mut peer, &mut buttons]);
    let bare_ms = median(&samples[0]);
    let peer_ms = median(&samples[1]);
    let press_ms = median(&samples[2]);
    println!("medians over {ROUNDS} alternating rounds:");
    println!("  /bin/sh main.sh       {bare_ms:7.3} ms");
    println!(
        "  {peer_name:<21} {peer_ms:7.3} ms  ({:.2}x bare)",
        peer_ms / bare_ms
    );
    println!(
        "  buttons press noop    {press_ms:7.3} ms  ({:.2}x bare, goal <= 3.0x; {:.2}x {peer_name}, goal <= 0.85x)",
        press_ms / bare_ms,
        press_ms / peer_ms
    );

    let mut truth = || quiet(clean_env(&mut Command::new("/bin/true"), work).current_dir(work));
    let mut version = || quiet(&mut run(&exe, &["version"]));
    let samples = alternate(ROUNDS, &mut [&mut truth, &mut version]);
    let true_ms = median(&samples[0]);
    let version_ms = median(&samples[1]);
    println!("  /bin/true             {true_ms:7.3} ms");
    println!(
        "  buttons version       {version_ms:7.3} ms  ({:.2}x /bin/true, goal <= 1.3x)",
        version_ms / true_ms
    );

    let mut flood = press("flood");
    flood.stdout(Stdio::null()).stderr(Stdio::null());
    let kib = peak_rss_kib(&mut flood);
    println!(
        "peak RSS of buttons press while the button writes 1 GiB to stdout: {:.1} MiB (goal <= 8 MiB)",
        kib as f64 / 1024.0
    );

    if let Some(alt) = std::env::var_os("BUTTONS_BENCH_ALT") {
        let alt = std::fs::canonicalize(&alt).expect("BUTTONS_BENCH_ALT names a binary");
        println!("this build against {}:", alt.display());
        for words in [&["press", "noop"][..], &["version"][..]] {
            let mut this = || quiet(&mut run(&exe, words));
            let mut other = || quiet(&mut run(&alt, words));
            let samples = alternate(ROUNDS, &mut [&mut this, &mut other]);
            let (this_ms, other_ms) = (median(&samples[0]), median(&samples[1]));
            println!(
                "  buttons {:<13} {this_ms:7.3} ms, other build {other_ms:7.3} ms ({:.2}x)",
                words.join(" "),
                other_ms / this_ms
            );
        }
        let mut flood = run(&alt, &["press", "flood"]);
        flood.stdout(Stdio::null()).stderr(Stdio::null());
        println!(
            "  peak RSS of the other build's flood press: {:.1} MiB",
            peak_rss_kib(&mut flood) as f64 / 1024.0
        );
    }
}
