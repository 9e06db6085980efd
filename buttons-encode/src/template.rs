//! A template parsed once into literal pieces and placeholders, and the
//! single-pass renderer both URL and body templates share.

use std::fmt::Write as _;
use std::ops::Range;

use buttons_spec::{ArgDef, ArgType, ArgValue, Args};

use crate::escape;

/// How one placeholder's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// URL path segment or fragment: percent-encode all but unreserved.
    Path,
    /// URL query or form body: form encoding, space as `+`.
    Query,
    /// Inside a JSON string literal: JSON string escaping, no quotes.
    JsonString,
    /// A JSON value position in a body that is JSON: `int`/`bool` literals,
    /// anything else a quoted JSON string, an absent value `null`.
    JsonValue,
    /// Verbatim (bodies of other content types).
    Raw,
}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Template text, copied as it is.
    Literal(Range<usize>),
    /// A `{{name}}` naming a declared argument.
    Arg {
        /// Index into [`Compiled::names`].
        name: usize,
        /// How its value is written.
        encoding: Encoding,
        /// Byte offset of the `{{` in the template.
        offset: usize,
    },
}

/// A placeholder found by [`match_placeholder`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Found<'a> {
    /// Byte offset of the `{{`.
    pub(crate) start: usize,
    /// Byte offset just after the `}}`.
    pub(crate) end: usize,
    /// The argument name between the braces.
    pub(crate) name: &'a str,
}

/// If `template[at..]` is `{{name}}` and `name` is declared, returns it.
///
/// Argument names are `[A-Za-z][A-Za-z0-9_-]*`, so the match is exact text: no
/// spaces inside the braces, as in the Go tool, which replaces the literal
/// string `{{name}}`.
pub(crate) fn match_placeholder<'a>(
    template: &'a str,
    at: usize,
    declared: &[ArgDef],
) -> Option<Found<'a>> {
    let bytes = template.as_bytes();
    if bytes.get(at..at + 2) != Some(b"{{") {
        return None;
    }
    let name_start = at + 2;
    let name_len = bytes[name_start..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'-')
        .count();
    let name_end = name_start + name_len;
    if name_len == 0 || bytes.get(name_end..name_end + 2) != Some(b"}}") {
        return None;
    }
    // Only ASCII bytes were consumed, so these are char boundaries.
    let name = &template[name_start..name_end];
    declared.iter().any(|d| d.name == name).then_some(Found {
        start: at,
        end: name_end + 2,
        name,
    })
}

/// Finds every declared placeholder in `template[range]`, left to right.
///
/// A `{{` that does not start a declared placeholder stays literal and the
/// search goes on one byte later, so `{{{x}}}` holds the placeholder `{{x}}`
/// between literal braces, as the Go tool's string replacement would have it.
pub(crate) fn find_placeholders<'a>(
    template: &'a str,
    range: Range<usize>,
    declared: &[ArgDef],
) -> Vec<Found<'a>> {
    let mut found = Vec::new();
    let mut at = range.start;
    while let Some(rel) = template[at..range.end].find("{{") {
        let start = at + rel;
        match match_placeholder(template, start, declared) {
            Some(f) if f.end <= range.end => {
                at = f.end;
                found.push(f);
            }
            _ => at = start + 1,
        }
    }
    found
}

/// The index of the first of `targets` at or after `i` in `bytes` (or the
/// length), looking at eight bytes at a time.
pub(crate) fn find_any(bytes: &[u8], mut i: usize, targets: [u8; 3]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Nonzero exactly when some byte of `v` is zero.
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("a slice of 8 bytes"));
        if targets
            .iter()
            .any(|&t| has_zero(w ^ (ONES * u64::from(t))) != 0)
        {
            break;
        }
        i += 8;
    }
    bytes
        .get(i..)
        .and_then(|rest| rest.iter().position(|b| targets.contains(b)))
        .map_or(bytes.len(), |at| i + at)
}

/// A parsed template: its text, its pieces, and the argument names used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Compiled {
    pub(crate) template: String,
    pub(crate) pieces: Vec<Piece>,
    /// Distinct argument names, in order of first use.
    pub(crate) names: Vec<String>,
    /// Indexes into `names`, sorted by name (the order of [`Args::iter`]).
    sorted: Vec<usize>,
    /// Total bytes of literal text, for sizing the output.
    literal_len: usize,
}

impl Compiled {
    pub(crate) fn new(template: &str) -> Self {
        Self {
            template: template.to_owned(),
            pieces: Vec::new(),
            names: Vec::new(),
            sorted: Vec::new(),
            literal_len: 0,
        }
    }

    pub(crate) fn push_literal(&mut self, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        self.literal_len += range.len();
        self.pieces.push(Piece::Literal(range));
    }

    /// Adds a placeholder; returns the index of its name in [`Compiled::names`].
    pub(crate) fn push_arg(&mut self, name: &str, encoding: Encoding, offset: usize) -> usize {
        let names = &self.names;
        let index = match self
            .sorted
            .binary_search_by(|&i| names[i].as_str().cmp(name))
        {
            Ok(at) => self.sorted[at],
            Err(at) => {
                self.names.push(name.to_owned());
                self.sorted.insert(at, self.names.len() - 1);
                self.names.len() - 1
            }
        };
        self.pieces.push(Piece::Arg {
            name: index,
            encoding,
            offset,
        });
        index
    }

    /// Looks each argument up once, in [`Compiled::names`] order (one merge
    /// of the sorted names with the sorted arguments), and calls `f` with
    /// the values; up to 32 names need no allocation.
    pub(crate) fn with_values<R>(
        &self,
        args: &Args,
        f: impl FnOnce(&[Option<&ArgValue>]) -> R,
    ) -> R {
        const ON_STACK: usize = 32;
        if self.names.len() <= ON_STACK {
            let mut stack = [None; ON_STACK];
            let values = &mut stack[..self.names.len()];
            self.resolve_into(args, values);
            f(values)
        } else {
            let mut heap = vec![None; self.names.len()];
            self.resolve_into(args, &mut heap);
            f(&heap)
        }
    }

    fn resolve_into<'a>(&self, args: &'a Args, values: &mut [Option<&'a ArgValue>]) {
        let mut supplied = args.iter().peekable();
        for &index in &self.sorted {
            let name = self.names[index].as_str();
            while supplied.next_if(|(given, _)| *given < name).is_some() {}
            if let Some((_, value)) = supplied.next_if(|(given, _)| *given == name) {
                values[index] = Some(value);
            }
        }
    }

    /// A starting capacity for the output: literal text, values, and some
    /// room for escapes.
    pub(crate) fn capacity(&self, values: &[Option<&ArgValue>]) -> usize {
        let mut value_len = 0;
        for piece in &self.pieces {
            if let Piece::Arg { name, .. } = piece {
                value_len += values[*name].map_or(4, |v| v.as_str().len() + 2);
            }
        }
        self.literal_len + value_len + value_len / 4 + 16
    }

    /// Renders `self.pieces[pieces]` onto `out`. Values are written through
    /// their encoder and never looked at again.
    pub(crate) fn render_pieces(
        &self,
        pieces: Range<usize>,
        values: &[Option<&ArgValue>],
        out: &mut String,
    ) {
        for piece in &self.pieces[pieces] {
            match piece {
                Piece::Literal(range) => out.push_str(&self.template[range.clone()]),
                Piece::Arg { name, encoding, .. } => {
                    push_value(out, *encoding, values[*name]);
                }
            }
        }
    }
}

/// Writes one value with its encoder. An argument that was declared but not
/// supplied renders as nothing, or as `null` in a JSON value position.
fn push_value(out: &mut String, encoding: Encoding, value: Option<&ArgValue>) {
    let Some(value) = value else {
        if encoding == Encoding::JsonValue {
            out.push_str("null");
        }
        return;
    };
    let text = value.as_str();
    match encoding {
        Encoding::Path => escape::push_path(out, text),
        Encoding::Query => escape::push_query(out, text),
        Encoding::JsonString => escape::push_json_str(out, text),
        Encoding::Raw => out.push_str(text),
        Encoding::JsonValue => push_json_value(out, value),
    }
}

/// A typed JSON value: an `int` as its number (re-formatted, so `+5` and
/// `007` come out as `5` and `7`), a `bool` as `true`/`false`, anything else
/// (or an `int`/`bool` that does not parse) as a quoted JSON string, the same
/// as [`ArgValue::to_json`].
fn push_json_value(out: &mut String, value: &ArgValue) {
    let text = value.as_str();
    match value.arg_type() {
        ArgType::Int => {
            if let Ok(n) = text.parse::<i64>() {
                write!(out, "{n}").expect("writing to a String cannot fail");
                return;
            }
        }
        ArgType::Bool => {
            if let Some(b) = buttons_spec::parse_bool(text) {
                out.push_str(if b { "true" } else { "false" });
                return;
            }
        }
        ArgType::String | ArgType::Enum => {}
    }
    out.push('"');
    escape::push_json_str(out, text);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defs(names: &[&str]) -> Vec<ArgDef> {
        names
            .iter()
            .map(|n| ArgDef::parse(&format!("{n}:string:optional")).unwrap())
            .collect()
    }

    #[test]
    fn finds_only_declared_placeholders() {
        let d = defs(&["x", "a-b"]);
        let t = "{{x}} {{y}} {{ x }} {{{x}}} {{a-b}}{{x}";
        let found: Vec<_> = find_placeholders(t, 0..t.len(), &d)
            .iter()
            .map(|f| (f.start, f.name))
            .collect();
        assert_eq!(found, [(0, "x"), (21, "x"), (28, "a-b")]);
    }

    #[test]
    fn respects_the_range_end() {
        let d = defs(&["x"]);
        let t = "a{{x}}b";
        assert!(find_placeholders(t, 0..5, &d).is_empty());
        assert_eq!(find_placeholders(t, 0..6, &d).len(), 1);
    }

    #[test]
    fn finds_any_of_three_bytes() {
        let text = b"0123456789abcdef0123456789\"{";
        for (at, byte) in text.iter().enumerate() {
            for from in 0..=at {
                let found = find_any(text, from, [*byte, 0xff, 0xfe]);
                let naive = text[from..]
                    .iter()
                    .position(|b| b == byte)
                    .map(|p| from + p);
                assert_eq!(Some(found), naive, "{byte} from {from}");
            }
        }
        assert_eq!(find_any(text, 0, [b'x', b'y', b'z']), text.len());
        assert_eq!(find_any(text, text.len(), [b'0', b'1', b'2']), text.len());
        assert_eq!(find_any(b"", 0, [b'0', b'1', b'2']), 0);
    }

    #[test]
    fn typed_json_values() {
        let d = [
            ArgDef::parse("n:int:optional").unwrap(),
            ArgDef::parse("b:bool:optional").unwrap(),
            ArgDef::parse("s:string:optional").unwrap(),
        ];
        let args = Args::validate(&d, [("n", "+007"), ("b", "TRUE"), ("s", "1")]).unwrap();
        let mut out = String::new();
        for name in ["n", "b", "s"] {
            push_value(&mut out, Encoding::JsonValue, args.get(name));
            out.push(',');
        }
        push_value(&mut out, Encoding::JsonValue, None);
        assert_eq!(out, r#"7,true,"1",null"#);
    }
}
