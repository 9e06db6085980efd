//! buttons-http: capability lands with its issue.
