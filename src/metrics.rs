//! Metric declarations and the values behind them.
//!
//! This module owns what a metric *is*: its configuration ([`MetricConfig`]), the validation of
//! names and labels, and the handles users update ([`Counter`], [`Gauge`], [`Histogram`],
//! [`Summary`], [`Info`], [`Enum`], and [`Family`] for labelled metrics). Handles are cheap to
//! clone (one `Arc`), `Send + Sync`, and updated with atomics: an unlabelled metric is never
//! behind a lock. What a metric *looks like on the wire* belongs to [`crate::encode`]; this
//! module pre-renders the escaped label pairs of each series when it is created, so a scrape
//! only copies bytes.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::encode;

/// Prometheus' default histogram buckets: client_golang's `DefBuckets`, and the Rust
/// `prometheus` crate's. (Python's `prometheus_client` adds `0.075`, `0.75` and `7.5`; pass
/// its list to [`MetricConfig::buckets`] to keep a Python exporter's series.)
pub const DEFAULT_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// `count` bucket bounds from `start`, each `factor` times the one before: client_golang's
/// `ExponentialBuckets`, computed the same way, so the bounds (and their `le` values) are Go's
/// bit for bit. As any bounds, they must increase: the declaration refuses them otherwise
/// ([`MetricError::InvalidBuckets`]), and when `count` is 0.
///
/// ```
/// use prometheus_aioexporter::{exponential_buckets, MetricConfig};
///
/// let bounds: Vec<f64> = exponential_buckets(0.001, 2.0, 4).collect();
/// assert_eq!(bounds, [0.001, 0.002, 0.004, 0.008]);
/// let config = MetricConfig::new("latency_seconds", "Latency.", "histogram")
///     .buckets(exponential_buckets(0.001, 2.0, 12));
/// ```
pub fn exponential_buckets(start: f64, factor: f64, count: usize) -> impl Iterator<Item = f64> {
    std::iter::successors(Some(start), move |bound| Some(bound * factor)).take(count)
}

/// `count` bucket bounds from `start`, `width` apart: client_golang's `LinearBuckets`, computed
/// the same way (each the one before plus `width`), so the bounds are Go's bit for bit
/// (`0.1, 0.2, 0.30000000000000004` from `0.1` by `0.1`). As any bounds, they must increase:
/// the declaration refuses them otherwise ([`MetricError::InvalidBuckets`]), and when `count`
/// is 0.
///
/// ```
/// use prometheus_aioexporter::linear_buckets;
///
/// let bounds: Vec<f64> = linear_buckets(10.0, 5.0, 3).collect();
/// assert_eq!(bounds, [10.0, 15.0, 20.0]);
/// ```
pub fn linear_buckets(start: f64, width: f64, count: usize) -> impl Iterator<Item = f64> {
    std::iter::successors(Some(start), move |bound| Some(bound + width)).take(count)
}

/// The kinds of metric a [`MetricConfig`] can declare.
///
/// Parsed from the names Python's `prometheus-aioexporter` uses:
///
/// ```
/// use prometheus_aioexporter::MetricType;
///
/// assert_eq!("histogram".parse::<MetricType>().unwrap(), MetricType::Histogram);
/// let err = "hist".parse::<MetricType>().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid metric type 'hist': expected one of counter, gauge, histogram, summary, info, enum"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// A value that only goes up; exposed with the `_total` suffix.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Observations counted into buckets, with their sum and count.
    Histogram,
    /// Observations summed and counted (no quantiles, as in Python's client).
    Summary,
    /// Key-value pairs exposed as labels of a `_info` sample with value 1.
    Info,
    /// One of a fixed set of states; one sample per state, 1 for the current one.
    Enum,
}

impl MetricType {
    /// Every type, in the order help texts and errors list them.
    pub const ALL: [MetricType; 6] = [
        MetricType::Counter,
        MetricType::Gauge,
        MetricType::Histogram,
        MetricType::Summary,
        MetricType::Info,
        MetricType::Enum,
    ];

    /// The type's name as written in a [`MetricConfig`] (`"counter"`, `"gauge"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::Enum => "enum",
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for MetricType {
    type Err = MetricError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MetricType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| MetricError::InvalidMetricType(s.to_string()))
    }
}

/// Anything that names a metric type: a [`MetricType`] or its name as a string.
///
/// This lets [`MetricConfig::new`] take `"gauge"` as the Python library does, or
/// `MetricType::Gauge`; a bad name surfaces as [`MetricError::InvalidMetricType`] from
/// [`Registry::create_metrics`](crate::Registry::create_metrics).
pub trait IntoMetricType {
    /// The type, or the error naming the valid ones.
    fn into_metric_type(self) -> Result<MetricType, MetricError>;
}

impl IntoMetricType for MetricType {
    fn into_metric_type(self) -> Result<MetricType, MetricError> {
        Ok(self)
    }
}

impl IntoMetricType for &str {
    fn into_metric_type(self) -> Result<MetricType, MetricError> {
        self.parse()
    }
}

impl IntoMetricType for String {
    fn into_metric_type(self) -> Result<MetricType, MetricError> {
        self.parse()
    }
}

impl IntoMetricType for &String {
    fn into_metric_type(self) -> Result<MetricType, MetricError> {
        self.parse()
    }
}

/// Why a metric could not be declared or updated.
///
/// Messages name the culprit and the accepted form, e.g.
/// `invalid metric name 'a-b': expected [a-zA-Z_:][a-zA-Z0-9_:]*`. Its `Debug` shows the same
/// message, as `MetricError(…)`.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum MetricError {
    /// The type name is not one of `counter gauge histogram summary info enum`.
    InvalidMetricType(String),
    /// The metric name does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    InvalidMetricName(String),
    /// A label name does not match `[a-zA-Z_][a-zA-Z0-9_]*`, starts with the reserved `__`,
    /// or is reserved by the metric's type (`le`, `quantile`, an enum's own name).
    InvalidLabelName {
        /// The metric being declared.
        metric: String,
        /// The offending label name.
        label: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The same label name appears twice.
    DuplicateLabelName {
        /// The metric being declared.
        metric: String,
        /// The repeated label name.
        label: String,
    },
    /// A metric of this name exists already (in the registry or earlier in the same batch).
    DuplicateMetric(String),
    /// A series name the metric would expose is another metric's: a histogram `h` exposes
    /// `h_count`, a counter `c` exposes `c_total`.
    SeriesNameTaken {
        /// The metric being declared.
        metric: String,
        /// The series name it would share.
        series: String,
        /// The metric that exposes it already.
        owner: String,
    },
    /// Histogram buckets are empty (or only `+Inf`), unsorted, repeated or NaN, as in Python's
    /// client.
    InvalidBuckets {
        /// The histogram being declared.
        metric: String,
        /// What is wrong with them.
        reason: &'static str,
    },
    /// An enum was declared without states, or with an empty or repeated state.
    InvalidStates {
        /// The enum being declared.
        metric: String,
        /// What is wrong with them.
        reason: &'static str,
    },
    /// An option that does not apply to this type (buckets on a gauge, states on a counter).
    InvalidOption {
        /// The metric being declared.
        metric: String,
        /// The option, e.g. `"buckets"`.
        option: &'static str,
        /// The metric's type.
        kind: MetricType,
    },
    /// The number of label values differs from the number of label names.
    LabelCount {
        /// The metric.
        metric: String,
        /// How many label names it declares.
        expected: usize,
        /// How many values were given.
        got: usize,
    },
    /// No metric of this name is known.
    UnknownMetric(String),
    /// The metric exists with another type than the accessor asked for.
    WrongType {
        /// The metric.
        metric: String,
        /// Its declared type.
        actual: MetricType,
        /// The type the accessor expected.
        requested: MetricType,
    },
    /// The metric has labels, so its values are reached through [`Family::labels`].
    LabelsRequired {
        /// The metric.
        metric: String,
        /// Its label names.
        labels: Vec<String>,
    },
    /// A counter was asked to go down (negative or NaN increment).
    NegativeIncrement {
        /// The increment that was refused.
        value: f64,
    },
    /// An enum was set to a state it does not declare.
    UnknownState {
        /// The enum.
        metric: String,
        /// The refused state.
        state: String,
    },
}

/// The message rather than the fields: a derived `Debug` would format the `f64` of
/// [`MetricError::NegativeIncrement`] with `core::fmt`'s float machinery.
impl fmt::Debug for MetricError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MetricError({self})")
    }
}

impl fmt::Display for MetricError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricError::InvalidMetricType(t) => {
                write!(f, "invalid metric type '{t}': expected one of ")?;
                for (i, t) in MetricType::ALL.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(t.as_str())?;
                }
                Ok(())
            }
            MetricError::InvalidMetricName(n) => {
                write!(
                    f,
                    "invalid metric name '{n}': expected [a-zA-Z_:][a-zA-Z0-9_:]*"
                )
            }
            MetricError::InvalidLabelName {
                metric,
                label,
                reason,
            } => write!(
                f,
                "invalid label name '{label}' for metric '{metric}': {reason}"
            ),
            MetricError::DuplicateLabelName { metric, label } => {
                write!(f, "duplicate label name '{label}' for metric '{metric}'")
            }
            MetricError::DuplicateMetric(n) => write!(f, "metric '{n}' is already registered"),
            MetricError::SeriesNameTaken {
                metric,
                series,
                owner,
            } => write!(
                f,
                "metric '{metric}' would expose '{series}', which metric '{owner}' exposes already"
            ),
            MetricError::InvalidBuckets { metric, reason } => {
                write!(f, "invalid buckets for histogram '{metric}': {reason}")
            }
            MetricError::InvalidStates { metric, reason } => {
                write!(f, "invalid states for enum '{metric}': {reason}")
            }
            MetricError::InvalidOption {
                metric,
                option,
                kind,
            } => write!(f, "option '{option}' does not apply to {kind} '{metric}'"),
            MetricError::LabelCount {
                metric,
                expected,
                got,
            } => write!(
                f,
                "metric '{metric}' takes {expected} label value(s), {got} given"
            ),
            MetricError::UnknownMetric(n) => write!(f, "no metric named '{n}'"),
            MetricError::WrongType {
                metric,
                actual,
                requested,
            } => write!(f, "metric '{metric}' is a {actual}, not a {requested}"),
            MetricError::LabelsRequired { metric, labels } => write!(
                f,
                "metric '{metric}' has labels [{}]: use its family and labels(...)",
                labels.join(", ")
            ),
            MetricError::NegativeIncrement { value } => {
                // The crate's float writer: `core::fmt`'s would add 15 KB to small binaries.
                let mut text = Vec::new();
                encode::write_float(&mut text, *value);
                let text = String::from_utf8_lossy(&text);
                write!(f, "counters only go up: refused increment {text}")
            }
            MetricError::UnknownState { metric, state } => {
                write!(f, "enum '{metric}' has no state '{state}'")
            }
        }
    }
}

impl std::error::Error for MetricError {}

/// `true` if `name` is a valid metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_valid_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b':' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// The names a family of `kind` called `name` puts on the wire, in either format: its family
/// name and its samples' names. Two metrics must not share any, or a scraper would see one
/// family twice.
pub(crate) fn exposed_names(name: &str, kind: MetricType) -> Vec<String> {
    let suffixes: &[&str] = match kind {
        // `_created`: OpenMetrics reserves it for these types, even where it is not written.
        MetricType::Counter => &["", "_total", "_created"],
        MetricType::Gauge | MetricType::Enum => &[""],
        MetricType::Histogram => &["", "_bucket", "_sum", "_count", "_created"],
        MetricType::Summary => &["", "_sum", "_count", "_created"],
        MetricType::Info => &["", "_info"],
    };
    suffixes.iter().map(|s| format!("{name}{s}")).collect()
}

/// `true` if `name` is a valid label name, `[a-zA-Z_][a-zA-Z0-9_]*` (reserved `__` not checked).
pub fn is_valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The declaration of one metric: the analogue of Python's
/// `MetricConfig(name, description, type, config)`.
///
/// ```
/// use prometheus_aioexporter::{MetricConfig, Registry};
///
/// let mut registry = Registry::new();
/// let metrics = registry.create_metrics([
///     MetricConfig::new("queue_length", "Jobs waiting.", "gauge"),
///     MetricConfig::new("requests", "Requests served.", "counter").labels(["method"]),
///     MetricConfig::new("latency_seconds", "Request latency.", "histogram")
///         .buckets([0.1, 0.5, 1.0]),
///     MetricConfig::new("state", "Service state.", "enum").states(["starting", "running"]),
/// ])?;
/// metrics.gauge("queue_length")?.set(3.0);
/// metrics.counter_family("requests")?.labels(&["GET"])?.inc();
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Debug, Clone)]
pub struct MetricConfig {
    name: String,
    description: String,
    kind: Result<MetricType, MetricError>,
    labels: Vec<String>,
    buckets: Option<Vec<f64>>,
    states: Option<Vec<String>>,
}

impl MetricConfig {
    /// Declares a metric; `kind` is a [`MetricType`] or its name (`"counter"`, `"gauge"`,
    /// `"histogram"`, `"summary"`, `"info"`, `"enum"`).
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        kind: impl IntoMetricType,
    ) -> MetricConfig {
        MetricConfig {
            name: name.into(),
            description: description.into(),
            kind: kind.into_metric_type(),
            labels: Vec::new(),
            buckets: None,
            states: None,
        }
    }

    /// Label names; each series of the metric then has one value per name.
    pub fn labels<I, S>(mut self, names: I) -> MetricConfig
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.labels = names.into_iter().map(Into::into).collect();
        self
    }

    /// Histogram bucket upper bounds, increasing; `+Inf` is added when missing.
    /// Without this, [`DEFAULT_BUCKETS`].
    pub fn buckets<I: IntoIterator<Item = f64>>(mut self, bounds: I) -> MetricConfig {
        self.buckets = Some(bounds.into_iter().collect());
        self
    }

    /// The states of an enum metric; the first is its initial state.
    pub fn states<I, S>(mut self, states: I) -> MetricConfig
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.states = Some(states.into_iter().map(Into::into).collect());
        self
    }

    /// The metric's name as declared.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks the declaration and builds the metric's descriptor.
    pub(crate) fn into_desc(self) -> Result<Desc, MetricError> {
        let kind = self.kind?;
        if !is_valid_metric_name(&self.name) {
            return Err(MetricError::InvalidMetricName(self.name));
        }
        // Counters and infos are exposed with a suffix the client adds, as Python's client
        // does: a name declared with the suffix already is not suffixed twice.
        let name = match kind {
            MetricType::Counter => self.name.strip_suffix("_total"),
            MetricType::Info => self.name.strip_suffix("_info"),
            _ => None,
        }
        .filter(|base| !base.is_empty())
        .unwrap_or(&self.name)
        .to_string();
        let enum_label = [name.as_str()];
        let reserved: &[&str] = match kind {
            MetricType::Histogram => &["le"],
            MetricType::Summary => &["quantile"],
            MetricType::Enum => &enum_label,
            _ => &[],
        };
        for (i, label) in self.labels.iter().enumerate() {
            check_label_name(&name, label, reserved)?;
            if self.labels[..i].contains(label) {
                return Err(MetricError::DuplicateLabelName {
                    metric: name,
                    label: label.clone(),
                });
            }
        }
        if self.buckets.is_some() && kind != MetricType::Histogram {
            return Err(MetricError::InvalidOption {
                metric: name,
                option: "buckets",
                kind,
            });
        }
        if self.states.is_some() && kind != MetricType::Enum {
            return Err(MetricError::InvalidOption {
                metric: name,
                option: "states",
                kind,
            });
        }
        let buckets = match kind {
            MetricType::Histogram => check_buckets(&name, self.buckets)?,
            _ => Vec::new(),
        };
        let states = match kind {
            MetricType::Enum => {
                if !is_valid_label_name(&name) || name.starts_with("__") {
                    return Err(MetricError::InvalidStates {
                        metric: name,
                        reason: "an enum's name is also its state label, so it must match [a-zA-Z_][a-zA-Z0-9_]* and not start with '__'",
                    });
                }
                check_states(&name, self.states.unwrap_or_default())?
            }
            _ => Vec::new(),
        };
        Ok(Desc::new(
            name,
            self.description,
            kind,
            self.labels,
            buckets,
            states,
        ))
    }
}

fn check_label_name(metric: &str, label: &str, reserved: &[&str]) -> Result<(), MetricError> {
    let reason = if !is_valid_label_name(label) {
        "expected [a-zA-Z_][a-zA-Z0-9_]*"
    } else if label.starts_with("__") {
        "names starting with '__' are reserved for Prometheus"
    } else if reserved.contains(&label) {
        "reserved by the metric's type"
    } else {
        return Ok(());
    };
    Err(MetricError::InvalidLabelName {
        metric: metric.to_string(),
        label: label.to_string(),
        reason,
    })
}

fn check_buckets(metric: &str, buckets: Option<Vec<f64>>) -> Result<Vec<f64>, MetricError> {
    let mut buckets = buckets.unwrap_or_else(|| DEFAULT_BUCKETS.to_vec());
    let invalid = |reason| MetricError::InvalidBuckets {
        metric: metric.to_string(),
        reason,
    };
    if buckets.iter().any(|b| b.is_nan()) {
        return Err(invalid("NaN is not a bucket bound"));
    }
    if buckets.windows(2).any(|w| w[0] >= w[1]) {
        return Err(invalid("bounds must be strictly increasing"));
    }
    if buckets.last() != Some(&f64::INFINITY) {
        buckets.push(f64::INFINITY);
    }
    if buckets.len() < 2 {
        return Err(invalid("a histogram needs a bound below +Inf"));
    }
    Ok(buckets)
}

fn check_states(metric: &str, states: Vec<String>) -> Result<Vec<String>, MetricError> {
    let invalid = |reason| MetricError::InvalidStates {
        metric: metric.to_string(),
        reason,
    };
    if states.is_empty() {
        return Err(invalid("an enum needs at least one state"));
    }
    if states.iter().any(String::is_empty) {
        return Err(invalid(
            "a state must not be empty (it would read as no label)",
        ));
    }
    for (i, s) in states.iter().enumerate() {
        if states[..i].contains(s) {
            return Err(invalid("states must be unique"));
        }
    }
    Ok(states)
}

/// What a metric is, fixed at creation: name, help, type, label names, and the parts of its
/// exposition that never change, rendered once.
#[derive(Debug)]
#[doc(hidden)]
pub struct Desc {
    pub(crate) name: String,
    pub(crate) help: String,
    pub(crate) kind: MetricType,
    pub(crate) label_names: Vec<String>,
    /// Histogram upper bounds, ending with `+Inf`.
    pub(crate) buckets: Vec<f64>,
    /// Histogram `le` values, formatted once per [`encode::Format`] (text, OpenMetrics).
    pub(crate) bucket_labels: [Vec<String>; 2],
    /// Enum states.
    pub(crate) states: Vec<String>,
    /// Enum state label pairs, e.g. `state="running"`, escaped once.
    pub(crate) state_labels: Vec<String>,
    /// The `# HELP` and `# TYPE` lines, rendered once per [`encode::Format`].
    headers: [Vec<u8>; 2],
}

impl Desc {
    fn new(
        name: String,
        help: String,
        kind: MetricType,
        label_names: Vec<String>,
        buckets: Vec<f64>,
        states: Vec<String>,
    ) -> Desc {
        let bucket_labels = encode::Format::ALL.map(|format| {
            buckets
                .iter()
                .map(|&b| {
                    let mut s = Vec::new();
                    encode::write_bound(&mut s, b, format);
                    String::from_utf8(s).unwrap_or_default()
                })
                .collect()
        });
        let state_labels = states
            .iter()
            .map(|s| {
                let mut out = Vec::new();
                encode::write_label_pair(&mut out, &name, s);
                String::from_utf8(out).unwrap_or_default()
            })
            .collect();
        let headers = encode::Format::ALL.map(|format| {
            let mut header = Vec::new();
            encode::write_header(&mut header, &name, kind, &help, format);
            header
        });
        Desc {
            name,
            help,
            kind,
            label_names,
            buckets,
            bucket_labels,
            states,
            state_labels,
            headers,
        }
    }

    /// The `# HELP` and `# TYPE` lines in `format`.
    pub(crate) fn header(&self, format: encode::Format) -> &[u8] {
        &self.headers[format.index()]
    }
}

/// An `f64` updated atomically through its bit pattern.
#[derive(Debug, Default)]
pub(crate) struct AtomicF64(AtomicU64);

impl AtomicF64 {
    fn new(v: f64) -> AtomicF64 {
        AtomicF64(AtomicU64::new(v.to_bits()))
    }

    pub(crate) fn get(&self) -> f64 {
        f64::from_bits(self.0.load(AtomicOrdering::Relaxed))
    }

    fn set(&self, v: f64) {
        self.0.store(v.to_bits(), AtomicOrdering::Relaxed);
    }

    fn add(&self, delta: f64) {
        let mut current = self.0.load(AtomicOrdering::Relaxed);
        loop {
            let new = (f64::from_bits(current) + delta).to_bits();
            match self.0.compare_exchange_weak(
                current,
                new,
                AtomicOrdering::Relaxed,
                AtomicOrdering::Relaxed,
            ) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }
}

/// A series' value type: what [`Family`] creates for each label set. Series are ordered and
/// found by their rendered label pairs.
pub trait Series:
    Clone + Send + Sync + fmt::Debug + Ord + Borrow<str> + sealed::Sealed + 'static
{
    /// The type a family of this series has.
    const TYPE: MetricType;
    #[doc(hidden)]
    fn new_series(desc: &Arc<Desc>, labels: Box<str>) -> Self;
    #[doc(hidden)]
    fn labels_rendered(&self) -> &str;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! series {
    ($ty:ident, $core:ty, $kind:expr, |$desc:ident| $init:expr) => {
        impl sealed::Sealed for $ty {}
        impl Series for $ty {
            const TYPE: MetricType = $kind;
            fn new_series($desc: &Arc<Desc>, labels: Box<str>) -> Self {
                $ty(Arc::new(SeriesInner {
                    labels,
                    value: $init,
                }))
            }
            fn labels_rendered(&self) -> &str {
                &self.0.labels
            }
        }
        impl Borrow<str> for $ty {
            fn borrow(&self) -> &str {
                &self.0.labels
            }
        }
        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                self.0.labels == other.0.labels
            }
        }
        impl Eq for $ty {}
        impl PartialOrd for $ty {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $ty {
            fn cmp(&self, other: &Self) -> Ordering {
                self.0.labels.cmp(&other.0.labels)
            }
        }
        impl $ty {
            #[allow(dead_code)]
            pub(crate) fn inner(&self) -> &SeriesInner<$core> {
                &self.0
            }
        }
    };
}

/// One series: its label pairs rendered for the wire (also its key in the family), and its
/// value. Kept small: it is what a family holds per label set.
#[derive(Debug)]
pub(crate) struct SeriesInner<V> {
    /// `a="x",b="y"`, escaped, without braces; empty without labels.
    pub(crate) labels: Box<str>,
    pub(crate) value: V,
}

/// A counter: a value that only goes up. Exposed as `<name>_total`.
///
/// ```
/// use prometheus_aioexporter::{MetricConfig, Registry};
///
/// let mut registry = Registry::new();
/// let metrics = registry.create_metrics([MetricConfig::new("jobs", "Jobs done.", "counter")])?;
/// let jobs = metrics.counter("jobs")?;
/// jobs.inc();
/// jobs.inc_by(2.5)?;
/// assert_eq!(jobs.get(), 3.5);
/// assert!(jobs.inc_by(-1.0).is_err());
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Counter(Arc<SeriesInner<AtomicF64>>);
series!(
    Counter,
    AtomicF64,
    MetricType::Counter,
    |_d| AtomicF64::new(0.0)
);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.value.add(1.0);
    }

    /// Adds `v`.
    ///
    /// # Errors
    /// [`MetricError::NegativeIncrement`] if `v` is negative or NaN; the counter is unchanged.
    pub fn inc_by(&self, v: f64) -> Result<(), MetricError> {
        if v.is_nan() || v < 0.0 {
            return Err(MetricError::NegativeIncrement { value: v });
        }
        self.0.value.add(v);
        Ok(())
    }

    /// Sets the counter to `v`: for exporters that mirror a total kept elsewhere (a kernel
    /// counter, another service's statistics). The caller keeps it monotonic.
    pub fn set(&self, v: f64) {
        self.0.value.set(v);
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.0.value.get()
    }
}

/// A gauge: a value that goes up and down.
///
/// ```
/// use prometheus_aioexporter::{MetricConfig, Registry};
///
/// let mut registry = Registry::new();
/// let metrics = registry.create_metrics([MetricConfig::new("temp", "Temperature.", "gauge")])?;
/// let temp = metrics.gauge("temp")?;
/// temp.set(20.5);
/// temp.dec();
/// assert_eq!(temp.get(), 19.5);
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Gauge(Arc<SeriesInner<AtomicF64>>);
series!(Gauge, AtomicF64, MetricType::Gauge, |_d| AtomicF64::new(
    0.0
));

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: f64) {
        self.0.value.set(v);
    }

    /// Adds one.
    pub fn inc(&self) {
        self.0.value.add(1.0);
    }

    /// Subtracts one.
    pub fn dec(&self) {
        self.0.value.add(-1.0);
    }

    /// Adds `v` (which may be negative).
    pub fn add(&self, v: f64) {
        self.0.value.add(v);
    }

    /// Subtracts `v`.
    pub fn sub(&self, v: f64) {
        self.0.value.add(-v);
    }

    /// Sets the value to the current Unix time in seconds.
    pub fn set_to_current_time(&self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        self.set(now);
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.0.value.get()
    }
}

/// The values of a histogram series: a count per bucket (not cumulative; the encoder sums),
/// and the sum of observations.
#[derive(Debug)]
pub(crate) struct HistogramValue {
    /// The bucket bounds live in the family's descriptor.
    pub(crate) desc: Arc<Desc>,
    pub(crate) counts: Box<[AtomicU64]>,
    pub(crate) sum: AtomicF64,
}

/// A histogram: observations counted into buckets, with their sum and count.
///
/// ```
/// use prometheus_aioexporter::{MetricConfig, Registry};
///
/// let mut registry = Registry::new();
/// let metrics = registry.create_metrics([
///     MetricConfig::new("latency_seconds", "Latency.", "histogram").buckets([0.1, 1.0]),
/// ])?;
/// let latency = metrics.histogram("latency_seconds")?;
/// latency.observe(0.05);
/// latency.observe(0.5);
/// assert_eq!(latency.count(), 2);
/// assert_eq!(latency.sum(), 0.55);
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Histogram(Arc<SeriesInner<HistogramValue>>);
series!(Histogram, HistogramValue, MetricType::Histogram, |d| {
    HistogramValue {
        desc: Arc::clone(d),
        counts: d.buckets.iter().map(|_| AtomicU64::new(0)).collect(),
        sum: AtomicF64::new(0.0),
    }
});

impl Histogram {
    /// Records one observation. NaN counts only in the `+Inf` bucket (and makes the sum NaN).
    pub fn observe(&self, v: f64) {
        let bounds = &self.0.value.desc.buckets;
        let i = bounds
            .iter()
            .position(|&b| v <= b)
            .unwrap_or(bounds.len() - 1);
        if let Some(count) = self.0.value.counts.get(i) {
            count.fetch_add(1, AtomicOrdering::Relaxed);
        }
        self.0.value.sum.add(v);
    }

    /// Runs `f` and observes how long it took, in seconds, as Python's `Histogram.time()`
    /// does; returns what `f` returns. A panic in `f` is observed too, when panics unwind.
    ///
    /// ```
    /// # use prometheus_aioexporter::{MetricConfig, Registry};
    /// # let mut registry = Registry::new();
    /// # let metrics = registry.create_metrics([MetricConfig::new("query_seconds", "", "histogram")])?;
    /// let query = metrics.histogram("query_seconds")?;
    /// let rows = query.time(|| 42);
    /// assert_eq!((rows, query.count()), (42, 1));
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        timed(f, |seconds| self.observe(seconds))
    }

    /// The number of observations.
    pub fn count(&self) -> u64 {
        self.0
            .value
            .counts
            .iter()
            .map(|c| c.load(AtomicOrdering::Relaxed))
            .sum()
    }

    /// The sum of observations.
    pub fn sum(&self) -> f64 {
        self.0.value.sum.get()
    }
}

/// Runs `f`, then gives `observe` the seconds it took, also when `f` panics (as Python's
/// `.time()` records a call that raised).
fn timed<T, O: FnOnce(f64)>(f: impl FnOnce() -> T, observe: O) -> T {
    /// Observes on drop, so that an unwinding panic is timed too.
    struct Timer<O: FnOnce(f64)> {
        started: Instant,
        observe: Option<O>,
    }
    impl<O: FnOnce(f64)> Drop for Timer<O> {
        fn drop(&mut self) {
            if let Some(observe) = self.observe.take() {
                observe(self.started.elapsed().as_secs_f64());
            }
        }
    }
    let _timer = Timer {
        started: Instant::now(),
        observe: Some(observe),
    };
    f()
}

/// The values of a summary series.
#[derive(Debug)]
pub(crate) struct SummaryValue {
    pub(crate) count: AtomicU64,
    pub(crate) sum: AtomicF64,
}

/// A summary: observations summed and counted (`_sum`, `_count`; no quantiles, like Python's
/// client).
#[derive(Clone, Debug)]
pub struct Summary(Arc<SeriesInner<SummaryValue>>);
series!(Summary, SummaryValue, MetricType::Summary, |_d| {
    SummaryValue {
        count: AtomicU64::new(0),
        sum: AtomicF64::new(0.0),
    }
});

impl Summary {
    /// Records one observation.
    pub fn observe(&self, v: f64) {
        self.0.value.sum.add(v);
        self.0.value.count.fetch_add(1, AtomicOrdering::Relaxed);
    }

    /// Runs `f` and observes how long it took, in seconds, as [`Histogram::time`] does.
    pub fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        timed(f, |seconds| self.observe(seconds))
    }

    /// The number of observations.
    pub fn count(&self) -> u64 {
        self.0.value.count.load(AtomicOrdering::Relaxed)
    }

    /// The sum of observations.
    pub fn sum(&self) -> f64 {
        self.0.value.sum.get()
    }
}

/// An info metric: key-value pairs exposed as the labels of a `<name>_info` sample of value 1.
///
/// ```
/// use prometheus_aioexporter::{MetricConfig, Registry};
///
/// let mut registry = Registry::new();
/// let metrics = registry.create_metrics([MetricConfig::new("build", "Build facts.", "info")])?;
/// metrics.info("build")?.set([("version", "1.2.3"), ("commit", "abc")])?;
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Info(Arc<SeriesInner<InfoValue>>);
series!(Info, InfoValue, MetricType::Info, |d| InfoValue {
    desc: Arc::clone(d),
    pairs: Mutex::new(String::new()),
});

/// The value of an info series: its key-value pairs, rendered.
#[derive(Debug)]
pub(crate) struct InfoValue {
    /// The metric's name and label names, to check keys against.
    desc: Arc<Desc>,
    pub(crate) pairs: Mutex<String>,
}

impl Info {
    /// Replaces the key-value pairs.
    ///
    /// # Errors
    /// [`MetricError::InvalidLabelName`] if a key is not a valid label name;
    /// [`MetricError::DuplicateLabelName`] if a key repeats or is one of the metric's own
    /// labels.
    pub fn set<I, K, V>(&self, pairs: I) -> Result<(), MetricError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let desc = &self.0.value.desc;
        let mut keys: Vec<String> = Vec::new();
        let mut rendered = Vec::new();
        for (k, v) in pairs {
            let (k, v) = (k.as_ref(), v.as_ref());
            check_label_name(&desc.name, k, &[])?;
            if keys.iter().chain(&desc.label_names).any(|seen| seen == k) {
                return Err(MetricError::DuplicateLabelName {
                    metric: desc.name.clone(),
                    label: k.to_string(),
                });
            }
            keys.push(k.to_string());
            if !rendered.is_empty() {
                rendered.push(b',');
            }
            encode::write_label_pair(&mut rendered, k, v);
        }
        *lock(&self.0.value.pairs) = String::from_utf8(rendered).unwrap_or_default();
        Ok(())
    }
}

/// An enum metric: one of a fixed set of states.
///
/// ```
/// use prometheus_aioexporter::{MetricConfig, Registry};
///
/// let mut registry = Registry::new();
/// let metrics = registry.create_metrics([
///     MetricConfig::new("state", "Service state.", "enum").states(["starting", "running"]),
/// ])?;
/// let state = metrics.enumeration("state")?;
/// assert_eq!(state.state(), "starting");
/// state.set("running")?;
/// assert!(state.set("exploded").is_err());
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Enum(Arc<SeriesInner<EnumValue>>);
series!(Enum, EnumValue, MetricType::Enum, |d| EnumValue {
    desc: Arc::clone(d),
    state: AtomicUsize::new(0),
});

/// The value of an enum series: the index of its state.
#[derive(Debug)]
pub(crate) struct EnumValue {
    /// The states live in the family's descriptor.
    desc: Arc<Desc>,
    pub(crate) state: AtomicUsize,
}

impl Enum {
    /// Sets the current state.
    ///
    /// # Errors
    /// [`MetricError::UnknownState`] if `state` is not one of the declared states.
    pub fn set(&self, state: &str) -> Result<(), MetricError> {
        let desc = &self.0.value.desc;
        let i = desc.states.iter().position(|s| s == state).ok_or_else(|| {
            MetricError::UnknownState {
                metric: desc.name.clone(),
                state: state.to_string(),
            }
        })?;
        self.0.value.state.store(i, AtomicOrdering::Relaxed);
        Ok(())
    }

    /// The current state.
    pub fn state(&self) -> &str {
        let desc = &self.0.value.desc;
        let i = self.0.value.state.load(AtomicOrdering::Relaxed);
        desc.states.get(i).map(String::as_str).unwrap_or("")
    }
}

/// Locks a mutex, recovering the data if another thread panicked while holding it: metric
/// values stay meaningful after a panic elsewhere, and a scrape must not fail because of one.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A metric with labels: one series of `S` per set of label values.
///
/// `labels(...)` finds or creates a series; `remove(...)` and `clear()` drop series, so an
/// exporter that rebuilds its series on every scrape does not expose stale ones. Series are
/// exposed ordered by label values.
///
/// ```
/// use prometheus_aioexporter::{MetricConfig, Registry};
///
/// let mut registry = Registry::new();
/// let metrics = registry.create_metrics([
///     MetricConfig::new("disk_free_bytes", "Free space.", "gauge").labels(["mount"]),
/// ])?;
/// let free = metrics.gauge_family("disk_free_bytes")?;
/// free.labels(&["/"])?.set(1e9);
/// free.labels(&["/home"])?.set(5e9);
/// assert!(free.labels(&["/", "extra"]).is_err());
/// assert!(free.remove(&["/home"])?);
/// free.clear();
/// assert!(free.is_empty());
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Debug)]
pub struct Family<S: Series> {
    inner: Arc<FamilyInner<S>>,
}

impl<S: Series> Clone for Family<S> {
    fn clone(&self) -> Self {
        Family {
            inner: Arc::clone(&self.inner),
        }
    }
}

#[derive(Debug)]
pub(crate) struct FamilyInner<S> {
    pub(crate) desc: Arc<Desc>,
    /// The one series of an unlabelled metric, reached without the lock.
    single: Option<S>,
    series: Mutex<SeriesSet<S>>,
}

/// A family's series, ordered by their rendered label pairs, and a buffer to render the key of
/// a lookup into, so finding an existing series allocates nothing.
#[derive(Debug)]
struct SeriesSet<S> {
    set: BTreeSet<S>,
    key: Vec<u8>,
}

/// Renders `values` (as many as `names`) into `key`, as the wire shows them.
fn render_key<'k, V: AsRef<str>>(key: &'k mut Vec<u8>, names: &[String], values: &[V]) -> &'k str {
    key.clear();
    for (i, (name, value)) in names.iter().zip(values).enumerate() {
        if i > 0 {
            key.push(b',');
        }
        encode::write_label_pair(key, name, value.as_ref());
    }
    // Label names and values are `str`, and escaping keeps UTF-8 whole.
    std::str::from_utf8(key).unwrap_or_default()
}

impl<S: Series> Family<S> {
    pub(crate) fn new(desc: Desc) -> Family<S> {
        let desc = Arc::new(desc);
        let mut set = BTreeSet::new();
        let mut single = None;
        if desc.label_names.is_empty() {
            // An unlabelled metric has its single series from the start, as in Python.
            let s = S::new_series(&desc, Box::from(""));
            set.insert(s.clone());
            single = Some(s);
        }
        Family {
            inner: Arc::new(FamilyInner {
                desc,
                single,
                series: Mutex::new(SeriesSet {
                    set,
                    key: Vec::new(),
                }),
            }),
        }
    }

    /// The metric's name (for counters and infos, without the `_total` / `_info` suffix).
    pub fn name(&self) -> &str {
        &self.inner.desc.name
    }

    /// The metric's help text.
    pub fn help(&self) -> &str {
        &self.inner.desc.help
    }

    /// The declared label names.
    pub fn label_names(&self) -> &[String] {
        &self.inner.desc.label_names
    }

    fn check_count(&self, got: usize) -> Result<(), MetricError> {
        let expected = self.inner.desc.label_names.len();
        if got == expected {
            Ok(())
        } else {
            Err(MetricError::LabelCount {
                metric: self.inner.desc.name.clone(),
                expected,
                got,
            })
        }
    }

    /// The series for these label values (in the order of the label names), created on first
    /// use. Keep the returned handle to update it without a lookup.
    ///
    /// # Errors
    /// [`MetricError::LabelCount`] if the number of values differs from the label names.
    pub fn labels<V: AsRef<str>>(&self, values: &[V]) -> Result<S, MetricError> {
        self.check_count(values.len())?;
        let mut series = lock(&self.inner.series);
        let series = &mut *series;
        let key = render_key(&mut series.key, &self.inner.desc.label_names, values);
        if let Some(found) = series.set.get(key) {
            return Ok(found.clone());
        }
        let created = S::new_series(&self.inner.desc, Box::from(key));
        series.set.insert(created.clone());
        Ok(created)
    }

    /// Removes the series with these label values; `Ok(true)` if it existed. Handles to it
    /// still work but are no longer exposed. An unlabelled metric keeps its single series.
    ///
    /// # Errors
    /// [`MetricError::LabelCount`] if the number of values differs from the label names.
    pub fn remove<V: AsRef<str>>(&self, values: &[V]) -> Result<bool, MetricError> {
        self.check_count(values.len())?;
        if self.inner.single.is_some() {
            return Ok(false);
        }
        let mut series = lock(&self.inner.series);
        let series = &mut *series;
        let key = render_key(&mut series.key, &self.inner.desc.label_names, values);
        Ok(series.set.remove(key))
    }

    /// Removes every series (of a labelled metric; an unlabelled one keeps its single series).
    pub fn clear(&self) {
        if !self.inner.desc.label_names.is_empty() {
            lock(&self.inner.series).set.clear();
        }
    }

    /// The number of series.
    pub fn len(&self) -> usize {
        lock(&self.inner.series).set.len()
    }

    /// `true` if the family has no series.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The single series of a metric without labels.
    pub(crate) fn single(&self) -> Result<S, MetricError> {
        self.inner
            .single
            .clone()
            .ok_or_else(|| MetricError::LabelsRequired {
                metric: self.inner.desc.name.clone(),
                labels: self.inner.desc.label_names.clone(),
            })
    }

    /// Calls `f` for every series, in label order, under the family's lock.
    pub(crate) fn for_each_series(&self, mut f: impl FnMut(&S)) {
        for s in &lock(&self.inner.series).set {
            f(s);
        }
    }

    pub(crate) fn desc(&self) -> &Desc {
        &self.inner.desc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(config: MetricConfig) -> Result<Desc, MetricError> {
        config.into_desc()
    }

    #[test]
    fn metric_names_follow_the_exposition_format() {
        for (name, valid) in [
            ("a", true),
            ("_a", true),
            (":a", true),
            ("a1:b_c", true),
            ("", false),
            ("1a", false),
            ("a-b", false),
            ("a b", false),
            ("é", false),
        ] {
            assert_eq!(is_valid_metric_name(name), valid, "{name:?}");
        }
    }

    #[test]
    fn label_names_follow_the_exposition_format() {
        for (name, valid) in [
            ("a", true),
            ("_a1", true),
            ("", false),
            ("a:b", false),
            ("1a", false),
        ] {
            assert_eq!(is_valid_label_name(name), valid, "{name:?}");
        }
    }

    #[test]
    fn declarations_are_checked_with_messages_that_say_what_was_expected() {
        let cases: Vec<(MetricConfig, &str)> = vec![
            (
                MetricConfig::new("a-b", "", "gauge"),
                "invalid metric name 'a-b': expected [a-zA-Z_:][a-zA-Z0-9_:]*",
            ),
            (
                MetricConfig::new("a", "", "gauges"),
                "invalid metric type 'gauges': expected one of counter, gauge, histogram, summary, info, enum",
            ),
            (
                MetricConfig::new("a", "", "gauge").labels(["__x"]),
                "invalid label name '__x' for metric 'a': names starting with '__' are reserved for Prometheus",
            ),
            (
                MetricConfig::new("a", "", "gauge").labels(["x-y"]),
                "invalid label name 'x-y' for metric 'a': expected [a-zA-Z_][a-zA-Z0-9_]*",
            ),
            (
                MetricConfig::new("a", "", "gauge").labels(["x", "x"]),
                "duplicate label name 'x' for metric 'a'",
            ),
            (
                MetricConfig::new("a", "", "histogram").labels(["le"]),
                "invalid label name 'le' for metric 'a': reserved by the metric's type",
            ),
            (
                MetricConfig::new("a", "", "summary").labels(["quantile"]),
                "invalid label name 'quantile' for metric 'a': reserved by the metric's type",
            ),
            (
                MetricConfig::new("a", "", "histogram").buckets([1.0, 1.0]),
                "invalid buckets for histogram 'a': bounds must be strictly increasing",
            ),
            (
                MetricConfig::new("a", "", "histogram").buckets([f64::NAN]),
                "invalid buckets for histogram 'a': NaN is not a bucket bound",
            ),
            (
                MetricConfig::new("a", "", "histogram").buckets([]),
                "invalid buckets for histogram 'a': a histogram needs a bound below +Inf",
            ),
            (
                MetricConfig::new("a", "", "histogram").buckets([f64::INFINITY]),
                "invalid buckets for histogram 'a': a histogram needs a bound below +Inf",
            ),
            (
                MetricConfig::new("a", "", "gauge").buckets([1.0]),
                "option 'buckets' does not apply to gauge 'a'",
            ),
            (
                MetricConfig::new("a", "", "enum"),
                "invalid states for enum 'a': an enum needs at least one state",
            ),
            (
                MetricConfig::new("a", "", "enum").states(["x", ""]),
                "invalid states for enum 'a': a state must not be empty (it would read as no label)",
            ),
            (
                MetricConfig::new("a", "", "enum").states(["x", "x"]),
                "invalid states for enum 'a': states must be unique",
            ),
            (
                MetricConfig::new("a", "", "enum").states(["x"]).labels(["a"]),
                "invalid label name 'a' for metric 'a': reserved by the metric's type",
            ),
        ];
        for (config, message) in cases {
            let err = desc(config).unwrap_err();
            assert_eq!(err.to_string(), message);
        }
    }

    #[test]
    fn counter_and_info_suffixes_are_not_doubled() {
        assert_eq!(
            desc(MetricConfig::new("x_total", "", "counter"))
                .unwrap()
                .name,
            "x"
        );
        assert_eq!(
            desc(MetricConfig::new("x_info", "", "info")).unwrap().name,
            "x"
        );
        assert_eq!(
            desc(MetricConfig::new("_total", "", "counter"))
                .unwrap()
                .name,
            "_total"
        );
        assert_eq!(
            desc(MetricConfig::new("x_total", "", "gauge"))
                .unwrap()
                .name,
            "x_total"
        );
    }

    #[test]
    fn histogram_buckets_default_and_end_with_inf() {
        let d = desc(MetricConfig::new("h", "", "histogram")).unwrap();
        assert_eq!(d.buckets.len(), DEFAULT_BUCKETS.len() + 1);
        assert_eq!(d.buckets.last(), Some(&f64::INFINITY));
        assert_eq!(d.bucket_labels[0].last().map(String::as_str), Some("+Inf"));
        assert_eq!(d.bucket_labels[1][7], "1.0");
        let d =
            desc(MetricConfig::new("h", "", "histogram").buckets([1.0, f64::INFINITY])).unwrap();
        assert_eq!(d.buckets, vec![1.0, f64::INFINITY]);
    }

    #[test]
    fn time_observes_the_seconds_a_closure_took() {
        let h: Family<Histogram> =
            Family::new(desc(MetricConfig::new("h", "", "histogram").buckets([0.001])).unwrap());
        let s: Family<Summary> = Family::new(desc(MetricConfig::new("s", "", "summary")).unwrap());
        let (h, s) = (h.single().unwrap(), s.single().unwrap());
        let pause = std::time::Duration::from_millis(5);
        assert_eq!(h.time(|| std::thread::sleep(pause)), ());
        assert_eq!(s.time(|| "result"), "result");
        assert_eq!((h.count(), s.count()), (1, 1));
        // At least the pause: above the 1 ms bucket, so counted only in +Inf.
        assert!(h.sum() >= 0.005, "{}", h.sum());
        assert_eq!(h.0.value.counts[0].load(AtomicOrdering::Relaxed), 0);
        let panicked = std::panic::catch_unwind(|| s.time(|| panic!("deliberate, in a test")));
        assert!(panicked.is_err());
        assert_eq!(s.count(), 2, "a call that panicked is timed too");
    }

    #[test]
    fn wrong_label_counts_are_errors() {
        let f: Family<Gauge> =
            Family::new(desc(MetricConfig::new("g", "", "gauge").labels(["a", "b"])).unwrap());
        let err = f.labels(&["x"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "metric 'g' takes 2 label value(s), 1 given"
        );
        assert!(f.remove(&["x", "y", "z"]).is_err());
        assert!(matches!(
            f.single(),
            Err(MetricError::LabelsRequired { .. })
        ));
    }

    #[test]
    fn labels_find_the_same_series_and_keep_order() {
        let f: Family<Counter> =
            Family::new(desc(MetricConfig::new("c", "", "counter").labels(["a"])).unwrap());
        f.labels(&["b"]).unwrap().inc();
        f.labels(&["a"]).unwrap().inc();
        f.labels(&[String::from("b")]).unwrap().inc();
        let mut seen = Vec::new();
        f.for_each_series(|s| seen.push((s.labels_rendered().to_string(), s.get())));
        assert_eq!(
            seen,
            vec![("a=\"a\"".to_string(), 1.0), ("a=\"b\"".to_string(), 2.0)]
        );
        assert!(f.remove(&["a"]).unwrap());
        assert!(!f.remove(&["a"]).unwrap());
        assert_eq!(f.len(), 1);
        f.clear();
        assert!(f.is_empty());
    }

    #[test]
    fn series_are_ordered_by_their_rendered_label_pairs() {
        let f: Family<Gauge> =
            Family::new(desc(MetricConfig::new("g", "", "gauge").labels(["a", "b"])).unwrap());
        f.labels(&["ab", ""]).unwrap();
        f.labels(&["a", "b"]).unwrap();
        f.labels(&["a", ""]).unwrap();
        assert_eq!(f.len(), 3);
        let mut seen = Vec::new();
        f.for_each_series(|s| seen.push(s.labels_rendered().to_string()));
        assert_eq!(
            seen,
            vec!["a=\"a\",b=\"\"", "a=\"a\",b=\"b\"", "a=\"ab\",b=\"\""]
        );
    }

    #[test]
    fn histogram_counts_into_the_first_bucket_that_fits() {
        let f: Family<Histogram> =
            Family::new(desc(MetricConfig::new("h", "", "histogram").buckets([1.0, 2.0])).unwrap());
        let h = f.single().unwrap();
        for v in [0.5, 1.0, 1.5, 3.0, f64::NAN] {
            h.observe(v);
        }
        let counts: Vec<u64> = h
            .inner()
            .value
            .counts
            .iter()
            .map(|c| c.load(AtomicOrdering::Relaxed))
            .collect();
        assert_eq!(counts, vec![2, 1, 2]);
        assert_eq!(h.count(), 5);
        assert!(h.sum().is_nan());
    }

    #[test]
    fn counters_refuse_to_go_down() {
        let f: Family<Counter> = Family::new(desc(MetricConfig::new("c", "", "counter")).unwrap());
        let c = f.single().unwrap();
        assert!(c.inc_by(-0.5).is_err());
        assert!(c.inc_by(f64::NAN).is_err());
        c.inc_by(0.0).unwrap();
        assert_eq!(c.get(), 0.0);
    }

    #[test]
    fn info_keys_are_checked() {
        let f: Family<Info> =
            Family::new(desc(MetricConfig::new("i", "", "info").labels(["host"])).unwrap());
        let i = f.labels(&["h1"]).unwrap();
        assert_eq!(
            i.set([("host", "x")]).unwrap_err().to_string(),
            "duplicate label name 'host' for metric 'i'",
            "a key that is one of the family's labels"
        );
        assert!(i.set([("a", "x"), ("a", "y")]).is_err());
        assert!(i.set([("bad-key", "x")]).is_err());
        i.set([("version", "1\"2")]).unwrap();
        assert_eq!(*lock(&i.inner().value.pairs), "version=\"1\\\"2\"");
    }

    #[test]
    fn handles_are_send_and_sync() {
        fn check<T: Send + Sync + Clone>() {}
        check::<Counter>();
        check::<Gauge>();
        check::<Histogram>();
        check::<Summary>();
        check::<Info>();
        check::<Enum>();
        check::<Family<Gauge>>();
    }

    #[test]
    fn updates_from_many_threads_are_not_lost() {
        let f: Family<Counter> = Family::new(desc(MetricConfig::new("c", "", "counter")).unwrap());
        let c = f.single().unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        c.inc();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(c.get(), 40_000.0);
    }
}
