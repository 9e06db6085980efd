//! Masking secrets in records.

use serde_json::Value;

/// What a secret is replaced with in records and dry runs.
pub const SECRET_MASK: &str = "[redacted]";

/// `text` with every occurrence of each secret replaced by [`SECRET_MASK`]
/// (longest secrets first, empty ones ignored).
pub fn mask_secrets(text: &str, secrets: &[String]) -> String {
    let mut sorted: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    if sorted.is_empty() || !sorted.iter().any(|s| text.contains(s.as_str())) {
        return text.to_owned();
    }
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_owned();
    for s in sorted {
        out = out.replace(s.as_str(), SECRET_MASK);
    }
    out
}

/// [`mask_secrets`] applied to every string (and object key) in `value`.
pub fn mask_json(value: &mut Value, secrets: &[String]) {
    match value {
        Value::String(s) => *s = mask_secrets(s, secrets),
        Value::Array(a) => a.iter_mut().for_each(|v| mask_json(v, secrets)),
        Value::Object(m) => {
            let old = std::mem::take(m);
            for (k, mut v) in old {
                mask_json(&mut v, secrets);
                m.insert(mask_secrets(&k, secrets), v);
            }
        }
        Value::Number(n) => {
            let text = n.to_string();
            if secrets.iter().any(|s| s == &text) {
                *value = Value::String(SECRET_MASK.to_owned());
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_everywhere() {
        let secrets = vec!["s3cret".to_owned(), "42".to_owned()];
        let mut v = serde_json::json!({"a": "x s3cret y", "b": [42, "s3cret"], "s3cret": 1});
        mask_json(&mut v, &secrets);
        let text = v.to_string();
        assert!(!text.contains("s3cret") && !text.contains("42"), "{text}");
        assert_eq!(mask_secrets("no", &secrets), "no");
    }
}
