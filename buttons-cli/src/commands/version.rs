//! `buttons version`.

use serde_json::json;

use crate::output::Reply;

pub(crate) fn run() -> Reply {
    let version = env!("CARGO_PKG_VERSION");
    Reply::new(json!({ "version": version })).stdout(format!("buttons {version}\n"))
}
