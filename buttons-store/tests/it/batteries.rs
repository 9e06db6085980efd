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
