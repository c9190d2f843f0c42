//! Helpers shared by the integration tests (`mod support;` in tests/tests.rs, their one binary).
//! Items that the tests of some feature sets do not use are `#[allow(dead_code)]`.

pub mod exposition;
pub mod http;
#[cfg(all(feature = "script", any(feature = "tls", feature = "basic-auth")))]
pub mod prometheus;
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

/// xorshift64*: the generated cases of the property and differential tests, reproducible from
/// their seed.
#[allow(dead_code)]
pub struct Rng(pub u64);

#[allow(dead_code)]
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}
