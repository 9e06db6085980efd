//! Fuzzes the `${…}` / `$ENV{…}` reference scanner of drawer strings and the
//! syntax check of the expressions it finds.
//!
//! Invariants: no panic on any input; scanning is deterministic; every
//! expression found can be syntax-checked and its references listed
//! without a panic.
#![no_main]

use std::collections::BTreeSet;

use buttons_spec::{Segment, check_syntax, references, scan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let scanned = scan(text);
    assert_eq!(scanned, scan(text), "scanning is deterministic");
    let Ok(segments) = scanned else {
        return;
    };
    let known: BTreeSet<String> = ["inputs", "steps", "env"].map(String::from).into();
    for segment in &segments {
        if let Segment::Expr(expr) = segment {
            let _ = check_syntax(expr, &known);
            let _ = references(expr, &known);
        }
    }
});
