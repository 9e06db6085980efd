//! Property tests of buttons-spec.

mod properties;
