//! `buttons press NAME`.

use crate::cli::PressArgs;
use crate::error::{CliError, CliResult};
use crate::output::{Output, Reply};

pub(crate) fn run(args: PressArgs, out: Output) -> CliResult<Reply> {
    let _ = (args, out);
    Err(CliError::new(
        buttons_spec::ErrorCode::InternalError,
        "press is not wired yet",
    ))
}
