//! [`MetricError`]: why a metric could not be declared or updated.

use std::fmt;

use super::MetricType;
use crate::wire::float::write_float;

/// Why a metric could not be declared or updated.
///
/// Messages name the culprit and the accepted form, e.g.
/// `invalid metric name '': expected a non-empty UTF-8 name`. Its `Debug` shows the same
/// message, as `MetricError(…)`.
///
/// ```
/// use prometheus_aioexporter::{MetricConfig, MetricError, Registry};
///
/// let mut registry = Registry::new();
/// let err = registry
///     .create_metrics([MetricConfig::new("requests", "Requests.", "counter").labels(["__code"])])
///     .unwrap_err();
/// assert!(matches!(err, MetricError::InvalidLabelName { .. }));
/// println!("{err}"); // names the metric, the label and what is wrong
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum MetricError {
    /// The type name is not one of `counter gauge histogram summary info enum`.
    InvalidMetricType(String),
    /// The metric name is empty (any other UTF-8 name is accepted).
    InvalidMetricName(String),
    /// A label name is empty, starts with the reserved `__`, is reserved by the metric's type
    /// (`le`, `quantile`, an enum's own name), or is written as another label name of the
    /// metric once names are escaped for a scraper (`a.b` and `a_b` under underscores); an
    /// info key does not match `[a-zA-Z_][a-zA-Z0-9_]*`.
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
    /// A summary's quantile options are out of range: a quantile or an error outside (0, 1), a
    /// quantile given twice, a max age of zero or no age bucket.
    InvalidQuantiles {
        /// The summary being declared.
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
    /// The metric has labels, so its values are reached through [`Family::labels`](super::Family::labels).
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
                    "invalid metric name '{n}': expected a non-empty UTF-8 name"
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
            MetricError::InvalidQuantiles { metric, reason } => {
                write!(f, "invalid quantiles for summary '{metric}': {reason}")
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
                // The crate's float writer: `core::fmt`'s float code would be linked for this alone.
                let mut text = Vec::new();
                write_float(&mut text, *value);
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
