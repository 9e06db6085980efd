//! The `buttons` command.
fn main() {}
