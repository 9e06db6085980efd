//! `AGENTS.md`: the text of prompt buttons, and notes attached to code buttons.

use std::io::Read;
use std::path::Path;

use buttons_spec::{Args, Button, ErrorCode, OUTPUT_CAP, PressResult};

use crate::capture::bounded_text;

pub use buttons_spec::{AGENTS_FILE, LEGACY_AGENTS_FILE, SCAFFOLD_MARKER};

/// What a scaffold's first line starts with (the marker without its end).
const SCAFFOLD_PREFIX: &str = "<!-- buttons:scaffold";

/// Whether an `AGENTS.md` text is only the scaffold written at create, not
/// real instructions (a code button attaches only real instructions to its
/// result as `prompt`).
///
/// It is scaffold when its first non-blank line starts with
/// `<!-- buttons:scaffold` (see [`SCAFFOLD_MARKER`]), or when it has nothing but blank lines and Markdown
/// headings.
///
/// ```
/// use buttons_exec::is_scaffold_agents_md;
/// assert!(is_scaffold_agents_md("<!-- buttons:scaffold -->\n# deploy\n\nDeploys the site.\n"));
/// assert!(is_scaffold_agents_md("# deploy\n\n"));
/// assert!(!is_scaffold_agents_md("# deploy\n\nRun only after tests pass.\n"));
/// ```
pub fn is_scaffold_agents_md(text: &str) -> bool {
    let text = text.trim_start_matches('\u{feff}').trim_start();
    text.starts_with(SCAFFOLD_PREFIX) || !text.lines().any(is_content_line)
}

fn is_content_line(line: &str) -> bool {
    let line = line.trim();
    !line.is_empty() && !line.starts_with('#')
}

/// Reads `AGENTS.md` (else `AGENT.md`) in `dir`, at most [`OUTPUT_CAP`]
/// bytes of it: the text and whether it was cut.
fn read_agents_md(dir: &Path) -> std::io::Result<(String, bool)> {
    // Non-blocking and regular files only: a FIFO there must not hang a press.
    let open = |name: &str| {
        buttons_store::open_regular_file(&dir.join(name)).map_err(std::io::Error::other)
    };
    let file = match open(AGENTS_FILE)? {
        Some(file) => file,
        None => open(LEGACY_AGENTS_FILE)?
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?,
    };
    let mut bytes = Vec::new();
    file.take(OUTPUT_CAP as u64 + 1).read_to_end(&mut bytes)?;
    let cut = bytes.len() > OUTPUT_CAP;
    bytes.truncate(OUTPUT_CAP);
    Ok(bounded_text(&bytes, cut))
}

/// Presses a prompt button: its `AGENTS.md` text, with the declared
/// `{{name}}` placeholders filled from the press's arguments, becomes stdout.
pub(crate) fn press(button: &Button, args: &Args, dir: &Path, result: &mut PressResult) {
    match read_agents_md(dir) {
        Ok((text, truncated)) => {
            result.stdout = if button.args.is_empty() {
                text
            } else {
                buttons_spec::fill_prompt(&text, &button.args, args)
            };
            result.truncated = truncated;
        }
        Err(e) => result.fail(
            ErrorCode::PromptError,
            format!("failed to read {AGENTS_FILE} in {}: {e}", dir.display()),
        ),
    }
}

/// The `AGENTS.md` text of a code button, when it holds real instructions:
/// not missing or unreadable, not the scaffold, and not just the button's
/// description under headings (what older versions of the tool generated).
///
/// This is what a press attaches as `prompt`, and what `buttons mcp` adds to
/// a tool's description.
pub fn agent_notes(button: &Button, dir: &Path) -> Option<String> {
    let (text, _) = read_agents_md(dir).ok()?;
    if is_scaffold_agents_md(&text) {
        return None;
    }
    let description = button.description.trim();
    let only_description = !description.is_empty()
        && text
            .lines()
            .filter(|l| is_content_line(l))
            .all(|l| l.trim() == description);
    (!only_description).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaffold_rules() {
        assert!(is_scaffold_agents_md(""));
        assert!(is_scaffold_agents_md("  \n\n"));
        assert!(is_scaffold_agents_md(
            "\u{feff}<!-- buttons:scaffold -->\nanything"
        ));
        assert!(is_scaffold_agents_md(
            "\n<!-- buttons:scaffold (delete me) -->\n# x\ntext"
        ));
        assert!(is_scaffold_agents_md("# Title\n## Sub\n"));
        assert!(!is_scaffold_agents_md("Call with --arg env=prod only.\n"));
        assert!(!is_scaffold_agents_md("text\n<!-- buttons:scaffold -->\n"));
    }

    #[test]
    fn legacy_name_and_bounded_read() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_agents_md(dir.path()).is_err());
        std::fs::write(dir.path().join(LEGACY_AGENTS_FILE), "legacy").unwrap();
        assert_eq!(read_agents_md(dir.path()).unwrap().0, "legacy");
        std::fs::write(dir.path().join(AGENTS_FILE), "x".repeat(OUTPUT_CAP + 10)).unwrap();
        let (text, cut) = read_agents_md(dir.path()).unwrap();
        assert!(cut);
        assert_eq!(
            text.len(),
            OUTPUT_CAP + buttons_spec::TRUNCATED_MARKER.len()
        );
    }
}
