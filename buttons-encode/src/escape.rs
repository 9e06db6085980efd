//! The encoders: percent-encoding for URL paths and fragments, form encoding
//! for queries and form bodies, JSON string escaping.
//!
//! Each one copies runs of bytes that need no escaping as whole slices and
//! escapes the rest byte by byte, without allocating.

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Bytes that pass through percent-encoding unchanged: the unreserved set
/// `A-Za-z0-9-._~` of RFC 3986.
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        i += 1;
    }
    table
};

/// Bytes a JSON string needs escaped, or that may start a sequence that does:
/// `"`, `\`, C0 controls and DEL, and the lead bytes of C1 controls (`0xC2`)
/// and of U+2028/U+2029 (`0xE2`).
const JSON_SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = true;
        i += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table[0x7f] = true;
    table[0xc2] = true;
    table[0xe2] = true;
    table
};

fn push_percent(out: &mut String, b: u8) {
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0xf)]));
}

/// Percent-encodes every byte of `value` outside the unreserved set; with
/// `space_as_plus`, a space becomes `+` (form style) instead of `%20`.
fn push_percent_encoded(out: &mut String, value: &str, space_as_plus: bool) {
    let bytes = value.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if UNRESERVED[usize::from(b)] {
            continue;
        }
        if run < i {
            // `run..i` holds only unreserved ASCII bytes, so both ends are
            // char boundaries (`run` may follow an encoded lead byte only
            // when the run is empty).
            out.push_str(&value[run..i]);
        }
        if space_as_plus && b == b' ' {
            out.push('+');
        } else {
            push_percent(out, b);
        }
        run = i + 1;
    }
    if run < bytes.len() {
        out.push_str(&value[run..]);
    }
}

/// URL path segment and fragment encoding: everything but `A-Za-z0-9-._~`
/// is percent-encoded, so `/`, `?`, `#`, `%` and space cannot survive.
pub(crate) fn push_path(out: &mut String, value: &str) {
    push_percent_encoded(out, value, false);
}

/// Form-style query encoding (as Go's `url.QueryEscape`): everything but
/// `A-Za-z0-9-._~` is percent-encoded, and space becomes `+`.
pub(crate) fn push_query(out: &mut String, value: &str) {
    push_percent_encoded(out, value, true);
}

/// Escapes `value` for the inside of a JSON string literal (no quotes added):
/// `"` and `\`, every C0 control, DEL, every C1 control, and U+2028/U+2029
/// (which JavaScript once treated as line ends).
pub(crate) fn push_json_str(out: &mut String, value: &str) {
    let bytes = value.as_bytes();
    let mut run = 0;
    let mut i = 0;
    loop {
        i = skip_json_plain(bytes, i);
        let Some(&b) = bytes.get(i) else {
            break;
        };
        // The sequence to escape at `i`, and its length in bytes.
        let (escape, len): (Escape, usize) = match b {
            b'"' => (Escape::Short('"'), 1),
            b'\\' => (Escape::Short('\\'), 1),
            b'\n' => (Escape::Short('n'), 1),
            b'\r' => (Escape::Short('r'), 1),
            b'\t' => (Escape::Short('t'), 1),
            0x08 => (Escape::Short('b'), 1),
            0x0c => (Escape::Short('f'), 1),
            0x00..=0x1f | 0x7f => (Escape::Unicode(u16::from(b)), 1),
            // U+0080..U+009F are 0xC2 0x80..0x9F in UTF-8.
            0xc2 => match bytes.get(i + 1) {
                Some(&next @ 0x80..=0x9f) => (Escape::Unicode(u16::from(next)), 2),
                _ => (Escape::None, 1),
            },
            // U+2028 and U+2029 are 0xE2 0x80 0xA8/0xA9.
            0xe2 => match (bytes.get(i + 1), bytes.get(i + 2)) {
                (Some(0x80), Some(0xa8)) => (Escape::Unicode(0x2028), 3),
                (Some(0x80), Some(0xa9)) => (Escape::Unicode(0x2029), 3),
                _ => (Escape::None, 1),
            },
            _ => (Escape::None, 1),
        };
        if let Escape::None = escape {
            i += len;
            continue;
        }
        if run < i {
            // `run` and `i` both start a character: `run` follows a whole
            // escaped sequence, `i` starts one.
            out.push_str(&value[run..i]);
        }
        out.push('\\');
        match escape {
            Escape::Short(c) => out.push(c),
            Escape::Unicode(unit) => {
                out.push('u');
                for shift in [12, 8, 4, 0] {
                    out.push(char::from(HEX[usize::from((unit >> shift) & 0xf)]));
                }
            }
            Escape::None => {}
        }
        i += len;
        run = i;
    }
    if run < bytes.len() {
        out.push_str(&value[run..]);
    }
}

/// The index of the first byte at or after `i` that [`JSON_SPECIAL`] marks
/// (or the length): eight bytes at a time while none of them is below
/// 0x20, `"`, `\`, DEL or non-ASCII, then byte by byte for eight bytes.
fn skip_json_plain(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Nonzero exactly when some byte of `v` is zero.
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    loop {
        while let Some(chunk) = bytes.get(i..i + 8) {
            let w = u64::from_le_bytes(chunk.try_into().expect("a slice of 8 bytes"));
            let attention = (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
                | has_zero(w ^ (ONES * u64::from(b'"')))
                | has_zero(w ^ (ONES * u64::from(b'\\')))
                | has_zero(w ^ (ONES * 0x7f))
                | (w & HIGH);
            if attention != 0 {
                break;
            }
            i += 8;
        }
        let end = (i + 8).min(bytes.len());
        while i < end {
            if JSON_SPECIAL[usize::from(bytes[i])] {
                return i;
            }
            i += 1;
        }
        if i >= bytes.len() {
            return i;
        }
    }
}

enum Escape {
    None,
    Short(char),
    Unicode(u16),
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    fn path(v: &str) -> String {
        let mut s = String::new();
        push_path(&mut s, v);
        s
    }

    fn query(v: &str) -> String {
        let mut s = String::new();
        push_query(&mut s, v);
        s
    }

    fn json(v: &str) -> String {
        let mut s = String::new();
        push_json_str(&mut s, v);
        s
    }

    #[test]
    fn percent_encoding() {
        assert_eq!(path("../../etc/passwd"), "..%2F..%2Fetc%2Fpasswd");
        assert_eq!(path("a b?c#d%e~f"), "a%20b%3Fc%23d%25e~f");
        assert_eq!(path("é"), "%C3%A9");
        assert_eq!(query("real&admin=true"), "real%26admin%3Dtrue");
        assert_eq!(query("O'Reilly & Sons"), "O%27Reilly+%26+Sons");
        assert_eq!(query("a+b"), "a%2Bb");
        assert_eq!(path(""), "");
    }

    #[test]
    fn json_escaping() {
        assert_eq!(json(r#"","role":"admin"#), r#"\",\"role\":\"admin"#);
        assert_eq!(json("a\\b\n\r\t\u{8}\u{c}"), r"a\\b\n\r\t\b\f");
        assert_eq!(json("\0\u{1f}\u{7f}"), r"\u0000\u001F\u007F");
        assert_eq!(json("\u{85}\u{9f}\u{a0}é"), "\\u0085\\u009F\u{a0}é");
        assert_eq!(
            json("x\u{2028}y\u{2029}\u{2030}"),
            "x\\u2028y\\u2029\u{2030}"
        );
        assert_eq!(json("plain {{x}} text"), "plain {{x}} text");
    }

    /// The escaping, one character at a time: what the fast path must match.
    fn json_reference(v: &str) -> String {
        let mut out = String::new();
        for c in v.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' => {
                    write!(out, "\\u{:04X}", u32::from(c)).unwrap();
                }
                c => out.push(c),
            }
        }
        out
    }

    #[test]
    fn json_fast_path_matches_the_reference() {
        let specials = [
            "\"", "\\", "\n", "\0", "\u{1f}", "\u{7f}", "\u{80}", "\u{9f}", "\u{a0}", "é",
            "\u{2028}", "\u{2029}", "\u{2027}", "€", "💥", " ", "~",
        ];
        for special in specials {
            for before in 0..20 {
                for after in [0, 1, 7, 8, 9, 17] {
                    let v = format!("{}{special}{}", "a".repeat(before), "b".repeat(after));
                    assert_eq!(json(&v), json_reference(&v), "{v:?}");
                    let twice = format!("{v}{special}{v}");
                    assert_eq!(json(&twice), json_reference(&twice), "{twice:?}");
                }
            }
        }
    }

    #[test]
    fn json_escaping_round_trips() {
        let v = "\"\\\u{0}\u{1}\u{85}\u{2028}\u{2029}€💥\u{e000}";
        let quoted = format!("\"{}\"", json(v));
        assert!(!quoted.contains('\u{2028}') && !quoted.contains('\u{85}'));
        let back: String = serde_json::from_str(&quoted).unwrap();
        assert_eq!(back, v);
    }
}
