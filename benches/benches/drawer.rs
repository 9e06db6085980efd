//! A drawer of 20 sequential no-op shell steps against 20 separate
//! `buttons press` calls of the same button (goal: drawer <= 1.3x); and a
//! `for_each` of N 0.2 s sleeps with `parallelism: N` against the same loop
//! run serially (issue 11: the parallel speed-up, ideally close to N).
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
/// Iterations of the `for_each` comparison, and its rounds.
const ITEMS: usize = 8;
const LOOP_ROUNDS: usize = 7;

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
    let nap = ButtonName::new("nap").expect("valid name");
    store
        .create(NewButton {
            button: Button::new(&nap, Timestamp::now()),
            code: CodeSource::Inline("sleep 0.2".into()),
            prompt: None,
        })
        .expect("create");
    let items: Vec<usize> = (0..ITEMS).collect();
    for (name, parallelism) in [("loop-parallel", ITEMS), ("loop-serial", 1)] {
        let mut each = Drawer::new(name, DrawerKind::Action, Timestamp::now());
        each.steps.push(Step {
            id: "each".into(),
            kind: Some("for_each".into()),
            over: Some(serde_json::json!(items)),
            parallelism: Some(u32::try_from(parallelism).expect("small")),
            steps: vec![Step {
                id: "nap".into(),
                button: Some("nap".into()),
                ..Step::default()
            }],
            ..Step::default()
        });
        store.create_drawer(&each).expect("create drawer");
    }

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

    let (exe, data) = (&exe, &data);
    let press = |name: &'static str| {
        move || {
            quiet(clean_env(&mut Command::new(exe), work, data).args(["drawer", name, "press"]));
        }
    };
    let mut parallel = press("loop-parallel");
    let mut serial = press("loop-serial");
    let samples = alternate(LOOP_ROUNDS, &mut [&mut parallel, &mut serial]);
    let parallel_ms = median(&samples[0]);
    let serial_ms = median(&samples[1]);
    println!("medians over {LOOP_ROUNDS} alternating rounds:");
    println!("  for_each of {ITEMS} x sleep 0.2, serial          {serial_ms:8.2} ms");
    println!(
        "  for_each of {ITEMS} x sleep 0.2, parallelism {ITEMS}   {parallel_ms:8.2} ms  (speed-up {:.2}x)",
        serial_ms / parallel_ms
    );
}
