//! The attack examples of reference §7 and the Go tool's own examples.

use buttons_encode::{BodyKind, BodyTemplate, Error, UrlTemplate};
use buttons_spec::{ArgDef, Args, ErrorCode};
use url::Url;

fn declared(defs: &[&str]) -> Vec<ArgDef> {
    defs.iter().map(|d| ArgDef::parse(d).unwrap()).collect()
}

fn url(template: &str, defs: &[&str], args: &[(&str, &str)]) -> Result<String, Error> {
    let d = declared(defs);
    UrlTemplate::parse(template, &d)
        .unwrap()
        .render(&Args::validate(&d, args.iter().copied()).unwrap())
}

fn body(kind: BodyKind, template: &str, defs: &[&str], args: &[(&str, &str)]) -> String {
    let d = declared(defs);
    BodyTemplate::parse(template, kind, &d)
        .unwrap()
        .render(&Args::validate(&d, args.iter().copied()).unwrap())
        .unwrap()
}

#[test]
fn query_injection_is_inert() {
    let out = url(
        "https://api.example.com/search?q={{q}}&limit=10",
        &["q:string:required"],
        &[("q", "real&admin=true")],
    )
    .unwrap();
    assert_eq!(
        out,
        "https://api.example.com/search?q=real%26admin%3Dtrue&limit=10"
    );
    let parsed = Url::parse(&out).unwrap();
    let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    assert_eq!(
        pairs,
        [
            ("q".to_owned(), "real&admin=true".to_owned()),
            ("limit".to_owned(), "10".to_owned())
        ]
    );
}

#[test]
fn path_traversal_is_inert() {
    let out = url(
        "https://api.example.com/files/{{id}}/download",
        &["id:string:required"],
        &[("id", "../../etc/passwd")],
    )
    .unwrap();
    assert_eq!(
        out,
        "https://api.example.com/files/..%2F..%2Fetc%2Fpasswd/download"
    );
    // The URL parser keeps it one segment: nothing is resolved away.
    assert_eq!(
        Url::parse(&out).unwrap().path(),
        "/files/..%2F..%2Fetc%2Fpasswd/download"
    );
}

#[test]
fn dot_segments_are_refused() {
    let defs = ["id:string:required", "ext:string:optional"];
    for (template, args) in [
        (
            "https://api.example.com/files/{{id}}/download",
            vec![("id", "..")],
        ),
        ("https://api.example.com/files/{{id}}", vec![("id", ".")]),
        // Two placeholders building `..` together.
        (
            "https://api.example.com/files/{{id}}{{ext}}/x",
            vec![("id", "."), ("ext", ".")],
        ),
        // A literal `%` and a value spelling `%2e`.
        (
            "https://api.example.com/files/%{{id}}/x",
            vec![("id", "2e")],
        ),
        (
            "https://api.example.com/files/{{id}}%2E/x",
            vec![("id", ".")],
        ),
    ] {
        let err = url(template, &defs, &args).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationError, "{template}");
        assert_eq!(err.argument(), Some("id"), "{template}");
        assert!(matches!(err, Error::DotSegment { .. }));
        // Why: substituted naively, the parser would resolve the segment away.
        let naive = template
            .replace("{{id}}", args[0].1)
            .replace("{{ext}}", ".");
        let naive_path = &naive["https://api.example.com".len()..];
        assert_ne!(Url::parse(&naive).unwrap().path(), naive_path, "{naive}");
    }
    // The encoded `%2e` value is not a dot for the parser.
    let out = url(
        "https://api.example.com/files/{{id}}/x",
        &defs,
        &[("id", "%2e%2e")],
    )
    .unwrap();
    assert_eq!(Url::parse(&out).unwrap().path(), "/files/%252e%252e/x");
}

#[test]
fn json_breakout_is_inert() {
    let out = body(
        BodyKind::Json,
        r#"{"user": "{{u}}", "role": "viewer"}"#,
        &["u:string:required"],
        &[("u", r#"","role":"admin"#)],
    );
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(v.len(), 2, "{out}");
    assert_eq!(v["role"], "viewer");
    assert_eq!(v["user"], r#"","role":"admin"#);
    // Exactly one `role` key in the text, not one overwritten by another.
    assert_eq!(out.matches(r#""role""#).count(), 1, "{out}");
}

#[test]
fn json_value_positions_are_typed() {
    let defs = [
        "count:int:required",
        "flag:bool:required",
        "name:string:required",
        "extra:string:optional",
    ];
    let out = body(
        BodyKind::Json,
        r#"{"n": {{count}}, "f": {{flag}}, "s": {{name}}, "x": {{extra}}}"#,
        &defs,
        &[
            ("count", "+0042"),
            ("flag", "False"),
            ("name", "1, \"admin\": true"),
        ],
    );
    assert_eq!(
        out,
        r#"{"n": 42, "f": false, "s": "1, \"admin\": true", "x": null}"#
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"n": 42, "f": false, "s": "1, \"admin\": true", "x": null})
    );
}

#[test]
fn oreilly_and_sons() {
    let defs = ["name:string:required"];
    let args = [("name", "O'Reilly & Sons")];
    let out = url(
        "https://api.example.com/publishers/{{name}}?q={{name}}#{{name}}",
        &defs,
        &args,
    )
    .unwrap();
    assert_eq!(
        out,
        "https://api.example.com/publishers/O%27Reilly%20%26%20Sons?q=O%27Reilly+%26+Sons#O%27Reilly%20%26%20Sons"
    );
    let parsed = Url::parse(&out).unwrap();
    assert_eq!(parsed.query_pairs().next().unwrap().1, "O'Reilly & Sons");

    let json = body(BodyKind::Json, r#"{"name": "{{name}}"}"#, &defs, &args);
    assert_eq!(json, r#"{"name": "O'Reilly & Sons"}"#);

    let form = body(BodyKind::Form, "name={{name}}&x=1", &defs, &args);
    assert_eq!(form, "name=O%27Reilly+%26+Sons&x=1");
    let pairs: Vec<_> = url::form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(
        pairs,
        [
            ("name".to_owned(), "O'Reilly & Sons".to_owned()),
            ("x".to_owned(), "1".to_owned())
        ]
    );
}

#[test]
fn values_are_never_expanded_again() {
    // The Go tool replaced one argument at a time, so `a`'s value could pull
    // in `b`'s, depending on map order. Here a value is never re-scanned.
    let defs = ["a:string:required", "b:string:required"];
    let args = [("a", "{{b}}"), ("b", "{{a}}")];
    let out = url("https://api.example.com/{{a}}?b={{b}}", &defs, &args).unwrap();
    assert_eq!(out, "https://api.example.com/%7B%7Bb%7D%7D?b=%7B%7Ba%7D%7D");
    for kind in [BodyKind::Json, BodyKind::Form, BodyKind::Raw] {
        let out = body(kind, "[\"{{a}}\",\"{{b}}\"]", &defs, &args);
        assert!(!out.contains("{{a}}\",\"{{a}}") && !out.contains("{{b}}\",\"{{b}}"));
        if kind == BodyKind::Raw {
            assert_eq!(out, "[\"{{b}}\",\"{{a}}\"]");
        }
    }
}

#[test]
fn the_host_never_changes() {
    let defs = ["p:string:required"];
    for value in [
        "@evil.example",
        "//evil.example/x",
        "\\\\evil.example",
        "..\\..\\evil",
        ":8080",
        "%40evil.example",
        "?x#y",
    ] {
        for template in [
            "https://api.example.com/{{p}}",
            "https://api.example.com?{{p}}",
            "https://api.example.com#{{p}}",
            "https://api.example.com\\{{p}}",
        ] {
            let out = url(template, &defs, &[("p", value)]).unwrap();
            let parsed = Url::parse(&out).unwrap();
            assert_eq!(parsed.host_str(), Some("api.example.com"), "{out}");
            assert_eq!(parsed.port(), None, "{out}");
            assert_eq!(parsed.username(), "", "{out}");
        }
    }
}

#[test]
fn placeholders_in_scheme_or_host_are_refused_at_parse() {
    let d = declared(&["h:string:required", "port:int:required"]);
    for template in [
        "https://{{h}}/x",
        "https://api.{{h}}.com/",
        "https://api.example.com:{{port}}/",
        "{{h}}://api.example.com/",
        "https://{{h}}@api.example.com/",
    ] {
        let err = UrlTemplate::parse(template, &d).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationError, "{template}");
        assert!(err.offset().is_some(), "{template}");
    }
}

#[test]
fn raw_bodies_are_verbatim() {
    // Documented: other content types are the author's responsibility.
    let out = body(
        BodyKind::Raw,
        "X: {{v}}",
        &["v:string:required"],
        &[("v", "a\r\nInjected: 1")],
    );
    assert_eq!(out, "X: a\r\nInjected: 1");
}
