//! Prometheus metrics for Rust programs, served by a small single-threaded server (mio,
//! httparse; no async runtime, no HTTP framework); and exporters written as a script with a few
//! hooks, the Rust shape of Python's `prometheus-aioexporter`.
//!
//! # Instrumenting a program
//!
//! A program declares each metric once with a typed constructor, keeps the handles (in a
//! struct, say), updates them on its hot path from any thread, and serves them with an
//! [`Exporter`]:
//!
// The examples need the features they use; without them they are shown, not compiled.
#![cfg_attr(feature = "server", doc = "```")]
#![cfg_attr(not(feature = "server"), doc = "```ignore")]
//! use prometheus_aioexporter::{CounterFamily, Exporter, Histogram, DEFAULT_BUCKETS};
//!
//! /// The program's metrics, declared once.
//! struct Metrics {
//!     requests: CounterFamily<2>,
//!     latency: Histogram,
//! }
//!
//! let mut exporter = Exporter::new("my-server", "My server.");
//! exporter.set_hosts(["127.0.0.1"]).set_port(0); // a free port; 9100 or so in a real program
//! let registry = exporter.registry_mut();
//! let metrics = Metrics {
//!     requests: registry.counter_family("http_requests", "Requests served.", ["method", "code"])?,
//!     latency: registry.histogram("http_latency_seconds", "Request latency.", DEFAULT_BUCKETS)?,
//! };
//! let running = exporter.spawn()?; // serves GET /metrics on a thread of its own
//!
//! // The hot path, from any thread: atomics, no lookup by name.
//! metrics.requests.labels(&["GET", "200"]).inc();
//! metrics.latency.observe(0.0042);
//! # use std::io::{Read, Write};
//! # let mut conn = std::net::TcpStream::connect(running.local_addrs()[0])?;
//! # conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
//! # let mut response = String::new();
//! # conn.read_to_string(&mut response)?;
//! # assert!(response.contains("http_requests_total{method=\"GET\",code=\"200\"} 1\n"));
//! # assert!(response.contains("http_latency_seconds_count 1\n"));
//!
//! running.shutdown()?; // graceful; or let it serve until the program exits
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - A misspelt metric does not compile, nor does a wrong number of label values: a
//!   [`TypedFamily`] (`CounterFamily<2>`) takes exactly its `N` values, borrowed, and finding a
//!   series that exists allocates nothing. Keep the handle of a series used again and again
//!   (`let get_ok = metrics.requests.labels(&["GET", "200"])`) and each update is one atomic
//!   operation.
//! - The constructors: [`Registry::counter`], [`gauge`](Registry::gauge),
//!   [`histogram`](Registry::histogram), [`summary`](Registry::summary),
//!   [`info`](Registry::info), [`enumeration`](Registry::enumeration), each with a `_family`
//!   form that takes label names; [`Registry::register`] takes any [`MetricConfig`].
//!   [`Collector`]s add families read at scrape time.
//! - Three ways to serve, each with nothing it does not use (see the cargo features in the
//!   README): a background thread, [`Exporter::spawn`], as above; the program's own mio loop,
//!   [`Exporter::bind_in`] and [`BoundExporter`] (`examples/own_loop.rs`), with no thread; a
//!   textfile or any writer for batch jobs, [`Registry::write_textfile`] and
//!   [`Registry::write_to`], which need no dependency at all (`default-features = false`):
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
//! # Writing an exporter
//!
//! An exporter is one type implementing [`PrometheusExporterScript`] and a one-line `main`:
//! [`run`](PrometheusExporterScript::run) parses the command line (`-H`, `-p`, `-L`, … and
//! the script's own options, from arguments or environment variables), calls the hooks, serves
//! until SIGTERM or SIGINT, and exits 0, 1 or 2. Metrics are declared from configuration as
//! the Python library declares them, and found by name in the update handler that runs before
//! each scrape:
//!
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
//!     MyExporter.run() // until SIGTERM; `run_script` runs one with given arguments
//! }
//! ```
//!
//! A script may declare typed handles too, in `configure`, and keep them in its fields.
//!
//! # Layers
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
