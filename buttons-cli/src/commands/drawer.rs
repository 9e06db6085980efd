//! `buttons drawer …`: authoring, showing, pressing and the logs of drawers.
//!
//! `drawer create|list|ls|schema|rm` and `drawer NAME
//! [summary|add|connect|set|stage add|press|logs]`. The words after
//! `drawer` are parsed here (a verb may follow the drawer's name).

use std::fmt::Write as _;

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use buttons_exec::{DEFAULT_DRAWER_CONCURRENCY, DrawerMode, DrawerOptions, DrawerRequest};
use buttons_spec::{
    ArgType, ButtonName, Drawer, DrawerKind, ErrorCode, FailureAction, Step, Timestamp,
    validate_drawer,
};
use buttons_store::Store;
use clap::Parser;
use serde_json::{Map, Value, json};
use tokio::signal::unix::{SignalKind, signal};

use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply};

#[derive(Debug, Parser)]
#[command(name = "buttons drawer create")]
struct CreateVerb {
    name: String,
    #[arg(long, default_value = "action")]
    kind: String,
    #[arg(short = 'd', long)]
    description: Option<String>,
    /// Show what would be created; change nothing.
    #[arg(long)]
    summary: bool,
}

#[derive(Debug, Parser)]
#[command(name = "buttons drawer rm")]
struct RmVerb {
    name: String,
    #[arg(long)]
    summary: bool,
}

#[derive(Debug, Parser)]
#[command(name = "buttons drawer NAME press")]
struct PressVerb {
    /// Inputs as `key=value` (a value that parses as JSON is JSON).
    inputs: Vec<String>,
    /// A webhook body (JSON, or `@file`): the `webhook` root of references.
    #[arg(long, value_name = "JSON|@FILE")]
    webhook_body: Option<String>,
    /// A dry run: show what would run, change nothing.
    #[arg(long, visible_alias = "dry-run")]
    summary: bool,
    /// `sequential`, or `parallel`: steps as a dependency graph of their
    /// references.
    #[arg(long, default_value = "sequential")]
    mode: String,
    /// Parallel mode: `stop` (cancel the running steps) or `continue`
    /// (independent steps go on, dependents are skipped) on a failed step.
    #[arg(long, value_name = "stop|continue")]
    on_failure: Option<String>,
    /// Parallel mode: steps at once (default 8).
    #[arg(long, value_name = "N")]
    concurrency: Option<usize>,
}

#[derive(Debug, Parser)]
#[command(name = "buttons drawer NAME logs")]
struct LogsVerb {
    #[arg(long)]
    failed: bool,
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

#[derive(Debug, Parser)]
#[command(name = "buttons drawer NAME stage add")]
struct StageVerb {
    id: String,
    #[arg(long)]
    title: Option<String>,
}

fn parse<P: Parser>(name: &str, words: &[String]) -> CliResult<P> {
    P::try_parse_from(std::iter::once(name.to_owned()).chain(words.iter().cloned()))
        .map_err(|e| super::usage_error(&e, format!("see '{name} --help'")))
}

/// Runs `buttons drawer WORDS…`.
pub(crate) fn run(words: &[String], out: Output) -> CliResult<Reply> {
    let words: Vec<String> = words.iter().filter(|w| *w != "--json").cloned().collect();
    let Some(first) = words.first() else {
        return list(out);
    };
    let rest = &words[1..];
    match first.as_str() {
        "create" => create(parse("buttons drawer create", rest)?, out),
        "list" | "ls" => list(out),
        "schema" => schema(out),
        "rm" | "remove" | "delete" => rm(parse("buttons drawer rm", rest)?, out),
        name => {
            let verb = rest.first().map(String::as_str).unwrap_or("summary");
            let args = rest.get(1..).unwrap_or(&[]);
            match verb {
                "summary" | "show" => show(name, out),
                "add" => add(name, args, out),
                "connect" => connect(name, args, out),
                "set" => set(name, args, out),
                "stage" if args.first().is_some_and(|a| a == "add") => stage_add(
                    name,
                    parse("buttons drawer NAME stage add", &args[1..])?,
                    out,
                ),
                "press" => press(name, parse("buttons drawer NAME press", args)?, out),
                "logs" => logs(name, parse("buttons drawer NAME logs", args)?, out),
                "trigger" => super::drawer_trigger::run(name, args, out),
                other => Err(
                    CliError::validation(format!("unknown drawer verb {other:?}"))
                        .with_hint("use summary, add, connect, set, stage add, press or logs"),
                ),
            }
        }
    }
}

fn name_of(name: &str) -> CliResult<ButtonName> {
    super::button_name(name)
}

fn load(store: &Store, name: &str) -> CliResult<Drawer> {
    Ok(store.load_drawer(&name_of(name)?)?)
}

fn create(args: CreateVerb, out: Output) -> CliResult<Reply> {
    let kind = match args.kind.as_str() {
        "action" => DrawerKind::Action,
        "flow" => DrawerKind::Flow,
        other => {
            return Err(
                CliError::validation(format!("unknown drawer kind {other:?}"))
                    .with_hint("use --kind action or --kind flow"),
            );
        }
    };
    let name = name_of(&args.name)?;
    let mut drawer = Drawer::new(name.as_str(), kind, Timestamp::now());
    if let Some(d) = args.description {
        drawer.description = d;
    }
    if args.summary {
        return Ok(Reply::new(json!({"drawer": drawer, "executed": false}))
            .stderr(format!("Would create drawer {name} (nothing changed).")));
    }
    let store = super::open_store(out)?;
    let drawer = store.create_drawer(&drawer)?;
    let dir = store.drawer_dir(&name);
    let mut data = serde_json::to_value(&drawer).expect("serializes");
    data["drawer_dir"] = json!(dir);
    Ok(Reply::new(data).stderr(format!("Created drawer {name} in {dir}.")))
}

fn list(out: Output) -> CliResult<Reply> {
    let store = super::open_store(out)?;
    let mut rows = Vec::new();
    let mut text = String::new();
    for listed in store.list_drawers()? {
        match listed.drawer {
            Ok(d) => {
                let _ = writeln!(text, "{}  {}  {}", d.name, kind_text(&d), d.topology());
                rows.push(json!({
                    "name": d.name, "description": d.description, "drawer_kind": kind_text(&d),
                    "steps": d.steps.len(), "topology": d.topology(),
                }));
            }
            Err(e) => rows.push(json!({"name": listed.name, "error": e.to_string()})),
        }
    }
    if rows.is_empty() {
        text.push_str("No drawers yet: buttons drawer create NAME\n");
    }
    Ok(Reply::new(rows).stdout(text))
}

pub(crate) fn kind_text(d: &Drawer) -> &'static str {
    match d.kind() {
        DrawerKind::Flow => "flow",
        DrawerKind::Action => "action",
        DrawerKind::Unknown(_) => "unknown",
    }
}

fn rm(args: RmVerb, out: Output) -> CliResult<Reply> {
    let store = super::open_store(out)?;
    let name = name_of(&args.name)?;
    if !store.drawer_exists(&name) {
        return Err(buttons_store::Error::DrawerNotFound {
            name: name.to_string(),
        }
        .into());
    }
    if args.summary {
        return Ok(Reply::new(
            json!({"name": name, "deleted": false, "executed": false}),
        ));
    }
    store.delete_drawer(&name)?;
    Ok(
        Reply::new(json!({"name": name, "deleted": true}))
            .stderr(format!("Deleted drawer {name}.")),
    )
}

/// The JSON Schema of `drawer.json`, printed raw (not in the envelope, as
/// drawers.md §7 and the Go tool do), so that it can be saved as a file.
fn schema(out: Output) -> CliResult<Reply> {
    let step = json!({
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "string"}, "kind": {"enum": ["button", "drawer", "for_each", "switch", "aggregate", "wait", "split", "merge", "transform", "batch"]},
            "button": {"type": "string"}, "drawer": {"type": "string"}, "args": {"type": "object"},
            "on_failure": {"type": "object", "properties": {
                "action": {"enum": ["stop", "continue", "retry"]}, "max_attempts": {"type": "integer", "minimum": 1},
                "backoff": {"type": "object", "properties": {"strategy": {"enum": ["exponential", "fixed"]}, "initial_ms": {"type": "integer"}, "factor": {"type": "number"}, "max_ms": {"type": "integer"}}},
                "retry_on": {"type": "array", "items": {"type": "string"}}}},
            "timeout_seconds": {"type": "integer", "minimum": 1},
            "over": {}, "as": {"type": "string"}, "on_item_failure": {"enum": ["stop", "continue"]},
            "parallelism": {"type": "integer", "minimum": 1}, "steps": {"type": "array"}, "cases": {"type": "array"},
            "from": {}, "pluck": {}, "duration": {"type": "string"}, "until": {"type": "string"}
        }
    });
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "drawer.json",
        "type": "object",
        "properties": {
            "schema_version": {"enum": [1, 2]},
            "name": {"type": "string"},
            "drawer_kind": {"enum": ["action", "flow"]},
            "description": {"type": "string"},
            "version": {"type": "string"},
            "inputs": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"}, "type": {"enum": ["string", "int", "bool", "enum"]}, "required": {"type": "boolean"},
                "description": {"type": "string"}, "values": {"type": "array", "items": {"type": "string"}}, "secret": {"type": "boolean"}, "default": {}}}},
            "steps": {"type": "array", "items": step},
            "flow": {"type": "object"},
            "on_error": {"type": "object", "required": ["drawer"], "properties": {"drawer": {"type": "string"}, "with": {"type": "object"}}},
            "output_schema": {"type": "object"},
            "return": {"type": "object"},
            "triggers": {},
            "mcp_enabled": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"}
        }
    });
    let text = serde_json::to_string_pretty(&schema).expect("serializes");
    out.line(&text)?;
    Ok(Reply::streamed())
}

fn show_data(store: &Store, drawer: &Drawer) -> CliResult<Value> {
    let validation = validate_drawer(drawer, store);
    let runs = store.drawer_runs(&name_of(&drawer.name)?, 5)?;
    let mut data = serde_json::to_value(drawer).expect("serializes");
    data["topology"] = json!(drawer.topology());
    data["validation"] = serde_json::to_value(&validation).expect("serializes");
    data["recent_runs"] = Value::Array(runs.iter().map(run_brief).collect());
    Ok(data)
}

fn run_brief(run: &buttons_store::DrawerRun) -> Value {
    let r = &run.record;
    json!({
        "run_id": run.id, "status": r["status"], "started_at": r["started_at"],
        "duration_ms": r["duration_ms"], "failed_step": r.get("failed_step"),
        "error_code": r.get("error").and_then(|e| e.get("code")),
    })
}

fn show(name: &str, out: Output) -> CliResult<Reply> {
    let store = super::open_store(out)?;
    let drawer = load(&store, name)?;
    let data = show_data(&store, &drawer)?;
    let v = &data["validation"];
    let mut text = format!("{}  ({})\n", drawer.name, kind_text(&drawer));
    if !drawer.description.is_empty() {
        let _ = writeln!(text, "{}", drawer.description);
    }
    let _ = writeln!(text, "steps: {}", drawer.topology());
    for e in v["errors"].as_array().into_iter().flatten() {
        let _ = writeln!(
            text,
            "error: {}  (fix: {})",
            e["message"].as_str().unwrap_or(""),
            e["remediation"].as_str().unwrap_or("")
        );
    }
    for e in v["warnings"].as_array().into_iter().flatten() {
        let _ = writeln!(text, "warning: {}", e["message"].as_str().unwrap_or(""));
    }
    Ok(Reply::new(data).stdout(text))
}

fn kind_mismatch(drawer: &Drawer, verb: &str) -> CliError {
    CliError::new(
        ErrorCode::DrawerKindMismatch,
        format!(
            "{verb} does not apply to {} (a {} drawer)",
            drawer.name,
            kind_text(drawer)
        ),
    )
    .with_hint(if drawer.kind() == DrawerKind::Flow {
        "a flow drawer has stages: use 'stage add' or 'set flow.…'"
    } else {
        "stages belong to flow drawers: create one with --kind flow"
    })
}

fn unique_id(drawer: &Drawer, base: &str) -> String {
    let taken = |id: &str| drawer.steps.iter().any(|s| s.id == id);
    if !taken(base) {
        return base.to_owned();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken(id))
        .expect("some suffix is free")
}

fn add(name: &str, targets: &[String], out: Output) -> CliResult<Reply> {
    let store = super::open_store(out)?;
    let mut drawer = load(&store, name)?;
    if drawer.kind() == DrawerKind::Flow {
        return Err(kind_mismatch(&drawer, "add"));
    }
    if targets.is_empty() {
        return Err(CliError::validation("nothing to add")
            .with_hint("give BUTTON, drawer/OTHER, for_each:BUTTON or wait:DURATION"));
    }
    let mut added = Vec::new();
    for t in targets {
        let button_step = |b: &str| -> CliResult<Step> {
            let bname = name_of(b)?;
            if store.load(&bname).is_err() {
                return Err(CliError::new(
                    ErrorCode::ButtonNotFound,
                    format!("button {bname} not found"),
                )
                .with_hint("run 'buttons list' to see the buttons there are"));
            }
            Ok(Step {
                button: Some(bname.to_string()),
                ..Step::default()
            })
        };
        let mut step = if let Some(other) = t.strip_prefix("drawer/") {
            let oname = name_of(other)?;
            let sub = store.load_drawer(&oname)?;
            if sub.kind() == DrawerKind::Flow {
                return Err(kind_mismatch(&sub, "a sub-drawer step"));
            }
            Step {
                id: unique_id(&drawer, oname.as_str()),
                kind: Some("drawer".into()),
                drawer: Some(oname.to_string()),
                ..Step::default()
            }
        } else if let Some(b) = t.strip_prefix("for_each:") {
            let mut inner = button_step(b)?;
            let bname = inner.button.clone().unwrap_or_default();
            // A button with one argument gets the item; `over` reads a new
            // `items` input unless the drawer has one.
            if let Ok(def) = store.load(&name_of(&bname)?)
                && let [arg] = def.args.as_slice()
            {
                inner.args.insert(arg.name.clone(), json!("${item}"));
            }
            inner.id = bname;
            if drawer.input("items").is_none() {
                drawer.inputs.push(buttons_spec::DrawerInput {
                    name: "items".into(),
                    required: true,
                    description: "the list the for_each step iterates (JSON)".into(),
                    ..buttons_spec::DrawerInput::default()
                });
            }
            let id = unique_id(&drawer, "for_each");
            // Nested ids are unique across the drawer too.
            if drawer.steps.iter().any(|s| s.id == inner.id) || inner.id == id {
                inner.id = format!("{id}-{}", inner.id);
            }
            Step {
                id,
                kind: Some("for_each".into()),
                over: Some(json!("${inputs.items}")),
                steps: vec![inner],
                ..Step::default()
            }
        } else if let Some(d) = t.strip_prefix("wait:") {
            if buttons_spec::parse_duration(d).is_err() {
                return Err(CliError::validation(format!("{d:?} is not a duration"))
                    .with_hint("write it as Go does: wait:200ms, wait:90s, wait:2m30s"));
            }
            Step {
                id: unique_id(&drawer, "wait"),
                kind: Some("wait".into()),
                duration: Some(json!(d)),
                ..Step::default()
            }
        } else {
            let mut s = button_step(t)?;
            s.id = unique_id(&drawer, s.button.as_deref().unwrap_or(t));
            s
        };
        if step.id.is_empty() {
            step.id = unique_id(&drawer, "step");
        }
        added.push(step.id.clone());
        drawer.steps.push(step);
    }
    let drawer = store.save_drawer(&drawer, Timestamp::now())?;
    let data = show_data(&store, &drawer)?;
    Ok(
        Reply::new(json!({"added": added, "drawer": data})).stderr(format!(
            "Added {} to {}: {}",
            added.join(", "),
            drawer.name,
            drawer.topology()
        )),
    )
}

/// A step by id, or by the button it presses when that is unique.
fn find_step(drawer: &Drawer, key: &str) -> CliResult<usize> {
    if let Some(i) = drawer.steps.iter().position(|s| s.id == key) {
        return Ok(i);
    }
    let by_button: Vec<usize> = drawer
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.button.as_deref() == Some(key))
        .map(|(i, _)| i)
        .collect();
    match by_button.as_slice() {
        [i] => Ok(*i),
        [] => Err(
            CliError::validation(format!("no step {key:?} in {}", drawer.name))
                .with_hint(format!("its steps are: {}", drawer.topology())),
        ),
        _ => Err(
            CliError::new(ErrorCode::Ambiguous, format!("several steps press {key:?}"))
                .with_hint("name the step by its id"),
        ),
    }
}

fn connect(name: &str, args: &[String], out: Output) -> CliResult<Reply> {
    let [from, to_word, to] = args else {
        return Err(CliError::validation(
            "expected 'connect A to B' or 'connect A.output.x to B.args.y'",
        ));
    };
    if to_word != "to" {
        return Err(CliError::validation("expected 'to' between the two steps"));
    }
    let store = super::open_store(out)?;
    let mut drawer = load(&store, name)?;
    if drawer.kind() == DrawerKind::Flow {
        return Err(kind_mismatch(&drawer, "connect"));
    }
    let mut wired = Map::new();
    if let (Some((a, field)), Some((b, arg))) =
        (from.split_once(".output."), to.split_once(".args."))
    {
        let ai = find_step(&drawer, a)?;
        let bi = find_step(&drawer, b)?;
        let reference = format!("${{{}.output.{field}}}", drawer.steps[ai].id);
        drawer.steps[bi]
            .args
            .insert(arg.to_owned(), json!(reference));
        wired.insert(arg.to_owned(), json!(reference));
    } else {
        let ai = find_step(&drawer, from)?;
        let bi = find_step(&drawer, to)?;
        let a_button = drawer.steps[ai].button.clone().unwrap_or_default();
        let b_button = drawer.steps[bi].button.clone().unwrap_or_default();
        let a_def = store.load(&name_of(&a_button)?)?;
        let b_def = store.load(&name_of(&b_button)?)?;
        let props = a_def
            .output_schema
            .as_ref()
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if props.is_empty() {
            return Err(CliError::validation(format!(
                "button {a_button} declares no output_schema.properties"
            ))
            .with_hint("connect fields explicitly: 'connect A.output.x to B.args.y'"));
        }
        for def in &b_def.args {
            if drawer.steps[bi].args.contains_key(&def.name) {
                continue;
            }
            let compatible = |t: &str| match def.arg_type {
                ArgType::String | ArgType::Enum => t == "string",
                ArgType::Int => t == "integer",
                ArgType::Bool => t == "boolean",
            };
            let same = props
                .get(&def.name)
                .and_then(|p| p.get("type"))
                .and_then(Value::as_str);
            if !same.is_some_and(compatible) {
                continue;
            }
            let field = def.name.clone();
            let reference = format!("${{{}.output.{field}}}", drawer.steps[ai].id);
            drawer.steps[bi]
                .args
                .insert(def.name.clone(), json!(reference));
            wired.insert(def.name.clone(), json!(reference));
        }
        if wired.is_empty() {
            return Err(CliError::validation(format!(
                "no output field of {a_button} matches an unset argument of {b_button}"
            ))
            .with_hint("connect fields explicitly: 'connect A.output.x to B.args.y'"));
        }
    }
    let drawer = store.save_drawer(&drawer, Timestamp::now())?;
    Ok(
        Reply::new(json!({"wired": wired, "drawer": show_data(&store, &drawer)?})).stderr(format!(
            "Connected {from} to {to}: {}",
            Value::Object(wired)
        )),
    )
}

/// A `set` value: JSON when it parses, else a string.
fn value_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

fn set_path(doc: &mut Value, drawer: &Drawer, path: &str, value: Value) -> CliResult<()> {
    let bad = |why: String| {
        CliError::validation(format!("cannot set {path}: {why}"))
            .with_hint("paths are STEP.args.F, STEP.steps.N.args.F, STEP.FIELD or flow.…")
    };
    let parts: Vec<&str> = path.split('.').collect();
    let mut pointer: Vec<String> = Vec::new();
    if let [
        top @ ("description" | "inputs" | "on_error" | "return" | "output_schema" | "version"),
    ] = parts.as_slice()
    {
        doc[*top] = value;
        return Ok(());
    }
    let rest: &[&str] = if parts[0] == "flow" {
        if drawer.kind() != DrawerKind::Flow {
            return Err(kind_mismatch(drawer, "set flow.…"));
        }
        pointer.push("flow".into());
        &parts[1..]
    } else {
        let i = drawer
            .steps
            .iter()
            .position(|s| s.id == parts[0])
            .ok_or_else(|| bad(format!("no step {:?}", parts[0])))?;
        pointer.extend(["steps".to_owned(), i.to_string()]);
        let rest = &parts[1..];
        match rest.first().copied() {
            Some(
                "args" | "steps" | "over" | "as" | "on_item_failure" | "parallelism" | "from"
                | "pluck" | "button" | "drawer" | "duration" | "until" | "timeout_seconds"
                | "on_failure" | "kind" | "cases",
            ) => {}
            _ => return Err(bad("unknown step field".into())),
        }
        rest
    };
    if rest.is_empty() {
        return Err(bad("the path is incomplete".into()));
    }
    pointer.extend(rest.iter().map(|s| (*s).to_owned()));
    let mut node = &mut *doc;
    for (n, key) in pointer.iter().enumerate() {
        let last = n + 1 == pointer.len();
        if let Ok(idx) = key.parse::<usize>()
            && node.is_array()
        {
            let arr = node.as_array_mut().expect("checked");
            let len = arr.len();
            node = arr
                .get_mut(idx)
                .ok_or_else(|| bad(format!("index {idx} is out of range ({len})")))?;
            if last {
                *node = value.clone();
            }
            continue;
        }
        if node.is_null() {
            *node = Value::Object(Map::new());
        }
        let obj = node
            .as_object_mut()
            .ok_or_else(|| bad(format!("{key:?} is not inside an object")))?;
        if last {
            obj.insert(key.clone(), value);
            return Ok(());
        }
        node = obj.entry(key.clone()).or_insert(Value::Null);
    }
    Ok(())
}

fn set(name: &str, pairs: &[String], out: Output) -> CliResult<Reply> {
    if pairs.is_empty() {
        return Err(CliError::validation("nothing to set").with_hint("give PATH=VALUE pairs"));
    }
    let store = super::open_store(out)?;
    let drawer = load(&store, name)?;
    let mut doc = serde_json::to_value(&drawer).expect("serializes");
    // All pairs or none: every pair is applied to a copy first.
    for pair in pairs {
        let (path, value) = pair
            .split_once('=')
            .ok_or_else(|| CliError::validation(format!("{pair:?} is not PATH=VALUE")))?;
        set_path(&mut doc, &drawer, path, value_of(value))?;
    }
    let changed: Drawer = serde_json::from_value(doc).map_err(|e| {
        CliError::validation(format!("the result is not a valid drawer: {e}"))
            .with_hint("check the values' types")
    })?;
    let saved = store.save_drawer(&changed, Timestamp::now())?;
    Ok(Reply::new(show_data(&store, &saved)?).stderr(format!(
        "Set {} value(s) on {}.",
        pairs.len(),
        saved.name
    )))
}

fn stage_add(name: &str, args: StageVerb, out: Output) -> CliResult<Reply> {
    let store = super::open_store(out)?;
    let mut drawer = load(&store, name)?;
    if drawer.kind() != DrawerKind::Flow {
        return Err(kind_mismatch(&drawer, "stage add"));
    }
    let flow = drawer.flow.get_or_insert_with(|| json!({"stages": []}));
    if !flow.get("stages").is_some_and(Value::is_array) {
        flow["stages"] = json!([]);
    }
    let stages = flow["stages"].as_array_mut().expect("just made an array");
    if stages.iter().any(|s| s["id"] == args.id.as_str()) {
        return Err(CliError::validation(format!(
            "stage {:?} already exists",
            args.id
        )));
    }
    let mut stage = json!({"id": args.id});
    if let Some(t) = args.title {
        stage["title"] = json!(t);
    }
    stages.push(stage);
    let saved = store.save_drawer(&drawer, Timestamp::now())?;
    Ok(Reply::new(show_data(&store, &saved)?)
        .stderr(format!("Added stage {} to {}.", args.id, saved.name)))
}

fn press_mode(args: &PressVerb) -> CliResult<DrawerMode> {
    let parallel = match args.mode.as_str() {
        "sequential" => false,
        "parallel" => true,
        other => {
            return Err(CliError::validation(format!("unknown --mode {other:?}"))
                .with_hint("use --mode sequential or --mode parallel"));
        }
    };
    if !parallel {
        if args.on_failure.is_some() || args.concurrency.is_some() {
            return Err(CliError::validation(
                "--on-failure and --concurrency apply to --mode parallel",
            )
            .with_hint("add --mode parallel, or set on_failure on the steps"));
        }
        return Ok(DrawerMode::Sequential);
    }
    let on_failure = match args.on_failure.as_deref() {
        None | Some("stop") => FailureAction::Stop,
        Some("continue") => FailureAction::Continue,
        Some(other) => {
            return Err(
                CliError::validation(format!("unknown --on-failure {other:?}"))
                    .with_hint("use --on-failure stop or --on-failure continue"),
            );
        }
    };
    let concurrency = args.concurrency.unwrap_or(DEFAULT_DRAWER_CONCURRENCY);
    if concurrency == 0 {
        return Err(CliError::validation("--concurrency is 0").with_hint("give 1 or more"));
    }
    Ok(DrawerMode::Parallel {
        concurrency,
        on_failure,
    })
}

fn press(name: &str, args: PressVerb, out: Output) -> CliResult<Reply> {
    let mode = press_mode(&args)?;
    let mut inputs = Map::new();
    for pair in &args.inputs {
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            CliError::validation(format!("{pair:?} is not key=value"))
                .with_hint("pass inputs as key=value")
        })?;
        inputs.insert(k.to_owned(), value_of(v));
    }
    let webhook_body =
        match args.webhook_body.as_deref() {
            None => None,
            Some(text) => {
                let text = match text.strip_prefix('@') {
                    // A regular file of at most 8 MiB (a FIFO must not hang the press).
                    Some(path) => {
                        let bytes = buttons_store::read_user_file(
                            std::path::Path::new(path),
                            buttons_exec::MAX_WEBHOOK_BODY as u64,
                        )?
                        .ok_or_else(|| {
                            CliError::validation(format!("--webhook-body: no file {path}"))
                        })?;
                        String::from_utf8_lossy(&bytes).into_owned()
                    }
                    None => text.to_owned(),
                };
                Some(serde_json::from_str(&text).map_err(|e| {
                    CliError::validation(format!("--webhook-body is not JSON: {e}"))
                })?)
            }
        };
    let request = DrawerRequest {
        name: name.to_owned(),
        inputs,
        webhook_body,
        env: std::env::vars().collect(),
    };
    let engine = super::engine(super::open_store(out)?);
    if args.summary {
        let plan = engine.plan_drawer(&request)?;
        let text = serde_json::to_string_pretty(&plan).expect("serializes");
        return Ok(
            Reply::new(plan).stderr(format!("Dry run (nothing ran, nothing recorded):\n{text}"))
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // As for `buttons press`: the handlers are installed before anything
    // runs; the signal that cancelled the press decides the exit status.
    let caught = Arc::new(AtomicI32::new(0));
    let options = {
        let _guard = runtime.enter();
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut hangup = signal(SignalKind::hangup())?;
        let caught = Arc::clone(&caught);
        DrawerOptions {
            cancel: Some(Box::pin(async move {
                let signo = tokio::select! {
                    _ = interrupt.recv() => SignalKind::interrupt(),
                    _ = terminate.recv() => SignalKind::terminate(),
                    _ = hangup.recv() => SignalKind::hangup(),
                };
                caught.store(signo.as_raw_value(), Ordering::SeqCst);
            })),
            mode,
            ..DrawerOptions::default()
        }
    };
    let ran = runtime.block_on(engine.press_drawer(&request, options))?;
    if let Err(err) = &ran.record {
        eprintln_warning(&CliError::from_parts(err.code(), None, err).message);
    }
    let r = &ran.result;
    let (stdout, stderr) = human_result(r);
    let mut reply = Reply::new(r.clone()).stdout(stdout).stderr(stderr);
    if !ran.ok {
        let code = r["error"]["code"]
            .as_str()
            .and_then(|c| serde_json::from_value(json!(c)).ok())
            .unwrap_or(ErrorCode::ScriptError);
        let message = format!(
            "drawer {} failed at step {}: {}",
            r["drawer"].as_str().unwrap_or(""),
            r["failed_step"].as_str().unwrap_or("-"),
            r["error"]["message"].as_str().unwrap_or("")
        );
        let mut err = CliError::new(code, message);
        if let Some(h) = r["error"]["remediation"].as_str().filter(|h| !h.is_empty()) {
            err = err.with_hint(h);
        }
        if code == ErrorCode::Cancelled {
            let signo = caught.load(Ordering::SeqCst);
            err.exit = Some(u8::try_from(128 + signo).unwrap_or(130));
        }
        reply.failure = Some(err);
    }
    Ok(reply)
}

/// A value on one line, cut at `max` characters.
fn one_line(v: &Value, max: usize) -> String {
    let text = match v {
        Value::String(s) => s.trim_end().replace('\n', " ⏎ "),
        other => other.to_string(),
    };
    if text.chars().count() > max {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// A drawer press for people: on stdout one line per step (mark, id,
/// status, duration, and the error or what it was skipped for), then the
/// result (the `return` map, or the last step's output); on stderr the
/// drawer's status line.
fn human_result(r: &Value) -> (String, String) {
    let steps: Vec<&Value> = r["steps"].as_array().into_iter().flatten().collect();
    let width = steps
        .iter()
        .map(|s| s["id"].as_str().unwrap_or("").chars().count())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for step in &steps {
        let status = step["status"].as_str().unwrap_or("");
        let mark = match status {
            "ok" => "✓",
            "skipped" => "-",
            _ => "✗",
        };
        let ms = step["duration_ms"].as_u64().unwrap_or(0);
        let duration = buttons_spec::format_duration(std::time::Duration::from_millis(ms));
        let _ = write!(
            text,
            "{mark} {:<width$}  {status:<7}  {duration:>9}",
            step["id"].as_str().unwrap_or("")
        );
        if let Some(root) = step["skipped_because"].as_str() {
            let _ = write!(text, "  ({root} failed)");
        } else if let Some(code) = step["error"]["code"].as_str() {
            let _ = write!(
                text,
                "  {code}: {}",
                one_line(&step["error"]["message"], 120)
            );
        }
        text.push('\n');
    }
    let result = r.get("return").or_else(|| {
        steps
            .iter()
            .rev()
            .find(|s| s["status"] == "ok")
            .and_then(|s| s.get("output"))
            .filter(|o| !o.is_null())
    });
    if let Some(v) = result {
        let _ = writeln!(text, "result: {}", one_line(v, 400));
    }
    let ms = r["duration_ms"].as_u64().unwrap_or(0);
    let status = format!(
        "drawer {}: {} in {} (run {})",
        r["drawer"].as_str().unwrap_or(""),
        r["status"].as_str().unwrap_or(""),
        buttons_spec::format_duration(std::time::Duration::from_millis(ms)),
        r["run_id"].as_str().unwrap_or("")
    );
    (text, status)
}

fn eprintln_warning(message: &str) {
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr().lock(),
        "warning: the drawer run was not recorded: {}",
        crate::output::escape(message)
    );
}

fn logs(name: &str, args: LogsVerb, out: Output) -> CliResult<Reply> {
    let store = super::open_store(out)?;
    let dname = name_of(name)?;
    if !store.drawer_exists(&dname) {
        return Err(buttons_store::Error::DrawerNotFound {
            name: dname.to_string(),
        }
        .into());
    }
    let runs: Vec<Value> = store
        .drawer_runs(&dname, usize::MAX)?
        .into_iter()
        .filter(|r| !args.failed || r.record["status"] != "ok")
        .take(args.limit)
        .map(|r| r.record)
        .collect();
    let mut text = String::new();
    for r in &runs {
        let _ = writeln!(
            text,
            "{}  {}  {}",
            r["started_at"].as_str().unwrap_or(""),
            r["status"].as_str().unwrap_or(""),
            r["failed_step"].as_str().unwrap_or("")
        );
    }
    Ok(Reply::new(runs).stdout(text))
}

/// The `drawers` list of `buttons summary` and the drawer failures for its
/// `recent_failures`.
pub(crate) fn summary_parts(store: &Store) -> (Vec<Value>, Vec<Value>) {
    let mut drawers = Vec::new();
    let mut failures = Vec::new();
    for listed in store.list_drawers().unwrap_or_default() {
        let Ok(d) = listed.drawer else { continue };
        let runs = name_of(&d.name)
            .ok()
            .and_then(|n| store.drawer_runs(&n, 5).ok())
            .unwrap_or_default();
        for r in runs.iter().filter(|r| r.record["status"] != "ok") {
            failures.push(json!({
                "drawer": d.name, "run_id": r.id, "started_at": r.record["started_at"],
                "error_code": r.record["error"]["code"], "failed_step": r.record.get("failed_step"),
            }));
        }
        drawers.push(json!({
            "name": d.name, "description": d.description, "drawer_kind": kind_text(&d),
            "inputs": d.inputs, "topology": d.topology(),
            "recent_runs": runs.iter().map(run_brief).collect::<Vec<_>>(),
        }));
    }
    (drawers, failures)
}
