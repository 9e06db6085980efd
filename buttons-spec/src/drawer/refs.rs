//! `${…}` and `$ENV{…}` references, evaluated as CEL.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value};

/// A piece of a string that may hold references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Plain text.
    Text(String),
    /// `${expr}`: a CEL expression.
    Expr(String),
    /// `$ENV{NAME}`: an environment variable.
    Env(String),
}

/// Why a reference could not be read or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefError {
    /// A `${` with no closing `}`.
    #[error("unterminated reference in {text:?}")]
    Unterminated {
        /// The string.
        text: String,
    },
    /// The expression is not valid CEL.
    #[error("parse the expression {expr:?}: {reason}")]
    Parse {
        /// The expression.
        expr: String,
        /// The parser's message.
        reason: String,
    },
    /// The expression failed (an unknown field, a type error).
    #[error("evaluate the expression {expr:?}: {reason}")]
    Eval {
        /// The expression.
        expr: String,
        /// The evaluator's message.
        reason: String,
    },
}

/// Splits `text` into text and references. `}` inside a quoted string
/// literal of an expression does not end it, nor does the `}` of a nested map
/// literal. Never panics (a property test checks any string).
pub fn scan(text: &str) -> Result<Vec<Segment>, RefError> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    loop {
        let next = [rest.find("${"), rest.find("$ENV{")]
            .into_iter()
            .flatten()
            .min();
        let Some(at) = next else {
            plain.push_str(rest);
            break;
        };
        plain.push_str(&rest[..at]);
        let is_env = rest[at..].starts_with("$ENV{");
        let body_start = at + if is_env { 5 } else { 2 };
        let body = &rest[body_start..];
        let Some(end) = expr_end(body) else {
            return Err(RefError::Unterminated {
                text: text.to_owned(),
            });
        };
        if !plain.is_empty() {
            out.push(Segment::Text(std::mem::take(&mut plain)));
        }
        let inner = body[..end].to_owned();
        out.push(if is_env {
            Segment::Env(inner.trim().to_owned())
        } else {
            Segment::Expr(inner)
        });
        rest = &body[end + 1..];
    }
    if !plain.is_empty() {
        out.push(Segment::Text(plain));
    }
    Ok(out)
}

/// The byte offset of the `}` closing an expression body, skipping string
/// literals and nested braces.
fn expr_end(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// A root-position identifier chain in an expression, e.g. `fetch-data`,
/// `output`, `v` for `fetch-data.output.v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The root (`inputs`, a step id, `env`, …), hyphens included when a
    /// known step id has them.
    pub root: String,
    /// The member names after it (`.x` or `['x']`).
    pub path: Vec<String>,
}

/// Identifier tokens of `expr` outside string literals, with their byte
/// ranges and whether a `.` precedes them.
fn tokens(expr: &str) -> Vec<(usize, usize, bool)> {
    let bytes = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    let mut prev_sig: u8 = b' ';
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
                prev_sig = c;
            }
            i += 1;
            continue;
        }
        if c == b'\'' || c == b'"' {
            quote = Some(c);
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push((start, i, prev_sig == b'.'));
            prev_sig = b'a';
            continue;
        }
        if c.is_ascii_digit() {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                i += 1;
            }
            prev_sig = b'0';
            continue;
        }
        if !c.is_ascii_whitespace() {
            prev_sig = c;
        }
        i += 1;
    }
    out
}

/// Rewrites root-position hyphenated step ids (`fetch-data.output`) and
/// `steps.fetch-data` to `steps['fetch-data']`, leaving string literals,
/// index access and spaced subtraction alone.
fn rewrite(expr: &str, known: &BTreeSet<String>) -> String {
    let toks = tokens(expr);
    let bytes = expr.as_bytes();
    let mut out = String::with_capacity(expr.len() + 8);
    let mut copied = 0;
    let mut t = 0;
    while t < toks.len() {
        let (start, _, after_dot) = toks[t];
        // `steps.` prefix: the id follows.
        let mut id_tok = t;
        let mut prefix_start = start;
        let mut is_steps = false;
        if !after_dot && &expr[toks[t].0..toks[t].1] == "steps" && t + 1 < toks.len() {
            let (ns, _, nd) = toks[t + 1];
            if nd && ns == toks[t].1 + 1 {
                id_tok = t + 1;
                is_steps = true;
            }
        }
        if after_dot && !is_steps {
            t += 1;
            continue;
        }
        // Extend over `-word` runs with no spaces, as long as the result
        // is a known id (longest match wins).
        let id_start = toks[id_tok].0;
        let run = expr[id_start..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
            .count();
        let mut best: Option<usize> = None;
        for len in (1..=run).rev() {
            let end = id_start + len;
            let word_end = bytes
                .get(end)
                .is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'));
            let candidate = &expr[id_start..end];
            if word_end && candidate.contains('-') && known.contains(candidate) {
                best = Some(end);
                break;
            }
        }
        match best {
            Some(end) => {
                if !is_steps {
                    prefix_start = id_start;
                }
                out.push_str(&expr[copied..prefix_start]);
                out.push_str("steps['");
                out.push_str(&expr[id_start..end]);
                out.push_str("']");
                copied = end;
                while t < toks.len() && toks[t].0 < end {
                    t += 1;
                }
            }
            None => t = id_tok + 1,
        }
    }
    out.push_str(&expr[copied..]);
    out
}

/// The root references of `expr` (for the validator and dependency
/// analysis): identifiers in root position, hyphenated when `known` holds
/// such an id, with the member path after them. Function names, macro loop
/// variables and `steps` itself are not roots (`steps.x` gives root `x`).
pub fn references(expr: &str, known: &BTreeSet<String>) -> Vec<Reference> {
    let rewritten = rewrite(expr, known);
    let bytes = rewritten.as_bytes();
    let toks = tokens(&rewritten);
    let mut bound = BTreeSet::new();
    // Macro variables: `.map(x, …)`, `.all(x, …)`.
    for w in toks.windows(2) {
        let name = &rewritten[w[0].0..w[0].1];
        if w[0].2 && matches!(name, "all" | "exists" | "exists_one" | "map" | "filter") {
            bound.insert(rewritten[w[1].0..w[1].1].to_owned());
        }
    }
    let mut out = Vec::new();
    let mut t = 0;
    while t < toks.len() {
        let (s, e, after_dot) = toks[t];
        let name = &rewritten[s..e];
        let next_char = rewritten[e..].trim_start().chars().next();
        if after_dot
            || next_char == Some('(')
            || matches!(name, "true" | "false" | "null" | "in")
            || bound.contains(name)
        {
            t += 1;
            continue;
        }
        let mut root = name.to_owned();
        let mut pos = e;
        // `steps['id']` or `steps.id`.
        if name == "steps" {
            if let Some(rest) = rewritten[pos..].strip_prefix("['") {
                if let Some(close) = rest.find("']") {
                    root = rest[..close].to_owned();
                    pos += 2 + close + 2;
                }
            } else if bytes.get(pos) == Some(&b'.') && t + 1 < toks.len() {
                let (ns, ne, _) = toks[t + 1];
                root = rewritten[ns..ne].to_owned();
                pos = ne;
            }
        }
        let mut path = Vec::new();
        loop {
            let rest = &rewritten[pos..];
            if let Some(r) = rest.strip_prefix('.') {
                let len = r
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                    .count();
                if len == 0 {
                    break;
                }
                path.push(r[..len].to_owned());
                pos += 1 + len;
            } else if let Some(r) = rest.strip_prefix("['") {
                match r.find("']") {
                    Some(close) => {
                        path.push(r[..close].to_owned());
                        pos += 2 + close + 2;
                    }
                    None => break,
                }
            } else {
                break;
            }
        }
        out.push(Reference { root, path });
        // Skip the tokens consumed.
        while t < toks.len() && toks[t].0 < pos {
            t += 1;
        }
    }
    out
}

/// Checks that `expr` parses as CEL once hyphenated ids in `known` are
/// rewritten (the validator's syntax check).
pub fn check_syntax(expr: &str, known: &BTreeSet<String>) -> Result<(), RefError> {
    cel::Program::compile(&rewrite(expr, known))
        .map(drop)
        .map_err(|e| RefError::Parse {
            expr: expr.to_owned(),
            reason: e.to_string(),
        })
}

/// What references are evaluated against: named roots (`inputs`, step ids,
/// loop variables) and the environment `$ENV{…}` and `env` read.
///
/// Nothing is read implicitly: pass the environment in.
#[derive(Debug, Clone, Default)]
pub struct RefContext {
    /// Roots by name.
    pub roots: BTreeMap<String, Value>,
    /// Step outputs by id (also the `steps` root): `{output, status, …}`.
    pub steps: Map<String, Value>,
    /// Environment variables.
    pub env: BTreeMap<String, String>,
}

impl RefContext {
    /// Every name an expression may start with.
    pub fn known(&self) -> BTreeSet<String> {
        self.roots
            .keys()
            .chain(self.steps.keys())
            .cloned()
            .chain(["env".to_owned(), "steps".to_owned()])
            .collect()
    }

    /// Evaluates one CEL expression to JSON.
    pub fn eval(&self, expr: &str) -> Result<Value, RefError> {
        let known = self.known();
        let source = rewrite(expr, &known);
        let program = cel::Program::compile(&source).map_err(|e| RefError::Parse {
            expr: expr.to_owned(),
            reason: e.to_string(),
        })?;
        let mut ctx = cel::Context::default();
        for (k, v) in &self.roots {
            ctx.add_variable_from_value(k.clone(), to_cel(v));
        }
        for (k, v) in &self.steps {
            if !k.contains('-') {
                ctx.add_variable_from_value(k.clone(), to_cel(v));
            }
        }
        ctx.add_variable_from_value("steps", to_cel(&Value::Object(self.steps.clone())));
        let env: HashMap<cel::objects::Key, cel::Value> = self
            .env
            .iter()
            .map(|(k, v)| (k.clone().into(), cel::Value::from(v.clone())))
            .collect();
        ctx.add_variable_from_value("env", cel::Value::Map(env.into()));
        let value = program.execute(&ctx).map_err(|e| RefError::Eval {
            expr: expr.to_owned(),
            reason: e.to_string(),
        })?;
        from_cel(&value).ok_or_else(|| RefError::Eval {
            expr: expr.to_owned(),
            reason: "the result is not a JSON value".to_owned(),
        })
    }
}

fn to_cel(v: &Value) -> cel::Value {
    match v {
        Value::Null => cel::Value::Null,
        Value::Bool(b) => cel::Value::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                cel::Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                cel::Value::UInt(u)
            } else {
                cel::Value::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => cel::Value::String(Arc::new(s.clone())),
        Value::Array(a) => cel::Value::List(Arc::new(a.iter().map(to_cel).collect())),
        Value::Object(m) => {
            let map: HashMap<cel::objects::Key, cel::Value> = m
                .iter()
                .map(|(k, v)| (k.clone().into(), to_cel(v)))
                .collect();
            cel::Value::Map(map.into())
        }
    }
}

fn from_cel(v: &cel::Value) -> Option<Value> {
    Some(match v {
        cel::Value::Null => Value::Null,
        cel::Value::Bool(b) => Value::Bool(*b),
        cel::Value::Int(i) => Value::from(*i),
        cel::Value::UInt(u) => Value::from(*u),
        cel::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        cel::Value::String(s) => Value::String(s.to_string()),
        cel::Value::Bytes(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        cel::Value::List(l) => Value::Array(l.iter().map(from_cel).collect::<Option<_>>()?),
        cel::Value::Map(m) => {
            let mut entries: Vec<(String, Value)> = m
                .map
                .iter()
                .map(|(k, v)| Some((key_text(k), from_cel(v)?)))
                .collect::<Option<_>>()?;
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        _ => return None,
    })
}

fn key_text(k: &cel::objects::Key) -> String {
    match k {
        cel::objects::Key::Int(i) => i.to_string(),
        cel::objects::Key::Uint(u) => u.to_string(),
        cel::objects::Key::Bool(b) => b.to_string(),
        cel::objects::Key::String(s) => s.to_string(),
    }
}

/// A value as text: a string as is, `true`/`false`, an integral number as an
/// integer (never `1e+06`), `null` as empty, anything else compact JSON.
pub fn json_to_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                format!("{f:.0}")
            } else {
                n.to_string()
            }
        }
        other => other.to_string(),
    }
}

/// A JSON value whose strings may hold references.
#[derive(Debug, Clone, Copy)]
pub struct Template<'a>(pub &'a Value);

impl Template<'_> {
    /// Resolves every string: exactly one `${expr}` gives the expression's
    /// typed value, a mix of text and references gives text.
    pub fn resolve(&self, ctx: &RefContext) -> Result<Value, RefError> {
        resolve_value(self.0, ctx)
    }
}

fn resolve_value(v: &Value, ctx: &RefContext) -> Result<Value, RefError> {
    Ok(match v {
        Value::String(s) => resolve_str(s, ctx)?,
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| resolve_value(x, ctx))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                out.insert(k.clone(), resolve_value(x, ctx)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

fn resolve_str(s: &str, ctx: &RefContext) -> Result<Value, RefError> {
    if !s.contains('$') {
        return Ok(Value::String(s.to_owned()));
    }
    let segments = scan(s)?;
    let one = |seg: &Segment| -> Result<Value, RefError> {
        Ok(match seg {
            Segment::Text(t) => Value::String(t.clone()),
            Segment::Expr(e) => ctx.eval(e)?,
            Segment::Env(n) => ctx
                .env
                .get(n)
                .map_or(Value::Null, |v| Value::String(v.clone())),
        })
    };
    if let [seg] = segments.as_slice() {
        return one(seg);
    }
    let mut text = String::new();
    for seg in &segments {
        text.push_str(&json_to_text(&one(seg)?));
    }
    Ok(Value::String(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> RefContext {
        let mut c = RefContext::default();
        c.roots.insert(
            "inputs".into(),
            json!({"count": 21, "region": "eu", "n": 1000000, "headers": {"X-Hub-Signature": "sha=1"}}),
        );
        c.steps.insert(
            "fetch-data".into(),
            json!({"output": {"v": 7, "m": {"a": 1}}}),
        );
        c.steps.insert("plain".into(), json!({"output": "hi"}));
        c.env.insert("HOME".into(), "/h".into());
        c
    }

    fn r(s: &str) -> Value {
        Template(&json!(s)).resolve(&ctx()).unwrap()
    }

    #[test]
    fn typed_and_mixed() {
        assert_eq!(r("${inputs.count * 2}"), json!(42));
        assert_eq!(r("${inputs.n}"), json!(1000000));
        assert_eq!(r("n=${inputs.n}"), json!("n=1000000"));
        assert_eq!(r("${fetch-data.output.v}"), json!(7));
        assert_eq!(r("${steps.fetch-data.output.v + 1}"), json!(8));
        assert_eq!(r("m=${fetch-data.output.m}"), json!(r#"m={"a":1}"#));
        assert_eq!(r("${'us-east-1'}"), json!("us-east-1"));
        assert_eq!(r("${inputs.headers['X-Hub-Signature']}"), json!("sha=1"));
        assert_eq!(r("${'}' + inputs.region}"), json!("}eu"));
        assert_eq!(r("$ENV{HOME}/x"), json!("/h/x"));
        assert_eq!(r("${plain.output}!"), json!("hi!"));
        assert_eq!(r("${inputs.count > 3 ? 'big' : 'small'}"), json!("big"));
        assert_eq!(r("no refs"), json!("no refs"));
    }

    #[test]
    fn subtraction_with_spaces_is_subtraction() {
        let mut c = ctx();
        c.roots.insert("a".into(), json!(5));
        c.roots.insert("b".into(), json!(2));
        assert_eq!(Template(&json!("${a - b}")).resolve(&c).unwrap(), json!(3));
    }

    #[test]
    fn unterminated_and_bad() {
        assert!(matches!(
            scan("${inputs.x"),
            Err(RefError::Unterminated { .. })
        ));
        assert!(matches!(
            Template(&json!("${nope.x}")).resolve(&ctx()),
            Err(RefError::Eval { .. })
        ));
    }

    #[test]
    fn references_found() {
        let known: BTreeSet<String> = ["fetch-data".to_owned(), "inputs".to_owned()].into();
        let refs = references(
            "inputs.build + fetch-data.output.v + size(x.map(i, i))",
            &known,
        );
        assert_eq!(refs[0].root, "inputs");
        assert_eq!(refs[0].path, ["build"]);
        assert_eq!(refs[1].root, "fetch-data");
        assert_eq!(refs[1].path, ["output", "v"]);
        assert_eq!(refs[2].root, "x");
        assert_eq!(refs.len(), 3);
    }

    proptest::proptest! {
        #[test]
        fn scanner_never_panics(s in "\\PC*") {
            let _ = scan(&s);
            let _ = references(&s, &BTreeSet::new());
            let _ = Template(&Value::String(s)).resolve(&ctx());
        }

        #[test]
        fn scanner_never_panics_on_reference_shapes(s in "[${}'\"a-z. \\-\\[\\]ENV\\\\]{0,40}") {
            let _ = scan(&s);
            let _ = references(&s, &["a-b".to_owned()].into());
            let _ = Template(&Value::String(s)).resolve(&ctx());
        }
    }
}
