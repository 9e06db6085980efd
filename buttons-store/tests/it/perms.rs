use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;

use buttons_spec::{ButtonName, PressResult, RunRecord, Timestamp};
use buttons_store::{Error, Scope, Store};

use crate::make;

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every directory 0700 and file 0600 (code 0700) even under umask 000.
///
/// umask is process-wide, so the work runs in a child: this same test,
/// re-executed through `sh -c 'umask 000; exec …'` with `UMASK_CHILD_DIR` set.
#[test]
fn permissions_hold_under_any_umask() {
    if let Some(dir) = std::env::var_os("UMASK_CHILD_DIR") {
        let store = Store::at(Path::new(&dir).join("data")).unwrap();
        store.init().unwrap();
        let name = make(&store, "b", "echo hi");
        let at = Timestamp::UNIX_EPOCH;
        store
            .write_record(
                &name,
                &RunRecord::from_result(&PressResult::new("b", at), at),
            )
            .unwrap();
        store
            .create_progress_file(&name, &buttons_store::RunId::new(at))
            .unwrap();
        store.set_battery(Scope::Local, "TOKEN", "s3cret").unwrap();
        return;
    }
    // 000 would let modes through as asked; 0277 would strip them to
    // read-only. Either way the store must end up with exactly its modes.
    for umask in ["000", "0277"] {
        let tmp = tempfile::tempdir().unwrap();
        let exe = std::env::current_exe().unwrap();
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask}; exec \"$0\" --exact perms::permissions_hold_under_any_umask --test-threads 1"
            ))
            .arg(&exe)
            .env("UMASK_CHILD_DIR", tmp.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let data = tmp.path().join("data");
        let mut seen = 0;
        let mut stack = vec![data];
        while let Some(dir) = stack.pop() {
            assert_eq!(mode(&dir), 0o700, "umask {umask}: {}", dir.display());
            for entry in fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                seen += 1;
                let want = if path.is_dir() {
                    stack.push(path.clone());
                    0o700
                } else if path.file_name().unwrap() == "main.sh" {
                    0o700
                } else {
                    0o600
                };
                assert_eq!(mode(&path), want, "umask {umask}: {}", path.display());
            }
        }
        // .gitignore, AGENTS.md, batteries.json, buttons/, b/, 3 files, pressed/, record, progress, lock
        assert!(seen >= 12, "only {seen} entries");
    }
}

#[test]
fn planted_pressed_link_does_not_redirect_writes() {
    let (_t, store) = crate::temp_store();
    let outside = tempfile::tempdir().unwrap();
    let name = make(&store, "b", "true");
    let pressed = store.buttons_dir().join("b/pressed");
    // Made empty by create; replaced here by a link to elsewhere.
    fs::remove_dir(&pressed).unwrap();
    symlink(outside.path(), &pressed).unwrap();
    let at = Timestamp::UNIX_EPOCH;
    let record = RunRecord::from_result(&PressResult::new("b", at), at);
    let err = store.write_record(&name, &record).unwrap_err();
    assert!(matches!(err, Error::Symlink { .. }), "{err:?}");
    assert!(err.hint().unwrap().contains("remove the link"));
    assert!(
        store
            .create_progress_file(&name, &buttons_store::RunId::new(at))
            .is_err()
    );
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn planted_button_dir_link_does_not_redirect_writes() {
    let (_t, store) = crate::temp_store();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("button.json"), "{}").unwrap();
    symlink(outside.path(), store.buttons_dir().join("evil")).unwrap();
    let name = ButtonName::new("evil").unwrap();
    let at = Timestamp::UNIX_EPOCH;
    let record = RunRecord::from_result(&PressResult::new("evil", at), at);
    assert!(store.write_record(&name, &record).is_err());
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 1);
}

#[test]
fn planted_batteries_link_is_replaced_not_followed() {
    let (_t, store) = crate::temp_store();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("victim");
    fs::write(&target, "untouched").unwrap();
    symlink(&target, store.root().join("batteries.json")).unwrap();
    // Reading follows nothing useful (the victim is not JSON) and writing must not touch it.
    let _ = store.set_battery(Scope::Local, "K", "v");
    assert_eq!(fs::read_to_string(&target).unwrap(), "untouched");
}

#[test]
fn a_symlinked_data_dir_is_resolved_but_links_inside_are_not() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("dotfiles-buttons");
    fs::create_dir(&real).unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o700)).unwrap();
    let link = tmp.path().join("data");
    symlink(&real, &link).unwrap();
    let store = Store::at(&link).unwrap();
    store.init().unwrap();
    make(&store, "b", "true");
    assert!(real.join("buttons/b/button.json").is_file());
}
