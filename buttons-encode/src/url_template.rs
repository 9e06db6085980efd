//! URL templates: a locked `scheme://host[:port]` prefix, then path, query
//! and fragment, each with its own encoder.

use buttons_spec::{ArgDef, ArgValue, Args, HostLock};

use crate::error::{Error, TemplateKind};
use crate::template::{Compiled, Encoding, find_placeholders};

/// A parsed HTTP button URL template.
///
/// Parsed once ([`UrlTemplate::parse`]), rendered for each press
/// ([`UrlTemplate::render`]) in a single pass.
///
/// # Security
///
/// - The `scheme://host[:port]` prefix is literal: a placeholder there is an
///   error at parse time, and a rendered value is always percent-encoded, so
///   it can never contain `/`, `\`, `?`, `#` or `@`. The rendered URL's host
///   is therefore always the template's ([`UrlTemplate::host_lock`]).
/// - Path and fragment values are percent-encoded except `A-Za-z0-9-._~`;
///   query values are form-encoded (`&`, `=`, `+`, `#` encoded, space as `+`).
///   A value cannot add a path segment, a query parameter or a fragment.
/// - A rendering in which a whole path segment holding a placeholder is `.`
///   or `..` (also as `%2e`, and also when two placeholders or a placeholder
///   and literal text build it together) is refused with
///   [`Error::DotSegment`], since URL parsers would resolve it and climb the
///   path.
/// - A value is never scanned for placeholders: `{{other}}` in a value stays
///   text (encoded as `%7B%7Bother%7D%7D`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate {
    compiled: Compiled,
    lock: HostLock,
    /// Pieces `..path_pieces` make up the prefix and the path.
    path_pieces: usize,
    /// The placeholders in the path: (segment index, counting the empty one
    /// before the first `/`; argument name index; placeholder offset), in
    /// template order.
    dot_checks: Vec<(usize, usize, usize)>,
}

impl UrlTemplate {
    /// Parses a URL template once; placeholders name `declared` arguments (a
    /// `{{name}}` naming no declared argument stays literal text).
    ///
    /// The prefix is split off with [`buttons_spec::lock_url_template`]: a
    /// placeholder in the scheme or host, a scheme other than http(s), or
    /// credentials are an [`Error::InvalidUrl`].
    ///
    /// ```
    /// use buttons_encode::UrlTemplate;
    /// use buttons_spec::ArgDef;
    ///
    /// let declared = [ArgDef::parse("host:string:required")?];
    /// let err = UrlTemplate::parse("https://{{host}}/x", &declared).unwrap_err();
    /// assert_eq!(err.offset(), Some(8));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(template: &str, declared: &[ArgDef]) -> Result<Self, Error> {
        let lock =
            buttons_spec::lock_url_template(template).map_err(|e| invalid_url(template, &e))?;
        let prefix = lock.prefix_len;
        let rest = &template[prefix..];
        // The first `?` or `#` ends the path; a `?` after the first `#` is
        // part of the fragment.
        let path_end = prefix + rest.find(['?', '#']).unwrap_or(rest.len());
        let fragment_start = rest.find('#').map(|i| prefix + i);

        let mut compiled = Compiled::new(template);
        let mut at = 0;
        let mut path_pieces = None;
        let mut dot_checks: Vec<(usize, usize, usize)> = Vec::new();
        let mut segment = 0;
        let mut segment_scanned_to = prefix;
        for found in find_placeholders(template, prefix..template.len(), declared) {
            if path_pieces.is_none() && found.start >= path_end {
                compiled.push_literal(at..path_end);
                at = path_end;
                path_pieces = Some(compiled.pieces.len());
            }
            compiled.push_literal(at..found.start);
            at = found.end;
            let in_path = found.start < path_end;
            let encoding = if in_path || fragment_start.is_some_and(|f| found.start > f) {
                Encoding::Path
            } else {
                Encoding::Query
            };
            let name = compiled.push_arg(found.name, encoding, found.start);
            if in_path {
                segment += count_separators(&template[segment_scanned_to..found.start]);
                segment_scanned_to = found.start;
                dot_checks.push((segment, name, found.start));
            }
        }
        if path_pieces.is_none() {
            // Every placeholder (if any) stood in the path, which ends at `path_end`.
            compiled.push_literal(at..path_end);
            at = path_end;
            path_pieces = Some(compiled.pieces.len());
        }
        compiled.push_literal(at..template.len());
        let path_pieces = path_pieces.expect("set by the loop or after it");
        Ok(Self {
            compiled,
            lock,
            path_pieces,
            dot_checks,
        })
    }

    /// The locked prefix: scheme, `allowed_host` and where the path starts.
    pub fn host_lock(&self) -> &HostLock {
        &self.lock
    }

    /// The template text as parsed.
    pub fn as_str(&self) -> &str {
        &self.compiled.template
    }

    /// The argument names the template uses, in order of first use.
    pub fn arg_names(&self) -> impl Iterator<Item = &str> {
        self.compiled.names.iter().map(String::as_str)
    }

    /// Renders the URL for one press, in a single pass.
    ///
    /// A declared argument that was not supplied renders as an empty string.
    ///
    /// # Security
    ///
    /// See the type's documentation. `args` is untrusted: every value goes
    /// through the encoder of the URL part it stands in, and a rendering
    /// whose path would hold a `.` or `..` segment built from a value is an
    /// [`Error::DotSegment`] naming the argument.
    ///
    /// ```
    /// use buttons_encode::UrlTemplate;
    /// use buttons_spec::{ArgDef, Args};
    ///
    /// let declared = [ArgDef::parse("id:string:required")?];
    /// let url = UrlTemplate::parse("https://api.example.com/files/{{id}}/download", &declared)?;
    /// let args = Args::validate(&declared, [("id", "../../etc/passwd")])?;
    /// assert_eq!(url.render(&args)?, "https://api.example.com/files/..%2F..%2Fetc%2Fpasswd/download");
    /// let args = Args::validate(&declared, [("id", "..")])?;
    /// assert!(url.render(&args).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn render(&self, args: &Args) -> Result<String, Error> {
        let compiled = &self.compiled;
        compiled.with_values(args, |values| {
            let mut out = String::with_capacity(compiled.capacity(values));
            compiled.render_pieces(0..self.path_pieces, values, &mut out);
            self.check_dot_segments(&out[self.lock.prefix_len..], values)?;
            compiled.render_pieces(self.path_pieces..compiled.pieces.len(), values, &mut out);
            Ok(out)
        })
    }

    /// Refuses a rendered path in which a segment holding a placeholder is a
    /// dot segment, naming the first placeholder of the segment that got a
    /// non-empty value. Values never render a `/` or `\`, so the rendered
    /// path has the template's segments at the same indexes.
    fn check_dot_segments(&self, path: &str, values: &[Option<&ArgValue>]) -> Result<(), Error> {
        let mut checks = self.dot_checks.as_slice();
        for (index, segment) in path.split(['/', '\\']).enumerate() {
            let Some(&(want, ..)) = checks.first() else {
                break;
            };
            if index != want {
                continue;
            }
            let in_segment = checks.iter().take_while(|c| c.0 == index).count();
            let (group, rest) = checks.split_at(in_segment);
            checks = rest;
            if is_dot_segment(segment) {
                let filled = |&&(_, name, _): &&(usize, usize, usize)| {
                    values[name].is_some_and(|v| !v.as_str().is_empty())
                };
                let &(_, name, offset) = group.iter().find(filled).unwrap_or(&group[0]);
                return Err(Error::DotSegment {
                    template: TemplateKind::Url,
                    offset,
                    argument: self.compiled.names[name].clone(),
                    segment: segment.to_owned(),
                });
            }
        }
        Ok(())
    }
}

fn count_separators(s: &str) -> usize {
    s.bytes().filter(|b| matches!(b, b'/' | b'\\')).count()
}

/// Whether a path segment is `.` or `..` as a URL parser sees it: `%2e` (any
/// case) is a dot, and ASCII tab, LF and CR are dropped before parsing.
pub(crate) fn is_dot_segment(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    let mut dots = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'.' => {
                dots += 1;
                i += 1;
            }
            b'%' if bytes.get(i + 1) == Some(&b'2')
                && matches!(bytes.get(i + 2), Some(b'e' | b'E')) =>
            {
                dots += 1;
                i += 3;
            }
            b'\t' | b'\n' | b'\r' => i += 1,
            _ => return false,
        }
        if dots > 2 {
            return false;
        }
    }
    dots > 0
}

fn invalid_url(template: &str, err: &buttons_spec::Error) -> Error {
    let reason = match err {
        buttons_spec::Error::InvalidUrl { reason, .. } => (*reason).to_owned(),
        other => other.to_string(),
    };
    // Point at the first brace pair before the path starts, if any: that is
    // a placeholder in the scheme or host.
    let authority_end = template.find("://").map_or(template.len(), |s| {
        let after = s + 3;
        after
            + template[after..]
                .find(['/', '?', '#', '\\'])
                .unwrap_or(template.len() - after)
    });
    let offset = template[..authority_end]
        .find("{{")
        .or_else(|| template[..authority_end].find("}}"));
    Error::InvalidUrl {
        template: template.to_owned(),
        offset,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defs() -> Vec<ArgDef> {
        ["a:string:optional", "b:string:optional", "n:int:optional"]
            .iter()
            .map(|d| ArgDef::parse(d).unwrap())
            .collect()
    }

    fn render(template: &str, args: &[(&str, &str)]) -> Result<String, Error> {
        let d = defs();
        let t = UrlTemplate::parse(template, &d).unwrap();
        t.render(&Args::validate(&d, args.iter().copied()).unwrap())
    }

    #[test]
    fn encodes_per_section() {
        assert_eq!(
            render(
                "https://h.test/x/{{a}}?q={{a}}&r={{b}}#f-{{a}}?{{b}}",
                &[("a", "a b/?#&=+%"), ("b", "{{a}}")]
            )
            .unwrap(),
            "https://h.test/x/a%20b%2F%3F%23%26%3D%2B%25?q=a+b%2F%3F%23%26%3D%2B%25&r=%7B%7Ba%7D%7D#f-a%20b%2F%3F%23%26%3D%2B%25?%7B%7Ba%7D%7D"
        );
        // A fragment before any `?`: the `?` is fragment text.
        assert_eq!(
            render("https://h.test#{{a}}?x={{a}}", &[("a", "a b")]).unwrap(),
            "https://h.test#a%20b?x=a%20b"
        );
        // No path at all.
        assert_eq!(
            render("https://h.test?q={{a}}", &[("a", "1 2")]).unwrap(),
            "https://h.test?q=1+2"
        );
        assert_eq!(render("https://h.test", &[]).unwrap(), "https://h.test");
    }

    #[test]
    fn undeclared_and_unsupplied() {
        assert_eq!(
            render("https://h.test/{{zz}}/{{a}}/{{b}}?{{n}}", &[("a", "1")]).unwrap(),
            "https://h.test/{{zz}}/1/?"
        );
    }

    #[test]
    fn refuses_placeholders_in_prefix() {
        let d = defs();
        for (t, offset) in [
            ("https://{{a}}/x", Some(8)),
            ("https://h.test:{{n}}/", Some(15)),
            ("{{a}}://h.test/", Some(0)),
            ("ftp://h.test/{{a}}", None),
            ("https://u:p@h.test/", None),
        ] {
            let e = UrlTemplate::parse(t, &d).unwrap_err();
            assert!(matches!(e, Error::InvalidUrl { .. }), "{t}");
            assert_eq!(e.offset(), offset, "{t}");
            assert!(e.hint().is_some());
        }
    }

    #[test]
    fn dot_segments() {
        assert!(is_dot_segment("."));
        assert!(is_dot_segment(".."));
        assert!(is_dot_segment("%2e"));
        assert!(is_dot_segment(".%2E"));
        assert!(is_dot_segment("%2E%2e"));
        assert!(is_dot_segment(".\t."));
        assert!(!is_dot_segment(""));
        assert!(!is_dot_segment("..."));
        assert!(!is_dot_segment("%252e"));
        assert!(!is_dot_segment(".a"));
        assert!(!is_dot_segment("%2"));

        for (t, args, arg) in [
            ("https://h.test/x/{{a}}/y", vec![("a", "..")], "a"),
            ("https://h.test/x/{{a}}", vec![("a", ".")], "a"),
            (
                "https://h.test/{{a}}{{b}}/y",
                vec![("a", "."), ("b", ".")],
                "a",
            ),
            ("https://h.test/{{a}}{{b}}/y", vec![("b", "..")], "b"),
            (
                "https://h.test/{{a}}{{b}}/y",
                vec![("a", ""), ("b", "..")],
                "b",
            ),
            ("https://h.test/..{{a}}{{b}}/y", vec![], "a"),
            ("https://h.test/x/{{a}}.", vec![("a", ".")], "a"),
            ("https://h.test/x/%{{a}}", vec![("a", "2e")], "a"),
            ("https://h.test/x/{{a}}%2E", vec![("a", ".")], "a"),
            ("https://h.test\\{{b}}", vec![("b", "..")], "b"),
            ("https://h.test/a\\{{b}}?q", vec![("b", "..")], "b"),
        ] {
            let e = render(t, &args).unwrap_err();
            assert_eq!(e.argument(), Some(arg), "{t}");
            assert_eq!(e.code(), buttons_spec::ErrorCode::ValidationError);
        }
        // Dots elsewhere are fine: in the query, the fragment, or with more text.
        for (t, args) in [
            ("https://h.test/x/{{a}}?q=..", vec![("a", "...")]),
            ("https://h.test/x?q={{a}}", vec![("a", "..")]),
            ("https://h.test/x#{{a}}", vec![("a", "..")]),
            ("https://h.test/x/{{a}}", vec![("a", "%2e")]),
            (
                "https://h.test/x/{{a}}/{{b}}",
                vec![("a", "a."), ("b", "..b")],
            ),
        ] {
            assert!(render(t, &args).is_ok(), "{t}");
        }
    }

    #[test]
    fn dot_segment_error_points_at_the_placeholder() {
        let e = render("https://h.test/x/{{b}}/{{a}}", &[("a", ".."), ("b", "ok")]).unwrap_err();
        assert_eq!((e.argument(), e.offset()), (Some("a"), Some(23)));
    }
}
