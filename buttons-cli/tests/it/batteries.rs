//! batteries set|get|list|rm.

use serde_json::json;

use crate::{Sandbox, mode};

#[test]
fn set_get_list_rm() {
    let sb = Sandbox::new();
    let data = sb.ok(&["batteries", "set", "API_TOKEN", "s3cret-value"]);
    assert_eq!(data, json!({"key": "API_TOKEN", "scope": "local"}));
    assert_eq!(mode(&sb.data().join("batteries.json")), 0o600);
    let data = sb.ok(&["batteries", "get", "API_TOKEN"]);
    assert_eq!(data["value"], "s3cret-value");

    let run = sb.run(&["batteries", "list"]);
    let text = String::from_utf8_lossy(&run.output.stdout);
    assert!(!text.contains("s3cret"), "list printed a value: {text}");
    assert_eq!(
        run.json["data"],
        json!([{"key": "API_TOKEN", "scope": "local"}])
    );
    let data = sb.ok(&["batteries", "list", "--reveal"]);
    assert_eq!(data[0]["value"], "s3cret-value");
    let data = sb.ok(&["batteries", "list", "--show-values"]);
    assert_eq!(data[0]["value"], "s3cret-value");

    sb.ok(&["batteries", "rm", "API_TOKEN"]);
    sb.err(&["batteries", "get", "API_TOKEN"], "NOT_FOUND");
    sb.err(&["batteries", "rm", "API_TOKEN"], "NOT_FOUND");
}

#[test]
fn local_overrides_global() {
    let sb = Sandbox::new();
    sb.ok(&["batteries", "set", "TOKEN", "global-value", "--global"]);
    sb.ok(&["batteries", "set", "ONLY_G", "g", "--global"]);
    assert!(sb.home().join(".buttons/batteries.json").is_file());
    assert_eq!(mode(&sb.home().join(".buttons")), 0o700);
    let data = sb.ok(&["batteries", "get", "TOKEN"]);
    assert_eq!(
        (&data["value"], &data["scope"]),
        (&json!("global-value"), &json!("global"))
    );
    sb.ok(&["batteries", "set", "TOKEN", "local-value", "--local"]);
    let data = sb.ok(&["batteries", "get", "TOKEN"]);
    assert_eq!(
        (&data["value"], &data["scope"]),
        (&json!("local-value"), &json!("local"))
    );
    let list = sb.ok(&["batteries", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 3);
    sb.ok(&["batteries", "rm", "TOKEN", "--local"]);
    assert_eq!(
        sb.ok(&["batteries", "get", "TOKEN"])["value"],
        "global-value"
    );
}

#[test]
fn battery_errors() {
    let sb = Sandbox::new();
    sb.err(&["batteries", "set", "lower", "v"], "VALIDATION_ERROR");
    sb.err(&["batteries", "set", "A-B", "v"], "VALIDATION_ERROR");
    sb.err(&["batteries", "get", "bad key"], "VALIDATION_ERROR");
    sb.err(
        &["batteries", "set", "K", "v", "--global", "--local"],
        "VALIDATION_ERROR",
    );
    sb.err(&["batteries", "get", "MISSING"], "NOT_FOUND");
    std::fs::create_dir_all(sb.data()).unwrap();
    std::fs::write(sb.data().join("batteries.json"), "not json").unwrap();
    let e = sb.err(&["batteries", "list"], "VALIDATION_ERROR");
    assert!(e["hint"].as_str().unwrap().contains("batteries.json"));
}
