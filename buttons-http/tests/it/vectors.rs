//! Every row of the IP classification vectors (`tests/data/ip-classification.tsv`,
//! a copy of the project's shared vectors committed with the crate).

use std::net::IpAddr;
use std::path::Path;

use buttons_http::{NetPolicy, Verdict, classify};

#[test]
fn shared_ip_classification_vectors() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ip-classification.tsv");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the vectors at {}: {e}", path.display()));
    let policy = NetPolicy::new();
    let mut failures = Vec::new();
    let mut rows = 0;
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split('\t');
        let (Some(address), Some(verdict), reason) = (fields.next(), fields.next(), fields.next())
        else {
            failures.push(format!("line {}: malformed row {line:?}", n + 1));
            continue;
        };
        rows += 1;
        let want_block = match verdict {
            "block" => true,
            "allow" => false,
            other => {
                failures.push(format!("line {}: unknown verdict {other:?}", n + 1));
                continue;
            }
        };
        let ip: IpAddr = match address.parse() {
            Ok(ip) => ip,
            Err(e) => {
                failures.push(format!("line {}: {address:?} does not parse: {e}", n + 1));
                continue;
            }
        };
        let got = classify(ip);
        let policy_blocks = policy.is_blocked(ip);
        if got.is_block() != want_block || policy_blocks != want_block {
            failures.push(format!(
                "line {}: {address} should {verdict} ({}), classify says {got:?}, policy blocks: {policy_blocks}",
                n + 1,
                reason.unwrap_or_default()
            ));
        }
        // Opening the policy allows every row.
        if NetPolicy::new().allow_private(true).is_blocked(ip) {
            failures.push(format!(
                "line {}: {address} blocked with private networks allowed",
                n + 1
            ));
        }
    }
    assert!(rows > 300, "only {rows} rows read from {}", path.display());
    assert!(
        failures.is_empty(),
        "{} of {rows} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(classify("8.8.8.8".parse().unwrap()), Verdict::Allow);
}
