//! Batteries: named secrets handed to scripts as `BUTTONS_BAT_<KEY>`, and
//! the `batteries.json` file format they are kept in.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The prefix of the environment variable each battery reaches a script through.
pub const BATTERY_ENV_PREFIX: &str = "BUTTONS_BAT_";

/// The `schema_version` of the `batteries.json` envelope this build writes,
/// and the newest it reads.
pub const BATTERIES_SCHEMA_VERSION: u64 = 1;

/// What a redacted value starts with (and, under 8 characters, all it is).
pub const REDACTED: &str = "\u{2022}\u{2022}\u{2022}\u{2022}";

/// A secret as it may be shown: [`REDACTED`] (`••••`) followed by its last 4
/// characters, or `••••` alone when it has fewer than 8 characters (so at
/// most half of a short value is ever shown, and none of a very short one).
///
/// ```
/// assert_eq!(buttons_spec::redact("sk-live-1234abcd"), "••••abcd");
/// assert_eq!(buttons_spec::redact("1234567"), "••••");
/// ```
pub fn redact(value: &str) -> String {
    let chars = value.chars().count();
    if chars < 8 {
        return REDACTED.to_owned();
    }
    let tail: String = value.chars().skip(chars - 4).collect();
    format!("{REDACTED}{tail}")
}

/// Checks a battery key: `[A-Z][A-Z0-9_]*`.
pub fn validate_battery_key(key: &str) -> Result<()> {
    let mut chars = key.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidBatteryKey {
            key: key.to_owned(),
        })
    }
}

/// A set of batteries (KEY -> secret value).
///
/// # Security
///
/// Values are secrets: `Debug` prints keys only, and nothing in this type
/// displays a value. Read one deliberately with [`Batteries::get`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Batteries(BTreeMap<String, String>);

impl Batteries {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` (validated) to `value`, returning the old value.
    pub fn insert(&mut self, key: &str, value: impl Into<String>) -> Result<Option<String>> {
        validate_battery_key(key)?;
        Ok(self.0.insert(key.to_owned(), value.into()))
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The keys, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Key/value pairs, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many batteries there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Layers `over` on top of `self` (its values win): local over global.
    pub fn merged_with(mut self, over: &Batteries) -> Batteries {
        for (k, v) in &over.0 {
            self.0.insert(k.clone(), v.clone());
        }
        self
    }

    /// The `BUTTONS_BAT_<KEY>` environment pairs, sorted by key.
    pub fn env_vars(&self) -> impl Iterator<Item = (String, &str)> {
        self.0
            .iter()
            .map(|(k, v)| (format!("{BATTERY_ENV_PREFIX}{k}"), v.as_str()))
    }

    /// The map itself, for serializing to `batteries.json`.
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// Builds a set from a map read from `batteries.json`, validating every key.
    pub fn from_map(map: BTreeMap<String, String>) -> Result<Self> {
        for key in map.keys() {
            validate_battery_key(key)?;
        }
        Ok(Self(map))
    }
}

/// The contents of a `batteries.json`: the Go tool's envelope
/// `{"schema_version": 1, "batteries": {"KEY": "value"}}`.
///
/// [`BatteriesFile::from_json`] also reads the flat `{"KEY": "value"}` map
/// that earlier versions of this project wrote; [`BatteriesFile::to_json`]
/// always writes the envelope. Envelope fields this build does not know are
/// kept in [`BatteriesFile::extra`] and written back unchanged.
///
/// ```
/// use buttons_spec::BatteriesFile;
///
/// let go = BatteriesFile::from_json(br#"{"schema_version": 1, "batteries": {"TOKEN": "t"}}"#)?;
/// let flat = BatteriesFile::from_json(br#"{"TOKEN": "t"}"#)?;
/// assert_eq!(go, flat);
/// assert!(flat.to_json().starts_with("{\n  \"schema_version\": 1,\n  \"batteries\": {"));
/// # Ok::<(), buttons_spec::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatteriesFile {
    /// The batteries.
    pub batteries: Batteries,
    /// Envelope fields other than `schema_version` and `batteries`.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The envelope on disk (`batteries` may be `null` or absent: none; an
/// absent `schema_version` is 1).
#[derive(Serialize, Deserialize)]
struct Envelope {
    #[serde(default = "first_schema")]
    schema_version: u64,
    #[serde(default)]
    batteries: Option<BTreeMap<String, String>>,
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

fn first_schema() -> u64 {
    1
}

impl BatteriesFile {
    /// Parses `batteries.json`, either shape, validating every key.
    ///
    /// An object holding `schema_version` or `batteries` is the envelope
    /// (neither can be a battery key, which is uppercase); a `schema_version`
    /// above [`BATTERIES_SCHEMA_VERSION`] is refused rather than guessed at.
    /// Any other object is the legacy flat map.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(Error::BatteriesJson)?;
        let is_envelope = value
            .as_object()
            .is_some_and(|o| o.contains_key("schema_version") || o.contains_key("batteries"));
        if !is_envelope {
            let map: BTreeMap<String, String> =
                serde_json::from_value(value).map_err(Error::BatteriesJson)?;
            return Ok(Self {
                batteries: Batteries::from_map(map)?,
                extra: serde_json::Map::new(),
            });
        }
        if let Some(version) = value
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
            && version > BATTERIES_SCHEMA_VERSION
        {
            return Err(Error::UnsupportedBatteriesSchema { version });
        }
        let envelope: Envelope = serde_json::from_value(value).map_err(Error::BatteriesJson)?;
        Ok(Self {
            batteries: Batteries::from_map(envelope.batteries.unwrap_or_default())?,
            extra: envelope.extra,
        })
    }

    /// The envelope as pretty-printed JSON with a final newline, as written
    /// to disk (`schema_version` first, then `batteries`, then kept fields).
    pub fn to_json(&self) -> String {
        let envelope = Envelope {
            schema_version: BATTERIES_SCHEMA_VERSION,
            batteries: Some(self.batteries.0.clone()),
            extra: self.extra.clone(),
        };
        let mut s =
            serde_json::to_string_pretty(&envelope).expect("a map of strings always serializes");
        s.push('\n');
        s
    }
}

impl fmt::Debug for Batteries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "<redacted>")))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_validated() {
        for good in ["A", "API_KEY", "K2"] {
            assert!(validate_battery_key(good).is_ok(), "{good}");
        }
        for bad in ["", "a", "_A", "1A", "A-B", "A B", "Ä"] {
            assert!(validate_battery_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redaction_shows_at_most_the_last_four_characters() {
        assert_eq!(redact(""), "••••");
        assert_eq!(redact("abc"), "••••");
        assert_eq!(redact("1234567"), "••••");
        assert_eq!(redact("12345678"), "••••5678");
        assert_eq!(redact("sk-live-0123456789abcdef"), "••••cdef");
        // Characters, not bytes: a multi-byte tail is never cut in half.
        assert_eq!(redact("pässwörtchen"), "••••chen");
        assert_eq!(redact("ééééééé"), "••••");
        assert_eq!(redact("éééééééü"), "••••éééü");
    }

    #[test]
    fn reads_the_go_envelope_and_the_flat_map_and_writes_the_envelope() {
        let go = br#"{
  "schema_version": 1,
  "batteries": {
    "API_TOKEN": "go-secret",
    "OTHER": "x"
  }
}
"#;
        let from_go = BatteriesFile::from_json(go).unwrap();
        assert_eq!(from_go.batteries.get("API_TOKEN"), Some("go-secret"));
        assert_eq!(from_go.batteries.len(), 2);
        // The envelope in the form this build writes (Go's two-space
        // MarshalIndent, keys sorted) comes back byte for byte.
        assert_eq!(from_go.to_json().as_bytes(), go);

        let flat =
            BatteriesFile::from_json(br#"{"API_TOKEN": "go-secret", "OTHER": "x"}"#).unwrap();
        assert_eq!(flat, from_go);
        let written: serde_json::Value = serde_json::from_str(&flat.to_json()).unwrap();
        assert_eq!(
            written,
            serde_json::json!({"schema_version": 1, "batteries": {"API_TOKEN": "go-secret", "OTHER": "x"}})
        );

        let empty = BatteriesFile::default().to_json();
        assert_eq!(
            empty,
            "{\n  \"schema_version\": 1,\n  \"batteries\": {}\n}\n"
        );
        for none in [
            &b"{}"[..],
            br#"{"schema_version": 1}"#,
            br#"{"schema_version": 1, "batteries": null}"#,
            br#"{"batteries": {}}"#,
        ] {
            assert!(BatteriesFile::from_json(none).unwrap().batteries.is_empty());
        }
    }

    #[test]
    fn unknown_envelope_fields_survive_and_bad_files_are_refused() {
        let file = BatteriesFile::from_json(
            br#"{"schema_version": 1, "batteries": {"K": "v"}, "updated_by": {"tool": "go"}}"#,
        )
        .unwrap();
        let written: serde_json::Value = serde_json::from_str(&file.to_json()).unwrap();
        assert_eq!(written["updated_by"], serde_json::json!({"tool": "go"}));

        assert!(matches!(
            BatteriesFile::from_json(br#"{"schema_version": 2, "batteries": {"K": ["new"]}}"#),
            Err(Error::UnsupportedBatteriesSchema { version: 2 })
        ));
        for bad in [
            &b"not json"[..],
            b"[1, 2]",
            br#"{"K": 1}"#,
            br#"{"schema_version": "1", "batteries": {}}"#,
            br#"{"schema_version": 1, "batteries": {"K": 1}}"#,
            br#"{"schema_version": 1, "batteries": ["K"]}"#,
        ] {
            let err = BatteriesFile::from_json(bad).unwrap_err();
            assert!(matches!(err, Error::BatteriesJson(_)), "{bad:?}: {err:?}");
        }
        for bad_key in [
            &br#"{"lower": "v"}"#[..],
            br#"{"schema_version": 1, "batteries": {"a-b": "v"}}"#,
        ] {
            assert!(matches!(
                BatteriesFile::from_json(bad_key),
                Err(Error::InvalidBatteryKey { .. })
            ));
        }
    }

    #[test]
    fn debug_redacts_and_local_wins() {
        let mut global = Batteries::new();
        global.insert("TOKEN", "global-secret").unwrap();
        global.insert("ONLY_GLOBAL", "g").unwrap();
        let mut local = Batteries::new();
        local.insert("TOKEN", "local-secret").unwrap();
        let merged = global.merged_with(&local);
        assert_eq!(merged.get("TOKEN"), Some("local-secret"));
        assert_eq!(merged.get("ONLY_GLOBAL"), Some("g"));
        let dbg = format!("{merged:?}");
        assert!(!dbg.contains("secret") && dbg.contains("TOKEN"), "{dbg}");
        let env: Vec<_> = merged.env_vars().collect();
        assert_eq!(env[1], ("BUTTONS_BAT_TOKEN".to_owned(), "local-secret"));
    }
}
