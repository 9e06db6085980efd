//! From a button to a request, and from an outcome to a press result.

use buttons_encode::{BodyKind, BodyTemplate, UrlTemplate, content_type};
use buttons_spec::{Args, Button, ErrorCode, MAX_RESPONSE_BYTES_CEILING, PressResult};
use url::Url;

use crate::client::{HttpRequest, HttpResponse, Options};
use crate::error::Error;

/// Renders a button's URL and body templates with `args` into the exact
/// request a press sends: method, URL, headers (verbatim), body, the locked
/// host, the redirect rule, the response cap and the button's timeout.
///
/// Nothing is checked against the network policy here; a dry run shows the
/// result as is, and [`HttpRequest::check`] or [`HttpClient::send`](crate::HttpClient::send)
/// apply the guard.
///
/// # Security
///
/// Argument values go only through `buttons-encode`'s context-aware
/// encoders into the path, query, fragment and body; headers are never
/// templated; the host lock comes from the stored `allowed_host`, not from
/// the rendered URL.
///
/// ```
/// use buttons_spec::{ArgDef, Args, Button, ButtonName, Timestamp};
///
/// let name = ButtonName::new("weather")?;
/// let url = "https://api.example.com/v1/{{city}}?units={{units}}";
/// let mut button = Button::http(&name, url, Timestamp::UNIX_EPOCH)?;
/// button.args = vec![ArgDef::parse("city:string:required")?, ArgDef::parse("units:string:optional")?];
/// let args = Args::validate(&button.args, [("city", "New York/../x"), ("units", "a&b=c")])?;
///
/// let request = buttons_http::prepare(&button, &args)?;
/// assert_eq!(request.method, "GET");
/// assert_eq!(request.url.as_str(), "https://api.example.com/v1/New%20York%2F..%2Fx?units=a%26b%3Dc");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn prepare(button: &Button, args: &Args) -> Result<HttpRequest, Error> {
    let rendered = UrlTemplate::parse(&button.url, &button.args)?.render(args)?;
    let url = Url::parse(&rendered).map_err(|source| Error::Url {
        url: rendered.clone(),
        source,
    })?;
    let body = if button.body.is_empty() {
        None
    } else {
        let kind = BodyKind::from_content_type(content_type(&button.headers));
        let body = BodyTemplate::parse(&button.body, kind, &button.args)?.render(args)?;
        Some(body.into_bytes())
    };
    Ok(HttpRequest {
        method: button.method.as_str().to_ascii_uppercase(),
        url,
        headers: button
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect(),
        body,
        allowed_host: button.allowed_host.clone(),
        follow_redirects: button.follow_redirects(),
        max_response_bytes: button.max_response_bytes().min(MAX_RESPONSE_BYTES_CEILING),
        timeout: button.timeout(),
    })
}

impl Options {
    /// The options for pressing `button`: [`Options::from_vars`], with the
    /// policy opened when the button says `allow_private_networks: true`.
    ///
    /// ```
    /// use buttons_spec::{Button, ButtonName, Timestamp};
    ///
    /// let mut button = Button::new(&ButtonName::new("local")?, Timestamp::UNIX_EPOCH);
    /// assert!(!buttons_http::Options::for_button(&button, |_| None).policy.allows_private());
    /// button.allow_private_networks = true;
    /// assert!(buttons_http::Options::for_button(&button, |_| None).policy.allows_private());
    /// # Ok::<(), buttons_spec::Error>(())
    /// ```
    pub fn for_button(button: &Button, var: impl Fn(&str) -> Option<String>) -> Self {
        let mut options = Self::from_vars(var);
        if button.allow_private_networks {
            options.policy = options.policy.allow_private(true);
        }
        options
    }
}

/// Fills the HTTP part of a press result from the outcome of
/// [`HttpClient::send`](crate::HttpClient::send).
///
/// A response sets `http_status_code`, `exit_code` (the status), `stdout`
/// (the body as lossy UTF-8) and `truncated`; a status outside 200–399 marks
/// the result `error` with `SCRIPT_ERROR`. An error marks it failed with the
/// error's code and message. Timing and the record are the caller's.
pub fn fill_press_result(result: &mut PressResult, outcome: &Result<HttpResponse, Error>) {
    match outcome {
        Ok(response) => {
            result.http_status_code = Some(response.status);
            result.exit_code = i64::from(response.status);
            result.set_stdout_bytes(response.body.clone());
            result.truncated = response.truncated;
            if !response.is_success() {
                result.fail(
                    ErrorCode::ScriptError,
                    format!("the server answered HTTP {}", response.status),
                );
            }
        }
        Err(err) => result.fail(err.code(), err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use buttons_spec::{ArgDef, ButtonName, FollowRedirects, Method, Status, Timestamp};

    use super::*;

    fn http_button(url: &str) -> Button {
        Button::http(&ButtonName::new("b").unwrap(), url, Timestamp::UNIX_EPOCH).unwrap()
    }

    #[test]
    fn renders_body_by_content_type_and_keeps_headers_verbatim() {
        let mut button = http_button("http://api.example.com/u/{{id}}#{{id}}");
        button.method = Method::Other("post".into());
        button.args = vec![ArgDef::parse("id:string:required").unwrap()];
        button.headers.insert("X-Token".into(), "{{id}}".into());
        button.body = r#"{"user": "{{id}}", "role": "viewer"}"#.into();
        button.max_response_bytes = u64::MAX;
        button.follow_redirects = Some(FollowRedirects::None);
        let args = Args::validate(&button.args, [("id", r#"","role":"admin"#)]).unwrap();
        let request = prepare(&button, &args).unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.headers,
            [("X-Token".to_owned(), "{{id}}".to_owned())]
        );
        let body: serde_json::Value =
            serde_json::from_slice(request.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["role"], "viewer");
        assert_eq!(body["user"], r#"","role":"admin"#);
        assert_eq!(request.url.path(), "/u/%22%2C%22role%22%3A%22admin");
        assert_eq!(request.max_response_bytes, MAX_RESPONSE_BYTES_CEILING);
        assert_eq!(request.follow_redirects, FollowRedirects::None);
        assert_eq!(request.allowed_host, "api.example.com");

        button.headers.clear();
        button.headers.insert(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        );
        button.body = "id={{id}}&x=1".into();
        let request = prepare(&button, &args).unwrap();
        assert_eq!(
            request.body.as_deref(),
            Some(&b"id=%22%2C%22role%22%3A%22admin&x=1"[..])
        );
    }

    #[test]
    fn template_errors_keep_their_code() {
        let mut button = http_button("http://api.example.com/{{p}}");
        button.args = vec![ArgDef::parse("p:string:required").unwrap()];
        let args = Args::validate(&button.args, [("p", "..")]).unwrap();
        let err = prepare(&button, &args).unwrap_err();
        assert!(matches!(err, Error::Template(_)), "{err}");
        assert_eq!(err.code(), ErrorCode::ValidationError);
    }

    #[test]
    fn press_result_from_outcomes() {
        let mut result = PressResult::new("b", Timestamp::UNIX_EPOCH);
        fill_press_result(&mut result, &Err(Error::MissingAllowedHost));
        assert_eq!(result.status, Status::Error);
        assert_eq!(result.error_type, Some(ErrorCode::ValidationError));
        assert_eq!(result.exit_code, -1);

        let mut result = PressResult::new("b", Timestamp::UNIX_EPOCH);
        let response = HttpResponse {
            status: 302,
            headers: Vec::new(),
            body: b"moved".to_vec(),
            truncated: true,
            final_url: Url::parse("http://h/").unwrap(),
            redirects: Vec::new(),
        };
        fill_press_result(&mut result, &Ok(response));
        assert_eq!(result.status, Status::Ok);
        assert_eq!(
            (result.exit_code, result.http_status_code),
            (302, Some(302))
        );
        assert!(result.truncated);
        assert_eq!(result.error_type, None);
    }
}
