//! Body templates: the encoder follows the Content-Type.

use std::collections::BTreeMap;

use buttons_spec::{ArgDef, Args};

use crate::error::Error;
use crate::template::{Compiled, Encoding, Found, find_any, find_placeholders, match_placeholder};

/// How a body template's values are encoded, chosen from its Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyKind {
    /// JSON (`application/json`, `text/json`, any `+json` type, or no
    /// Content-Type at all): JSON string escaping inside string literals,
    /// typed JSON values outside them.
    Json,
    /// `application/x-www-form-urlencoded`: form encoding, as a URL query.
    Form,
    /// Any other type: values are inserted verbatim.
    ///
    /// # Security
    ///
    /// Nothing is escaped: whether a value can change the meaning of the body
    /// is the button author's responsibility. Prefer JSON or form bodies for
    /// arguments from untrusted callers.
    Raw,
}

impl BodyKind {
    /// Picks the encoder for a Content-Type header value, matched
    /// case-insensitively with parameters (`; charset=…`) ignored.
    ///
    /// `None` (or an empty value), `application/json`, `text/json` and
    /// structured `+json` types such as `application/vnd.api+json` are
    /// [`BodyKind::Json`]; `application/x-www-form-urlencoded` is
    /// [`BodyKind::Form`]; anything else is [`BodyKind::Raw`].
    ///
    /// ```
    /// use buttons_encode::BodyKind;
    /// assert_eq!(BodyKind::from_content_type(None), BodyKind::Json);
    /// assert_eq!(BodyKind::from_content_type(Some("Application/JSON; charset=utf-8")), BodyKind::Json);
    /// assert_eq!(BodyKind::from_content_type(Some("application/x-www-form-urlencoded")), BodyKind::Form);
    /// assert_eq!(BodyKind::from_content_type(Some("text/plain")), BodyKind::Raw);
    /// ```
    pub fn from_content_type(content_type: Option<&str>) -> Self {
        let Some(content_type) = content_type else {
            return Self::Json;
        };
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "" | "application/json" | "text/json" => Self::Json,
            "application/x-www-form-urlencoded" => Self::Form,
            other if other.ends_with("+json") && other.contains('/') => Self::Json,
            _ => Self::Raw,
        }
    }
}

/// The Content-Type of a button's headers, found case-insensitively.
///
/// When several keys differ only in case, the first in the map's order wins.
///
/// ```
/// use std::collections::BTreeMap;
/// let headers = BTreeMap::from([("content-TYPE".to_owned(), "text/plain".to_owned())]);
/// assert_eq!(buttons_encode::content_type(&headers), Some("text/plain"));
/// ```
pub fn content_type(headers: &BTreeMap<String, String>) -> Option<&str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.as_str())
}

/// A parsed HTTP button body template.
///
/// # Security
///
/// The encoder depends on the [`BodyKind`]:
///
/// - **JSON.** The template is lexed to know, for each placeholder, whether
///   it stands inside a string literal. Inside one, the value is JSON-string
///   escaped: `"`, `\`, every control character (C0, DEL, C1) and
///   U+2028/U+2029, so it can never end the string. Outside one, the value
///   is written as a JSON value of its type: an `int` or `bool` as its
///   literal (re-formatted after validation), anything else as a quoted,
///   escaped JSON string, and an optional argument that was not supplied as
///   `null`. When [`BodyTemplate::is_valid_json`] holds, every rendering is
///   valid JSON with the template's structure.
///
///   A template that is not JSON (a Go-era body such as `hello {{name}}`
///   without a Content-Type) is lexed as far as it goes: placeholders the
///   lexer sees inside a string literal are escaped as above; the others,
///   whose context cannot be trusted, are also JSON-string escaped but get
///   no quotes (what the Go tool did), so a value still cannot open or close
///   a string; an unsupplied one renders as nothing. A `{{name}}` that
///   directly follows a `\` inside a string is the escaped character's text
///   and stays literal.
/// - **Form.** Values are form-encoded (`&`, `=`, `+`, `#`, `%` encoded,
///   space as `+`): a value cannot add a field.
/// - **Raw.** Values are inserted verbatim; see [`BodyKind::Raw`].
///
/// In every kind a value is never scanned for placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyTemplate {
    compiled: Compiled,
    kind: BodyKind,
    valid_json: bool,
}

impl BodyTemplate {
    /// Parses a body template once; placeholders name `declared` arguments (a
    /// `{{name}}` naming no declared argument stays literal text).
    ///
    /// Parsing does not fail today (a body that is not JSON is handled as
    /// documented on the type); the `Result` leaves room for limits.
    ///
    /// ```
    /// use buttons_encode::{BodyKind, BodyTemplate};
    /// use buttons_spec::{ArgDef, Args};
    ///
    /// let declared = [ArgDef::parse("u:string:required")?, ArgDef::parse("n:int:optional")?];
    /// let body = BodyTemplate::parse(r#"{"user": "{{u}}", "n": {{n}}, "role": "viewer"}"#, BodyKind::Json, &declared)?;
    /// let args = Args::validate(&declared, [("u", r#"","role":"admin"#), ("n", "3")])?;
    /// assert_eq!(body.render(&args)?, r#"{"user": "\",\"role\":\"admin", "n": 3, "role": "viewer"}"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(template: &str, kind: BodyKind, declared: &[ArgDef]) -> Result<Self, Error> {
        let (compiled, valid_json) = match kind {
            BodyKind::Json => parse_json(template, declared),
            BodyKind::Form => (plain(template, declared, Encoding::Query), false),
            BodyKind::Raw => (plain(template, declared, Encoding::Raw), false),
        };
        Ok(Self {
            compiled,
            kind,
            valid_json,
        })
    }

    /// The encoder this template uses.
    pub fn kind(&self) -> BodyKind {
        self.kind
    }

    /// The template text as parsed.
    pub fn as_str(&self) -> &str {
        &self.compiled.template
    }

    /// The argument names the template uses, in order of first use.
    pub fn arg_names(&self) -> impl Iterator<Item = &str> {
        self.compiled.names.iter().map(String::as_str)
    }

    /// Whether this is a JSON template that `serde_json` parses once every
    /// placeholder outside a string is replaced by `null` and every one inside
    /// a string by nothing. When it is, every rendering parses as JSON, with
    /// the values in place; a creator may warn when a JSON body is not.
    pub fn is_valid_json(&self) -> bool {
        self.valid_json
    }

    /// Renders the body for one press, in a single pass.
    ///
    /// A declared argument that was not supplied renders as an empty string,
    /// or as `null` in a JSON value position.
    ///
    /// # Security
    ///
    /// See the type's documentation: `args` is untrusted, and each value goes
    /// through the encoder of its position.
    pub fn render(&self, args: &Args) -> Result<String, Error> {
        let compiled = &self.compiled;
        Ok(compiled.with_values(args, |values| {
            let mut out = String::with_capacity(compiled.capacity(values));
            compiled.render_pieces(0..compiled.pieces.len(), values, &mut out);
            out
        }))
    }
}

fn plain(template: &str, declared: &[ArgDef], encoding: Encoding) -> Compiled {
    let mut compiled = Compiled::new(template);
    let mut at = 0;
    for found in find_placeholders(template, 0..template.len(), declared) {
        compiled.push_literal(at..found.start);
        compiled.push_arg(found.name, encoding, found.start);
        at = found.end;
    }
    compiled.push_literal(at..template.len());
    compiled
}

/// Lexes a JSON template just enough to know whether each placeholder stands
/// inside a string literal, then checks the template's shape with
/// `serde_json` to decide how to write the placeholders outside strings.
fn parse_json(template: &str, declared: &[ArgDef]) -> (Compiled, bool) {
    let bytes = template.as_bytes();
    // Placeholders with whether each one is inside a string.
    let mut found: Vec<(Found<'_>, bool)> = Vec::new();
    let mut in_string = false;
    let mut i = 0;
    loop {
        i = find_any(bytes, i, [b'{', b'"', b'\\']);
        let Some(&b) = bytes.get(i) else {
            break;
        };
        match b {
            b'{' => {
                if let Some(f) = match_placeholder(template, i, declared) {
                    found.push((f, in_string));
                    i = f.end;
                    continue;
                }
            }
            b'"' => in_string = !in_string,
            // Inside a string, a backslash escapes the next byte, and `\u`
            // the four after it (but never a closing quote): no placeholder
            // starts inside an escape. A multi-byte character's other bytes
            // are never `"`, `\` or `{`.
            b'\\' if in_string => {
                i += 1;
                if bytes.get(i) == Some(&b'u') {
                    let mut hex = 0;
                    while hex < 4 && bytes.get(i + 1).is_some_and(|&b| b != b'"') {
                        i += 1;
                        hex += 1;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }

    // The template with `null` for value placeholders and nothing for string ones.
    let mut probe = String::with_capacity(template.len());
    let mut at = 0;
    for (f, in_string) in &found {
        probe.push_str(&template[at..f.start]);
        if !in_string {
            probe.push_str("null");
        }
        at = f.end;
    }
    probe.push_str(&template[at..]);
    let valid_json = serde_json::from_str::<serde_json::Value>(&probe).is_ok();

    let mut compiled = Compiled::new(template);
    let mut at = 0;
    for (f, in_string) in found {
        compiled.push_literal(at..f.start);
        let encoding = match (in_string, valid_json) {
            (false, true) => Encoding::JsonValue,
            _ => Encoding::JsonString,
        };
        compiled.push_arg(f.name, encoding, f.start);
        at = f.end;
    }
    compiled.push_literal(at..template.len());
    (compiled, valid_json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defs() -> Vec<ArgDef> {
        [
            "u:string:optional",
            "n:int:optional",
            "b:bool:optional",
            "e:enum:optional:x|y",
        ]
        .iter()
        .map(|d| ArgDef::parse(d).unwrap())
        .collect()
    }

    fn render(kind: BodyKind, template: &str, args: &[(&str, &str)]) -> (String, bool) {
        let d = defs();
        let t = BodyTemplate::parse(template, kind, &d).unwrap();
        let out = t
            .render(&Args::validate(&d, args.iter().copied()).unwrap())
            .unwrap();
        (out, t.is_valid_json())
    }

    #[test]
    fn content_types() {
        for (ct, kind) in [
            (None, BodyKind::Json),
            (Some(""), BodyKind::Json),
            (Some("application/json"), BodyKind::Json),
            (Some(" TEXT/JSON ;charset=utf-8"), BodyKind::Json),
            (Some("application/vnd.api+json"), BodyKind::Json),
            (
                Some("APPLICATION/X-WWW-FORM-URLENCODED; charset=UTF-8"),
                BodyKind::Form,
            ),
            (Some("text/plain"), BodyKind::Raw),
            (Some("application/xml"), BodyKind::Raw),
            (Some("+json"), BodyKind::Raw),
            (Some("application/jsonx"), BodyKind::Raw),
            (Some("multipart/form-data"), BodyKind::Raw),
        ] {
            assert_eq!(BodyKind::from_content_type(ct), kind, "{ct:?}");
        }
    }

    #[test]
    fn finds_content_type_header() {
        let mut h = BTreeMap::new();
        assert_eq!(content_type(&h), None);
        h.insert("Authorization".to_owned(), "x".to_owned());
        h.insert("CONTENT-type".to_owned(), "application/json".to_owned());
        assert_eq!(content_type(&h), Some("application/json"));
    }

    #[test]
    fn json_contexts() {
        let (out, valid) = render(
            BodyKind::Json,
            r#"{"{{u}}": [{{n}}, {{b}}, {{e}}, {{u}}, "a\"{{u}}\\{{u}}"], "m": {{n}}}"#,
            &[("u", "\"\\\n"), ("n", "-12"), ("b", "0"), ("e", "x")],
        );
        assert!(valid);
        assert_eq!(
            out,
            r#"{"\"\\\n": [-12, false, "x", "\"\\\n", "a\"\"\\\n\\\"\\\n"], "m": -12}"#
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["m"], -12);
    }

    #[test]
    fn json_missing_values() {
        let (out, valid) = render(BodyKind::Json, r#"{"a": {{n}}, "b": "{{u}}"}"#, &[]);
        assert!(valid);
        assert_eq!(out, r#"{"a": null, "b": ""}"#);
    }

    #[test]
    fn json_not_json() {
        // Go-era text body without a Content-Type: escaped, no quotes added.
        let (out, valid) = render(
            BodyKind::Json,
            "hello {{u}}, {{n}} {{b}}",
            &[("u", "\"Bob\"\n"), ("n", "5")],
        );
        assert!(!valid);
        assert_eq!(out, r#"hello \"Bob\"\n, 5 "#);
        // A placeholder right after a backslash in a string is the escaped text.
        let (out, _) = render(BodyKind::Json, r#"{"a": "\{{u}}"}"#, &[("u", "\"")]);
        assert_eq!(out, r#"{"a": "\{{u}}"}"#);
        // So is one inside the four hex digits of a `\u` escape: without the
        // placeholder this would be the valid `"\u00e9"`.
        let (out, valid) = render(BodyKind::Json, r#"["\u00{{u}}e9"]"#, &[("u", "x")]);
        assert!(!valid);
        assert_eq!(out, r#"["\u00{{u}}e9"]"#);
        let (out, valid) = render(BodyKind::Json, r#"["\u00e9{{u}}", "\u"]"#, &[("u", "x")]);
        assert!(!valid);
        assert_eq!(out, r#"["\u00e9x", "\u"]"#);
        let (out, valid) = render(BodyKind::Json, r#"["\u00e9{{u}}"]"#, &[("u", "\"")]);
        assert!(valid);
        assert_eq!(out, r#"["\u00e9\""]"#);
        // A number JSON grammar allows but serde_json cannot hold is not JSON here.
        let (_, valid) = render(BodyKind::Json, r#"[1e400, {{u}}]"#, &[("u", "x")]);
        assert!(!valid);
        // Adjacent to a number: not a lone value, so not trusted as one.
        let (out, valid) = render(BodyKind::Json, r#"{"a": -{{n}}}"#, &[("n", "-5")]);
        assert!(!valid);
        assert_eq!(out, r#"{"a": --5}"#);
    }

    #[test]
    fn form_and_raw() {
        let (out, _) = render(
            BodyKind::Form,
            "name={{u}}&x=1",
            &[("u", "O'Reilly & Sons=1+1")],
        );
        assert_eq!(out, "name=O%27Reilly+%26+Sons%3D1%2B1&x=1");
        let (out, _) = render(BodyKind::Raw, "<a>{{u}}</a>", &[("u", "</a>{{n}}")]);
        assert_eq!(out, "<a></a>{{n}}</a>");
    }
}
