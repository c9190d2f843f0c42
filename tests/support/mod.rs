//! Helpers shared by the integration tests (`mod support;` in a test file). Cargo does not build
//! `tests/support/` as a test crate of its own.

pub mod exposition;
