//! Fuzzes JSON body template parsing and rendering.
//!
//! Invariants: no panic, parsing never fails, and whenever the template is
//! JSON (`is_valid_json`: valid once each placeholder outside a string is
//! `null` and each one inside a string is empty), every rendering parses
//! with `serde_json`; values never put a raw U+2028/U+2029 in the output.
#![no_main]

use buttons_encode::{BodyKind, BodyTemplate};
use buttons_spec::{ArgDef, Args};
use libfuzzer_sys::fuzz_target;

/// Builds template text from the fuzzer's pieces: a selector picks one of
/// the tokens that matter, or (one value in `TOKENS.len() + 1`) the piece's
/// own text.
fn template_of(pieces: &[(u8, String)]) -> String {
    const TOKENS: &[&str] = &[
        "{{u}}", "{{n}}", "{{b}}", "{{o}}", "\"", "\\", "{", "}", "[", "]", ",", ":", "null", "1",
        " ", "\"k\": ", "{{",
    ];
    let mut out = String::new();
    for (select, text) in pieces {
        match TOKENS.get(usize::from(*select) % (TOKENS.len() + 1)) {
            Some(token) => out.push_str(token),
            None => out.push_str(text),
        }
    }
    out
}

fuzz_target!(
    |input: (Vec<(u8, String)>, String, i64, bool, Option<String>)| {
        let (pieces, u, n, b, o) = input;
        let template = template_of(&pieces);
        let declared = [
            ArgDef::parse("u:string:required").expect("valid definition"),
            ArgDef::parse("n:int:required").expect("valid definition"),
            ArgDef::parse("b:bool:required").expect("valid definition"),
            ArgDef::parse("o:string:optional").expect("valid definition"),
        ];
        let parsed = BodyTemplate::parse(&template, BodyKind::Json, &declared)
            .expect("body templates parse");
        let mut supplied = vec![("u", u), ("n", n.to_string()), ("b", b.to_string())];
        if let Some(o) = o {
            supplied.push(("o", o));
        }
        let args = Args::validate(&declared, supplied).expect("values of the declared types");
        let out = parsed.render(&args).expect("body rendering cannot fail");
        if parsed.is_valid_json() {
            if let Err(e) = serde_json::from_str::<serde_json::Value>(&out) {
                panic!("template {template:?} is JSON but renders {out:?}: {e}");
            }
        }
        let line_ends = |s: &str| s.matches(['\u{2028}', '\u{2029}']).count();
        assert_eq!(line_ends(&out), line_ends(&template), "{out:?}");
    }
);
