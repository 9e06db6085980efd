//! A button pressed end to end: templates rendered by buttons-encode,
//! observed at a loopback server.

use buttons_http::{HttpClient, Options, prepare};
use buttons_spec::{ArgDef, Args, Button, ButtonName, ErrorCode, Method, Timestamp};

use buttons_http::test_support::{Server, Tripwire};

fn button(url: &str) -> Button {
    let mut button =
        Button::http(&ButtonName::new("api").unwrap(), url, Timestamp::UNIX_EPOCH).unwrap();
    button.args = vec![
        ArgDef::parse("id:string:required").unwrap(),
        ArgDef::parse("q:string:optional").unwrap(),
        ArgDef::parse("u:string:optional").unwrap(),
    ];
    button
}

#[test]
fn encodings_observed_at_the_server() {
    let server = Server::fixed("127.0.0.1", 200, &[], b"{}");
    let mut button = button(&server.url("/files/{{id}}/download?q={{q}}&limit=10#x-{{id}}"));
    button.method = Method::Post;
    button
        .headers
        .insert("Authorization".into(), "Bearer {{u}}".into());
    button.body = r#"{"user": "{{u}}", "role": "viewer"}"#.into();
    button.allow_private_networks = true;
    let args = Args::validate(
        &button.args,
        [
            ("id", "../../etc/passwd"),
            ("q", "real&admin=true"),
            ("u", r#"","role":"admin"#),
        ],
    )
    .unwrap();

    let request = prepare(&button, &args).unwrap();
    assert_eq!(request.url.fragment(), Some("x-..%2F..%2Fetc%2Fpasswd"));
    let client = HttpClient::new(Options::for_button(&button, |_| None));
    let response = client.send_blocking(&request).unwrap();
    assert_eq!(response.status, 200);

    let seen = &server.requests()[0];
    assert_eq!(
        seen.request_line,
        "POST /files/..%2F..%2Fetc%2Fpasswd/download?q=real%26admin%3Dtrue&limit=10 HTTP/1.1"
    );
    assert_eq!(seen.header("authorization"), Some("Bearer {{u}}"));
    let body: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(body["role"], "viewer");
    assert_eq!(body["user"], r#"","role":"admin"#);
    assert_eq!(body.as_object().unwrap().len(), 2);
}

#[test]
fn form_bodies_are_form_encoded() {
    let server = Server::fixed("127.0.0.1", 200, &[], b"");
    let mut button = button(&server.url("/form"));
    button.method = Method::Post;
    button.headers.insert(
        "Content-Type".into(),
        "application/x-www-form-urlencoded".into(),
    );
    button.body = "id={{id}}&fixed=1".into();
    let args = Args::validate(&button.args, [("id", "a b&fixed=2")]).unwrap();
    let client = HttpClient::new(Options::for_button(&button, |name| {
        (name == "BUTTONS_ALLOW_PRIVATE_NETWORKS").then(|| "1".to_owned())
    }));
    client
        .send_blocking(&prepare(&button, &args).unwrap())
        .unwrap();
    assert_eq!(server.requests()[0].body, b"id=a+b%26fixed%3D2&fixed=1");
}

#[test]
fn a_loopback_button_without_the_opt_in_is_refused() {
    let wire = Tripwire::bind("127.0.0.1");
    let button = button(&wire.url("/{{id}}"));
    let args = Args::validate(&button.args, [("id", "1")]).unwrap();
    let request = prepare(&button, &args).unwrap();
    let options = Options::for_button(&button, |_| None);
    assert_eq!(
        request.check(&options).unwrap_err().code(),
        ErrorCode::ValidationError
    );
    let client = HttpClient::new(options);
    assert_eq!(
        client.send_blocking(&request).unwrap_err().code(),
        ErrorCode::ValidationError
    );
    wire.assert_untouched();
}
