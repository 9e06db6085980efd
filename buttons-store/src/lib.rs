//! buttons-store: capability lands with its issue.
