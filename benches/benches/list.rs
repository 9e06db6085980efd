//! `buttons list --json` over 1,000 buttons: median wall time of the whole
//! process (goal: under 50 ms).
#![expect(clippy::print_stdout, reason = "a benchmark reports its figures")]

use std::process::{Command, Stdio};

use buttons_spec::{ArgDef, Button, ButtonName, Timestamp};
use buttons_store::{CodeSource, NewButton, Store};

mod common;

const BUTTONS: usize = 1_000;
const ROUNDS: usize = 40;

fn main() {
    let exe = common::release_binary();
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let store = Store::at(&data).expect("store");
    store.init().expect("init");
    for i in 0..BUTTONS {
        let name = ButtonName::new(&format!("button-{i:04}")).expect("valid name");
        let mut button = Button::new(&name, Timestamp::now());
        button.description = format!("Benchmark button number {i}");
        button
            .args
            .push(ArgDef::parse("who:string:optional").expect("valid def"));
        store
            .create(NewButton {
                button,
                code: CodeSource::Inline("echo hi".into()),
                prompt: None,
            })
            .expect("create");
    }

    let run = || {
        let out = Command::new(&exe)
            .args(["list", "--json"])
            .env("BUTTONS_HOME", &data)
            .env("HOME", tmp.path())
            .stdout(Stdio::piped())
            .output()
            .expect("buttons runs");
        assert!(out.status.success());
        out.stdout.len()
    };
    let bytes = run(); // warm the page cache
    let samples = buttons_benches::alternate(
        ROUNDS,
        &mut [&mut || {
            run();
        }],
    );
    let median = buttons_benches::median(&samples[0]);
    println!(
        "buttons list --json, {BUTTONS} buttons ({} KiB of JSON): median {median:.2} ms over {ROUNDS} runs (goal < 50 ms)",
        bytes / 1024
    );
}
