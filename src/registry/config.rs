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
///
/// ```
/// use prometheus_aioexporter::{Registry, DEFAULT_BUCKETS};
///
/// let mut registry = Registry::new();
/// let latency = registry.histogram("latency_seconds", "Latency.", DEFAULT_BUCKETS)?;
/// latency.observe(0.3);
/// assert_eq!(DEFAULT_BUCKETS.last(), Some(&10.0));
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
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
    ///
    /// ```
    /// use prometheus_aioexporter::MetricType;
    ///
    /// let names: Vec<&str> = MetricType::ALL.iter().map(|t| t.as_str()).collect();
    /// assert_eq!(names, ["counter", "gauge", "histogram", "summary", "info", "enum"]);
    /// ```
    pub const ALL: [MetricType; 6] = [
        MetricType::Counter,
        MetricType::Gauge,
        MetricType::Histogram,
        MetricType::Summary,
        MetricType::Info,
        MetricType::Enum,
    ];

    /// The type's name as written in a [`MetricConfig`] (`"counter"`, `"gauge"`, …).
    ///
    /// ```
    /// use prometheus_aioexporter::MetricType;
    ///
    /// assert_eq!(MetricType::Counter.as_str(), "counter");
    /// assert_eq!(MetricType::Enum.to_string(), "enum");
    /// ```
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
///
/// ```
/// use prometheus_aioexporter::{MetricConfig, MetricType};
///
/// // A type name from a configuration file, or the enum: either declares the metric.
/// let from_file = String::from("gauge");
/// let a = MetricConfig::new("a", "A.", from_file);
/// let b = MetricConfig::new("b", "B.", MetricType::Gauge);
/// # let _ = (a, b);
/// ```
pub trait IntoMetricType {
    /// The type, or the error naming the valid ones.
    ///
    /// ```
    /// use prometheus_aioexporter::{IntoMetricType, MetricType};
    ///
    /// assert_eq!("summary".into_metric_type(), Ok(MetricType::Summary));
    /// assert!("sumary".into_metric_type().is_err());
    /// ```
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

/// `true` if `name` is a legacy metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*`: one every scraper
/// reads as it is. Any other non-empty UTF-8 name can be declared too; it is quoted for a
/// scraper that allows UTF-8 and escaped for the others.
///
/// ```
/// use prometheus_aioexporter::is_valid_metric_name;
///
/// assert!(is_valid_metric_name("http_requests_total"));
/// assert!(!is_valid_metric_name("http.requests")); // declarable, but quoted or escaped
/// assert!(!is_valid_metric_name("2xx"));
/// ```
pub fn is_valid_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b':' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// How a name is written for a scraper: the `escaping` schemes of Prometheus 3, in the order
/// [`Desc`] keeps a name's forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// `allow-utf-8`: a name outside the legacy set is quoted, `\`, `"` and newline escaped.
    Quoted = 0,
    /// `underscores`: each character outside the legacy set becomes `_`.
    Underscores = 1,
    /// `dots`: `_` becomes `__`, `.` `_dot_`, another character outside the set `__`; legacy
    /// names too.
    Dots = 2,
    /// `values`: a name outside the legacy set becomes `U__`, `_` `__`, and each other
    /// character outside the set `_<hex code point>_`.
    Values = 3,
}

impl Scheme {
    /// Every scheme, in index order.
    pub(crate) const ALL: [Scheme; 4] = [
        Scheme::Quoted,
        Scheme::Underscores,
        Scheme::Dots,
        Scheme::Values,
    ];
}

/// `true` if `c`, at character index `i`, is in the legacy set of a metric name (`metric`) or a
/// label name: the Python client's `_is_legacy_metric_rune` / `_is_legacy_labelname_rune`.
fn is_legacy_char(c: char, i: usize, metric: bool) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (c.is_ascii_digit() && i > 0) || (metric && c == ':')
}

/// `true` if the concatenation of `parts` is a legacy metric (`metric`) or label name.
fn is_legacy(parts: &[&str], metric: bool) -> bool {
    let mut i = 0;
    for part in parts {
        for c in part.chars() {
            if !is_legacy_char(c, i, metric) {
                return false;
            }
            i += 1;
        }
    }
    i > 0
}

/// Appends the concatenation of `parts`, a metric (`metric`) or label name, as `scheme` writes
/// it: the Python client's `escape_metric_name` / `escape_label_name` (0.26). Allocates only
/// when `out` must grow, so a scrape can call it.
pub(crate) fn write_name(out: &mut Vec<u8>, parts: &[&str], scheme: Scheme, metric: bool) {
    if scheme != Scheme::Dots && is_legacy(parts, metric) {
        for part in parts {
            out.extend_from_slice(part.as_bytes());
        }
        return;
    }
    match scheme {
        Scheme::Quoted => {
            out.push(b'"');
            for part in parts {
                crate::wire::escape::write_escaped(out, part, true);
            }
            out.push(b'"');
            return;
        }
        Scheme::Values => out.extend_from_slice(b"U__"),
        Scheme::Underscores | Scheme::Dots => {}
    }
    let mut i = 0;
    for part in parts {
        for c in part.chars() {
            write_char(out, c, is_legacy_char(c, i, metric), scheme);
            i += 1;
        }
    }
}

/// Appends one character of a name that `scheme` escapes; `legacy` if it is in the set there.
fn write_char(out: &mut Vec<u8>, c: char, legacy: bool, scheme: Scheme) {
    let escaped: &[u8] = match (scheme, c) {
        (Scheme::Dots | Scheme::Values, '_') => b"__",
        (Scheme::Dots, '.') => b"_dot_",
        // A legacy character is ASCII.
        _ if legacy => return out.push(c as u8),
        (Scheme::Dots, _) => b"__",
        (Scheme::Values, _) => {
            out.push(b'_');
            let code = u32::from(c);
            let digits = ((32 - code.leading_zeros()).max(1) + 3) / 4;
            for d in (0..digits).rev() {
                out.push(b"0123456789abcdef"[(code >> (4 * d) & 0xf) as usize]);
            }
            b"_"
        }
        _ => b"_",
    };
    out.extend_from_slice(escaped);
}

/// [`write_name`] into a new `String`, for declarations.
fn name_form(parts: &[&str], scheme: Scheme, metric: bool) -> String {
    let mut out = Vec::new();
    write_name(&mut out, parts, scheme, metric);
    String::from_utf8(out).unwrap_or_default()
}

/// Marks the names of [`exposed_names`] that only the `dots` scheme writes: the other schemes
/// write a legacy name as it is, so their names share one space, but under `dots` `a_b` is
/// `a__b`, which is another legacy name.
const DOTS_TAG: &str = "\0dots:";

/// The names a family of `kind` called `name` puts on the wire, in either format and under
/// every escaping a scraper may ask for: its family name and its samples' names. Two metrics
/// must not share any, or a scraper would see one family twice. A name outside the legacy set
/// adds its escaped forms (`a.b` is `a_b` for a scraper asking for underscores, so it clashes
/// with a metric `a_b`); the text format escapes a sample's whole name, OpenMetrics its
/// family's name before the suffix, and both spellings count.
pub(crate) fn exposed_names(name: &str, kind: MetricType) -> Vec<String> {
    let suffixes: &[&str] = match kind {
        // `_created`: OpenMetrics reserves it for these types, even where it is not written.
        MetricType::Counter => &["", "_total", "_created"],
        MetricType::Gauge | MetricType::Enum => &[""],
        MetricType::Histogram => &["", "_bucket", "_sum", "_count", "_created"],
        MetricType::Summary => &["", "_sum", "_count", "_created"],
        MetricType::Info => &["", "_info"],
    };
    let legacy = is_valid_metric_name(name);
    // The names as they are first, so that an error names the plain clash when there is one.
    let mut names: Vec<String> = suffixes.iter().map(|s| [name, s].concat()).collect();
    let schemes: &[Scheme] = if legacy {
        &[Scheme::Dots]
    } else {
        &[Scheme::Underscores, Scheme::Dots, Scheme::Values]
    };
    for &scheme in schemes {
        let tag = if scheme == Scheme::Dots { DOTS_TAG } else { "" };
        let family = name_form(&[name], scheme, true);
        for &s in suffixes {
            for form in [
                [tag, &name_form(&[name, s], scheme, true)].concat(),
                [tag, &family, s].concat(),
            ] {
                if !names.contains(&form) {
                    names.push(form);
                }
            }
        }
    }
    names
}

/// An exposed name as an error message shows it: the `dots` ones say so.
pub(crate) fn describe_exposed(name: &str) -> String {
    match name.strip_prefix(DOTS_TAG) {
        Some(escaped) => [escaped, " (escaped with dots)"].concat(),
        None => name.to_string(),
    }
}

/// Checks that the label names of a metric (with those its type adds: `le`, `quantile`, an
/// enum's own name) stay distinct under every escaping, and returns each name's forms when
/// one of them is outside the legacy set (`None` when all are legacy: the fast path).
pub(super) fn label_forms(
    metric: &str,
    labels: &[String],
    reserved: &[&str],
) -> Result<Option<NameForms>, MetricError> {
    // The type's names first, so that a collision names the declared label.
    let mut all: Vec<&str> = reserved.to_vec();
    all.extend(labels.iter().map(String::as_str));
    for scheme in Scheme::ALL {
        let mut forms: Vec<String> = Vec::with_capacity(all.len());
        for label in &all {
            let form = name_form(&[label], scheme, false);
            let reason = if forms.contains(&form) {
                collision_reason(scheme)
            } else if scheme == Scheme::Underscores && form.starts_with("__") {
                // What every scraper without UTF-8 names reads must not be reserved. (Under
                // `dots`, which a scraper asks for knowingly, a label starting with `_` or a
                // character outside the set starts with `__`, as the reference writes it.)
                "escaped with underscores it starts with '__', reserved for Prometheus"
            } else {
                forms.push(form);
                continue;
            };
            return Err(MetricError::InvalidLabelName {
                metric: metric.to_string(),
                label: label.to_string(),
                reason,
            });
        }
    }
    Ok(name_forms(labels))
}

/// Each name as each [`Scheme`] writes it as a label name, in [`Scheme`] order; `None` when
/// all are legacy (written as they are, but under `dots`, which the scrape does itself).
fn name_forms(names: &[String]) -> Option<NameForms> {
    if names.iter().all(|l| is_valid_label_name(l)) {
        return None;
    }
    let mut forms = Vec::with_capacity(Scheme::ALL.len());
    for scheme in Scheme::ALL {
        forms.push(
            names
                .iter()
                .map(|l| name_form(&[l], scheme, false))
                .collect(),
        );
    }
    Some(forms.into_boxed_slice())
}

/// The forms of names per [`Scheme`], indexed by it.
pub(crate) type NameForms = Box<[Vec<String>]>;

/// Why a label name was refused: it is written as another one of the metric (or as one its
/// type adds) once escaped by `scheme`.
fn collision_reason(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::Quoted => "written as another label name of the metric",
        Scheme::Underscores => "written as another label name of the metric once escaped with underscores (a scraper without UTF-8 names)",
        Scheme::Dots => "written as another label name of the metric once escaped with dots",
        Scheme::Values => "written as another label name of the metric once escaped with values",
    }
}

/// `true` if `name` is a legacy label name, `[a-zA-Z_][a-zA-Z0-9_]*` (reserved `__` not
/// checked). Other non-empty UTF-8 names can be declared too, as for metric names.
///
/// ```
/// use prometheus_aioexporter::is_valid_label_name;
///
/// assert!(is_valid_label_name("method"));
/// assert!(!is_valid_label_name("http.method"));
/// assert!(!is_valid_label_name("0day"));
/// ```
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
    expire_after: Option<Duration>,
}

/// client_golang's `DefMaxAge`: a summary's quantiles cover the last 10 minutes.
///
/// ```
/// use std::time::Duration;
/// use prometheus_aioexporter::DEFAULT_MAX_AGE;
///
/// assert_eq!(DEFAULT_MAX_AGE, Duration::from_secs(600));
/// ```
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(600);
/// client_golang's `DefAgeBuckets`: the window slides in steps of a fifth of its age.
///
/// ```
/// use prometheus_aioexporter::{DEFAULT_AGE_BUCKETS, DEFAULT_MAX_AGE};
///
/// // The quantiles' window slides by a fifth of ten minutes: two minutes.
/// assert_eq!(DEFAULT_MAX_AGE.as_secs() / DEFAULT_AGE_BUCKETS as u64, 120);
/// ```
pub const DEFAULT_AGE_BUCKETS: usize = 5;

impl MetricConfig {
    /// Declares a metric; `kind` is a [`MetricType`] or its name (`"counter"`, `"gauge"`,
    /// `"histogram"`, `"summary"`, `"info"`, `"enum"`).
    ///
    /// ```
    /// use prometheus_aioexporter::{MetricConfig, MetricType, Registry};
    ///
    /// let mut registry = Registry::new();
    /// registry.create_metrics([
    ///     MetricConfig::new("temp", "Temperature.", "gauge"),
    ///     MetricConfig::new("jobs", "Jobs done.", MetricType::Counter),
    /// ])?;
    /// let err = registry.create_metrics([MetricConfig::new("x", "X.", "gauge2")]).unwrap_err();
    /// assert!(err.to_string().starts_with("invalid metric type 'gauge2'"));
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
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
            expire_after: None,
        }
    }

    /// Label names; each series of the metric then has one value per name.
    ///
    /// ```
    /// use prometheus_aioexporter::{MetricConfig, Registry};
    ///
    /// let mut registry = Registry::new();
    /// let metrics = registry.create_metrics([
    ///     MetricConfig::new("requests", "Requests.", "counter").labels(["method", "code"]),
    /// ])?;
    /// metrics.counter_family("requests")?.labels(&["GET", "200"])?.inc();
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
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
    ///
    /// ```
    /// use prometheus_aioexporter::{exponential_buckets, MetricConfig, Registry};
    ///
    /// let mut registry = Registry::new();
    /// let metrics = registry.create_metrics([
    ///     MetricConfig::new("latency_seconds", "Latency.", "histogram").buckets([0.1, 0.5, 1.0]),
    ///     MetricConfig::new("size_bytes", "Sizes.", "histogram")
    ///         .buckets(exponential_buckets(100.0, 10.0, 4)),
    /// ])?;
    /// metrics.histogram("latency_seconds")?.observe(0.2);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn buckets<I: IntoIterator<Item = f64>>(mut self, bounds: I) -> MetricConfig {
        self.buckets = Some(bounds.into_iter().collect());
        self
    }

    /// The states of an enum metric; the first is its initial state.
    ///
    /// ```
    /// use prometheus_aioexporter::{MetricConfig, Registry};
    ///
    /// let mut registry = Registry::new();
    /// let metrics = registry.create_metrics([
    ///     MetricConfig::new("state", "Service state.", "enum").states(["starting", "running"]),
    /// ])?;
    /// metrics.enumeration("state")?.set("running")?;
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
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
    /// `_count` (and its `observe` costs one compare-and-swap). The quantiles cover a sliding
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
    ///
    /// ```
    /// use std::time::Duration;
    /// use prometheus_aioexporter::{MetricConfig, Registry};
    ///
    /// let mut registry = Registry::new();
    /// let metrics = registry.create_metrics([
    ///     MetricConfig::new("rpc_seconds", "RPC time.", "summary")
    ///         .quantiles([(0.99, 0.001)])
    ///         .max_age(Duration::from_secs(60)),
    /// ])?;
    /// metrics.summary("rpc_seconds")?.observe(0.01);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn max_age(mut self, max_age: Duration) -> MetricConfig {
        self.max_age = Some(max_age);
        self
    }

    /// In how many steps the quantiles' window slides: observations leave it
    /// `max_age / age_buckets` at a time, and each step keeps one more stream of the
    /// observations per summary; [`DEFAULT_AGE_BUCKETS`] (5) without this. Only with
    /// [`MetricConfig::quantiles`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use prometheus_aioexporter::{MetricConfig, Registry};
    ///
    /// let mut registry = Registry::new();
    /// // Quantiles of the last minute, sliding every 10 seconds.
    /// registry.create_metrics([
    ///     MetricConfig::new("rpc_seconds", "RPC time.", "summary")
    ///         .quantiles([(0.5, 0.05)])
    ///         .max_age(Duration::from_secs(60))
    ///         .age_buckets(6),
    /// ])?;
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn age_buckets(mut self, age_buckets: usize) -> MetricConfig {
        self.age_buckets = Some(age_buckets);
        self
    }

    /// Series expiry, as query-exporter's `expiration`: a series not updated for `after`
    /// leaves the scrapes, and a labelled one is freed, so that an exporter mirroring a
    /// changing set of things does not expose the ones gone. Any type, labelled or not.
    ///
    /// A series counts as updated when it is found or created through its family
    /// ([`Family::labels`](crate::Family::labels), an unlabelled metric's accessor in
    /// [`Metrics`](crate::Metrics)), or when its value changed (what a scrape would show:
    /// a counter's or gauge's value, a histogram's or summary's count and sum, an info's
    /// pairs, an enum's state). A write through a kept handle that leaves the value as it was
    /// (a gauge set to the value it holds) does not count: look the series up instead, or
    /// keep no handle. Updates are noticed by a sweep, run before each scrape of the family
    /// (and at a series' creation, at most once per `after` or per second, so that memory
    /// stays bounded without scrapes): a series leaves between `after` and `after` plus the
    /// time to the next sweep after its last update, never before. With `Duration::ZERO`,
    /// only what was updated since the previous scrape is exposed.
    ///
    /// An expired labelled series is removed as by [`Family::remove`](crate::Family::remove):
    /// a handle still kept writes to a series no longer exposed, and the next lookup of its
    /// label values creates a new one. An unlabelled series is hidden instead, and comes back
    /// when it is updated. Families without expiry pay nothing for it: no memory, and no
    /// instruction on a handle's update.
    ///
    /// ```
    /// use std::time::Duration;
    /// use prometheus_aioexporter::{MetricConfig, Registry};
    ///
    /// let mut registry = Registry::new();
    /// let metrics = registry.create_metrics([
    ///     MetricConfig::new("job_rows", "Rows per job.", "gauge")
    ///         .labels(["job"])
    ///         .expire_after(Duration::ZERO),
    /// ])?;
    /// let rows = metrics.gauge_family("job_rows")?;
    /// rows.labels(&["a"])?.set(3.0);
    /// let mut body = Vec::new();
    /// registry.encode(&mut body).unwrap();
    /// assert!(String::from_utf8_lossy(&body).contains("job_rows{job=\"a\"} 3"));
    /// // Not updated since that scrape: gone from the next one, and freed.
    /// body.clear();
    /// registry.encode(&mut body).unwrap();
    /// assert!(!String::from_utf8_lossy(&body).contains("job=\"a\""));
    /// assert!(rows.is_empty());
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn expire_after(mut self, after: Duration) -> MetricConfig {
        self.expire_after = Some(after);
        self
    }

    /// The metric's name as declared.
    ///
    /// ```
    /// use prometheus_aioexporter::MetricConfig;
    ///
    /// let config = MetricConfig::new("requests_total", "Requests.", "counter");
    /// assert_eq!(config.name(), "requests_total");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks the declaration and builds the metric's descriptor.
    pub(crate) fn into_desc(self) -> Result<Desc, MetricError> {
        let kind = self.kind?;
        if self.name.is_empty() {
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
        // An enum's name is also its state label. A ':' is in the legacy set of metric names
        // but not of label names, so escaping would write the family and its label apart.
        if kind == MetricType::Enum && (name.starts_with("__") || name.contains(':')) {
            return Err(MetricError::InvalidStates {
                metric: name,
                reason: "an enum's name is also its state label, so it must not start with '__' nor contain ':'",
            });
        }
        for (i, label) in self.labels.iter().enumerate() {
            check_declared_label(&name, label, reserved)?;
            // An info's keys, set later, are legacy label names and are checked against its
            // label names as they are: so its label names stay legacy too, and no key can be
            // written like one of them once escaped.
            if kind == MetricType::Info && !is_valid_label_name(label) {
                return Err(MetricError::InvalidLabelName {
                    metric: name,
                    label: label.clone(),
                    reason:
                        "an info's label names, like its keys, must match [a-zA-Z_][a-zA-Z0-9_]*",
                });
            }
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
        let label_forms = label_forms(&name, &self.labels, reserved)?;
        let quantiles =
            check_quantiles(&name, kind, self.quantiles, self.max_age, self.age_buckets)?;
        let buckets = match kind {
            MetricType::Histogram => check_buckets(&name, self.buckets)?,
            _ => Vec::new(),
        };
        let states = match kind {
            MetricType::Enum => check_states(&name, self.states.unwrap_or_default())?,
            _ => Vec::new(),
        };
        let mut desc = Desc::new(
            name,
            self.description,
            kind,
            self.labels,
            buckets,
            states,
            label_forms,
        );
        desc.quantiles = quantiles;
        desc.expire_after = self.expire_after;
        Ok(desc)
    }
}

/// Checks a declared label name: any non-empty UTF-8 name, but not one starting with `__`
/// (reserved for Prometheus) nor one of `reserved` (the names the metric's type adds).
/// Collisions once escaped are checked with all the names (`label_forms`).
pub(super) fn check_declared_label(
    metric: &str,
    label: &str,
    reserved: &[&str],
) -> Result<(), MetricError> {
    let reason = if label.is_empty() {
        "a label name must not be empty"
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
    /// Enum state label pairs, e.g. `state="running"`, escaped once; without the name
    /// (`="running"`) when the enum's name is not a legacy label name (`state_forms`).
    pub(crate) state_labels: Vec<String>,
    /// For a family with a label name outside the legacy set: each label name as each
    /// [`Scheme`] writes it. Its series' rendered labels then leave the names out
    /// (`="x",="y"`), and a scrape writes them from here.
    pub(crate) label_forms: Option<NameForms>,
    /// The enum's name as each [`Scheme`] writes it as a label name, when it is not a legacy
    /// one.
    pub(crate) state_forms: Option<NameForms>,
    /// The names series are rendered with: the label names, or as many empty names when
    /// `label_forms` is set (empty for the legacy case, which renders with `label_names`).
    blank_names: Vec<String>,
    /// `true` if the name is a legacy metric name (written as it is, but under `dots`).
    pub(crate) legacy_name: bool,
    /// A summary's quantile options, when it has quantiles.
    pub(crate) quantiles: Option<Quantiles>,
    /// How long a series may go without an update before it expires, if it may.
    pub(crate) expire_after: Option<Duration>,
}

impl Desc {
    fn new(
        name: String,
        help: String,
        kind: MetricType,
        label_names: Vec<String>,
        buckets: Vec<f64>,
        states: Vec<String>,
        label_forms: Option<NameForms>,
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
        let legacy_state = is_valid_label_name(&name);
        let state_forms = match kind {
            MetricType::Enum => name_forms(std::slice::from_ref(&name)),
            _ => None,
        };
        let state_labels = states
            .iter()
            .map(|s| {
                let mut out = Vec::new();
                let label = if legacy_state { name.as_str() } else { "" };
                write_label_pair(&mut out, label, s);
                String::from_utf8(out).unwrap_or_default()
            })
            .collect();
        let blank_names = match label_forms {
            Some(_) => vec![String::new(); label_names.len()],
            None => Vec::new(),
        };
        Desc {
            legacy_name: is_valid_metric_name(&name),
            name,
            help,
            kind,
            label_names,
            buckets,
            bucket_labels,
            states,
            state_labels,
            label_forms,
            state_forms,
            blank_names,
            quantiles: None,
            expire_after: None,
        }
    }

    /// The names a series' labels are rendered with (see `blank_names`).
    pub(crate) fn rendered_names(&self) -> &[String] {
        match self.label_forms {
            Some(_) => &self.blank_names,
            None => &self.label_names,
        }
    }

    /// The `le` values of the buckets, in OpenMetrics' canonical form if `canonical`.
    pub(crate) fn bucket_labels(&self, canonical: bool) -> &[String] {
        &self.bucket_labels[usize::from(canonical)]
    }
}
