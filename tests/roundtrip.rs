//! The round-trip property of both exposition formats: whatever a registry holds (names of any
//! valid shape, label values and help texts drawn from all of Unicode, float edge cases, every
//! metric type), its scrape parses back strictly (tests/support/exposition.rs) to exactly the
//! families, samples, label values and values (bit for bit; NaN matches NaN) it holds.
//!
//! Registries are generated from a small xorshift generator seeded per case, so every run checks
//! the same cases and a failure names its seed. Names and options the crate must refuse are
//! refused at creation, so they never reach the wire.

use prometheus_aioexporter::Format;
use prometheus_aioexporter::{CollectedFamily, MetricConfig, MetricError, MetricType, Registry};

use crate::support::exposition::{
    self, check_round_trip, CollectedSpec, Fixed, KindSpec, MetricSpec, Op, RegistrySpec,
    SeriesSpec,
};

// ---------------------------------------------------------------------------------------------
// A deterministic generator
// ---------------------------------------------------------------------------------------------

/// xorshift64*, seeded per case.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // SplitMix64 of the seed, so neighbouring seeds start far apart (and never at 0).
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// `true` one time in `n`.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// The largest subnormal, 0x000F_FFFF_FFFF_FFFF (2.2250738585072009e-308, spelled shortest).
const MAX_SUBNORMAL: f64 = 2.225_073_858_507_201e-308;
/// 2^53, above which not every integer is a float.
const TWO_53: f64 = 9_007_199_254_740_992.0;

/// Values worth spelling carefully.
const FLOATS: [f64; 46] = [
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    MAX_SUBNORMAL,
    -MAX_SUBNORMAL,
    f64::MIN_POSITIVE,
    -f64::MIN_POSITIVE,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    1e300,
    -1e300,
    1e-300,
    -1e-300,
    f64::MAX,
    f64::MIN,
    f64::EPSILON,
    TWO_53 - 1.0,
    TWO_53,
    TWO_53 + 2.0,
    -TWO_53,
    -(TWO_53 + 2.0),
    999_999_999_999_999.0,
    1e15,
    1e15 + 1.0,
    1e16,
    1e20,
    1e21,
    1e22,
    1e-5,
    9.999_999_999_999_999e-6,
    1e-7,
    1.5e-7,
    0.1,
    0.2,
    1.0 / 3.0,
    0.5,
    1.0,
    -1.0,
    2.0,
    42.0,
    123_456_789.125,
    4_294_967_295.0,
    18_446_744_073_709_551_616.0,
    -273.15,
];

fn any_float(rng: &mut Rng) -> f64 {
    match rng.below(8) {
        0 | 1 => f64::from_bits(rng.next()),
        2 => rng.below(2000) as f64 - 1000.0,
        3 => (rng.below(2_000_000) as f64 - 1_000_000.0) / 1000.0,
        _ => rng.pick(&FLOATS),
    }
}

/// Characters that need care somewhere: escapes, line ends, separators, a BOM, controls.
const SPECIAL_CHARS: [char; 22] = [
    '\\',
    '"',
    '\n',
    '\r',
    '\t',
    '\0',
    '\u{7f}',
    '\u{feff}',
    '{',
    '}',
    ',',
    '=',
    '#',
    ' ',
    '\'',
    '\u{85}',
    '\u{2028}',
    '\u{fffd}',
    '\u{ffff}',
    '\u{10ffff}',
    'n',
    '\u{1b}',
];

/// Fragments that look like syntax.
const FRAGMENTS: [&str; 12] = [
    "\\n",
    "\\\"",
    "\\\\",
    "# EOF",
    "\n# EOF\n",
    "} 1\n",
    "le=\"+Inf\"",
    "NaN",
    "+Inf",
    "# HELP x y\n",
    "\"}",
    "\r\n",
];

/// Any char: ASCII, the special ones, controls U+0000–U+001F, the BMP, the astral planes.
fn any_char(rng: &mut Rng) -> char {
    loop {
        let code = match rng.below(10) {
            0 | 1 => return rng.pick(&SPECIAL_CHARS),
            2 => rng.below(0x20) as u32,
            3 => 0x1_0000 + rng.below(0x10_0000) as u32,
            4 => rng.below(0x1_0000) as u32,
            5 => rng.below(0x11_0000) as u32,
            6 => 0x80 + rng.below(0x780) as u32,
            _ => 0x20 + rng.below(0x5f) as u32,
        };
        if let Some(c) = char::from_u32(code) {
            return c;
        }
    }
}

fn any_string(rng: &mut Rng, max_len: usize) -> String {
    let mut s = String::new();
    let len = rng.below(max_len + 1);
    while s.chars().count() < len {
        if rng.one_in(12) {
            s.push_str(rng.pick(&FRAGMENTS));
        } else {
            s.push(any_char(rng));
        }
    }
    s
}

const NAME_FIRST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:";
const NAME_REST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:0123456789";

/// Suffixes that the crate adds or strips, or that collide with what it adds.
const SUFFIXES: [&str; 7] = [
    "_total", "_info", "_sum", "_count", "_bucket", "_created", "_",
];

/// A valid name of `[first][rest]*`, short (to collide) or long, sometimes with a suffix.
fn any_name(rng: &mut Rng, first: &[u8], rest: &[u8]) -> String {
    let len = match rng.below(6) {
        0 => 1,
        1 => 2,
        2 => 1 + rng.below(8),
        3 => 1 + rng.below(40),
        4 => 1 + rng.below(200),
        _ => 3 + rng.below(12),
    };
    let mut name = String::new();
    name.push(char::from(rng.pick(first)));
    while name.len() < len {
        name.push(char::from(rng.pick(rest)));
    }
    if rng.one_in(4) {
        name.push_str(rng.pick(&SUFFIXES));
    }
    name
}

fn metric_name(rng: &mut Rng) -> String {
    any_name(rng, NAME_FIRST, NAME_REST)
}

/// A valid label name, not reserved (`__…`).
fn label_name(rng: &mut Rng) -> String {
    let first = &NAME_FIRST[..NAME_FIRST.len() - 1]; // no ':'
    let rest = &NAME_REST[..NAME_REST.len() - 11]; // no ':' or digits …
    let mut name = any_name(rng, first, rest);
    if rng.one_in(3) {
        name.push_str(&rng.below(100).to_string()); // … digits only after the first char
    }
    if name.starts_with("__") {
        name.replace_range(..1, "a");
    }
    name
}

/// `n` distinct label names, none of them in `reserved`.
fn label_names(rng: &mut Rng, n: usize, reserved: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    while names.len() < n {
        let name = label_name(rng);
        if !reserved.contains(&name.as_str()) && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Strictly increasing bucket bounds, sometimes from -Inf, sometimes ending with +Inf.
fn any_buckets(rng: &mut Rng) -> Option<Vec<f64>> {
    if rng.one_in(5) {
        return None;
    }
    let mut bounds: Vec<f64> = (0..rng.below(7))
        .map(|_| any_float(rng))
        .filter(|b| !b.is_nan())
        .collect();
    bounds.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    bounds.dedup_by(|a, b| a == b);
    if rng.one_in(4) && bounds.last() != Some(&f64::INFINITY) {
        bounds.push(f64::INFINITY);
    }
    if rng.one_in(6) && bounds.first() != Some(&f64::NEG_INFINITY) {
        bounds.insert(0, f64::NEG_INFINITY);
    }
    Some(bounds)
}

fn any_kind(rng: &mut Rng) -> KindSpec {
    match rng.below(6) {
        0 => KindSpec::Counter,
        1 => KindSpec::Gauge,
        2 => KindSpec::Histogram(any_buckets(rng)),
        3 => KindSpec::Summary,
        4 => KindSpec::Info,
        _ => {
            let mut states: Vec<String> = Vec::new();
            for _ in 0..1 + rng.below(5) {
                let state = any_string(rng, 10);
                if !states.contains(&state) {
                    states.push(state);
                }
            }
            KindSpec::Enum(states)
        }
    }
}

fn any_op(rng: &mut Rng, kind: &KindSpec, labels: &[String]) -> Op {
    match kind {
        KindSpec::Counter | KindSpec::Gauge => {
            if rng.one_in(3) {
                Op::Add(any_float(rng))
            } else {
                Op::Set(any_float(rng))
            }
        }
        KindSpec::Histogram(_) | KindSpec::Summary => Op::Observe(any_float(rng)),
        KindSpec::Info => {
            let n = rng.below(4);
            let keys = label_names(
                rng,
                n,
                &labels.iter().map(String::as_str).collect::<Vec<_>>(),
            );
            Op::Pairs(keys.into_iter().map(|k| (k, any_string(rng, 12))).collect())
        }
        KindSpec::Enum(_) => Op::State(rng.below(8)),
    }
}

fn any_metric(rng: &mut Rng) -> MetricSpec {
    let kind = any_kind(rng);
    // An enum's name is also its state label: a label name.
    let name = match kind {
        KindSpec::Enum(_) => label_name(rng),
        _ => metric_name(rng),
    };
    let reserved: &[&str] = match kind {
        KindSpec::Histogram(_) => &["le"],
        KindSpec::Summary => &["quantile"],
        KindSpec::Enum(_) => &[name.as_str()],
        _ => &[],
    };
    let n_labels = [0, 0, 1, 1, 2, 3][rng.below(6)];
    let labels = label_names(rng, n_labels, reserved);
    let mut values_seen: Vec<Vec<String>> = Vec::new();
    let series: Vec<SeriesSpec> = (0..rng.below(5))
        .map(|_| {
            // Sometimes a label set seen before, to update the same series twice.
            let values = match values_seen.last() {
                Some(seen) if rng.one_in(4) => seen.clone(),
                _ => labels.iter().map(|_| any_string(rng, 10)).collect(),
            };
            values_seen.push(values.clone());
            let ops = (0..rng.below(5))
                .map(|_| any_op(rng, &kind, &labels))
                .collect();
            SeriesSpec { values, ops }
        })
        .collect();
    let mut remove = Vec::new();
    if !values_seen.is_empty() && rng.one_in(5) {
        remove.push(values_seen[rng.below(values_seen.len())].clone());
    }
    if rng.one_in(10) {
        remove.push(labels.iter().map(|_| any_string(rng, 3)).collect());
    }
    MetricSpec {
        name,
        help: any_string(rng, 40),
        kind,
        labels,
        series,
        remove,
        clear: rng.one_in(15),
    }
}

/// A collected family; sometimes named like a registered metric, or with a label set twice, so
/// that the scrape must fail.
fn any_collected(rng: &mut Rng, registered: &[MetricSpec]) -> CollectedSpec {
    let n_labels = rng.below(3);
    let labels = label_names(rng, n_labels, &[]);
    let mut samples: Vec<(Vec<String>, f64)> = Vec::new();
    for _ in 0..1 + rng.below(4) {
        let values: Vec<String> = labels.iter().map(|_| any_string(rng, 8)).collect();
        if !samples.iter().any(|(seen, _)| *seen == values) || rng.one_in(20) {
            samples.push((values, any_float(rng)));
        }
    }
    let name = match registered {
        [first, ..] if rng.one_in(10) => {
            let taken = &registered[rng.below(registered.len())].name;
            let name = if rng.one_in(2) { taken } else { &first.name };
            format!("{name}{}", ["", "_total", "_sum"][rng.below(3)])
        }
        _ => metric_name(rng),
    };
    CollectedSpec {
        name,
        help: any_string(rng, 30),
        counter: rng.one_in(2),
        labels,
        samples,
    }
}

fn any_registry(seed: u64) -> RegistrySpec {
    let mut rng = Rng::new(seed);
    let mut metrics: Vec<MetricSpec> = Vec::new();
    for _ in 0..1 + rng.below(8) {
        let mut metric = any_metric(&mut rng);
        // Sometimes named like an earlier metric, so that names on the wire collide.
        if !metrics.is_empty() && rng.one_in(6) {
            let taken = &metrics[rng.below(metrics.len())].name;
            let suffix = ["", "_total", "_info", "_sum", "_count", "_bucket"][rng.below(6)];
            metric.name = format!("{taken}{suffix}");
        }
        metrics.push(metric);
    }
    let collected = if rng.one_in(4) {
        (0..1 + rng.below(3))
            .map(|_| any_collected(&mut rng, &metrics))
            .collect()
    } else {
        Vec::new()
    };
    RegistrySpec { metrics, collected }
}

// ---------------------------------------------------------------------------------------------
// The round-trip property
// ---------------------------------------------------------------------------------------------

const CASES: u64 = 2_500;

fn round_trip_many(format: Format) {
    let mut failures = Vec::new();
    for seed in 0..CASES {
        let spec = any_registry(seed);
        if let Err(err) = check_round_trip(&spec, format) {
            failures.push(format!("seed {seed}: {err}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {CASES} generated registries did not round-trip in {format:?}; the first:\n{}",
        failures.len(),
        failures[0]
    );
}

#[test]
fn generated_registries_round_trip_in_the_text_format() {
    round_trip_many(Format::Text);
}

#[test]
fn generated_registries_round_trip_in_openmetrics() {
    round_trip_many(Format::OpenMetrics);
}

#[test]
fn the_generator_covers_what_it_should() {
    // Not a check of the crate: a check that the generated cases reach the edge cases.
    let mut kinds = [0usize; 6];
    let (mut nan, mut neg_zero, mut subnormal, mut inf, mut collected) = (0, 0, 0, 0, 0);
    let mut chars = std::collections::BTreeSet::new();
    let (mut refused, mut failing) = (0, 0);
    for seed in 0..CASES {
        let spec = any_registry(seed);
        collected += spec.collected.len();
        for m in &spec.metrics {
            kinds[match m.kind {
                KindSpec::Counter => 0,
                KindSpec::Gauge => 1,
                KindSpec::Histogram(_) => 2,
                KindSpec::Summary => 3,
                KindSpec::Info => 4,
                KindSpec::Enum(_) => 5,
            }] += 1;
            for s in &m.series {
                for v in &s.values {
                    chars.extend(v.chars().filter(|c| c.is_control() || *c as u32 > 0xffff));
                    chars.extend(v.chars().filter(|c| matches!(c, '\\' | '"' | '\u{feff}')));
                }
                for op in &s.ops {
                    if let Op::Set(v) | Op::Add(v) | Op::Observe(v) = op {
                        nan += usize::from(v.is_nan());
                        neg_zero += usize::from(v.to_bits() == (-0.0f64).to_bits());
                        subnormal += usize::from(v.is_subnormal());
                        inf += usize::from(v.is_infinite());
                    }
                }
            }
        }
        let built = exposition::build(&spec).expect("the model agrees with the crate");
        refused += built.refused;
        failing += usize::from(built.scrape_fails);
    }
    assert_eq!(MAX_SUBNORMAL.to_bits(), 0x000F_FFFF_FFFF_FFFF);
    assert!(kinds.iter().all(|&n| n > 1000), "{kinds:?}");
    assert!(nan > 100 && neg_zero > 100 && subnormal > 100 && inf > 100);
    assert!(collected > 500, "{collected}");
    assert!(refused > 100, "{refused} refused declarations");
    assert!(failing > 50, "{failing} failing scrapes");
    for c in [
        '\0', '\n', '\r', '\t', '\u{1f}', '\u{7f}', '\\', '"', '\u{feff}',
    ] {
        assert!(chars.contains(&c), "{c:?} never generated");
    }
    assert!(chars.iter().filter(|c| **c as u32 > 0xffff).count() > 100);
}

// ---------------------------------------------------------------------------------------------
// Hand-picked cases
// ---------------------------------------------------------------------------------------------

fn metric(name: &str, kind: KindSpec, labels: &[&str], series: Vec<SeriesSpec>) -> MetricSpec {
    MetricSpec {
        name: name.into(),
        help: String::new(),
        kind,
        labels: labels.iter().map(|s| s.to_string()).collect(),
        series,
        remove: Vec::new(),
        clear: false,
    }
}

fn series(values: &[&str], ops: Vec<Op>) -> SeriesSpec {
    SeriesSpec {
        values: values.iter().map(|s| s.to_string()).collect(),
        ops,
    }
}

fn check_both(spec: &RegistrySpec) {
    for format in Format::ALL {
        if let Err(err) = check_round_trip(spec, format) {
            panic!("{err}");
        }
    }
}

#[test]
fn every_float_edge_case_round_trips_in_every_place_a_number_goes() {
    let values: Vec<String> = (0..FLOATS.len()).map(|i| i.to_string()).collect();
    let per_value = |kind: KindSpec, op: fn(f64) -> Op| {
        metric(
            "m",
            kind,
            &["i"],
            FLOATS
                .iter()
                .zip(&values)
                .map(|(&v, i)| series(&[i], vec![op(v)]))
                .collect(),
        )
    };
    let mut finite: Vec<f64> = FLOATS.iter().copied().filter(|v| !v.is_nan()).collect();
    finite.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    finite.dedup_by(|a, b| a == b);
    for spec in [
        per_value(KindSpec::Gauge, Op::Set),
        per_value(KindSpec::Counter, Op::Set),
        per_value(KindSpec::Summary, Op::Observe),
        per_value(KindSpec::Histogram(Some(finite.clone())), Op::Observe),
    ] {
        check_both(&RegistrySpec {
            metrics: vec![spec],
            collected: Vec::new(),
        });
    }
}

#[test]
fn awkward_strings_round_trip_everywhere_a_string_goes() {
    let awkward = [
        "",
        "\\",
        "\"",
        "\n",
        "\r",
        "\r\n",
        "\t",
        "\0",
        "\u{7f}",
        "\u{feff}",
        "\u{feff}leading BOM",
        "\\n",
        "\\\"",
        "a\"b\\c\nd",
        "# EOF",
        "\n# EOF\n",
        "x} 1\n# HELP y z",
        "{le=\"+Inf\"}",
        "\u{1F600}\u{10FFFF}",
        "\u{1}\u{2}\u{1f}",
        "trailing backslash \\",
    ];
    let labels: Vec<SeriesSpec> = awkward
        .iter()
        .enumerate()
        .map(|(i, v)| series(&[v, &i.to_string()], vec![Op::Set(i as f64)]))
        .collect();
    let mut metrics = vec![
        metric("g", KindSpec::Gauge, &["v", "i"], labels),
        metric(
            "state",
            KindSpec::Enum(awkward.iter().map(|s| s.to_string()).collect()),
            &[],
            vec![series(&[], vec![Op::State(3)])],
        ),
        metric(
            "build",
            KindSpec::Info,
            &[],
            vec![series(
                &[],
                vec![Op::Pairs(
                    awkward
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (format!("k{i}"), v.to_string()))
                        .collect(),
                )],
            )],
        ),
    ];
    for (i, help) in awkward.iter().enumerate() {
        let mut m = metric(&format!("help_{i}"), KindSpec::Gauge, &[], Vec::new());
        m.help = help.to_string();
        metrics.push(m);
    }
    check_both(&RegistrySpec {
        metrics,
        collected: vec![CollectedSpec {
            name: "collected_total".into(),
            help: "\\ \" \n".into(),
            counter: true,
            labels: vec!["v".into()],
            samples: awkward
                .iter()
                .enumerate()
                .map(|(i, v)| (vec![v.to_string()], i as f64))
                .collect(),
        }],
    });
}

#[test]
fn empty_registries_expose_nothing_but_eof() {
    let mut registry = Registry::new();
    let mut text = Vec::new();
    registry.encode_format(&mut text, Format::Text).unwrap();
    assert_eq!(text, b"");
    let mut om = Vec::new();
    registry
        .encode_format(&mut om, Format::OpenMetrics)
        .unwrap();
    assert_eq!(om, b"# EOF\n");
    // A labelled metric without series is not exposed either.
    registry
        .create_metrics([MetricConfig::new("g", "G.", "gauge").labels(["l"])])
        .unwrap();
    check_both(&RegistrySpec::default());
}

// ---------------------------------------------------------------------------------------------
// Bad names never reach the wire
// ---------------------------------------------------------------------------------------------

/// Metric names the crate refuses: only the empty one (any other UTF-8 name is accepted).
const BAD_METRIC_NAMES: [&str; 1] = [""];

/// Label names the crate refuses: empty, reserved (`__…`), or reserved once escaped with
/// underscores (`é_` is `__`).
const BAD_LABEL_NAMES: [&str; 6] = ["", "__x", "__name__", "__", "é_", "\n_x"];

/// Names outside the legacy sets, accepted and escaped with underscores on the wire (the
/// default escaping), as metric names (first) and label names (second).
const UTF8_NAMES: [(&str, &str, &str); 10] = [
    ("1a", "_a", "_a"),
    ("a-b", "a_b", "a_b"),
    ("a b", "a_b", "a_b"),
    ("é", "_", "_"),
    ("a\n", "a_", "a_"),
    ("a\"", "a_", "a_"),
    ("a{b}", "a_b_", "a_b_"),
    ("a.b", "a_b", "a_b"),
    ("\u{feff}a", "_a", "_a"),
    ("a:b", "a:b", "a_b"),
];

const KINDS: [&str; 6] = ["counter", "gauge", "histogram", "summary", "info", "enum"];

fn with_states(config: MetricConfig, kind: &str) -> MetricConfig {
    if kind == "enum" {
        config.states(["a", "b"])
    } else {
        config
    }
}

/// `create_metrics` refuses `config`, registers nothing, and the scrapes stay empty.
fn assert_refused(config: MetricConfig) {
    let described = format!("{config:?}");
    let mut registry = Registry::new();
    let result = registry.create_metrics([
        MetricConfig::new("good_before", "Declared in the same call.", "gauge"),
        config,
    ]);
    assert!(result.is_err(), "create_metrics accepted {described}");
    assert!(registry.metrics().is_empty(), "{described}: all or nothing");
    for (format, empty) in [
        (Format::Text, &b""[..]),
        (Format::OpenMetrics, &b"# EOF\n"[..]),
    ] {
        let mut body = Vec::new();
        registry.encode_format(&mut body, format).unwrap();
        assert_eq!(body, empty, "{described} reached the wire");
    }
}

#[test]
fn bad_metric_names_are_refused_at_creation() {
    for kind in KINDS {
        for name in BAD_METRIC_NAMES {
            assert_refused(with_states(MetricConfig::new(name, "", kind), kind));
        }
    }
    // Names that another escapes to: refused whichever comes first.
    for (name, escaped, _) in UTF8_NAMES {
        if name.contains(':') {
            continue;
        }
        for (first, second) in [(name, escaped), (escaped, name)] {
            let mut registry = Registry::new();
            registry
                .create_metrics([MetricConfig::new(first, "", "gauge")])
                .unwrap();
            let err = registry
                .create_metrics([MetricConfig::new(second, "", "gauge")])
                .unwrap_err();
            assert!(err.to_string().contains("exposes already"), "{err}");
        }
    }
}

#[test]
fn utf8_names_are_accepted_and_escaped_with_underscores() {
    for (name, metric, label) in UTF8_NAMES {
        let mut registry = Registry::new();
        let metrics = registry
            .create_metrics([
                MetricConfig::new(name, "", "gauge"),
                MetricConfig::new("m", "", "gauge").labels([name]),
            ])
            .unwrap();
        metrics.gauge(name).unwrap().set(1.0);
        metrics.gauge_family("m").unwrap().labels(&["v"]).unwrap();
        for format in Format::ALL {
            let mut body = Vec::new();
            registry.encode_format(&mut body, format).unwrap();
            let body = String::from_utf8(body).unwrap();
            let families = exposition::parse(&body, format).unwrap();
            let family = exposition::family(&families, metric);
            assert_eq!(family.samples[0].value, 1.0, "{name:?}");
            let m = exposition::family(&families, "m");
            assert_eq!(
                m.samples[0].labels,
                [(label.into(), "v".into())],
                "{name:?}"
            );
        }
    }
}

#[test]
fn bad_label_names_are_refused_at_creation() {
    for kind in KINDS {
        for label in BAD_LABEL_NAMES {
            let config = MetricConfig::new("m", "", kind).labels(["ok", label]);
            assert_refused(with_states(config, kind));
        }
        let twice = MetricConfig::new("m", "", kind).labels(["x", "x"]);
        assert_refused(with_states(twice, kind));
    }
    assert_refused(MetricConfig::new("h", "", "histogram").labels(["le"]));
    assert_refused(MetricConfig::new("s", "", "summary").labels(["quantile"]));
    assert_refused(
        MetricConfig::new("e", "", "enum")
            .labels(["e"])
            .states(["x"]),
    );
    // Label names that one escaping writes alike.
    for labels in [["a.b", "a_b"], ["a-b", "a.b"], ["x.y", "U__x_2e_y"]] {
        assert_refused(MetricConfig::new("m", "", "gauge").labels(labels));
    }
    assert_refused(
        MetricConfig::new("e.x", "", "enum")
            .labels(["e_x"])
            .states(["x"]),
    );
    // An info's label names stay legacy, as its keys.
    assert_refused(MetricConfig::new("i", "", "info").labels(["a.b"]));
    // An enum's name is also its state label: no ':'.
    assert_refused(MetricConfig::new("a:b", "", "enum").states(["x"]));
}

#[test]
fn bad_info_keys_are_refused_and_keep_the_previous_pairs() {
    let mut registry = Registry::new();
    let metrics = registry
        .create_metrics([MetricConfig::new("build", "", "info").labels(["host"])])
        .unwrap();
    let info = metrics
        .info_family("build")
        .unwrap()
        .labels(&["h"])
        .unwrap();
    info.set([("version", "1")]).unwrap();
    // Info keys are label names: UTF-8 ones too, but not empty, reserved, nor the metric's.
    for key in BAD_LABEL_NAMES.into_iter().chain(["host"]) {
        assert!(info.set([(key, "x")]).is_err(), "{key:?} accepted");
    }
    assert!(info.set([("a", "x"), ("a", "y")]).is_err());
    let mut body = Vec::new();
    registry
        .encode_format(&mut body, Format::OpenMetrics)
        .unwrap();
    let body = String::from_utf8(body).unwrap();
    let families = exposition::parse(&body, Format::OpenMetrics).unwrap();
    let build = exposition::family(&families, "build");
    assert_eq!(build.samples.len(), 1);
    assert_eq!(
        build.samples[0].labels,
        [("host".into(), "h".into()), ("version".into(), "1".into())]
    );
}

#[test]
fn bad_collected_names_fail_the_scrape() {
    let mut cases = Vec::new();
    for name in BAD_METRIC_NAMES {
        let mut family = CollectedFamily::new(name, "", MetricType::Gauge);
        family.add_sample(&[] as &[&str], 1.0).unwrap();
        cases.push(family);
    }
    for label in BAD_LABEL_NAMES {
        let mut family = CollectedFamily::new("c", "", MetricType::Counter).labels([label]);
        family.add_sample(&["v"], 1.0).unwrap();
        cases.push(family);
    }
    for family in cases {
        let described = format!("{family:?}");
        let mut registry = Registry::new();
        registry.register_collector(Fixed(vec![family]));
        for format in Format::ALL {
            let mut body = b"before".to_vec();
            assert!(
                registry.encode_format(&mut body, format).is_err(),
                "{described} was scraped"
            );
            assert_eq!(body, b"before", "{described} reached the wire");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The strict parser, on OpenMetrics bodies
// ---------------------------------------------------------------------------------------------

#[test]
fn strict_parser_reads_openmetrics() {
    let body = "# HELP c C \\\"quoted\\\".\n# TYPE c counter\nc_total{l=\"x\"} 1\n\
                # HELP i I.\n# TYPE i info\ni_info{version=\"1\"} 1\n\
                # HELP s S.\n# TYPE s stateset\ns{s=\"a\"} 1\ns{s=\"b\"} 0\n\
                # HELP h H.\n# TYPE h histogram\n\
                h_bucket{le=\"1.0\"} 1\nh_bucket{le=\"1e300\"} 1\nh_bucket{le=\"+Inf\"} 2\n\
                h_sum 3\nh_count 2\n# EOF\n";
    let families = exposition::parse(body, Format::OpenMetrics).unwrap();
    let kinds: Vec<&str> = families.iter().map(|f| f.kind.as_str()).collect();
    assert_eq!(kinds, ["counter", "info", "stateset", "histogram"]);
    assert_eq!(families[0].help, "C \"quoted\".");
    assert_eq!(
        exposition::parse("# EOF\n", Format::OpenMetrics)
            .unwrap()
            .len(),
        0
    );
    assert!(exposition::parse("# EOF\n", Format::Text).is_err());
}

#[test]
fn strict_parser_rejects_malformed_openmetrics() {
    let good = "# HELP c C.\n# TYPE c counter\nc_total{l=\"x\"} 1\n\
                # HELP h H.\n# TYPE h histogram\n\
                h_bucket{le=\"1.0\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n# EOF\n";
    if let Err(err) = exposition::parse(good, Format::OpenMetrics) {
        panic!("the good body must parse: {err}");
    }
    let bad = [
        ("no EOF", good.replace("# EOF\n", "")),
        ("EOF without newline", good.trim_end().to_string()),
        ("two EOFs", format!("{good}# EOF\n")),
        ("text after EOF", format!("{good}x 1\n")),
        (
            "counter sample without _total",
            good.replace("c_total{", "c{"),
        ),
        (
            "counter family with _total",
            good.replace("c counter", "c_total counter")
                .replace("HELP c ", "HELP c_total "),
        ),
        ("le not canonical", good.replace("le=\"1.0\"", "le=\"1\"")),
        (
            "unescaped quote in HELP",
            good.replace("HELP c C.", "HELP c C\"."),
        ),
        (
            "bad escape in HELP",
            good.replace("HELP c C.", "HELP c C\\t"),
        ),
        (
            "untyped is text-only",
            good.replace("c counter", "c untyped"),
        ),
        (
            "count differs from +Inf",
            good.replace("h_count 2", "h_count 3"),
        ),
        (
            "info value",
            good.replace("# HELP h", "# HELP i I.\n# TYPE i info\ni_info 2\n# HELP h"),
        ),
        (
            "stateset value",
            good.replace(
                "# HELP h",
                "# HELP s S.\n# TYPE s stateset\ns{s=\"a\"} 2\n# HELP h",
            ),
        ),
        (
            "stateset without its label",
            good.replace(
                "# HELP h",
                "# HELP s S.\n# TYPE s stateset\ns{t=\"a\"} 1\n# HELP h",
            ),
        ),
        (
            "sample name of another family",
            good.replace(
                "# HELP h",
                "# HELP c_total G.\n# TYPE c_total gauge\nc_total 1\n# HELP h",
            ),
        ),
        ("reserved label", good.replace("l=\"x\"", "__l=\"x\"")),
        ("lowercase nan", good.replace("h_sum 3", "h_sum nan")),
        ("out of range", good.replace("h_sum 3", "h_sum 1e400")),
        ("hex", good.replace("h_sum 3", "h_sum 0x3")),
        ("trailing comma", good.replace("l=\"x\"}", "l=\"x\",}")),
        (
            "interleaved series",
            "# HELP h H.\n# TYPE h histogram\nh_bucket{a=\"1\",le=\"+Inf\"} 0\n\
             h_bucket{a=\"2\",le=\"+Inf\"} 0\nh_sum{a=\"1\"} 0\nh_count{a=\"1\"} 0\n\
             h_sum{a=\"2\"} 0\nh_count{a=\"2\"} 0\n# EOF\n"
                .to_string(),
        ),
    ];
    for (what, body) in bad {
        assert!(
            exposition::parse(&body, Format::OpenMetrics).is_err(),
            "{what}: the strict parser accepted\n{body}"
        );
    }
}

#[test]
fn strict_parser_rejects_eof_in_the_text_format() {
    let body = "# HELP g G.\n# TYPE g gauge\ng 1\n# EOF\n";
    assert!(exposition::parse(body, Format::Text).is_err());
    assert!(exposition::parse("# HELP g G.\n# TYPE g info\ng_info 1\n", Format::Text).is_err());
}

// ---------------------------------------------------------------------------------------------
// Bugs (see the ignore reasons)
// ---------------------------------------------------------------------------------------------

/// Encodes `registry` in OpenMetrics, parses it, and checks the OpenMetrics value rules.
fn openmetrics_problems(registry: &mut Registry) -> Result<(), String> {
    let mut body = Vec::new();
    registry
        .encode_format(&mut body, Format::OpenMetrics)
        .map_err(|e| e.to_string())?;
    let body = String::from_utf8(body).map_err(|e| e.to_string())?;
    let families = exposition::parse(&body, Format::OpenMetrics)?;
    exposition::check_openmetrics_semantics(&families).map_err(|e| format!("{e}\n{body}"))
}

#[test]
fn openmetrics_histograms_with_negative_buckets_have_no_sum() {
    let mut registry = Registry::new();
    let metrics = registry
        .create_metrics([
            MetricConfig::new("temperature_celsius", "T.", "histogram").buckets([-10.0, 0.0, 10.0])
        ])
        .unwrap();
    metrics
        .histogram("temperature_celsius")
        .unwrap()
        .observe(5.0);
    if let Err(problem) = openmetrics_problems(&mut registry) {
        panic!("{problem}");
    }
}

#[test]
fn names_that_clash_through_created_are_refused() {
    for (kind, other) in [
        ("counter", "jobs_created"),
        ("histogram", "jobs_created"),
        ("summary", "jobs_created"),
        ("counter", "jobs_total_created"),
    ] {
        let mut registry = Registry::new();
        let created = registry.create_metrics([
            MetricConfig::new("jobs", "Jobs.", kind),
            MetricConfig::new(other, "Another.", "gauge"),
        ]);
        let Ok(metrics) = created else {
            continue; // refused: fine
        };
        metrics.gauge(other).unwrap().set(1.0);
        if let Err(problem) = openmetrics_problems(&mut registry) {
            panic!("{kind} jobs and gauge {other} were both accepted: {problem}");
        }
    }
}

#[test]
fn enums_named_with_a_reserved_prefix_are_refused() {
    let mut registry = Registry::new();
    let created = registry
        .create_metrics([MetricConfig::new("__state", "S.", "enum").states(["up", "down"])]);
    if let Err(err) = created {
        assert!(matches!(
            err,
            MetricError::InvalidStates { .. }
                | MetricError::InvalidLabelName { .. }
                | MetricError::InvalidMetricName(_)
        ));
        return;
    }
    for format in Format::ALL {
        let mut body = Vec::new();
        registry.encode_format(&mut body, format).unwrap();
        let body = String::from_utf8(body).unwrap();
        if let Err(err) = exposition::parse(&body, format) {
            panic!("{format:?}: {err}");
        }
    }
}
