//! The integration tests, all in one test binary (`cargo test --test integration`): one module
//! per area, sharing `support`. One binary links once and compiles `support` once, where a
//! binary per file did both for every file.
//!
//! Cargo's automatic discovery of `tests/*.rs` is off (`autotests = false` in Cargo.toml), so a
//! new file here is a module, declared below; a test that needs a process of its own runs this
//! binary again as a child, as `script_hooks` does.
//!
//! A module that needs a feature is compiled only with it, as the test files were with Cargo's
//! `required-features`: `cargo test --no-default-features --features server` runs the tests
//! that the server alone allows.

mod support;

// Installs the binary's global allocator, which counts only the threads that ask to be counted;
// for the other tests' threads it only forwards to the system allocator.
mod alloc;
#[cfg(all(feature = "basic-auth", feature = "script"))]
mod basic_auth;
#[cfg(feature = "server")]
mod collectors;
mod consistency;
#[cfg(feature = "server")]
mod embedding;
mod expiry;
#[cfg(feature = "script")]
mod hostile;
#[cfg(all(feature = "log", feature = "server"))]
mod log_facade;
#[cfg(feature = "server")]
mod negotiation;
mod openmetrics_strict;
#[cfg(feature = "script")]
mod operations;
#[cfg(all(feature = "script", feature = "process-stats"))]
mod prometheus_e2e;
mod promtool;
mod quantiles;
mod roundtrip;
#[cfg(all(feature = "script", feature = "process-stats"))]
mod sample_binary;
// Its children are this binary, whose lines go to the `log` facade when built with the `log`
// feature, and no logger is installed there: the tests read the lines on stderr.
#[cfg(all(feature = "script", not(feature = "log")))]
mod script_hooks;
#[cfg(feature = "server")]
mod server;
#[cfg(all(feature = "tls", feature = "script"))]
mod tls;
mod typed;
#[cfg(feature = "server")]
mod utf8_names;
#[cfg(feature = "server")]
mod victoriametrics_e2e;
