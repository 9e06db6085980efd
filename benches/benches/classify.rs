//! The private-network classifier: nanoseconds per address over the committed
//! IP classification vectors (goal: at most 50 ns), for the built-in table, for a policy with
//! embedder allow/block lists, and for the whole first-hop URL check.

use std::hint::black_box;
use std::net::IpAddr;
use std::path::Path;
use std::time::Instant;

use buttons_benches::median;
use buttons_http::{NetPolicy, check_url, classify};

const SAMPLES: usize = 31;
const PASSES: usize = 2_000;

#[expect(
    clippy::print_stdout,
    reason = "a benchmark program reports its figures on stdout"
)]
fn main() {
    // The vectors buttons-http's conformance test runs, committed in this repository.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../buttons-http/tests/data/ip-classification.tsv");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the vectors at {}: {e}", path.display()));
    let addrs: Vec<IpAddr> = text
        .lines()
        .skip(1)
        .filter_map(|line| line.split('\t').next()?.parse().ok())
        .collect();
    assert!(addrs.len() > 300, "only {} addresses read", addrs.len());
    let urls: Vec<url::Url> = addrs
        .iter()
        .map(|ip| {
            let host = match ip {
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => format!("[{v6}]"),
            };
            url::Url::parse(&format!("http://{host}/x")).expect("a URL")
        })
        .collect();

    let default = NetPolicy::new();
    let embedder = NetPolicy::new()
        .allow("127.0.0.1".parse::<IpAddr>().expect("an address"))
        .block("168.63.129.16".parse::<IpAddr>().expect("an address"));

    let per_address = |f: &dyn Fn(IpAddr) -> bool| {
        let samples: Vec<f64> = (0..SAMPLES)
            .map(|_| {
                let start = Instant::now();
                let mut blocked = 0usize;
                for _ in 0..PASSES {
                    for &ip in &addrs {
                        blocked += usize::from(f(black_box(ip)));
                    }
                }
                black_box(blocked);
                start.elapsed().as_nanos() as f64 / (PASSES * addrs.len()) as f64
            })
            .collect();
        median(&samples)
    };

    let table = per_address(&|ip| classify(ip).is_block());
    let policy = per_address(&|ip| default.is_blocked(ip));
    let lists = per_address(&|ip| embedder.is_blocked(ip));
    let url_samples: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let start = Instant::now();
            let mut refused = 0usize;
            for _ in 0..PASSES / 10 {
                for url in &urls {
                    refused += usize::from(check_url(black_box(url), &default).is_err());
                }
            }
            black_box(refused);
            start.elapsed().as_nanos() as f64 / ((PASSES / 10) * urls.len()) as f64
        })
        .collect();
    let url_check = median(&url_samples);

    println!(
        "classifier over {} vectors (median of {SAMPLES} samples):",
        addrs.len()
    );
    println!("  classify (built-in table)        {table:6.1} ns/address  (goal <= 50 ns)");
    println!("  NetPolicy::is_blocked (default)  {policy:6.1} ns/address");
    println!("  NetPolicy with allow+block lists {lists:6.1} ns/address");
    println!(
        "  check_url on a parsed URL        {url_check:6.1} ns/URL (refusals format an error)"
    );
    println!("  ratio to goal: {:.2}x", table / 50.0);
}
