//! history (records made by presses are covered in press tests).

use crate::Sandbox;

#[test]
fn history_empty_and_unknown_button() {
    let sb = Sandbox::new();
    assert_eq!(sb.ok(&["history"]), serde_json::json!([]));
    sb.ok(&["create", "b", "--code", "true"]);
    assert_eq!(
        sb.ok(&["history", "b", "--last", "5"]),
        serde_json::json!([])
    );
    sb.err(&["history", "nope"], "NOT_FOUND");
    sb.err(&["history", "a/b"], "VALIDATION_ERROR");
}
