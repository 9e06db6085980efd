//! `buttons completions SHELL`: the script goes to stdout as is (never JSON).
//!
//! The script registers clap_complete's dynamic completion: the shell calls
//! back `COMPLETE=SHELL buttons -- WORDS…`, so button names and a button's
//! `--arg` names complete from the data directory at the time of the TAB.

use std::io::Write as _;

use clap_complete::env::Shells;

use crate::error::{CliError, CliResult};
use crate::output::Reply;

pub(crate) fn run(shell: clap_complete::Shell) -> CliResult<Reply> {
    let name = shell.to_string();
    let shells = Shells::builtins();
    let completer = shells
        .completer(&name)
        .ok_or_else(|| CliError::validation(format!("no dynamic completion for {name}")))?;
    let mut script = Vec::new();
    completer.write_registration("COMPLETE", "buttons", "buttons", "buttons", &mut script)?;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&script).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    std::process::exit(0);
}
