//! The encoders: one walk over a registered metric or a collected family, writing its header
//! lines and samples in a [`Format`]. Labels, `le` values and enum states come rendered from
//! the registry; this writes names, numbers and the lines around them. Names are written as
//! the negotiated escaping says: a legacy name as it is (but under `dots`), another quoted
//! (`{"my.metric",…}`) or escaped; a family with a label name outside the legacy set has its
//! series rendered without names (`="x"`), and the names come from the forms its declaration
//! computed for each scheme.

use std::sync::atomic::Ordering;

use super::{Escaping, Format};
use crate::registry::{
    lock, write_name, CollectedFamily, CollectedValue, Desc, Family, Metric, MetricType, Rendered,
    Scheme, Series,
};
use crate::wire::decimal::{push_short, write_u64};
use crate::wire::escape::write_escaped;
use crate::wire::float::{write_bound, write_float};

/// The suffix a family's name carries in its `# HELP` and `# TYPE` lines, and its type there.
fn family_header(kind: MetricType, format: Format) -> (&'static str, &'static str) {
    match (format, kind) {
        (Format::Text, MetricType::Counter) => ("_total", "counter"),
        (Format::Text, MetricType::Info) => ("_info", "gauge"),
        (Format::Text, MetricType::Enum) => ("", "gauge"),
        (Format::OpenMetrics, MetricType::Counter) => ("", "counter"),
        (Format::OpenMetrics, MetricType::Info) => ("", "info"),
        (Format::OpenMetrics, MetricType::Enum) => ("", "stateset"),
        (_, MetricType::Gauge) => ("", "gauge"),
        (_, MetricType::Histogram) => ("", "histogram"),
        (_, MetricType::Summary) => ("", "summary"),
    }
}

/// The forms of a family's label names per scheme, when one is outside the legacy set.
type Forms = Option<crate::registry::NameForms>;

/// How a scrape writes names: its format, and the negotiated escaping (of which only `dots`
/// changes legacy names: `_` becomes `__`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    format: Format,
    scheme: Scheme,
}

impl Style {
    pub(crate) fn new(format: Format, escaping: Escaping) -> Style {
        let scheme = match escaping {
            Escaping::AllowUtf8 => Scheme::Quoted,
            Escaping::Underscores => Scheme::Underscores,
            Escaping::Dots => Scheme::Dots,
            Escaping::Values => Scheme::Values,
        };
        Style { format, scheme }
    }

    fn dots(self) -> bool {
        self.scheme == Scheme::Dots
    }

    /// `true` if a metric name that is not legacy goes inside the braces, quoted:
    /// `{"my.metric",a="x"} 1`.
    fn quotes(self, legacy: bool) -> bool {
        !legacy && self.scheme == Scheme::Quoted
    }

    /// Appends a metric name and a suffix outside braces. A legacy name as below; another is
    /// escaped by the scheme: in the text format as one name with its suffix, as the
    /// reference does, in OpenMetrics the family's name, then the suffix as is (see `suffix`).
    fn metric_name(self, out: &mut Vec<u8>, name: &str, legacy: bool, suffix: &str) {
        if legacy {
            self.name(out, name);
            self.suffix(out, suffix);
        } else if self.format == Format::Text {
            write_name(out, &[name, suffix], self.scheme, true);
        } else {
            write_name(out, &[name], self.scheme, true);
            push_short(out, suffix.as_bytes());
        }
    }

    /// Appends a legacy name (or part of one) as the escaping writes it.
    fn name(self, out: &mut Vec<u8>, name: &str) {
        if self.dots() {
            for &b in name.as_bytes() {
                write_dots_byte(out, b);
            }
        } else {
            push_short(out, name.as_bytes());
        }
    }

    /// Appends the suffix of a sample name (`_total`, `_bucket`, …). In the text formats it is
    /// escaped with the rest of the name, as the reference (the Python client) and client_golang
    /// do (`a_b_total` is `a__b__total` under `dots`, and unescapes to the name it was). In
    /// OpenMetrics a sample's name must be its family's name plus the suffix, so the suffix is
    /// written as is: the reference escapes it there too, and its own parser then reads
    /// `a__b__total` as a sample of another, untyped family, leaving `# TYPE a__b counter`
    /// empty. (Under `values` its OpenMetrics writer also prefixes legacy sample names with
    /// `U__`, against its own `escape_metric_name` and Prometheus' `EscapeName`, which leave
    /// legacy names as they are; so do we.)
    fn suffix(self, out: &mut Vec<u8>, suffix: &str) {
        match self.format {
            Format::Text => self.name(out, suffix),
            Format::OpenMetrics => push_short(out, suffix.as_bytes()),
        }
    }

    /// Appends rendered label pairs (`a="x",b="y"`), their names escaped. With `forms`, the
    /// pairs were rendered without their names (`="x",="y"`), which come from there.
    #[inline(never)]
    fn labels(self, out: &mut Vec<u8>, rendered: &str, forms: &Forms) {
        if let Some(forms) = forms {
            let mut names = forms.get(self.scheme as usize).into_iter().flatten();
            let mut in_value = false;
            let mut backslash = false;
            for &b in rendered.as_bytes() {
                if in_value {
                    if backslash {
                        backslash = false;
                    } else if b == b'\\' {
                        backslash = true;
                    } else if b == b'"' {
                        in_value = false;
                    }
                } else if b == b'"' {
                    in_value = true;
                } else if b == b'=' {
                    push_short(out, names.next().map_or("", String::as_str).as_bytes());
                }
                out.push(b);
            }
            return;
        }
        if !self.dots() {
            push_short(out, rendered.as_bytes());
            return;
        }
        let mut in_value = false;
        let mut backslash = false;
        for &b in rendered.as_bytes() {
            if in_value {
                if backslash {
                    backslash = false;
                } else if b == b'\\' {
                    backslash = true;
                } else if b == b'"' {
                    in_value = false;
                }
                out.push(b);
            } else if b == b'"' {
                in_value = true;
                out.push(b);
            } else {
                write_dots_byte(out, b);
            }
        }
    }
}

/// One byte of a legacy name under the `dots` escaping (Prometheus' `EscapeName`): `_` is
/// `__`, `.` is `_dot_`; the other bytes of a legacy name, `=` and `,` stay.
fn write_dots_byte(out: &mut Vec<u8>, b: u8) {
    match b {
        b'_' => out.extend_from_slice(b"__"),
        b'.' => out.extend_from_slice(b"_dot_"),
        _ => out.push(b),
    }
}

/// Appends the `# HELP` and `# TYPE` lines of a family; `legacy` says whether its name is a
/// legacy metric name (known at declaration for a registered metric).
pub(crate) fn write_header(
    out: &mut Vec<u8>,
    name: &str,
    legacy: bool,
    kind: MetricType,
    help: &str,
    style: Style,
) {
    let (suffix, type_name) = family_header(kind, style.format);
    let write_family_name = |out: &mut Vec<u8>| {
        if legacy {
            style.name(out, name);
            style.name(out, suffix);
        } else {
            write_name(out, &[name, suffix], style.scheme, true);
        }
    };
    out.extend_from_slice(b"# HELP ");
    write_family_name(out);
    out.push(b' ');
    write_escaped(out, help, style.format == Format::OpenMetrics);
    out.extend_from_slice(b"\n# TYPE ");
    write_family_name(out);
    out.push(b' ');
    out.extend_from_slice(type_name.as_bytes());
    out.push(b'\n');
}

/// A sample line's name and labels, `name_suffix{labels,extra} `, or `{"name_suffix",labels,extra} `
/// for a name outside the legacy set when the scraper allows UTF-8. `labels` and `extra` are
/// rendered label pairs (`extra` is an enum's state, an info's pairs). Out of line: each
/// metric type's walk calls it.
#[inline(never)]
fn write_sample_start(
    out: &mut Vec<u8>,
    style: Style,
    desc: &Desc,
    suffix: &str,
    labels: &str,
    extra: &str,
) {
    let quoted = style.quotes(desc.legacy_name);
    if quoted {
        out.push(b'{');
        write_name(out, &[&desc.name, suffix], Scheme::Quoted, true);
    } else {
        style.metric_name(out, &desc.name, desc.legacy_name, suffix);
    }
    if !labels.is_empty() || !extra.is_empty() {
        out.push(if quoted { b',' } else { b'{' });
        style.labels(out, labels, &desc.label_forms);
        // Most lines have no extra pairs: no call for them.
        if !extra.is_empty() {
            if !labels.is_empty() {
                out.push(b',');
            }
            if desc.kind == MetricType::Info {
                // An info's pairs come written for the scheme already.
                push_short(out, extra.as_bytes());
            } else {
                style.labels(out, extra, &desc.state_forms);
            }
        }
        out.push(b'}');
    } else if quoted {
        out.push(b'}');
    }
    out.push(b' ');
}

fn write_sample(out: &mut Vec<u8>, style: Style, desc: &Desc, suffix: &str, labels: &str, v: f64) {
    write_sample_start(out, style, desc, suffix, labels, "");
    write_float(out, v);
    out.push(b'\n');
}

/// The start of a family's sample lines up to their labels, `name_suffix{`, made once per
/// family and scrape when the name is written as it is (a legacy name, not under `dots`, label
/// names in the rendered pairs): then a line is this, the rendered labels and the value, two
/// copies instead of a walk through the escaping for every line.
struct LinePrefix {
    bytes: [u8; 128],
    len: usize,
}

impl LinePrefix {
    /// `None` when the name needs escaping or is too long for the buffer.
    fn new(style: Style, desc: &Desc, suffix: &str) -> Option<LinePrefix> {
        if !desc.legacy_name || style.dots() || desc.label_forms.is_some() {
            return None;
        }
        let (name, suffix) = (desc.name.as_bytes(), suffix.as_bytes());
        let len = name.len() + suffix.len() + 1;
        let mut bytes = [0u8; 128];
        let (head, tail) = bytes.get_mut(..len)?.split_at_mut(name.len());
        head.copy_from_slice(name);
        let (middle, brace) = tail.split_at_mut(suffix.len());
        middle.copy_from_slice(suffix);
        brace.copy_from_slice(b"{");
        Some(LinePrefix { bytes, len })
    }
}

/// [`write_sample`] with the family's [`LinePrefix`], if it has one.
#[inline]
fn write_prefixed_sample(
    out: &mut Vec<u8>,
    prefix: Option<&LinePrefix>,
    (style, desc, suffix): (Style, &Desc, &str),
    labels: &str,
    v: f64,
) {
    let Some(prefix) = prefix.filter(|_| !labels.is_empty()) else {
        return write_sample(out, style, desc, suffix, labels, v);
    };
    // The line at its longest: a value is at most 24 bytes, with `} ` and the newline.
    out.reserve(prefix.len + labels.len() + 27);
    push_short(out, prefix.bytes.get(..prefix.len).unwrap_or_default());
    push_short(out, labels.as_bytes());
    out.extend_from_slice(b"} ");
    write_float(out, v);
    out.push(b'\n');
}

fn write_count(
    out: &mut Vec<u8>,
    style: Style,
    desc: &Desc,
    suffix: &str,
    labels: &str,
    extra: &str,
    n: u64,
) {
    write_sample_start(out, style, desc, suffix, labels, extra);
    write_u64(out, n);
    out.push(b'\n');
}

/// Appends a histogram bucket line: `name_bucket{labels,le="bound"} count`.
#[inline(never)]
fn write_bucket(out: &mut Vec<u8>, style: Style, desc: &Desc, labels: &str, bound: &str, n: u64) {
    if style.quotes(desc.legacy_name) {
        out.push(b'{');
        write_name(out, &[&desc.name, "_bucket"], Scheme::Quoted, true);
        out.push(b',');
    } else {
        style.metric_name(out, &desc.name, desc.legacy_name, "_bucket");
        out.push(b'{');
    }
    style.labels(out, labels, &desc.label_forms);
    if !labels.is_empty() {
        out.push(b',');
    }
    out.extend_from_slice(b"le=\"");
    push_short(out, bound.as_bytes());
    out.extend_from_slice(b"\"} ");
    write_u64(out, n);
    out.push(b'\n');
}

fn encode_series_family<S: Series>(
    out: &mut Vec<u8>,
    family: &Family<S>,
    style: Style,
    mut write: impl FnMut(&mut Vec<u8>, &Desc, &S),
) {
    let desc = family.desc();
    if family.is_empty() {
        // A labelled metric with no series yet: nothing to expose, not even its header
        // (as client_golang does), so no empty family confuses a parser.
        return;
    }
    let start = out.len();
    write_header(
        out,
        &desc.name,
        desc.legacy_name,
        desc.kind,
        &desc.help,
        style,
    );
    let header_end = out.len();
    family.for_each_series(|s| write(out, desc, s));
    if out.len() == header_end {
        // Every sample was left out (below): no family rather than an empty one.
        out.truncate(start);
    }
}

/// `true` if OpenMetrics lets `v` be a counter-like value (`_total`, `_sum`): neither NaN nor
/// negative (`-0` is fine). The text format takes any value.
fn counter_like_ok(style: Style, v: f64) -> bool {
    style.format == Format::Text || v >= 0.0
}

/// Appends one registered metric.
///
/// Every OpenMetrics body parses, whatever values the API was given: a sample the format
/// forbids is left out of OpenMetrics (and kept in the text format, which allows it):
/// - a counter that is negative or NaN: its `_total` (`Counter::set` and `inc_by` refuse
///   such values; a collected counter may have one);
/// - a histogram sum that is negative or NaN (negative or NaN observations): its `_sum`, and
///   `_count` with it, as OpenMetrics has either both or neither; the buckets stay;
/// - a histogram with a negative bucket bound: `_sum` and `_count`, always, since the sum of
///   such a histogram is no counter (OpenMetrics forbids it even when it happens to be ≥ 0);
/// - a summary sum that is negative or NaN: its `_sum` (its `_count` is still a count);
/// - a summary quantile that is negative (the Python client's strict parser refuses them; NaN,
///   a quantile without observations, is kept): its line ([`write_quantiles`]).
///
/// A family all of whose samples are left out is left out too.
pub(crate) fn encode_metric(out: &mut Vec<u8>, metric: &Metric, style: Style) {
    match metric {
        Metric::Counter(f) => {
            let prefix = LinePrefix::new(style, f.desc(), "_total");
            encode_series_family(out, f, style, |out, desc, s| {
                let v = s.get();
                if counter_like_ok(style, v) {
                    let line = (style, desc, "_total");
                    write_prefixed_sample(out, prefix.as_ref(), line, s.labels_rendered(), v);
                }
            });
        }
        Metric::Gauge(f) => {
            let prefix = LinePrefix::new(style, f.desc(), "");
            encode_series_family(out, f, style, |out, desc, s| {
                let line = (style, desc, "");
                write_prefixed_sample(out, prefix.as_ref(), line, s.labels_rendered(), s.get());
            });
        }
        Metric::Histogram(f) => encode_series_family(out, f, style, |out, desc, s| {
            let labels = s.labels_rendered();
            // Buckets, sum and count as of one moment, whoever observes meanwhile.
            s.inner().value.observations.read(|snapshot| {
                let cumulative = snapshot.counts().scan(0u64, |total, n| {
                    *total += n;
                    Some(*total)
                });
                write_histogram(out, style, desc, labels, cumulative, snapshot.sum);
            });
        }),
        Metric::Summary(f) => encode_series_family(out, f, style, |out, desc, s| {
            let labels = s.labels_rendered();
            if desc.quantiles.is_some() {
                write_quantiles(out, style, desc, s);
            }
            let (sum, count) = s.inner().value.observations.read(|s| (s.sum, s.count));
            if counter_like_ok(style, sum) {
                write_sample(out, style, desc, "_sum", labels, sum);
            }
            write_count(out, style, desc, "_count", labels, "", count);
        }),
        Metric::Info(f) => encode_series_family(out, f, style, |out, desc, s| {
            let pairs = lock(&s.inner().value.pairs);
            let pairs = &pairs[style.scheme as usize];
            write_count(out, style, desc, "_info", s.labels_rendered(), pairs, 1);
        }),
        Metric::Enum(f) => encode_series_family(out, f, style, |out, desc, s| {
            let current = s.inner().value.state.load(Ordering::Relaxed);
            for (i, state) in desc.state_labels.iter().enumerate() {
                let n = u64::from(i == current);
                write_count(out, style, desc, "", s.labels_rendered(), state, n);
            }
        }),
    }
}

/// Appends a histogram's bucket lines from its cumulative counts (`+Inf` last), then `_sum`
/// and `_count` (the `+Inf` count), which OpenMetrics leaves out for a negative sum or bound.
fn write_histogram(
    out: &mut Vec<u8>,
    style: Style,
    desc: &Desc,
    labels: &str,
    cumulative: impl Iterator<Item = u64>,
    sum: f64,
) {
    let openmetrics = style.format == Format::OpenMetrics;
    let mut count = 0;
    for (n, bound) in cumulative.zip(desc.bucket_labels(openmetrics)) {
        write_bucket(out, style, desc, labels, bound, n);
        count = n;
    }
    let negative_bucket = desc.buckets.first().is_some_and(|&b| b < 0.0);
    if !openmetrics || (!negative_bucket && sum >= 0.0) {
        write_sample(out, style, desc, "_sum", labels, sum);
        write_count(out, style, desc, "_count", labels, "", count);
    }
}

/// Appends a summary's `name{labels,quantile="…"} value` lines; a negative value is left out
/// of OpenMetrics (the Python client's strict parser refuses it), NaN (no observations) kept.
/// Out of line: once in the binary, however many encoders inline `encode_metric`.
#[inline(never)]
fn write_quantiles(out: &mut Vec<u8>, style: Style, desc: &Desc, s: &crate::registry::Summary) {
    let Some(quantiles) = &desc.quantiles else {
        return;
    };
    let labels = s.labels_rendered();
    let pairs = quantiles.labels();
    s.inner().value.with_window(|window| {
        for (objective, pair) in quantiles.objectives.iter().zip(pairs) {
            let v = window.quantile(objective.quantile);
            if style.format == Format::Text || v >= 0.0 || v.is_nan() {
                write_sample_start(out, style, desc, "", labels, pair);
                write_float(out, v);
                out.push(b'\n');
            }
        }
    });
}

/// Appends a family yielded by a [`Collector`](crate::Collector), already validated, as a
/// registered family of its type is written, with the same samples left out of OpenMetrics.
pub(crate) fn encode_collected(out: &mut Vec<u8>, family: &CollectedFamily, style: Style) {
    let Some((desc, samples)) = family.checked() else {
        return;
    };
    let start = out.len();
    write_header(
        out,
        &desc.name,
        desc.legacy_name,
        desc.kind,
        &desc.help,
        style,
    );
    let header_end = out.len();
    for (value, Rendered { labels, info }) in samples {
        match value {
            CollectedValue::Number(v) if desc.kind == MetricType::Counter => {
                if counter_like_ok(style, *v) {
                    write_sample(out, style, desc, "_total", labels, *v);
                }
            }
            CollectedValue::Number(v) => write_sample(out, style, desc, "", labels, *v),
            CollectedValue::Histogram { cumulative, sum } => {
                write_histogram(out, style, desc, labels, cumulative.iter().copied(), *sum);
            }
            CollectedValue::Summary {
                count,
                sum,
                quantiles,
            } => {
                let mut pair = Vec::new();
                for &(q, v) in quantiles {
                    if style.format == Format::Text || v >= 0.0 || v.is_nan() {
                        pair.clear();
                        pair.extend_from_slice(b"quantile=\"");
                        write_bound(&mut pair, q, style.format == Format::OpenMetrics);
                        pair.push(b'"');
                        let pair = std::str::from_utf8(&pair).unwrap_or_default();
                        write_sample_start(out, style, desc, "", labels, pair);
                        write_float(out, v);
                        out.push(b'\n');
                    }
                }
                if counter_like_ok(style, *sum) {
                    write_sample(out, style, desc, "_sum", labels, *sum);
                }
                write_count(out, style, desc, "_count", labels, "", *count);
            }
            CollectedValue::Info(_) => {
                let pairs = info.as_ref().map_or("", |p| &p[style.scheme as usize]);
                write_count(out, style, desc, "_info", labels, pairs, 1);
            }
            CollectedValue::State(state) => {
                for (s, pair) in desc.states.iter().zip(&desc.state_labels) {
                    write_count(out, style, desc, "", labels, pair, u64::from(s == state));
                }
            }
        }
    }
    if out.len() == header_end {
        // No sample, or every one left out: no family rather than an empty one.
        out.truncate(start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_name_the_exposed_family() {
        use Format::{OpenMetrics, Text};
        let help = "h\\n\n\"";
        let cases: &[(MetricType, Format, &str)] = &[
            (
                MetricType::Counter,
                Text,
                "x_total h\\\\n\\n\"\n# TYPE x_total counter\n",
            ),
            (MetricType::Gauge, Text, "x h\\\\n\\n\"\n# TYPE x gauge\n"),
            (
                MetricType::Info,
                Text,
                "x_info h\\\\n\\n\"\n# TYPE x_info gauge\n",
            ),
            (MetricType::Enum, Text, "x h\\\\n\\n\"\n# TYPE x gauge\n"),
            (
                MetricType::Counter,
                OpenMetrics,
                "x h\\\\n\\n\\\"\n# TYPE x counter\n",
            ),
            (
                MetricType::Info,
                OpenMetrics,
                "x h\\\\n\\n\\\"\n# TYPE x info\n",
            ),
            (
                MetricType::Enum,
                OpenMetrics,
                "x h\\\\n\\n\\\"\n# TYPE x stateset\n",
            ),
            (
                MetricType::Histogram,
                OpenMetrics,
                "x h\\\\n\\n\\\"\n# TYPE x histogram\n",
            ),
        ];
        for &(kind, format, want) in cases {
            let mut out = Vec::new();
            write_header(
                &mut out,
                "x",
                true,
                kind,
                help,
                Style::new(format, Escaping::Underscores),
            );
            let got = String::from_utf8(out).unwrap();
            assert_eq!(got, format!("# HELP {want}"), "{kind} {format:?}");
        }
    }

    /// The body of `registry` in `format` under `escaping`.
    fn body(
        registry: &mut crate::registry::Registry,
        format: Format,
        escaping: Escaping,
    ) -> String {
        let mut out = Vec::new();
        registry.encode_escaped(&mut out, format, escaping).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn dots_escape_metric_and_label_names_not_values() {
        let mut registry = crate::registry::Registry::new();
        let metrics = registry
            .create_metrics([
                crate::registry::MetricConfig::new("jobs_done", "J_.", "counter")
                    .labels(["job_kind"]),
                crate::registry::MetricConfig::new("run_state", "S.", "enum").states(["up_a"]),
            ])
            .unwrap();
        let jobs = metrics.counter_family("jobs_done").unwrap();
        jobs.labels(&["a_\"b_"]).unwrap().inc();
        let cases: &[(Format, Escaping, &str)] = &[
            (
                Format::Text,
                Escaping::Dots,
                "# HELP jobs__done__total J_.\n# TYPE jobs__done__total counter\n\
                 jobs__done__total{job__kind=\"a_\\\"b_\"} 1\n\
                 # HELP run__state S.\n# TYPE run__state gauge\n\
                 run__state{run__state=\"up_a\"} 1\n",
            ),
            (
                Format::OpenMetrics,
                Escaping::Dots,
                "# HELP jobs__done J_.\n# TYPE jobs__done counter\n\
                 jobs__done_total{job__kind=\"a_\\\"b_\"} 1\n\
                 # HELP run__state S.\n# TYPE run__state stateset\n\
                 run__state{run__state=\"up_a\"} 1\n# EOF\n",
            ),
            (
                Format::Text,
                Escaping::AllowUtf8,
                "# HELP jobs_done_total J_.\n# TYPE jobs_done_total counter\n\
                 jobs_done_total{job_kind=\"a_\\\"b_\"} 1\n\
                 # HELP run_state S.\n# TYPE run_state gauge\n\
                 run_state{run_state=\"up_a\"} 1\n",
            ),
        ];
        for &(format, escaping, want) in cases {
            assert_eq!(
                body(&mut registry, format, escaping),
                want,
                "{format:?} {escaping:?}"
            );
        }
        for escaping in [Escaping::Underscores, Escaping::Values, Escaping::AllowUtf8] {
            for format in Format::ALL {
                let default = body(&mut registry, format, Escaping::Underscores);
                assert_eq!(
                    body(&mut registry, format, escaping),
                    default,
                    "{escaping:?}"
                );
            }
        }
    }

    /// A registry with names outside the legacy set: a gauge with a UTF-8 label, a counter, a
    /// histogram, an enum (whose name is its state label), a legacy name with a UTF-8 label,
    /// and a collected family.
    fn utf8_registry() -> crate::registry::Registry {
        use crate::registry::{CollectedFamily, Collector, MetricConfig};
        struct Fixed;
        impl Collector for Fixed {
            fn collect(
                &mut self,
                out: &mut Vec<CollectedFamily>,
            ) -> Result<(), crate::registry::BoxError> {
                let mut f = CollectedFamily::counter("c.d", "C.").labels(["k.v", "n"]);
                f.add_sample(&["x", "y"], 2.0)?;
                out.push(f);
                Ok(())
            }
        }
        let mut registry = crate::registry::Registry::new();
        let metrics = registry
            .create_metrics([
                MetricConfig::new("my.gauge", "G.", "gauge").labels(["some.label", "code"]),
                MetricConfig::new("ok_name", "O.", "gauge").labels(["ünï"]),
                MetricConfig::new("req.count", "R.", "counter"),
                MetricConfig::new("lat.s", "L.", "histogram")
                    .labels(["a:b"])
                    .buckets([1.0]),
                MetricConfig::new("run.state", "S.", "enum").states(["up"]),
            ])
            .unwrap();
        let g = metrics.gauge_family("my.gauge").unwrap();
        g.labels(&["x\"=,y", "200"]).unwrap().set(1.0);
        let o = metrics.gauge_family("ok_name").unwrap();
        o.labels(&["v"]).unwrap().set(2.0);
        metrics.counter("req.count").unwrap().inc();
        let h = metrics.histogram_family("lat.s").unwrap();
        h.labels(&["z"]).unwrap().observe(0.5);
        registry.register_collector(Fixed);
        registry
    }

    #[test]
    fn utf8_names_per_format_and_escaping() {
        let mut registry = utf8_registry();
        let cases: &[(Format, Escaping, &str)] = &[
            (
                Format::Text,
                Escaping::AllowUtf8,
                "# HELP \"lat.s\" L.\n# TYPE \"lat.s\" histogram\n{\"lat.s_bucket\",\"a:b\"=\"z\",le=\"1\"} 1\n\
                 {\"lat.s_bucket\",\"a:b\"=\"z\",le=\"+Inf\"} 1\n{\"lat.s_sum\",\"a:b\"=\"z\"} 0.5\n\
                 {\"lat.s_count\",\"a:b\"=\"z\"} 1\n# HELP \"my.gauge\" G.\n# TYPE \"my.gauge\" gauge\n\
                 {\"my.gauge\",\"some.label\"=\"x\\\"=,y\",code=\"200\"} 1\n# HELP ok_name O.\n\
                 # TYPE ok_name gauge\nok_name{\"ünï\"=\"v\"} 2\n# HELP \"req.count_total\" R.\n\
                 # TYPE \"req.count_total\" counter\n{\"req.count_total\"} 1\n\
                 # HELP \"run.state\" S.\n# TYPE \"run.state\" gauge\n{\"run.state\",\"run.state\"=\"up\"} 1\n\
                 # HELP \"c.d_total\" C.\n# TYPE \"c.d_total\" counter\n{\"c.d_total\",\"k.v\"=\"x\",n=\"y\"} 2\n",
            ),
            (
                Format::Text,
                Escaping::Underscores,
                "# HELP lat_s L.\n# TYPE lat_s histogram\nlat_s_bucket{a_b=\"z\",le=\"1\"} 1\n\
                 lat_s_bucket{a_b=\"z\",le=\"+Inf\"} 1\nlat_s_sum{a_b=\"z\"} 0.5\n\
                 lat_s_count{a_b=\"z\"} 1\n# HELP my_gauge G.\n# TYPE my_gauge gauge\n\
                 my_gauge{some_label=\"x\\\"=,y\",code=\"200\"} 1\n# HELP ok_name O.\n\
                 # TYPE ok_name gauge\nok_name{_n_=\"v\"} 2\n# HELP req_count_total R.\n\
                 # TYPE req_count_total counter\nreq_count_total 1\n# HELP run_state S.\n\
                 # TYPE run_state gauge\nrun_state{run_state=\"up\"} 1\n# HELP c_d_total C.\n\
                 # TYPE c_d_total counter\nc_d_total{k_v=\"x\",n=\"y\"} 2\n",
            ),
            (
                Format::Text,
                Escaping::Dots,
                "# HELP lat_dot_s L.\n# TYPE lat_dot_s histogram\nlat_dot_s__bucket{a__b=\"z\",le=\"1\"} 1\n\
                 lat_dot_s__bucket{a__b=\"z\",le=\"+Inf\"} 1\nlat_dot_s__sum{a__b=\"z\"} 0.5\n\
                 lat_dot_s__count{a__b=\"z\"} 1\n# HELP my_dot_gauge G.\n# TYPE my_dot_gauge gauge\n\
                 my_dot_gauge{some_dot_label=\"x\\\"=,y\",code=\"200\"} 1\n# HELP ok__name O.\n\
                 # TYPE ok__name gauge\nok__name{__n__=\"v\"} 2\n# HELP req_dot_count__total R.\n\
                 # TYPE req_dot_count__total counter\nreq_dot_count__total 1\n\
                 # HELP run_dot_state S.\n# TYPE run_dot_state gauge\nrun_dot_state{run_dot_state=\"up\"} 1\n\
                 # HELP c_dot_d__total C.\n# TYPE c_dot_d__total counter\nc_dot_d__total{k_dot_v=\"x\",n=\"y\"} 2\n",
            ),
            (
                Format::OpenMetrics,
                Escaping::AllowUtf8,
                "# HELP \"lat.s\" L.\n# TYPE \"lat.s\" histogram\n{\"lat.s_bucket\",\"a:b\"=\"z\",le=\"1.0\"} 1\n\
                 {\"lat.s_bucket\",\"a:b\"=\"z\",le=\"+Inf\"} 1\n{\"lat.s_sum\",\"a:b\"=\"z\"} 0.5\n\
                 {\"lat.s_count\",\"a:b\"=\"z\"} 1\n# HELP \"my.gauge\" G.\n# TYPE \"my.gauge\" gauge\n\
                 {\"my.gauge\",\"some.label\"=\"x\\\"=,y\",code=\"200\"} 1\n# HELP ok_name O.\n\
                 # TYPE ok_name gauge\nok_name{\"ünï\"=\"v\"} 2\n# HELP \"req.count\" R.\n\
                 # TYPE \"req.count\" counter\n{\"req.count_total\"} 1\n# HELP \"run.state\" S.\n\
                 # TYPE \"run.state\" stateset\n{\"run.state\",\"run.state\"=\"up\"} 1\n\
                 # HELP \"c.d\" C.\n# TYPE \"c.d\" counter\n{\"c.d_total\",\"k.v\"=\"x\",n=\"y\"} 2\n\
                 # EOF\n",
            ),
            (
                Format::OpenMetrics,
                Escaping::Values,
                "# HELP U__lat_2e_s L.\n# TYPE U__lat_2e_s histogram\nU__lat_2e_s_bucket{U__a_3a_b=\"z\",le=\"1.0\"} 1\n\
                 U__lat_2e_s_bucket{U__a_3a_b=\"z\",le=\"+Inf\"} 1\nU__lat_2e_s_sum{U__a_3a_b=\"z\"} 0.5\n\
                 U__lat_2e_s_count{U__a_3a_b=\"z\"} 1\n# HELP U__my_2e_gauge G.\n\
                 # TYPE U__my_2e_gauge gauge\nU__my_2e_gauge{U__some_2e_label=\"x\\\"=,y\",code=\"200\"} 1\n\
                 # HELP ok_name O.\n# TYPE ok_name gauge\nok_name{U___fc_n_ef_=\"v\"} 2\n\
                 # HELP U__req_2e_count R.\n# TYPE U__req_2e_count counter\nU__req_2e_count_total 1\n\
                 # HELP U__run_2e_state S.\n# TYPE U__run_2e_state stateset\nU__run_2e_state{U__run_2e_state=\"up\"} 1\n\
                 # HELP U__c_2e_d C.\n# TYPE U__c_2e_d counter\nU__c_2e_d_total{U__k_2e_v=\"x\",n=\"y\"} 2\n\
                 # EOF\n",
            ),
        ];
        for &(format, escaping, want) in cases {
            assert_eq!(
                body(&mut registry, format, escaping),
                want,
                "{format:?} {escaping:?}"
            );
        }
        // Text 0.0.4 is the public `encode`: underscores.
        let mut out = Vec::new();
        registry.encode(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            body(&mut registry, Format::Text, Escaping::Underscores)
        );
    }

    #[test]
    fn names_that_collide_once_escaped_are_refused() {
        use crate::registry::{MetricConfig, MetricError, Registry};
        let cases: &[(&str, &str, &str, &str)] = &[
            (
                "a_b",
                "gauge",
                "a.b",
                "metric 'a.b' would expose 'a_b', which metric 'a_b' exposes already: expected a name whose series no other metric exposes",
            ),
            (
                "a.b",
                "gauge",
                "a-b",
                "metric 'a-b' would expose 'a_b', which metric 'a.b' exposes already: expected a name whose series no other metric exposes",
            ),
            (
                "a_b_total",
                "gauge",
                "a.b",
                "metric 'a.b' would expose 'a_b_total', which metric 'a_b_total' exposes already: expected a name whose series no other metric exposes",
            ),
            (
                "U__a_2e_b",
                "gauge",
                "a.b",
                "metric 'a.b' would expose 'U__a_2e_b', which metric 'U__a_2e_b' exposes already: expected a name whose series no other metric exposes",
            ),
            (
                "x.y",
                "histogram",
                "x.y_count",
                "metric 'x.y_count' would expose 'x.y_count', which metric 'x.y' exposes already: expected a name whose series no other metric exposes",
            ),
        ];
        for &(first, kind, second, message) in cases {
            let mut registry = Registry::new();
            registry
                .create_metrics([MetricConfig::new(first, "", kind)])
                .unwrap();
            let second = match kind {
                "histogram" => MetricConfig::new(second, "", "gauge"),
                _ => MetricConfig::new(second, "", "counter"),
            };
            let err = registry.create_metrics([second]).unwrap_err();
            assert!(
                matches!(err, MetricError::SeriesNameTaken { .. }),
                "{first}: {err}"
            );
            assert_eq!(err.to_string(), message);
        }
    }

    #[test]
    fn openmetrics_leaves_out_what_it_forbids_and_text_keeps_it() {
        let mut registry = crate::registry::Registry::new();
        let metrics = registry
            .create_metrics([
                crate::registry::MetricConfig::new("c", "C.", "counter"),
                crate::registry::MetricConfig::new("h", "H.", "histogram").buckets([1.0]),
                crate::registry::MetricConfig::new("s", "S.", "summary"),
            ])
            .unwrap();
        assert!(metrics.counter("c").unwrap().set(-1.0).is_err());
        metrics.histogram("h").unwrap().observe(-5.0);
        metrics.summary("s").unwrap().observe(f64::NAN);
        let text = body(&mut registry, Format::Text, Escaping::Underscores);
        assert_eq!(
            text,
            "# HELP c_total C.\n# TYPE c_total counter\nc_total 0\n\
             # HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n\
             h_sum -5\nh_count 1\n\
             # HELP s S.\n# TYPE s summary\ns_sum NaN\ns_count 1\n"
        );
        let om = body(&mut registry, Format::OpenMetrics, Escaping::Underscores);
        assert_eq!(
            om,
            "# HELP c C.\n# TYPE c counter\nc_total 0\n\
             # HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1.0\"} 1\nh_bucket{le=\"+Inf\"} 1\n\
             # HELP s S.\n# TYPE s summary\ns_count 1\n# EOF\n"
        );
        metrics.counter("c").unwrap().set(f64::INFINITY).unwrap();
        metrics.histogram("h").unwrap().observe(10.0);
        let om = body(&mut registry, Format::OpenMetrics, Escaping::Underscores);
        assert!(
            om.starts_with("# HELP c C.\n# TYPE c counter\nc_total +Inf\n"),
            "{om}"
        );
        assert!(om.contains("h_sum 5\nh_count 2\n"), "{om}");
    }
}
