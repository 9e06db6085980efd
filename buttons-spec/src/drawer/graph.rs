//! The dependency graph of a drawer's top-level steps (parallel mode).

use std::collections::BTreeSet;

use serde_json::Value;

use super::model::Step;
use super::refs::{Segment, references, scan};

/// For each top-level step, the indices of the steps it depends on: every
/// step whose id one of its expressions (in `args`, `over`, `from`, `pluck`,
/// `duration`, `until`, the `when` of its cases, its `button`/`drawer` and
/// its nested steps) references as a root.
///
/// The references are parsed, not matched as words: `${inputs.build}` or
/// `${'build'}` do not depend on a step named `build`. A reference to a
/// step that does not come earlier is not an edge (the validator reports
/// it), so the graph never has a cycle.
///
/// ```
/// use buttons_spec::{Step, step_dependencies};
/// let step = |id: &str, arg: &str| Step {
///     id: id.into(),
///     args: [("x".to_owned(), arg.into())].into_iter().collect(),
///     ..Step::default()
/// };
/// let steps = [
///     step("build", "${inputs.build}"),
///     step("test", "${build.output} and ${'build'}"),
///     step("lint", "${inputs.build}"),
/// ];
/// assert_eq!(step_dependencies(&steps), [vec![], vec![0], vec![]]);
/// ```
pub fn step_dependencies(steps: &[Step]) -> Vec<Vec<usize>> {
    let known: BTreeSet<String> = steps.iter().map(|s| s.id.clone()).collect();
    steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let mut roots = BTreeSet::new();
            step_roots(step, &known, &mut roots);
            steps[..i]
                .iter()
                .enumerate()
                .filter(|(_, s)| roots.contains(&s.id))
                .map(|(j, _)| j)
                .collect()
        })
        .collect()
}

fn step_roots(step: &Step, known: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    for v in step.args.values() {
        value_roots(v, known, out);
    }
    for v in [
        &step.over,
        &step.from,
        &step.pluck,
        &step.duration,
        &step.until,
    ]
    .into_iter()
    .flatten()
    {
        value_roots(v, known, out);
    }
    for text in [&step.button, &step.drawer].into_iter().flatten() {
        text_roots(text, known, out);
    }
    for case in &step.cases {
        if let Some(w) = &case.when {
            value_roots(w, known, out);
        }
        for s in &case.steps {
            step_roots(s, known, out);
        }
    }
    for s in &step.steps {
        step_roots(s, known, out);
    }
}

fn value_roots(v: &Value, known: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => text_roots(s, known, out),
        Value::Array(a) => a.iter().for_each(|x| value_roots(x, known, out)),
        Value::Object(m) => m.values().for_each(|x| value_roots(x, known, out)),
        _ => {}
    }
}

fn text_roots(text: &str, known: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    let Ok(segments) = scan(text) else { return };
    for seg in segments {
        if let Segment::Expr(e) = seg {
            out.extend(references(&e, known).into_iter().map(|r| r.root));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diamond_and_words_that_are_not_references() {
        let steps: Vec<Step> = serde_json::from_value(json!([
            {"id": "a", "button": "x"},
            {"id": "b", "button": "x", "args": {"v": "${a.output}"}},
            {"id": "c", "kind": "for_each", "over": "${a.output.list}", "steps": [{"id": "in", "button": "x", "args": {"v": "${item}"}}]},
            {"id": "d", "button": "x", "args": {"v": "${b.output + c.output.total}", "w": "a b c"}},
            {"id": "e", "button": "x", "args": {"v": "${inputs.a} ${'d'} ${inputs.headers['b']}"}},
            {"id": "f-g", "button": "x"},
            {"id": "h", "kind": "switch", "cases": [{"id": "k", "when": "${f-g.output == 1}", "steps": []}]}
        ]))
        .unwrap();
        assert_eq!(
            step_dependencies(&steps),
            [
                vec![],
                vec![0],
                vec![0],
                vec![1, 2],
                vec![],
                vec![],
                vec![5]
            ]
        );
    }
}
