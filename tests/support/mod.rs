//! Helpers shared by the integration tests (`mod support;` in tests/tests.rs, their one binary).
//! Items that the tests of some feature sets do not use are `#[allow(dead_code)]`.

pub mod exposition;
pub mod http;
pub mod python;
pub mod sample;
#[cfg(feature = "server")]
pub mod test_server;
pub mod tools;

/// The process metrics of `--process-stats` and `Exporter::enable_process_stats`: client_golang's
/// seven.
#[allow(dead_code)]
pub const PROCESS_METRICS: [&str; 7] = [
    "process_cpu_seconds_total",
    "process_open_fds",
    "process_max_fds",
    "process_virtual_memory_bytes",
    "process_virtual_memory_max_bytes",
    "process_resident_memory_bytes",
    "process_start_time_seconds",
];
