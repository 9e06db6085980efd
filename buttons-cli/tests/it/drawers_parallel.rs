//! `drawer NAME press --mode parallel` (issue 11): the dependency graph from
//! parsed references, `--on-failure stop|continue`, `--concurrency`, and
//! Ctrl-C during a parallel `for_each`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Sandbox;
use crate::drawers::{button, sandbox, write_drawer};

/// a → b, a → c, b + c → d; `b` fails when `fail_b`.
fn diamond(s: &Sandbox) {
    button(
        s,
        "emit",
        r#"sleep "$BUTTONS_ARG_S"; echo "{\"v\": \"$BUTTONS_ARG_V\"}""#,
        &["v:string:required", "s:string:optional"],
    );
    button(
        s,
        "maybe",
        r#"[ "$BUTTONS_ARG_FAIL" != true ] || exit 4; echo "{\"v\": \"$BUTTONS_ARG_V\"}""#,
        &["v:string:required", "fail:bool:optional"],
    );
    write_drawer(
        s,
        json!({"name": "diamond", "inputs": [{"name": "fail_b", "type": "bool", "default": false}], "steps": [
            {"id": "a", "button": "emit", "args": {"v": "A", "s": "0"}},
            {"id": "b", "button": "maybe", "args": {"v": "${a.output.v}B", "fail": "${inputs.fail_b}"}},
            {"id": "c", "button": "emit", "args": {"v": "${a.output.v}C", "s": "0.3"}},
            {"id": "d", "button": "emit", "args": {"v": "${b.output.v}+${c.output.v}", "s": "0"}}
        ]}),
    );
}

#[test]
fn a_diamond_runs_as_a_graph() {
    let s = sandbox();
    diamond(&s);
    let ran = s.ok(&["drawer", "diamond", "press", "--mode", "parallel"]);
    assert_eq!(ran["status"], "ok", "{ran}");
    assert_eq!(ran["mode"], "parallel");
    let ids: Vec<&str> = ran["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "b", "c", "d"], "entries in step order");
    assert_eq!(ran["steps"][3]["output"]["v"], "AB+AC");
}

#[test]
fn under_continue_the_dependents_of_a_failed_step_are_skipped() {
    let s = sandbox();
    diamond(&s);
    let run = s.run(&[
        "drawer",
        "diamond",
        "press",
        "fail_b=true",
        "--mode",
        "parallel",
        "--on-failure",
        "continue",
    ]);
    let data = &run.json["data"];
    assert_eq!(run.output.status.code(), Some(1), "{}", run.json);
    assert_eq!(run.json["error"]["code"], "SCRIPT_ERROR");
    assert_eq!(data["failed_step"], "b");
    let step = |id: &str| {
        data["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no step {id}: {data}"))
    };
    assert_eq!(step("a")["status"], "ok");
    assert_eq!(step("b")["status"], "failed");
    assert_eq!(step("c")["status"], "ok", "c does not depend on b");
    assert_eq!(step("c")["output"]["v"], "AC");
    assert_eq!(step("d")["status"], "skipped");
    assert_eq!(step("d")["skipped_because"], "b");
    // The record says the same.
    let logs = s.ok(&["drawer", "diamond", "logs"]);
    assert_eq!(logs[0]["steps"][3]["status"], "skipped");

    // Under stop (the default), d never runs and is not reported.
    let run = s.run(&[
        "drawer",
        "diamond",
        "press",
        "fail_b=true",
        "--mode",
        "parallel",
    ]);
    assert_eq!(run.output.status.code(), Some(1));
    let steps = run.json["data"]["steps"].as_array().unwrap().clone();
    assert!(steps.iter().all(|s| s["id"] != "d"), "{steps:?}");
}

#[test]
fn words_in_literals_and_inputs_paths_are_not_dependencies() {
    let s = sandbox();
    let marker = s.path().join("slow-done");
    button(
        &s,
        "slow",
        &format!("sleep 0.8; touch '{}'; echo done", marker.display()),
        &[],
    );
    button(
        &s,
        "probe",
        &format!(
            "if [ -e '{}' ]; then echo late; else echo early; fi",
            marker.display()
        ),
        &["note:string:optional"],
    );
    write_drawer(
        &s,
        json!({"name": "g", "inputs": [{"name": "slow", "default": "x"}], "steps": [
            {"id": "slow", "button": "slow"},
            {"id": "probe", "button": "probe", "args": {"note": "${inputs.slow} ${'slow'} slow"}},
            {"id": "after", "button": "probe", "args": {"note": "${slow.output}"}}
        ]}),
    );
    let ran = s.ok(&["drawer", "g", "press", "--mode", "parallel"]);
    assert_eq!(ran["steps"][1]["stdout"], "early\n", "{ran}");
    assert_eq!(ran["steps"][2]["stdout"], "late\n", "{ran}");
    std::fs::remove_file(&marker).unwrap();
    // `--concurrency 1` runs one step at a time, in order.
    let ran = s.ok(&[
        "drawer",
        "g",
        "press",
        "--mode",
        "parallel",
        "--concurrency",
        "1",
    ]);
    assert_eq!(ran["steps"][1]["stdout"], "late\n", "{ran}");
    s.err(
        &["drawer", "g", "press", "--concurrency", "2"],
        "VALIDATION_ERROR",
    );
    s.err(
        &["drawer", "g", "press", "--mode", "fast"],
        "VALIDATION_ERROR",
    );
}

#[test]
fn bounded_iterations_never_exceed_parallelism() {
    let s = sandbox();
    let live = s.path().join("live");
    let counts = s.path().join("counts");
    std::fs::create_dir(&live).unwrap();
    // Each press marks itself alive, counts the live ones, then leaves.
    button(
        &s,
        "track",
        &format!(
            "cd '{}'; : > \"p$$\"; set -- p*; echo $# >> '{}'; sleep 0.05; rm -f \"p$$\"",
            live.display(),
            counts.display()
        ),
        &["i:int:optional"],
    );
    let items: Vec<u32> = (0..120).collect();
    write_drawer(
        &s,
        json!({"name": "many", "inputs": [{"name": "items"}], "steps": [
            {"id": "each", "kind": "for_each", "over": "${inputs.items}", "parallelism": 8,
             "steps": [{"id": "t", "button": "track", "args": {"i": "${item}"}}]}
        ]}),
    );
    let ran = s.ok(&[
        "drawer",
        "many",
        "press",
        &format!("items={}", serde_json::to_string(&items).unwrap()),
    ]);
    assert_eq!(ran["steps"][0]["output"]["total"], 120);
    let seen: Vec<usize> = std::fs::read_to_string(&counts)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(seen.len(), 120);
    let max = *seen.iter().max().unwrap();
    assert!(max <= 8, "{max} presses alive at once (parallelism 8)");
    assert!(max >= 2, "iterations never overlapped: {seen:?}");
}

/// Whether `pid` is a live process (a zombie counts as gone).
fn alive(pid: &str) -> bool {
    let stat = Path::new("/proc").join(pid).join("stat");
    match std::fs::read_to_string(stat) {
        Err(_) => false,
        Ok(text) => !text
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn sigint_during_a_parallel_for_each_kills_every_iteration() {
    let s = sandbox();
    let pids = s.path().join("pids");
    std::fs::create_dir(&pids).unwrap();
    button(
        &s,
        "hang",
        &format!(
            "sleep 30 & echo $! > '{dir}/'$BUTTONS_ARG_I.sleep; echo $$ > '{dir}/'$BUTTONS_ARG_I.sh; wait",
            dir = pids.display()
        ),
        &["i:int:required"],
    );
    write_drawer(
        &s,
        json!({"name": "hang-all", "steps": [
            {"id": "each", "kind": "for_each", "over": "${[0, 1, 2, 3]}", "parallelism": 4,
             "steps": [{"id": "h", "button": "hang", "args": {"i": "${item}"}}]}
        ]}),
    );
    let child = s
        .cmd(&["drawer", "hang-all", "press"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let clock = Instant::now();
    let written = || {
        std::fs::read_dir(&pids)
            .unwrap()
            .filter(|e| {
                let p = e.as_ref().unwrap().path();
                std::fs::read_to_string(&p).is_ok_and(|t| t.ends_with('\n'))
            })
            .count()
    };
    while written() < 8 {
        assert!(
            clock.elapsed() < Duration::from_secs(30),
            "the iterations never all started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let all: Vec<String> = std::fs::read_dir(&pids)
        .unwrap()
        .map(|e| {
            std::fs::read_to_string(e.unwrap().path())
                .unwrap()
                .trim()
                .to_owned()
        })
        .collect();
    assert!(all.iter().all(|p| alive(p)), "all running before Ctrl-C");
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(clock.elapsed() < Duration::from_secs(25));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["error"]["code"], "CANCELLED", "{json}");
    // No process of any iteration is left.
    let deadline = Instant::now() + Duration::from_secs(5);
    while all.iter().any(|p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left: Vec<&String> = all.iter().filter(|p| alive(p)).collect();
    assert!(left.is_empty(), "still alive after Ctrl-C: {left:?}");
    // The run is recorded.
    let logs = s.ok(&["drawer", "hang-all", "logs"]);
    assert_eq!(logs.as_array().unwrap().len(), 1);
    assert_eq!(logs[0]["error"]["code"], "CANCELLED", "{logs}");
    let results = logs[0]["steps"][0]["output"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "{logs}");
}
