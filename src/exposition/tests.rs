//! Tests of the registry through its exposition: declarations, accessors and collectors, and
//! the text and OpenMetrics bodies they give.

use crate::exposition::Format;
use crate::registry::*;

fn encode(registry: &mut Registry) -> String {
    let mut out = Vec::new();
    registry.encode(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn every_type_encodes_as_the_text_format_expects() {
    let mut r = Registry::new();
    let m = r
        .create_metrics([
            MetricConfig::new("c", "counter help", "counter").labels(["l"]),
            MetricConfig::new("g", "gauge\nhelp \\", "gauge"),
            MetricConfig::new("h", "histogram help", "histogram").buckets([0.5, 1.0]),
            MetricConfig::new("s", "summary help", "summary"),
            MetricConfig::new("i", "info help", "info"),
            MetricConfig::new("e", "enum help", "enum").states(["on", "off"]),
        ])
        .unwrap();
    m.counter_family("c")
        .unwrap()
        .labels(&["a\"\\\nb"])
        .unwrap()
        .inc();
    m.gauge("g").unwrap().set(-2.5);
    let h = m.histogram("h").unwrap();
    h.observe(0.25);
    h.observe(0.75);
    h.observe(7.0);
    m.summary("s").unwrap().observe(3.0);
    m.info("i").unwrap().set([("version", "1.0")]).unwrap();
    m.enumeration("e").unwrap().set("off").unwrap();
    assert_eq!(
        encode(&mut r),
        "# HELP c_total counter help\n\
         # TYPE c_total counter\n\
         c_total{l=\"a\\\"\\\\\\nb\"} 1\n\
         # HELP e enum help\n\
         # TYPE e gauge\n\
         e{e=\"on\"} 0\n\
         e{e=\"off\"} 1\n\
         # HELP g gauge\\nhelp \\\\\n\
         # TYPE g gauge\n\
         g -2.5\n\
         # HELP h histogram help\n\
         # TYPE h histogram\n\
         h_bucket{le=\"0.5\"} 1\n\
         h_bucket{le=\"1\"} 2\n\
         h_bucket{le=\"+Inf\"} 3\n\
         h_sum 8\n\
         h_count 3\n\
         # HELP i_info info help\n\
         # TYPE i_info gauge\n\
         i_info{version=\"1.0\"} 1\n\
         # HELP s summary help\n\
         # TYPE s summary\n\
         s_sum 3\n\
         s_count 1\n"
    );
}

#[test]
fn metrics_answer_to_the_name_they_were_declared_with() {
    let mut r = Registry::new();
    let configs = [
        MetricConfig::new("requests_total", "R.", "counter").labels(["code"]),
        MetricConfig::new("build_info", "B.", "info"),
        MetricConfig::new("errors", "E.", "counter"),
        MetricConfig::new("temp", "T.", "gauge"),
    ];
    let m = r.create_metrics(configs.clone()).unwrap();
    for config in &configs {
        assert!(m.get(config.name()).is_some(), "{}", config.name());
    }
    m.counter_family("requests_total").unwrap();
    m.counter_family("requests").unwrap();
    m.info("build_info").unwrap();
    m.info("build").unwrap();
    m.counter("errors_total").unwrap();
    // Only a counter answers to `_total`, and only an info to `_info`.
    assert!(m.get("temp_total").is_none());
    assert!(m.get("errors_info").is_none());
    assert!(m.get("temp_info").is_none());
}

#[test]
fn every_type_encodes_as_openmetrics_expects() {
    let mut r = Registry::new();
    let m = r
        .create_metrics([
            MetricConfig::new("c", "counter \"help\"", "counter").labels(["l"]),
            MetricConfig::new("h", "histogram help", "histogram").buckets([0.5, 1.0]),
            MetricConfig::new("s", "summary help", "summary"),
            MetricConfig::new("i", "info help", "info"),
            MetricConfig::new("e", "enum help", "enum").states(["on", "off"]),
        ])
        .unwrap();
    m.counter_family("c").unwrap().labels(&["x"]).unwrap().inc();
    m.histogram("h").unwrap().observe(0.75);
    m.summary("s").unwrap().observe(3.0);
    m.info("i").unwrap().set([("version", "1.0")]).unwrap();
    let mut f = CollectedFamily::counter("k_total", "collected");
    f.add_sample(&[] as &[&str], 2.0).unwrap();
    r.register_collector(Fixed(vec![f]));
    let mut out = Vec::new();
    r.encode_format(&mut out, Format::OpenMetrics).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "# HELP c counter \\\"help\\\"\n\
         # TYPE c counter\n\
         c_total{l=\"x\"} 1\n\
         # HELP e enum help\n\
         # TYPE e stateset\n\
         e{e=\"on\"} 1\n\
         e{e=\"off\"} 0\n\
         # HELP h histogram help\n\
         # TYPE h histogram\n\
         h_bucket{le=\"0.5\"} 0\n\
         h_bucket{le=\"1.0\"} 1\n\
         h_bucket{le=\"+Inf\"} 1\n\
         h_sum 0.75\n\
         h_count 1\n\
         # HELP i info help\n\
         # TYPE i info\n\
         i_info{version=\"1.0\"} 1\n\
         # HELP s summary help\n\
         # TYPE s summary\n\
         s_sum 3\n\
         s_count 1\n\
         # HELP k collected\n\
         # TYPE k counter\n\
         k_total 2\n\
         # EOF\n"
    );
}

/// The helpers compute bounds as client_golang does, so `le` reads as a Go exporter's, and
/// parameters that give no increasing bounds are refused at declaration.
#[test]
fn bucket_helpers_give_go_s_bounds_or_a_declaration_error() {
    let mut r = Registry::new();
    r.create_metrics([
        MetricConfig::new("lin", "", "histogram").buckets(linear_buckets(0.1, 0.1, 3)),
        MetricConfig::new("exp", "", "histogram").buckets(exponential_buckets(100.0, 1.5, 4)),
    ])
    .unwrap();
    let text = encode(&mut r);
    for le in [
        "0.1",
        "0.2",
        "0.30000000000000004",
        "100",
        "150",
        "225",
        "337.5",
        "+Inf",
    ] {
        assert!(
            text.contains(&format!("_bucket{{le=\"{le}\"}} 0\n")),
            "{le}\n{text}"
        );
    }
    let refused = [
        exponential_buckets(1.0, 0.5, 3).collect::<Vec<_>>(),
        exponential_buckets(0.0, 2.0, 3).collect(),
        exponential_buckets(-1.0, 2.0, 2).collect(),
        linear_buckets(1.0, 0.0, 2).collect(),
        linear_buckets(1.0, 1.0, 0).collect(),
    ];
    for bounds in refused {
        let config = MetricConfig::new("h", "", "histogram").buckets(bounds.clone());
        let err = Registry::new().create_metrics([config]).unwrap_err();
        assert!(
            matches!(err, MetricError::InvalidBuckets { .. }),
            "{bounds:?}: {err}"
        );
    }
}

#[test]
fn labelled_histograms_put_le_last_and_empty_families_are_omitted() {
    let mut r = Registry::new();
    let m = r
        .create_metrics([
            MetricConfig::new("h", "", "histogram")
                .labels(["a"])
                .buckets([1.0]),
            MetricConfig::new("unused", "", "gauge").labels(["a"]),
        ])
        .unwrap();
    m.histogram_family("h")
        .unwrap()
        .labels(&["x"])
        .unwrap()
        .observe(1.0);
    assert_eq!(
        encode(&mut r),
        "# HELP h \n# TYPE h histogram\n\
         h_bucket{a=\"x\",le=\"1\"} 1\n\
         h_bucket{a=\"x\",le=\"+Inf\"} 1\n\
         h_sum{a=\"x\"} 1\n\
         h_count{a=\"x\"} 1\n"
    );
}

#[test]
fn create_metrics_is_all_or_nothing() {
    let mut r = Registry::new();
    r.create_metrics([MetricConfig::new("a", "", "gauge")])
        .unwrap();
    let err = r
        .create_metrics([
            MetricConfig::new("b", "", "gauge"),
            MetricConfig::new("a", "", "counter"),
        ])
        .unwrap_err();
    assert_eq!(err, MetricError::DuplicateMetric("a".into()));
    assert!(r.metrics().get("b").is_none());
    let err = r
        .create_metrics([
            MetricConfig::new("b", "", "gauge"),
            MetricConfig::new("b", "", "gauge"),
        ])
        .unwrap_err();
    assert_eq!(err, MetricError::DuplicateMetric("b".into()));
    let err = r
        .create_metrics([
            MetricConfig::new("h", "", "histogram"),
            MetricConfig::new("h_count", "", "gauge"),
        ])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "metric 'h_count' would expose 'h_count', which metric 'h' exposes already: expected a name whose series no other metric exposes"
    );
}

#[test]
fn accessors_refuse_wrong_types_and_names() {
    let mut r = Registry::new();
    let m = r
        .create_metrics([
            MetricConfig::new("g", "", "gauge"),
            MetricConfig::new("l", "", "gauge").labels(["x"]),
        ])
        .unwrap();
    assert_eq!(
        m.counter("g").unwrap_err().to_string(),
        "metric 'g' is a gauge, not a counter: expected the accessor for a gauge"
    );
    assert_eq!(
        m.gauge("nope").unwrap_err().to_string(),
        "no metric named 'nope': expected the name of a declared metric"
    );
    assert_eq!(
        m.gauge("l").unwrap_err().to_string(),
        "metric 'l' has labels [x]: use its family and labels(...)"
    );
    assert!(m.gauge_family("g").unwrap().labels::<&str>(&[]).is_ok());
}

struct Fixed(Vec<CollectedFamily>);
impl Collector for Fixed {
    fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
        out.extend(self.0.iter().cloned());
        Ok(())
    }
}

#[test]
fn collectors_are_encoded_after_registered_metrics() {
    let mut r = Registry::new();
    r.create_metrics([MetricConfig::new("z", "", "gauge")])
        .unwrap();
    let mut f = CollectedFamily::new("a_total", "a help", MetricType::Counter).labels(["k"]);
    f.add_sample(&["v2"], 2.0).unwrap();
    f.add_sample(&["v1"], 1.0).unwrap();
    assert!(f.add_sample(&["x", "y"], 1.0).is_err());
    r.register_collector(Fixed(vec![f]));
    assert_eq!(
        encode(&mut r),
        "# HELP z \n# TYPE z gauge\nz 0\n\
         # HELP a_total a help\n# TYPE a_total counter\n\
         a_total{k=\"v1\"} 1\na_total{k=\"v2\"} 2\n"
    );
}

#[test]
fn invalid_collected_data_fails_the_whole_scrape() {
    for bad in [
        CollectedFamily::new("", "", MetricType::Gauge),
        CollectedFamily::new("g", "", MetricType::Gauge).labels(["a.b", "a_b"]),
        CollectedFamily::histogram("h", "", [1.0]).sample(CollectedValue::histogram([1], 1.0)),
        CollectedFamily::histogram("h", "", [1.0]).sample(CollectedValue::histogram([2, 1], 1.0)),
        CollectedFamily::gauge("g", "").sample(CollectedValue::summary(1, 1.0)),
        // A quantile given twice (0 and -0 are one) would be a series written twice.
        CollectedFamily::summary("s", "").sample(CollectedValue::summary_with_quantiles(
            4,
            1.0,
            [(0.5, 0.1), (0.5, 0.2)],
        )),
        CollectedFamily::summary("s", "").sample(CollectedValue::summary_with_quantiles(
            4,
            1.0,
            [(0.0, 0.1), (-0.0, 0.2)],
        )),
        CollectedFamily::stateset("e", "", ["a"]).sample(CollectedValue::state("b")),
        CollectedFamily::new("e", "", MetricType::Enum),
        CollectedFamily::gauge("g", "").labels(["k"]).sample(1.0),
        CollectedFamily::new("g", "", MetricType::Gauge).labels(["__x"]),
        CollectedFamily::new("z", "", MetricType::Gauge),
        {
            let mut f = CollectedFamily::new("d", "", MetricType::Gauge).labels(["k"]);
            f.add_sample(&["v"], 1.0).unwrap();
            f.add_sample(&["v"], 2.0).unwrap();
            f
        },
    ] {
        let mut r = Registry::new();
        r.create_metrics([MetricConfig::new("z", "", "gauge")])
            .unwrap();
        r.register_collector(Fixed(vec![bad.clone()]));
        let mut out = b"previous".to_vec();
        let err = r.encode(&mut out).unwrap_err();
        assert_eq!(out, b"previous", "{bad:?}");
        assert!(
            err.to_string().starts_with("collector #1 failed: "),
            "{err}"
        );
    }
}
