//! Fuzzes URL template parsing and rendering.
//!
//! Invariants: no panic; a rendering either fails with a dot-segment error
//! naming an argument or keeps the template's `scheme://host[:port]` prefix
//! byte for byte, parses with the `url` crate whenever that prefix does, and
//! has the prefix's host, port and (empty) credentials; values add no URL
//! delimiter, since they only ever render as `A-Za-z0-9-._~%+`.
#![no_main]

use buttons_encode::{Error, UrlTemplate};
use buttons_spec::{ArgDef, Args};
use libfuzzer_sys::fuzz_target;
use url::Url;

/// Characters an encoded value may contain.
fn value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '%' | '+')
}

/// Counts of each character a value may not produce.
fn delimiters(s: &str) -> Vec<(char, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for c in s.chars().filter(|c| !value_char(*c)) {
        *counts.entry(c).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

/// Builds template text from the fuzzer's pieces: a selector picks one of
/// the tokens that matter, or (one value in `TOKENS.len() + 1`) the piece's
/// own text.
fn template_of(pieces: &[(u8, String)]) -> String {
    const TOKENS: &[&str] = &[
        "{{a}}",
        "{{b}}",
        "{{n}}",
        "/",
        "\\",
        "?",
        "#",
        ".",
        "..",
        "%2e",
        "%2E",
        "%",
        "&",
        "=",
        "{{",
        "}}",
        "@",
        ":",
        "https://",
        "api.example.com",
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

fuzz_target!(|input: (bool, Vec<(u8, String)>, String, String)| {
    let (prefixed, pieces, a, b) = input;
    let rest = template_of(&pieces);
    let template = if prefixed {
        format!("https://api.example.com{rest}")
    } else {
        rest
    };
    let declared = [
        ArgDef::parse("a:string:optional").expect("valid definition"),
        ArgDef::parse("b:string:optional").expect("valid definition"),
        ArgDef::parse("n:int:optional").expect("valid definition"),
    ];
    let Ok(parsed) = UrlTemplate::parse(&template, &declared) else {
        return;
    };
    let args = Args::validate(
        &declared,
        [("a", a.as_str()), ("b", b.as_str()), ("n", "-7")],
    )
    .expect("string arguments take any value");
    let out = match parsed.render(&args) {
        Ok(out) => out,
        Err(err) => {
            assert!(matches!(err, Error::DotSegment { .. }), "{err}");
            assert!(err.argument().is_some());
            return;
        }
    };
    let prefix = &template[..parsed.host_lock().prefix_len];
    assert!(
        out.starts_with(prefix),
        "{out:?} lost the prefix {prefix:?}"
    );

    // With empty values, the same delimiters: values added none.
    let empty = Args::validate(&declared, [("n", "-7")]).expect("all optional");
    if let Ok(bare) = parsed.render(&empty) {
        assert_eq!(delimiters(&out), delimiters(&bare), "{out:?} vs {bare:?}");
    }

    if let Ok(base) = Url::parse(prefix) {
        let url = Url::parse(&out)
            .unwrap_or_else(|e| panic!("{out:?} does not parse ({e}) but {prefix:?} does"));
        assert_eq!(url.host(), base.host(), "{out:?}");
        assert_eq!(url.port_or_known_default(), base.port_or_known_default());
        assert_eq!(url.username(), base.username());
        assert_eq!(url.password(), base.password());
    }
});
