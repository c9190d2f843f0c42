//! Write Prometheus exporters as a script with a few hooks.
#![deny(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

pub mod cli;
pub mod encode;
pub mod exporter;
pub mod http;
pub mod log;
pub mod metrics;
pub mod process;
pub mod registry;
pub mod server;
pub mod signal;

pub use metrics::{
    Counter, Enum, Family, Gauge, Histogram, Info, IntoMetricType, MetricConfig, MetricError,
    MetricType, Series, Summary, DEFAULT_BUCKETS,
};
pub use registry::{BoxError, CollectError, CollectedFamily, Collector, Metric, Metrics, Registry};
