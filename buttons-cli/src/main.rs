//! The `buttons` command: parses the command line, runs one command, renders
//! its result as JSON or human text, and exits 0 or 1.

mod cli;
mod color;
mod commands;
mod error;
mod output;
mod progress;
mod suggest;

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory as _, FromArgMatches as _};

use crate::error::CliError;
use crate::output::Output;

fn main() -> ExitCode {
    // `buttons __buttons-supervise …`: this process leads a press's process
    // group (see `buttons_exec::supervise_if_asked`).
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(code) = buttons_exec::supervise_if_asked(&argv) {
        return code;
    }
    // `COMPLETE=SHELL buttons -- WORDS…` (the registration script's call
    // back) prints completions and exits here.
    clap_complete::CompleteEnv::with_factory(cli::Cli::command).complete();
    // `--color` drives clap's help and errors as well as the tool's words.
    let color = color::ColorWhen::from_argv(&argv);
    color.apply();
    let mut command = cli::Cli::command().color(color.clap());
    let parsed = command
        .try_get_matches_from_mut(&argv)
        .and_then(|mut matches| {
            cli::Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut command))
        });
    match parsed {
        Ok(cli) => {
            cli.color.apply();
            let command = cli
                .command
                .unwrap_or(cli::Command::Summary(cli::SummaryArgs { deep: false }));
            if let cli::Command::Mcp(cli::McpArgs {
                command: None,
                allow_create,
            }) = command
            {
                // stdout belongs to the protocol: no envelope, no human text.
                return commands::mcp::serve(Output::detect(true), allow_create);
            }
            let json = cli.json
                || matches!(&command, cli::Command::Show(words) if words.iter().any(|w| w == "--json"))
                || matches!(&command, cli::Command::Drawer { words } if words.iter().any(|w| w == "--json"));
            let out = Output::detect(json);
            out.finish(commands::run(command, out))
        }
        Err(err) => {
            let out = Output::detect(argv.iter().any(|a| a == "--json"));
            match err.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = err.print();
                    ExitCode::SUCCESS
                }
                _ if !out.is_json() => {
                    let _ = err.print();
                    ExitCode::FAILURE
                }
                _ => {
                    let rendered = err.render().to_string();
                    let message = rendered
                        .lines()
                        .take_while(|l| !l.starts_with("Usage:"))
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ")
                        .trim_start_matches("error: ")
                        .to_owned();
                    let error = CliError::validation(message)
                        .with_hint("see 'buttons --help' or 'buttons COMMAND --help'");
                    out.finish(Err(error))
                }
            }
        }
    }
}
