//! The static check of a drawer (§6): errors and warnings, each with a fix.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::model::{Drawer, DrawerKind, InputType, Step, StepKind};
use super::refs::{Segment, check_syntax, references, scan};
use crate::{ArgType, Button};

/// What the validator needs from the data directory: other buttons and
/// drawers by name (`buttons-store` implements it; spec does no I/O).
pub trait DrawerLookup {
    /// The button named `name`, if any.
    fn button(&self, name: &str) -> Option<Button>;
    /// The drawer named `name`, if any.
    fn drawer(&self, name: &str) -> Option<Drawer>;
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The drawer cannot be pressed.
    Error,
    /// Worth fixing; pressing still works.
    Warning,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `error` or `warning`.
    pub severity: Severity,
    /// The step it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_id: Option<String>,
    /// The argument it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arg: Option<String>,
    /// The reference it is about.
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub remediation: String,
}

/// The validator's verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Validation {
    /// No errors.
    pub ok: bool,
    /// Problems that block a press.
    pub errors: Vec<Finding>,
    /// Problems that do not.
    pub warnings: Vec<Finding>,
}

struct Checker<'a> {
    drawer: &'a Drawer,
    lookup: &'a dyn DrawerLookup,
    out: Validation,
}

impl Checker<'_> {
    fn push(
        &mut self,
        severity: Severity,
        step: Option<&str>,
        arg: Option<&str>,
        reference: Option<&str>,
        message: String,
        remediation: impl Into<String>,
    ) {
        let f = Finding {
            severity,
            step_id: step.map(str::to_owned),
            arg: arg.map(str::to_owned),
            reference: reference.map(str::to_owned),
            message,
            remediation: remediation.into(),
        };
        match severity {
            Severity::Error => self.out.errors.push(f),
            Severity::Warning => self.out.warnings.push(f),
        }
    }

    fn err(&mut self, step: Option<&str>, message: String, fix: impl Into<String>) {
        self.push(Severity::Error, step, None, None, message, fix);
    }
}

/// Validates `drawer`: schema version and kind, step ids, the buttons and
/// drawers steps name, required fields of each kind, every reference (known
/// roots, declared inputs, earlier steps, fields of an upstream button's
/// `output_schema`), type compatibility of whole references, and cycles
/// through sub-drawers and `on_error` handlers.
pub fn validate_drawer(drawer: &Drawer, lookup: &dyn DrawerLookup) -> Validation {
    let mut c = Checker {
        drawer,
        lookup,
        out: Validation::default(),
    };
    match drawer.schema_version {
        None | Some(1 | 2) => {}
        Some(v) => c.err(
            None,
            format!("schema_version {v} is not supported"),
            "set schema_version to 2",
        ),
    }
    if let DrawerKind::Unknown(k) = drawer.kind() {
        c.err(
            None,
            format!("unknown drawer_kind {k:?}"),
            "set drawer_kind to \"action\" or \"flow\"",
        );
    }
    for input in &drawer.inputs {
        if input.parsed_type().is_none() {
            c.err(
                None,
                format!(
                    "input {:?} has unknown type {:?}",
                    input.name, input.input_type
                ),
                "use string, int, bool or enum",
            );
        }
    }
    if drawer.kind() == DrawerKind::Flow {
        if drawer.flow.is_none() {
            c.err(
                None,
                "a flow drawer has no `flow`".into(),
                "add a flow with `drawer NAME stage add ID`",
            );
        }
    } else {
        let mut seen = BTreeSet::new();
        let mut done: Vec<&Step> = Vec::new();
        check_steps(&mut c, &drawer.steps, &mut seen, &mut done, &[]);
        if let Some(ret) = &drawer.returns {
            let known: Vec<&Step> = drawer.steps.iter().collect();
            for v in ret.values() {
                check_refs(&mut c, None, None, v, &known, &[]);
            }
        }
        // The handler's `with` is resolved against the failed run's context:
        // the same roots as `return` (inputs, env, the drawer's steps).
        if let Some(h) = &drawer.on_error {
            let known: Vec<&Step> = drawer.steps.iter().collect();
            for (arg, v) in &h.with {
                check_refs(&mut c, None, Some(arg), v, &known, &[]);
            }
        }
    }
    if let Some(h) = &drawer.on_error
        && lookup.drawer(&h.drawer).is_none()
        && h.drawer != drawer.name
    {
        c.err(
            None,
            format!(
                "on_error names the drawer {:?}, which does not exist",
                h.drawer
            ),
            "create that drawer or fix `on_error.drawer`",
        );
    }
    if let Some(cycle) = find_cycle(drawer, lookup) {
        c.err(
            None,
            format!("drawer cycle: {}", cycle.join(" → ")),
            "remove the sub-drawer step or on_error handler that leads back",
        );
    }
    c.out.ok = c.out.errors.is_empty();
    c.out
}

fn check_steps<'a>(
    c: &mut Checker<'_>,
    steps: &'a [Step],
    seen: &mut BTreeSet<String>,
    done: &mut Vec<&'a Step>,
    loop_vars: &[String],
) {
    for step in steps {
        let id = step.id.as_str();
        if id.is_empty() {
            c.err(
                None,
                "a step has no id".into(),
                "give every step a unique `id`",
            );
        } else if !seen.insert(id.to_owned()) {
            c.err(
                Some(id),
                format!("step id {id:?} is used twice"),
                "rename one of the steps",
            );
        }
        let sid = Some(id);
        match step.step_kind() {
            StepKind::Button => match step.button.as_deref() {
                None | Some("") => {
                    c.err(sid, "a button step names no button".into(), "set `button`")
                }
                Some(name) => match c.lookup.button(name) {
                    None => c.err(
                        sid,
                        format!("button {name:?} does not exist"),
                        "create it with `buttons create` or fix the step's `button`",
                    ),
                    Some(button) => check_button_args(c, step, &button, done, loop_vars),
                },
            },
            StepKind::Drawer => match step.drawer.as_deref() {
                None | Some("") => {
                    c.err(sid, "a drawer step names no drawer".into(), "set `drawer`")
                }
                Some(name) if name == c.drawer.name => {} // reported as a cycle
                Some(name) => match c.lookup.drawer(name) {
                    None => c.err(
                        sid,
                        format!("drawer {name:?} does not exist"),
                        "create it with `buttons drawer create` or fix the step's `drawer`",
                    ),
                    Some(d) if d.kind() == DrawerKind::Flow => c.err(
                        sid,
                        format!("{name:?} is a flow drawer, which cannot be a step"),
                        "use an action drawer",
                    ),
                    Some(_) => {}
                },
            },
            StepKind::ControlFlow(kind) => {
                let missing: &[(&str, bool)] = match kind.as_str() {
                    "for_each" => &[("over", step.over.is_none())],
                    "aggregate" => &[
                        ("from", step.from.is_none()),
                        ("pluck", step.pluck.is_none()),
                    ],
                    "wait" => &[(
                        "duration|until",
                        step.duration.is_none() && step.until.is_none(),
                    )],
                    _ => &[],
                };
                for (field, absent) in missing {
                    if *absent {
                        c.err(
                            sid,
                            format!("a {kind} step needs `{field}`"),
                            format!("set `{field}`"),
                        );
                    }
                }
                check_control_fields(c, step, &kind);
                if kind == "switch" {
                    for case in &step.cases {
                        if case.when.is_none() {
                            c.err(
                                sid,
                                format!("case {:?} has no `when`", case.id),
                                "set `when` to a bool expression",
                            );
                        }
                    }
                }
                for v in [&step.over, &step.from, &step.duration, &step.until]
                    .into_iter()
                    .flatten()
                {
                    check_refs(c, sid, None, v, done, loop_vars);
                }
                for case in &step.cases {
                    if let Some(w) = &case.when {
                        check_refs(c, sid, None, w, done, loop_vars);
                    }
                }
                let mut inner_vars = loop_vars.to_vec();
                if kind == "for_each" {
                    inner_vars.push(step.as_name.clone().unwrap_or_else(|| "item".to_owned()));
                }
                if kind == "aggregate" {
                    inner_vars.push("item".to_owned());
                }
                if let Some(p) = &step.pluck {
                    check_refs(c, sid, None, p, done, &inner_vars);
                }
                let before = done.len();
                check_steps(c, &step.steps, seen, done, &inner_vars);
                for case in &step.cases {
                    check_steps(c, &case.steps, seen, done, &inner_vars);
                }
                done.truncate(before);
            }
            StepKind::Unimplemented(kind) => c.push(
                Severity::Warning,
                sid,
                None,
                None,
                format!(
                    "step kind {kind:?} is not implemented: a press fails KIND_NOT_IMPLEMENTED"
                ),
                "replace it with button, drawer or control-flow steps",
            ),
            StepKind::Unknown(kind) => c.err(
                sid,
                format!("unknown step kind {kind:?}"),
                "use button, drawer, for_each, switch, aggregate or wait",
            ),
        }
        if step.step_kind() == StepKind::Drawer {
            for (arg, v) in &step.args {
                check_refs(c, sid, Some(arg), v, done, loop_vars);
            }
        }
        if let Some(f) = &step.on_failure
            && f.parsed_action().is_none()
        {
            c.err(
                sid,
                format!("unknown on_failure action {:?}", f.action),
                "use stop, continue or retry",
            );
        }
        done.push(step);
    }
}

/// Literal values of control-flow fields: a `wait` duration or time that
/// does not parse, an unknown `on_item_failure`, a zero `parallelism`.
fn check_control_fields(c: &mut Checker<'_>, step: &Step, kind: &str) {
    let sid = Some(step.id.as_str());
    let literal = |v: &Option<Value>| {
        v.as_ref()
            .and_then(Value::as_str)
            .filter(|s| !s.contains('$'))
            .map(str::to_owned)
    };
    if kind == "wait" {
        if let Some(d) = literal(&step.duration)
            && crate::parse_duration(&d).is_err()
        {
            c.err(
                sid,
                format!("`duration` {d:?} is not a duration"),
                "write it as Go does: 200ms, 90s, 2m30s, 1h",
            );
        }
        if let Some(u) = literal(&step.until)
            && u.parse::<crate::Timestamp>().is_err()
        {
            c.err(
                sid,
                format!("`until` {u:?} is not an RFC 3339 time"),
                "write it like 2026-01-02T15:04:05Z",
            );
        }
    }
    if kind == "for_each" {
        if let Some(f) = step.on_item_failure.as_deref()
            && !matches!(f, "stop" | "continue")
        {
            c.err(
                sid,
                format!("unknown on_item_failure {f:?}"),
                "use stop or continue",
            );
        }
        if step.parallelism == Some(0) {
            c.err(
                sid,
                "`parallelism` is 0".into(),
                "set it to 1 (serial) or more",
            );
        }
    }
}

fn check_button_args(
    c: &mut Checker<'_>,
    step: &Step,
    button: &Button,
    done: &[&Step],
    loop_vars: &[String],
) {
    let sid = Some(step.id.as_str());
    for (arg, v) in &step.args {
        let Some(def) = button.args.iter().find(|d| &d.name == arg) else {
            c.push(
                Severity::Error,
                sid,
                Some(arg),
                None,
                format!("button {:?} has no argument {arg:?}", button.name),
                format!(
                    "use one of: {}",
                    button
                        .args
                        .iter()
                        .map(|d| d.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            continue;
        };
        check_refs(c, sid, Some(arg), v, done, loop_vars);
        if let Some(src) = whole_ref_type(c, v, done) {
            let ok = match def.arg_type {
                ArgType::String | ArgType::Enum => true,
                ArgType::Int => src == "integer" || src == "int" || src == "number",
                ArgType::Bool => src == "boolean" || src == "bool",
            };
            if !ok {
                c.push(
                    Severity::Error,
                    sid,
                    Some(arg),
                    v.as_str(),
                    format!(
                        "a {src} value goes into the {} argument {arg:?}",
                        def.arg_type
                    ),
                    "pass a value of the argument's type, or convert it in the expression",
                );
            }
        }
    }
    for def in button.args.iter().filter(|d| d.required) {
        if !step.args.contains_key(&def.name) && c.drawer.input(&def.name).is_none() {
            c.push(
                Severity::Error,
                sid,
                Some(&def.name),
                None,
                format!(
                    "required argument {:?} of {:?} is never set",
                    def.name, button.name
                ),
                format!(
                    "set it (`drawer {} set {}.args.{}=…`) or add a drawer input of that name",
                    c.drawer.name, step.id, def.name
                ),
            );
        }
    }
}

/// The type of a whole-string reference `${inputs.x}` or `${a.output.f}`,
/// when known.
fn whole_ref_type(c: &Checker<'_>, v: &Value, done: &[&Step]) -> Option<String> {
    let s = v.as_str()?;
    let Ok(segs) = scan(s) else { return None };
    let [Segment::Expr(e)] = segs.as_slice() else {
        return None;
    };
    let known = known_roots(done, &[]);
    let refs = references(e, &known);
    let [r] = refs.as_slice() else { return None };
    if e.trim().len() != r.root.len() + r.path.iter().map(|p| p.len() + 1).sum::<usize>()
        && !e.contains("steps")
    {
        return None; // an expression, not a plain path
    }
    if r.root == "inputs" {
        let input = c.drawer.input(r.path.first()?)?;
        return Some(
            match input.parsed_type()? {
                InputType::Int => "int",
                InputType::Bool => "bool",
                InputType::String | InputType::Enum => "string",
            }
            .to_owned(),
        );
    }
    let step = done.iter().find(|s| s.id == r.root)?;
    let [out, field] = r.path.as_slice() else {
        return None;
    };
    if out != "output" {
        return None;
    }
    let button = c.lookup.button(step.button.as_deref()?)?;
    button
        .output_schema?
        .get("properties")?
        .get(field)?
        .get("type")?
        .as_str()
        .map(str::to_owned)
}

fn known_roots(done: &[&Step], loop_vars: &[String]) -> BTreeSet<String> {
    done.iter()
        .map(|s| s.id.clone())
        .chain(loop_vars.iter().cloned())
        .chain(["inputs", "env", "steps", "webhook"].map(str::to_owned))
        .collect()
}

fn check_refs(
    c: &mut Checker<'_>,
    step: Option<&str>,
    arg: Option<&str>,
    v: &Value,
    done: &[&Step],
    loop_vars: &[String],
) {
    match v {
        Value::String(s) => {
            let segs = match scan(s) {
                Ok(segs) => segs,
                Err(e) => {
                    c.push(
                        Severity::Error,
                        step,
                        arg,
                        Some(s),
                        e.to_string(),
                        "close every `${` with `}`",
                    );
                    return;
                }
            };
            let mut all_ids: BTreeSet<String> = BTreeSet::new();
            collect_ids(&c.drawer.steps, &mut all_ids);
            let mut known = known_roots(done, loop_vars);
            known.extend(all_ids.iter().cloned());
            for seg in segs {
                let Segment::Expr(e) = seg else { continue };
                if let Err(err) = check_syntax(&e, &known) {
                    c.push(
                        Severity::Error,
                        step,
                        arg,
                        Some(&e),
                        format!("the expression {e:?} is not valid CEL: {err}"),
                        "fix the expression's syntax",
                    );
                    continue;
                }
                for r in references(&e, &known) {
                    check_ref(
                        c, step, arg, &e, &r.root, &r.path, done, loop_vars, &all_ids,
                    );
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                check_refs(c, step, arg, x, done, loop_vars);
            }
        }
        Value::Object(m) => {
            for x in m.values() {
                check_refs(c, step, arg, x, done, loop_vars);
            }
        }
        _ => {}
    }
}

#[expect(clippy::too_many_arguments, reason = "one finding's whole context")]
fn check_ref(
    c: &mut Checker<'_>,
    step: Option<&str>,
    arg: Option<&str>,
    expr: &str,
    root: &str,
    path: &[String],
    done: &[&Step],
    loop_vars: &[String],
    all_ids: &BTreeSet<String>,
) {
    // `webhook` is the body given with `--webhook-body` (or a trigger): its
    // shape is not known before the press.
    if root == "env" || root == "webhook" || loop_vars.iter().any(|v| v == root) {
        return;
    }
    if root == "inputs" {
        if let Some(name) = path.first()
            && c.drawer.input(name).is_none()
        {
            c.push(
                Severity::Error,
                step,
                arg,
                Some(expr),
                format!("`inputs.{name}` is not a declared input"),
                format!("declare an input named {name:?} or fix the reference"),
            );
        }
        return;
    }
    let Some(upstream) = done.iter().find(|s| s.id == root) else {
        let (message, fix) = if all_ids.contains(root) {
            (
                format!("step {root:?} runs later (or is this step)"),
                "reference only steps that come before".to_owned(),
            )
        } else {
            (
                format!("unknown root {root:?}"),
                "start a reference with inputs, env, webhook, or an earlier step's id".to_owned(),
            )
        };
        c.push(Severity::Error, step, arg, Some(expr), message, fix);
        return;
    };
    if let [out, field, ..] = path
        && out == "output"
        && let Some(bname) = upstream.button.as_deref()
        && let Some(button) = c.lookup.button(bname)
        && let Some(props) = button
            .output_schema
            .as_ref()
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
        && !props.contains_key(field)
    {
        c.push(
            Severity::Error,
            step,
            arg,
            Some(expr),
            format!("button {bname:?} has no output field {field:?} in its output_schema"),
            format!(
                "use one of: {}",
                props.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
    }
}

fn collect_ids(steps: &[Step], out: &mut BTreeSet<String>) {
    for s in steps {
        out.insert(s.id.clone());
        collect_ids(&s.steps, out);
        for case in &s.cases {
            collect_ids(&case.steps, out);
        }
    }
}

fn sub_drawers(steps: &[Step], out: &mut Vec<String>) {
    for s in steps {
        if s.step_kind() == StepKind::Drawer
            && let Some(d) = &s.drawer
        {
            out.push(d.clone());
        }
        sub_drawers(&s.steps, out);
        for case in &s.cases {
            sub_drawers(&case.steps, out);
        }
    }
}

fn edges(d: &Drawer) -> Vec<String> {
    let mut out = Vec::new();
    sub_drawers(&d.steps, &mut out);
    if let Some(h) = &d.on_error {
        out.push(h.drawer.clone());
    }
    out
}

/// A path from `drawer` back to itself through sub-drawer steps and
/// `on_error` handlers, if any.
fn find_cycle(drawer: &Drawer, lookup: &dyn DrawerLookup) -> Option<Vec<String>> {
    let mut path = vec![drawer.name.clone()];
    let mut visited = BTreeSet::new();
    fn dfs(
        name: &str,
        current: &Drawer,
        lookup: &dyn DrawerLookup,
        path: &mut Vec<String>,
        visited: &mut BTreeSet<String>,
    ) -> bool {
        for next in edges(current) {
            if next == name {
                path.push(next);
                return true;
            }
            if !visited.insert(next.clone()) || path.len() > 64 {
                continue;
            }
            let Some(d) = lookup.drawer(&next) else {
                continue;
            };
            path.push(next);
            if dfs(name, &d, lookup, path, visited) {
                return true;
            }
            path.pop();
        }
        false
    }
    dfs(&drawer.name, drawer, lookup, &mut path, &mut visited).then_some(path)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{ArgDef, ButtonName, Timestamp};

    #[derive(Default)]
    struct Fake {
        buttons: BTreeMap<String, Button>,
        drawers: BTreeMap<String, Drawer>,
    }

    impl DrawerLookup for Fake {
        fn button(&self, name: &str) -> Option<Button> {
            self.buttons.get(name).cloned()
        }
        fn drawer(&self, name: &str) -> Option<Drawer> {
            self.drawers.get(name).cloned()
        }
    }

    fn drawer(json: Value) -> Drawer {
        serde_json::from_value(json).unwrap()
    }

    fn fake() -> Fake {
        let mut f = Fake::default();
        let mut b = Button::new(&ButtonName::new("get").unwrap(), Timestamp::UNIX_EPOCH);
        b.args.push(ArgDef::parse("count:int:required").unwrap());
        b.output_schema = Some(serde_json::json!({"properties": {"v": {"type": "string"}}}));
        f.buttons.insert("get".into(), b);
        f
    }

    #[test]
    fn finds_reference_and_type_errors() {
        let d = drawer(serde_json::json!({
            "name": "d",
            "inputs": [{"name": "word", "type": "string"}],
            "steps": [
                {"id": "a", "button": "get", "args": {"count": "${inputs.word}"}},
                {"id": "b", "button": "get", "args": {"count": "${a.output.nope}", "extra": 1}},
                {"id": "c", "button": "get", "args": {"count": "${later.output}"}},
                {"id": "later", "button": "missing"},
                {"id": "a", "button": "get", "args": {"count": "${a.output.v}"}}
            ]
        }));
        let v = validate_drawer(&d, &fake());
        assert!(!v.ok);
        let msgs: Vec<&str> = v.errors.iter().map(|e| e.message.as_str()).collect();
        let has = |s: &str| msgs.iter().any(|m| m.contains(s));
        assert!(has("a string value goes into the int argument"), "{msgs:?}");
        assert!(has("no output field \"nope\""), "{msgs:?}");
        assert!(has("has no argument \"extra\""), "{msgs:?}");
        assert!(has("runs later"), "{msgs:?}");
        assert!(has("\"missing\" does not exist"), "{msgs:?}");
        assert!(has("used twice"), "{msgs:?}");
        assert!(has("a string value goes into the int argument \"count\""));
        assert!(v.errors.iter().all(|e| !e.remediation.is_empty()));
    }

    #[test]
    fn finds_cycles_through_sub_drawers_and_on_error() {
        let mut f = fake();
        f.drawers.insert(
            "b".into(),
            drawer(serde_json::json!({"name": "b", "steps": [], "on_error": {"drawer": "a"}})),
        );
        let a = drawer(
            serde_json::json!({"name": "a", "steps": [{"id": "x", "kind": "drawer", "drawer": "b"}]}),
        );
        f.drawers.insert("a".into(), a.clone());
        let v = validate_drawer(&a, &f);
        assert!(
            v.errors
                .iter()
                .any(|e| e.message == "drawer cycle: a → b → a"),
            "{v:?}"
        );
        let me = drawer(
            serde_json::json!({"name": "me", "steps": [{"id": "x", "kind": "drawer", "drawer": "me"}]}),
        );
        assert!(!validate_drawer(&me, &f).ok);
    }

    #[test]
    fn on_error_with_references_are_checked() {
        let mut f = fake();
        f.drawers.insert(
            "h".into(),
            drawer(serde_json::json!({"name": "h", "steps": []})),
        );
        let d = drawer(serde_json::json!({
            "name": "d",
            "steps": [{"id": "a", "button": "get", "args": {"count": 1}}],
            "on_error": {"drawer": "h", "with": {
                "ok": "${a.output.v}", "bad": "${nosuch.output}", "inp": "${inputs.missing}"
            }}
        }));
        let v = validate_drawer(&d, &f);
        let msgs: Vec<(&str, &str)> = v
            .errors
            .iter()
            .map(|e| (e.arg.as_deref().unwrap_or(""), e.message.as_str()))
            .collect();
        assert_eq!(v.errors.len(), 2, "{msgs:?}");
        assert!(
            msgs.iter()
                .any(|(a, m)| *a == "bad" && m.contains("unknown root"))
        );
        assert!(
            msgs.iter()
                .any(|(a, m)| *a == "inp" && m.contains("not a declared input"))
        );
    }

    #[test]
    fn control_flow_literals_are_checked() {
        let d = drawer(serde_json::json!({
            "name": "d",
            "steps": [
                {"id": "w", "kind": "wait", "duration": "soon"},
                {"id": "u", "kind": "wait", "until": "tomorrow"},
                {"id": "ok", "kind": "wait", "duration": "2m30s"},
                {"id": "f", "kind": "for_each", "over": "${inputs.x}", "on_item_failure": "maybe", "parallelism": 0}
            ]
        }));
        let v = validate_drawer(&d, &fake());
        let msgs: Vec<&str> = v.errors.iter().map(|e| e.message.as_str()).collect();
        assert!(
            msgs.iter()
                .any(|m| m.contains("\"soon\" is not a duration")),
            "{msgs:?}"
        );
        assert!(msgs.iter().any(|m| m.contains("RFC 3339")), "{msgs:?}");
        assert!(
            msgs.iter().any(|m| m.contains("on_item_failure")),
            "{msgs:?}"
        );
        assert!(msgs.iter().any(|m| m.contains("parallelism")), "{msgs:?}");
        assert!(!msgs.iter().any(|m| m.contains("2m30s")), "{msgs:?}");
    }

    #[test]
    fn clean_drawer_is_ok() {
        let d = drawer(serde_json::json!({
            "name": "d",
            "inputs": [{"name": "count", "type": "int"}],
            "steps": [{"id": "a-1", "button": "get"}, {"id": "b", "button": "get", "args": {"count": "${inputs.count}"}}],
            "return": {"v": "${a-1.output.v}"}
        }));
        let v = validate_drawer(&d, &fake());
        assert!(v.ok, "{v:?}");
    }
}
