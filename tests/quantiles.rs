//! Summary quantiles on the wire: the `name{quantile="…"}` lines in both formats, checked by
//! promtool, by our strict parser and by the Python client's strict OpenMetrics parser, with
//! NaN for a summary without observations; and the declarations the quantile options refuse.
//! (Their accuracy against exact quantiles, and the sliding window, are unit tests in
//! `src/registry/quantile.rs`, where time is driven by hand.)

use std::time::Duration;

use prometheus_aioexporter::{Format, MetricConfig, Registry, Summary};

use crate::support::exposition::{check_openmetrics_semantics, family, parse, show};
use crate::support::python::{json_string, python_client, run_python};
use crate::support::tools::assert_promtool_clean;
use crate::support::Rng;

const OBJECTIVES: [(f64, f64); 3] = [(0.5, 0.05), (0.9, 0.01), (0.99, 0.001)];

fn body(registry: &mut Registry, format: Format) -> String {
    let mut out = Vec::new();
    registry.encode_format(&mut out, format).expect("encode");
    String::from_utf8(out).expect("UTF-8")
}

/// A summary with quantiles and observations 1..=100, a labelled family with one series
/// never observed, and a summary without quantiles beside them.
fn registry() -> (Registry, Summary) {
    let mut registry = Registry::new();
    let rpc = registry
        .summary_with_quantiles("rpc_seconds", "RPC time.", OBJECTIVES)
        .expect("declare");
    for i in 1..=100 {
        rpc.observe(f64::from(i));
    }
    let sizes = registry
        .register::<Summary, 1>(
            MetricConfig::new("reply_bytes", "Reply sizes.", "summary")
                .labels(["route"])
                .quantiles([(0.25, 0.01), (0.75, 0.01)])
                .max_age(Duration::from_secs(60))
                .age_buckets(2),
        )
        .expect("declare");
    sizes.labels(&["/"]);
    let plain = registry.summary("plain_seconds", "No quantiles.").unwrap();
    plain.observe(2.0);
    (registry, rpc)
}

#[test]
fn quantile_lines_in_the_text_format() {
    let (mut registry, _) = registry();
    let text = body(&mut registry, Format::Text);
    // The median of 1..=100 may be reported anywhere within 5 ranks of 50 (its error, 0.05);
    // the algorithm is deterministic, so the figure is too. 0.9 and 0.99 are within 1 and 0.1
    // ranks: exact.
    assert_eq!(
        text,
        "# HELP plain_seconds No quantiles.\n# TYPE plain_seconds summary\n\
         plain_seconds_sum 2\nplain_seconds_count 1\n\
         # HELP reply_bytes Reply sizes.\n# TYPE reply_bytes summary\n\
         reply_bytes{route=\"/\",quantile=\"0.25\"} NaN\n\
         reply_bytes{route=\"/\",quantile=\"0.75\"} NaN\n\
         reply_bytes_sum{route=\"/\"} 0\nreply_bytes_count{route=\"/\"} 0\n\
         # HELP rpc_seconds RPC time.\n# TYPE rpc_seconds summary\n\
         rpc_seconds{quantile=\"0.5\"} 47\nrpc_seconds{quantile=\"0.9\"} 90\n\
         rpc_seconds{quantile=\"0.99\"} 99\nrpc_seconds_sum 5050\nrpc_seconds_count 100\n"
    );
    assert_promtool_clean(text.as_bytes());
    let families = parse(&text, Format::Text).unwrap_or_else(|e| panic!("{e}\n{}", show(&text)));
    let rpc = family(&families, "rpc_seconds");
    assert_eq!(rpc.samples.len(), 5);
}

#[test]
fn quantile_lines_in_openmetrics_are_canonical_and_strictly_valid() {
    let (mut registry, rpc) = registry();
    // Negative, infinite and NaN observations too: none may make the body invalid.
    for v in [-5.0, f64::NEG_INFINITY, f64::NAN, f64::INFINITY, -0.0] {
        rpc.observe(v);
    }
    let om = body(&mut registry, Format::OpenMetrics);
    assert!(
        om.contains("reply_bytes{route=\"/\",quantile=\"0.25\"} NaN\n"),
        "{om}"
    );
    assert!(om.contains("rpc_seconds{quantile=\"0.99\"} "), "{om}");
    let families = parse(&om, Format::OpenMetrics)
        .and_then(|f| check_openmetrics_semantics(&f).map(|()| f))
        .unwrap_or_else(|e| panic!("{e}\n{}", show(&om)));
    assert_eq!(family(&families, "reply_bytes").samples.len(), 4);
    python_strict(&[om]);
}

/// Random observations (any float) on summaries with quantiles, a scrape after each few: every
/// OpenMetrics body passes the Python client's strict parser, every text body promtool.
#[test]
fn random_observations_always_scrape_valid() {
    let mut bodies = Vec::new();
    for seed in 0..40u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut registry = Registry::new();
        let family = registry
            .summary_family_with_quantiles("work_seconds", "Work.", ["kind"], OBJECTIVES)
            .unwrap();
        for scrape in 0..6 {
            for _ in 0..rng.below(700) {
                let v = match rng.below(5) {
                    0 => f64::from_bits(rng.next()),
                    1 => -(rng.below(1000) as f64),
                    _ => rng.below(1_000_000) as f64 / 1000.0,
                };
                family.labels(&[rng.pick(&["a", "b"])]).observe(v);
            }
            if scrape == 3 {
                family.labels(&["a"]).reset();
            }
            let om = body(&mut registry, Format::OpenMetrics);
            if let Err(e) =
                parse(&om, Format::OpenMetrics).and_then(|f| check_openmetrics_semantics(&f))
            {
                panic!("seed {seed}: {e}\n{}", show(&om));
            }
            bodies.push(om);
        }
        assert_promtool_clean(body(&mut registry, Format::Text).as_bytes());
    }
    python_strict(&bodies);
}

/// Each body through the Python client's OpenMetrics parser; panics with the first it refuses.
fn python_strict(bodies: &[String]) {
    const PARSE: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
for line in sys.stdin:
    try:
        list(text_string_to_metric_families(json.loads(line)))
        print('ok')
    except Exception as e:
        print('error', type(e).__name__, json.dumps(str(e)))
"#;
    let Some(_) = python_client("the strict OpenMetrics parser") else {
        return;
    };
    let input: String = bodies.iter().map(|b| json_string(b) + "\n").collect();
    let output = run_python(PARSE, input.into_bytes());
    assert_eq!(output.lines().count(), bodies.len());
    for (verdict, body) in output.lines().zip(bodies) {
        assert_eq!(verdict, "ok", "{}", show(body));
    }
}

#[test]
fn quantile_options_are_checked_at_declaration() {
    let summary = || MetricConfig::new("s", "S.", "summary");
    let cases: Vec<(MetricConfig, &str)> = vec![
        (
            summary().quantiles([(0.0, 0.01)]),
            "invalid quantiles for summary 's': a quantile must be above 0 and below 1",
        ),
        (
            summary().quantiles([(1.0, 0.01)]),
            "invalid quantiles for summary 's': a quantile must be above 0 and below 1",
        ),
        (
            summary().quantiles([(f64::NAN, 0.01)]),
            "invalid quantiles for summary 's': a quantile must be above 0 and below 1",
        ),
        (
            summary().quantiles([(0.5, 0.0)]),
            "invalid quantiles for summary 's': an error must be above 0 and below 1",
        ),
        (
            summary().quantiles([(0.5, 1.0)]),
            "invalid quantiles for summary 's': an error must be above 0 and below 1",
        ),
        (
            summary().quantiles([(0.5, 0.1), (0.5, 0.01)]),
            "invalid quantiles for summary 's': a quantile must be given once",
        ),
        (
            summary().quantiles([(0.5, 0.1)]).max_age(Duration::ZERO),
            "invalid quantiles for summary 's': the max age must be above zero",
        ),
        (
            summary().quantiles([(0.5, 0.1)]).age_buckets(0),
            "invalid quantiles for summary 's': the age buckets must be at least 1 (and fit in 32 bits)",
        ),
        (
            summary().max_age(Duration::from_secs(60)),
            "option 'max_age' does not apply to summary 's': expected on a summary with quantiles only",
        ),
        (
            summary().age_buckets(3),
            "option 'age_buckets' does not apply to summary 's': expected on a summary with quantiles only",
        ),
        (
            MetricConfig::new("h", "H.", "histogram").quantiles([(0.5, 0.1)]),
            "option 'quantiles' does not apply to histogram 'h': expected on a summary only",
        ),
    ];
    for (config, want) in cases {
        let err = Registry::new().create_metrics([config]).unwrap_err();
        assert_eq!(err.to_string(), want);
    }
    // An empty list is allowed: a summary with the window and no quantile line.
    let mut registry = Registry::new();
    registry
        .create_metrics([summary().quantiles([])])
        .expect("no quantiles");
}
