//! All terminal output: TTY detection, the JSON envelope, human text, locked
//! handles, and quiet exit on a broken pipe.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use serde::Serialize;

use crate::error::CliError;

/// What a command produced: JSON `data`, and what a human sees.
pub(crate) struct Reply {
    /// The `data` of the success envelope.
    pub(crate) data: serde_json::Value,
    /// Human mode: text for stdout.
    pub(crate) stdout: String,
    /// Human mode: text for stderr (status lines, hints).
    pub(crate) stderr: String,
    /// A command that produced output and still failed (a failed press).
    pub(crate) failure: Option<CliError>,
    /// Everything was already written line by line (`-f`): print nothing more.
    pub(crate) streamed: bool,
    /// Exit 1 after a success envelope (a smash with failures).
    pub(crate) exit_failure: bool,
    /// `history`: how many unreadable records were skipped (the envelope's
    /// `skipped`, present only when some were).
    pub(crate) skipped: Option<usize>,
    /// A press's result: the envelope's `data` instead of [`Reply::data`],
    /// serialised straight to stdout (no JSON value, no copy of its output).
    pub(crate) press: Option<Box<PressData>>,
    /// Human mode: stdout and stderr are a script's own output, written as
    /// it wrote them (a press); otherwise control characters are escaped.
    pub(crate) verbatim: bool,
}

/// The `data` of a press's envelope: the result, and `"replayed": true`
/// for an idempotent repeat (the same bytes as the result's JSON value with
/// `replayed` appended).
#[derive(Serialize)]
pub(crate) struct PressData {
    #[serde(flatten)]
    pub(crate) result: buttons_spec::PressResult,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) replayed: bool,
    /// `{"ok": false, "error": …}` when the run record could not be written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) record: Option<serde_json::Value>,
}

impl Reply {
    pub(crate) fn new(data: impl Serialize) -> Self {
        Self {
            data: serde_json::to_value(data).expect("command data always serializes"),
            stdout: String::new(),
            stderr: String::new(),
            failure: None,
            streamed: false,
            exit_failure: false,
            skipped: None,
            press: None,
            verbatim: false,
        }
    }

    /// The reply of a press: its result is the envelope's `data`.
    pub(crate) fn press(result: buttons_spec::PressResult, replayed: bool) -> Self {
        Self {
            press: Some(Box::new(PressData {
                result,
                replayed,
                record: None,
            })),
            ..Self::new(serde_json::Value::Null)
        }
    }

    /// The reply of a command that wrote its output as it went.
    pub(crate) fn streamed() -> Self {
        Self {
            streamed: true,
            ..Self::new(serde_json::Value::Null)
        }
    }

    pub(crate) fn stdout(mut self, text: impl Into<String>) -> Self {
        self.stdout = text.into();
        self
    }

    pub(crate) fn stderr(mut self, text: impl Into<String>) -> Self {
        self.stderr = text.into();
        self
    }

    /// Marks stdout and stderr as a script's own output (see [`Reply::verbatim`]).
    pub(crate) fn verbatim(mut self) -> Self {
        self.verbatim = true;
        self
    }
}

/// Escapes what a terminal would act on in text that comes from data
/// (specs, names, records, error messages): C0 control characters other
/// than newline and tab, DEL, C1 controls and the Unicode bidirectional
/// overrides become visible `\x1b` / `\u{9b}` escapes, so a description
/// holding `ESC [31m` cannot recolour, move the cursor or retitle the
/// terminal. The one function every human rendering of data goes through.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    escape_with(text, false)
}

/// [`escape`] for one line (a table cell): newlines, carriage returns and
/// tabs are escaped too, so a value cannot break the layout.
pub(crate) fn escape_line(text: &str) -> Cow<'_, str> {
    escape_with(text, true)
}

fn escape_with(text: &str, one_line: bool) -> Cow<'_, str> {
    let needs = |c: char| match c {
        '\n' | '\t' => one_line,
        '\u{2066}'..='\u{2069}' | '\u{202a}'..='\u{202e}' | '\u{200e}' | '\u{200f}' => true,
        c => c.is_control(),
    };
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs(c) {
            out.push(c);
            continue;
        }
        let _ = match c {
            '\n' => write!(out, "\\n"),
            '\t' => write!(out, "\\t"),
            '\r' => write!(out, "\\r"),
            c if u32::from(c) < 0x80 => write!(out, "\\x{:02x}", u32::from(c)),
            c => write!(out, "\\u{{{:x}}}", u32::from(c)),
        };
    }
    Cow::Owned(out)
}

/// Where output goes and in which form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    json: bool,
    stdin_tty: bool,
}

#[derive(Serialize)]
struct Success<'a, T: Serialize> {
    ok: bool,
    data: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<usize>,
}

#[derive(Serialize)]
struct Failure<'a, T: Serialize> {
    ok: bool,
    error: &'a CliError,
    /// The result of a press that ran and failed (absent for every other failure).
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a T>,
}

/// Writes `envelope` and a newline to stdout through one buffer (a press's
/// output is written in a few large pieces, not line by line).
fn write_envelope(envelope: &impl Serialize) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    serde_json::to_writer(&mut out, envelope)?;
    out.write_all(b"\n")?;
    out.flush()
}

impl Output {
    /// JSON when asked, or whenever stdout is not a terminal.
    pub(crate) fn detect(json_flag: bool) -> Self {
        Self {
            json: json_flag || !io::stdout().is_terminal(),
            stdin_tty: io::stdin().is_terminal(),
        }
    }

    /// Whether output is the JSON envelope.
    pub(crate) fn is_json(self) -> bool {
        self.json
    }

    /// Whether a person can answer a question (human mode with a terminal on stdin).
    pub(crate) fn interactive(self) -> bool {
        !self.json && self.stdin_tty
    }

    /// Prints a one-time notice on stderr (human mode only).
    pub(crate) fn notice(self, text: &str) {
        if !self.json {
            let _ = writeln!(io::stderr().lock(), "note: {}", escape(text));
        }
    }

    /// Renders a command's outcome and returns the exit status.
    pub(crate) fn finish(self, outcome: Result<Reply, CliError>) -> ExitCode {
        let result = match &outcome {
            Ok(reply) => self.write_reply(reply),
            Err(err) => self.write_error(err),
        };
        match result {
            // The reader went away (`buttons list | head`): nothing to tell.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
            Ok(()) => match &outcome {
                Ok(Reply {
                    failure: Some(err), ..
                })
                | Err(err) => err.exit_code(),
                Ok(Reply {
                    exit_failure: true, ..
                }) => ExitCode::FAILURE,
                Ok(_) => ExitCode::SUCCESS,
            },
        }
    }

    /// Writes one line to stdout at once (a followed stream: a JSON line
    /// when piped). A closed pipe is an `Err` of kind `BrokenPipe`.
    pub(crate) fn line(self, text: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            out.write_all(b"\n")?;
        }
        out.flush()
    }

    fn write_reply(self, reply: &Reply) -> io::Result<()> {
        if reply.streamed {
            return Ok(());
        }
        if self.json {
            return match (&reply.failure, &reply.press) {
                (Some(err), Some(press)) => self.write_failure(err, Some(&**press)),
                (Some(err), None) => self.write_failure(err, Some(&reply.data)),
                (None, Some(press)) => write_envelope(&Success {
                    ok: true,
                    data: &**press,
                    skipped: None,
                }),
                (None, None) => write_envelope(&Success {
                    ok: true,
                    data: &reply.data,
                    skipped: reply.skipped,
                }),
            };
        }
        // What the command produced first, then its status or notes, so a
        // press's status line follows the script's output on a terminal.
        let (stdout, stderr) = if reply.verbatim {
            (Cow::Borrowed(&*reply.stdout), Cow::Borrowed(&*reply.stderr))
        } else {
            (escape(&reply.stdout), escape(&reply.stderr))
        };
        let mut out = io::stdout().lock();
        out.write_all(stdout.as_bytes())?;
        out.flush()?;
        if !reply.stderr.is_empty() {
            let mut err = anstream::stderr().lock();
            err.write_all(crate::color::paint(&stderr).as_bytes())?;
            if !reply.stderr.ends_with('\n') {
                err.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    fn write_error(self, err: &CliError) -> io::Result<()> {
        self.write_failure::<serde_json::Value>(err, None)
    }

    /// An error, with the result of a command that ran and failed as `data`.
    fn write_failure<T: Serialize>(self, err: &CliError, data: Option<&T>) -> io::Result<()> {
        if self.json {
            return write_envelope(&Failure {
                ok: false,
                error: err,
                data,
            });
        }
        let mut out = anstream::stderr().lock();
        let line = format!("error: {}", escape(err.message.trim_end()));
        writeln!(out, "{}", crate::color::paint(&line))?;
        if let Some(hint) = &err.hint {
            writeln!(out, "  hint: {}", escape(hint))?;
        }
        Ok(())
    }
}

/// A run's `duration_ms` for people: `850 ms`, `3.0 s`, `2 min 05 s`.
pub(crate) fn duration_ms(ms: u64) -> String {
    buttons_spec::format_duration(std::time::Duration::from_millis(ms))
}

/// Lays rows out in columns separated by two spaces; the last column is not padded.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<Cow<'_, str>>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| escape_line(cell)).collect())
        .collect();
    let rows = &rows;
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let cells: Vec<&str> = cells.collect();
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            text.push_str(cell);
            if i + 1 < cells.len() {
                let pad = widths[i] - cell.chars().count() + 2;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(|cell| &**cell));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns() {
        let t = table(
            &["NAME", "RUNTIME"],
            &[
                vec!["a".into(), "shell".into()],
                vec!["longer".into(), "py".into()],
            ],
        );
        assert_eq!(t, "NAME    RUNTIME\na       shell\nlonger  py\n");
    }

    #[test]
    fn escapes_control_characters() {
        assert!(matches!(escape("plain é\n\tok"), Cow::Borrowed(_)));
        assert_eq!(escape("a\x1b[31mred\x07"), "a\\x1b[31mred\\x07");
        assert_eq!(escape("\u{9b}2J \u{202e}x"), "\\u{9b}2J \\u{202e}x");
        assert_eq!(escape("two\nlines"), "two\nlines");
        assert_eq!(escape_line("two\nlines\r\t"), "two\\nlines\\r\\t");
        let t = table(&["NAME"], &[vec!["x\x1b]0;title\x07".into()]]);
        assert_eq!(t, "NAME\nx\\x1b]0;title\\x07\n");
    }
}
