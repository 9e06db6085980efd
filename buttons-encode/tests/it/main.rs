//! Integration tests of buttons-encode: the attack examples of the reference
//! (section 7) and property tests with real parsers (`url`, `serde_json`,
//! `form_urlencoded`) as the oracle.

mod attacks;
mod props;
