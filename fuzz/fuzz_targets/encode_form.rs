//! Fuzzes form and raw body templates.
//!
//! Invariants: no panic; in a form body a value adds no delimiter (it only
//! ever renders as `A-Za-z0-9-._~%+`), so every `&` and `=` a form decoder
//! splits on comes from the template; a raw body keeps its literal text.
#![no_main]

use buttons_encode::{BodyKind, BodyTemplate};
use buttons_spec::{ArgDef, Args};
use libfuzzer_sys::fuzz_target;

fn value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '%' | '+')
}

/// Builds template text from the fuzzer's pieces: a selector picks one of
/// the tokens that matter, or (one value in `TOKENS.len() + 1`) the piece's
/// own text.
fn template_of(pieces: &[(u8, String)]) -> String {
    const TOKENS: &[&str] = &["{{a}}", "{{c}}", "&", "=", "+", "%", " ", "{{"];
    let mut out = String::new();
    for (select, text) in pieces {
        match TOKENS.get(usize::from(*select) % (TOKENS.len() + 1)) {
            Some(token) => out.push_str(token),
            None => out.push_str(text),
        }
    }
    out
}

fuzz_target!(|input: (Vec<(u8, String)>, String, String)| {
    let (pieces, a, c) = input;
    let template = template_of(&pieces);
    let declared = [
        ArgDef::parse("a:string:required").expect("valid definition"),
        ArgDef::parse("c:string:optional").expect("valid definition"),
    ];
    let args = Args::validate(&declared, [("a", a.as_str()), ("c", c.as_str())])
        .expect("string arguments take any value");
    let empty = Args::validate(&declared, [("a", "")]).expect("a is given");

    let form = BodyTemplate::parse(&template, BodyKind::Form, &declared).expect("parses");
    let out = form.render(&args).expect("renders");
    let bare = form.render(&empty).expect("renders");
    let others = |s: &str| s.chars().filter(|c| !value_char(*c)).collect::<String>();
    assert_eq!(others(&out), others(&bare), "{out:?} vs {bare:?}");

    let raw = BodyTemplate::parse(&template, BodyKind::Raw, &declared).expect("parses");
    let out = raw.render(&args).expect("renders");
    assert!(out.len() >= raw.render(&empty).expect("renders").len());
});
