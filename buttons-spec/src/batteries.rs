//! Batteries: named secrets handed to scripts as `BUTTONS_BAT_<KEY>`.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::{Error, Result};

/// The prefix of the environment variable each battery reaches a script through.
pub const BATTERY_ENV_PREFIX: &str = "BUTTONS_BAT_";

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
