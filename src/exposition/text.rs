//! The encoders: one walk over a registered metric or a collected family, writing its header
//! lines and samples in a [`Format`]. Labels, `le` values and enum states come rendered from
//! the registry; this writes names, numbers and the lines around them.

use std::sync::atomic::Ordering;

use super::{Escaping, Format};
use crate::registry::{lock, CollectedFamily, Desc, Family, Metric, MetricType, Series};
use crate::wire::decimal::{push_short, write_u64};
use crate::wire::escape::write_escaped;
use crate::wire::float::write_float;

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

/// How a scrape writes names: its format, and whether the negotiated escaping changes
/// legacy names (only `dots` does: `_` becomes `__`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    format: Format,
    dots: bool,
}

impl Style {
    pub(crate) fn new(format: Format, escaping: Escaping) -> Style {
        Style {
            format,
            dots: escaping == Escaping::Dots,
        }
    }

    /// Appends a legacy name (or part of one) as the escaping writes it.
    fn name(self, out: &mut Vec<u8>, name: &str) {
        if self.dots {
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

    /// Appends rendered label pairs (`a="x",b="y"`), their names escaped.
    fn labels(self, out: &mut Vec<u8>, rendered: &str) {
        if !self.dots {
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

/// Appends `="value"`, the value escaped.
fn write_label_value(out: &mut Vec<u8>, value: &str) {
    out.extend_from_slice(b"=\"");
    write_escaped(out, value, true);
    out.push(b'"');
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

/// Appends the `# HELP` and `# TYPE` lines of a family.
pub(crate) fn write_header(
    out: &mut Vec<u8>,
    name: &str,
    kind: MetricType,
    help: &str,
    style: Style,
) {
    let (suffix, type_name) = family_header(kind, style.format);
    out.extend_from_slice(b"# HELP ");
    style.name(out, name);
    style.name(out, suffix);
    out.push(b' ');
    write_escaped(out, help, style.format == Format::OpenMetrics);
    out.extend_from_slice(b"\n# TYPE ");
    style.name(out, name);
    style.name(out, suffix);
    out.push(b' ');
    out.extend_from_slice(type_name.as_bytes());
    out.push(b'\n');
}

/// Appends `{labels,extra}` (or nothing when both are empty); both are rendered label pairs.
fn write_label_set(out: &mut Vec<u8>, style: Style, labels: &str, extra: &str) {
    if labels.is_empty() && extra.is_empty() {
        return;
    }
    out.push(b'{');
    style.labels(out, labels);
    if !labels.is_empty() && !extra.is_empty() {
        out.push(b',');
    }
    style.labels(out, extra);
    out.push(b'}');
}

/// A sample line's name and labels: `name_suffix{labels,extra} `.
fn write_sample_start(
    out: &mut Vec<u8>,
    style: Style,
    desc: &Desc,
    suffix: &str,
    labels: &str,
    extra: &str,
) {
    style.name(out, &desc.name);
    style.suffix(out, suffix);
    write_label_set(out, style, labels, extra);
    out.push(b' ');
}

fn write_sample(out: &mut Vec<u8>, style: Style, desc: &Desc, suffix: &str, labels: &str, v: f64) {
    write_sample_start(out, style, desc, suffix, labels, "");
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
fn write_bucket(out: &mut Vec<u8>, style: Style, desc: &Desc, labels: &str, bound: &str, n: u64) {
    style.name(out, &desc.name);
    style.suffix(out, "_bucket");
    out.push(b'{');
    style.labels(out, labels);
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
    write_header(out, &desc.name, desc.kind, &desc.help, style);
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
/// - a counter set to a negative or NaN value (`Counter::set` takes any value): its `_total`;
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
        Metric::Counter(f) => encode_series_family(out, f, style, |out, desc, s| {
            let v = s.get();
            if counter_like_ok(style, v) {
                write_sample(out, style, desc, "_total", s.labels_rendered(), v);
            }
        }),
        Metric::Gauge(f) => encode_series_family(out, f, style, |out, desc, s| {
            write_sample(out, style, desc, "", s.labels_rendered(), s.get());
        }),
        Metric::Histogram(f) => encode_series_family(out, f, style, |out, desc, s| {
            let labels = s.labels_rendered();
            let value = &s.inner().value;
            let openmetrics = style.format == Format::OpenMetrics;
            let mut cumulative = 0u64;
            for (count, bound) in value.counts.iter().zip(desc.bucket_labels(openmetrics)) {
                cumulative += count.load(Ordering::Relaxed);
                write_bucket(out, style, desc, labels, bound, cumulative);
            }
            let sum = value.sum.get();
            let negative_bucket = desc.buckets.first().is_some_and(|&b| b < 0.0);
            if !openmetrics || (!negative_bucket && sum >= 0.0) {
                write_sample(out, style, desc, "_sum", labels, sum);
                // The count is the `+Inf` bucket as read above, so the two always agree.
                write_count(out, style, desc, "_count", labels, "", cumulative);
            }
        }),
        Metric::Summary(f) => encode_series_family(out, f, style, |out, desc, s| {
            let labels = s.labels_rendered();
            if desc.quantiles.is_some() {
                write_quantiles(out, style, desc, s);
            }
            let sum = s.sum();
            if counter_like_ok(style, sum) {
                write_sample(out, style, desc, "_sum", labels, sum);
            }
            write_count(out, style, desc, "_count", labels, "", s.count());
        }),
        Metric::Info(f) => encode_series_family(out, f, style, |out, desc, s| {
            let pairs = lock(&s.inner().value.pairs);
            write_count(out, style, desc, "_info", s.labels_rendered(), &pairs, 1);
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

/// Appends a family yielded by a [`Collector`](crate::Collector), already validated. A
/// counter sample that is negative or NaN is left out of OpenMetrics, as for registered
/// counters.
pub(crate) fn encode_collected(out: &mut Vec<u8>, family: &CollectedFamily, style: Style) {
    let start = out.len();
    write_header(out, &family.name, family.kind, &family.help, style);
    let counter = family.kind == MetricType::Counter;
    let suffix = if counter { "_total" } else { "" };
    let mut left_out = 0;
    for (values, value) in &family.samples {
        if counter && !counter_like_ok(style, *value) {
            left_out += 1;
            continue;
        }
        style.name(out, &family.name);
        style.suffix(out, suffix);
        if !values.is_empty() {
            out.push(b'{');
            for (i, (name, v)) in family.label_names.iter().zip(values).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                style.name(out, name);
                write_label_value(out, v);
            }
            out.push(b'}');
        }
        out.push(b' ');
        write_float(out, *value);
        out.push(b'\n');
    }
    if left_out > 0 && left_out == family.samples.len() {
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
        metrics.counter("c").unwrap().set(-1.0);
        metrics.histogram("h").unwrap().observe(-5.0);
        metrics.summary("s").unwrap().observe(f64::NAN);
        let text = body(&mut registry, Format::Text, Escaping::Underscores);
        assert_eq!(
            text,
            "# HELP c_total C.\n# TYPE c_total counter\nc_total -1\n\
             # HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n\
             h_sum -5\nh_count 1\n\
             # HELP s S.\n# TYPE s summary\ns_sum NaN\ns_count 1\n"
        );
        let om = body(&mut registry, Format::OpenMetrics, Escaping::Underscores);
        assert_eq!(
            om,
            "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1.0\"} 1\nh_bucket{le=\"+Inf\"} 1\n\
             # HELP s S.\n# TYPE s summary\ns_count 1\n# EOF\n"
        );
        metrics.counter("c").unwrap().set(f64::INFINITY);
        metrics.histogram("h").unwrap().observe(10.0);
        let om = body(&mut registry, Format::OpenMetrics, Escaping::Underscores);
        assert!(
            om.starts_with("# HELP c C.\n# TYPE c counter\nc_total +Inf\n"),
            "{om}"
        );
        assert!(om.contains("h_sum 5\nh_count 2\n"), "{om}");
    }
}
