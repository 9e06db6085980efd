//! `buttons press` of an HTTP button against `curl -s`, as whole processes.
//!
//! A small HTTP/1.1 server on 127.0.0.1 (a thread here, one connection at a
//! time, `Connection: close`) answers every request with a small body.
//! Alternates, in one run, `curl -s http://127.0.0.1:PORT/x` and
//! `buttons press ping` (release binary, temporary BUTTONS_HOME, a button
//! created with `--allow-private-networks`; a press includes its run record)
//! and prints the medians and their ratio (goal: press <= 0.5x curl).
//!
//! Then, in this process, what building the plain-`http://` client costs
//! (reqwest builds a rustls connector, with no roots, for it too): a GET
//! through a new `HttpClient` against one through a client already built,
//! alternating.
#![expect(clippy::print_stdout, reason = "a benchmark reports its figures")]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;

use buttons_benches::{alternate, median};

mod common;

use common::quiet;

const ROUNDS: usize = 200;
const BODY: &[u8] = b"{\"ok\": true, \"message\": \"pong\"}\n";

/// Serves every connection on `listener` with one small response, forever.
fn serve(listener: TcpListener) {
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        BODY.len()
    );
    for stream in listener.incoming().flatten() {
        // A client that hangs up early is no reason to stop serving.
        let _ = answer(&stream, reply.as_bytes());
    }
}

fn answer(stream: &TcpStream, head: &[u8]) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    // Read the request head to its blank line (these requests have no body).
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut writer = stream;
    writer.write_all(head)?;
    writer.write_all(BODY)?;
    writer.flush()
}

fn main() {
    let exe = common::release_binary();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr: SocketAddr = listener.local_addr().expect("local address");
    std::thread::spawn(move || serve(listener));
    let url = format!("http://{addr}/x");

    let tmp = tempfile::tempdir().expect("temp dir");
    let work = tmp.path();
    let data = work.join("data");
    let buttons = |args: &[&str]| {
        let mut cmd = Command::new(&exe);
        cmd.args(args)
            .env("BUTTONS_HOME", &data)
            .env("HOME", work)
            .env_remove("BUTTONS_ALLOW_PRIVATE_NETWORKS")
            .current_dir(work);
        cmd
    };
    quiet(&mut buttons(&["init"]));
    quiet(&mut buttons(&[
        "create",
        "ping",
        "--url",
        &url,
        "--allow-private-networks",
    ]));
    // The press must really reach the server and succeed.
    let check = buttons(&["press", "ping", "--json"])
        .output()
        .expect("press runs");
    let envelope: serde_json::Value =
        serde_json::from_slice(&check.stdout).expect("press prints JSON");
    assert_eq!(envelope["data"]["http_status_code"], 200, "{envelope}");

    let mut curl = || quiet(Command::new("curl").args(["-s", &url]));
    let mut press = || quiet(&mut buttons(&["press", "ping"]));
    let samples = alternate(ROUNDS, &mut [&mut curl, &mut press]);
    let curl_ms = median(&samples[0]);
    let press_ms = median(&samples[1]);
    println!("medians over {ROUNDS} alternating rounds, GET of a small page on 127.0.0.1:");
    println!("  curl -s URL            {curl_ms:7.3} ms");
    println!(
        "  buttons press ping     {press_ms:7.3} ms  ({:.2}x curl; goal <= 0.5x)",
        press_ms / curl_ms
    );

    let options = || buttons_http::Options {
        policy: buttons_http::NetPolicy::new().allow_private(true),
        ..buttons_http::Options::default()
    };
    let request = buttons_http::HttpRequest::new("GET", url::Url::parse(&url).expect("a URL"));
    let warm = buttons_http::HttpClient::new(options());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let get = |client: &buttons_http::HttpClient| {
        let response = runtime
            .block_on(client.send(&request))
            .expect("the GET succeeds");
        assert!(response.is_success());
    };
    get(&warm);
    let mut built = || get(&buttons_http::HttpClient::new(options()));
    let mut reused = || get(&warm);
    let samples = alternate(ROUNDS, &mut [&mut built, &mut reused]);
    let (built_ms, reused_ms) = (median(&samples[0]), median(&samples[1]));
    println!(
        "  in process: GET with a new client {built_ms:.3} ms, with a built one {reused_ms:.3} ms \
         (building the plain client: {:.3} ms, {:.1}% of the press)",
        built_ms - reused_ms,
        (built_ms - reused_ms) / press_ms * 100.0
    );
}
