//! `buttons serve` under load: 2,000 presses of a no-op button from 8
//! concurrent clients, each on one keep-alive connection.
//!
//! Prints presses per second, the p50 and p99 latency of a press over HTTP,
//! the ratio of that p50 to one `buttons press noop` run from the command
//! line (the process start included), the same ratio for one client pressing
//! alone, and the server's peak RSS (VmHWM; goal: under 64 MiB).
#![expect(clippy::print_stdout, reason = "a benchmark reports its figures")]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Instant;

use buttons_benches::{median, ms};
use buttons_spec::{Button, ButtonName, Timestamp};
use buttons_store::{CodeSource, NewButton, Store};

mod common;

use common::{clean_env, quiet};

const CLIENTS: usize = 8;
const PRESSES: usize = 2_000;
const CLI_ROUNDS: usize = 30;
const SERIAL: usize = 200;

/// One keep-alive client.
struct Client {
    reader: BufReader<TcpStream>,
    request: Vec<u8>,
}

impl Client {
    fn new(port: u16) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let body = "{}";
        let request = format!(
            "POST /api/buttons/noop/press HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        Self {
            reader: BufReader::new(stream),
            request: request.into_bytes(),
        }
    }

    /// One press; panics unless it is a 200 with `"status":"ok"`.
    fn press(&mut self) {
        self.reader
            .get_mut()
            .write_all(&self.request)
            .expect("send");
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("status line");
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        let mut length = 0;
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("header");
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().expect("a length");
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).expect("body");
        assert!(
            body.windows(13).any(|w| w == b"\"status\":\"ok\""),
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
}

fn vm_hwm_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn main() {
    let exe = common::release_binary();
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = tmp.path();
    let data = home.join("data");
    let store = Store::at(&data).expect("store");
    store.init().expect("init");
    store
        .create(NewButton {
            button: Button::new(&ButtonName::new("noop").expect("a name"), Timestamp::now()),
            code: CodeSource::Inline(String::new()),
            prompt: None,
        })
        .expect("create");

    // One CLI press, the process start included: the baseline.
    let cli: Vec<f64> = (0..CLI_ROUNDS)
        .map(|_| {
            let start = Instant::now();
            quiet(clean_env(&mut Command::new(&exe), home, &data).args(["press", "noop"]));
            ms(start.elapsed())
        })
        .collect();

    let mut server = clean_env(&mut Command::new(&exe), home, &data)
        .args(["serve", "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("startup line");
    let startup: serde_json::Value = serde_json::from_str(&line).expect("startup JSON");
    let addr: std::net::SocketAddr = startup["data"]["addr"]
        .as_str()
        .expect("addr")
        .parse()
        .expect("an address");
    let port = addr.port();

    // Warm up, then one client alone: the latency of a press without
    // contention, to set beside a CLI press.
    let mut alone = Client::new(port);
    for _ in 0..20 {
        alone.press();
    }
    let serial: Vec<f64> = (0..SERIAL)
        .map(|_| {
            let start = Instant::now();
            alone.press();
            ms(start.elapsed())
        })
        .collect();
    drop(alone);

    let started = Instant::now();
    let per_client = PRESSES / CLIENTS;
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            std::thread::spawn(move || {
                let mut client = Client::new(port);
                (0..per_client)
                    .map(|_| {
                        let start = Instant::now();
                        client.press();
                        ms(start.elapsed())
                    })
                    .collect::<Vec<f64>>()
            })
        })
        .collect();
    let mut latencies: Vec<f64> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("a client"))
        .collect();
    let elapsed = started.elapsed();
    let peak_kib = vm_hwm_kib(server.id());
    let _ = server.kill();
    let _ = server.wait();

    latencies.sort_by(f64::total_cmp);
    let p50 = percentile(&latencies, 0.50);
    let p99 = percentile(&latencies, 0.99);
    let cli_median = median(&cli);
    let rate = latencies.len() as f64 / elapsed.as_secs_f64();
    println!(
        "serve: {} presses of a no-op button, {CLIENTS} keep-alive clients, in {:.2} s",
        latencies.len(),
        elapsed.as_secs_f64()
    );
    println!("  presses/s:       {rate:.0}");
    println!("  latency p50:     {p50:.2} ms");
    println!("  latency p99:     {p99:.2} ms");
    println!("  CLI press p50:   {cli_median:.2} ms ({CLI_ROUNDS} runs of `buttons press noop`)");
    let serial_p50 = median(&serial);
    println!(
        "  ratio:           {:.2}x (serve p50 / CLI press p50; {CLIENTS} presses in flight)",
        p50 / cli_median
    );
    println!("  one client p50:  {serial_p50:.2} ms ({SERIAL} presses, one at a time)");
    println!(
        "  ratio alone:     {:.2}x (one-client p50 / CLI press p50)",
        serial_p50 / cli_median
    );
    println!(
        "  server peak RSS: {:.1} MiB (VmHWM; goal < 64 MiB){}",
        peak_kib as f64 / 1024.0,
        if peak_kib < 64 * 1024 {
            ""
        } else {
            "  ** over the goal **"
        }
    );
}
