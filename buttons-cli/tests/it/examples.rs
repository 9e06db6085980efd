//! The repository's example buttons (`.buttons/` at the root) work: each is
//! copied into a temporary BUTTONS_HOME (the repository's folder is never
//! written to) and pressed.

use std::fs;
use std::path::Path;

use crate::Sandbox;

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "pressed" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn example_buttons_press() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join(".buttons");
    let sb = Sandbox::new();
    copy_dir(&repo, &sb.data());
    let names: Vec<String> = sb
        .ok(&["list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["hello", "review-changes", "word-count"]);

    let data = sb.ok(&["press", "hello", "--arg", "name=World"]);
    assert_eq!(data["stdout"], "Hello, World!\n");
    let data = sb.ok(&["press", "review-changes"]);
    assert!(data["stdout"].as_str().unwrap().contains("git diff"));
    let run = sb.run(&["press", "word-count", "--arg", "text=one two three"]);
    if run.json["ok"] == true {
        assert_eq!(
            run.json["data"]["stdout"],
            "{\"words\": 3, \"characters\": 13}\n"
        );
    } else {
        // Only acceptable failure: no Python on this machine.
        assert_eq!(run.json["error"]["code"], "RUNTIME_MISSING", "{}", run.json);
    }
}
