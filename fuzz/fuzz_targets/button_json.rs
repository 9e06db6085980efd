//! Fuzzes `button.json` parsing (`Button::from_json`, what every load reads)
//! and the checks `create` runs on a spec.
//!
//! Invariants: no panic on any input; a spec that parses serialises to JSON
//! that parses again to the same serialisation; the create-time checks and
//! the kind/description helpers never panic on a parsed spec.
#![no_main]

use buttons_spec::{Button, check_http, check_placeholders};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(button) = Button::from_json(data) else {
        return;
    };
    let json = button.to_json();
    let again = Button::from_json(json.as_bytes()).expect("a serialised spec parses");
    assert_eq!(again.to_json(), json);
    let _ = button.kind();
    let _ = button.describe();
    let _ = button.timeout();
    let _ = check_placeholders(&button);
    let _ = check_http(&button);
});
