//! File-system hardening (issue 17), through the real binary: no delete
//! through a linked `buttons/`, no lost battery updates under concurrent
//! writers, no readable secret left by a killed `batteries set`, no hang on
//! a FIFO or `/dev/zero` where a spec, record, batteries or `--file` belongs,
//! `history` skipping unreadable records, and no write outside the data
//! directory while `pressed/` or the button folder is flipped to a link.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::{Run, Sandbox, mode};

/// Longest a command may take before the guard kills it and the test fails.
/// The answer normally comes in milliseconds (the bound is 2 s); the
/// guard is generous for a loaded machine but catches a hang or a read of
/// `/dev/zero` until memory runs out.
const GUARD: Duration = Duration::from_secs(10);

/// Runs `cmd` (stdout piped: JSON) and kills it if it is not done within
/// [`GUARD`], failing the test instead of hanging it.
fn guarded(mut cmd: Command) -> Run {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > GUARD {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not answer within {GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{cmd:?}: stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    Run { output, json }
}

/// Asserts a `VALIDATION_ERROR` whose message names `path`.
fn assert_refused(run: &Run, path: &Path, what: &str) {
    assert_eq!(run.json["ok"], false, "{what}: {}", run.json);
    assert_eq!(
        run.json["error"]["code"], "VALIDATION_ERROR",
        "{what}: {}",
        run.json
    );
    let message = run.json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&path.display().to_string()),
        "{what}: the message does not name {}: {message}",
        path.display()
    );
}

fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

/// The special files planted where a regular file belongs: a FIFO (an
/// open for reading would block) and a link to `/dev/zero` (endless).
const SPECIAL: [&str; 2] = ["a FIFO", "a link to /dev/zero"];

/// Replaces `path` with the special file `what` (one of [`SPECIAL`]).
fn plant_special(path: &Path, what: &str) {
    let _ = std::fs::remove_file(path);
    if what == SPECIAL[0] {
        mkfifo(path);
    } else {
        symlink("/dev/zero", path).unwrap();
    }
}

#[test]
fn delete_refuses_a_linked_buttons_folder_and_leaves_the_other_project_alone() {
    let sb = Sandbox::new();
    let other = sb.path().join("other");
    let mut create = sb.cmd(&["create", "victim", "--code", "true"]);
    create.env("BUTTONS_HOME", &other);
    assert!(create.output().unwrap().status.success());
    let victim = other.join("buttons/victim");
    assert!(victim.join("button.json").is_file());

    sb.ok(&["init"]);
    std::fs::remove_dir(sb.data().join("buttons")).unwrap();
    symlink(other.join("buttons"), sb.data().join("buttons")).unwrap();
    let err = sb.err(&["delete", "victim", "--force"], "VALIDATION_ERROR");
    assert!(
        err["message"].as_str().unwrap().contains("buttons"),
        "{err}"
    );
    assert!(
        victim.join("button.json").is_file(),
        "delete followed the link into another project"
    );
}

fn battery_keys(sb: &Sandbox) -> Vec<String> {
    let file: Value =
        serde_json::from_slice(&std::fs::read(sb.data().join("batteries.json")).unwrap()).unwrap();
    let mut keys: Vec<String> = file["batteries"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

fn spawn_quiet(mut cmd: Command) -> Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn twenty_concurrent_batteries_sets_keep_twenty_keys_and_rm_does_not_resurrect() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    let children: Vec<Child> = (0..20)
        .map(|i| {
            spawn_quiet(sb.cmd(&[
                "batteries",
                "set",
                &format!("KEY_{i:02}"),
                &format!("value-{i}"),
            ]))
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let expected: Vec<String> = (0..20).map(|i| format!("KEY_{i:02}")).collect();
    assert_eq!(battery_keys(&sb), expected);

    // Ten removals racing ten new sets: the removed stay removed.
    let mut children = Vec::new();
    for i in 0..10 {
        children.push(spawn_quiet(sb.cmd(&[
            "batteries",
            "rm",
            &format!("KEY_{i:02}"),
        ])));
        children.push(spawn_quiet(sb.cmd(&[
            "batteries",
            "set",
            &format!("NEW_{i:02}"),
            "v",
        ])));
    }
    for child in children {
        assert!(child.wait_with_output().unwrap().status.success());
    }
    let mut expected: Vec<String> = (10..20).map(|i| format!("KEY_{i:02}")).collect();
    expected.extend((0..10).map(|i| format!("NEW_{i:02}")));
    expected.sort();
    assert_eq!(battery_keys(&sb), expected);
}

/// Every file in `dir` (recursively) other than the ones listed.
fn files_except(dir: &Path, keep: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if keep.contains(&name.as_str()) {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            out.extend(files_except(&entry.path(), keep));
        } else {
            out.push(entry.path());
        }
    }
    out
}

#[test]
fn killed_batteries_set_leaves_only_private_ignored_temp_files_that_the_next_write_removes() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    let gitignore = std::fs::read_to_string(sb.data().join(".gitignore")).unwrap();
    assert!(gitignore.lines().any(|l| l == ".tmp-*"), "{gitignore}");
    // A value big enough that some kills land mid-write.
    let secret = "s3cret-".repeat(14_000);
    sb.ok(&["batteries", "set", "FIRST", "one"]);
    let keep = ["batteries.json", ".gitignore", "AGENTS.md", "buttons"];
    for i in 0..80u64 {
        let mut child = spawn_quiet(sb.cmd(&["batteries", "set", "TOKEN", &secret]));
        std::thread::sleep(Duration::from_micros((i * 397) % 4000));
        let _ = child.kill();
        let _ = child.wait();
        for stray in files_except(&sb.data(), &keep) {
            let name = stray.file_name().unwrap().to_str().unwrap();
            assert!(
                name.starts_with(".tmp-"),
                "a killed set left {} (not git-ignored)",
                stray.display()
            );
            if stray.exists() {
                assert_eq!(mode(&stray), 0o600, "{}", stray.display());
            }
        }
        // batteries.json is always whole: the old or the new file.
        let file: Value =
            serde_json::from_slice(&std::fs::read(sb.data().join("batteries.json")).unwrap())
                .unwrap();
        assert_eq!(file["batteries"]["FIRST"], "one");
    }
    // A leftover as a killed writer leaves it, a minute old: the next write removes it.
    let planted = sb.data().join(".tmp-4242-000001");
    std::fs::write(&planted, &secret).unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o600)).unwrap();
    let old = SystemTime::now() - Duration::from_secs(120);
    for stray in files_except(&sb.data(), &keep) {
        if let Ok(f) = std::fs::File::options().append(true).open(&stray) {
            f.set_modified(old).unwrap();
        }
    }
    sb.ok(&["batteries", "set", "LAST", "x"]);
    let left = files_except(&sb.data(), &keep);
    assert!(left.is_empty(), "stale temporary files survived: {left:?}");
}

#[test]
fn an_old_gitignore_gets_the_temp_line_on_the_next_write() {
    let sb = Sandbox::new();
    std::fs::create_dir(sb.data()).unwrap();
    std::fs::set_permissions(sb.data(), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(sb.data().join(".gitignore"), "batteries.json\n").unwrap();
    sb.ok(&["batteries", "set", "K", "v"]);
    let text = std::fs::read_to_string(sb.data().join(".gitignore")).unwrap();
    assert_eq!(text, "batteries.json\n.tmp-*\n");
}

#[test]
fn killed_create_and_delete_leave_temp_folders_the_next_write_removes() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    let buttons = sb.data().join("buttons");
    // What a create killed before its rename leaves behind.
    let left = buttons.join(".tmp-create-x-4242-000001");
    std::fs::create_dir_all(left.join("pressed")).unwrap();
    std::fs::write(left.join("button.json"), "{}").unwrap();
    let aside = buttons.join(".tmp-delete-y-4242-000002");
    std::fs::create_dir_all(aside.join("pressed")).unwrap();
    std::fs::write(aside.join("pressed/r.json"), "{\"stdout\":\"secret\"}").unwrap();
    let fresh = buttons.join(".tmp-create-z-4242-000003");
    std::fs::create_dir(&fresh).unwrap();
    let old = SystemTime::now() - Duration::from_secs(120);
    for dir in [&left, &aside] {
        std::fs::File::open(dir).unwrap().set_modified(old).unwrap();
    }
    sb.ok(&["create", "b", "--code", "true"]);
    assert!(!left.exists() && !aside.exists());
    assert!(
        fresh.exists(),
        "a temp folder under a minute old may be in use"
    );
    // Listing ignores temp folders.
    let names: Vec<String> = sb
        .ok(&["list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names, ["b"]);
}

#[test]
fn a_fifo_or_dev_zero_as_button_json_is_refused_quickly() {
    let sb = Sandbox::new();
    sb.ok(&["create", "b", "--code", "true"]);
    let spec = sb.data().join("buttons/b/button.json");
    for what in SPECIAL {
        plant_special(&spec, what);
        assert_refused(&guarded(sb.cmd(&["press", "b"])), &spec, what);
        assert_refused(&guarded(sb.cmd(&["b"])), &spec, what);
        // `list` answers, with the button's error.
        let run = guarded(sb.cmd(&["list"]));
        assert!(run.output.status.code().is_some(), "{what}");
    }
}

#[test]
fn a_fifo_or_dev_zero_as_batteries_json_is_refused_quickly() {
    let sb = Sandbox::new();
    sb.ok(&["create", "b", "--code", "true"]);
    let path = sb.data().join("batteries.json");
    for what in SPECIAL {
        plant_special(&path, what);
        assert_refused(&guarded(sb.cmd(&["batteries", "list"])), &path, what);
        assert_refused(
            &guarded(sb.cmd(&["batteries", "set", "K", "v"])),
            &path,
            what,
        );
        let press = guarded(sb.cmd(&["press", "b"]));
        assert_eq!(press.json["ok"], false, "{what}: {}", press.json);
    }
}

#[test]
fn a_fifo_or_dev_zero_as_file_is_refused_quickly_and_file_is_capped() {
    let sb = Sandbox::new();
    let path = sb.path().join("code.sh");
    for what in SPECIAL {
        plant_special(&path, what);
        let run = guarded(sb.cmd(&["create", "c", "--file", path.to_str().unwrap()]));
        assert_refused(&run, &path, what);
        assert!(!sb.data().join("buttons/c").exists());
    }
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, vec![b'#'; 1024 * 1024 + 1]).unwrap();
    let run = guarded(sb.cmd(&["create", "c", "--file", path.to_str().unwrap()]));
    assert_refused(&run, &path, "a file over 1 MiB");
    std::fs::write(&path, "#!/bin/sh\necho hi\n").unwrap();
    sb.ok(&["create", "c", "--file", path.to_str().unwrap()]);
}

#[test]
fn history_skips_and_counts_unreadable_records_and_never_hangs() {
    let sb = Sandbox::new();
    sb.ok(&["create", "b", "--code", "echo hi"]);
    sb.ok(&["press", "b"]);
    let pressed = sb.data().join("buttons/b/pressed");
    std::fs::create_dir(pressed.join("2099-01-01T00-00-00.000000000Z-1-000000.json")).unwrap();
    mkfifo(&pressed.join("2099-01-01T00-00-01.000000000Z-1-000000.json"));
    symlink(
        "/dev/zero",
        pressed.join("2099-01-01T00-00-02.000000000Z-1-000000.json"),
    )
    .unwrap();
    for args in [&["history"][..], &["history", "b"][..]] {
        let run = guarded(sb.cmd(args));
        assert_eq!(run.json["ok"], true, "{args:?}: {}", run.json);
        assert_eq!(run.json["skipped"], 3, "{args:?}: {}", run.json);
        assert_eq!(run.json["data"].as_array().unwrap().len(), 1);
    }
    // `buttons NAME` (its last record) answers too.
    let run = guarded(sb.cmd(&["b"]));
    assert_eq!(run.json["ok"], true, "{}", run.json);
}

#[test]
fn a_name_mismatch_names_both_names_without_debug_forms() {
    let sb = Sandbox::new();
    sb.ok(&["create", "s", "--code", "true"]);
    let spec = sb.data().join("buttons/s/button.json");
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("\"name\": \"s\"", "\"name\": \"other\"");
    assert!(text.contains("\"other\""), "{text}");
    std::fs::write(&spec, text).unwrap();
    let run = sb.run(&["press", "s"]);
    let all = format!("{} {}", run.json, run.stderr());
    assert_eq!(run.json["ok"], false, "{all}");
    assert!(!all.contains("ButtonName("), "{all}");
    let run = guarded(sb.cmd(&["s"]));
    let all = run.json.to_string();
    assert!(!all.contains("ButtonName("), "{all}");
}

/// Flips `target` between the real folder and a link to `outside` until
/// `stop` is set; leaves the real folder in place.
fn flipper(
    target: PathBuf,
    outside: PathBuf,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let aside = target.with_file_name(".flip-aside");
        while !stop.load(Ordering::Relaxed) {
            if std::fs::rename(&target, &aside).is_ok() {
                let _ = symlink(&outside, &target);
                std::thread::sleep(Duration::from_micros(300));
                let _ = std::fs::remove_file(&target);
                // A press may have made a fresh folder meanwhile (inside the
                // data directory: allowed); the real one goes back.
                while std::fs::rename(&aside, &target).is_err() {
                    let _ = std::fs::remove_dir_all(&target);
                }
            }
            std::thread::sleep(Duration::from_micros(300));
        }
    })
}

#[test]
fn flipping_pressed_or_the_button_folder_to_a_link_never_writes_outside() {
    let sb = Sandbox::new();
    sb.ok(&["create", "b", "--code", "echo hi"]);
    let outside = sb.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    // The outside folder looks like a button folder, so a followed link
    // would find somewhere to write.
    std::fs::create_dir(outside.join("pressed")).unwrap();
    std::fs::copy(
        sb.data().join("buttons/b/button.json"),
        outside.join("button.json"),
    )
    .unwrap();
    std::fs::copy(sb.data().join("buttons/b/main.sh"), outside.join("main.sh")).unwrap();
    for target in [
        sb.data().join("buttons/b/pressed"),
        sb.data().join("buttons/b"),
    ] {
        let link_to = if target.ends_with("pressed") {
            outside.join("pressed")
        } else {
            outside.clone()
        };
        let stop = Arc::new(AtomicBool::new(false));
        let flip = flipper(target.clone(), link_to, stop.clone());
        for _ in 0..40 {
            let _ = guarded(sb.cmd(&["press", "b"]));
        }
        stop.store(true, Ordering::Relaxed);
        flip.join().unwrap();
        assert!(target.is_dir() && !target.is_symlink());
        let written: Vec<_> = std::fs::read_dir(outside.join("pressed"))
            .unwrap()
            .collect();
        assert!(written.is_empty(), "written outside: {written:?}");
        let mut top: Vec<String> = std::fs::read_dir(&outside)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        top.sort();
        assert_eq!(top, ["button.json", "main.sh", "pressed"]);
    }
    // The data directory still works.
    sb.ok(&["press", "b"]);
}

#[test]
fn a_fifo_as_agents_md_or_webhook_body_never_hangs() {
    let sb = Sandbox::new();
    sb.ok(&["create", "code", "--code", "echo hi"]);
    sb.ok(&["create", "ask", "--prompt", "Summarise the logs"]);
    for name in ["code", "ask"] {
        mkfifo(&sb.data().join("buttons").join(name).join("AGENTS.md"));
    }
    // Showing a button reads its notes; a FIFO there is no notes.
    let shown = guarded(sb.cmd(&["code"]));
    assert_eq!(shown.json["ok"], true, "{}", shown.json);
    // A code press attaches notes; a prompt press returns them.
    let pressed = guarded(sb.cmd(&["press", "code"]));
    assert_eq!(pressed.json["ok"], true, "{}", pressed.json);
    let prompt = guarded(sb.cmd(&["press", "ask"]));
    assert_eq!(prompt.json["ok"], false, "{}", prompt.json);

    sb.ok(&["drawer", "create", "d"]);
    let body = sb.path().join("body.json");
    mkfifo(&body);
    let at = format!("@{}", body.display());
    let run = guarded(sb.cmd(&["drawer", "d", "press", "--webhook-body", &at]));
    assert_refused(&run, &body, "--webhook-body @FIFO");
}
