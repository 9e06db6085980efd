//! A drawer called as an MCP tool with a `progressToken`: one
//! `notifications/progress` per finished step, before the result.

use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

use serde_json::{Value, json};

use crate::drawers::{button, sandbox, write_drawer};
use crate::mcp::raw_session;

#[test]
fn a_drawer_tool_reports_progress_per_finished_step() {
    let s = sandbox();
    button(&s, "hello", r#"echo '{"greeting": "hi"}'"#, &[]);
    write_drawer(
        &s,
        json!({"name": "three", "steps": [
            {"id": "one", "button": "hello"},
            {"id": "pause", "kind": "wait", "duration": "50ms"},
            {"id": "two", "button": "hello"}
        ]}),
    );
    s.ok(&["mcp", "enable", "three"]);
    let (mut child, mut stdin) = raw_session(&s);
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = std::iter::from_fn(move || rx.recv_timeout(Duration::from_secs(30)).ok());
    assert!(
        lines
            .by_ref()
            .any(|l| serde_json::from_str::<Value>(&l).is_ok_and(|m| m["id"] == 1)),
        "no initialize answer"
    );
    let mut call = |id: u32, meta: Option<Value>| {
        let mut params = json!({"name": "three", "arguments": {}});
        if let Some(meta) = meta {
            params["_meta"] = meta;
        }
        let request = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params});
        writeln!(stdin, "{request}").unwrap();
        let mut progress = Vec::new();
        loop {
            let line = lines.next().expect("the server answers");
            let message: Value = serde_json::from_str(&line).unwrap();
            if message["method"] == "notifications/progress" {
                progress.push(message["params"].clone());
            } else if message["id"] == id {
                break (message, progress);
            }
        }
    };
    let (response, progress) = call(2, Some(json!({"progressToken": "tok"})));
    assert_eq!(response["result"]["isError"], false, "{response}");
    assert_eq!(progress.len(), 3, "{progress:?}");
    for (i, (p, id)) in progress.iter().zip(["one", "pause", "two"]).enumerate() {
        assert_eq!(p["progressToken"], "tok", "{p}");
        assert_eq!(
            p["progress"],
            f64::from(u8::try_from(i + 1).unwrap()),
            "{p}"
        );
        assert_eq!(p["total"], 3.0, "{p}");
        assert_eq!(p["message"], format!("step {id}: ok"), "{p}");
    }
    // Without a token: no notifications.
    let (response, progress) = call(3, None);
    assert_eq!(response["result"]["isError"], false, "{response}");
    assert!(progress.is_empty(), "{progress:?}");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
