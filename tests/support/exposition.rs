//! A strict parser of both exposition formats this crate writes (Prometheus text 0.0.4 and
//! OpenMetrics 1.0), and a model of what a registry should expose.
//!
//! Used by the integration tests (`mod support;`) and by the `encode` fuzz target (through
//! `#[path = "../../tests/support/exposition.rs"] mod exposition;`), so it depends only on the
//! crate and std.
//!
//! "Strict" means: what the formats allow, narrowed to what this crate writes. HELP then TYPE,
//! once per family, before its samples; families contiguous and not empty; escapes exactly as
//! specified (text HELP: `\\` and `\n`; OpenMetrics HELP also `\"`; label values `\\` `\"`
//! `\n`; anything else after a backslash is an error, and so is a raw `"` in OpenMetrics HELP);
//! valid, unreserved and unrepeated label names; no duplicate series and no sample name in two
//! families; no timestamps; numbers spelled as Go's `ParseFloat` reads them (`NaN`, `+Inf`,
//! `-Inf` exactly so, decimals with optional exponents, nothing out of range); histogram buckets
//! cumulative with increasing `le`, ending with `le="+Inf"` equal to `_count`, then `_sum` and
//! `_count`; a series' samples contiguous. OpenMetrics in addition: the body ends with exactly one
//! `# EOF\n`; counter samples are `<family>_total`; `info` samples `<family>_info` with value 1;
//! `stateset` samples carry a label named like the family, with value 0 or 1; `le` and `quantile`
//! values are canonical (a `.`, an exponent, or `±Inf`). `# EOF` in the text format is an error.
//!
//! OpenMetrics value rules that depend on what the user recorded (counters never negative or NaN,
//! no `_sum` with negative buckets, names that could clash through `_created`) are checked
//! separately, by [`check_openmetrics_semantics`].
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub use prometheus_aioexporter::Format;
use prometheus_aioexporter::{
    BoxError, CollectedFamily, Collector, Family as MetricFamily, MetricConfig, MetricError,
    MetricType, Metrics, Registry, Series, DEFAULT_BUCKETS,
};

// ---------------------------------------------------------------------------------------------
// Parsed expositions
// ---------------------------------------------------------------------------------------------

/// One sample line.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    /// In the order written.
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    /// The value of the label called `name`.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The labels without `le`, sorted: the identity of a histogram's series.
    pub fn series_key(&self) -> Vec<(String, String)> {
        self.key_without("le")
    }

    fn key_without(&self, label: &str) -> Vec<(String, String)> {
        let mut key: Vec<_> = self
            .labels
            .iter()
            .filter(|(k, _)| k != label)
            .cloned()
            .collect();
        key.sort();
        key
    }
}

/// One family: the name of its HELP and TYPE lines, its help text unescaped, its type as the
/// format names it, and its samples in order.
#[derive(Debug, Clone)]
pub struct Family {
    pub name: String,
    pub help: String,
    pub kind: String,
    pub samples: Vec<Sample>,
}

impl Family {
    /// The sample called `name` with exactly these labels (in any order).
    pub fn sample(&self, name: &str, labels: &[(&str, &str)]) -> Option<&Sample> {
        self.samples.iter().find(|s| {
            s.name == name
                && s.labels.len() == labels.len()
                && labels.iter().all(|(k, v)| s.label(k) == Some(*v))
        })
    }
}

/// The family called `name`; panics if there is none.
pub fn family<'a>(families: &'a [Family], name: &str) -> &'a Family {
    families
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no family {name:?} in {families:#?}"))
}

// ---------------------------------------------------------------------------------------------
// The parser
// ---------------------------------------------------------------------------------------------

/// Parses a whole body in `format` strictly (see the module documentation) and checks its
/// structure. Errors name the line.
pub fn parse(body: &str, format: Format) -> Result<Vec<Family>, String> {
    let lines = match format {
        Format::Text => {
            if body.is_empty() {
                return Ok(Vec::new());
            }
            body.strip_suffix('\n')
                .ok_or("the body does not end with a newline")?
        }
        Format::OpenMetrics => {
            let rest = body
                .strip_suffix("# EOF\n")
                .ok_or("the body does not end with \"# EOF\\n\"")?;
            if rest.is_empty() {
                return Ok(Vec::new());
            }
            rest.strip_suffix('\n')
                .ok_or("no newline before the final \"# EOF\"")?
        }
    };
    let mut families: Vec<Family> = Vec::new();
    // Whether the last family has seen its TYPE line.
    let mut typed = false;
    let mut series: HashSet<(String, Vec<(String, String)>)> = HashSet::new();
    // Which family each sample name belongs to.
    let mut owners: HashMap<String, usize> = HashMap::new();
    for (number, line) in lines.split('\n').enumerate() {
        let at = |msg: String| format!("line {}: {msg}: {line:?}", number + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest
                .split_once(' ')
                .ok_or_else(|| at("HELP without a space after the name".into()))?;
            if !is_metric_name(name) {
                return Err(at(format!("bad family name {name:?}")));
            }
            if families.iter().any(|f| f.name == name) {
                return Err(at(format!(
                    "second HELP for {name:?}: families must be contiguous and described once"
                )));
            }
            if let Some(last) = families.last() {
                if !typed || last.samples.is_empty() {
                    return Err(at(format!(
                        "family {:?} has no TYPE or no samples",
                        last.name
                    )));
                }
            }
            families.push(Family {
                name: name.to_string(),
                help: unescape_help(help, format).map_err(at)?,
                kind: String::new(),
                samples: Vec::new(),
            });
            typed = false;
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest
                .split_once(' ')
                .ok_or_else(|| at("TYPE without a type".into()))?;
            let last = families
                .last_mut()
                .filter(|f| f.name == name && !typed)
                .ok_or_else(|| at("TYPE not right after its family's HELP".into()))?;
            let known: &[&str] = match format {
                Format::Text => &["counter", "gauge", "histogram", "summary", "untyped"],
                Format::OpenMetrics => &[
                    "counter",
                    "gauge",
                    "histogram",
                    "gaugehistogram",
                    "stateset",
                    "info",
                    "summary",
                    "unknown",
                ],
            };
            if !known.contains(&kind) {
                return Err(at(format!("unknown type {kind:?} in {format:?}")));
            }
            last.kind = kind.to_string();
            typed = true;
        } else if line == "# EOF" {
            return Err(at(match format {
                Format::Text => "\"# EOF\" in the text format".into(),
                Format::OpenMetrics => "\"# EOF\" before the end of the body".into(),
            }));
        } else if line.starts_with('#') || line.is_empty() {
            return Err(at("unexpected comment or blank line".into()));
        } else {
            let sample = parse_sample(line).map_err(at)?;
            let index = families.len().wrapping_sub(1);
            let last = families
                .last_mut()
                .filter(|_| typed)
                .ok_or_else(|| at("sample before its family's HELP and TYPE".into()))?;
            if !belongs(format, &last.name, &last.kind, &sample) {
                return Err(at(format!(
                    "sample outside its family (current family {:?}, {})",
                    last.name, last.kind
                )));
            }
            check_sample_value(format, last, &sample).map_err(at)?;
            let owner = *owners.entry(sample.name.clone()).or_insert(index);
            if owner != index {
                return Err(at(format!(
                    "sample name {:?} also belongs to an earlier family",
                    sample.name
                )));
            }
            let mut key = sample.labels.clone();
            key.sort();
            if !series.insert((sample.name.clone(), key)) {
                return Err(at("duplicate series".into()));
            }
            last.samples.push(sample);
        }
    }
    match families.last() {
        Some(last) if !typed || last.samples.is_empty() => {
            return Err(format!("family {:?} has no TYPE or no samples", last.name));
        }
        _ => {}
    }
    for family in &families {
        check_contiguous(family)?;
        match family.kind.as_str() {
            "histogram" => check_histogram(family, "_count", "_sum", format)?,
            "gaugehistogram" => check_histogram(family, "_gcount", "_gsum", format)?,
            "summary" => check_summary(family, format)?,
            _ => {}
        }
    }
    Ok(families)
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`
pub fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Unescapes HELP text: `\\` and `\n`, and in OpenMetrics `\"` (where a raw `"` is an error).
fn unescape_help(s: &str, format: Format) -> Result<String, String> {
    let om = format == Format::OpenMetrics;
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('"') if om => out.push('"'),
                other => return Err(format!("bad escape in HELP text: \\{other:?}")),
            },
            '"' if om => return Err("unescaped '\"' in OpenMetrics HELP text".into()),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// `[+-]? digits [. digits] [e [+-] digits]`, with at least one mantissa digit.
fn is_real_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let mut mantissa = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        mantissa += digits(&mut i);
    }
    if mantissa == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Parses a number as the formats spell it (Go's `ParseFloat`, minus hex, underscores and
/// spelling variants): `NaN`, `+Inf`, `-Inf`, or a decimal number in range.
pub fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "NaN" => return Ok(f64::NAN),
        "+Inf" => return Ok(f64::INFINITY),
        "-Inf" => return Ok(f64::NEG_INFINITY),
        _ => {}
    }
    if !is_real_number(s) {
        return Err(format!("bad value {s:?}"));
    }
    let v = s
        .parse::<f64>()
        .map_err(|e| format!("bad value {s:?}: {e}"))?;
    if v.is_infinite() {
        // Go's ParseFloat returns ErrRange: the exposition would not parse.
        return Err(format!("value {s:?} is out of the range of a float64"));
    }
    Ok(v)
}

/// An OpenMetrics canonical number (for `le` and `quantile`): a float with a `.` or an
/// exponent, or `±Inf`; never a bare integer like `1`.
fn is_canonical(s: &str) -> bool {
    matches!(s, "+Inf" | "-Inf") || (is_real_number(s) && s.contains(['.', 'e', 'E']))
}

/// Parses one sample line: `name{label="value",...} value`, no timestamp.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    if !is_metric_name(name) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels: Vec<(String, String)> = Vec::new();
    if let Some(after_brace) = rest.strip_prefix('{') {
        rest = after_brace;
        if let Some(r) = rest.strip_prefix('}') {
            rest = r;
        } else {
            loop {
                let eq = rest.find('=').ok_or("label without '='")?;
                let label = &rest[..eq];
                if !is_label_name(label) {
                    return Err(format!("bad label name {label:?}"));
                }
                if label.starts_with("__") {
                    return Err(format!("reserved label name {label:?}"));
                }
                if labels.iter().any(|(k, _)| k == label) {
                    return Err(format!("label {label:?} repeated"));
                }
                rest = rest[eq + 1..]
                    .strip_prefix('"')
                    .ok_or("label value not quoted")?;
                let mut value = String::new();
                let mut chars = rest.char_indices();
                let end = loop {
                    match chars.next() {
                        None => return Err("unterminated label value".into()),
                        Some((i, '"')) => break i,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, '\\')) => value.push('\\'),
                            Some((_, '"')) => value.push('"'),
                            Some((_, 'n')) => value.push('\n'),
                            other => return Err(format!("bad escape in label value: {other:?}")),
                        },
                        Some((_, c)) => value.push(c),
                    }
                };
                labels.push((label.to_string(), value));
                rest = &rest[end + 1..];
                if let Some(r) = rest.strip_prefix(',') {
                    rest = r;
                } else if let Some(r) = rest.strip_prefix('}') {
                    rest = r;
                    break;
                } else {
                    return Err("expected ',' or '}' after a label value".into());
                }
            }
        }
    }
    let value = rest
        .strip_prefix(' ')
        .ok_or("expected one space before the value")?;
    if value.contains(' ') {
        return Err("unexpected text after the value (timestamps are never written)".into());
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
        value: parse_value(value)?,
    })
}

/// Does `sample` belong to the family `family` of type `kind` in `format`?
fn belongs(format: Format, family: &str, kind: &str, sample: &Sample) -> bool {
    let Some(suffix) = sample.name.strip_prefix(family) else {
        return false;
    };
    let has = |label: &str| sample.label(label).is_some();
    match (format, kind, suffix) {
        (Format::Text, "counter" | "gauge" | "untyped", "") => true,
        (Format::OpenMetrics, "counter", "_total") => true,
        (Format::OpenMetrics, "gauge" | "unknown", "") => true,
        (Format::OpenMetrics, "stateset", "") => has(family),
        (Format::OpenMetrics, "info", "_info") => true,
        (_, "histogram" | "gaugehistogram", "_bucket") => has("le"),
        (_, "histogram", "_sum" | "_count") => !has("le"),
        (Format::OpenMetrics, "gaugehistogram", "_gsum" | "_gcount") => !has("le"),
        (_, "summary", "") => has("quantile"),
        (_, "summary", "_sum" | "_count") => !has("quantile"),
        _ => false,
    }
}

/// Per-sample rules: `le` and `quantile` values, info and stateset values.
fn check_sample_value(format: Format, family: &Family, sample: &Sample) -> Result<(), String> {
    let om = format == Format::OpenMetrics;
    for (label, check_range) in [("le", false), ("quantile", true)] {
        let applies = match label {
            "le" => sample.name.ends_with("_bucket") && family.kind.contains("histogram"),
            _ => family.kind == "summary" && sample.name == family.name,
        };
        let Some(text) = sample.label(label).filter(|_| applies) else {
            continue;
        };
        let v = parse_value(text).map_err(|e| format!("{label}: {e}"))?;
        if v.is_nan() {
            return Err(format!("{label} is NaN"));
        }
        if check_range && !(0.0..=1.0).contains(&v) {
            return Err(format!("quantile {v} outside [0, 1]"));
        }
        if om && !is_canonical(text) {
            return Err(format!(
                "{label}={text:?} is not an OpenMetrics canonical number"
            ));
        }
    }
    if om && family.kind == "info" && sample.value.to_bits() != 1f64.to_bits() {
        return Err(format!("info sample with value {}", sample.value));
    }
    if om && family.kind == "stateset" && sample.value != 0.0 && sample.value != 1.0 {
        return Err(format!("stateset sample with value {}", sample.value));
    }
    Ok(())
}

/// The identity of the series (metric point) a sample belongs to: its labels without the one
/// its type adds.
fn group_key(family: &Family, sample: &Sample) -> Vec<(String, String)> {
    match family.kind.as_str() {
        "histogram" | "gaugehistogram" => sample.key_without("le"),
        "summary" => sample.key_without("quantile"),
        "stateset" => sample.key_without(&family.name),
        _ => sample.key_without(""),
    }
}

/// A series' samples are not interleaved with another's.
fn check_contiguous(family: &Family) -> Result<(), String> {
    let mut seen: HashSet<Vec<(String, String)>> = HashSet::new();
    let mut previous: Option<Vec<(String, String)>> = None;
    for sample in &family.samples {
        let key = group_key(family, sample);
        if previous.as_ref() != Some(&key) {
            if !seen.insert(key.clone()) {
                return Err(format!(
                    "family {}: the samples of series {key:?} are interleaved with another's",
                    family.name
                ));
            }
            previous = Some(key);
        }
    }
    Ok(())
}

/// Buckets in increasing `le` order, cumulative integer counts, a last `+Inf` bucket equal to
/// the count, and a sum, for every series of the histogram, in the order buckets, sum, count.
/// In OpenMetrics, a histogram whose first bucket is negative has neither sum nor count.
fn check_histogram(
    family: &Family,
    count_suffix: &str,
    sum_suffix: &str,
    format: Format,
) -> Result<(), String> {
    let name = &family.name;
    let count_name = format!("{name}{count_suffix}");
    let sum_name = format!("{name}{sum_suffix}");
    let mut groups: BTreeMap<Vec<(String, String)>, Vec<&Sample>> = BTreeMap::new();
    for sample in &family.samples {
        groups.entry(sample.series_key()).or_default().push(sample);
    }
    for (key, samples) in groups {
        let what = format!("histogram {name} series {key:?}");
        let buckets: Vec<&Sample> = samples
            .iter()
            .copied()
            .filter(|s| s.name.ends_with("_bucket"))
            .collect();
        let mut previous: Option<(f64, f64)> = None;
        for bucket in &buckets {
            let le = parse_value(bucket.label("le").unwrap_or_default())
                .map_err(|e| format!("{what}: le: {e}"))?;
            if let Some((prev_le, prev_count)) = previous {
                if le <= prev_le {
                    return Err(format!("{what}: le {le} after {prev_le}"));
                }
                if bucket.value < prev_count {
                    return Err(format!("{what}: buckets are not cumulative at le={le}"));
                }
            }
            if bucket.value.fract() != 0.0 || bucket.value < 0.0 {
                return Err(format!("{what}: bucket count {}", bucket.value));
            }
            previous = Some((le, bucket.value));
        }
        let (last_le, inf_count) = previous.ok_or(format!("{what}: no buckets"))?;
        if last_le != f64::INFINITY {
            return Err(format!("{what}: the last bucket is le={last_le}, not +Inf"));
        }
        let first_le = buckets
            .first()
            .and_then(|b| parse_value(b.label("le").unwrap_or_default()).ok());
        if format == Format::OpenMetrics && first_le.is_some_and(|le| le < 0.0) {
            if samples.len() != buckets.len() {
                return Err(format!("{what}: _sum or _count with negative buckets"));
            }
            continue;
        }
        if format == Format::OpenMetrics && samples.len() == buckets.len() {
            // Neither sum nor count: how the crate leaves out a sum OpenMetrics forbids
            // (negative or NaN), as the count may not come without it.
            continue;
        }
        let count = samples
            .iter()
            .find(|s| s.name == count_name)
            .ok_or(format!("{what}: no {count_suffix}"))?;
        if count.value != inf_count {
            return Err(format!(
                "{what}: {count_suffix} {} differs from the +Inf bucket {inf_count}",
                count.value
            ));
        }
        if !samples.iter().any(|s| s.name == sum_name) {
            return Err(format!("{what}: no {sum_suffix}"));
        }
        // The order this crate writes: buckets, then the sum, then the count.
        let order: Vec<&str> = samples.iter().map(|s| &s.name[name.len()..]).collect();
        let buckets_first = order.iter().take(buckets.len()).all(|s| *s == "_bucket");
        if !buckets_first || order[buckets.len()..] != [sum_suffix, count_suffix] {
            return Err(format!("{what}: samples out of order: {order:?}"));
        }
    }
    Ok(())
}

/// A `_sum` and an integer `_count` for every series of the summary (in OpenMetrics the sum
/// may be missing: the crate leaves out one that is negative or NaN).
fn check_summary(family: &Family, format: Format) -> Result<(), String> {
    let name = &family.name;
    let mut groups: BTreeMap<Vec<(String, String)>, Vec<&Sample>> = BTreeMap::new();
    for sample in &family.samples {
        groups
            .entry(sample.key_without("quantile"))
            .or_default()
            .push(sample);
    }
    for (key, samples) in groups {
        let count = samples.iter().find(|s| s.name == format!("{name}_count"));
        let sum = samples.iter().find(|s| s.name == format!("{name}_sum"));
        match (sum, count) {
            (Some(_), Some(count)) if count.value.fract() == 0.0 && count.value >= 0.0 => {}
            (None, Some(count))
                if format == Format::OpenMetrics
                    && count.value.fract() == 0.0
                    && count.value >= 0.0 => {}
            _ => return Err(format!("summary {name} series {key:?}: bad _sum/_count")),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// OpenMetrics value rules
// ---------------------------------------------------------------------------------------------

/// The OpenMetrics 1.0 rules on values and names that a parse alone does not check (those of
/// the Python client's reference parser): counter-like samples (`_total`, `_sum`, `_count`,
/// `_bucket`) neither NaN nor negative; no `_sum` in a histogram with a negative bucket; no
/// family whose name another family's samples could take (`foo_created` next to a counter
/// `foo`).
pub fn check_openmetrics_semantics(families: &[Family]) -> Result<(), String> {
    let mut names: HashSet<String> = HashSet::new();
    for family in families {
        let name = &family.name;
        let suffixes: &[&str] = match family.kind.as_str() {
            "counter" => &["", "_total", "_created"],
            "summary" => &["", "_count", "_sum", "_created"],
            "histogram" => &["", "_count", "_sum", "_bucket", "_created"],
            "gaugehistogram" => &["", "_gcount", "_gsum", "_bucket"],
            "info" => &["", "_info"],
            _ => &[""],
        };
        for suffix in suffixes {
            if !names.insert(format!("{name}{suffix}")) {
                return Err(format!("family {name}: the name {name}{suffix} clashes"));
            }
        }
        for sample in &family.samples {
            let suffix = &sample.name[name.len()..];
            let counter_like = matches!(suffix, "_total" | "_sum" | "_count" | "_bucket");
            if counter_like && (sample.value.is_nan() || sample.value < 0.0) {
                return Err(format!(
                    "family {name}: counter-like sample {} is {}",
                    sample.name, sample.value
                ));
            }
        }
        if family.kind == "histogram" {
            let negative: BTreeSet<Vec<(String, String)>> = family
                .samples
                .iter()
                .filter(|s| {
                    s.name.ends_with("_bucket")
                        && s.label("le")
                            .and_then(|le| parse_value(le).ok())
                            .is_some_and(|le| le < 0.0)
                })
                .map(Sample::series_key)
                .collect();
            if let Some(sum) = family
                .samples
                .iter()
                .find(|s| s.name.ends_with("_sum") && negative.contains(&s.series_key()))
            {
                return Err(format!(
                    "family {name}: {} with negative buckets (series {:?})",
                    sum.name, sum.labels
                ));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Comparing expositions
// ---------------------------------------------------------------------------------------------

/// Bit for bit, except that any NaN matches any NaN.
pub fn same_value(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

/// `expected` and `actual` have the same families (names, help, types), the same samples in the
/// same order, the same label names and values (exact strings; histogram `le` values as numbers,
/// bit for bit), and the same values (bit for bit; NaN matches NaN).
pub fn compare(expected: &[Family], actual: &[Family]) -> Result<(), String> {
    let names = |fs: &[Family]| fs.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
    if expected.len() != actual.len() {
        return Err(format!(
            "{} families expected, {} parsed\nexpected: {:?}\nparsed:   {:?}",
            expected.len(),
            actual.len(),
            names(expected),
            names(actual)
        ));
    }
    for (e, a) in expected.iter().zip(actual) {
        if (&e.name, &e.kind, &e.help) != (&a.name, &a.kind, &a.help) {
            return Err(format!(
                "family expected {:?} {:?} help {:?}, parsed {:?} {:?} help {:?}",
                e.name, e.kind, e.help, a.name, a.kind, a.help
            ));
        }
        if e.samples.len() != a.samples.len() {
            return Err(format!(
                "family {}: {} samples expected, {} parsed\nexpected: {:#?}\nparsed: {:#?}",
                e.name,
                e.samples.len(),
                a.samples.len(),
                e.samples,
                a.samples
            ));
        }
        let bucket_family = e.kind.contains("histogram");
        for (es, s) in e.samples.iter().zip(&a.samples) {
            let numeric_le = bucket_family && es.name.ends_with("_bucket");
            let same_labels = es.labels.len() == s.labels.len()
                && es.labels.iter().zip(&s.labels).all(|((ek, ev), (k, v))| {
                    ek == k
                        && (ev == v
                            || (numeric_le
                                && k == "le"
                                && matches!(
                                    (parse_value(ev), parse_value(v)),
                                    (Ok(x), Ok(y)) if same_value(x, y)
                                )))
                });
            if es.name != s.name || !same_labels || !same_value(es.value, s.value) {
                return Err(format!(
                    "family {}: sample expected\n  {:?} {:?} {:?} ({:#x})\nparsed\n  {:?} {:?} {:?} ({:#x})",
                    e.name,
                    es.name,
                    es.labels,
                    es.value,
                    es.value.to_bits(),
                    s.name,
                    s.labels,
                    s.value,
                    s.value.to_bits()
                ));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// A model of a registry: what to declare and record, and what it must expose
// ---------------------------------------------------------------------------------------------

/// A metric's type, with its options.
#[derive(Debug, Clone)]
pub enum KindSpec {
    Counter,
    Gauge,
    /// `None`: the default buckets.
    Histogram(Option<Vec<f64>>),
    Summary,
    Info,
    /// The states.
    Enum(Vec<String>),
}

/// One update of a series; an update that does not fit the metric's type is skipped.
#[derive(Debug, Clone)]
pub enum Op {
    /// `Counter::set`, `Gauge::set`.
    Set(f64),
    /// `Counter::inc_by` (refused when negative or NaN), `Gauge::add`.
    Add(f64),
    /// `Histogram::observe`, `Summary::observe`.
    Observe(f64),
    /// `Info::set`.
    Pairs(Vec<(String, String)>),
    /// `Enum::set` of the state with this index (modulo the number of states).
    State(usize),
}

/// The series with these label values, and its updates.
#[derive(Debug, Clone)]
pub struct SeriesSpec {
    pub values: Vec<String>,
    pub ops: Vec<Op>,
}

/// One `MetricConfig` and what is done with the metric.
#[derive(Debug, Clone)]
pub struct MetricSpec {
    pub name: String,
    pub help: String,
    pub kind: KindSpec,
    pub labels: Vec<String>,
    pub series: Vec<SeriesSpec>,
    /// Label values removed after the updates.
    pub remove: Vec<Vec<String>>,
    /// Whether the family is cleared after that.
    pub clear: bool,
}

/// A family a collector yields: a counter or a gauge.
#[derive(Debug, Clone)]
pub struct CollectedSpec {
    pub name: String,
    pub help: String,
    pub counter: bool,
    pub labels: Vec<String>,
    pub samples: Vec<(Vec<String>, f64)>,
}

/// Metrics, declared one `create_metrics` call each, in order, then collected families.
#[derive(Debug, Clone, Default)]
pub struct RegistrySpec {
    pub metrics: Vec<MetricSpec>,
    pub collected: Vec<CollectedSpec>,
}

/// What a series holds, as the model computes it.
#[derive(Debug, Clone)]
enum State {
    Value(f64),
    Histogram { counts: Vec<u64>, sum: f64 },
    Summary { count: u64, sum: f64 },
    Info(Vec<(String, String)>),
    Enum(usize),
}

#[derive(Debug)]
struct ModelMetric {
    /// The name without the `_total` / `_info` suffix the crate adds.
    base: String,
    help: String,
    kind: KindSpec,
    /// Histogram bounds, ending with `+Inf`.
    bounds: Vec<f64>,
    labels: Vec<String>,
    series: BTreeMap<Vec<String>, State>,
}

#[derive(Debug)]
struct ModelCollected {
    base: String,
    help: String,
    counter: bool,
    labels: Vec<String>,
    samples: BTreeMap<Vec<String>, f64>,
}

/// A registry built from a [`RegistrySpec`], and what it must expose.
pub struct Built {
    pub registry: Registry,
    metrics: Vec<ModelMetric>,
    collected: Vec<ModelCollected>,
    /// The collected families are invalid or clash: every scrape must fail.
    pub scrape_fails: bool,
    /// How many declarations the crate refused (as the model expected).
    pub refused: usize,
}

fn metric_type(kind: &KindSpec) -> MetricType {
    match kind {
        KindSpec::Counter => MetricType::Counter,
        KindSpec::Gauge => MetricType::Gauge,
        KindSpec::Histogram(_) => MetricType::Histogram,
        KindSpec::Summary => MetricType::Summary,
        KindSpec::Info => MetricType::Info,
        KindSpec::Enum(_) => MetricType::Enum,
    }
}

/// The name a metric is known by: without the `_total` (counter) or `_info` (info) suffix,
/// unless nothing would remain.
fn base_name(name: &str, kind: &KindSpec) -> String {
    let stripped = match kind {
        KindSpec::Counter => name.strip_suffix("_total"),
        KindSpec::Info => name.strip_suffix("_info"),
        _ => None,
    };
    stripped
        .filter(|b| !b.is_empty())
        .unwrap_or(name)
        .to_string()
}

/// `a="x",b="y"`, escaped as label values are on the wire.
fn rendered_pairs(names: &[String], values: &[String]) -> String {
    let pairs: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(name, value)| {
            let escaped = value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{name}=\"{escaped}\"")
        })
        .collect();
    pairs.join(",")
}

/// Every name a family puts on the wire in either format, as a family or a sample name.
fn wire_names(base: &str, kind: &KindSpec) -> Vec<String> {
    let suffixes: &[&str] = match kind {
        KindSpec::Counter => &["", "_total", "_created"],
        KindSpec::Gauge | KindSpec::Enum(_) => &[""],
        KindSpec::Histogram(_) => &["", "_bucket", "_sum", "_count", "_created"],
        KindSpec::Summary => &["", "_sum", "_count", "_created"],
        KindSpec::Info => &["", "_info"],
    };
    suffixes.iter().map(|s| format!("{base}{s}")).collect()
}

fn valid_label(name: &str) -> bool {
    is_label_name(name) && !name.starts_with("__")
}

/// Why the crate must refuse this declaration, if it must (before looking at other metrics).
fn refusal(spec: &MetricSpec, base: &str) -> Option<&'static str> {
    if !is_metric_name(&spec.name) {
        return Some("metric name");
    }
    let reserved: &[&str] = match &spec.kind {
        KindSpec::Histogram(_) => &["le"],
        KindSpec::Summary => &["quantile"],
        KindSpec::Enum(_) => &[base],
        _ => &[],
    };
    for (i, label) in spec.labels.iter().enumerate() {
        if !valid_label(label) || reserved.contains(&label.as_str()) {
            return Some("label name");
        }
        if spec.labels[..i].contains(label) {
            return Some("duplicate label name");
        }
    }
    let repeated = |states: &[String]| {
        states
            .iter()
            .enumerate()
            .any(|(i, s)| states[..i].contains(s))
    };
    match &spec.kind {
        KindSpec::Histogram(Some(bounds))
            if bounds.iter().any(|b| b.is_nan())
                || bounds.windows(2).any(|w| w[0] >= w[1])
                || bounds.iter().all(|b| *b == f64::INFINITY) =>
        {
            Some("buckets") // no bound below +Inf is no histogram
        }
        // An enum's name is also its state label: not reserved, and without ':' (which the
        // label would escape and the family name would not).
        KindSpec::Enum(_) if base.starts_with("__") || base.contains(':') => Some("enum name"),
        KindSpec::Enum(states)
            if states.is_empty() || repeated(states) || states.iter().any(String::is_empty) =>
        {
            Some("states") // an empty state would read as no label
        }
        _ => None,
    }
}

fn config(spec: &MetricSpec) -> MetricConfig {
    let mut config = MetricConfig::new(
        spec.name.as_str(),
        spec.help.as_str(),
        metric_type(&spec.kind),
    )
    .labels(spec.labels.iter().cloned());
    match &spec.kind {
        KindSpec::Histogram(Some(bounds)) => config = config.buckets(bounds.iter().copied()),
        KindSpec::Enum(states) => config = config.states(states.iter().cloned()),
        _ => {}
    }
    config
}

fn initial_state(kind: &KindSpec, bounds: &[f64]) -> State {
    match kind {
        KindSpec::Counter | KindSpec::Gauge => State::Value(0.0),
        KindSpec::Histogram(_) => State::Histogram {
            counts: vec![0; bounds.len()],
            sum: 0.0,
        },
        KindSpec::Summary => State::Summary { count: 0, sum: 0.0 },
        KindSpec::Info => State::Info(Vec::new()),
        KindSpec::Enum(_) => State::Enum(0),
    }
}

/// Whether `Info::set` must accept these pairs for a metric with these labels.
fn valid_pairs(pairs: &[(String, String)], labels: &[String]) -> bool {
    pairs.iter().enumerate().all(|(i, (k, _))| {
        valid_label(k) && !labels.contains(k) && !pairs[..i].iter().any(|(seen, _)| seen == k)
    })
}

/// Applies `op` to the model's `state`; `Err` if the crate must refuse it (the state is then
/// unchanged), `Ok(false)` if it does not apply to this type.
fn model_op(
    state: &mut State,
    op: &Op,
    bounds: &[f64],
    labels: &[String],
    states: usize,
    counter: bool,
) -> Result<bool, ()> {
    match (state, op) {
        (State::Value(v), Op::Set(x)) => {
            // A counter is never set below zero (nor to NaN).
            if counter && (x.is_nan() || *x < 0.0) {
                return Err(());
            }
            // A counter set to minus zero holds zero.
            *v = if counter { *x + 0.0 } else { *x };
        }
        (State::Value(v), Op::Add(x)) => {
            if counter && (x.is_nan() || *x < 0.0) {
                return Err(());
            }
            *v += *x;
        }
        (State::Histogram { counts, sum }, Op::Observe(x)) => {
            let i = bounds
                .iter()
                .position(|b| x <= b)
                .unwrap_or(bounds.len() - 1);
            counts[i] += 1;
            *sum += *x;
        }
        (State::Summary { count, sum }, Op::Observe(x)) => {
            *count += 1;
            *sum += *x;
        }
        (State::Info(current), Op::Pairs(pairs)) => {
            if !valid_pairs(pairs, labels) {
                return Err(());
            }
            *current = pairs.clone();
        }
        (State::Enum(current), Op::State(i)) => *current = i % states,
        _ => return Ok(false),
    }
    Ok(true)
}

/// Applies `op` to the crate's series `s` of type `S`; `Ok(false)` if it does not apply.
trait Apply: Series {
    fn apply(&self, op: &Op, states: &[String]) -> Result<bool, MetricError>;
}

impl Apply for prometheus_aioexporter::Counter {
    fn apply(&self, op: &Op, _: &[String]) -> Result<bool, MetricError> {
        match op {
            Op::Set(v) => self.set(*v)?,
            Op::Add(v) => self.inc_by(*v)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl Apply for prometheus_aioexporter::Gauge {
    fn apply(&self, op: &Op, _: &[String]) -> Result<bool, MetricError> {
        match op {
            Op::Set(v) => self.set(*v),
            Op::Add(v) => self.add(*v),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl Apply for prometheus_aioexporter::Histogram {
    fn apply(&self, op: &Op, _: &[String]) -> Result<bool, MetricError> {
        match op {
            Op::Observe(v) => self.observe(*v),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl Apply for prometheus_aioexporter::Summary {
    fn apply(&self, op: &Op, _: &[String]) -> Result<bool, MetricError> {
        match op {
            Op::Observe(v) => self.observe(*v),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl Apply for prometheus_aioexporter::Info {
    fn apply(&self, op: &Op, _: &[String]) -> Result<bool, MetricError> {
        match op {
            Op::Pairs(pairs) => self.set(pairs.iter().map(|(k, v)| (k, v)))?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl Apply for prometheus_aioexporter::Enum {
    fn apply(&self, op: &Op, states: &[String]) -> Result<bool, MetricError> {
        match op {
            Op::State(i) => self.set(&states[i % states.len()])?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Runs a metric's updates, removals and clearing on both the crate's family and the model,
/// checking that the crate accepts and refuses what the model does.
fn run_metric<S: Apply>(
    family: &MetricFamily<S>,
    spec: &MetricSpec,
    model: &mut ModelMetric,
) -> Result<(), String> {
    let states: &[String] = match &spec.kind {
        KindSpec::Enum(states) => states,
        _ => &[],
    };
    let counter = matches!(spec.kind, KindSpec::Counter);
    for series in &spec.series {
        let handle = family
            .labels(&series.values)
            .map_err(|e| format!("{}: labels({:?}): {e}", spec.name, series.values))?;
        let initial = initial_state(&model.kind, &model.bounds);
        let state = model.series.entry(series.values.clone()).or_insert(initial);
        for op in &series.ops {
            let before = state.clone();
            let expected = model_op(
                state,
                op,
                &model.bounds,
                &spec.labels,
                states.len(),
                counter,
            );
            let got = handle.apply(op, states);
            match (expected, got) {
                (Ok(a), Ok(b)) if a == b => {}
                (Err(()), Err(_)) => *state = before,
                (expected, got) => {
                    return Err(format!(
                        "{}: {op:?}: the model expected {expected:?}, the crate said {got:?}",
                        spec.name
                    ))
                }
            }
        }
    }
    let labelled = !spec.labels.is_empty();
    for values in &spec.remove {
        let got = family.remove(values);
        if values.len() != spec.labels.len() {
            if got.is_ok() {
                return Err(format!("{}: remove({values:?}) accepted", spec.name));
            }
            continue;
        }
        let existed = labelled && model.series.remove(values).is_some();
        if got.as_ref().ok() != Some(&existed) {
            return Err(format!(
                "{}: remove({values:?}) = {got:?}, the model expected Ok({existed})",
                spec.name
            ));
        }
    }
    if spec.clear {
        family.clear();
        if labelled {
            model.series.clear();
        }
    }
    if family.len() != model.series.len() {
        return Err(format!(
            "{}: {} series, the model has {}",
            spec.name,
            family.len(),
            model.series.len()
        ));
    }
    Ok(())
}

fn run(metrics: &Metrics, spec: &MetricSpec, model: &mut ModelMetric) -> Result<(), String> {
    let name = model.base.as_str();
    let wrong = |e: MetricError| format!("{name}: {e}");
    match spec.kind {
        KindSpec::Counter => run_metric(&metrics.counter_family(name).map_err(wrong)?, spec, model),
        KindSpec::Gauge => run_metric(&metrics.gauge_family(name).map_err(wrong)?, spec, model),
        KindSpec::Histogram(_) => {
            run_metric(&metrics.histogram_family(name).map_err(wrong)?, spec, model)
        }
        KindSpec::Summary => run_metric(&metrics.summary_family(name).map_err(wrong)?, spec, model),
        KindSpec::Info => run_metric(&metrics.info_family(name).map_err(wrong)?, spec, model),
        KindSpec::Enum(_) => run_metric(
            &metrics.enumeration_family(name).map_err(wrong)?,
            spec,
            model,
        ),
    }
}

/// A collector yielding fixed families.
pub struct Fixed(pub Vec<CollectedFamily>);

impl Collector for Fixed {
    fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
        out.extend(self.0.iter().cloned());
        Ok(())
    }
}

/// Declares and updates everything `spec` says, one `create_metrics` call per metric, checking
/// on the way that the crate refuses exactly the declarations and updates the model refuses
/// (an invalid name or option, or a name on the wire that an earlier metric already uses).
pub fn build(spec: &RegistrySpec) -> Result<Built, String> {
    let mut registry = Registry::new();
    let mut exposed: BTreeSet<String> = BTreeSet::new();
    let mut models: BTreeMap<String, ModelMetric> = BTreeMap::new();
    let mut refused = 0;
    for metric in &spec.metrics {
        let base = base_name(&metric.name, &metric.kind);
        let wire = wire_names(&base, &metric.kind);
        let invalid = refusal(metric, &base);
        let clash = wire.iter().any(|n| exposed.contains(n));
        let created = registry.create_metrics([config(metric)]);
        let metrics = match (created, invalid, clash) {
            (Ok(metrics), None, false) => metrics,
            (
                Err(MetricError::DuplicateMetric(_) | MetricError::SeriesNameTaken { .. }),
                None,
                true,
            ) => {
                refused += 1;
                continue;
            }
            (Err(err), Some(_), _)
                if !matches!(
                    err,
                    MetricError::DuplicateMetric(_) | MetricError::SeriesNameTaken { .. }
                ) =>
            {
                refused += 1;
                continue;
            }
            (result, invalid, clash) => {
                return Err(format!(
                    "create_metrics({:?} {:?} labels {:?}) = {:?}, but the model expected {}",
                    metric.name,
                    metric_type(&metric.kind),
                    metric.labels,
                    result.map(|m| m.len()),
                    match (invalid, clash) {
                        (Some(why), _) => format!("a refusal (invalid {why})"),
                        (None, true) => "a refusal (a name on the wire is taken)".into(),
                        (None, false) => "success".into(),
                    }
                ))
            }
        };
        exposed.extend(wire);
        let bounds = match &metric.kind {
            KindSpec::Histogram(bounds) => {
                let mut b = bounds.clone().unwrap_or_else(|| DEFAULT_BUCKETS.to_vec());
                if b.last() != Some(&f64::INFINITY) {
                    b.push(f64::INFINITY);
                }
                b
            }
            _ => Vec::new(),
        };
        let mut model = ModelMetric {
            base: base.clone(),
            help: metric.help.clone(),
            kind: metric.kind.clone(),
            bounds,
            labels: metric.labels.clone(),
            series: BTreeMap::new(),
        };
        if metric.labels.is_empty() {
            let initial = initial_state(&model.kind, &model.bounds);
            model.series.insert(Vec::new(), initial);
        }
        run(&metrics, metric, &mut model)?;
        models.insert(base, model);
    }

    let mut scrape_fails = false;
    let mut collected = Vec::new();
    let mut families = Vec::new();
    for c in &spec.collected {
        let kind = if c.counter {
            MetricType::Counter
        } else {
            MetricType::Gauge
        };
        let mut family = CollectedFamily::new(c.name.as_str(), c.help.as_str(), kind)
            .labels(c.labels.iter().cloned());
        let mut samples = BTreeMap::new();
        for (values, value) in &c.samples {
            let added = family.add_sample(values, *value);
            if added.is_ok() != (values.len() == c.labels.len()) {
                return Err(format!("{}: add_sample({values:?}) = {added:?}", c.name));
            }
            if added.is_ok() && samples.insert(values.clone(), *value).is_some() {
                scrape_fails = true; // two samples with the same label values
            }
        }
        families.push(family);
        let kind_spec = if c.counter {
            KindSpec::Counter
        } else {
            KindSpec::Gauge
        };
        let base = base_name(&c.name, &kind_spec);
        let labels_ok = c
            .labels
            .iter()
            .enumerate()
            .all(|(i, l)| valid_label(l) && !c.labels[..i].contains(l));
        if !is_metric_name(&base) || !labels_ok {
            scrape_fails = true;
        }
        for name in wire_names(&base, &kind_spec) {
            if !exposed.insert(name) {
                scrape_fails = true;
            }
        }
        collected.push(ModelCollected {
            base,
            help: c.help.clone(),
            counter: c.counter,
            labels: c.labels.clone(),
            samples,
        });
    }
    if !families.is_empty() {
        registry.register_collector(Fixed(families));
    }
    Ok(Built {
        registry,
        metrics: models.into_values().collect(),
        collected,
        scrape_fails,
        refused,
    })
}

fn labelled(names: &[String], values: &[String]) -> Vec<(String, String)> {
    names.iter().cloned().zip(values.iter().cloned()).collect()
}

/// An `le` value the parser reads back as `bound` (compared as a number, not as a string).
fn le_label(bound: f64) -> String {
    if bound == 0.0 {
        "0".to_string() // `-0` too, as client_golang writes it
    } else if bound.is_infinite() {
        if bound > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{bound:e}")
    }
}

fn sample(name: String, labels: Vec<(String, String)>, value: f64) -> Sample {
    Sample {
        name,
        labels,
        value,
    }
}

impl Built {
    /// What a scrape in `format` must expose, as [`parse`] reads it.
    pub fn expected(&self, format: Format) -> Vec<Family> {
        let om = format == Format::OpenMetrics;
        let mut out = Vec::new();
        for m in &self.metrics {
            if m.series.is_empty() {
                continue; // a labelled metric without series is not exposed at all
            }
            let base = &m.base;
            let (family_name, kind) = match (&m.kind, om) {
                (KindSpec::Counter, false) => (format!("{base}_total"), "counter"),
                (KindSpec::Counter, true) => (base.clone(), "counter"),
                (KindSpec::Gauge, _) => (base.clone(), "gauge"),
                (KindSpec::Histogram(_), _) => (base.clone(), "histogram"),
                (KindSpec::Summary, _) => (base.clone(), "summary"),
                (KindSpec::Info, false) => (format!("{base}_info"), "gauge"),
                (KindSpec::Info, true) => (base.clone(), "info"),
                (KindSpec::Enum(_), false) => (base.clone(), "gauge"),
                (KindSpec::Enum(_), true) => (base.clone(), "stateset"),
            };
            let mut samples = Vec::new();
            // The crate orders a family's series by their label pairs as the wire shows them.
            let mut ordered: Vec<(&Vec<String>, &State)> = m.series.iter().collect();
            ordered.sort_by_cached_key(|(values, _)| rendered_pairs(&m.labels, values));
            for (values, state) in ordered {
                let labels = labelled(&m.labels, values);
                match (state, &m.kind) {
                    (State::Value(v), KindSpec::Counter) => {
                        // OpenMetrics leaves out a counter that is negative or NaN.
                        if !om || *v >= 0.0 {
                            samples.push(sample(format!("{base}_total"), labels, *v));
                        }
                    }
                    (State::Value(v), _) => samples.push(sample(base.clone(), labels, *v)),
                    (State::Histogram { counts, sum }, _) => {
                        let mut cumulative = 0;
                        for (count, bound) in counts.iter().zip(&m.bounds) {
                            cumulative += count;
                            let mut with_le = labels.clone();
                            with_le.push(("le".into(), le_label(*bound)));
                            samples.push(sample(
                                format!("{base}_bucket"),
                                with_le,
                                cumulative as f64,
                            ));
                        }
                        // OpenMetrics: no sum (and so no count) with a negative bucket, or
                        // when the sum is negative or NaN.
                        let negative_bucket = m.bounds.first().is_some_and(|&b| b < 0.0);
                        if !om || (!negative_bucket && *sum >= 0.0) {
                            samples.push(sample(format!("{base}_sum"), labels.clone(), *sum));
                            samples.push(sample(
                                format!("{base}_count"),
                                labels,
                                cumulative as f64,
                            ));
                        }
                    }
                    (State::Summary { count, sum }, _) => {
                        // OpenMetrics leaves out a sum that is negative or NaN.
                        if !om || *sum >= 0.0 {
                            samples.push(sample(format!("{base}_sum"), labels.clone(), *sum));
                        }
                        samples.push(sample(format!("{base}_count"), labels, *count as f64));
                    }
                    (State::Info(pairs), _) => {
                        let mut all = labels;
                        all.extend(pairs.iter().cloned());
                        samples.push(sample(format!("{base}_info"), all, 1.0));
                    }
                    (State::Enum(current), KindSpec::Enum(states)) => {
                        for (i, state) in states.iter().enumerate() {
                            let mut with_state = labels.clone();
                            with_state.push((base.clone(), state.clone()));
                            let value = if i == *current { 1.0 } else { 0.0 };
                            samples.push(sample(base.clone(), with_state, value));
                        }
                    }
                    (State::Enum(_), _) => unreachable!("an enum state in a non-enum"),
                }
            }
            if samples.is_empty() {
                continue; // every sample left out: so is the family
            }
            out.push(Family {
                name: family_name,
                help: m.help.clone(),
                kind: kind.to_string(),
                samples,
            });
        }
        for c in &self.collected {
            let base = &c.base;
            let (family_name, sample_name) = match (c.counter, om) {
                (true, false) => (format!("{base}_total"), format!("{base}_total")),
                (true, true) => (base.clone(), format!("{base}_total")),
                (false, _) => (base.clone(), base.clone()),
            };
            // OpenMetrics leaves out a counter sample that is negative or NaN, and the family
            // when that leaves none.
            let samples: Vec<Sample> = c
                .samples
                .iter()
                .filter(|(_, v)| !(om && c.counter) || *v >= &0.0)
                .map(|(values, v)| sample(sample_name.clone(), labelled(&c.labels, values), *v))
                .collect();
            if samples.is_empty() && !c.samples.is_empty() {
                continue;
            }
            out.push(Family {
                name: family_name,
                help: c.help.clone(),
                kind: if c.counter { "counter" } else { "gauge" }.to_string(),
                samples,
            });
        }
        out
    }
}

/// Shows a body with its control characters escaped.
pub fn show(body: &str) -> String {
    body.split_inclusive('\n')
        .map(|line| line.escape_debug().to_string() + "\n")
        .collect()
}

/// Builds the registry `spec` describes, scrapes it in `format`, parses the body strictly, and
/// compares it with what the model says it must be. Also checks that a failed scrape leaves the
/// buffer untouched and that a second scrape is identical.
pub fn check_round_trip(spec: &RegistrySpec, format: Format) -> Result<(), String> {
    let mut built = build(spec)?;
    let prefix = b"kept";
    let mut body = prefix.to_vec();
    let result = built.registry.encode_format(&mut body, format);
    match (result, built.scrape_fails) {
        (Err(_), true) if body == prefix => return Ok(()),
        (Err(err), true) => return Err(format!("the failed scrape ({err}) left bytes behind")),
        (Err(err), false) => return Err(format!("the scrape failed: {err}")),
        (Ok(()), true) => return Err("the scrape succeeded with invalid collected families".into()),
        (Ok(()), false) => {}
    }
    let body = body.split_off(prefix.len());
    let text = String::from_utf8(body).map_err(|e| format!("the body is not UTF-8: {e}"))?;
    let parsed = parse(&text, format)
        .map_err(|e| format!("{format:?}: {e}\n--- body ---\n{}--- end ---", show(&text)))?;
    compare(&built.expected(format), &parsed)
        .map_err(|e| format!("{format:?}: {e}\n--- body ---\n{}--- end ---", show(&text)))?;
    let mut again = Vec::new();
    built
        .registry
        .encode_format(&mut again, format)
        .map_err(|e| format!("the second scrape failed: {e}"))?;
    if again != text.as_bytes() {
        return Err(format!("{format:?}: a second scrape differs"));
    }
    Ok(())
}
