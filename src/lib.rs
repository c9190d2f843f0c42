//! Write Prometheus exporters as a script with a few hooks: the Rust shape of Python's
//! `prometheus-aioexporter`, on a small single-threaded server (mio, httparse, lexopt; no
//! async runtime, no HTTP or CLI framework).
//!
//! An exporter is one type implementing [`PrometheusExporterScript`] and a one-line `main`:
//!
// The examples need the features they use; without them they are shown, not compiled.
#![cfg_attr(feature = "script", doc = "```no_run")]
#![cfg_attr(not(feature = "script"), doc = "```ignore")]
//! use prometheus_aioexporter::cli::Args;
//! use prometheus_aioexporter::{
//!     BoundExporter, BoxError, MetricConfig, PrometheusExporterScript, Registry,
//! };
//!
//! #[derive(Default)]
//! struct MyExporter;
//!
//! impl PrometheusExporterScript for MyExporter {
//!     const NAME: &'static str = "my-exporter";
//!     const DESCRIPTION: &'static str = "My Prometheus exporter.";
//!
//!     fn configure(&mut self, _args: &Args, registry: &mut Registry) -> Result<(), BoxError> {
//!         registry.create_metrics([
//!             MetricConfig::new("metric1", "a metric", "gauge"),
//!             MetricConfig::new("metric2", "another metric", "counter").labels(["l1", "l2"]),
//!         ])?;
//!         Ok(())
//!     }
//!
//!     fn on_application_startup(&mut self, app: &mut BoundExporter) -> Result<(), BoxError> {
//!         app.set_metric_update_handler(|metrics| {
//!             metrics.gauge("metric1")?.set(1.0);
//!             metrics.counter_family("metric2")?.labels(&["a", "b"])?.inc();
//!             Ok(())
//!         });
//!         Ok(())
//!     }
//! }
//!
//! fn main() {
//!     MyExporter.run()
//! }
//! ```
//!
//! Without the script, a program declares each metric once with a typed constructor
//! ([`Registry::counter`], [`Registry::histogram`], [`Registry::counter_family`], …) and keeps
//! the handle: a misspelt metric does not compile, nor does a wrong number of label values
//! for a [`TypedFamily`], and updates are atomics (a counter's `inc()` is one atomic add).
//! There are three ways to serve them, each with nothing it does not use (see the cargo
//! features in the README):
//!
//! - **A background thread**: [`Exporter::spawn`] serves on one thread of its own while the
//!   program updates metrics from any thread.
//!
#![cfg_attr(feature = "server", doc = "```")]
#![cfg_attr(not(feature = "server"), doc = "```ignore")]
//! use prometheus_aioexporter::Exporter;
//!
//! let mut exporter = Exporter::new("device-agent", "Metrics of the device.");
//! exporter.set_hosts(["127.0.0.1"]).set_port(0);
//! let uptime = exporter.registry_mut().gauge("uptime_seconds", "Uptime.")?;
//! let running = exporter.spawn()?;
//! uptime.set(12.0);
//! running.shutdown()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - **The program's own mio loop**: [`Exporter::bind_in`] registers the server's sockets in
//!   the program's `Poll` under a token range it chooses; see [`BoundExporter`] and
//!   `examples/own_loop.rs`. No thread is created.
//! - **A textfile or any writer**, for batch jobs: [`Registry::write_textfile`] for
//!   node_exporter's textfile collector, [`Registry::write_to`] for any `io::Write`. This needs
//!   no dependency at all (`default-features = false`).
//!
//! ```
//! use prometheus_aioexporter::Registry;
//!
//! let mut registry = Registry::new();
//! let temperature = registry.gauge_family("temperature_celsius", "Temperature.", ["room"])?;
//! temperature.labels(&["kitchen"]).set(21.5);
//!
//! let mut body = Vec::new();
//! registry.encode(&mut body)?;
//! assert!(body.ends_with(b"temperature_celsius{room=\"kitchen\"} 21.5\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The crate is built in layers, each a module that uses only those below it (see
//! `ARCHITECTURE.md`): the registry and metric values; the exposition formats; HTTP bytes and
//! the connection state machine, without sockets; the mio server; the exporter (routes and
//! the update handler); the script with its command line ([`cli`]). [`log`] is used by all.
//! `unsafe` code is confined to the server's `listener` (`IPV6_V6ONLY` on IPv6 listeners,
//! the open-files limit) and `signal` (`sigaction` and the self-pipe) modules.
#![deny(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

#[cfg(feature = "script")]
pub mod cli;
#[cfg(feature = "server")]
mod exporter;
mod exposition;
#[cfg(feature = "server")]
mod http;
pub mod log;
mod registry;
#[cfg(feature = "script")]
mod script;
#[cfg(feature = "server")]
mod server;
mod wire;

#[cfg(feature = "basic-auth")]
pub use exporter::{BasicAuth, BasicAuthError};
#[cfg(feature = "server")]
pub use exporter::{
    BoundExporter, Exporter, ExporterError, RunningExporter, Scrape, UpdateHandler,
};
pub use exposition::{Format, WriteError};
#[cfg(feature = "process-stats")]
pub use registry::process::{ProcessMetrics, ProcessStatsError};
pub use registry::{
    exponential_buckets, is_valid_label_name, is_valid_metric_name, linear_buckets, BoxError,
    CollectError, CollectedFamily, CollectedValue, Collector, Counter, CounterFamily, Enum,
    EnumFamily, Family, Gauge, GaugeFamily, Histogram, HistogramFamily, Info, InfoFamily,
    IntoMetricType, Metric, MetricConfig, MetricError, MetricType, Metrics, Registry, Series,
    Summary, SummaryFamily, TypedFamily, DEFAULT_AGE_BUCKETS, DEFAULT_BUCKETS, DEFAULT_MAX_AGE,
};
#[cfg(feature = "script")]
pub use script::{
    run_script, script_parser, PrometheusExporterScript, EXIT_FAILURE, EXIT_OK, EXIT_USAGE,
};
#[cfg(feature = "server")]
pub use server::{Limits, ShutdownHandle, ShutdownSignals};
#[cfg(feature = "tls")]
pub use server::{TlsConfig, TlsError};

/// Not public API: the internals that the fuzz targets and benchmarks drive directly, as
/// httparse exposes its own to its benchmarks. Anything here may change in any release.
#[doc(hidden)]
pub mod internals {
    #[cfg(feature = "server")]
    pub use crate::exposition::negotiate::{accepts_gzip, negotiate_format};
    #[cfg(feature = "server")]
    pub use crate::http::*;
    #[cfg(feature = "tls")]
    pub use crate::server::{TlsOverMemory, TurnEnd};
    pub use crate::wire::float::write_float;
}

/// The README's Rust examples, compiled and run as doctests so they stay true.
#[cfg(all(doctest, feature = "script"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
