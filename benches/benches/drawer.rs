//! A drawer of 20 sequential no-op shell steps against 20 separate
//! `buttons press` calls of the same button (goal: drawer <= 1.3x).
//!
//! Both run the release binary in a temporary BUTTONS_HOME with the same
//! small environment, alternating so that machine noise hits both alike.
//! Prints the medians and the ratio; never a timed assertion.
#![expect(clippy::print_stdout, reason = "a benchmark reports its figures")]

use std::process::Command;

use buttons_benches::{alternate, median};
use buttons_spec::{Button, ButtonName, Drawer, DrawerKind, Step, Timestamp};
use buttons_store::{CodeSource, NewButton, Store};

mod common;

use common::{clean_env, quiet};

const ROUNDS: usize = 30;
const STEPS: usize = 20;

fn main() {
    let exe = common::release_binary();
    let tmp = tempfile::tempdir().expect("temp dir");
    let work = tmp.path();
    let data = work.join("data");
    let store = Store::at(&data).expect("store");
    store.init().expect("init");
    let name = ButtonName::new("noop").expect("valid name");
    store
        .create(NewButton {
            button: Button::new(&name, Timestamp::now()),
            code: CodeSource::Inline(String::new()),
            prompt: None,
        })
        .expect("create");
    let mut drawer = Drawer::new("twenty", DrawerKind::Action, Timestamp::now());
    for i in 0..STEPS {
        drawer.steps.push(Step {
            id: format!("s{i}"),
            button: Some("noop".into()),
            ..Step::default()
        });
    }
    store.create_drawer(&drawer).expect("create drawer");

    let mut separate = || {
        for _ in 0..STEPS {
            quiet(clean_env(&mut Command::new(&exe), work, &data).args(["press", "noop"]));
        }
    };
    let mut drawer = || {
        quiet(clean_env(&mut Command::new(&exe), work, &data).args(["drawer", "twenty", "press"]));
    };
    let samples = alternate(ROUNDS, &mut [&mut separate, &mut drawer]);
    let separate_ms = median(&samples[0]);
    let drawer_ms = median(&samples[1]);
    println!("medians over {ROUNDS} alternating rounds:");
    println!("  {STEPS} x buttons press noop        {separate_ms:8.2} ms");
    println!(
        "  buttons drawer twenty press ({STEPS} steps) {drawer_ms:8.2} ms  ({:.2}x; goal <= 1.3x)",
        drawer_ms / separate_ms
    );
}
