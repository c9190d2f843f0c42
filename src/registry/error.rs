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
        /// The counter series' label pairs, `a="x",b="y"`; empty without labels. (A counter
        /// series does not keep its metric's name: 8 bytes more per series.)
        labels: String,
        /// The increment that was refused.
        value: f64,
    },
    /// A counter was set to a value no counter has: negative, NaN or `-Inf`.
    InvalidCounterValue {
        /// The counter series' label pairs, as for [`MetricError::NegativeIncrement`].
        labels: String,
        /// The value that was refused.
        value: f64,
    },
    /// An enum was set to a state it does not declare.
    UnknownState {
        /// The enum.
        metric: String,
        /// The refused state.
        state: String,
        /// The states it declares.
        states: Vec<String>,
    },
    /// A collector yielded two samples with the same label values in one family.
    DuplicateSeries {
        /// The collected family.
        metric: String,
        /// The label values given twice.
        values: Vec<String>,
    },
    /// A collected sample does not fit its family: a value of another type, a histogram's
    /// counts not one per bucket or decreasing, a quantile outside [0, 1].
    InvalidSample {
        /// The collected family.
        metric: String,
        /// What is wrong with it.
        reason: &'static str,
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
            MetricError::DuplicateLabelName { metric, label } => write!(
                f,
                "duplicate label name '{label}' for metric '{metric}': expected each label \
                 name once, none of them among the metric's own labels"
            ),
            MetricError::DuplicateMetric(n) => write!(
                f,
                "metric '{n}' is already registered: expected a name no other metric has"
            ),
            MetricError::DuplicateSeries { metric, values } => write!(
                f,
                "metric '{metric}' has two samples with label values [{}]: expected each \
                 set of label values once",
                values.join(", ")
            ),
            MetricError::SeriesNameTaken {
                metric,
                series,
                owner,
            } => write!(
                f,
                "metric '{metric}' would expose '{series}', which metric '{owner}' exposes \
                 already: expected a name whose series no other metric exposes"
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
            } => {
                write!(f, "option '{option}' does not apply to {kind} '{metric}'")?;
                let applies_to = match *option {
                    "buckets" => "a histogram",
                    "states" => "an enum",
                    "quantiles" => "a summary",
                    "max_age" | "age_buckets" => "a summary with quantiles",
                    _ => return Ok(()),
                };
                write!(f, ": expected on {applies_to} only")
            }
            MetricError::InvalidSample { metric, reason } => {
                write!(
                    f,
                    "invalid sample for collected family '{metric}': {reason}"
                )
            }
            MetricError::LabelCount {
                metric,
                expected,
                got,
            } => write!(
                f,
                "metric '{metric}' takes {expected} label value(s), {got} given"
            ),
            MetricError::UnknownMetric(n) => write!(
                f,
                "no metric named '{n}': expected the name of a declared metric"
            ),
            MetricError::WrongType {
                metric,
                actual,
                requested,
            } => write!(
                f,
                "metric '{metric}' is a {actual}, not a {requested}: expected the \
                 accessor for a {actual}"
            ),
            MetricError::LabelsRequired { metric, labels } => write!(
                f,
                "metric '{metric}' has labels [{}]: use its family and labels(...)",
                labels.join(", ")
            ),
            MetricError::NegativeIncrement { labels, value } => write!(
                f,
                "counter{} refused increment {}: expected an increment >= 0 (counters only \
                 go up)",
                Series(labels),
                Float(*value)
            ),
            MetricError::InvalidCounterValue { labels, value } => write!(
                f,
                "counter{} refused value {}: expected a value >= 0 or +Inf",
                Series(labels),
                Float(*value)
            ),
            MetricError::UnknownState {
                metric,
                state,
                states,
            } => write!(
                f,
                "enum '{metric}' has no state '{state}': expected one of {}",
                states.join(", ")
            ),
        }
    }
}

/// A series' label pairs as `{a="x"}`, or nothing without labels.
struct Series<'a>(&'a str);

impl fmt::Display for Series<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            "" => Ok(()),
            labels => write!(f, " {{{labels}}}"),
        }
    }
}

/// An `f64` shown with the crate's float writer: `core::fmt`'s float code would be linked for
/// error messages alone.
struct Float(f64);

impl fmt::Display for Float {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = Vec::new();
        write_float(&mut text, self.0);
        f.write_str(&String::from_utf8_lossy(&text))
    }
}

impl std::error::Error for MetricError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant's message, whole: each names the metric (but a type parsed alone, and a
    /// counter's series, which names itself by its labels), the culprit, and what is accepted.
    #[test]
    fn messages_name_the_metric_the_culprit_and_the_accepted_form() {
        let s = String::from;
        let cases: Vec<(MetricError, &str)> = vec![
            (
                MetricError::InvalidMetricType(s("gauges")),
                "invalid metric type 'gauges': expected one of counter, gauge, histogram, \
                 summary, info, enum",
            ),
            (
                MetricError::InvalidMetricName(s("")),
                "invalid metric name '': expected a non-empty UTF-8 name",
            ),
            (
                MetricError::InvalidLabelName {
                    metric: s("m"),
                    label: s("__x"),
                    reason: "names starting with '__' are reserved for Prometheus",
                },
                "invalid label name '__x' for metric 'm': names starting with '__' are \
                 reserved for Prometheus",
            ),
            (
                MetricError::DuplicateLabelName {
                    metric: s("m"),
                    label: s("a"),
                },
                "duplicate label name 'a' for metric 'm': expected each label name once, \
                 none of them among the metric's own labels",
            ),
            (
                MetricError::DuplicateMetric(s("m")),
                "metric 'm' is already registered: expected a name no other metric has",
            ),
            (
                MetricError::DuplicateSeries {
                    metric: s("m"),
                    values: vec![s("x"), s("y")],
                },
                "metric 'm' has two samples with label values [x, y]: expected each set of \
                 label values once",
            ),
            (
                MetricError::SeriesNameTaken {
                    metric: s("h"),
                    series: s("h_count"),
                    owner: s("h_count"),
                },
                "metric 'h' would expose 'h_count', which metric 'h_count' exposes already: \
                 expected a name whose series no other metric exposes",
            ),
            (
                MetricError::InvalidBuckets {
                    metric: s("h"),
                    reason: "bounds must be strictly increasing",
                },
                "invalid buckets for histogram 'h': bounds must be strictly increasing",
            ),
            (
                MetricError::InvalidStates {
                    metric: s("e"),
                    reason: "an enum needs at least one state",
                },
                "invalid states for enum 'e': an enum needs at least one state",
            ),
            (
                MetricError::InvalidQuantiles {
                    metric: s("s"),
                    reason: "a quantile must be in (0, 1)",
                },
                "invalid quantiles for summary 's': a quantile must be in (0, 1)",
            ),
            (
                MetricError::InvalidOption {
                    metric: s("g"),
                    option: "buckets",
                    kind: MetricType::Gauge,
                },
                "option 'buckets' does not apply to gauge 'g': expected on a histogram only",
            ),
            (
                MetricError::InvalidOption {
                    metric: s("s"),
                    option: "max_age",
                    kind: MetricType::Summary,
                },
                "option 'max_age' does not apply to summary 's': expected on a summary with \
                 quantiles only",
            ),
            (
                MetricError::InvalidSample {
                    metric: s("h"),
                    reason: "expected cumulative counts that never decrease",
                },
                "invalid sample for collected family 'h': expected cumulative counts that \
                 never decrease",
            ),
            (
                MetricError::LabelCount {
                    metric: s("m"),
                    expected: 2,
                    got: 1,
                },
                "metric 'm' takes 2 label value(s), 1 given",
            ),
            (
                MetricError::UnknownMetric(s("m")),
                "no metric named 'm': expected the name of a declared metric",
            ),
            (
                MetricError::WrongType {
                    metric: s("m"),
                    actual: MetricType::Counter,
                    requested: MetricType::Gauge,
                },
                "metric 'm' is a counter, not a gauge: expected the accessor for a counter",
            ),
            (
                MetricError::LabelsRequired {
                    metric: s("m"),
                    labels: vec![s("a"), s("b")],
                },
                "metric 'm' has labels [a, b]: use its family and labels(...)",
            ),
            (
                MetricError::NegativeIncrement {
                    labels: s("code=\"200\""),
                    value: -1.5,
                },
                "counter {code=\"200\"} refused increment -1.5: expected an increment >= 0 \
                 (counters only go up)",
            ),
            (
                MetricError::InvalidCounterValue {
                    labels: s(""),
                    value: f64::NAN,
                },
                "counter refused value NaN: expected a value >= 0 or +Inf",
            ),
            (
                MetricError::UnknownState {
                    metric: s("e"),
                    state: s("x"),
                    states: vec![s("up"), s("down")],
                },
                "enum 'e' has no state 'x': expected one of up, down",
            ),
        ];
        for (error, message) in &cases {
            assert_eq!(error.to_string(), *message);
            assert_eq!(format!("{error:?}"), format!("MetricError({message})"));
        }
    }
}
