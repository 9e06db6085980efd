//! The crate's error type.

use std::fmt;

use buttons_spec::ErrorCode;

/// Which of a button's templates an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TemplateKind {
    /// The URL template.
    Url,
    /// The body template.
    Body,
}

impl fmt::Display for TemplateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Url => "URL",
            Self::Body => "body",
        })
    }
}

/// Everything that can go wrong while parsing or rendering a template.
///
/// Every variant says which template ([`TemplateKind`]), where in it (a byte
/// offset into the template text) and, where one is involved, which argument.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL template's `scheme://host[:port]` prefix is not acceptable: a
    /// placeholder in the scheme or host, another scheme than http(s),
    /// credentials, or no host at all.
    #[error("invalid URL template {template:?}: {reason}")]
    InvalidUrl {
        /// The URL template as given.
        template: String,
        /// Byte offset of the first placeholder inside the locked prefix, when
        /// that is what was refused.
        offset: Option<usize>,
        /// Why it was refused.
        reason: String,
    },
    /// A substituted value would make a whole URL path segment `.` or `..`
    /// (also spelled `%2e`), which URL parsers resolve against the path.
    #[error(
        "argument {argument:?} would make the URL path segment {segment:?} (at byte {offset} of the {template} template) a dot segment"
    )]
    DotSegment {
        /// The template the segment is in.
        template: TemplateKind,
        /// Byte offset in the template of the placeholder that filled the segment.
        offset: usize,
        /// The argument whose value filled the segment.
        argument: String,
        /// The rendered segment.
        segment: String,
    },
}

impl Error {
    /// The stable code for this error: always `VALIDATION_ERROR`.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::ValidationError
    }

    /// A sentence naming the fix.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::InvalidUrl { .. } => Some(
                "use http:// or https:// with a literal host; {{arg}} placeholders belong in the path, query or fragment, credentials in --header"
                    .to_owned(),
            ),
            Self::DotSegment { argument, .. } => Some(format!(
                "pass a value for {argument:?} that is not '.' or '..', or move the placeholder into the query (?{argument}={{{{{argument}}}}})"
            )),
        }
    }

    /// The template the error is about.
    pub fn template_kind(&self) -> TemplateKind {
        match self {
            Self::InvalidUrl { .. } => TemplateKind::Url,
            Self::DotSegment { template, .. } => *template,
        }
    }

    /// The argument involved, if one is.
    pub fn argument(&self) -> Option<&str> {
        match self {
            Self::InvalidUrl { .. } => None,
            Self::DotSegment { argument, .. } => Some(argument),
        }
    }

    /// The byte offset in the template the error points at, if known.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Self::InvalidUrl { offset, .. } => *offset,
            Self::DotSegment { offset, .. } => Some(*offset),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_code_and_hint() {
        let e = Error::DotSegment {
            template: TemplateKind::Url,
            offset: 7,
            argument: "id".to_owned(),
            segment: "..".to_owned(),
        };
        assert_eq!(e.code(), ErrorCode::ValidationError);
        assert_eq!(
            e.to_string(),
            "argument \"id\" would make the URL path segment \"..\" (at byte 7 of the URL template) a dot segment"
        );
        assert!(e.hint().unwrap().contains("?id={{id}}"), "{:?}", e.hint());
        assert_eq!(
            (e.argument(), e.offset(), e.template_kind()),
            (Some("id"), Some(7), TemplateKind::Url)
        );
    }
}
