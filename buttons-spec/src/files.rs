//! Names of the files in a button folder that more than one crate reads or writes.

/// The file holding a button's instructions for agents (the text of a prompt
/// button, notes attached to a code or HTTP button's result).
pub const AGENTS_FILE: &str = "AGENTS.md";

/// The legacy name of [`AGENTS_FILE`], read when `AGENTS.md` does not exist.
pub const LEGACY_AGENTS_FILE: &str = "AGENT.md";

/// The first line of an `AGENTS.md` that `create` generated and nobody has
/// written instructions into yet.
///
/// A store writing a scaffold `AGENTS.md` puts this marker on its first line.
/// Any first line starting with `<!-- buttons:scaffold` counts, so the comment
/// may carry a note such as
/// `<!-- buttons:scaffold: delete this line once this file holds instructions -->`.
pub const SCAFFOLD_MARKER: &str = "<!-- buttons:scaffold -->";
