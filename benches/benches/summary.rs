//! `buttons summary --json` over 100 buttons × 100 records of 100 KiB of
//! output each (1 GiB of records): median wall time of the whole process
//! (goal: well under 1 s), beside `buttons list --json` over the same
//! directory as the baseline.
#![expect(clippy::print_stdout, reason = "a benchmark reports its figures")]

use std::process::{Command, Stdio};

use buttons_spec::{Button, ButtonName, ErrorCode, PressResult, RunRecord, Timestamp};
use buttons_store::{CodeSource, NewButton, RunId, Store};

mod common;

const BUTTONS: usize = 100;
const RECORDS: usize = 100;
const OUTPUT: usize = 100 * 1024;
const ROUNDS: usize = 15;

fn main() {
    let exe = common::release_binary();
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let store = Store::at(&data).expect("store");
    store.init().expect("init");
    let start = Timestamp::now();
    let mut total = 0usize;
    for i in 0..BUTTONS {
        let name = ButtonName::new(&format!("button-{i:03}")).expect("valid name");
        let mut button = Button::new(&name, Timestamp::now());
        button.description = format!("Benchmark button number {i}");
        store
            .create(NewButton {
                button,
                code: CodeSource::Inline("echo hi".into()),
                prompt: None,
            })
            .expect("create");
        let pressed = store.button_dir(&name).join("pressed");
        std::fs::create_dir_all(&pressed).expect("pressed/");
        for j in 0..RECORDS {
            let at = start
                .checked_add(jiff::SignedDuration::from_millis((j * BUTTONS + i) as i64))
                .expect("in range");
            let mut result = PressResult::new(name.as_str(), at);
            result.stdout = "o".repeat(OUTPUT);
            if j % 10 == 0 {
                result.fail(ErrorCode::ScriptError, "e".repeat(1024));
            }
            result.duration_ms = 42;
            let record = RunRecord::from_result(&result, at);
            // Written directly (no fsync), in the store's pretty format.
            let mut json = serde_json::to_string_pretty(&record).expect("serializes");
            json.push('\n');
            total += json.len();
            let id = RunId::new(at);
            std::fs::write(pressed.join(id.record_file()), json).expect("write record");
        }
    }

    let run = |args: &[&str]| {
        let out = Command::new(&exe)
            .args(args)
            .env("BUTTONS_HOME", &data)
            .env("HOME", tmp.path())
            .stdout(Stdio::piped())
            .output()
            .expect("buttons runs");
        assert!(out.status.success(), "{args:?}");
        out.stdout.len()
    };
    // Warm the page cache.
    let bytes = run(&["summary", "--json"]);
    run(&["list", "--json"]);
    let samples = buttons_benches::alternate(
        ROUNDS,
        &mut [
            &mut || {
                run(&["summary", "--json"]);
            },
            &mut || {
                run(&["list", "--json"]);
            },
        ],
    );
    let summary = buttons_benches::median(&samples[0]);
    let list = buttons_benches::median(&samples[1]);
    println!(
        "buttons summary --json, {BUTTONS} buttons x {RECORDS} records ({} MiB of records, {} KiB of JSON out): median {summary:.2} ms over {ROUNDS} runs (goal well under 1 s)",
        total >> 20,
        bytes / 1024
    );
    println!(
        "buttons list --json (baseline, same directory): median {list:.2} ms; summary/list = {:.2}x",
        summary / list
    );
}
