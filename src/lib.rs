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
//! use prometheus_aioexporter::{BoxError, Exporter, MetricConfig, PrometheusExporterScript, Registry};
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
//!     fn on_application_startup(&mut self, app: &mut Exporter) -> Result<(), BoxError> {
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
//! Without the script, there are three ways in, each with nothing it does not use (see the
//! cargo features in the README):
//!
//! - **A background thread**: [`Exporter::spawn`] serves on one thread of its own while the
//!   program updates metrics from any thread.
//!
#![cfg_attr(feature = "server", doc = "```")]
#![cfg_attr(not(feature = "server"), doc = "```ignore")]
//! use prometheus_aioexporter::{Exporter, MetricConfig};
//!
//! let mut exporter = Exporter::new("device-agent", "Metrics of the device.");
//! exporter.set_hosts(["127.0.0.1"]).set_port(0);
//! let metrics = exporter
//!     .registry_mut()
//!     .create_metrics([MetricConfig::new("uptime_seconds", "Uptime.", "gauge")])?;
//! let running = exporter.spawn()?;
//! metrics.gauge("uptime_seconds")?.set(12.0);
//! running.shutdown()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - **The program's own mio loop**: [`Exporter::bind_in`] registers the server's sockets in
//!   the program's `Poll` under a token range it chooses; see [`server::Server::bind_in`] and
//!   `examples/own_loop.rs`. No thread is created.
//! - **A textfile or any writer**, for batch jobs: [`Registry::write_textfile`] for
//!   node_exporter's textfile collector, [`Registry::write_to`] for any `io::Write`. This needs
//!   no dependency at all (`default-features = false`).
//!
//! ```
//! use prometheus_aioexporter::{MetricConfig, Registry};
//!
//! let mut registry = Registry::new();
//! let metrics = registry.create_metrics([
//!     MetricConfig::new("temperature_celsius", "Temperature.", "gauge").labels(["room"]),
//! ])?;
//! metrics.gauge_family("temperature_celsius")?.labels(&["kitchen"])?.set(21.5);
//!
//! let mut body = Vec::new();
//! registry.encode(&mut body)?;
//! assert!(body.ends_with(b"temperature_celsius{room=\"kitchen\"} 21.5\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules, one concept each: [`metrics`] (declarations and values), [`registry`],
//! [`encode`] (text and OpenMetrics), [`negotiate`] (`Accept` and `Accept-Encoding`),
//! [`textfile`], [`http`] (request bytes to decisions, no sockets), [`session`] (a
//! connection's state machine, no sockets), [`server`] (the mio event loop), [`exporter`]
//! (routes and the update handler), [`cli`] (the command line), [`process`] (process metrics),
//! [`log`], [`signal`] (SIGTERM/SIGINT), and [`script`]. `unsafe` code is confined to
//! [`signal`] (`sigaction`) and the private `listener` (`IPV6_V6ONLY` on IPv6 listeners).
#![deny(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

#[cfg(feature = "script")]
pub mod cli;
mod dtoa;
pub mod encode;
#[cfg(feature = "server")]
pub mod exporter;
#[cfg(feature = "gzip")]
mod gzip;
#[cfg(feature = "server")]
pub mod http;
#[cfg(feature = "server")]
mod listener;
pub mod log;
pub mod metrics;
#[cfg(feature = "server")]
pub mod negotiate;
#[cfg(feature = "process-stats")]
pub mod process;
pub mod registry;
#[cfg(feature = "script")]
pub mod script;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod session;
#[cfg(feature = "server")]
pub mod signal;
pub mod textfile;

#[cfg(feature = "server")]
pub use exporter::{Exporter, ExporterError, RunningExporter, Scrape, UpdateHandler};
pub use metrics::{
    exponential_buckets, linear_buckets, Counter, Enum, Family, Gauge, Histogram, Info,
    IntoMetricType, MetricConfig, MetricError, MetricType, Series, Summary, DEFAULT_BUCKETS,
};
pub use registry::{BoxError, CollectError, CollectedFamily, Collector, Metric, Metrics, Registry};
#[cfg(feature = "script")]
pub use script::{run_script, PrometheusExporterScript};
#[cfg(feature = "server")]
pub use server::{Limits, ShutdownHandle};

/// The README's Rust examples, compiled and run as doctests so they stay true.
#[cfg(all(doctest, feature = "script"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
