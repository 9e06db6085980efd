//! Property tests: for arbitrary Unicode values, real parsers (`url`,
//! `serde_json`, `form_urlencoded`) read back exactly the value, in the
//! place the template put it, and the host never changes.

use buttons_encode::{BodyKind, BodyTemplate, Error, UrlTemplate};
use buttons_spec::{ArgDef, Args};
use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use serde_json::json;
use url::Url;

fn declared(defs: &[&str]) -> Vec<ArgDef> {
    defs.iter().map(|d| ArgDef::parse(d).unwrap()).collect()
}

/// Arbitrary Unicode, or text built from the characters that matter to URL,
/// form and JSON syntax (including placeholders naming declared arguments).
fn value() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        4 => prop::sample::select(vec![
            "{{a}}", "{{b}}", "{{q}}", "{{u}}", "{{x}}", "{{", "}}", "%", "%2e", "%2E", "%25",
            "&", "=", "#", "?", "/", "\\", "\"", "'", " ", "+", ".", "..", ";", ":", "@", "[",
            "]", "{", "}", ",", "\0", "\n", "\r", "\t", "\u{7f}", "\u{85}", "\u{2028}",
            "\u{2029}", "\u{feff}", "é", "💥", "\u{fffd}",
        ])
        .prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
        1 => "[a-z0-9]{1,3}",
    ];
    prop_oneof![
        any::<String>(),
        prop::collection::vec(token, 0..10).prop_map(|t| t.concat()),
    ]
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8().unwrap().into_owned()
}

fn is_dot(s: &str) -> bool {
    s == "." || s == ".."
}

/// JSON-ish template text: mostly JSON documents with placeholders in value,
/// key and in-string positions, sometimes a soup of JSON tokens.
fn json_template() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(vec![
        "null",
        "1",
        "-2.5e3",
        "true",
        "\"s\"",
        "\"\\\"\"",
        "{{u}}",
        "{{n}}",
        "{{b}}",
        "{{missing}}",
        "\"{{u}}\"",
        "\"a{{u}}\\\\{{n}}\"",
        "\"{{zz}}\"",
        "{{zz}}",
        "\"\\u00e9{{b}}\"",
        "\"\\u00{{u}}e9\"",
        "\"\\u{{u}}\"",
        "1e400",
    ])
    .prop_map(str::to_owned);
    let key = prop::sample::select(vec![
        "\"k\"",
        "\"{{u}}\"",
        "\"k{{n}}\"",
        "\"\\\\\"",
        "\"{{b}}\\\"\"",
    ]);
    let document = leaf.prop_recursive(4, 32, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec((key.clone(), inner), 0..5).prop_map(|kv| {
                let members: Vec<String> = kv.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    });
    let soup = prop::collection::vec(
        prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"",
            "\\",
            "\\\"",
            " ",
            "1",
            "-",
            "null",
            "true",
            "\"k\"",
            "\"k\":",
            "{{u}}",
            "{{n}}",
            "{{b}}",
            "{{missing}}",
            "\"{{u}}\"",
            "\\u00e9",
        ]),
        0..16,
    )
    .prop_map(|p| p.concat());
    prop_oneof![3 => document, 1 => soup]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn query_value_round_trips(q in value(), r in value()) {
        let d = declared(&["q:string:required", "r:string:optional"]);
        let t = UrlTemplate::parse("https://api.example.com/search?q={{q}}&limit=10&{{r}}={{q}}", &d).unwrap();
        let out = t.render(&Args::validate(&d, [("q", &q), ("r", &r)]).unwrap()).unwrap();
        let u = Url::parse(&out).unwrap();
        prop_assert_eq!(u.host_str(), Some("api.example.com"));
        prop_assert_eq!(u.port(), None);
        prop_assert_eq!(u.path(), "/search");
        prop_assert_eq!(u.fragment(), None);
        let pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
        prop_assert_eq!(pairs, vec![
            ("q".to_owned(), q.clone()),
            ("limit".to_owned(), "10".to_owned()),
            (r, q),
        ]);
    }

    #[test]
    fn path_value_round_trips(id in value()) {
        let d = declared(&["id:string:required"]);
        let t = UrlTemplate::parse("https://api.example.com/files/{{id}}/download", &d).unwrap();
        let result = t.render(&Args::validate(&d, [("id", &id)]).unwrap());
        if is_dot(&id) {
            let err = result.unwrap_err();
            let is_dot_error = matches!(err, Error::DotSegment { .. });
            prop_assert!(is_dot_error, "{}", err);
            prop_assert_eq!(err.argument(), Some("id"));
        } else {
            let out = result.unwrap();
            let u = Url::parse(&out).unwrap();
            prop_assert_eq!(u.host_str(), Some("api.example.com"));
            prop_assert_eq!(u.query(), None);
            prop_assert_eq!(u.fragment(), None);
            let segments: Vec<&str> = u.path_segments().unwrap().collect();
            prop_assert_eq!(segments.len(), 3, "{}", out);
            prop_assert_eq!(segments[0], "files");
            prop_assert_eq!(decode(segments[1]), id);
            prop_assert_eq!(segments[2], "download");
        }
    }

    #[test]
    fn two_placeholders_in_one_segment(a in value(), b in value()) {
        let d = declared(&["a:string:required", "b:string:required"]);
        let t = UrlTemplate::parse("https://api.example.com/x/{{a}}{{b}}/y?k={{b}}#{{a}}", &d).unwrap();
        let result = t.render(&Args::validate(&d, [("a", &a), ("b", &b)]).unwrap());
        let joined = format!("{a}{b}");
        if is_dot(&joined) {
            let err = result.unwrap_err();
            let named = if a.is_empty() { "b" } else { "a" };
            prop_assert_eq!(err.argument(), Some(named));
        } else {
            let out = result.unwrap();
            let u = Url::parse(&out).unwrap();
            prop_assert_eq!(u.host_str(), Some("api.example.com"));
            let segments: Vec<&str> = u.path_segments().unwrap().collect();
            prop_assert_eq!(segments.len(), 3, "{}", out);
            prop_assert_eq!(decode(segments[1]), joined);
            let pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
            prop_assert_eq!(pairs, vec![("k".to_owned(), b)]);
            prop_assert_eq!(decode(u.fragment().unwrap()), a);
        }
    }

    #[test]
    fn host_holds_whatever_the_literal_path(lit in value(), a in value()) {
        // The literal text around the placeholder is arbitrary too.
        let d = declared(&["a:string:required"]);
        let template = format!("https://api.example.com:8443/{lit}/{{{{a}}}}/{lit}?{lit}={{{{a}}}}#{{{{a}}}}");
        let t = UrlTemplate::parse(&template, &d).unwrap();
        prop_assert_eq!(&t.host_lock().allowed_host, "api.example.com:8443");
        match t.render(&Args::validate(&d, [("a", &a)]).unwrap()) {
            Ok(out) => {
                let u = Url::parse(&out).unwrap();
                prop_assert_eq!(u.host_str(), Some("api.example.com"));
                prop_assert_eq!(u.port(), Some(8443));
                prop_assert_eq!(u.username(), "");
                prop_assert!(out.starts_with("https://api.example.com:8443/"));
            }
            // The only refusal: a segment that the value, with the literal
            // text around it (`{{a}}%2e` and an empty `a`), makes `.`/`..`.
            Err(e) => {
                let is_dot_error = matches!(e, Error::DotSegment { .. });
                prop_assert!(is_dot_error, "{e}");
            }
        }
    }

    #[test]
    fn json_body_round_trips(
        u in value(),
        n in any::<i64>(),
        n_style in 0..3u8,
        flag in prop::sample::select(vec![("true", true), ("FALSE", false), ("1", true), ("0", false), ("True", true)]),
    ) {
        let d = declared(&[
            "u:string:required",
            "n:int:required",
            "flag:bool:required",
            "missing:string:optional",
        ]);
        let n_text = match n_style {
            0 => n.to_string(),
            1 if n >= 0 => format!("+{n}"),
            _ if n >= 0 => format!("000{n}"),
            _ => format!("-000{}", n.unsigned_abs()),
        };
        let template = r#"{"user": "{{u}}", "role": "viewer", "n": {{n}}, "flag": {{flag}},
            "tag": {{u}}, "map": {"{{u}}": 1}, "list": ["x{{u}}y\n{{u}}", {{missing}}, "{{missing}}"]}"#;
        let t = BodyTemplate::parse(template, BodyKind::Json, &d).unwrap();
        prop_assert!(t.is_valid_json());
        let args = Args::validate(&d, [("u", u.as_str()), ("n", &n_text), ("flag", flag.0)]).unwrap();
        let out = t.render(&args).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let mut map = serde_json::Map::new();
        map.insert(u.clone(), json!(1));
        let expected = json!({
            "user": u, "role": "viewer", "n": n, "flag": flag.1, "tag": u,
            "map": map, "list": [format!("x{u}y\n{u}"), null, ""],
        });
        prop_assert_eq!(v, expected);
        // What JavaScript treats as line ends never appears raw.
        let raw_line_end = out.contains('\u{2028}') || out.contains('\u{2029}');
        prop_assert!(!raw_line_end, "raw U+2028/U+2029 in {}", out);
    }

    #[test]
    fn json_shaped_templates_always_render_json(
        template in json_template(),
        u in value(),
        n in any::<i64>(),
        b in any::<bool>(),
    ) {
        let d = declared(&["u:string:required", "n:int:required", "b:bool:required", "missing:int:optional"]);
        let t = BodyTemplate::parse(&template, BodyKind::Json, &d).unwrap();
        let args = Args::validate(&d, [("u", u), ("n", n.to_string()), ("b", b.to_string())]).unwrap();
        let out = t.render(&args).unwrap();
        if t.is_valid_json() {
            prop_assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok(), "{} -> {}", template, out);
        }
    }

    #[test]
    fn form_body_round_trips(a in value(), c in value()) {
        let d = declared(&["a:string:required", "c:string:required"]);
        let t = BodyTemplate::parse("a={{a}}&b=fixed&{{c}}={{a}}", BodyKind::Form, &d).unwrap();
        let out = t.render(&Args::validate(&d, [("a", &a), ("c", &c)]).unwrap()).unwrap();
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(out.as_bytes()).into_owned().collect();
        prop_assert_eq!(pairs, vec![
            ("a".to_owned(), a.clone()),
            ("b".to_owned(), "fixed".to_owned()),
            (c, a),
        ]);
    }
}
