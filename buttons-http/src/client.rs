//! The guarded client: requests, responses, redirects, the body cap and the timeout.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use buttons_spec::{DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_SECONDS, FollowRedirects};
use reqwest::Method;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::error::Error;
use crate::guard::{authority, check_host_lock, check_url, on_locked_host};
use crate::policy::NetPolicy;
use crate::resolve::{GuardedResolver, Lookup, SystemLookup, find_refusal};

/// At most this many redirects are followed.
pub const MAX_REDIRECTS: usize = 10;

/// The `User-Agent` sent when the request sets none.
pub const USER_AGENT: &str = concat!("buttons/", env!("CARGO_PKG_VERSION"));

/// Headers that are not sent on once a redirect changes origin.
const CREDENTIAL_HEADERS: [HeaderName; 3] = [
    header::AUTHORIZATION,
    header::COOKIE,
    header::PROXY_AUTHORIZATION,
];

/// Headers describing a body, dropped with it when a redirect turns a request into a GET.
const BODY_HEADERS: [HeaderName; 6] = [
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::CONTENT_ENCODING,
    header::CONTENT_LANGUAGE,
    header::CONTENT_LOCATION,
    header::TRANSFER_ENCODING,
];

/// Switches of a [`HttpClient`] that hold for every request it sends.
#[derive(Clone)]
pub struct Options {
    /// Which addresses requests may reach (literal IPs, resolved names, every redirect hop).
    pub policy: NetPolicy,
    /// Lets requests whose `allowed_host` is `*` go to any host
    /// (`BUTTONS_ALLOW_ANY_HOST=1`).
    pub allow_any_host: bool,
    /// How host names are resolved (the system resolver by default).
    pub lookup: Arc<dyn Lookup>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            policy: NetPolicy::new(),
            allow_any_host: false,
            lookup: Arc::new(SystemLookup),
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("policy", &self.policy)
            .field("allow_any_host", &self.allow_any_host)
            .finish_non_exhaustive()
    }
}

impl Options {
    /// The defaults, with the press-time opt-ins read through `var`:
    /// `BUTTONS_ALLOW_PRIVATE_NETWORKS` opens the policy and
    /// `BUTTONS_ALLOW_ANY_HOST` allows `allowed_host: "*"` (each when `1` or `true`).
    ///
    /// ```
    /// let options = buttons_http::Options::from_vars(|name| {
    ///     (name == "BUTTONS_ALLOW_PRIVATE_NETWORKS").then(|| "1".to_owned())
    /// });
    /// assert!(options.policy.allows_private());
    /// assert!(!options.allow_any_host);
    /// ```
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let on = |name| var(name).is_some_and(|v| buttons_spec::parse_bool(&v) == Some(true));
        Self {
            policy: NetPolicy::new().allow_private(on("BUTTONS_ALLOW_PRIVATE_NETWORKS")),
            allow_any_host: on("BUTTONS_ALLOW_ANY_HOST"),
            ..Self::default()
        }
    }

    /// [`Options::from_vars`] over the process environment.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }
}

/// One request to send under the guard.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method, e.g. `GET` (any valid token).
    pub method: String,
    /// The rendered URL.
    pub url: Url,
    /// Headers, sent verbatim and in order.
    pub headers: Vec<(String, String)>,
    /// The body; `None` sends none.
    pub body: Option<Vec<u8>>,
    /// The locked `host[:port]` (or `*`); every hop must be on it unless
    /// `follow_redirects` says otherwise.
    pub allowed_host: String,
    /// Which redirects to follow.
    pub follow_redirects: FollowRedirects,
    /// The response body is cut after this many bytes.
    pub max_response_bytes: u64,
    /// The whole exchange (connect, every hop, headers and body) must finish within this.
    pub timeout: Duration,
}

impl HttpRequest {
    /// A request with no headers or body, locked to the URL's own `host[:port]`,
    /// following same-host redirects, with the default cap (10 MiB) and timeout (300 s).
    pub fn new(method: impl Into<String>, url: Url) -> Self {
        Self {
            method: method.into(),
            allowed_host: authority(&url).to_lowercase(),
            url,
            headers: Vec::new(),
            body: None,
            follow_redirects: FollowRedirects::SameHost,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECONDS),
        }
    }
}

impl HttpRequest {
    /// The checks a send makes before anything leaves the machine: a valid
    /// method and headers, scheme `http`/`https`, no userinfo, a literal IP
    /// host allowed by the policy ([`check_url`]), and the host lock
    /// ([`check_host_lock`]). Host names are checked when they resolve.
    ///
    /// A dry run can call this to report what a press would refuse.
    pub fn check(&self, options: &Options) -> Result<(), Error> {
        self.method_and_headers()?;
        check_url(&self.url, &options.policy)?;
        check_host_lock(&self.url, &self.allowed_host, options.allow_any_host)
    }

    fn method_and_headers(&self) -> Result<(Method, HeaderMap), Error> {
        let method = Method::from_bytes(self.method.as_bytes()).map_err(|_| Error::Method {
            method: self.method.clone(),
        })?;
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let invalid = |reason| Error::Header {
                name: name.clone(),
                reason,
            };
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid("the name must be a token such as Content-Type"))?;
            // The rule `create` applied (buttons_spec::check_http), then the
            // HTTP library's own check.
            if let Some(reason) = buttons_spec::header_value_problem(value) {
                return Err(invalid(reason));
            }
            let header_value = HeaderValue::from_str(value)
                .map_err(|_| invalid("the value cannot be sent in an HTTP header"))?;
            headers.append(header_name, header_value);
        }
        Ok((method, headers))
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, _)| (name.as_str(), "<redacted>"))
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &headers)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("allowed_host", &self.allowed_host)
            .field("follow_redirects", &self.follow_redirects)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status of the last hop.
    pub status: u16,
    /// Response headers of the last hop (values as lossy UTF-8).
    pub headers: Vec<(String, String)>,
    /// The body, at most `max_response_bytes` long.
    pub body: Vec<u8>,
    /// The body was cut at `max_response_bytes`.
    pub truncated: bool,
    /// The URL that produced this response.
    pub final_url: Url,
    /// Each redirect followed, in order (empty if none).
    pub redirects: Vec<Url>,
}

impl HttpResponse {
    /// Whether the status is 200–399 (a press result of `ok`).
    pub fn is_success(&self) -> bool {
        (200..400).contains(&self.status)
    }
}

/// Sends requests under a [`NetPolicy`], a host lock and the redirect rules.
///
/// Nothing is built until the first request: plain `http://` uses a client
/// with an empty root store (cheap). The platform's root certificates are
/// loaded on the first `https://` hop, once per process, and shared by every
/// `HttpClient`. Reuse one `HttpClient` to reuse its connections.
///
/// # Security
///
/// Every hop: scheme `http`/`https`, no userinfo, literal IPs checked against
/// the policy before any connection, host names resolved once by a resolver
/// that refuses the name if any address is blocked and hands the connection
/// only checked addresses, the host lock, and at most [`MAX_REDIRECTS`]
/// redirects. `Authorization`, `Cookie` and `Proxy-Authorization` are dropped
/// once a redirect changes origin. No proxy from the environment is used.
pub struct HttpClient {
    options: Options,
    resolver: Arc<GuardedResolver>,
    plain: OnceLock<reqwest::Client>,
    tls: OnceLock<reqwest::Client>,
    runtime: OnceLock<tokio::runtime::Runtime>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("options", &self.options)
            .field("tls_ready", &self.tls_ready())
            .finish_non_exhaustive()
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new(Options::default())
    }
}

impl HttpClient {
    /// A client with these options. Builds nothing yet.
    pub fn new(options: Options) -> Self {
        let resolver = Arc::new(GuardedResolver {
            policy: Arc::new(options.policy.clone()),
            lookup: Arc::clone(&options.lookup),
        });
        Self {
            options,
            resolver,
            plain: OnceLock::new(),
            tls: OnceLock::new(),
            runtime: OnceLock::new(),
        }
    }

    /// The options this client was made with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Whether this client has built its HTTPS client yet.
    pub fn tls_ready(&self) -> bool {
        self.tls.get().is_some()
    }

    /// Whether this process has loaded the platform's root certificates yet
    /// (on the first `https://` hop of any `HttpClient`, once).
    pub fn tls_roots_loaded() -> bool {
        crate::tls::is_loaded()
    }

    fn build(&self, tls: bool) -> Result<reqwest::Client, Error> {
        let builder = reqwest::Client::builder()
            // The guard must see every target: a proxy would resolve it instead.
            .no_proxy()
            // Redirects are followed by `send`, which checks every hop.
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .dns_resolver(Arc::clone(&self.resolver))
            .user_agent(USER_AGENT);
        let builder = if tls {
            builder.tls_backend_preconfigured(crate::tls::config()?)
        } else {
            // Plain http never needs roots: skip loading the platform's store.
            builder.tls_certs_only(Vec::new())
        };
        builder.build().map_err(Error::Client)
    }

    fn client_for(&self, url: &Url) -> Result<&reqwest::Client, Error> {
        let tls = url.scheme() == "https";
        let cell = if tls { &self.tls } else { &self.plain };
        if let Some(client) = cell.get() {
            return Ok(client);
        }
        let built = self.build(tls)?;
        Ok(cell.get_or_init(|| built))
    }

    /// Sends `request`, following redirects as it says, and reads the body up
    /// to its cap, all within its timeout.
    ///
    /// Any status is a response; [`HttpResponse::is_success`] says whether it
    /// counts as `ok`. Errors: see [`Error::code`]. Runs on the caller's Tokio
    /// runtime, which needs its IO and time drivers enabled.
    ///
    /// # Security
    ///
    /// `request.url` may carry argument values: the checks listed on
    /// [`HttpClient`] run on it and on every hop before anything is sent.
    pub async fn send(&self, request: &HttpRequest) -> Result<HttpResponse, Error> {
        match tokio::time::timeout(request.timeout, self.exchange(request)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Error::Timeout {
                timeout: request.timeout,
            }),
        }
    }

    /// [`HttpClient::send`] for callers without a runtime: runs it on a
    /// current-thread runtime owned by this client.
    ///
    /// # Panics
    ///
    /// When called from inside an async runtime (use [`HttpClient::send`] there).
    pub fn send_blocking(&self, request: &HttpRequest) -> Result<HttpResponse, Error> {
        let runtime = match self.runtime.get() {
            Some(runtime) => runtime,
            None => {
                let built = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(Error::Runtime)?;
                self.runtime.get_or_init(|| built)
            }
        };
        runtime.block_on(self.send(request))
    }

    async fn exchange(&self, request: &HttpRequest) -> Result<HttpResponse, Error> {
        request.check(&self.options)?;
        let (mut method, mut headers) = request.method_and_headers()?;
        let mut body = request.body.clone();
        let mut url = request.url.clone();
        let follow = match request.follow_redirects {
            FollowRedirects::SameHost if request.allowed_host == "*" => FollowRedirects::Any,
            policy => policy,
        };
        let mut redirects = Vec::new();
        loop {
            let client = self.client_for(&url)?;
            let mut builder = client
                .request(method.clone(), url.clone())
                .headers(headers.clone());
            if let Some(body) = &body {
                builder = builder.body(body.clone());
            }
            let response = builder.send().await.map_err(|e| match find_refusal(&e) {
                Some(refusal) => refusal.into(),
                None => Error::transport(&url, e),
            })?;
            let status = response.status().as_u16();
            let location = response.headers().get(header::LOCATION);
            if let (true, Some(location)) = (
                follow != FollowRedirects::None && matches!(status, 301 | 302 | 303 | 307 | 308),
                location,
            ) {
                let location = String::from_utf8_lossy(location.as_bytes()).into_owned();
                let next = url.join(&location).map_err(|_| Error::Location {
                    location: location.clone(),
                    url: url.to_string(),
                })?;
                if redirects.len() == MAX_REDIRECTS {
                    return Err(Error::TooManyRedirects {
                        max: MAX_REDIRECTS,
                        location: next.to_string(),
                    });
                }
                self.check_hop(&next, request, follow)?;
                if redirect_drops_body(status, &method) {
                    method = Method::GET;
                    body = None;
                    for name in &BODY_HEADERS {
                        headers.remove(name);
                    }
                }
                if next.origin() != url.origin() {
                    for name in &CREDENTIAL_HEADERS {
                        headers.remove(name);
                    }
                }
                redirects.push(next.clone());
                url = next;
                continue;
            }
            let response_headers = response
                .headers()
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_owned(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let (body, truncated) = read_capped(response, request.max_response_bytes, &url).await?;
            return Ok(HttpResponse {
                status,
                headers: response_headers,
                body,
                truncated,
                final_url: url,
                redirects,
            });
        }
    }

    /// The checks of a redirect hop (the resolver checks its name when it connects).
    fn check_hop(
        &self,
        next: &Url,
        request: &HttpRequest,
        follow: FollowRedirects,
    ) -> Result<(), Error> {
        check_url(next, &self.options.policy).map_err(|cause| Error::Redirect {
            location: next.to_string(),
            cause: Box::new(cause),
        })?;
        if follow == FollowRedirects::SameHost && !on_locked_host(next, &request.allowed_host)? {
            return Err(Error::RedirectOffHost {
                location: next.to_string(),
                allowed_host: request.allowed_host.clone(),
            });
        }
        Ok(())
    }
}

/// Whether a redirect turns the request into a body-less GET, as browsers do
/// (Fetch standard): 301/302 after a POST, 303 after anything but GET/HEAD.
fn redirect_drops_body(status: u16, method: &Method) -> bool {
    match status {
        301 | 302 => *method == Method::POST,
        303 => *method != Method::GET && *method != Method::HEAD,
        _ => false,
    }
}

/// Reads the body until its end or `cap` bytes, whichever comes first.
async fn read_capped(
    mut response: reqwest::Response,
    cap: u64,
    url: &Url,
) -> Result<(Vec<u8>, bool), Error> {
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let expected = response
        .content_length()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0);
    let mut body = Vec::with_capacity(expected.min(cap).min(1 << 20));
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Error::transport(url, e))?
    {
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_rewrites_follow_fetch() {
        assert!(redirect_drops_body(302, &Method::POST));
        assert!(redirect_drops_body(301, &Method::POST));
        assert!(!redirect_drops_body(301, &Method::PUT));
        assert!(redirect_drops_body(303, &Method::PUT));
        assert!(!redirect_drops_body(303, &Method::HEAD));
        assert!(!redirect_drops_body(307, &Method::POST));
        assert!(!redirect_drops_body(308, &Method::POST));
    }

    #[test]
    fn request_debug_redacts_headers() {
        let mut req = HttpRequest::new("GET", Url::parse("https://Example.com:8443/").unwrap());
        req.headers
            .push(("Authorization".into(), "Bearer s3cret".into()));
        let debug = format!("{req:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("Authorization"));
        assert_eq!(req.allowed_host, "example.com:8443");
    }

    #[test]
    fn env_opt_ins() {
        let options = Options::from_vars(|name| match name {
            "BUTTONS_ALLOW_ANY_HOST" => Some("true".into()),
            "BUTTONS_ALLOW_PRIVATE_NETWORKS" => Some("0".into()),
            _ => None,
        });
        assert!(options.allow_any_host);
        assert!(!options.policy.allows_private());
    }
}
