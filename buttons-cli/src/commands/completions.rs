//! `buttons completions SHELL`: the script goes to stdout as is (never JSON).

use std::io::Write as _;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::CliResult;
use crate::output::Reply;

pub(crate) fn run(shell: clap_complete::Shell) -> CliResult<Reply> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "buttons", &mut script);
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&script).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    std::process::exit(0);
}
