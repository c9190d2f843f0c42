//! Every metric type's text exposition, checked twice: by Prometheus' own `promtool check
//! metrics` (parser and linter), and by the strict parser in `tests/support/exposition.rs` that
//! also checks what promtool does not (one HELP and one TYPE per family, contiguous families,
//! cumulative histogram buckets, no duplicate series, values and label values that round-trip
//! exactly).
//!
//! promtool comes with Debian's `prometheus` package. Without it, the promtool tests print a note
//! and pass, unless the environment variable `CI` is set, in which case they fail.

use std::collections::HashSet;

use prometheus_aioexporter::Format;
use prometheus_aioexporter::{
    BoxError, CollectedFamily, Collector, MetricConfig, MetricType, Registry, DEFAULT_BUCKETS,
};

use crate::support::exposition::{self, family, Family as ParsedFamily, Fixed, Sample};
use crate::support::tools::{assert_promtool_clean, promtool_check};

// ---------------------------------------------------------------------------------------------
// Encoding, checked by promtool (`support::tools`) and the strict parser
// ---------------------------------------------------------------------------------------------

fn encode(registry: &mut Registry) -> Vec<u8> {
    let mut body = Vec::new();
    registry.encode(&mut body).expect("encode");
    body
}

/// Encodes, checks with promtool and the strict parser, and returns the parsed families.
fn encode_and_check(registry: &mut Registry) -> Vec<ParsedFamily> {
    let body = encode(registry);
    assert_promtool_clean(&body);
    let text = std::str::from_utf8(&body).expect("the body is UTF-8");
    parse_strict(text).unwrap_or_else(|err| panic!("{err}\n--- body ---\n{text}--- end ---"))
}

// ---------------------------------------------------------------------------------------------
// The strict parser (tests/support/exposition.rs), for the text format
// ---------------------------------------------------------------------------------------------

/// Parses a text-format body with the shared strict parser.
fn parse_strict(body: &str) -> Result<Vec<ParsedFamily>, String> {
    exposition::parse(body, Format::Text)
}

// ---------------------------------------------------------------------------------------------
// Registries with every metric type
// ---------------------------------------------------------------------------------------------

/// Label values that need escaping or are otherwise awkward, with names for the `case` label.
const AWKWARD_LABEL_VALUES: [&str; 11] = [
    "\"",
    "\\",
    "\n",
    "ü✓日本",
    "",
    "a\"b\\c\nd",
    "\\n",
    "\\\"",
    "a,b=c}",
    "tab\there\rreturn",
    "{le=\"+Inf\"}",
];

/// Gauge values worth spelling carefully, in separate series.
const SPECIAL_VALUES: [(&str, f64); 14] = [
    ("pos_inf", f64::INFINITY),
    ("neg_inf", f64::NEG_INFINITY),
    ("nan", f64::NAN),
    ("huge", 1e300),
    ("tiny", 1e-300),
    ("neg_zero", -0.0),
    ("zero", 0.0),
    ("min_subnormal", 5e-324),
    ("subnormal", 2.225_073_858_507_201e-308 / 3.0),
    ("max", f64::MAX),
    ("min", f64::MIN),
    ("epsilon", f64::EPSILON),
    ("third", 1.0 / 3.0),
    ("big_integer", 9_007_199_254_740_993.0),
];

fn add_counters(r: &mut Registry) {
    let m = r
        .create_metrics([
            MetricConfig::new("jobs", "Jobs done.", "counter"),
            MetricConfig::new("requests_total", "Requests served.", "counter")
                .labels(["method", "code"]),
            MetricConfig::new("untouched_events", "Never incremented.", "counter"),
        ])
        .expect("create counters");
    let jobs = m.counter("jobs").expect("jobs");
    jobs.inc();
    jobs.inc_by(2.5).expect("inc_by");
    let requests = m.counter_family("requests").expect("requests");
    requests.labels(&["GET", "200"]).expect("labels").inc();
    requests
        .labels(&["POST", "500"])
        .expect("labels")
        .inc_by(1e20)
        .expect("inc_by");
    requests
        .labels(&["GET", "404"])
        .expect("labels")
        .set(7.0)
        .expect("set");
}

fn add_gauges(r: &mut Registry) {
    let m = r
        .create_metrics([
            MetricConfig::new("special_values", "Values that are hard to spell.", "gauge")
                .labels(["case"]),
            MetricConfig::new("queue_length", "Jobs waiting.", "gauge"),
        ])
        .expect("create gauges");
    let special = m.gauge_family("special_values").expect("special_values");
    for (case, value) in SPECIAL_VALUES {
        special.labels(&[case]).expect("labels").set(value);
    }
    let queue = m.gauge("queue_length").expect("queue_length");
    queue.set(3.0);
    queue.dec();
}

fn add_histograms(r: &mut Registry) {
    let m = r
        .create_metrics([
            MetricConfig::new("latency_seconds", "Latency, default buckets.", "histogram"),
            MetricConfig::new("payload_size_bytes", "Payload sizes.", "histogram")
                .labels(["route"])
                .buckets([-1.0, 0.0, 1e-7, 1.0, 1024.0, 1e300]),
            MetricConfig::new("never_observed_seconds", "Never observed.", "histogram"),
        ])
        .expect("create histograms");
    let latency = m.histogram("latency_seconds").expect("latency_seconds");
    for v in [0.001, 0.005, 0.0051, 0.3, 0.3, 2.0, 11.0, 1e9] {
        latency.observe(v);
    }
    let sizes = m.histogram_family("payload_size_bytes").expect("sizes");
    for (route, values) in [
        ("/", &[-5.0, 0.0, 1e-8, 1.0, 1.5, 1e301][..]),
        ("/api\n\"x\"", &[512.0, 1024.0, 1025.0][..]),
        ("ü✓日本", &[][..]),
    ] {
        let series = sizes.labels(&[route]).expect("labels");
        for &v in values {
            series.observe(v);
        }
    }
}

fn add_summaries(r: &mut Registry) {
    let m = r
        .create_metrics([
            MetricConfig::new("request_duration_seconds", "Request durations.", "summary"),
            MetricConfig::new("response_size_bytes", "Response sizes.", "summary")
                .labels(["handler"]),
        ])
        .expect("create summaries");
    let durations = m.summary("request_duration_seconds").expect("summary");
    durations.observe(0.25);
    durations.observe(1.5);
    let sizes = m.summary_family("response_size_bytes").expect("sizes");
    sizes.labels(&["/metrics"]).expect("labels").observe(1e6);
    sizes.labels(&["/"]).expect("labels");
}

fn add_infos(r: &mut Registry) {
    let m = r
        .create_metrics([
            MetricConfig::new("build", "Build facts.", "info"),
            MetricConfig::new("component_info", "Component facts.", "info").labels(["component"]),
            MetricConfig::new("empty", "An info without pairs.", "info"),
        ])
        .expect("create infos");
    m.info("build")
        .expect("build")
        .set([
            ("version", "1.2.3"),
            ("commit", "abc\"def\\"),
            ("branch", "ü✓日本\n"),
        ])
        .expect("set");
    let components = m.info_family("component").expect("component");
    components
        .labels(&["db"])
        .expect("labels")
        .set([("engine", "postgres")])
        .expect("set");
    components
        .labels(&["cache"])
        .expect("labels")
        .set([("engine", ""), ("flavour", "{}")])
        .expect("set");
}

fn add_enums(r: &mut Registry) {
    let m = r
        .create_metrics([
            MetricConfig::new("service_state", "Service state.", "enum")
                .states(["starting", "running", "stopped"]),
            MetricConfig::new("disk_state", "Disk state.", "enum")
                .labels(["disk"])
                .states(["ok", "degraded \"badly\"", "ü✓"]),
        ])
        .expect("create enums");
    m.enumeration("service_state")
        .expect("service_state")
        .set("running")
        .expect("set");
    let disks = m.enumeration_family("disk_state").expect("disk_state");
    disks.labels(&["sda"]).expect("labels");
    disks
        .labels(&["sdb"])
        .expect("labels")
        .set("degraded \"badly\"")
        .expect("set");
}

fn add_awkward_labels(r: &mut Registry) {
    let m = r
        .create_metrics([MetricConfig::new(
            "awkward_labels",
            "Label values that need escaping.",
            "gauge",
        )
        .labels(["value", "index"])])
        .expect("create awkward_labels");
    let family = m.gauge_family("awkward_labels").expect("awkward_labels");
    for (i, value) in AWKWARD_LABEL_VALUES.iter().enumerate() {
        let index = i.to_string();
        family
            .labels(&[*value, index.as_str()])
            .expect("labels")
            .set(i as f64);
    }
}

/// HELP texts that need escaping.
const AWKWARD_HELP: [(&str, &str); 4] = [
    (
        "help_backslash",
        "a \\ backslash, and \\n that is not a newline",
    ),
    (
        "help_newlines",
        "first line\nsecond line\n\nafter a blank line\n",
    ),
    ("help_unicode", "ü✓日本 \"quoted\" {braces} # hash"),
    ("help_trailing_backslash", "ends with a backslash \\"),
];

fn add_awkward_help(r: &mut Registry) {
    let m = r
        .create_metrics(
            AWKWARD_HELP
                .iter()
                .map(|(name, help)| MetricConfig::new(*name, *help, "gauge")),
        )
        .expect("create help metrics");
    for (i, (name, _)) in AWKWARD_HELP.iter().enumerate() {
        m.gauge(name).expect("gauge").set(i as f64);
    }
}

/// A collector yielding a labelled counter family and a gauge family.
struct TableCollector;

impl Collector for TableCollector {
    fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
        let mut packets = CollectedFamily::new(
            "collected_packets_total",
            "Packets seen by the kernel \\ collector.\nCollected at scrape time.",
            MetricType::Counter,
        )
        .labels(["interface", "direction"]);
        packets.add_sample(&["eth0", "rx"], 1234.0)?;
        packets.add_sample(&["eth0", "tx"], 1e17)?;
        packets.add_sample(&["wlan\"0\"\n", "rx"], 0.5)?;
        out.push(packets);
        let mut temperature = CollectedFamily::new(
            "collected_temperature_celsius",
            "Temperatures.",
            MetricType::Gauge,
        )
        .labels(["sensor"]);
        temperature.add_sample(&["cpu"], 41.5)?;
        temperature.add_sample(&["ü✓日本"], -273.15)?;
        temperature.add_sample(&[""], f64::NAN)?;
        out.push(temperature);
        let mut uptime =
            CollectedFamily::new("collected_uptime_seconds", "Uptime.", MetricType::Gauge);
        uptime.add_sample(&[] as &[&str], 12.5)?;
        out.push(uptime);
        Ok(())
    }
}

fn add_collector(r: &mut Registry) {
    r.register_collector(TableCollector);
}

fn everything() -> Registry {
    let mut r = Registry::new();
    add_counters(&mut r);
    add_gauges(&mut r);
    add_histograms(&mut r);
    add_summaries(&mut r);
    add_infos(&mut r);
    add_enums(&mut r);
    add_awkward_labels(&mut r);
    add_awkward_help(&mut r);
    add_collector(&mut r);
    r
}

fn registry_with(add: fn(&mut Registry)) -> Registry {
    let mut r = Registry::new();
    add(&mut r);
    r
}

// ---------------------------------------------------------------------------------------------
// promtool, one type at a time
// ---------------------------------------------------------------------------------------------

#[test]
fn promtool_accepts_counters() {
    let families = encode_and_check(&mut registry_with(add_counters));
    let jobs = family(&families, "jobs_total");
    assert_eq!(jobs.kind, "counter");
    assert_eq!(jobs.help, "Jobs done.");
    assert_eq!(jobs.sample("jobs_total", &[]).map(|s| s.value), Some(3.5));
    let requests = family(&families, "requests_total");
    let get = requests.sample("requests_total", &[("method", "GET"), ("code", "200")]);
    assert_eq!(get.map(|s| s.value), Some(1.0));
    let post = requests.sample("requests_total", &[("method", "POST"), ("code", "500")]);
    assert_eq!(post.map(|s| s.value), Some(1e20));
    let untouched = family(&families, "untouched_events_total");
    assert_eq!(untouched.samples[0].value, 0.0);
}

#[test]
fn promtool_accepts_gauges_with_special_values() {
    let families = encode_and_check(&mut registry_with(add_gauges));
    let special = family(&families, "special_values");
    assert_eq!(special.kind, "gauge");
    assert_eq!(special.samples.len(), SPECIAL_VALUES.len());
    for (case, value) in SPECIAL_VALUES {
        let sample = special
            .sample("special_values", &[("case", case)])
            .unwrap_or_else(|| panic!("no series for {case}"));
        if value.is_nan() {
            assert!(sample.value.is_nan(), "{case}: {}", sample.value);
        } else {
            // Bit for bit: -0 keeps its sign, subnormals and f64::MAX round-trip.
            assert_eq!(
                sample.value.to_bits(),
                value.to_bits(),
                "{case}: wrote {}, read back {}",
                value,
                sample.value
            );
        }
    }
    let queue = family(&families, "queue_length");
    assert_eq!(queue.samples[0].value, 2.0);
}

#[test]
fn promtool_accepts_histograms() {
    let families = encode_and_check(&mut registry_with(add_histograms));
    let latency = family(&families, "latency_seconds");
    assert_eq!(latency.kind, "histogram");
    let bounds: Vec<&str> = latency
        .samples
        .iter()
        .filter_map(|s| s.label("le"))
        .collect();
    let mut expected: Vec<String> = DEFAULT_BUCKETS.iter().map(|b| b.to_string()).collect();
    expected.push("+Inf".into());
    assert_eq!(bounds, expected);
    let bucket = |le: &str| {
        latency
            .sample("latency_seconds_bucket", &[("le", le)])
            .map(|s| s.value)
    };
    assert_eq!(bucket("0.005"), Some(2.0), "0.005 is inclusive");
    assert_eq!(bucket("0.5"), Some(5.0));
    assert_eq!(bucket("10"), Some(6.0));
    assert_eq!(bucket("+Inf"), Some(8.0));

    let sizes = family(&families, "payload_size_bytes");
    let le: Vec<&str> = sizes
        .samples
        .iter()
        .filter(|s| s.label("route") == Some("/"))
        .filter_map(|s| s.label("le"))
        .collect();
    assert_eq!(le, ["-1", "0", "1e-07", "1", "1024", "1e+300", "+Inf"]);
    let route = "/api\n\"x\"";
    let count = sizes.sample("payload_size_bytes_count", &[("route", route)]);
    assert_eq!(count.map(|s| s.value), Some(3.0));
    let sum = sizes.sample("payload_size_bytes_sum", &[("route", route)]);
    assert_eq!(sum.map(|s| s.value), Some(2561.0));
    let empty = sizes.sample("payload_size_bytes_count", &[("route", "ü✓日本")]);
    assert_eq!(empty.map(|s| s.value), Some(0.0));
    let never = family(&families, "never_observed_seconds");
    assert!(never.samples.iter().all(|s| s.value == 0.0));
}

#[test]
fn promtool_accepts_summaries() {
    let families = encode_and_check(&mut registry_with(add_summaries));
    let durations = family(&families, "request_duration_seconds");
    assert_eq!(durations.kind, "summary");
    let sum = durations.sample("request_duration_seconds_sum", &[]);
    assert_eq!(sum.map(|s| s.value), Some(1.75));
    let count = durations.sample("request_duration_seconds_count", &[]);
    assert_eq!(count.map(|s| s.value), Some(2.0));
    let sizes = family(&families, "response_size_bytes");
    assert_eq!(sizes.samples.len(), 4, "{sizes:#?}");
}

#[test]
fn promtool_accepts_infos() {
    let families = encode_and_check(&mut registry_with(add_infos));
    let build = family(&families, "build_info");
    assert_eq!(build.kind, "gauge");
    let sample = &build.samples[0];
    assert_eq!(sample.value, 1.0);
    assert_eq!(sample.label("version"), Some("1.2.3"));
    assert_eq!(sample.label("commit"), Some("abc\"def\\"));
    assert_eq!(sample.label("branch"), Some("ü✓日本\n"));
    let components = family(&families, "component_info");
    let cache = components.sample(
        "component_info",
        &[("component", "cache"), ("engine", ""), ("flavour", "{}")],
    );
    assert_eq!(cache.map(|s| s.value), Some(1.0));
    let empty = family(&families, "empty_info");
    assert!(empty.samples[0].labels.is_empty());
}

#[test]
fn promtool_accepts_enums() {
    let families = encode_and_check(&mut registry_with(add_enums));
    let state = family(&families, "service_state");
    assert_eq!(state.kind, "gauge");
    let values: Vec<(&str, f64)> = state
        .samples
        .iter()
        .map(|s| (s.label("service_state").unwrap_or_default(), s.value))
        .collect();
    assert_eq!(
        values,
        [("starting", 0.0), ("running", 1.0), ("stopped", 0.0)]
    );
    let disks = family(&families, "disk_state");
    assert_eq!(disks.samples.len(), 6);
    let sdb = disks.sample(
        "disk_state",
        &[("disk", "sdb"), ("disk_state", "degraded \"badly\"")],
    );
    assert_eq!(sdb.map(|s| s.value), Some(1.0));
    let sda = disks.sample("disk_state", &[("disk", "sda"), ("disk_state", "ok")]);
    assert_eq!(sda.map(|s| s.value), Some(1.0));
}

#[test]
fn promtool_accepts_awkward_label_values() {
    let families = encode_and_check(&mut registry_with(add_awkward_labels));
    let awkward = family(&families, "awkward_labels");
    assert_eq!(awkward.samples.len(), AWKWARD_LABEL_VALUES.len());
    for (i, value) in AWKWARD_LABEL_VALUES.iter().enumerate() {
        let index = i.to_string();
        let sample = awkward
            .sample("awkward_labels", &[("value", value), ("index", &index)])
            .unwrap_or_else(|| panic!("label value {value:?} did not round-trip: {awkward:#?}"));
        assert_eq!(sample.value, i as f64);
    }
}

#[test]
fn promtool_accepts_awkward_help_text() {
    let families = encode_and_check(&mut registry_with(add_awkward_help));
    for (name, help) in AWKWARD_HELP {
        assert_eq!(family(&families, name).help, help, "{name}");
    }
}

#[test]
fn promtool_accepts_collected_families() {
    let families = encode_and_check(&mut registry_with(add_collector));
    let packets = family(&families, "collected_packets_total");
    assert_eq!(packets.kind, "counter");
    assert_eq!(
        packets.help,
        "Packets seen by the kernel \\ collector.\nCollected at scrape time."
    );
    let wlan = packets.sample(
        "collected_packets_total",
        &[("interface", "wlan\"0\"\n"), ("direction", "rx")],
    );
    assert_eq!(wlan.map(|s| s.value), Some(0.5));
    let temperature = family(&families, "collected_temperature_celsius");
    assert_eq!(temperature.kind, "gauge");
    assert_eq!(temperature.samples.len(), 3);
    let uptime = family(&families, "collected_uptime_seconds");
    assert_eq!(uptime.samples[0].value, 12.5);
}

#[test]
fn promtool_accepts_everything_together() {
    let mut registry = everything();
    let families = encode_and_check(&mut registry);
    let names: Vec<&str> = families.iter().map(|f| f.name.as_str()).collect();
    for expected in [
        "jobs_total",
        "requests_total",
        "special_values",
        "latency_seconds",
        "payload_size_bytes",
        "request_duration_seconds",
        "build_info",
        "service_state",
        "disk_state",
        "awkward_labels",
        "help_newlines",
        "collected_packets_total",
        "collected_temperature_celsius",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    // Registered metrics come in the registry's order (by declared name), then the collector's
    // families in the order it yields them.
    let registered: Vec<String> = registry
        .metrics()
        .iter()
        .map(|(name, metric)| match metric.metric_type() {
            MetricType::Counter => format!("{name}_total"),
            MetricType::Info => format!("{name}_info"),
            _ => name.to_string(),
        })
        .collect();
    assert_eq!(names[..names.len() - 3], registered);
    assert_eq!(
        &names[names.len() - 3..],
        [
            "collected_packets_total",
            "collected_temperature_celsius",
            "collected_uptime_seconds"
        ]
    );
    // A second scrape of the same registry is identical.
    let first = encode(&mut registry);
    assert_eq!(first, encode(&mut registry));
}

#[test]
fn promtool_rejects_a_broken_line() {
    let Some(clean) = promtool_check(&encode(&mut everything())) else {
        return;
    };
    assert_eq!(clean, Ok(()), "the unbroken body must pass first");
    let mut body = encode(&mut everything());
    body.extend_from_slice(b"bad line\n");
    let result = promtool_check(&body).expect("promtool is installed");
    let problem = result.expect_err("promtool must reject \"bad line\"");
    assert!(problem.contains("line"), "{problem}");
}

// ---------------------------------------------------------------------------------------------
// Structure, without promtool
// ---------------------------------------------------------------------------------------------

#[test]
fn structure_of_everything_is_strictly_valid() {
    let body = encode(&mut everything());
    let text = String::from_utf8(body).expect("UTF-8");
    let families =
        parse_strict(&text).unwrap_or_else(|err| panic!("{err}\n--- body ---\n{text}--- end ---"));
    // Exactly one HELP and one TYPE line per family, and as many families as HELP lines.
    let helps = text.lines().filter(|l| l.starts_with("# HELP ")).count();
    let types = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
    assert_eq!((helps, types), (families.len(), families.len()));
    // Every sample line was attributed to a family.
    let samples = text.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(
        samples,
        families.iter().map(|f| f.samples.len()).sum::<usize>()
    );
    // Histogram series: one per label set, each checked by parse_strict.
    let sizes = family(&families, "payload_size_bytes");
    let series: HashSet<_> = sizes.samples.iter().map(Sample::series_key).collect();
    assert_eq!(series.len(), 3);
}

#[test]
fn openmetrics_structure_of_everything_is_strictly_valid() {
    let mut registry = everything();
    let text = String::from_utf8(encode(&mut registry)).expect("UTF-8");
    let mut body = Vec::new();
    registry
        .encode_format(&mut body, Format::OpenMetrics)
        .expect("encode");
    let om = String::from_utf8(body).expect("UTF-8");
    let families = exposition::parse(&om, Format::OpenMetrics)
        .unwrap_or_else(|err| panic!("{err}\n--- body ---\n{om}--- end ---"));
    let text_families = parse_strict(&text).expect("the text body parses");
    // The same families and samples as the text format, named and typed the OpenMetrics way.
    assert_eq!(families.len(), text_families.len());
    for (f, t) in families.iter().zip(&text_families) {
        if f.name == "payload_size_bytes" {
            // A negative bucket: OpenMetrics drops `_sum` and `_count` from each of the three
            // series; the text format keeps them.
            assert_eq!(f.samples.len() + 6, t.samples.len(), "{}", f.name);
            assert!(f.samples.iter().all(|s| s.name.ends_with("_bucket")));
        } else {
            assert_eq!(f.samples.len(), t.samples.len(), "{}", f.name);
        }
        assert_eq!(f.help, t.help, "{}", f.name);
    }
    assert_eq!(family(&families, "jobs").kind, "counter");
    assert_eq!(family(&families, "build").kind, "info");
    assert_eq!(family(&families, "service_state").kind, "stateset");
    let bounds: Vec<&str> = family(&families, "payload_size_bytes")
        .samples
        .iter()
        .filter(|s| s.label("route") == Some("/"))
        .filter_map(|s| s.label("le"))
        .collect();
    assert_eq!(
        bounds,
        ["-1.0", "0.0", "1e-07", "1.0", "1024.0", "1e+300", "+Inf"]
    );
}

#[test]
fn strict_parser_rejects_malformed_bodies() {
    let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{l=\"x\"} 1\n\
                # HELP h H.\n# TYPE h histogram\n\
                h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n";
    if let Err(err) = parse_strict(good) {
        panic!("the good body must parse: {err}");
    }
    let bad = [
        ("no final newline", good.trim_end().to_string()),
        ("broken line", format!("{good}bad line\n")),
        (
            "duplicate series",
            good.replace(
                "a_total{l=\"x\"} 1\n",
                "a_total{l=\"x\"} 1\na_total{l=\"x\"} 2\n",
            ),
        ),
        (
            "second HELP",
            format!("{good}# HELP a_total A.\n# TYPE a_total counter\na_total 1\n"),
        ),
        (
            "sample outside its family",
            format!("{good}a_total{{l=\"y\"}} 1\n"),
        ),
        ("missing TYPE", good.replace("# TYPE a_total counter\n", "")),
        (
            "TYPE before HELP",
            good.replace(
                "# HELP a_total A.\n# TYPE a_total counter\n",
                "# TYPE a_total counter\n# HELP a_total A.\n",
            ),
        ),
        (
            "not cumulative",
            good.replace("h_bucket{le=\"+Inf\"} 2", "h_bucket{le=\"+Inf\"} 0")
                .replace("h_count 2", "h_count 0"),
        ),
        (
            "+Inf differs from _count",
            good.replace("h_count 2", "h_count 3"),
        ),
        (
            "no +Inf bucket",
            good.replace("h_bucket{le=\"+Inf\"} 2\n", ""),
        ),
        ("bad escape", good.replace("l=\"x\"", "l=\"\\t\"")),
        ("unterminated value", good.replace("l=\"x\"", "l=\"x")),
        ("lowercase inf", good.replace("h_sum 3", "h_sum inf")),
        ("timestamp", good.replace("h_sum 3", "h_sum 3 1700000000")),
        ("repeated label", good.replace("l=\"x\"", "l=\"x\",l=\"y\"")),
        (
            "empty family",
            format!("# HELP e E.\n# TYPE e gauge\n{good}"),
        ),
        ("blank line", format!("{good}\n")),
    ];
    for (what, body) in bad {
        assert!(
            parse_strict(&body).is_err(),
            "{what}: the strict parser accepted\n{body}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Names that collide on the wire
// ---------------------------------------------------------------------------------------------

/// Either the registry refuses the declarations, or what it encodes is a valid exposition.
fn assert_refused_or_valid(configs: Vec<MetricConfig>) {
    let mut registry = Registry::new();
    let described = format!("{configs:?}");
    if registry.create_metrics(configs).is_err() {
        return;
    }
    let body = encode(&mut registry);
    let text = String::from_utf8_lossy(&body);
    if let Err(err) = parse_strict(&text) {
        panic!("create_metrics accepted {described}\nbut the exposition is invalid: {err}\n{text}");
    }
    assert_promtool_clean(&body);
}

#[test]
fn metrics_whose_exposed_names_collide_are_refused() {
    assert_refused_or_valid(vec![
        MetricConfig::new(
            "requests",
            "A counter, exposed as requests_total.",
            "counter",
        ),
        MetricConfig::new("requests_total", "A gauge of the same name.", "gauge"),
    ]);
    assert_refused_or_valid(vec![
        MetricConfig::new("build", "An info, exposed as build_info.", "info"),
        MetricConfig::new("build_info", "A gauge of the same name.", "gauge"),
    ]);
}

fn uptime_family() -> CollectedFamily {
    let mut family = CollectedFamily::new("uptime_seconds", "Uptime.", MetricType::Gauge);
    family.add_sample(&[] as &[&str], 1.0).expect("sample");
    family
}

/// A scrape either fails or yields a valid exposition.
fn assert_scrape_fails_or_valid(registry: &mut Registry) {
    let mut body = Vec::new();
    if registry.encode(&mut body).is_err() {
        return;
    }
    let text = String::from_utf8_lossy(&body);
    if let Err(err) = parse_strict(&text) {
        panic!("the scrape succeeded with an invalid exposition: {err}\n{text}");
    }
    assert_promtool_clean(&body);
}

#[test]
fn collected_families_that_collide_fail_the_scrape() {
    // Twice from one collector.
    let mut registry = Registry::new();
    registry.register_collector(Fixed(vec![uptime_family(), uptime_family()]));
    assert_scrape_fails_or_valid(&mut registry);
    // Once from each of two collectors.
    let mut registry = Registry::new();
    registry.register_collector(Fixed(vec![uptime_family()]));
    registry.register_collector(Fixed(vec![uptime_family()]));
    assert_scrape_fails_or_valid(&mut registry);
    // A collected counter `jobs` (exposed as jobs_total) against a registered gauge `jobs_total`.
    let mut registry = Registry::new();
    let metrics = registry
        .create_metrics([MetricConfig::new("jobs_total", "A gauge.", "gauge")])
        .expect("create");
    metrics.gauge("jobs_total").expect("gauge").set(1.0);
    let mut jobs = CollectedFamily::new("jobs", "A counter.", MetricType::Counter);
    jobs.add_sample(&[] as &[&str], 1.0).expect("sample");
    registry.register_collector(Fixed(vec![jobs]));
    assert_scrape_fails_or_valid(&mut registry);
}
