//! Checks on a URL before anything is sent: scheme, userinfo, literal IPs, host lock.

use std::net::IpAddr;

use url::{Host, Url};

use crate::error::Error;
use crate::policy::NetPolicy;

/// Checks a URL that is about to be requested: the scheme is `http` or
/// `https`, there is no userinfo, there is a host, and a literal IP host is
/// allowed by `policy`.
///
/// Host names are not resolved here: the guarded client checks the
/// addresses a name resolves to when it connects.
///
/// # Security
///
/// The host is read with [`Url::host`] (the parsed enum), never as a string:
/// the URL parser has already turned `2130706433`, `0x7f.1`, `0177.0.0.1`,
/// `127.1` and `[::ffff:127.0.0.1]` into addresses, so every spelling of a
/// blocked address is refused here, before any socket exists.
///
/// ```
/// use buttons_http::{check_url, NetPolicy};
/// use buttons_spec::ErrorCode;
///
/// let policy = NetPolicy::new();
/// let url = url::Url::parse("http://0x7f.1/admin")?;
/// assert_eq!(check_url(&url, &policy).unwrap_err().code(), ErrorCode::ValidationError);
/// assert!(check_url(&url::Url::parse("https://example.com/")?, &policy).is_ok());
/// # Ok::<(), url::ParseError>(())
/// ```
pub fn check_url(url: &Url, policy: &NetPolicy) -> Result<(), Error> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::Scheme {
            url: url.to_string(),
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Userinfo {
            url: url.to_string(),
        });
    }
    let ip = match url.host() {
        None => {
            return Err(Error::NoHost {
                url: url.to_string(),
            });
        }
        Some(Host::Domain(_)) => return Ok(()),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
    };
    policy.check(ip).map_err(|blocked| Error::BlockedAddress {
        url: url.to_string(),
        blocked,
    })
}

/// The `host[:port]` of a URL as it is written there (port only when explicit).
pub(crate) fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Whether `url` is on the locked `allowed_host`.
///
/// Both sides go through the URL parser with the URL's scheme, so case, IDN
/// spelling, IP spelling and default ports compare equal
/// (`Example.COM:443` locks `https://example.com/`).
pub(crate) fn on_locked_host(url: &Url, allowed_host: &str) -> Result<bool, Error> {
    let invalid = || Error::InvalidAllowedHost {
        allowed_host: allowed_host.to_owned(),
    };
    if allowed_host.is_empty()
        || allowed_host.chars().any(|c| {
            matches!(c, '/' | '\\' | '?' | '#' | '@') || c.is_whitespace() || c.is_control()
        })
    {
        return Err(invalid());
    }
    let locked =
        Url::parse(&format!("{}://{allowed_host}/", url.scheme())).map_err(|_| invalid())?;
    if locked.host().is_none() {
        return Err(invalid());
    }
    Ok(
        locked.host() == url.host()
            && locked.port_or_known_default() == url.port_or_known_default(),
    )
}

/// Checks the host lock of the first hop: `url` must be on `allowed_host`,
/// which may be `*` only when `allow_any_host` is set.
///
/// # Security
///
/// `allowed_host` is the literal host of the button's URL template, stored
/// at create: an argument value rendered into the path or query can never
/// move the request to another host. An empty `allowed_host` (a button saved
/// before host locks existed) is refused rather than trusted.
///
/// ```
/// use buttons_http::check_host_lock;
///
/// let url = url::Url::parse("https://API.example.com:443/v1")?;
/// assert!(check_host_lock(&url, "api.example.com", false).is_ok());
/// assert!(check_host_lock(&url, "evil.example", false).is_err());
/// assert!(check_host_lock(&url, "*", false).is_err());
/// assert!(check_host_lock(&url, "*", true).is_ok());
/// # Ok::<(), url::ParseError>(())
/// ```
pub fn check_host_lock(url: &Url, allowed_host: &str, allow_any_host: bool) -> Result<(), Error> {
    match allowed_host {
        "" => Err(Error::MissingAllowedHost),
        "*" if allow_any_host => Ok(()),
        "*" => Err(Error::AnyHostNotEnabled),
        _ if on_locked_host(url, allowed_host)? => Ok(()),
        _ => Err(Error::HostLock {
            url: url.to_string(),
            host: authority(url),
            allowed_host: allowed_host.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use buttons_spec::ErrorCode;

    use super::*;

    fn check(url: &str) -> Result<(), Error> {
        check_url(&Url::parse(url).unwrap(), &NetPolicy::new())
    }

    #[test]
    fn literal_spellings_are_refused() {
        for url in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://%31%32%37.0.0.1/",
            "http://１２７.０.０.１/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:169.254.169.254]/",
            "https://10.0.0.1:8443/",
            "http://0/",
            "http://[64:ff9b::a9fe:a9fe]/",
        ] {
            let err = check(url).expect_err(url);
            assert!(matches!(err, Error::BlockedAddress { .. }), "{url}: {err}");
            assert_eq!(err.code(), ErrorCode::ValidationError);
        }
        assert!(check("http://8.8.8.8/").is_ok());
        assert!(check("http://[2606:4700:4700::1111]/").is_ok());
        assert!(
            check("http://localhost/").is_ok(),
            "names are checked at resolution"
        );
    }

    #[test]
    fn scheme_and_userinfo() {
        assert!(matches!(check("ftp://8.8.8.8/"), Err(Error::Scheme { .. })));
        assert!(matches!(
            check("gopher://127.0.0.1/"),
            Err(Error::Scheme { .. })
        ));
        assert!(matches!(
            check("file:///etc/passwd"),
            Err(Error::Scheme { .. })
        ));
        assert!(matches!(
            check("http://u:p@8.8.8.8/"),
            Err(Error::Userinfo { .. })
        ));
        assert!(matches!(
            check("http://u@8.8.8.8/"),
            Err(Error::Userinfo { .. })
        ));
    }

    #[test]
    fn host_lock_compares_parsed() {
        let url = Url::parse("http://EXAMPLE.com:80/x?y").unwrap();
        assert!(check_host_lock(&url, "example.com", false).is_ok());
        assert!(check_host_lock(&url, "example.com:80", false).is_ok());
        assert!(check_host_lock(&url, "Example.COM.", false).is_err());
        assert!(check_host_lock(&url, "example.com:8080", false).is_err());
        assert!(check_host_lock(&url, "example.org", false).is_err());
        let idn = Url::parse("https://bücher.example/").unwrap();
        assert!(check_host_lock(&idn, "xn--bcher-kva.example", false).is_ok());
        assert!(check_host_lock(&idn, "BÜCHER.example", false).is_ok());
        let ip = Url::parse("http://127.1:8080/").unwrap();
        assert!(check_host_lock(&ip, "127.0.0.1:8080", false).is_ok());
        let v6 = Url::parse("http://[::1]:8080/").unwrap();
        assert!(check_host_lock(&v6, "[0::1]:8080", false).is_ok());
    }

    #[test]
    fn host_lock_refusals() {
        let url = Url::parse("http://example.com/").unwrap();
        assert!(matches!(
            check_host_lock(&url, "", false),
            Err(Error::MissingAllowedHost)
        ));
        let missing = check_host_lock(&url, "", false).unwrap_err();
        assert_eq!(missing.code(), ErrorCode::ValidationError);
        assert_eq!(
            missing.to_string(),
            "the button has no allowed_host, so its host cannot be locked: set `allowed_host` on the button (`Button::http` derives it from the URL)"
        );
        assert_eq!(
            missing.hint().unwrap(),
            r#"set `allowed_host` to the URL's literal host[:port] (e.g. "allowed_host": "api.example.com" in button.json), or re-create the button with `buttons create NAME --url URL`, which derives it"#
        );
        assert!(matches!(
            check_host_lock(&url, "*", false),
            Err(Error::AnyHostNotEnabled)
        ));
        for bad in [
            "evil.example/x",
            "a@example.com",
            "example.com#",
            " example.com",
        ] {
            assert!(
                matches!(
                    check_host_lock(&url, bad, false),
                    Err(Error::InvalidAllowedHost { .. })
                ),
                "{bad}"
            );
        }
        let err = check_host_lock(&url, "other.example:81", false).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationError);
        assert!(err.to_string().contains("other.example:81"));
    }
}
