//! The typed way in: constructors that return handles, families whose label count is in their
//! type, and a histogram read while other threads observe.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use prometheus_aioexporter::{
    Counter, Histogram, MetricConfig, MetricError, Registry, DEFAULT_BUCKETS,
};

fn encode(registry: &mut Registry) -> String {
    let mut out = Vec::new();
    registry.encode(&mut out).expect("encode");
    String::from_utf8(out).expect("UTF-8")
}

/// The same metrics declared both ways, updated alike, encode alike.
#[test]
fn typed_declarations_encode_as_string_ones() {
    let mut typed = Registry::new();
    typed.counter("jobs", "Jobs.").unwrap().inc();
    typed.gauge("temp", "T.").unwrap().set(-1.5);
    typed
        .histogram("lat", "L.", [0.5, 1.0])
        .unwrap()
        .observe(0.7);
    typed.summary("size", "S.").unwrap().observe(3.0);
    typed
        .info("build", "B.")
        .unwrap()
        .set([("v", "1")])
        .unwrap();
    typed
        .enumeration("state", "E.", ["up", "down"])
        .unwrap()
        .set("down")
        .unwrap();
    let requests = typed
        .counter_family("requests", "R.", ["method", "code"])
        .unwrap();
    requests.labels(&["GET", "200"]).inc_by(2.0).unwrap();
    requests.labels(&["POST", "500"]).inc();

    let mut named = Registry::new();
    let m = named
        .create_metrics([
            MetricConfig::new("jobs", "Jobs.", "counter"),
            MetricConfig::new("temp", "T.", "gauge"),
            MetricConfig::new("lat", "L.", "histogram").buckets([0.5, 1.0]),
            MetricConfig::new("size", "S.", "summary"),
            MetricConfig::new("build", "B.", "info"),
            MetricConfig::new("state", "E.", "enum").states(["up", "down"]),
            MetricConfig::new("requests", "R.", "counter").labels(["method", "code"]),
        ])
        .unwrap();
    m.counter("jobs").unwrap().inc();
    m.gauge("temp").unwrap().set(-1.5);
    m.histogram("lat").unwrap().observe(0.7);
    m.summary("size").unwrap().observe(3.0);
    m.info("build").unwrap().set([("v", "1")]).unwrap();
    m.enumeration("state").unwrap().set("down").unwrap();
    let r = m.counter_family("requests").unwrap();
    r.labels(&["POST", "500"]).unwrap().inc();
    r.labels(&["GET", "200"]).unwrap().inc_by(2.0).unwrap();

    assert_eq!(encode(&mut typed), encode(&mut named));
    // A typed metric is also found by name, as the update handler finds it.
    let by_name = typed.metrics().counter_family("requests").unwrap();
    assert_eq!(by_name.labels(&["GET", "200"]).unwrap().get(), 2.0);
}

/// Declarations that do not fit the type asked for are errors, and register nothing.
#[test]
fn register_checks_the_type_and_the_label_count() {
    let mut r = Registry::new();
    let err = r
        .register::<Counter, 0>(MetricConfig::new("g", "", "gauge"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "metric 'g' is a gauge, not a counter: expected the accessor for a gauge"
    );
    let err = r
        .register::<Counter, 2>(MetricConfig::new("c", "", "counter").labels(["a"]))
        .unwrap_err();
    assert!(matches!(err, MetricError::LabelCount { .. }), "{err}");
    assert!(r.metrics().is_empty());
    r.counter("c", "").unwrap();
    let err = r.counter_family("c", "", ["a"]).unwrap_err();
    assert_eq!(err, MetricError::DuplicateMetric("c".into()));
    let err = r.histogram("h", "", [2.0, 1.0]).unwrap_err();
    assert!(matches!(err, MetricError::InvalidBuckets { .. }), "{err}");
    assert_eq!(r.metrics().len(), 1);
}

#[test]
fn typed_families_reset_and_remove_series() {
    let mut r = Registry::new();
    let h = r
        .histogram_family("rpc_seconds", "RPC time.", ["service"], DEFAULT_BUCKETS)
        .unwrap();
    h.labels(&["auth"]).observe(0.2);
    let owned = String::from("billing");
    h.labels(&[owned]).observe(3.0);
    assert_eq!(h.len(), 2);
    assert!(h.remove(&["auth"]));
    assert!(!h.remove(&["auth"]));
    h.reset();
    assert!(h.is_empty());
    assert_eq!(encode(&mut r), "");
}

/// Which lines of a text exposition belong to the histogram `h`, as (suffix and labels, value).
fn histogram_lines(text: &str) -> Vec<(&str, f64)> {
    text.lines()
        .filter(|l| l.starts_with("h_"))
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').expect("a sample line");
            (key, value.parse().expect("a number"))
        })
        .collect()
}

/// While two threads observe, every scrape shows cumulative buckets that never decrease, a
/// `+Inf` bucket equal to `_count` and, since every observation is 1, a `_sum` equal to
/// `_count`: buckets, count and sum are read at one moment (`consistency` tests more).
#[test]
fn a_histogram_read_during_concurrent_observes_is_consistent() {
    let mut registry = Registry::new();
    let h: Histogram = registry.histogram("h", "", [0.5, 1.0, 2.0]).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let per_thread = 200_000u64;
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (h, stop) = (h.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                for _ in 0..per_thread {
                    h.observe(1.0);
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
            })
        })
        .collect();
    let mut scrapes = 0;
    while !threads.iter().all(|t| t.is_finished()) || scrapes < 10 {
        let text = encode(&mut registry);
        let lines = histogram_lines(&text);
        let value = |key: &str| {
            lines
                .iter()
                .find(|(k, _)| *k == key)
                .map(|&(_, v)| v)
                .unwrap_or_else(|| panic!("no {key} in\n{text}"))
        };
        let buckets: Vec<f64> = lines
            .iter()
            .filter(|(k, _)| k.starts_with("h_bucket"))
            .map(|&(_, v)| v)
            .collect();
        assert_eq!(buckets.len(), 4, "{text}");
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{text}");
        assert_eq!(buckets[0], 0.0, "{text}");
        assert_eq!(buckets[3], value("h_count"), "{text}");
        assert_eq!(value("h_sum"), value("h_count"), "{text}");
        scrapes += 1;
        if scrapes > 10_000 {
            stop.store(true, Ordering::Relaxed);
        }
    }
    for t in threads {
        t.join().unwrap();
    }
    let text = encode(&mut registry);
    let lines = histogram_lines(&text);
    let total = h.count() as f64;
    assert_eq!(h.sum(), total);
    assert_eq!(
        lines,
        vec![
            ("h_bucket{le=\"0.5\"}", 0.0),
            ("h_bucket{le=\"1\"}", total),
            ("h_bucket{le=\"2\"}", total),
            ("h_bucket{le=\"+Inf\"}", total),
            ("h_sum", total),
            ("h_count", total),
        ]
    );
}
