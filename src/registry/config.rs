//! Declarations: what a metric is (name, help, type, labels, buckets, states), checked once
//! when it is created, and the parts of its exposition that never change, rendered then.

use std::fmt;
use std::time::Duration;

use super::quantile::Objective;
use super::MetricError;
use crate::wire::escape::write_label_pair;
use crate::wire::float::write_bound;

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
    quantiles: Option<Vec<(f64, f64)>>,
    max_age: Option<Duration>,
    age_buckets: Option<usize>,
}

/// client_golang's `DefMaxAge`: a summary's quantiles cover the last 10 minutes.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(600);
/// client_golang's `DefAgeBuckets`: the window slides in steps of a fifth of its age.
pub const DEFAULT_AGE_BUCKETS: usize = 5;

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
            quantiles: None,
            max_age: None,
            age_buckets: None,
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

    /// The quantiles a summary exposes, as client_golang's `Objectives`: pairs of a quantile
    /// and its allowed rank error, both in (0, 1); `(0.9, 0.01)` reports a value whose rank is
    /// within 0.89 and 0.91 of the observations. Without this, a summary has only `_sum` and
    /// `_count` (and its `observe` costs two atomic adds). The quantiles cover a sliding
    /// window: [`MetricConfig::max_age`] and [`MetricConfig::age_buckets`].
    ///
    /// ```
    /// use prometheus_aioexporter::{MetricConfig, Registry};
    ///
    /// let mut registry = Registry::new();
    /// let metrics = registry.create_metrics([
    ///     MetricConfig::new("rpc_seconds", "RPC time.", "summary")
    ///         .quantiles([(0.5, 0.05), (0.9, 0.01), (0.99, 0.001)]),
    /// ])?;
    /// metrics.summary("rpc_seconds")?.observe(0.25);
    /// let mut body = Vec::new();
    /// registry.encode(&mut body).unwrap();
    /// assert!(String::from_utf8(body).unwrap().contains("rpc_seconds{quantile=\"0.99\"} 0.25\n"));
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn quantiles<I: IntoIterator<Item = (f64, f64)>>(mut self, objectives: I) -> MetricConfig {
        self.quantiles = Some(objectives.into_iter().collect());
        self
    }

    /// How far back a summary's quantiles look; [`DEFAULT_MAX_AGE`] (10 minutes) without this.
    /// Only with [`MetricConfig::quantiles`].
    pub fn max_age(mut self, max_age: Duration) -> MetricConfig {
        self.max_age = Some(max_age);
        self
    }

    /// In how many steps the quantiles' window slides: observations leave it
    /// `max_age / age_buckets` at a time, and each step keeps one more stream of the
    /// observations per summary; [`DEFAULT_AGE_BUCKETS`] (5) without this. Only with
    /// [`MetricConfig::quantiles`].
    pub fn age_buckets(mut self, age_buckets: usize) -> MetricConfig {
        self.age_buckets = Some(age_buckets);
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
        let quantiles =
            check_quantiles(&name, kind, self.quantiles, self.max_age, self.age_buckets)?;
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
        let mut desc = Desc::new(name, self.description, kind, self.labels, buckets, states);
        desc.quantiles = quantiles;
        Ok(desc)
    }
}

/// A summary's quantile options, checked: the objectives sorted by quantile, the window, and
/// the `quantile` label pairs rendered once (as client_golang writes them, which is also
/// OpenMetrics' canonical form for quantiles).
#[derive(Debug)]
pub(crate) struct Quantiles {
    pub(crate) objectives: Vec<Objective>,
    pub(crate) max_age: Duration,
    pub(crate) age_buckets: usize,
    labels: Vec<String>,
}

impl Quantiles {
    /// The `quantile="…"` pairs, the same in both formats.
    pub(crate) fn labels(&self) -> &[String] {
        &self.labels
    }
}

fn check_quantiles(
    metric: &str,
    kind: MetricType,
    quantiles: Option<Vec<(f64, f64)>>,
    max_age: Option<Duration>,
    age_buckets: Option<usize>,
) -> Result<Option<Quantiles>, MetricError> {
    // Out of line: one copy of the error's construction rather than one per check.
    #[cold]
    #[inline(never)]
    fn error(
        metric: &str,
        kind: MetricType,
        option: &'static str,
        reason: &'static str,
    ) -> MetricError {
        let metric = metric.to_string();
        match reason {
            "" => MetricError::InvalidOption {
                metric,
                option,
                kind,
            },
            _ => MetricError::InvalidQuantiles { metric, reason },
        }
    }
    let option = |option| error(metric, kind, option, "");
    let invalid = |reason| error(metric, kind, "", reason);
    let Some(pairs) = quantiles else {
        return match (max_age, age_buckets) {
            (None, None) => Ok(None),
            (Some(_), _) => Err(option("max_age")),
            (_, Some(_)) => Err(option("age_buckets")),
        };
    };
    if kind != MetricType::Summary {
        return Err(option("quantiles"));
    }
    let in_range = |x: f64| x > 0.0 && x < 1.0;
    if pairs.iter().any(|&(q, _)| !in_range(q)) {
        return Err(invalid("a quantile must be above 0 and below 1"));
    }
    if pairs.iter().any(|&(_, e)| !in_range(e)) {
        return Err(invalid("an error must be above 0 and below 1"));
    }
    // Sorted by quantile as they are inserted (a handful: no sort routine for them).
    let mut objectives: Vec<Objective> = Vec::with_capacity(pairs.len());
    for (quantile, error) in pairs {
        let at = objectives.partition_point(|o| o.quantile < quantile);
        if objectives.get(at).is_some_and(|o| o.quantile == quantile) {
            return Err(invalid("a quantile must be given once"));
        }
        objectives.insert(at, Objective { quantile, error });
    }
    let max_age = max_age.unwrap_or(DEFAULT_MAX_AGE);
    if max_age.is_zero() {
        return Err(invalid("the max age must be above zero"));
    }
    let age_buckets = age_buckets.unwrap_or(DEFAULT_AGE_BUCKETS);
    if age_buckets == 0 || u32::try_from(age_buckets).is_err() {
        return Err(invalid(
            "the age buckets must be at least 1 (and fit in 32 bits)",
        ));
    }
    // One spelling serves both formats: a quantile in (0, 1) has a point or an exponent in
    // Go's `%g` (`0.5`, `1e-05`), which is already OpenMetrics' canonical form.
    let labels = objectives
        .iter()
        .map(|o| {
            let mut s = b"quantile=\"".to_vec();
            write_bound(&mut s, o.quantile, true);
            s.push(b'"');
            String::from_utf8(s).unwrap_or_default()
        })
        .collect();
    Ok(Some(Quantiles {
        objectives,
        max_age,
        age_buckets,
        labels,
    }))
}

pub(super) fn check_label_name(
    metric: &str,
    label: &str,
    reserved: &[&str],
) -> Result<(), MetricError> {
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
    /// Histogram `le` values, formatted once: as client_golang writes them, and in
    /// OpenMetrics' canonical form.
    pub(crate) bucket_labels: [Vec<String>; 2],
    /// Enum states.
    pub(crate) states: Vec<String>,
    /// Enum state label pairs, e.g. `state="running"`, escaped once.
    pub(crate) state_labels: Vec<String>,
    /// A summary's quantile options, when it has quantiles.
    pub(crate) quantiles: Option<Quantiles>,
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
        let bucket_labels = [false, true].map(|canonical| {
            buckets
                .iter()
                .map(|&b| {
                    let mut s = Vec::new();
                    write_bound(&mut s, b, canonical);
                    String::from_utf8(s).unwrap_or_default()
                })
                .collect()
        });
        let state_labels = states
            .iter()
            .map(|s| {
                let mut out = Vec::new();
                write_label_pair(&mut out, &name, s);
                String::from_utf8(out).unwrap_or_default()
            })
            .collect();
        Desc {
            name,
            help,
            kind,
            label_names,
            buckets,
            bucket_labels,
            states,
            state_labels,
            quantiles: None,
        }
    }

    /// The `le` values of the buckets, in OpenMetrics' canonical form if `canonical`.
    pub(crate) fn bucket_labels(&self, canonical: bool) -> &[String] {
        &self.bucket_labels[usize::from(canonical)]
    }
}
