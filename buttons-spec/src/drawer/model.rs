//! The `drawer.json` shapes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Timestamp;

/// The `schema_version` new drawers are written with.
pub const DRAWER_SCHEMA_VERSION: u32 = 2;

fn is_false(b: &bool) -> bool {
    !*b
}

/// A drawer: `drawers/NAME/drawer.json`.
///
/// Fields this build does not know are kept in [`Drawer::extra`] and written
/// back unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Drawer {
    /// 1 (or absent) for the Go tool's first format, 2 for the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<u32>,
    /// The drawer's name (its folder's name).
    #[serde(default)]
    pub name: String,
    /// `action` or `flow`; absent in v1 files (an action drawer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawer_kind: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The drawer's own version label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The inputs a press takes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<DrawerInput>,
    /// The steps of an action drawer, in order.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// The stages of a flow drawer (for an external agent runtime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<Value>,
    /// The drawer run after a failed press.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_error: Option<OnError>,
    /// A JSON Schema of the drawer's output (its `return` map).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// The output when used as a sub-drawer: `field: "${expr}" | literal`.
    #[serde(default, rename = "return", skip_serializing_if = "Option::is_none")]
    pub returns: Option<Map<String, Value>>,
    /// Triggers (kept, used by a later issue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggers: Option<Value>,
    /// Whether `buttons mcp` offers the drawer as a tool (this project's
    /// addition, named as `button.json`'s; written only when true).
    #[serde(default, skip_serializing_if = "is_false")]
    pub mcp_enabled: bool,
    /// When the drawer was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// When the drawer was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// Fields this build does not know, kept for a round trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a drawer is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrawerKind {
    /// Steps pressed in order (v1, or v2 `action`).
    Action,
    /// Stages for an external agent runtime: never pressed here.
    Flow,
    /// A kind this build does not know.
    Unknown(String),
}

impl Drawer {
    /// A new, empty action drawer as `drawer create` writes it.
    pub fn new(name: &str, kind: DrawerKind, now: Timestamp) -> Self {
        let (kind_text, flow) = match kind {
            DrawerKind::Flow => ("flow", Some(serde_json::json!({"stages": []}))),
            _ => ("action", None),
        };
        Self {
            schema_version: Some(DRAWER_SCHEMA_VERSION),
            name: name.to_owned(),
            drawer_kind: Some(kind_text.to_owned()),
            version: Some("1".to_owned()),
            flow,
            created_at: Some(now),
            updated_at: Some(now),
            ..Self::default()
        }
    }

    /// Parses `drawer.json`.
    pub fn from_json(bytes: &[u8]) -> serde_json::Result<Self> {
        serde_json::from_slice(bytes)
    }

    /// The file's text (pretty, with a final newline).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a drawer always serializes");
        text.push('\n');
        text
    }

    /// The drawer's kind: no `drawer_kind` is a v1 action drawer.
    pub fn kind(&self) -> DrawerKind {
        match self.drawer_kind.as_deref() {
            None | Some("action") => DrawerKind::Action,
            Some("flow") => DrawerKind::Flow,
            Some(other) => DrawerKind::Unknown(other.to_owned()),
        }
    }

    /// The input named `name`.
    pub fn input(&self, name: &str) -> Option<&DrawerInput> {
        self.inputs.iter().find(|i| i.name == name)
    }

    /// The JSON Schema of the inputs, as an MCP tool's `inputSchema`: one
    /// property per input (`string`, `integer`, `boolean`, or `string` with
    /// `enum`; an unknown type is left untyped), its description (a secret
    /// input says so), its `default`; `required` lists the required inputs
    /// without a default; `additionalProperties: false`.
    pub fn input_schema(&self) -> Value {
        let mut properties = Map::new();
        for input in &self.inputs {
            let mut prop = Map::new();
            match input.parsed_type() {
                Some(InputType::String) => {
                    prop.insert("type".into(), "string".into());
                }
                Some(InputType::Int) => {
                    prop.insert("type".into(), "integer".into());
                }
                Some(InputType::Bool) => {
                    prop.insert("type".into(), "boolean".into());
                }
                Some(InputType::Enum) => {
                    prop.insert("type".into(), "string".into());
                    prop.insert("enum".into(), input.values.clone().into());
                }
                None => {}
            }
            let mut description = input.description.trim().to_owned();
            if input.secret {
                if !description.is_empty() {
                    description.push(' ');
                }
                description.push_str("(secret: masked in run records)");
            }
            if !description.is_empty() {
                prop.insert("description".into(), description.into());
            }
            if let Some(default) = &input.default {
                prop.insert("default".into(), default.clone());
            }
            properties.insert(input.name.clone(), prop.into());
        }
        let required: Vec<&str> = self
            .inputs
            .iter()
            .filter(|i| i.required && i.default.is_none())
            .map(|i| i.name.as_str())
            .collect();
        serde_json::json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        })
    }

    /// `a → b → c`: the top-level step ids in order.
    pub fn topology(&self) -> String {
        self.steps
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>()
            .join(" → ")
    }

    /// The step with id `id` at top level.
    pub fn step_mut(&mut self, id: &str) -> Option<&mut Step> {
        self.steps.iter_mut().find(|s| s.id == id)
    }
}

/// The type of a drawer input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    /// Any JSON value (shown as text).
    String,
    /// An integer.
    Int,
    /// `true` / `false`.
    Bool,
    /// One of `values`.
    Enum,
}

impl InputType {
    /// Parses `string|int|bool|enum` (and the JSON Schema spellings
    /// `integer`, `boolean`); empty is `string`.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "" | "string" => Self::String,
            "int" | "integer" | "number" => Self::Int,
            "bool" | "boolean" => Self::Bool,
            "enum" => Self::Enum,
            _ => return None,
        })
    }
}

/// One entry of `inputs[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DrawerInput {
    /// The input's name (`${inputs.NAME}`).
    pub name: String,
    /// `string|int|bool|enum` (see [`InputType::parse`]).
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub input_type: String,
    /// Whether a press must give it (`MISSING_INPUT`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Free text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The allowed values of an `enum` input.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// A secret: its value is `[redacted]` in every record and dry run.
    #[serde(default, skip_serializing_if = "is_false")]
    pub secret: bool,
    /// The value when a press gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DrawerInput {
    /// The parsed type (`None` for an unknown one).
    pub fn parsed_type(&self) -> Option<InputType> {
        InputType::parse(&self.input_type)
    }
}

/// The kinds of step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// Press a button.
    Button,
    /// Press a sub-drawer.
    Drawer,
    /// `for_each`, `switch`, `aggregate` or `wait` (the kind as written).
    ControlFlow(String),
    /// `split`, `merge`, `transform`, `batch`: known, never pressed.
    Unimplemented(String),
    /// Anything else.
    Unknown(String),
}

/// One entry of `steps[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The step's id (`${ID.output}`); may contain `-`.
    #[serde(default)]
    pub id: String,
    /// The step's kind; absent means `button`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The button a `button` step presses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button: Option<String>,
    /// The drawer a `drawer` step presses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawer: Option<String>,
    /// Arguments (button) or inputs (drawer), values may hold `${…}`.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub args: Map<String, Value>,
    /// What a failure of this step does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<OnFailure>,
    /// Overrides the button's timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// `for_each`: the array to iterate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over: Option<Value>,
    /// `for_each`: the loop variable (default `item`).
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    pub as_name: Option<String>,
    /// `for_each`: `stop` or `continue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_item_failure: Option<String>,
    /// `for_each`: iterations at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
    /// Nested steps (`for_each`, the default of `switch`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// `switch` cases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<Case>,
    /// `aggregate`: the array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Value>,
    /// `aggregate`: the expression evaluated per `item`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pluck: Option<Value>,
    /// `wait`: `200ms`, `2m30s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Value>,
    /// `wait`: an RFC 3339 time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Value>,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Step {
    /// The step's kind (`button` when absent).
    pub fn step_kind(&self) -> StepKind {
        match self.kind.as_deref().unwrap_or("button") {
            "" | "button" => StepKind::Button,
            "drawer" => StepKind::Drawer,
            k @ ("for_each" | "switch" | "aggregate" | "wait") => {
                StepKind::ControlFlow(k.to_owned())
            }
            k @ ("split" | "merge" | "transform" | "batch") => {
                StepKind::Unimplemented(k.to_owned())
            }
            k => StepKind::Unknown(k.to_owned()),
        }
    }

    /// The kind as written (`button` when absent).
    pub fn kind_str(&self) -> &str {
        match self.kind.as_deref() {
            None | Some("") => "button",
            Some(k) => k,
        }
    }
}

/// One `switch` case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// The case's id.
    #[serde(default)]
    pub id: String,
    /// A boolean expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Value>,
    /// The steps it runs.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a failed step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureAction {
    /// End the press (the default).
    Stop,
    /// Record the failure and go on.
    Continue,
    /// Try again, up to `max_attempts`.
    Retry,
}

/// A step's `on_failure`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OnFailure {
    /// `stop`, `continue` or `retry`.
    #[serde(default)]
    pub action: String,
    /// Attempts in all (retry), default 3.
    #[serde(default, alias = "attempts", skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// The wait between attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Backoff>,
    /// Retry only these error codes (all when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retry_on: Vec<String>,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl OnFailure {
    /// The parsed action (`None` for an unknown one; empty is `stop`).
    pub fn parsed_action(&self) -> Option<FailureAction> {
        Some(match self.action.as_str() {
            "" | "stop" => FailureAction::Stop,
            "continue" => FailureAction::Continue,
            "retry" => FailureAction::Retry,
            _ => return None,
        })
    }
}

/// The wait between retry attempts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Backoff {
    /// `exponential` (default) or `fixed`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub strategy: String,
    /// The first wait, default 200 ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_ms: Option<u64>,
    /// The growth factor of `exponential`, default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// The longest wait, default 30 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<u64>,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Backoff {
    /// The wait before attempt `attempt + 1` (`attempt` counts from 1).
    pub fn delay_ms(&self, attempt: u32) -> u64 {
        let initial = self.initial_ms.unwrap_or(200);
        let max = self.max_ms.unwrap_or(30_000);
        if self.strategy == "fixed" {
            return initial.min(max);
        }
        let factor = self.factor.unwrap_or(2.0).max(1.0);
        let exp = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let ms = (initial as f64) * factor.powi(exp);
        if ms.is_finite() && ms < max as f64 {
            ms as u64
        } else {
            max
        }
    }
}

/// The drawer's `on_error` handler.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OnError {
    /// The handler drawer.
    #[serde(default)]
    pub drawer: String,
    /// Extra inputs for it (may hold `${…}`).
    #[serde(default, rename = "with", skip_serializing_if = "Map::is_empty")]
    pub with: Map<String, Value>,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_file_round_trips_unknown_fields() {
        let text = r#"{"name":"d","steps":[{"id":"a","button":"b","args":{"x":"${inputs.x}"},"future":1}],"go_only":{"k":[1,2]}}"#;
        let d = Drawer::from_json(text.as_bytes()).unwrap();
        assert_eq!(d.kind(), DrawerKind::Action);
        assert_eq!(d.steps[0].step_kind(), StepKind::Button);
        let back: Value = serde_json::from_str(&d.to_json()).unwrap();
        let orig: Value = serde_json::from_str(text).unwrap();
        assert_eq!(back, orig);
    }

    #[test]
    fn numbers_in_unknown_fields_survive_every_save() {
        // Found by the drawer_json fuzz target: without exact float parsing
        // a big number changed a little on each load and save.
        let text = r#"{"name":"d","steps":[],"big":1111111111111111111111111111111113,"f":0.30000000000000004}"#;
        let once = Drawer::from_json(text.as_bytes()).unwrap().to_json();
        let twice = Drawer::from_json(once.as_bytes()).unwrap().to_json();
        assert_eq!(once, twice);
        assert!(once.contains("0.30000000000000004"), "{once}");
    }

    #[test]
    fn backoff_grows_and_caps() {
        let b = Backoff {
            initial_ms: Some(100),
            max_ms: Some(350),
            ..Backoff::default()
        };
        assert_eq!(
            [b.delay_ms(1), b.delay_ms(2), b.delay_ms(3)],
            [100, 200, 350]
        );
    }
}
