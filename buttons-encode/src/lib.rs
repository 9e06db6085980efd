//! One-pass, context-aware encoding of Buttons HTTP templates.
//!
//! This crate turns an HTTP button's URL and body templates plus validated
//! press arguments ([`buttons_spec::Args`]) into text that an argument value
//! cannot break out of. It owns template parsing (`{{name}}` placeholders
//! naming declared arguments), the encoders for each URL part and body type,
//! and the dot-segment check of URL paths. It leaves the host lock's rules to
//! [`buttons_spec::lock_url_template`], and sending anything to
//! `buttons-http`. Headers are never rendered: nothing here substitutes into
//! them.
//!
//! A template is parsed once into literal pieces and placeholders and
//! rendered in a single pass, so a value holding `{{other}}` stays text, and
//! the output never depends on the order of arguments.
//!
//! # Security
//!
//! - [`UrlTemplate`]: no placeholders in the scheme or host; path and
//!   fragment values percent-encoded but for `A-Za-z0-9-._~`, query values
//!   form-encoded; a path segment made `.` or `..` by a value is refused
//!   ([`Error::DotSegment`]). The rendered host is always the template's.
//! - [`BodyTemplate`]: JSON string escaping inside JSON strings, typed JSON
//!   values outside them, form encoding for form bodies, verbatim for other
//!   types ([`BodyKind::Raw`], the author's responsibility). How a JSON body
//!   that is not valid JSON is handled is described on [`BodyTemplate`].
//!
//! # Example
//!
//! ```
//! use buttons_encode::{BodyKind, BodyTemplate, UrlTemplate};
//! use buttons_spec::{ArgDef, Args};
//!
//! let declared = [ArgDef::parse("id:string:required")?, ArgDef::parse("n:int:optional")?];
//! let args = Args::validate(&declared, [("id", "a/b c"), ("n", "3")])?;
//!
//! let url = UrlTemplate::parse("https://api.example.com/items/{{id}}?n={{n}}", &declared)?;
//! assert_eq!(url.render(&args)?, "https://api.example.com/items/a%2Fb%20c?n=3");
//!
//! let body = BodyTemplate::parse(r#"{"id": "{{id}}", "n": {{n}}}"#, BodyKind::Json, &declared)?;
//! assert_eq!(body.render(&args)?, r#"{"id": "a/b c", "n": 3}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![warn(clippy::unwrap_used)]

mod body;
mod error;
mod escape;
mod template;
mod url_template;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use body::{BodyKind, BodyTemplate, content_type};
pub use error::{Error, TemplateKind};
pub use url_template::UrlTemplate;
