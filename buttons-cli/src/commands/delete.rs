//! `buttons delete NAME` (alias `rm`).

use std::io::{self, BufRead, Write};

use serde_json::json;

use crate::cli::DeleteArgs;
use crate::error::CliResult;
use crate::output::{Output, Reply};

pub(crate) fn run(args: DeleteArgs, out: Output) -> CliResult<Reply> {
    let store = super::open_store(out)?;
    let name = super::button_name(&args.name)?;
    store.load(&name).or_else(|e| {
        // A folder with a broken spec can still be deleted; only absence is an error.
        if e.code() == buttons_spec::ErrorCode::NotFound {
            Err(e)
        } else {
            Ok(buttons_spec::Button::new(
                &name,
                jiff::Timestamp::UNIX_EPOCH,
            ))
        }
    })?;
    if !args.force && out.interactive() {
        let mut err = io::stderr().lock();
        write!(err, "Delete button {name} and its run records? [y/N] ")?;
        err.flush()?;
        let mut answer = String::new();
        io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES") {
            return Ok(Reply::new(json!({ "name": name, "deleted": false }))
                .stderr(format!("Kept {name}.")));
        }
    }
    store.delete(&name)?;
    Ok(Reply::new(json!({ "name": name, "deleted": true })).stderr(format!("Deleted {name}.")))
}
