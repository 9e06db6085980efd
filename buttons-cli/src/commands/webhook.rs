//! `buttons webhook listen [--port N]`: the webhook routes alone (drawer
//! webhooks and button webhook triggers), on 127.0.0.1.

use crate::cli::WebhookCommand;
use crate::error::CliResult;
use crate::output::{Output, Reply};

/// Runs one `buttons webhook` verb.
pub(crate) fn run(command: WebhookCommand, out: Output) -> CliResult<Reply> {
    match command {
        WebhookCommand::Listen { port } => super::serve::run_webhooks(port, out),
    }
}
