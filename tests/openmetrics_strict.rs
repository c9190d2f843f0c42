//! Every OpenMetrics scrape is valid OpenMetrics, whatever the public API was asked to do: a
//! property test. Random sequences of API calls (negative, NaN and infinite values everywhere
//! a float goes: `Counter::set`, `inc_by`, `Gauge::set`, `observe` on histograms with and
//! without negative buckets and on summaries, collected families of every type; label sets added,
//! removed and cleared; info keys in UTF-8), with a scrape after every few calls; every scrape is parsed by the strict parser of
//! the official Python client (`prometheus_client.openmetrics.parser`), and by ours. Two of the
//! metrics have UTF-8 names, which `encode_format` escapes with underscores.

use std::sync::{Arc, Mutex};

use prometheus_aioexporter::{
    BoxError, CollectedFamily, CollectedValue, Collector, Counter, Format, MetricConfig, Metrics,
    Registry,
};

use crate::support::exposition::{check_openmetrics_semantics, parse, show};
use crate::support::python::{json_string, python_client, run_python};
use crate::support::Rng;

/// Parses each body (one JSON string a line) with the Python client's OpenMetrics parser and
/// prints `ok` or the error, one line per body.
const PARSE: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
for line in sys.stdin:
    body = json.loads(line)
    try:
        n = sum(len(f.samples) for f in text_string_to_metric_families(body))
        print('ok', n)
    except Exception as e:
        print('error', type(e).__name__, json.dumps(str(e)))
"#;

/// Floats that a format may refuse somewhere, and ordinary ones.
const FLOATS: [f64; 16] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    -0.0,
    0.0,
    -1.0,
    1.0,
    -1e308,
    1e308,
    5e-324,
    -5e-324,
    0.25,
    -0.25,
    2.5,
    -1000.0,
    1e-9,
];

fn any_float(rng: &mut Rng) -> f64 {
    match rng.below(4) {
        0 => f64::from_bits(rng.next()),
        _ => rng.pick(&FLOATS),
    }
}

/// Collected families whose values the sequence sets.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<(String, f64)>>>);

impl Collector for Shared {
    fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
        let values = self.0.lock().unwrap();
        let mut counter = CollectedFamily::counter("collected_events", "Events.").labels(["id"]);
        let mut gauge = CollectedFamily::gauge("collected_level", "Level.").labels(["id"]);
        let mut histogram =
            CollectedFamily::histogram("collected_seconds", "S.", [-1.0, 1.0]).labels(["id"]);
        let mut summary = CollectedFamily::summary("collected_size", "S.").labels(["id"]);
        let mut info = CollectedFamily::info("collected.build", "B.").labels(["id"]);
        let mut state =
            CollectedFamily::stateset("collected_state", "S.", ["a", "b"]).labels(["id"]);
        for (id, v) in values.iter() {
            let n = v.abs().min(1e6) as u64;
            counter.add_sample(&[id], *v)?;
            gauge.add_sample(&[id], *v)?;
            histogram.add_sample(&[id], CollectedValue::histogram([0, n, 2 * n], *v))?;
            let quantiles = [(0.5, *v), (0.9, v.abs())];
            summary.add_sample(
                &[id],
                CollectedValue::summary_with_quantiles(n, *v, quantiles),
            )?;
            info.add_sample(&[id], CollectedValue::info([("build.ü", id.as_str())]))?;
            let on = if v.is_sign_negative() { "a" } else { "b" };
            state.add_sample(&[id], CollectedValue::state(on))?;
        }
        if !values.is_empty() {
            out.extend([counter, gauge, histogram, summary, info, state]);
        }
        Ok(())
    }
}

fn declare(registry: &mut Registry) -> Metrics {
    registry
        .create_metrics([
            MetricConfig::new("jobs", "Jobs.", "counter").labels(["kind"]),
            MetricConfig::new("bytes", "Bytes.", "counter"),
            MetricConfig::new("temperature", "T.", "gauge").labels(["room"]),
            MetricConfig::new("latency_seconds", "L.", "histogram").labels(["path"]),
            MetricConfig::new("offset", "O.", "histogram").buckets([-1.0, 0.0, 1.0]),
            MetricConfig::new("size_bytes", "S.", "summary").labels(["path"]),
            MetricConfig::new("build", "B.", "info"),
            MetricConfig::new("state", "S.", "enum").states(["up", "down"]),
            // UTF-8 names, escaped with underscores (what `encode_format` writes).
            MetricConfig::new("utf8.events", "U.", "counter").labels(["kind.ü"]),
            MetricConfig::new("état", "E.", "enum").states(["up", "down"]),
        ])
        .unwrap()
}

/// Sets a counter to `v`, which it refuses when negative, NaN or `-Inf`.
#[track_caller]
fn set_counter(counter: &Counter, v: f64) {
    let before = counter.get();
    match counter.set(v) {
        Ok(()) => assert!(v >= 0.0, "set to {v} accepted"),
        Err(e) => {
            assert!(v < 0.0 || v.is_nan(), "set to {v} refused: {e}");
            assert!(e.to_string().starts_with("counter"), "{e}");
            assert_eq!(
                counter.get().to_bits(),
                before.to_bits(),
                "unchanged after {e}"
            );
        }
    }
}

/// One random API call.
fn any_call(rng: &mut Rng, metrics: &Metrics, shared: &Shared) {
    let label = rng.pick(&["a", "b", "c"]);
    let v = any_float(rng);
    match rng.below(16) {
        14 => set_counter(
            &metrics
                .counter_family("utf8.events")
                .unwrap()
                .labels(&[label])
                .unwrap(),
            v,
        ),
        15 => metrics
            .enumeration("état")
            .unwrap()
            .set(rng.pick(&["up", "down"]))
            .unwrap(),
        0 => set_counter(
            &metrics
                .counter_family("jobs")
                .unwrap()
                .labels(&[label])
                .unwrap(),
            v,
        ),
        1 => {
            // Refused when negative or NaN; the counter is then unchanged.
            let _ = metrics
                .counter_family("jobs")
                .unwrap()
                .labels(&[label])
                .unwrap()
                .inc_by(v);
        }
        2 => set_counter(&metrics.counter("bytes").unwrap(), v),
        3 => metrics.counter("bytes").unwrap().inc(),
        4 => metrics
            .gauge_family("temperature")
            .unwrap()
            .labels(&[label])
            .unwrap()
            .set(v),
        5 => metrics
            .histogram_family("latency_seconds")
            .unwrap()
            .labels(&[label])
            .unwrap()
            .observe(v),
        6 => metrics.histogram("offset").unwrap().observe(v),
        7 => metrics
            .summary_family("size_bytes")
            .unwrap()
            .labels(&[label])
            .unwrap()
            .observe(v),
        8 => metrics
            .info("build")
            .unwrap()
            .set([("version", label), ("build.ü", label)])
            .unwrap(),
        9 => metrics
            .enumeration("state")
            .unwrap()
            .set(rng.pick(&["up", "down"]))
            .unwrap(),
        10 => {
            let mut values = shared.0.lock().unwrap();
            values.retain(|(id, _)| id != label);
            values.push((label.to_string(), v));
        }
        11 => {
            let _ = metrics
                .summary_family("size_bytes")
                .unwrap()
                .remove(&[label]);
            let _ = metrics.counter_family("jobs").unwrap().remove(&[label]);
        }
        12 => {
            metrics.histogram_family("latency_seconds").unwrap().clear();
            shared.0.lock().unwrap().clear();
        }
        _ => metrics
            .gauge_family("temperature")
            .unwrap()
            .labels(&[label])
            .unwrap()
            .set(v),
    }
}

const SEQUENCES: u64 = 300;
const SCRAPES_PER_SEQUENCE: usize = 12;

#[test]
fn every_openmetrics_scrape_of_random_api_calls_parses_strictly() {
    // The bodies, with the calls that led to each.
    let mut bodies: Vec<(u64, usize, String)> = Vec::new();
    for seed in 0..SEQUENCES {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut registry = Registry::new();
        let metrics = declare(&mut registry);
        let shared = Shared::default();
        registry.register_collector(shared.clone());
        for scrape in 0..SCRAPES_PER_SEQUENCE {
            for _ in 0..1 + rng.below(6) {
                any_call(&mut rng, &metrics, &shared);
            }
            let mut body = Vec::new();
            registry
                .encode_format(&mut body, Format::OpenMetrics)
                .unwrap();
            let body = String::from_utf8(body).unwrap();
            // Ours first: it says more precisely what is wrong.
            let families = parse(&body, Format::OpenMetrics)
                .and_then(|f| check_openmetrics_semantics(&f).map(|()| f));
            if let Err(err) = families {
                panic!("seed {seed}, scrape {scrape}: {err}\n{}", show(&body));
            }
            bodies.push((seed, scrape, body));
        }
    }
    let Some(_) = python_client("the strict OpenMetrics parser") else {
        return;
    };
    let input: String = bodies
        .iter()
        .map(|(_, _, body)| json_string(body) + "\n")
        .collect();
    let output = run_python(PARSE, input.into_bytes());
    let verdicts: Vec<&str> = output.lines().collect();
    assert_eq!(verdicts.len(), bodies.len(), "one verdict per body");
    let mut samples = 0;
    for ((seed, scrape, body), verdict) in bodies.iter().zip(verdicts) {
        match verdict.strip_prefix("ok ") {
            Some(n) => samples += n.parse::<usize>().unwrap(),
            None => panic!(
                "seed {seed}, scrape {scrape}: the Python client's parser says {verdict}\n{}",
                show(body)
            ),
        }
    }
    // Not a check of the crate: the scrapes held something to check.
    assert!(samples > bodies.len() * 10, "{samples} samples in all");
}
