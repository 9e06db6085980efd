//! buttons-exec: capability lands with its issue.
