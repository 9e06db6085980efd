//! `buttons serve`: the real binary on 127.0.0.1 (`--port 0`), driven over
//! raw TCP so that every header, odd ones included, is exactly what a test
//! writes.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Sandbox;

/// A running `buttons serve`.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) port: u16,
    /// The startup line's `data`.
    pub(crate) startup: Value,
}

/// One HTTP response.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts an error envelope with this status and code.
    pub(crate) fn assert_error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        let json = self.json();
        assert_eq!(json["ok"], false, "{json}");
        assert_eq!(json["error"]["code"], code, "{json}");
        assert!(
            json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        json["error"].clone()
    }
}

impl Server {
    pub(crate) fn start(sb: &Sandbox, args: &[&str]) -> Self {
        Self::start_with(sb, args, |_| {})
    }

    pub(crate) fn start_with(
        sb: &Sandbox,
        args: &[&str],
        setup: impl FnOnce(&mut std::process::Command),
    ) -> Self {
        let mut all = vec!["serve", "--port", "0"];
        all.extend_from_slice(args);
        let mut cmd = sb.cmd(&all);
        cmd.env_remove("BUTTONS_API_KEY");
        setup(&mut cmd);
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let envelope: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            let _ = child.kill();
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("no startup line ({e}): {line:?}, stderr: {err}")
        });
        assert_eq!(envelope["ok"], true, "{envelope}");
        let startup = envelope["data"].clone();
        let addr: std::net::SocketAddr = startup["addr"].as_str().unwrap().parse().unwrap();
        assert!(addr.ip().is_loopback());
        assert_ne!(addr.port(), 0);
        Self {
            child,
            port: addr.port(),
            startup,
        }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Sends one request (`Connection: close`) and reads the whole response.
    /// A `Host` header in `headers` replaces the default one.
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            let _ = write!(head, "Host: {}\r\n", self.host());
        }
        for (k, v) in headers {
            let _ = write!(head, "{k}: {v}\r\n");
        }
        if method == "POST" {
            let _ = write!(head, "Content-Length: {}\r\n", body.len());
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        // The server may answer (413) before it reads the body: write it
        // from another thread and ignore a reset.
        let mut writer = stream.try_clone().unwrap();
        let body = body.to_vec();
        let sending = std::thread::spawn(move || {
            let _ = writer.write_all(&body);
        });
        let resp = read_response(&mut stream);
        let _ = sending.join();
        resp
    }

    fn get(&self, path: &str) -> Resp {
        self.request("GET", path, &[], b"")
    }

    fn get_auth(&self, path: &str, key: &str) -> Resp {
        let auth = format!("Bearer {key}");
        self.request("GET", path, &[("Authorization", &auth)], b"")
    }

    fn press(&self, name: &str, body: &Value) -> Resp {
        self.request(
            "POST",
            &format!("/api/buttons/{name}/press"),
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        )
    }

    /// SIGTERM, then waits (at most `within`) for the exit.
    pub(crate) fn stop(mut self, within: Duration) -> ExitStatus {
        signal(self.child.id(), "TERM");
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(pid: u32, name: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

pub(crate) fn read_response(stream: &mut TcpStream) -> Resp {
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head: {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
}

fn button_json(sb: &Sandbox, name: &str) -> std::path::PathBuf {
    sb.data().join("buttons").join(name).join("button.json")
}

/// Rewrites fields of a button's spec on disk.
fn edit_spec(sb: &Sandbox, name: &str, edit: impl FnOnce(&mut Value)) {
    let path = button_json(sb, name);
    let mut spec: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut spec);
    std::fs::write(&path, spec.to_string()).unwrap();
}

fn records(sb: &Sandbox, name: &str) -> Vec<Value> {
    sb.ok(&["history", name]).as_array().unwrap().clone()
}

#[test]
fn the_startup_line_is_honest() {
    let sb = Sandbox::new();
    let server = Server::start(&sb, &["--no-triggers"]);
    let s = &server.startup;
    assert_eq!(s["auth"]["type"], "none");
    assert_eq!(s["triggers_enabled"], false);
    let endpoints: Vec<&str> = s["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        endpoints.contains(&"POST /api/buttons/{name}/press"),
        "{endpoints:?}"
    );
    assert!(server.stop(Duration::from_secs(20)).success());
}

#[test]
fn listings_show_header_and_env_names_but_never_values() {
    let sb = Sandbox::new();
    sb.ok(&["create", "hello", "--code", "echo hi", "-d", "says hi"]);
    sb.ok(&[
        "create",
        "api",
        "--url",
        "http://127.0.0.1:9/x",
        "--header",
        "Authorization: Bearer header-secret",
    ]);
    edit_spec(&sb, "hello", |spec| {
        spec["env"] = json!({ "TOKEN": "env-secret" });
    });
    let server = Server::start(&sb, &[]);

    let health = server.get("/api/health");
    assert_eq!(health.status, 200);
    assert_eq!(
        health.json(),
        json!({ "status": "ok", "service": "buttons" })
    );

    let list = server.get("/api/buttons");
    assert_eq!(list.status, 200, "{}", list.text());
    let text = list.text();
    assert!(
        !text.contains("header-secret") && !text.contains("env-secret"),
        "{text}"
    );
    let buttons = list.json()["buttons"].as_array().unwrap().clone();
    let names: Vec<&str> = buttons
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api", "hello"]);
    assert_eq!(buttons[0]["headers"], json!(["Authorization"]));
    assert_eq!(buttons[1]["env"], json!(["TOKEN"]));
    assert_eq!(buttons[1]["description"], "says hi");

    for name in ["api", "hello"] {
        let one = server.get(&format!("/api/buttons/{name}"));
        assert_eq!(one.status, 200);
        assert_eq!(one.json()["name"], name);
        let text = one.text();
        assert!(
            !text.contains("header-secret") && !text.contains("env-secret"),
            "{text}"
        );
    }
    server
        .get("/api/buttons/nope")
        .assert_error(404, "NOT_FOUND");
    server
        .get("/api/buttons/nope/runs")
        .assert_error(404, "NOT_FOUND");
    server
        .get("/api/nothing-here")
        .assert_error(404, "NOT_FOUND");
}

#[test]
fn presses_and_their_status_codes() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "add",
        "--code",
        "echo $((BUTTONS_ARG_A + BUTTONS_ARG_B)) $BUTTONS_ARG_LOUD",
        "--arg",
        "a:int:required",
        "--arg",
        "b:int:optional",
        "--arg",
        "loud:bool:optional",
    ]);
    sb.ok(&["create", "fails", "--code", "echo oops >&2; exit 3"]);
    let server = Server::start(&sb, &[]);

    // Values as JSON numbers and booleans, or as strings (the Go tool's way).
    let ok = server.press(
        "add",
        &json!({ "args": { "a": 2, "b": "3", "loud": true } }),
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    let result = ok.json();
    assert_eq!(result["status"], "ok");
    assert_eq!(result["stdout"], "5 true\n");
    assert!(result["run_id"].is_string());

    // A press that runs and fails is still 200, with its result.
    let failed = server.press("fails", &json!({}));
    assert_eq!(failed.status, 200, "{}", failed.text());
    assert_eq!(failed.json()["status"], "error");
    assert_eq!(failed.json()["exit_code"], 3);

    server
        .press("add", &json!({ "args": { "b": 1 } }))
        .assert_error(400, "MISSING_ARG");
    server
        .press("add", &json!({ "args": { "a": "two" } }))
        .assert_error(400, "VALIDATION_ERROR");
    server
        .press("add", &json!({ "args": { "a": 1.5 } }))
        .assert_error(400, "VALIDATION_ERROR");
    server
        .press("add", &json!({ "args": { "a": 1, "zzz": 1 } }))
        .assert_error(400, "VALIDATION_ERROR");
    server
        .press("add", &json!({ "args": { "a": 1 }, "timeout": -1 }))
        .assert_error(400, "VALIDATION_ERROR");
    server
        .press("add", &json!({ "args": [1] }))
        .assert_error(400, "BAD_REQUEST");
    server
        .request(
            "POST",
            "/api/buttons/add/press",
            &[("Content-Type", "application/json")],
            b"{not json",
        )
        .assert_error(400, "BAD_REQUEST");
    server
        .press("nope", &json!({}))
        .assert_error(404, "NOT_FOUND");
    // A timeout above the cap is accepted (and capped).
    let capped = server.press("add", &json!({ "args": { "a": 1 }, "timeout": 100000 }));
    assert_eq!(capped.status, 200, "{}", capped.text());
    server
        .request("DELETE", "/api/buttons/add", &[], b"")
        .assert_error(405, "METHOD_NOT_ALLOWED");

    // Runs: newest first, at most 20, with or without output.
    for _ in 0..21 {
        assert_eq!(server.press("fails", &json!({})).status, 200);
    }
    let runs = server.get("/api/buttons/fails/runs");
    assert_eq!(runs.status, 200);
    let runs = runs.json()["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 20);
    assert!(runs[0]["started_at"].as_str() > runs[1]["started_at"].as_str());
    assert_eq!(runs[0]["stderr"], "oops\n");
    let quiet = server.get("/api/buttons/fails/runs?no_output=1").json();
    let first = &quiet["runs"][0];
    assert!(
        first.get("stderr").is_none() && first.get("stdout").is_none(),
        "{first}"
    );
    assert_eq!(first["exit_code"], 3);
}

#[test]
fn an_idempotency_key_presses_once() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "count",
        "--code",
        "echo $BUTTONS_ARG_N",
        "--arg",
        "n:int:required",
    ]);
    let server = Server::start(&sb, &[]);
    let keyed = |body: &Value| {
        server.request(
            "POST",
            "/api/buttons/count/press",
            &[
                ("Content-Type", "application/json"),
                ("Idempotency-Key", "order-17"),
            ],
            body.to_string().as_bytes(),
        )
    };
    let first = keyed(&json!({ "args": { "n": 1 } }));
    assert_eq!(first.status, 200, "{}", first.text());
    let first = first.json();
    assert_eq!(first["stdout"], "1\n");
    assert!(first.get("replayed").is_none(), "{first}");
    let second = keyed(&json!({ "args": { "n": 1 } }));
    assert_eq!(second.status, 200, "{}", second.text());
    let second = second.json();
    assert_eq!(second["replayed"], true, "{second}");
    assert_eq!(second["run_id"], first["run_id"]);
    assert_eq!(second["stdout"], "1\n");
    assert_eq!(records(&sb, "count").len(), 1);
    // The same key with other arguments is refused, and nothing runs.
    keyed(&json!({ "args": { "n": 2 } })).assert_error(400, "VALIDATION_ERROR");
    assert_eq!(records(&sb, "count").len(), 1);
    // Without a key every press runs.
    assert_eq!(
        server.press("count", &json!({ "args": { "n": 1 } })).status,
        200
    );
    assert_eq!(records(&sb, "count").len(), 2);
}

/// Writes a drawer.json (after `drawer create`, as a user would).
fn write_drawer(sb: &Sandbox, spec: &Value) {
    let name = spec["name"].as_str().unwrap();
    sb.ok(&["drawer", "create", name]);
    let path = sb.data().join("drawers").join(name).join("drawer.json");
    std::fs::write(path, spec.to_string()).unwrap();
}

fn press_drawer(server: &Server, name: &str, body: &Value) -> Resp {
    server.request(
        "POST",
        &format!("/api/drawers/{name}/press"),
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
}

#[test]
fn drawers_are_listed_shown_pressed_and_their_runs_read() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "hello",
        "--code",
        r#"echo "{\"greeting\": \"hi $BUTTONS_ARG_WHO\"}""#,
        "--arg",
        "who:string:required",
    ]);
    sb.ok(&[
        "create",
        "say",
        "--code",
        r#"echo "said $BUTTONS_ARG_WORD""#,
        "--arg",
        "word:string:required",
    ]);
    write_drawer(
        &sb,
        &json!({"name": "greet", "inputs": [{"name": "who", "required": true}],
        "steps": [
            {"id": "h", "button": "hello", "args": {"who": "${inputs.who}"}},
            {"id": "s", "button": "say", "args": {"word": "${h.output.greeting}!"}}
        ]}),
    );
    write_drawer(
        &sb,
        &json!({"name": "sealed", "inputs": [{"name": "pw", "secret": true, "default": "hunter2"}],
            "steps": [{"id": "s", "button": "say", "args": {"word": "${inputs.pw}"}}]}),
    );
    let server = Server::start(&sb, &[]);

    let list = server.get("/api/drawers");
    assert_eq!(list.status, 200, "{}", list.text());
    let names: Vec<Value> = list.json()["drawers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("greet"), json!("sealed")]);
    let shown = server.get("/api/drawers/greet");
    assert_eq!(shown.status, 200, "{}", shown.text());
    let shown = shown.json();
    assert_eq!(shown["steps"].as_array().unwrap().len(), 2);
    assert_eq!(shown["validation"]["ok"], true, "{shown}");
    // A secret input's default is not shown.
    let sealed = server.get("/api/drawers/sealed").text();
    assert!(!sealed.contains("hunter2"), "{sealed}");

    let ran = press_drawer(&server, "greet", &json!({ "inputs": { "who": "Ada" } }));
    assert_eq!(ran.status, 200, "{}", ran.text());
    let ran = ran.json();
    assert_eq!(ran["status"], "ok", "{ran}");
    assert_eq!(ran["steps"][0]["output"]["greeting"], "hi Ada", "{ran}");
    assert_eq!(ran["steps"][1]["stdout"], "said hi Ada!\n", "{ran}");
    let runs = server.get("/api/drawers/greet/runs");
    assert_eq!(runs.status, 200, "{}", runs.text());
    let runs = runs.json()["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["run_id"], ran["run_id"]);
    assert_eq!(records(&sb, "say").len(), 1);

    // A secret input never comes back in the answer.
    let masked = press_drawer(
        &server,
        "sealed",
        &json!({ "inputs": { "pw": "opensesame" } }),
    );
    assert_eq!(masked.status, 200, "{}", masked.text());
    assert!(!masked.text().contains("opensesame"), "{}", masked.text());

    press_drawer(&server, "greet", &json!({ "inputs": {} })).assert_error(400, "MISSING_INPUT");
    press_drawer(&server, "greet", &json!({ "inputs": [1] })).assert_error(400, "BAD_REQUEST");
    press_drawer(&server, "nope", &json!({})).assert_error(404, "DRAWER_NOT_FOUND");
    server
        .get("/api/drawers/nope")
        .assert_error(404, "DRAWER_NOT_FOUND");
    server
        .get("/api/drawers/nope/runs")
        .assert_error(404, "DRAWER_NOT_FOUND");
    // Nothing ran for the refused presses.
    assert_eq!(
        server.get("/api/drawers/greet/runs").json()["runs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The body limit holds here too.
    let big = format!(
        r#"{{"inputs": {{"who": "{}"}}}}"#,
        "a".repeat(2 * 1024 * 1024)
    );
    server
        .request(
            "POST",
            "/api/drawers/greet/press",
            &[("Content-Type", "application/json")],
            big.as_bytes(),
        )
        .assert_error(413, "BODY_TOO_LARGE");
}

#[test]
fn a_drawer_that_presses_an_http_button_is_refused_unless_allowed() {
    let sb = Sandbox::new();
    sb.ok(&["create", "web", "--url", "http://127.0.0.1:9/x"]);
    sb.ok(&["create", "fine", "--code", "echo fine"]);
    write_drawer(
        &sb,
        &json!({"name": "inner", "steps": [{"id": "w", "button": "web"}]}),
    );
    // The HTTP button is one level down, after a harmless step.
    write_drawer(
        &sb,
        &json!({"name": "outer", "steps": [
            {"id": "f", "button": "fine"},
            {"id": "i", "kind": "drawer", "drawer": "inner"}
        ]}),
    );
    let server = Server::start(&sb, &[]);
    for name in ["inner", "outer"] {
        let error =
            press_drawer(&server, name, &json!({})).assert_error(403, "HTTP_BUTTON_BLOCKED");
        assert!(
            error["hint"]
                .as_str()
                .unwrap()
                .contains("--allow-http-buttons")
        );
    }
    assert!(records(&sb, "fine").is_empty());
    assert!(records(&sb, "web").is_empty());
    drop(server);

    let server = Server::start(&sb, &["--allow-http-buttons"]);
    let pressed = press_drawer(&server, "outer", &json!({}));
    assert_eq!(pressed.status, 200, "{}", pressed.text());
    assert_eq!(records(&sb, "fine").len(), 1);
    assert_eq!(records(&sb, "web").len(), 1);
}

#[test]
fn http_buttons_are_refused_by_their_url_unless_allowed() {
    let sb = Sandbox::new();
    sb.ok(&["create", "web", "--url", "http://127.0.0.1:9/x"]);
    // The Go tool decides by `runtime`: a spec that says "shell" but has a
    // URL is still an HTTP button here.
    sb.ok(&["create", "sneaky", "--url", "http://127.0.0.1:9/y"]);
    edit_spec(&sb, "sneaky", |spec| spec["runtime"] = json!("shell"));
    let server = Server::start(&sb, &[]);
    for name in ["web", "sneaky"] {
        let error = server
            .press(name, &json!({}))
            .assert_error(403, "HTTP_BUTTON_BLOCKED");
        assert!(
            error["hint"]
                .as_str()
                .unwrap()
                .contains("--allow-http-buttons")
        );
    }
    assert!(records(&sb, "web").is_empty());
    drop(server);

    let server = Server::start(&sb, &["--allow-http-buttons"]);
    let pressed = server.press("web", &json!({}));
    // Pressed (and refused by the private-network guard, which still holds).
    assert_eq!(pressed.status, 200, "{}", pressed.text());
    assert_eq!(records(&sb, "web").len(), 1);
}

#[test]
fn cross_site_posts_and_dns_rebinding_are_refused() {
    let sb = Sandbox::new();
    sb.ok(&["create", "touch", "--code", "echo pressed"]);
    let server = Server::start(&sb, &[]);
    let evil_host = format!("evil.example:{}", server.port);
    let path = "/api/buttons/touch/press";

    // What an HTML form on another site sends.
    server
        .request(
            "POST",
            path,
            &[
                ("Content-Type", "text/plain"),
                ("Origin", "http://evil.example"),
            ],
            b"{}",
        )
        .assert_error(403, "FORBIDDEN_ORIGIN");
    // The same without an Origin: still not JSON.
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        server
            .request("POST", path, &[("Content-Type", content_type)], b"{}")
            .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    }
    server
        .request("POST", path, &[], b"{}")
        .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    // JSON, from another origin (a fetch with CORS would send this).
    server
        .request(
            "POST",
            path,
            &[
                ("Content-Type", "application/json"),
                ("Origin", "http://evil.example"),
            ],
            b"{}",
        )
        .assert_error(403, "FORBIDDEN_ORIGIN");
    server
        .request("GET", "/api/buttons", &[("Origin", "null")], b"")
        .assert_error(403, "FORBIDDEN_ORIGIN");
    // DNS rebinding: the page's own name, resolving to 127.0.0.1.
    for host in [evil_host.as_str(), "127.0.0.1:1", "localhost"] {
        server
            .request("GET", "/api/buttons", &[("Host", host)], b"")
            .assert_error(421, "MISDIRECTED_REQUEST");
        server
            .request(
                "POST",
                path,
                &[("Host", host), ("Content-Type", "application/json")],
                b"{}",
            )
            .assert_error(421, "MISDIRECTED_REQUEST");
    }
    assert!(records(&sb, "touch").is_empty(), "a refused request ran");

    // The server's own origin and names are fine.
    let own = format!("http://localhost:{}", server.port);
    let localhost = format!("localhost:{}", server.port);
    let ok = server.request(
        "POST",
        path,
        &[
            ("Content-Type", "application/json; charset=utf-8"),
            ("Origin", &own),
            ("Host", &localhost),
        ],
        b"{}",
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    let v6 = format!("[::1]:{}", server.port);
    assert_eq!(
        server
            .request("GET", "/api/buttons", &[("Host", &v6)], b"")
            .status,
        200
    );
    assert_eq!(records(&sb, "touch").len(), 1);
}

fn key_file(sb: &Sandbox, key: &str, mode: u32) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let path = sb.path().join(format!("key-{mode:o}"));
    std::fs::write(&path, format!("{key}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn a_key_is_required_and_compared_exactly() {
    let sb = Sandbox::new();
    sb.ok(&["create", "hello", "--code", "echo hi"]);
    let file = key_file(&sb, "file-key-123", 0o600);
    // The file wins over the flag, the battery and the environment.
    sb.ok(&["batteries", "set", "API_KEY", "battery-key"]);
    let server = Server::start_with(
        &sb,
        &["--api-key-file", &file, "--api-key", "flag-key"],
        |c| {
            c.env("BUTTONS_API_KEY", "env-key");
        },
    );
    assert_eq!(server.startup["auth"]["type"], "bearer");
    assert_eq!(server.startup["auth"]["source"], "api_key_file");
    // Health needs no key.
    assert_eq!(server.get("/api/health").status, 200);
    let missing = server.get("/api/buttons");
    missing.assert_error(401, "UNAUTHORIZED");
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    for wrong in [
        "flag-key",
        "battery-key",
        "env-key",
        "file-key-12",
        "file-key-1234",
        "FILE-KEY-123",
    ] {
        server
            .get_auth("/api/buttons", wrong)
            .assert_error(401, "UNAUTHORIZED");
    }
    server
        .request(
            "GET",
            "/api/buttons",
            &[("Authorization", "Basic file-key-123")],
            b"",
        )
        .assert_error(401, "UNAUTHORIZED");
    server
        .request(
            "POST",
            "/api/buttons/hello/press",
            &[("Content-Type", "application/json")],
            b"{}",
        )
        .assert_error(401, "UNAUTHORIZED");
    assert!(records(&sb, "hello").is_empty());
    assert_eq!(server.get_auth("/api/buttons", "file-key-123").status, 200);
    let pressed = server.request(
        "POST",
        "/api/buttons/hello/press",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", "Bearer file-key-123"),
        ],
        b"{}",
    );
    assert_eq!(pressed.status, 200, "{}", pressed.text());
}

#[test]
fn key_sources_in_order() {
    let sb = Sandbox::new();
    // $BUTTONS_API_KEY, last of the sources.
    let server = Server::start_with(&sb, &[], |c| {
        c.env("BUTTONS_API_KEY", "env-key");
    });
    assert_eq!(server.startup["auth"]["source"], "env");
    assert_eq!(server.get_auth("/api/buttons", "env-key").status, 200);
    server.get("/api/buttons").assert_error(401, "UNAUTHORIZED");
    drop(server);
    // The battery beats the environment.
    sb.ok(&["batteries", "set", "API_KEY", "battery-key"]);
    let server = Server::start_with(&sb, &[], |c| {
        c.env("BUTTONS_API_KEY", "env-key");
    });
    assert_eq!(server.startup["auth"]["source"], "api_key_battery");
    assert_eq!(server.get_auth("/api/buttons", "battery-key").status, 200);
    server
        .get_auth("/api/buttons", "env-key")
        .assert_error(401, "UNAUTHORIZED");
    drop(server);
    // The flag beats the battery, with a warning about `ps`.
    let mut server = Server::start(&sb, &["--api-key", "flag-key"]);
    assert_eq!(server.startup["auth"]["source"], "api_key_flag");
    assert_eq!(server.get_auth("/api/buttons", "flag-key").status, 200);
    let mut stderr = server.child.stderr.take().unwrap();
    let status = server.stop(Duration::from_secs(20));
    assert!(status.success());
    let mut warning = String::new();
    stderr.read_to_string(&mut warning).unwrap();
    assert!(warning.contains("ps"), "{warning}");
}

#[test]
fn an_unsafe_key_file_or_an_open_bind_without_a_key_is_refused() {
    let sb = Sandbox::new();
    let open = key_file(&sb, "k", 0o644);
    let error = sb.err(
        &["serve", "--port", "0", "--api-key-file", &open],
        "VALIDATION_ERROR",
    );
    assert!(
        error["hint"].as_str().unwrap().contains("chmod 600"),
        "{error}"
    );
    let group = key_file(&sb, "k", 0o640);
    sb.err(
        &["serve", "--port", "0", "--api-key-file", &group],
        "VALIDATION_ERROR",
    );
    let empty = key_file(&sb, "", 0o600);
    sb.err(
        &["serve", "--port", "0", "--api-key-file", &empty],
        "VALIDATION_ERROR",
    );
    let missing = sb.path().join("no-such-key").to_str().unwrap().to_owned();
    sb.err(
        &["serve", "--port", "0", "--api-key-file", &missing],
        "VALIDATION_ERROR",
    );
    // No key: loopback only.
    let error = sb.err(
        &["serve", "--port", "0", "--host", "0.0.0.0"],
        "VALIDATION_ERROR",
    );
    assert!(
        error["message"].as_str().unwrap().contains("loopback"),
        "{error}"
    );
}

#[test]
fn the_key_never_reaches_a_press() {
    let sb = Sandbox::new();
    sb.ok(&[
        "create",
        "leak",
        "--code",
        "env; echo \"bat=$BUTTONS_BAT_API_KEY\"",
    ]);
    sb.ok(&["batteries", "set", "OTHER", "other-battery"]);
    let auth_press = |server: &Server, key: &str| {
        let auth = format!("Bearer {key}");
        let resp = server.request(
            "POST",
            "/api/buttons/leak/press",
            &[
                ("Content-Type", "application/json"),
                ("Authorization", &auth),
            ],
            b"{}",
        );
        assert_eq!(resp.status, 200, "{}", resp.text());
        resp.json()["stdout"].as_str().unwrap().to_owned()
    };
    // From the environment.
    let server = Server::start_with(&sb, &[], |c| {
        c.env("BUTTONS_API_KEY", "env-key-0042");
    });
    let out = auth_press(&server, "env-key-0042");
    assert!(
        !out.contains("env-key-0042") && !out.contains("BUTTONS_API_KEY"),
        "{out}"
    );
    // Other batteries still arrive.
    assert!(out.contains("BUTTONS_BAT_OTHER=other-battery"), "{out}");
    drop(server);
    // From the battery.
    sb.ok(&["batteries", "set", "API_KEY", "battery-key-0042"]);
    let server = Server::start(&sb, &[]);
    let out = auth_press(&server, "battery-key-0042");
    assert!(!out.contains("battery-key-0042"), "{out}");
    assert!(out.contains("bat=\n"), "{out}");
    drop(server);
    // A plain press outside the server does get the battery.
    let pressed = sb.ok(&["press", "leak"]);
    assert!(
        pressed["stdout"]
            .as_str()
            .unwrap()
            .contains("bat=battery-key-0042")
    );
}

#[test]
fn a_ninth_concurrent_press_is_busy() {
    let sb = Sandbox::new();
    sb.ok(&["create", "slow", "--code", "sleep 3"]);
    let server = Arc::new(Server::start(&sb, &[]));
    let barrier = Arc::new(Barrier::new(9));
    let threads: Vec<_> = (0..9)
        .map(|_| {
            let (server, barrier) = (Arc::clone(&server), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                server.press("slow", &json!({}))
            })
        })
        .collect();
    let responses: Vec<Resp> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let busy: Vec<&Resp> = responses.iter().filter(|r| r.status == 503).collect();
    assert_eq!(busy.len(), 1, "{responses:?}");
    busy[0].assert_error(503, "BUSY");
    assert_eq!(busy[0].header("retry-after"), Some("1"));
    assert_eq!(responses.iter().filter(|r| r.status == 200).count(), 8);
    assert_eq!(records(&sb, "slow").len(), 8);
}

#[test]
fn a_ninth_concurrent_drawer_press_is_busy() {
    let sb = Sandbox::new();
    sb.ok(&["create", "slow", "--code", "sleep 3"]);
    write_drawer(
        &sb,
        &json!({"name": "lazy", "steps": [{"id": "s", "button": "slow"}]}),
    );
    let server = Arc::new(Server::start(&sb, &[]));
    let barrier = Arc::new(Barrier::new(9));
    let threads: Vec<_> = (0..9)
        .map(|_| {
            let (server, barrier) = (Arc::clone(&server), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                press_drawer(&server, "lazy", &json!({}))
            })
        })
        .collect();
    let responses: Vec<Resp> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let busy: Vec<&Resp> = responses.iter().filter(|r| r.status == 503).collect();
    assert_eq!(busy.len(), 1, "{responses:?}");
    busy[0].assert_error(503, "BUSY");
    assert_eq!(responses.iter().filter(|r| r.status == 200).count(), 8);
    assert_eq!(records(&sb, "slow").len(), 8);
}

#[test]
fn a_body_over_one_mib_is_refused() {
    let sb = Sandbox::new();
    sb.ok(&["create", "hello", "--code", "echo hi"]);
    let server = Server::start(&sb, &[]);
    let big = format!(
        "{{\"args\":{{}},\"pad\":\"{}\"}}",
        "x".repeat(2 * 1024 * 1024)
    );
    server
        .request(
            "POST",
            "/api/buttons/hello/press",
            &[("Content-Type", "application/json")],
            big.as_bytes(),
        )
        .assert_error(413, "BODY_TOO_LARGE");
    // Without a Content-Length (chunked), the limit holds while reading.
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let head = format!(
        "POST /api/buttons/hello/press HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        server.host()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sending = std::thread::spawn(move || {
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..32 {
            if writer
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .is_err()
                || writer.write_all(&chunk).is_err()
                || writer.write_all(b"\r\n").is_err()
            {
                return;
            }
        }
        let _ = writer.write_all(b"0\r\n\r\n");
    });
    read_response(&mut stream).assert_error(413, "BODY_TOO_LARGE");
    let _ = sending.join();
    assert!(records(&sb, "hello").is_empty());
    // Just under the limit is fine.
    let fits = format!("{{\"args\":{{}},\"pad\":\"{}\"}}", "x".repeat(1000 * 1024));
    let ok = server.request(
        "POST",
        "/api/buttons/hello/press",
        &[("Content-Type", "application/json")],
        fits.as_bytes(),
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
}

/// Whether a process is gone (or a zombie waiting for a parent to reap it).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn shutdown_ends_a_running_press_and_records_it() {
    let sb = Sandbox::new();
    let pids = sb.path().join("pids");
    let code = format!(
        "sleep 120 & echo \"$$ $!\" > {}; wait",
        pids.to_str().unwrap()
    );
    sb.ok(&["create", "stuck", "--code", &code]);
    let server = Arc::new(Server::start(&sb, &[]));
    let pressing = {
        let server = Arc::clone(&server);
        std::thread::spawn(move || server.press("stuck", &json!({})))
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        if let Ok(text) = std::fs::read_to_string(&pids)
            && text.ends_with('\n')
        {
            break text;
        }
        assert!(Instant::now() < deadline, "the press did not start");
        std::thread::sleep(Duration::from_millis(50));
    };
    let pids: Vec<u32> = text
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert!(pids.iter().all(|&p| !gone(p)));
    let started = Instant::now();
    signal(server.child.id(), "TERM");
    // The press's answer: interrupted, after the 10 s grace.
    let resp = pressing.join().unwrap();
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_ne!(resp.json()["status"], "ok");
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
    let server = Arc::into_inner(server).unwrap();
    let status = server.stop(Duration::from_secs(30));
    assert!(status.success(), "{status:?}");
    // No child outlives the server: the script and its background sleep.
    for pid in &pids {
        assert!(gone(*pid), "process {pid} outlived the server");
    }
    let records = records(&sb, "stuck");
    assert_eq!(records.len(), 1, "{records:?}");
    assert_ne!(records[0]["status"], "ok");
}

#[test]
fn an_idle_server_stops_at_once_on_sigterm() {
    let sb = Sandbox::new();
    let server = Server::start(&sb, &[]);
    assert_eq!(server.get("/api/health").status, 200);
    let started = Instant::now();
    assert!(server.stop(Duration::from_secs(20)).success());
    // Generous: nothing was running, so no 10 s grace.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

/// Reads until the server closes the connection (or `limit` passes), and
/// returns what arrived and when the connection ended.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    loop {
        match stream.read(&mut buf) {
            // A signal for another test in this process interrupts a read
            // with a timeout (SA_RESTART does not restart those).
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Ok(0) | Err(_) => return (got, started.elapsed()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn slow_headers_and_slow_bodies_are_cut_off() {
    let sb = Sandbox::new();
    sb.ok(&["create", "hello", "--code", "echo hi"]);
    let server = Server::start(&sb, &[]);
    // Headers that never end: closed after 5 s.
    let mut slow_head = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    slow_head
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    // A body that never ends: refused after 30 s.
    let mut slow_body = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let head = format!(
        "POST /api/buttons/hello/press HTTP/1.1\r\nHost: {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
        server.host()
    );
    slow_body.write_all(head.as_bytes()).unwrap();
    let (got, after) = read_until_closed(&mut slow_head, Duration::from_secs(60));
    assert!(
        got.is_empty() || got.starts_with(b"HTTP/1.1 408"),
        "{got:?}"
    );
    assert!(
        after >= Duration::from_secs(3) && after < Duration::from_secs(25),
        "{after:?}"
    );
    let (got, after) = read_until_closed(&mut slow_body, Duration::from_secs(90));
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("REQUEST_TIMEOUT"), "{text}");
    assert!(
        after >= Duration::from_secs(20) && after < Duration::from_secs(80),
        "{after:?}"
    );
    assert!(records(&sb, "hello").is_empty());
}

#[test]
fn at_most_256_connections_are_served_at_once() {
    let sb = Sandbox::new();
    let server = Server::start(&sb, &[]);
    // 256 idle connections (each held until its 5 s header timeout).
    let held: Vec<TcpStream> = (0..256)
        .map(|_| TcpStream::connect(("127.0.0.1", server.port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let mut extra = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let request = format!(
        "GET /api/health HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        server.host()
    );
    extra.write_all(request.as_bytes()).unwrap();
    extra
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let mut buf = [0; 64];
    let early = loop {
        match extra.read(&mut buf) {
            // A signal for another test in this process (see read_until_closed).
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            other => break other,
        }
    };
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "the 257th connection was served at once: {early:?}"
    );
    // Once the others go, it is served.
    drop(held);
    extra
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let resp = read_response(&mut extra);
    assert_eq!(resp.status, 200, "{}", resp.text());
}

#[test]
fn the_openapi_document_matches_the_routes() {
    let sb = Sandbox::new();
    let server = Server::start(&sb, &[]);
    let doc = server.get("/api/openapi.json");
    assert_eq!(doc.status, 200, "{}", doc.text());
    let doc = doc.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{doc}");
    let mut documented: Vec<String> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    documented.sort();
    let mut listed: Vec<String> = server.startup["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    assert_eq!(documented, listed);
    // Every documented endpoint is a route (not the fallback), and an
    // undocumented one is not.
    for endpoint in &listed {
        let (method, path) = endpoint.split_once(' ').unwrap();
        let path = path.replace("{name}", "nope");
        let resp = server.request(
            method,
            &path,
            &[("Content-Type", "application/json")],
            b"{}",
        );
        assert_ne!(resp.status, 405, "{endpoint}");
        if resp.status == 404 {
            assert_ne!(
                resp.json()["error"]["message"],
                "no such endpoint",
                "{endpoint}"
            );
        }
    }
    let stray = server.get("/api/queues");
    assert_eq!(
        stray.assert_error(404, "NOT_FOUND")["message"],
        "no such endpoint"
    );
}
