//! `buttons-supervise`: the press supervisor `buttons` starts beside every
//! code press (see `buttons_exec::supervise_if_asked`). Small on purpose: it
//! starts on every press, so it links nothing else.

use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    buttons_exec::supervise_if_asked(&argv).unwrap_or(ExitCode::from(125))
}
