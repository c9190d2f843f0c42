//! The encoders: one walk over a registered metric or a collected family, writing its header
//! lines and samples in a [`Format`]. Labels, `le` values and enum states come rendered from
//! the registry; this writes names, numbers and the lines around them.

use std::sync::atomic::Ordering;

use super::Format;
use crate::registry::{lock, CollectedFamily, Desc, Family, Metric, MetricType, Series};
use crate::wire::decimal::{push_short, write_u64};
use crate::wire::escape::{write_escaped, write_label_pair};
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

/// Appends the `# HELP` and `# TYPE` lines of a family.
pub(crate) fn write_header(
    out: &mut Vec<u8>,
    name: &str,
    kind: MetricType,
    help: &str,
    format: Format,
) {
    let (suffix, type_name) = family_header(kind, format);
    out.extend_from_slice(b"# HELP ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(suffix.as_bytes());
    out.push(b' ');
    write_escaped(out, help, format == Format::OpenMetrics);
    out.extend_from_slice(b"\n# TYPE ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(suffix.as_bytes());
    out.push(b' ');
    out.extend_from_slice(type_name.as_bytes());
    out.push(b'\n');
}

/// Appends `{labels,extra}` (or nothing when both are empty); both are rendered label pairs.
fn write_label_set(out: &mut Vec<u8>, labels: &str, extra: &str) {
    if labels.is_empty() && extra.is_empty() {
        return;
    }
    out.push(b'{');
    push_short(out, labels.as_bytes());
    if !labels.is_empty() && !extra.is_empty() {
        out.push(b',');
    }
    push_short(out, extra.as_bytes());
    out.push(b'}');
}

/// A sample line's name and labels: `name_suffix{labels,extra} `.
fn write_sample_start(out: &mut Vec<u8>, desc: &Desc, suffix: &str, labels: &str, extra: &str) {
    push_short(out, desc.name.as_bytes());
    push_short(out, suffix.as_bytes());
    write_label_set(out, labels, extra);
    out.push(b' ');
}

fn write_sample(out: &mut Vec<u8>, desc: &Desc, suffix: &str, labels: &str, value: f64) {
    write_sample_start(out, desc, suffix, labels, "");
    write_float(out, value);
    out.push(b'\n');
}

fn write_count(out: &mut Vec<u8>, desc: &Desc, suffix: &str, labels: &str, extra: &str, n: u64) {
    write_sample_start(out, desc, suffix, labels, extra);
    write_u64(out, n);
    out.push(b'\n');
}

/// Appends a histogram bucket line: `name_bucket{labels,le="bound"} count`.
fn write_bucket(out: &mut Vec<u8>, desc: &Desc, labels: &str, bound: &str, n: u64) {
    push_short(out, desc.name.as_bytes());
    out.extend_from_slice(b"_bucket{");
    push_short(out, labels.as_bytes());
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
    format: Format,
    mut write: impl FnMut(&mut Vec<u8>, &Desc, &S),
) {
    let desc = family.desc();
    if family.is_empty() {
        // A labelled metric with no series yet: nothing to expose, not even its header
        // (as client_golang does), so no empty family confuses a parser.
        return;
    }
    write_header(out, &desc.name, desc.kind, &desc.help, format);
    family.for_each_series(|s| write(out, desc, s));
}

/// Appends one registered metric.
pub(crate) fn encode_metric(out: &mut Vec<u8>, metric: &Metric, format: Format) {
    match metric {
        Metric::Counter(f) => encode_series_family(out, f, format, |out, desc, s| {
            write_sample(out, desc, "_total", s.labels_rendered(), s.get());
        }),
        Metric::Gauge(f) => encode_series_family(out, f, format, |out, desc, s| {
            write_sample(out, desc, "", s.labels_rendered(), s.get());
        }),
        Metric::Histogram(f) => encode_series_family(out, f, format, |out, desc, s| {
            let labels = s.labels_rendered();
            let value = &s.inner().value;
            let mut cumulative = 0u64;
            for (count, bound) in value
                .counts
                .iter()
                .zip(desc.bucket_labels(format == Format::OpenMetrics))
            {
                cumulative += count.load(Ordering::Relaxed);
                write_bucket(out, desc, labels, bound, cumulative);
            }
            // OpenMetrics forbids a sum (and so a count) when a bucket bound is negative, as
            // the sum is then no measure of anything.
            let negative = desc.buckets.first().is_some_and(|&b| b < 0.0);
            if format == Format::Text || !negative {
                write_sample(out, desc, "_sum", labels, value.sum.get());
                // The count is the `+Inf` bucket as read above, so the two always agree.
                write_count(out, desc, "_count", labels, "", cumulative);
            }
        }),
        Metric::Summary(f) => encode_series_family(out, f, format, |out, desc, s| {
            let labels = s.labels_rendered();
            write_sample(out, desc, "_sum", labels, s.sum());
            write_count(out, desc, "_count", labels, "", s.count());
        }),
        Metric::Info(f) => encode_series_family(out, f, format, |out, desc, s| {
            let pairs = lock(&s.inner().value.pairs);
            write_count(out, desc, "_info", s.labels_rendered(), &pairs, 1);
        }),
        Metric::Enum(f) => encode_series_family(out, f, format, |out, desc, s| {
            let current = s.inner().value.state.load(Ordering::Relaxed);
            for (i, state) in desc.state_labels.iter().enumerate() {
                let n = u64::from(i == current);
                write_count(out, desc, "", s.labels_rendered(), state, n);
            }
        }),
    }
}

/// Appends a family yielded by a [`Collector`](crate::Collector), already validated.
pub(crate) fn encode_collected(out: &mut Vec<u8>, family: &CollectedFamily, format: Format) {
    write_header(out, &family.name, family.kind, &family.help, format);
    let suffix = match family.kind {
        MetricType::Counter => "_total",
        _ => "",
    };
    for (values, value) in &family.samples {
        push_short(out, family.name.as_bytes());
        push_short(out, suffix.as_bytes());
        if !values.is_empty() {
            out.push(b'{');
            for (i, (name, v)) in family.label_names.iter().zip(values).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_label_pair(out, name, v);
            }
            out.push(b'}');
        }
        out.push(b' ');
        write_float(out, *value);
        out.push(b'\n');
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
            write_header(&mut out, "x", kind, help, format);
            let got = String::from_utf8(out).unwrap();
            assert_eq!(got, format!("# HELP {want}"), "{kind} {format:?}");
        }
    }
}
