//! The request parts of an HTTP button given at create: method and headers.

use crate::error::{Error, Result};

/// Parses a header line `Key: Value` (as given to `--header`): the name must
/// be an HTTP token, the value is trimmed.
///
/// # Security
///
/// Headers are sent verbatim, never templated. A value holding CR, LF or NUL
/// is refused, so a header line can never smuggle another header or a body.
///
/// ```
/// let (name, value) = buttons_spec::parse_header("Accept:  application/json ")?;
/// assert_eq!((name.as_str(), value.as_str()), ("Accept", "application/json"));
/// assert!(buttons_spec::parse_header("X-A: 1\r\nX-Injected: 2").is_err());
/// # Ok::<(), buttons_spec::Error>(())
/// ```
pub fn parse_header(given: &str) -> Result<(String, String)> {
    let invalid = |reason| Error::InvalidHeader {
        given: given.to_owned(),
        reason,
    };
    let (name, value) = given
        .split_once(':')
        .ok_or_else(|| invalid("expected 'Key: Value'"))?;
    let name = name.trim();
    let is_token_byte = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Err(invalid("the name must be a token such as Content-Type"));
    }
    let value = value.trim();
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(invalid("the value cannot contain line breaks or NUL"));
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// Parses an HTTP method: letters only, uppercased (`post` becomes `POST`).
pub fn parse_method(given: &str) -> Result<String> {
    let method = given.trim().to_ascii_uppercase();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Error::InvalidMethod {
            given: given.to_owned(),
        });
    }
    Ok(method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(
            parse_header("Content-Type:  application/json ").unwrap(),
            ("Content-Type".into(), "application/json".into())
        );
        assert_eq!(parse_header("X-Url: http://a/b").unwrap().1, "http://a/b");
        for bad in [
            "no colon",
            ": v",
            "Bad Name: v",
            "X-A: 1\r\nX-B: 2",
            "X-A: 1\nX-B: 2",
            "X-A: a\0b",
        ] {
            assert!(parse_header(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn methods() {
        assert_eq!(parse_method(" post ").unwrap(), "POST");
        for bad in ["", "GE T", "GET\r\nX-A: 1", "P0ST"] {
            assert!(parse_method(bad).is_err(), "{bad:?} accepted");
        }
    }
}
