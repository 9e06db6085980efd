//! The host lock of an HTTP button's URL template.

use crate::error::{Error, Result};

/// The literal `scheme://host[:port]` prefix of a URL template, which
/// placeholders may never touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostLock {
    /// The scheme, lowercased: `http` or `https`.
    pub scheme: String,
    /// The lowercased literal `host[:port]`, stored as `allowed_host`.
    pub allowed_host: String,
    /// Byte length of the `scheme://host[:port]` prefix in the template; the
    /// rest (path, query, fragment) starts here.
    pub prefix_len: usize,
}

/// Splits a URL template into its locked prefix and the rest, and derives
/// `allowed_host`.
///
/// # Security
///
/// Refuses a template whose scheme is not `http`/`https`, whose scheme or host
/// holds a `{{placeholder}}`, or which carries userinfo (`user:pass@`): an
/// argument value must never choose where a request goes.
///
/// ```
/// let lock = buttons_spec::lock_url_template("https://API.example.com:8443/v1/{{id}}?q={{q}}")?;
/// assert_eq!(lock.allowed_host, "api.example.com:8443");
/// assert!(buttons_spec::lock_url_template("https://{{host}}/x").is_err());
/// # Ok::<(), buttons_spec::Error>(())
/// ```
pub fn lock_url_template(template: &str) -> Result<HostLock> {
    let invalid = |reason| Error::InvalidUrl {
        url: template.to_owned(),
        reason,
    };
    let Some(scheme_end) = template.find("://") else {
        return Err(invalid("the URL needs a scheme, e.g. https://"));
    };
    let scheme = &template[..scheme_end];
    if scheme.contains("{{") || scheme.contains("}}") {
        return Err(invalid("placeholders are not allowed in the scheme"));
    }
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(invalid("only http and https URLs are allowed"));
    }
    let rest = &template[scheme_end + 3..];
    // `\` ends the authority too: URL parsers treat it as `/` for http(s).
    let host_end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let host = &rest[..host_end];
    if host.contains("{{") || host.contains("}}") {
        return Err(invalid("placeholders are not allowed in the host"));
    }
    if host.contains('@') {
        return Err(invalid(
            "credentials in the URL (user:pass@) are not allowed",
        ));
    }
    if host.is_empty() {
        return Err(invalid("the URL has no host"));
    }
    if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("the host contains whitespace"));
    }
    Ok(HostLock {
        scheme,
        allowed_host: host.to_lowercase(),
        prefix_len: scheme_end + 3 + host_end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks() {
        let l = lock_url_template("HTTP://Example.COM/a/{{b}}").unwrap();
        assert_eq!(
            (l.scheme.as_str(), l.allowed_host.as_str(), l.prefix_len),
            ("http", "example.com", 18)
        );
        assert_eq!(
            lock_url_template("http://h?x={{y}}").unwrap().allowed_host,
            "h"
        );
        assert_eq!(
            lock_url_template("http://[::1]:80").unwrap().allowed_host,
            "[::1]:80"
        );
        for bad in [
            "example.com/x",
            "ftp://example.com/",
            "{{s}}://example.com/",
            "http://{{h}}.example.com/",
            "http://example.com:{{port}}/",
            "http://user:pass@example.com/",
            "http:///path",
            "http://",
        ] {
            assert!(lock_url_template(bad).is_err(), "{bad:?} accepted");
        }
    }
}
