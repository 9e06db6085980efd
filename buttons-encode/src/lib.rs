//! buttons-encode: capability lands with its issue.
