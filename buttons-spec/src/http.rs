//! The request parts of an HTTP button: its method, and the headers given at create.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// The HTTP method of an HTTP button (`method` in `button.json`).
///
/// An absent or empty `method` reads as [`Method::Get`]. A value that is not
/// exactly one of the standard uppercase names is kept as
/// [`Method::Other`], byte for byte, and written back unchanged; the press
/// sends it uppercased.
///
/// ```
/// use buttons_spec::Method;
///
/// assert_eq!(Method::from_name("PATCH"), Method::Patch);
/// assert_eq!(Method::from_name(""), Method::Get);
/// assert_eq!(Method::from_name("PURGE").as_str(), "PURGE");
/// assert_eq!(serde_json::to_string(&Method::from_name("purge"))?, r#""purge""#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET` (also what an absent or empty `method` means).
    #[default]
    Get,
    /// `HEAD`.
    Head,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
    /// `OPTIONS`.
    Options,
    /// `CONNECT`.
    Connect,
    /// `TRACE`.
    Trace,
    /// Any other value, exactly as written (`PURGE`, or `post` from a hand-edited file).
    Other(String),
}

impl Method {
    /// Every standard method, in table order.
    pub const STANDARD: [Method; 9] = [
        Self::Get,
        Self::Head,
        Self::Post,
        Self::Put,
        Self::Patch,
        Self::Delete,
        Self::Options,
        Self::Connect,
        Self::Trace,
    ];

    /// The method as written in `button.json`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Options => "OPTIONS",
            Self::Connect => "CONNECT",
            Self::Trace => "TRACE",
            Self::Other(other) => other,
        }
    }

    /// Reads a `method` value as found in a file, without validating it: the
    /// empty string is [`Method::Get`], an exact standard name its variant,
    /// anything else [`Method::Other`] unchanged. User input goes through
    /// [`parse_method`] instead.
    pub fn from_name(name: &str) -> Self {
        match name {
            "" | "GET" => Self::Get,
            "HEAD" => Self::Head,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "PATCH" => Self::Patch,
            "DELETE" => Self::Delete,
            "OPTIONS" => Self::Options,
            "CONNECT" => Self::Connect,
            "TRACE" => Self::Trace,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Method {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Method {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = Option::<String>::deserialize(deserializer)?;
        Ok(name.map_or(Self::Get, |name| Self::from_name(&name)))
    }
}

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
    if let Some(reason) = header_value_problem(value) {
        return Err(invalid(reason));
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// Why a header value cannot be sent, if it cannot: the bytes HTTP allows in
/// a field value are tab, space and up (not DEL). The one rule `create`
/// (through [`parse_header`] and [`check_http`](crate::check_http)) and a
/// press (`buttons-http`) apply, so a button is never created with a header
/// that every press would refuse.
///
/// ```
/// assert_eq!(buttons_spec::header_value_problem("Bearer abc\tdef"), None);
/// assert!(buttons_spec::header_value_problem("a\u{1}b").is_some());
/// assert!(buttons_spec::header_value_problem("a\u{7f}b").is_some());
/// ```
pub fn header_value_problem(value: &str) -> Option<&'static str> {
    value
        .bytes()
        .any(|b| (b < 0x20 && b != b'\t') || b == 0x7f)
        .then_some("the value cannot contain control characters (line breaks, NUL, \\x01-\\x1f except tab, DEL)")
}

/// Parses an HTTP method as given to `--method`: letters only, uppercased
/// (`post` becomes [`Method::Post`], `purge` becomes `Method::Other("PURGE")`).
///
/// ```
/// use buttons_spec::{Method, parse_method};
///
/// assert_eq!(parse_method(" post ")?, Method::Post);
/// assert_eq!(parse_method("purge")?, Method::Other("PURGE".to_owned()));
/// assert!(parse_method("GET /admin").is_err());
/// # Ok::<(), buttons_spec::Error>(())
/// ```
pub fn parse_method(given: &str) -> Result<Method> {
    let method = given.trim().to_ascii_uppercase();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Error::InvalidMethod {
            given: given.to_owned(),
        });
    }
    Ok(Method::from_name(&method))
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
        assert_eq!(parse_method(" post ").unwrap(), Method::Post);
        assert_eq!(parse_method("Get").unwrap(), Method::Get);
        assert_eq!(
            parse_method("mkcol").unwrap(),
            Method::Other("MKCOL".to_owned())
        );
        for method in Method::STANDARD {
            assert_eq!(parse_method(method.as_str()).unwrap(), method);
        }
        for bad in ["", "GE T", "GET\r\nX-A: 1", "P0ST"] {
            assert!(parse_method(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn method_values_round_trip_byte_for_byte() {
        for written in ["GET", "POST", "DELETE", "PURGE", "post", "Get", "GE T"] {
            let json = serde_json::to_string(written).unwrap();
            let method: Method = serde_json::from_str(&json).unwrap();
            assert_eq!(serde_json::to_string(&method).unwrap(), json);
        }
        let read = |json: &str| serde_json::from_str::<Method>(json).unwrap();
        assert_eq!(read(r#""""#), Method::Get);
        assert_eq!(read("null"), Method::Get);
        assert_eq!(read(r#""PATCH""#), Method::Patch);
        assert_eq!(read(r#""patch""#), Method::Other("patch".to_owned()));
    }
}
