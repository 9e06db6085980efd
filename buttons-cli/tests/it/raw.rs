//! `buttons press NAME --raw`: the script's stdout as is (a pipe into a
//! JSON parser works), its stderr on stderr, its exit code as ours.

use serde_json::Value;

use crate::Sandbox;

#[test]
fn raw_stdout_parses_as_the_script_wrote_it() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "words",
        "--code",
        r#"printf '{"words": ["a", "b"]}'; echo note >&2"#,
    ]);
    let out = sb.cmd(&["press", "words", "--raw"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    // What `| jq .words` would read: the script's bytes, no envelope.
    assert_eq!(out.stdout, br#"{"words": ["a", "b"]}"#);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["words"][1], "b");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "note\n");
}

#[test]
fn raw_exits_with_the_script_s_code_and_errors_go_to_stderr() {
    let sb = Sandbox::new();
    sb.ok(&["create", "four", "--code", "echo out; exit 4"]);
    let out = sb.cmd(&["press", "four", "--raw"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(out.stdout, b"out\n");

    // Before the run: the envelope, on stderr, and exit 1.
    let out = sb.cmd(&["press", "nope", "--raw"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let json: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["error"]["code"], "NOT_FOUND");
}

#[test]
fn raw_http_writes_the_body_and_exits_by_status() {
    use buttons_http::test_support::Server;
    let sb = Sandbox::new();
    let ok = Server::fixed("127.0.0.1", 200, &[], br#"{"n":1}"#);
    let bad = Server::fixed("127.0.0.1", 500, &[], b"oops");
    for (name, server) in [("ok", &ok), ("bad", &bad)] {
        sb.ok(&[
            "create",
            name,
            "--url",
            &server.url("/"),
            "--allow-private-networks",
        ]);
    }
    let out = sb.cmd(&["press", "ok", "--raw"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, br#"{"n":1}"#);
    let out = sb.cmd(&["press", "bad", "--raw"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout, b"oops");
}

/// Bytes that are not UTF-8, NULs and a cut-short sequence at the end.
const AWKWARD: &[u8] = b"a\0b\xff\xfe\0c \xc3\xa9 \x80\x00\n\xe2\x82";

#[test]
fn raw_writes_invalid_utf8_and_nuls_exactly() {
    let sb = Sandbox::new();
    // printf with octal escapes writes AWKWARD byte for byte.
    let octal: String = AWKWARD.iter().map(|b| format!("\\{b:03o}")).collect();
    sb.ok(&["create", "bytes", "--code", &format!("printf '{octal}'")]);
    let out = sb.cmd(&["press", "bytes", "--raw"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, AWKWARD);
    // The envelope (and the record) keep the lossy text, as before.
    let json = sb.ok(&["press", "bytes"]);
    assert_eq!(json["stdout"], String::from_utf8_lossy(AWKWARD).as_ref());
}

#[test]
fn raw_http_writes_a_body_that_is_not_utf8_exactly() {
    use buttons_http::test_support::Server;
    let sb = Sandbox::new();
    let server = Server::fixed("127.0.0.1", 200, &[], AWKWARD);
    sb.ok(&[
        "create",
        "bin",
        "--url",
        &server.url("/"),
        "--allow-private-networks",
    ]);
    let out = sb.cmd(&["press", "bin", "--raw"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, AWKWARD);
}
