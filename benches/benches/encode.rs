//! Template rendering: buttons-encode against a baseline that does what the Go
//! tool does (for each argument, replace every occurrence of `{{name}}` in
//! each URL section, or in the body, with the escaped value).
//!
//! Cases: a URL with 3 placeholders, a 1 KiB JSON body with 10, a 64 KiB JSON
//! body with 100 (each placeholder its own argument). Goals: at least 5x the
//! baseline on the two body cases, and at least 500 MB/s of rendered output
//! on the 64 KiB case. Both sides produce the same bytes (checked first).
//!
//! `cargo bench -p buttons-benches --bench encode`

use std::fmt::Write as _;
use std::hint::black_box;

use buttons_benches::{alternate, median};
use buttons_encode::{BodyKind, BodyTemplate, UrlTemplate};
use buttons_spec::{ArgDef, Args};

const ROUNDS: usize = 41;

/// The Go tool's way: per argument, a full `replace` over each section.
mod baseline {
    use buttons_spec::Args;

    const HEX: &[u8; 16] = b"0123456789ABCDEF";

    fn percent(value: &str, space_as_plus: bool) -> String {
        let mut out = String::with_capacity(value.len() * 3);
        for &b in value.as_bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(b));
            } else if space_as_plus && b == b' ' {
                out.push('+');
            } else {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
        out
    }

    /// Like Go's `json.Marshal(value)` with the quotes trimmed.
    fn json(value: &str) -> String {
        let quoted = serde_json::to_string(value).expect("a string serializes");
        quoted[1..quoted.len() - 1].to_owned()
    }

    pub(crate) fn url(template: &str, args: &Args) -> String {
        let (path, rest) = template.split_at(template.find(['?', '#']).unwrap_or(template.len()));
        let (query, fragment) = rest.split_at(rest.find('#').unwrap_or(rest.len()));
        let (mut path, mut query, mut fragment) =
            (path.to_owned(), query.to_owned(), fragment.to_owned());
        for (name, value) in args.iter() {
            let placeholder = format!("{{{{{name}}}}}");
            path = path.replace(&placeholder, &percent(value.as_str(), false));
            query = query.replace(&placeholder, &percent(value.as_str(), true));
            fragment = fragment.replace(&placeholder, &percent(value.as_str(), false));
        }
        path + &query + &fragment
    }

    pub(crate) fn json_body(template: &str, args: &Args) -> String {
        let mut body = template.to_owned();
        for (name, value) in args.iter() {
            body = body.replace(&format!("{{{{{name}}}}}"), &json(value.as_str()));
        }
        body
    }
}

/// A JSON body of about `size` bytes with `count` string placeholders, each
/// its own argument, and the arguments with values that need escaping.
fn json_case(size: usize, count: usize) -> (String, Vec<ArgDef>, Args) {
    let defs: Vec<ArgDef> = (0..count)
        .map(|i| ArgDef::parse(&format!("arg{i}:string:required")).expect("a definition"))
        .collect();
    let mut body = String::from("{\"items\": [\n");
    let per_item = size / count;
    for i in 0..count {
        let start = body.len();
        write!(
            body,
            "  {{\"id\": {i}, \"name\": \"{{{{arg{i}}}}}\", \"note\": \""
        )
        .expect("writing to a String");
        while body.len() - start < per_item.saturating_sub(8) {
            body.push_str("lorem ipsum ");
        }
        body.push_str("\"},\n");
    }
    body.push_str("  null\n]}");
    let values: Vec<(String, String)> = (0..count)
        .map(|i| {
            (
                format!("arg{i}"),
                format!("O'Reilly & Sons \"{i}\" \\ tab\there"),
            )
        })
        .collect();
    let args = Args::validate(&defs, values).expect("valid arguments");
    (body, defs, args)
}

struct Figures {
    ours_ms: f64,
    base_ms: f64,
}

fn compare(iters: usize, ours: &mut dyn FnMut(), base: &mut dyn FnMut()) -> Figures {
    let mut ours_case = || {
        for _ in 0..iters {
            ours();
        }
    };
    let mut base_case = || {
        for _ in 0..iters {
            base();
        }
    };
    let samples = alternate(ROUNDS, &mut [&mut ours_case, &mut base_case]);
    Figures {
        ours_ms: median(&samples[0]) / iters as f64,
        base_ms: median(&samples[1]) / iters as f64,
    }
}

#[expect(
    clippy::print_stdout,
    reason = "a benchmark program reports its figures on stdout"
)]
fn report(name: &str, figures: &Figures, output_len: usize) {
    let per_second = output_len as f64 / (figures.ours_ms / 1e3) / 1e6;
    println!(
        "{name:<28} ours {:>9.2} µs   baseline {:>9.2} µs   ratio {:>6.1}x   ours {:>7.0} MB/s of output",
        figures.ours_ms * 1e3,
        figures.base_ms * 1e3,
        figures.base_ms / figures.ours_ms,
        per_second,
    );
}

#[expect(
    clippy::print_stdout,
    reason = "a benchmark program reports its figures on stdout"
)]
fn main() {
    println!("render (parsed once), median of {ROUNDS} alternating samples");

    // A URL with 3 placeholders.
    let defs: Vec<ArgDef> = ["user", "repo", "q"]
        .iter()
        .map(|n| ArgDef::parse(&format!("{n}:string:required")).expect("a definition"))
        .collect();
    let url_template = "https://api.example.com/v1/users/{{user}}/repos/{{repo}}?q={{q}}&limit=10";
    let args = Args::validate(
        &defs,
        [
            ("user", "octo cat"),
            ("repo", "hello/world"),
            ("q", "real&admin=true"),
        ],
    )
    .expect("valid arguments");
    let url = UrlTemplate::parse(url_template, &defs).expect("a template");
    let rendered = url.render(&args).expect("renders");
    assert_eq!(rendered, baseline::url(url_template, &args));
    let figures = compare(
        2_000,
        &mut || {
            black_box(url.render(black_box(&args)).expect("renders"));
        },
        &mut || {
            black_box(baseline::url(black_box(url_template), black_box(&args)));
        },
    );
    report("URL, 3 placeholders", &figures, rendered.len());

    for (name, size, count, iters) in [
        ("JSON 1 KiB, 10 placeholders", 1024, 10, 500),
        ("JSON 64 KiB, 100 placeholders", 64 * 1024, 100, 10),
    ] {
        let (template, defs, args) = json_case(size, count);
        let body = BodyTemplate::parse(&template, BodyKind::Json, &defs).expect("a template");
        assert!(body.is_valid_json());
        let rendered = body.render(&args).expect("renders");
        assert_eq!(rendered, baseline::json_body(&template, &args));
        let figures = compare(
            iters,
            &mut || {
                black_box(body.render(black_box(&args)).expect("renders"));
            },
            &mut || {
                black_box(baseline::json_body(black_box(&template), black_box(&args)));
            },
        );
        report(name, &figures, rendered.len());

        // For the record: a press parses the template too.
        let figures = compare(
            iters,
            &mut || {
                let body = BodyTemplate::parse(black_box(&template), BodyKind::Json, &defs)
                    .expect("a template");
                black_box(body.render(black_box(&args)).expect("renders"));
            },
            &mut || {
                black_box(baseline::json_body(black_box(&template), black_box(&args)));
            },
        );
        report(
            &format!("  + parse ({} B)", template.len()),
            &figures,
            rendered.len(),
        );
    }
    println!("goals: ratio >= 5x on the JSON cases (render), >= 500 MB/s on the 64 KiB case");
}
