use std::fs;

use buttons_store::Store;

/// The secret-bearing entries reference §2 requires, written out here rather
/// than taken from `GITIGNORE_LINES`, so dropping one from the constant fails.
const REQUIRED: [&str; 8] = [
    "batteries.json",
    "history.json",
    "webhook.json",
    "agent.json",
    "buttons/*/pressed/",
    "drawers/*/pressed/",
    "idempotency/",
    "queues/",
];

fn lines(text: &str) -> Vec<&str> {
    text.lines().map(str::trim).collect()
}

#[test]
fn gitignore_covers_every_secret_bearing_entry_and_keeps_user_lines() {
    // A fresh data directory.
    let tmp = tempfile::tempdir().unwrap();
    let fresh = tmp.path().join("fresh");
    let report = Store::at(&fresh).unwrap().init().unwrap();
    let text = fs::read_to_string(fresh.join(".gitignore")).unwrap();
    for entry in REQUIRED {
        assert!(lines(&text).contains(&entry), "{entry} missing:\n{text}");
        assert!(report.gitignore_added.iter().any(|l| l == entry), "{entry}");
    }

    // An existing .gitignore: the user's lines stay, in place and once, and
    // every required entry is added (an entry already there is not doubled).
    let existing = tmp.path().join("existing");
    fs::create_dir(&existing).unwrap();
    let mine = "# mine\nnode_modules/\n*.log\nhistory.json";
    fs::write(existing.join(".gitignore"), mine).unwrap();
    Store::at(&existing).unwrap().init().unwrap();
    let text = fs::read_to_string(existing.join(".gitignore")).unwrap();
    assert!(
        text.starts_with("# mine\nnode_modules/\n*.log\nhistory.json\n"),
        "{text}"
    );
    for entry in REQUIRED {
        let n = lines(&text).iter().filter(|l| **l == entry).count();
        assert_eq!(n, 1, "{entry} appears {n} times:\n{text}");
    }
    for own in ["# mine", "node_modules/", "*.log"] {
        assert_eq!(
            lines(&text).iter().filter(|l| **l == own).count(),
            1,
            "{own}"
        );
    }
}
