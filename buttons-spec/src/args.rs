//! Argument definitions (create time) and argument values (press time).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The prefix of the environment variable each argument reaches a script through.
pub const ARG_ENV_PREFIX: &str = "BUTTONS_ARG_";

/// The type of a button argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArgType {
    /// Any text.
    String,
    /// A signed 64-bit integer.
    Int,
    /// `true`/`false`/`1`/`0`, any case.
    Bool,
    /// One of the definition's `values`.
    Enum,
}

impl ArgType {
    /// The type's name as written in definitions and `button.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Int => "int",
            Self::Bool => "bool",
            Self::Enum => "enum",
        }
    }
}

impl fmt::Display for ArgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ArgType {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        match s {
            "string" => Ok(Self::String),
            "int" => Ok(Self::Int),
            "bool" => Ok(Self::Bool),
            "enum" => Ok(Self::Enum),
            _ => Err(()),
        }
    }
}

/// One declared argument, as stored in `button.json`'s `args` array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgDef {
    /// The argument's name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub arg_type: ArgType,
    /// Whether a press must supply it.
    pub required: bool,
    /// The allowed values, for `enum` only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// What the argument is for, when the spec says (shown to agents in a
    /// tool's input schema). Not part of the `name:type:...` definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl ArgDef {
    /// Parses a create-time definition: `name:type:required|optional`, and for
    /// enums a fourth segment `a|b|c` with at least two distinct, non-empty values.
    ///
    /// ```
    /// use buttons_spec::{ArgDef, ArgType};
    /// let def = ArgDef::parse("env:enum:required:dev|prod")?;
    /// assert_eq!(def.arg_type, ArgType::Enum);
    /// assert_eq!(def.values, ["dev", "prod"]);
    /// assert_eq!(def.to_string(), "env:enum:required:dev|prod");
    /// # Ok::<(), buttons_spec::Error>(())
    /// ```
    pub fn parse(definition: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidArgDef {
            definition: definition.to_owned(),
            reason,
        };
        let parts: Vec<&str> = definition.split(':').collect();
        if parts.len() != 3 && parts.len() != 4 {
            return Err(invalid(format!(
                "expected 3 parts (4 for enum) separated by ':', found {}",
                parts.len()
            )));
        }
        let name = parts[0];
        validate_arg_name(name).map_err(|reason| invalid(reason.to_owned()))?;
        let arg_type: ArgType = parts[1].parse().map_err(|()| {
            invalid(format!(
                "unknown type {:?} (use string, int, bool or enum)",
                parts[1]
            ))
        })?;
        let required = match parts[2] {
            "required" => true,
            "optional" => false,
            other => {
                return Err(invalid(format!(
                    "expected 'required' or 'optional', found {other:?}"
                )));
            }
        };
        let values = match (arg_type, parts.get(3)) {
            (ArgType::Enum, Some(values)) => {
                let values: Vec<String> = values.split('|').map(str::to_owned).collect();
                if values.iter().any(String::is_empty) {
                    return Err(invalid("enum values cannot be empty".to_owned()));
                }
                let mut distinct = values.clone();
                distinct.sort();
                distinct.dedup();
                if distinct.len() != values.len() {
                    return Err(invalid("enum values must be distinct".to_owned()));
                }
                if values.len() < 2 {
                    return Err(invalid(
                        "an enum needs at least two values, e.g. dev|prod".to_owned(),
                    ));
                }
                values
            }
            (ArgType::Enum, None) => {
                return Err(invalid(
                    "an enum needs a fourth part listing its values, e.g. dev|prod".to_owned(),
                ));
            }
            (_, Some(_)) => {
                return Err(invalid("only enum arguments take a fourth part".to_owned()));
            }
            (_, None) => Vec::new(),
        };
        Ok(Self {
            name: name.to_owned(),
            arg_type,
            required,
            values,
            description: None,
        })
    }

    /// The environment variable this argument reaches a script through:
    /// `BUTTONS_ARG_` + the name uppercased with `-` as `_`.
    pub fn env_var(&self) -> String {
        arg_env_var(&self.name)
    }

    /// Checks a press-time value against this definition's type.
    pub fn check_value(&self, value: &str) -> Result<()> {
        let invalid = |reason: String| Error::InvalidArgValue {
            name: self.name.clone(),
            value: value.to_owned(),
            reason,
        };
        match self.arg_type {
            ArgType::String => Ok(()),
            ArgType::Int => value
                .parse::<i64>()
                .map(drop)
                .map_err(|_| invalid("expected a signed integer".to_owned())),
            ArgType::Bool => parse_bool(value)
                .map(drop)
                .ok_or_else(|| invalid("expected true, false, 1 or 0".to_owned())),
            ArgType::Enum => {
                if self.values.iter().any(|v| v == value) {
                    Ok(())
                } else {
                    Err(invalid(format!(
                        "expected one of: {}",
                        self.values.join(", ")
                    )))
                }
            }
        }
    }
}

impl fmt::Display for ArgDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let req = if self.required {
            "required"
        } else {
            "optional"
        };
        write!(f, "{}:{}:{}", self.name, self.arg_type, req)?;
        if self.arg_type == ArgType::Enum {
            write!(f, ":{}", self.values.join("|"))?;
        }
        Ok(())
    }
}

/// Maps an argument name to its environment variable (`my-arg` -> `BUTTONS_ARG_MY_ARG`).
pub fn arg_env_var(name: &str) -> String {
    let mut var = String::with_capacity(ARG_ENV_PREFIX.len() + name.len());
    var.push_str(ARG_ENV_PREFIX);
    var.extend(name.chars().map(|c| {
        if c == '-' {
            '_'
        } else {
            c.to_ascii_uppercase()
        }
    }));
    var
}

/// What [`Args::validate_json`] accepts for a type, for error messages.
fn json_type_rule(ty: ArgType) -> &'static str {
    match ty {
        ArgType::Int => "an int: give an integer or a string of digits",
        ArgType::Bool => "a bool: give true or false",
        ArgType::String => "a string: give a string, number or boolean",
        ArgType::Enum => "an enum: give one of its values as a string",
    }
}

fn json_type_name(ty: ArgType) -> &'static str {
    match ty {
        ArgType::Int => "integer",
        ArgType::Bool => "boolean",
        ArgType::String | ArgType::Enum => "string",
    }
}

/// The JSON Schema (draft 2020-12 subset) of an argument list, as an MCP
/// tool's `inputSchema`: an object with one property per argument (`string`,
/// `integer`, `boolean`, or `string` with `enum`), the `required` list and
/// `additionalProperties: false`.
///
/// ```
/// use buttons_spec::ArgDef;
/// let schema = buttons_spec::input_schema(&[ArgDef::parse("env:enum:required:dev|prod")?]);
/// assert_eq!(schema["properties"]["env"]["enum"], serde_json::json!(["dev", "prod"]));
/// assert_eq!(schema["required"], serde_json::json!(["env"]));
/// # Ok::<(), buttons_spec::Error>(())
/// ```
pub fn input_schema(defs: &[ArgDef]) -> serde_json::Value {
    let mut properties = serde_json::Map::new();
    for def in defs {
        let mut prop = serde_json::Map::new();
        prop.insert("type".into(), json_type_name(def.arg_type).into());
        if def.arg_type == ArgType::Enum {
            prop.insert("enum".into(), def.values.clone().into());
        }
        if let Some(description) = def.description.as_deref().filter(|d| !d.is_empty()) {
            prop.insert("description".into(), description.into());
        }
        properties.insert(def.name.clone(), prop.into());
    }
    let required: Vec<&str> = defs
        .iter()
        .filter(|d| d.required)
        .map(|d| d.name.as_str())
        .collect();
    serde_json::json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// Parses a boolean the way presses accept it: `true`/`false`/`1`/`0`, any case.
pub fn parse_bool(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("true") || value == "1" {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") || value == "0" {
        Some(false)
    } else {
        None
    }
}

fn validate_arg_name(name: &str) -> std::result::Result<(), &'static str> {
    let mut chars = name.chars();
    match chars.next() {
        None => Err("the argument name is empty"),
        Some(c) if !c.is_ascii_alphabetic() => Err("argument names start with a letter"),
        Some(_) if chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') => Ok(()),
        Some(_) => Err("argument names use only letters, digits, '_' and '-'"),
    }
}

/// Checks a whole list of definitions: each name valid, no duplicates, and no
/// two names mapping to the same environment variable (`a-b` and `a_b`).
pub fn validate_arg_defs(defs: &[ArgDef]) -> Result<()> {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for def in defs {
        validate_arg_name(&def.name).map_err(|reason| Error::InvalidArgDef {
            definition: def.to_string(),
            reason: reason.to_owned(),
        })?;
        let var = def.env_var();
        if let Some(first) = seen.insert(var.clone(), &def.name) {
            return Err(if first == def.name {
                Error::DuplicateArg {
                    name: def.name.clone(),
                }
            } else {
                Error::ArgEnvCollision {
                    first: first.to_owned(),
                    second: def.name.clone(),
                    env_var: var,
                }
            });
        }
    }
    Ok(())
}

/// Splits a press-time `key=value` on the first `=` (values may contain `=`).
///
/// ```
/// assert_eq!(buttons_spec::split_press_arg("q=a=b")?, ("q", "a=b"));
/// # Ok::<(), buttons_spec::Error>(())
/// ```
pub fn split_press_arg(given: &str) -> Result<(&str, &str)> {
    match given.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key, value)),
        _ => Err(Error::MalformedArg {
            given: given.to_owned(),
        }),
    }
}

/// One validated argument value: the text as supplied, and its declared type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgValue {
    raw: String,
    arg_type: ArgType,
}

impl ArgValue {
    /// The value exactly as supplied.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The declared type.
    pub fn arg_type(&self) -> ArgType {
        self.arg_type
    }

    /// The value as a JSON value of its type: `int` as a number, `bool` as
    /// `true`/`false`, anything else as a string.
    pub fn to_json(&self) -> serde_json::Value {
        match self.arg_type {
            ArgType::Int => self
                .raw
                .parse::<i64>()
                .map_or_else(|_| self.raw.clone().into(), serde_json::Value::from),
            ArgType::Bool => parse_bool(&self.raw)
                .map_or_else(|| self.raw.clone().into(), serde_json::Value::from),
            ArgType::String | ArgType::Enum => self.raw.clone().into(),
        }
    }
}

/// Press-time arguments, validated against a button's definitions.
///
/// Exists only once every value has been checked: no undeclared names, every
/// required argument present, every value of its declared type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    values: BTreeMap<String, ArgValue>,
}

impl Args {
    /// Validates supplied `(name, value)` pairs against `defs`.
    ///
    /// Errors: an undeclared or repeated name or a value of the wrong type is
    /// `VALIDATION_ERROR`; a missing required argument is `MISSING_ARG`.
    ///
    /// ```
    /// use buttons_spec::{ArgDef, Args};
    /// let defs = [ArgDef::parse("count:int:required")?];
    /// let args = Args::validate(&defs, [("count", "3")])?;
    /// assert_eq!(args.get("count").unwrap().to_json(), serde_json::json!(3));
    /// assert!(Args::validate(&defs, [("count", "three")]).is_err());
    /// # Ok::<(), buttons_spec::Error>(())
    /// ```
    pub fn validate<K, V>(
        defs: &[ArgDef],
        supplied: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut values = BTreeMap::new();
        for (name, value) in supplied {
            let (name, value) = (name.as_ref(), value.as_ref());
            let Some(def) = defs.iter().find(|d| d.name == name) else {
                return Err(Error::UnknownArg {
                    name: name.to_owned(),
                    declared: defs.iter().map(|d| d.name.clone()).collect(),
                });
            };
            def.check_value(value)?;
            let value = ArgValue {
                raw: value.to_owned(),
                arg_type: def.arg_type,
            };
            if values.insert(name.to_owned(), value).is_some() {
                return Err(Error::RepeatedArg {
                    name: name.to_owned(),
                });
            }
        }
        if let Some(def) = defs
            .iter()
            .find(|d| d.required && !values.contains_key(&d.name))
        {
            return Err(Error::MissingArg {
                name: def.name.clone(),
            });
        }
        Ok(Self { values })
    }

    /// Validates arguments that arrived as JSON values (an MCP tool call, a
    /// REST body), by one rule for every JSON front end:
    ///
    /// | type     | accepts                                                    |
    /// |----------|------------------------------------------------------------|
    /// | `string` | any JSON scalar, as text (`1` is `"1"`, `true` is `"true"`) |
    /// | `int`    | a JSON integer, or a string of an integer (`"3"`)          |
    /// | `bool`   | `true`/`false`, or the strings `"true"`/`"false"`          |
    /// | `enum`   | a string or number whose text is one of the values         |
    ///
    /// Anything else (an array, an object, `1.5` for an `int`, `1` for a
    /// `bool`) is [`Error::InvalidArgValue`] naming the argument and its
    /// type. `null` counts as absent. Then the same checks as
    /// [`Args::validate`].
    ///
    /// ```
    /// use buttons_spec::{ArgDef, Args};
    /// let defs = [ArgDef::parse("n:int:required")?, ArgDef::parse("s:string:optional")?];
    /// let json = serde_json::json!({"n": "3", "s": 1});
    /// let args = Args::validate_json(&defs, json.as_object().unwrap())?;
    /// assert_eq!(args.get("n").unwrap().as_str(), "3");
    /// assert_eq!(args.get("s").unwrap().as_str(), "1");
    /// assert!(Args::validate_json(&defs, serde_json::json!({"n": "x"}).as_object().unwrap()).is_err());
    /// # Ok::<(), buttons_spec::Error>(())
    /// ```
    pub fn validate_json(
        defs: &[ArgDef],
        supplied: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self> {
        use serde_json::Value;
        let mut pairs = Vec::with_capacity(supplied.len());
        for (name, value) in supplied {
            let expected = defs.iter().find(|d| &d.name == name).map(|d| d.arg_type);
            let scalar_text = match value {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                Value::Null | Value::Array(_) | Value::Object(_) => None,
            };
            let text = match (expected, value) {
                (_, Value::Null) => continue,
                // An undeclared name: Args::validate names the declared ones.
                (None, other) => scalar_text.unwrap_or_else(|| other.to_string()),
                (Some(ArgType::String | ArgType::Enum), _) if scalar_text.is_some() => {
                    scalar_text.unwrap_or_default()
                }
                (Some(ArgType::Int), Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
                (Some(ArgType::Int), Value::String(s)) => s.clone(),
                (Some(ArgType::Bool), Value::Bool(b)) => b.to_string(),
                (Some(ArgType::Bool), Value::String(s))
                    if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") =>
                {
                    s.to_ascii_lowercase()
                }
                (Some(ty), other) => {
                    return Err(Error::InvalidArgValue {
                        name: name.clone(),
                        value: other.to_string(),
                        reason: format!("argument {name:?} is {}", json_type_rule(ty)),
                    });
                }
            };
            pairs.push((name.as_str(), text));
        }
        Self::validate(defs, pairs)
    }

    /// The value of an argument, if supplied.
    pub fn get(&self, name: &str) -> Option<&ArgValue> {
        self.values.get(name)
    }

    /// Whether no argument was supplied.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The supplied arguments in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ArgValue)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The `BUTTONS_ARG_*` environment pairs for these arguments, in name order.
    pub fn env_vars(&self) -> impl Iterator<Item = (String, &str)> {
        self.values
            .iter()
            .map(|(k, v)| (arg_env_var(k), v.as_str()))
    }

    /// The supplied values as a plain name -> text map (what run records keep).
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.values
            .iter()
            .map(|(k, v)| (k.clone(), v.raw.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_definitions() {
        let d = ArgDef::parse("name:string:required").unwrap();
        assert_eq!(
            (d.name.as_str(), d.arg_type, d.required),
            ("name", ArgType::String, true)
        );
        assert!(!ArgDef::parse("n:int:optional").unwrap().required);
    }

    #[test]
    fn refuses_bad_definitions() {
        for bad in [
            "name",
            "name:string",
            ":string:required",
            "name:float:required",
            "name:string:maybe",
            "name:string:required:a|b",
            "name:enum:required",
            "name:enum:required:a",
            "name:enum:required:a|a",
            "name:enum:required:a||b",
            "1name:string:required",
            "na me:string:required",
            "a:b:c:d:e",
        ] {
            assert!(ArgDef::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn detects_duplicates_and_collisions() {
        let a = ArgDef::parse("a-b:string:required").unwrap();
        let b = ArgDef::parse("a_b:string:required").unwrap();
        assert!(matches!(
            validate_arg_defs(&[a.clone(), b]),
            Err(Error::ArgEnvCollision { .. })
        ));
        assert!(matches!(
            validate_arg_defs(&[a.clone(), a]),
            Err(Error::DuplicateArg { .. })
        ));
    }

    #[test]
    fn validates_values() {
        let defs = [
            ArgDef::parse("n:int:required").unwrap(),
            ArgDef::parse("flag:bool:optional").unwrap(),
            ArgDef::parse("env:enum:optional:dev|prod").unwrap(),
        ];
        assert!(Args::validate(&defs, [("n", "-5"), ("flag", "TRUE"), ("env", "prod")]).is_ok());
        let e = Args::validate(&defs, [("flag", "1")]).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::MissingArg);
        for (k, v) in [("n", "1.5"), ("flag", "yes"), ("env", "staging")] {
            let e = Args::validate(&defs, [("n", "1"), (k, v)]).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::ValidationError, "{k}={v}");
        }
        let e = Args::validate(&defs, [("n", "1"), ("other", "x")]).unwrap_err();
        assert!(e.hint().unwrap().contains("n, flag, env"));
        let e = Args::validate(&defs, [("n", "1"), ("n", "2")]).unwrap_err();
        assert!(matches!(e, Error::RepeatedArg { .. }));
    }

    #[test]
    fn json_values() {
        let defs = [
            ArgDef::parse("n:int:required").unwrap(),
            ArgDef::parse("b:bool:optional").unwrap(),
            ArgDef::parse("s:string:optional").unwrap(),
        ];
        let ok = |v: serde_json::Value| Args::validate_json(&defs, v.as_object().unwrap());
        // `null` counts as absent, even for a name the button does not declare.
        assert!(ok(serde_json::json!({"n": 1, "unused": null})).is_ok());
        let args = ok(serde_json::json!({"n": -4, "b": false, "s": "x"})).unwrap();
        assert_eq!(args.get("n").unwrap().to_json(), serde_json::json!(-4));
        assert_eq!(args.get("b").unwrap().as_str(), "false");
        assert!(ok(serde_json::json!({"n": "7"})).is_ok());
        // A string takes any scalar as text; a bool its two strings.
        let args = ok(serde_json::json!({"n": "7", "s": 1, "b": "TRUE"})).unwrap();
        assert_eq!(args.get("s").unwrap().as_str(), "1");
        assert_eq!(args.get("b").unwrap().as_str(), "true");
        let args = ok(serde_json::json!({"n": 1, "s": false})).unwrap();
        assert_eq!(args.get("s").unwrap().as_str(), "false");
        let e = ok(serde_json::json!({"n": 1, "b": 1})).unwrap_err();
        assert!(e.to_string().contains("\"b\" is a bool"), "{e}");
        assert!(
            ok(serde_json::json!({"n": null})).unwrap_err().code() == crate::ErrorCode::MissingArg
        );
        for bad in [
            serde_json::json!({"n": 1.5}),
            serde_json::json!({"n": true}),
            serde_json::json!({"n": [1]}),
            serde_json::json!({"n": 1, "b": 1}),
            serde_json::json!({"n": 1, "b": "1"}),
            serde_json::json!({"n": 1, "b": "yes"}),
            serde_json::json!({"n": 1, "s": [5]}),
            serde_json::json!({"n": 1, "s": {"a": 1}}),
            serde_json::json!({"n": 1, "zzz": "x"}),
        ] {
            let e = ok(bad.clone()).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::ValidationError, "{bad}");
        }
    }

    #[test]
    fn schema() {
        let defs = [
            ArgDef::parse("n:int:required").unwrap(),
            ArgDef::parse("b:bool:optional").unwrap(),
        ];
        let s = input_schema(&defs);
        assert_eq!(s["properties"]["n"]["type"], "integer");
        assert_eq!(s["properties"]["b"]["type"], "boolean");
        assert_eq!(s["required"], serde_json::json!(["n"]));
        assert_eq!(s["additionalProperties"], false);
    }

    #[test]
    fn env_var_mapping() {
        assert_eq!(arg_env_var("my-arg_x"), "BUTTONS_ARG_MY_ARG_X");
    }

    #[test]
    fn typed_json() {
        let defs = [
            ArgDef::parse("b:bool:required").unwrap(),
            ArgDef::parse("s:string:optional").unwrap(),
        ];
        let args = Args::validate(&defs, [("b", "0"), ("s", "12")]).unwrap();
        assert_eq!(args.get("b").unwrap().to_json(), serde_json::json!(false));
        assert_eq!(args.get("s").unwrap().to_json(), serde_json::json!("12"));
    }
}
