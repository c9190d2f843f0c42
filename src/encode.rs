//! The exposition formats: Prometheus text 0.0.4 and OpenMetrics 1.0.
//!
//! This module owns the bytes: `# HELP` / `# TYPE` lines, escaping, sample lines, and numbers
//! spelled the way Go's `ParseFloat` reads them back (`NaN`, `+Inf`, `-Inf`, shortest
//! round-tripping decimals, exponents for very large and very small values). It does no I/O:
//! everything appends to a `Vec<u8>`, which a scrape reuses, so encoding allocates only when the
//! buffer must grow.
//!
//! Both formats share one walk over the registry; a [`Format`] decides the few places where
//! they differ: family names and types in the header lines (OpenMetrics names a counter family
//! without `_total` and has `info` and `stateset` types), `"` escaped in OpenMetrics help
//! texts, canonical `le` values (`1.0`, not `1`; `1e+06` as client_golang writes it), and the
//! closing `# EOF`.
//!
//! The parts of a metric that never change (the header lines, the escaped label pairs of each
//! series, histogram `le` values, enum states) are rendered once when the metric or series is
//! created, by the helpers here; a scrape copies them and writes the numbers.

use std::sync::atomic::Ordering;

use crate::metrics::{lock, Desc, Family, MetricType, Series};
use crate::registry::{CollectedFamily, Metric};

/// The `Content-Type` of the text format.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `Content-Type` of OpenMetrics 1.0.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// The Prometheus text format, version 0.0.4.
    Text,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

impl Format {
    /// Both formats: text, then OpenMetrics.
    pub const ALL: [Format; 2] = [Format::Text, Format::OpenMetrics];

    /// The `Content-Type` header value of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => TEXT_CONTENT_TYPE,
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        }
    }

    /// 0 for text, 1 for OpenMetrics: where per-format renderings are kept.
    pub(crate) fn index(self) -> usize {
        match self {
            Format::Text => 0,
            Format::OpenMetrics => 1,
        }
    }
}

/// Appends `v` as the text format spells numbers: integers exactly (`42`, `-0`), `NaN`, `+Inf`,
/// `-Inf`, other values as a short decimal that parses back to the same `f64` (the shortest for
/// all but a fraction of a percent of values; always for decimals with up to six places), with
/// an exponent when very large or very small (`1e300`, `1.5e-7`).
///
/// ```
/// # use prometheus_aioexporter::encode::write_float;
/// let mut out = Vec::new();
/// for v in [1.0, 0.25, f64::INFINITY, f64::NAN, 1e300, -1.5e-7] {
///     write_float(&mut out, v);
///     out.push(b' ');
/// }
/// assert_eq!(out, b"1 0.25 +Inf NaN 1e300 -1.5e-7 ");
/// ```
pub fn write_float(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
    } else if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() { b"-0" } else { b"0" });
    } else if v.abs() < 1e15 && (v as i64) as f64 == v {
        // Exact: |v| < 2^53, so the conversion loses nothing. (Not `fract()`: without SSE4.1
        // that is a call into libm.)
        if v < 0.0 {
            out.push(b'-');
        }
        write_u64(out, v.abs() as u64);
    } else if !write_short_decimal(out, v) {
        // Digits that read back as `v`, laid out as `Display` (or `{:e}` outside
        // 1e-5..1e21) would, without `core::fmt`'s float machinery.
        crate::dtoa::write_shortest(out, v);
    }
}

/// Powers of ten that are exact `f64`s, for [`write_short_decimal`].
const DECIMAL_SCALES: [f64; 6] = [1e1, 1e2, 1e3, 1e4, 1e5, 1e6];

/// Writes `v` with the fewest decimals, at most six, that read back as `v`: `37.25`, `0.001`.
/// The common case for gauges and durations, several times cheaper than the general
/// algorithm, and the same digits as `Display`. Returns `false`, writing nothing, for other
/// values.
///
/// `m / 10^k` is the decimal the digits spell; dividing two exact `f64`s rounds the quotient
/// correctly, which is what parsing the decimal does, so the check proves the round trip.
fn write_short_decimal(out: &mut Vec<u8>, v: f64) -> bool {
    let magnitude = v.abs();
    if !(1e-5..1e9).contains(&magnitude) {
        return false;
    }
    for (i, &scale) in DECIMAL_SCALES.iter().enumerate() {
        // The nearest decimal with this many decimals (`round` would be a libm call).
        let scaled = magnitude * scale;
        let m = (scaled + 0.5) as u64;
        // Far from an integer: not this many decimals, and no division needed to tell.
        if (scaled - m as f64).abs() > scaled * 1e-9 || m as f64 / scale != magnitude {
            continue;
        }
        let decimals = i + 1;
        let divisor = 10u64.pow(decimals as u32);
        if v < 0.0 {
            out.push(b'-');
        }
        write_u64(out, m / divisor);
        out.push(b'.');
        let mut fraction = [b'0'; 6];
        let mut rest = m % divisor;
        for digit in fraction.iter_mut().take(decimals).rev() {
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        let digits = fraction.get(..decimals).unwrap_or_default();
        let end = digits.iter().rposition(|&d| d != b'0').map_or(1, |p| p + 1);
        push_short(out, digits.get(..end).unwrap_or_default());
        return true;
    }
    false
}

/// Appends the decimal digits of `n`, without going through `format!`.
pub fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    // Two digits per division, from a table of "00" to "99".
    while n >= 10 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        start -= 2;
        digits[start..start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    // The last pair came from n >= 10, so it has no leading zero; what is left is one digit.
    if n > 0 || start == digits.len() {
        start -= 1;
        digits[start] = b'0' + n as u8;
    }
    push_short(out, &digits[start..]);
}

/// "00", "01", …, "99".
const DIGIT_PAIRS: [u8; 200] = {
    let mut table = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        table[2 * i] = b'0' + (i / 10) as u8;
        table[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    table
};

/// Appends `s` with `\` and newline escaped, and `"` too when `quote` is set (label values).
fn write_escaped(out: &mut Vec<u8>, s: &str, quote: bool) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'"' if quote => b"\\\"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escaped);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends one label pair, `name="value"`, with the value escaped.
pub(crate) fn write_label_pair(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"=\"");
    write_escaped(out, value, true);
    out.push(b'"');
}

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

/// Appends `bytes`, one of the short pieces an exposition is made of (a name, label pairs, a
/// number). With musl, in 8-byte steps the compiler copies inline: `extend_from_slice` calls
/// `memcpy` for each piece, and musl's `memcpy`, made for long copies, then took two thirds of
/// an encode (3.7× slower at N = 1 000). glibc's is quicker than the steps.
#[cfg(not(target_env = "musl"))]
#[inline(always)]
pub(crate) fn push_short(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(bytes);
}

/// See the other `push_short`.
#[cfg(target_env = "musl")]
#[inline(always)]
pub(crate) fn push_short(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() > 128 {
        out.extend_from_slice(bytes);
        return;
    }
    out.reserve(bytes.len());
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        out.extend_from_slice(&word);
    }
    for &b in chunks.remainder() {
        out.push(b);
    }
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

/// Appends a bucket bound as client_golang writes `le`, so that our buckets are the same
/// series as a Go exporter's: Go's shortest `%g` (`0.005`, `100000`, `1e+06`,
/// `1e-05`); in OpenMetrics with `.0` when there is neither a point nor an exponent (`1.0`,
/// `1e+06`), as its canonical numbers want. Done once, when the metric is created.
pub(crate) fn write_bound(out: &mut Vec<u8>, v: f64, format: Format) {
    if !v.is_finite() {
        write_float(out, v);
        return;
    }
    let start = out.len();
    crate::dtoa::write_go_general(out, v);
    let written = out.get(start..).unwrap_or_default();
    if format == Format::OpenMetrics && !written.iter().any(|&b| b == b'.' || b == b'e') {
        out.extend_from_slice(b".0");
    }
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
    out.extend_from_slice(desc.header(format));
    family.for_each_series(|s| write(out, desc, s));
}

/// Appends one registered metric.
pub(crate) fn encode_metric(out: &mut Vec<u8>, metric: &Metric, format: Format) {
    let buckets = format.index();
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
            for (count, bound) in value.counts.iter().zip(&desc.bucket_labels[buckets]) {
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

    fn float(v: f64) -> String {
        let mut out = Vec::new();
        write_float(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    /// Short decimals (the fast path) are spelled as `Display` spells them; their neighbours
    /// one ulp away (which leave it) read back exactly, at most one digit longer than
    /// `Display`, rarely so.
    #[test]
    fn short_decimals_match_display_and_their_neighbours_read_back() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let (mut neighbours, mut longer) = (0, 0);
        for _ in 0..100_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let decimals = (state % 7) as i32;
            let m = ((state >> 8) % 2_000_000_000) as f64;
            let exact = m / 10f64.powi(decimals);
            if exact == 0.0 {
                continue;
            }
            for v in [exact, -exact] {
                assert_eq!(float(v), format!("{v}"), "{v:e}");
            }
            for v in [
                f64::from_bits(exact.to_bits() + 1),
                f64::from_bits(exact.to_bits() - 1),
            ] {
                let ours = float(v);
                let back: f64 = ours.parse().unwrap();
                assert_eq!(back.to_bits(), v.to_bits(), "{ours} for {v:e}");
                let display = format!("{v}");
                assert!(ours.len() <= display.len() + 1, "{ours} for {display}");
                neighbours += 1;
                longer += usize::from(ours.len() > display.len());
            }
        }
        assert!(
            longer * 1000 < neighbours,
            "{longer} of {neighbours} longer"
        );
        for (v, spelled) in [
            (0.1 + 0.2, "0.30000000000000004"),
            (1e-5, "0.00001"),
            (0.3, "0.3"),
        ] {
            assert_eq!(float(v), spelled);
        }
    }

    #[test]
    fn floats_are_spelled_as_go_parses_them() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (42.0, "42"),
            (0.5, "0.5"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.3333333333333333"),
            (123456789012345.0, "123456789012345"),
            (1e15, "1000000000000000"),
            (1e20, "100000000000000000000"),
            (1e21, "1e21"),
            (1e300, "1e300"),
            (1e-300, "1e-300"),
            (1.5e-7, "1.5e-7"),
            (0.00001, "0.00001"),
            (f64::MAX, "1.7976931348623157e308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (9007199254740993.0, "9007199254740992"),
        ];
        for &(v, want) in cases {
            assert_eq!(float(v), want, "{v:?}");
        }
    }

    #[test]
    fn floats_round_trip() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            let s = float(v);
            let back: f64 = match s.as_str() {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                other => other.parse().unwrap(),
            };
            if v.is_nan() {
                assert!(back.is_nan());
            } else {
                assert_eq!(back.to_bits(), v.to_bits(), "{v:?} -> {s}");
            }
        }
    }

    #[test]
    fn integers_are_written_without_formatting_machinery() {
        for (n, want) in [
            (0u64, "0"),
            (7, "7"),
            (10, "10"),
            (u64::MAX, "18446744073709551615"),
        ] {
            let mut out = Vec::new();
            write_u64(&mut out, n);
            assert_eq!(out, want.as_bytes());
        }
        // Every length, and around every power of ten.
        let mut n = 1u64;
        while let Some(next) = n.checked_mul(10) {
            for v in [n - 1, n, n + 1, n + 5, next - 1] {
                let mut out = Vec::new();
                write_u64(&mut out, v);
                assert_eq!(out, v.to_string().as_bytes());
            }
            n = next;
        }
        for v in 0..100_000u64 {
            let mut out = Vec::new();
            write_u64(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes());
        }
    }

    #[test]
    fn escaping_follows_the_format() {
        let cases: &[(&str, bool, &str)] = &[
            ("plain", true, "plain"),
            ("a\\b", true, "a\\\\b"),
            ("a\nb", true, "a\\nb"),
            ("a\"b", true, "a\\\"b"),
            ("a\"b", false, "a\"b"),
            ("\\\n\"", true, "\\\\\\n\\\""),
            ("tab\there", true, "tab\there"),
            ("ünïcödé ✓", true, "ünïcödé ✓"),
            ("", true, ""),
        ];
        for &(input, quote, want) in cases {
            let mut out = Vec::new();
            write_escaped(&mut out, input, quote);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{input:?}");
        }
    }

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

    /// client_golang's spellings (`strconv.AppendFloat(v, 'g', -1, 64)`, plus `.0` in
    /// OpenMetrics), and the OpenMetrics specification's examples of canonical `le` values.
    #[test]
    fn bucket_bounds_are_spelled_as_client_golang_does() {
        for (v, text, om) in [
            (0.005, "0.005", "0.005"),
            (0.1, "0.1", "0.1"),
            (0.25, "0.25", "0.25"),
            (1.0, "1", "1.0"),
            (2.5, "2.5", "2.5"),
            (10.0, "10", "10.0"),
            (0.0, "0", "0.0"),
            (-0.0, "0", "0.0"),
            (-1.0, "-1", "-1.0"),
            (-0.5, "-0.5", "-0.5"),
            (1e-10, "1e-10", "1e-10"),
            (1e-9, "1e-09", "1e-09"),
            (1e-5, "1e-05", "1e-05"),
            (0.0001, "0.0001", "0.0001"),
            (100000.0, "100000", "100000.0"),
            (999999.0, "999999", "999999.0"),
            (1e6, "1e+06", "1e+06"),
            (1.5e6, "1.5e+06", "1.5e+06"),
            (123456789.0, "1.23456789e+08", "1.23456789e+08"),
            (1e10, "1e+10", "1e+10"),
            (1e21, "1e+21", "1e+21"),
            (1e22, "1e+22", "1e+22"),
            (1e23, "1e+23", "1e+23"),
            (1e100, "1e+100", "1e+100"),
            (1e-100, "1e-100", "1e-100"),
            (0.3, "0.3", "0.3"),
            (1.0 / 3.0, "0.3333333333333333", "0.3333333333333333"),
            (5e-324, "5e-324", "5e-324"),
            (
                f64::MAX,
                "1.7976931348623157e+308",
                "1.7976931348623157e+308",
            ),
            (f64::INFINITY, "+Inf", "+Inf"),
        ] {
            for (format, want) in [(Format::Text, text), (Format::OpenMetrics, om)] {
                let mut out = Vec::new();
                write_bound(&mut out, v, format);
                assert_eq!(String::from_utf8(out).unwrap(), want, "{v:e} {format:?}");
            }
        }
    }

    /// Against `{:e}` (shortest and closest digits, as Go's) laid out Go's way: random bit
    /// patterns over the whole range, powers of two and their neighbours (where the gaps are
    /// uneven), decimals of up to 15 digits, and bounds computed as Go's `ExponentialBuckets`
    /// and `LinearBuckets` compute them (`5904.900000000001`).
    #[test]
    fn bucket_bounds_have_go_s_digits() {
        let go = |v: f64| {
            if v == 0.0 {
                return "0".to_string();
            }
            let e = format!("{v:e}");
            let (mantissa, exponent) = e.split_once('e').unwrap();
            let exponent: i32 = exponent.parse().unwrap();
            if (-4..6).contains(&exponent) {
                format!("{v}")
            } else {
                let sign = if exponent < 0 { '-' } else { '+' };
                format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
            }
        };
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut values = crate::dtoa::hard_floats(next(), 50_000);
        for _ in 0..20_000 {
            let m = next() % 10u64.pow(1 + (next() % 15) as u32);
            values.push(
                format!("{m}e{}", (next() % 600) as i32 - 300)
                    .parse()
                    .unwrap(),
            );
        }
        let (mut exponential, mut linear) = (0.1, 0.001);
        for _ in 0..30 {
            values.extend([exponential, linear]);
            exponential *= 3.0;
            linear += 0.1;
        }
        assert!(values.contains(&5904.900000000001));
        let mut ties = 0;
        for v in values.into_iter().filter(|v| v.is_finite()) {
            let mut out = Vec::new();
            write_bound(&mut out, v, Format::Text);
            let ours = String::from_utf8(out).unwrap();
            if ours == go(v) {
                continue;
            }
            // `{:e}` breaks an exact tie between the two nearest upwards; Go, to the even
            // digit. The exact expansion shows a tie: a 5 and only zeros after the digits.
            let digits = |s: &str| -> String {
                let mantissa = s.split('e').next().unwrap();
                mantissa
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect::<String>()
            };
            let ours_digits = digits(&ours).trim_start_matches('0').to_string();
            let exact = digits(&format!("{:.80e}", v.abs()));
            let rest = &exact[ours_digits.len()..];
            assert!(
                rest.starts_with('5') && rest[1..].bytes().all(|b| b == b'0'),
                "{v:e}: ours {ours}, Go's {}",
                go(v)
            );
            let last = ours_digits.bytes().last().unwrap();
            assert_eq!(
                (last - b'0') % 2,
                0,
                "{v:e}: a tie goes to the even digit: {ours}"
            );
            assert_eq!(ours.parse::<f64>().unwrap(), v, "{ours}");
            ties += 1;
        }
        assert!(ties < 20, "{ties} ties");
    }
}
