//! `buttons board`: refused for now (an interactive board is not built yet).

use buttons_spec::ErrorCode;

use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply};

pub(crate) fn run(out: Output) -> CliResult<Reply> {
    if out.is_json() {
        return Err(CliError::new(
            ErrorCode::NotApplicable,
            "an interactive board needs a terminal",
        )
        .with_hint("use 'buttons summary --json' for the same overview as data"));
    }
    Err(CliError::new(
        ErrorCode::NotApplicable,
        "the interactive board is not built yet",
    )
    .with_hint("run 'buttons summary' for an overview"))
}
