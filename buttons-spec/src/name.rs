//! Button names: slugifying, validation and the reserved command names.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The longest accepted button name, in bytes (names are ASCII).
pub const MAX_NAME_LEN: usize = 128;

/// Names that are CLI commands and so cannot name a button.
pub const RESERVED_NAMES: &[&str] = &[
    "create",
    "press",
    "list",
    "rm",
    "board",
    "drawer",
    "batteries",
    "smash",
    "store",
    "history",
    "help",
    "version",
    "mcp",
    "serve",
    "update",
    "delete",
    "init",
    "ls",
    "completions",
];

/// Turns free text into a button slug: lowercase; spaces and `_` become `-`;
/// anything outside `[a-z0-9-]` is dropped; runs of `-` collapse; `-` is trimmed
/// from both ends.
///
/// The result may be empty; [`ButtonName::from_user`] refuses that.
///
/// ```
/// assert_eq!(buttons_spec::slugify("Deploy  Site_Now!"), "deploy-site-now");
/// ```
pub fn slugify(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for ch in input.chars() {
        let ch = match ch {
            ' ' | '_' | '-' => '-',
            c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
            _ => continue,
        };
        if ch == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(ch);
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// A validated button name: a non-empty slug of `[a-z0-9-]`, at most
/// [`MAX_NAME_LEN`] bytes, not a reserved command name.
///
/// # Security
///
/// A `ButtonName` is always a single path component with no `.`, `/` or `\`,
/// so `buttons_dir.join(name)` never leaves `buttons_dir`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ButtonName(String);

impl ButtonName {
    /// Validates a name exactly as given (no slugifying). Use this for names
    /// read back from disk.
    pub fn new(name: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidName {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() {
            return Err(invalid("the name is empty"));
        }
        if name.contains("..") || name.contains('/') || name.contains('\\') {
            return Err(invalid("names cannot contain '..', '/' or '\\'"));
        }
        if name.len() > MAX_NAME_LEN {
            return Err(invalid("names are at most 128 characters"));
        }
        if slugify(name) != name {
            return Err(invalid(
                "names use only lowercase letters, digits and single '-'",
            ));
        }
        if RESERVED_NAMES.contains(&name) {
            return Err(Error::ReservedName {
                name: name.to_owned(),
            });
        }
        Ok(Self(name.to_owned()))
    }

    /// Slugifies what a user typed (`"My Button"` becomes `my-button`), then
    /// validates it. Names containing `..`, `/` or `\` are refused before
    /// slugifying, so a traversal attempt is an error rather than a rename.
    pub fn from_user(input: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidName {
            name: input.to_owned(),
            reason,
        };
        if input.contains("..") || input.contains('/') || input.contains('\\') {
            return Err(invalid("names cannot contain '..', '/' or '\\'"));
        }
        let slug = slugify(input);
        if slug.is_empty() {
            return Err(invalid("the name has no letters or digits"));
        }
        if slug.len() > MAX_NAME_LEN {
            return Err(invalid("names are at most 128 characters"));
        }
        Self::new(&slug).map_err(|e| match e {
            Error::InvalidName { reason, .. } => invalid(reason),
            other => other,
        })
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ButtonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ButtonName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ButtonName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugify_examples() {
        assert_eq!(slugify("Hello World"), "hello-world");
        assert_eq!(slugify("__a__b__"), "a-b");
        assert_eq!(slugify("Ünïcode ok"), "ncode-ok");
        assert_eq!(slugify("!!!"), "");
        assert_eq!(slugify("a - b"), "a-b");
    }

    #[test]
    fn refuses_bad_names() {
        for bad in ["", "..", "a/b", "a\\b", "../x", "!!!", "create", "Init"] {
            assert!(ButtonName::from_user(bad).is_err(), "{bad:?} accepted");
        }
        assert!(ButtonName::from_user(&"a".repeat(129)).is_err());
        assert!(ButtonName::from_user(&"a".repeat(128)).is_ok());
        assert!(ButtonName::new("My-Button").is_err());
        assert!(matches!(
            ButtonName::from_user("press"),
            Err(Error::ReservedName { .. })
        ));
    }

    #[test]
    fn from_user_slugifies() {
        assert_eq!(
            ButtonName::from_user("My Button").unwrap().as_str(),
            "my-button"
        );
    }
}
