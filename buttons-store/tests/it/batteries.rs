use std::fs;
use std::os::unix::fs::PermissionsExt;

use buttons_spec::ErrorCode;
use buttons_store::{Error, Location, Scope, Source, Store};

#[test]
fn local_wins_over_global_and_files_are_private() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let location = Location {
        root: tmp.path().join("proj/.buttons"),
        source: Source::Project,
        global: Some(home.join(".buttons")),
    };
    let store = Store::open(&location).unwrap();
    assert_eq!(store.default_scope(), Scope::Local);
    store.set_battery(Scope::Global, "TOKEN", "global").unwrap();
    store
        .set_battery(Scope::Global, "ONLY_GLOBAL", "g")
        .unwrap();
    store.set_battery(Scope::Local, "TOKEN", "local").unwrap();
    let merged = store.merged_batteries().unwrap();
    assert_eq!(merged.get("TOKEN"), Some("local"));
    assert_eq!(merged.get("ONLY_GLOBAL"), Some("g"));
    assert_eq!(
        store.battery("TOKEN").unwrap(),
        ("local".to_owned(), Scope::Local)
    );
    assert_eq!(store.battery("ONLY_GLOBAL").unwrap().1, Scope::Global);
    let entries = store.battery_entries().unwrap();
    assert_eq!(entries.len(), 3);
    for path in [
        store.batteries_path(Scope::Local),
        store.batteries_path(Scope::Global),
    ] {
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(
        fs::metadata(home.join(".buttons"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );

    store.remove_battery(Scope::Local, "TOKEN").unwrap();
    assert_eq!(store.battery("TOKEN").unwrap().0, "global");
    let err = store.remove_battery(Scope::Local, "TOKEN").unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    assert_eq!(
        store.battery("NOPE").unwrap_err().code(),
        ErrorCode::NotFound
    );
    let err = store.set_battery(Scope::Local, "lower", "x").unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
}

/// A `batteries.json` the Go tool wrote: its envelope.
const GO_FILE: &str = r#"{
  "schema_version": 1,
  "batteries": {
    "API_TOKEN": "from-go"
  }
}
"#;

fn on_disk(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

#[test]
fn reads_the_go_envelope_and_writes_it_back() {
    let (_t, store) = crate::temp_store();
    let path = store.batteries_path(Scope::Local);
    fs::write(&path, GO_FILE).unwrap();
    assert_eq!(store.battery("API_TOKEN").unwrap().0, "from-go");
    assert_eq!(store.merged_batteries().unwrap().len(), 1);
    store.set_battery(Scope::Local, "NEW", "n").unwrap();
    assert_eq!(
        on_disk(&path),
        serde_json::json!({"schema_version": 1, "batteries": {"API_TOKEN": "from-go", "NEW": "n"}})
    );
    store.remove_battery(Scope::Local, "NEW").unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), GO_FILE);
}

#[test]
fn reads_a_legacy_flat_file_and_rewrites_it_as_the_envelope() {
    let (_t, store) = crate::temp_store();
    let path = store.batteries_path(Scope::Local);
    fs::write(&path, "{\n  \"OLD\": \"flat\",\n  \"GONE\": \"x\"\n}\n").unwrap();
    assert_eq!(store.battery("OLD").unwrap().0, "flat");
    store.remove_battery(Scope::Local, "GONE").unwrap();
    assert_eq!(
        on_disk(&path),
        serde_json::json!({"schema_version": 1, "batteries": {"OLD": "flat"}})
    );
    // A file that did not exist is written as the envelope too.
    let (_t2, fresh) = crate::temp_store();
    fresh.set_battery(Scope::Local, "K", "v").unwrap();
    assert_eq!(
        on_disk(&fresh.batteries_path(Scope::Local)),
        serde_json::json!({"schema_version": 1, "batteries": {"K": "v"}})
    );
}

#[test]
fn a_newer_batteries_schema_is_refused_and_left_alone() {
    let (_t, store) = crate::temp_store();
    let path = store.batteries_path(Scope::Local);
    let newer = r#"{"schema_version": 2, "batteries": {"K": {"sealed": "…"}}}"#;
    fs::write(&path, newer).unwrap();
    let err = store.merged_batteries().unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
    assert!(err.to_string().contains("schema_version 2"), "{err}");
    assert!(err.hint().unwrap().contains("upgrade"));
    assert!(store.set_battery(Scope::Local, "K", "v").is_err());
    assert_eq!(fs::read_to_string(&path).unwrap(), newer);
}

/// With `BUTTONS_HOME` set, `$BUTTONS_HOME/batteries.json` is the one
/// (global) file, as in the Go tool: a project's `.buttons/` and
/// `~/.buttons/` play no part, and a local request lands in that file.
#[test]
fn buttons_home_is_the_single_global_scope() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let project = tmp.path().join("proj");
    for dir in [home.join(".buttons"), project.join(".buttons")] {
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        fs::write(dir.join("batteries.json"), r#"{"TOKEN": "elsewhere"}"#).unwrap();
    }
    let data = tmp.path().join("data");
    let location =
        Location::resolve(Some(data.as_os_str()), &project, Some(home.as_path())).unwrap();
    let store = Store::open(&location).unwrap();
    assert!(!store.has_separate_global());
    for requested in [None, Some(Scope::Local), Some(Scope::Global)] {
        assert_eq!(store.scope(requested), Scope::Global, "{requested:?}");
    }
    assert_eq!(
        store.batteries_path(Scope::Global),
        data.join("batteries.json")
    );
    assert_eq!(
        store.batteries_path(Scope::Local),
        data.join("batteries.json")
    );
    assert_eq!(
        store.battery("TOKEN").unwrap_err().code(),
        ErrorCode::NotFound
    );

    store
        .set_battery(store.scope(Some(Scope::Local)), "TOKEN", "home")
        .unwrap();
    assert_eq!(
        store.battery("TOKEN").unwrap(),
        ("home".to_owned(), Scope::Global)
    );
    assert_eq!(store.battery_entries().unwrap().len(), 1);
    assert_eq!(
        on_disk(&data.join("batteries.json")),
        serde_json::json!({"schema_version": 1, "batteries": {"TOKEN": "home"}})
    );
    for dir in [home.join(".buttons"), project.join(".buttons")] {
        assert_eq!(
            fs::read_to_string(dir.join("batteries.json")).unwrap(),
            r#"{"TOKEN": "elsewhere"}"#
        );
    }

    // Without BUTTONS_HOME the project's file is local over ~/.buttons.
    let location = Location::resolve(None, &project, Some(home.as_path())).unwrap();
    let store = Store::open(&location).unwrap();
    assert!(store.has_separate_global());
    assert_eq!(store.scope(None), Scope::Local);
    assert_eq!(store.scope(Some(Scope::Global)), Scope::Global);
    assert_eq!(
        store.battery("TOKEN").unwrap(),
        ("elsewhere".to_owned(), Scope::Local)
    );
}

#[test]
fn corrupt_batteries_file_is_reported() {
    let (_t, store) = crate::temp_store();
    fs::write(store.batteries_path(Scope::Local), "[1,2]").unwrap();
    let err = store.merged_batteries().unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
    assert!(err.hint().unwrap().contains("batteries.json"));
}

/// The global `~/.buttons/` gets the data directory's ownership check before
/// a global battery is written: one owned by another user is refused, and
/// nothing in it changes.
#[test]
fn global_batteries_refused_in_a_foreign_global_dir() {
    // Handing a directory to `nobody` needs root (CI runs as root), as in
    // `store::tests::refuses_foreign_root_when_we_can_chown`.
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: not root, so no directory can be handed to uid 65534");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let global = tmp.path().join("home/.buttons");
    fs::create_dir_all(&global).unwrap();
    fs::set_permissions(&global, fs::Permissions::from_mode(0o700)).unwrap();
    let file = global.join("batteries.json");
    let before = "{\n  \"OLD\": \"kept\"\n}\n";
    fs::write(&file, before).unwrap();
    for path in [&global, &file] {
        std::os::unix::fs::chown(path, Some(65534), Some(65534)).unwrap();
    }
    let location = Location {
        root: tmp.path().join("proj/.buttons"),
        source: Source::Project,
        global: Some(global.clone()),
    };
    let store = Store::open(&location).unwrap();
    assert!(store.has_separate_global());
    for attempt in [
        store.set_battery(Scope::Global, "TOKEN", "s3cret"),
        store.remove_battery(Scope::Global, "OLD"),
    ] {
        let err = attempt.unwrap_err();
        assert!(
            matches!(err, Error::ForeignOwner { owner: 65534, .. }),
            "{err:?}"
        );
        assert_eq!(err.code(), ErrorCode::ValidationError);
        assert!(
            err.to_string().contains(&global.display().to_string()),
            "{err}"
        );
        assert!(err.hint().unwrap().contains("chown"));
    }
    let left: Vec<_> = fs::read_dir(&global)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["batteries.json"], "written into it");
    assert_eq!(fs::read_to_string(&file).unwrap(), before);
    // The project's own scope is unaffected.
    store.set_battery(Scope::Local, "TOKEN", "local").unwrap();
    assert_eq!(store.battery("TOKEN").unwrap().0, "local");
}
