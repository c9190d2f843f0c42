//! UTF-8 metric and label names (Prometheus 3) against the reference, the official Python
//! client's writers (`generate_latest` of the text format and of OpenMetrics, 0.26): the same
//! metrics declared here and there, each body fetched over HTTP with the `Accept` header that
//! asks for a format and an escaping, line for line (values read as numbers, lines sorted: the
//! reference writes `3.0` where we write `3` and `_count` before `_sum`).
//!
//! Label names are declared in sorted order, and histogram labels sort before `le`: the
//! reference sorts a sample's label pairs by name, we keep the declared order and put `le`
//! last. The OpenMetrics bodies are compared under `allow-utf-8` and `underscores`; under
//! `dots` and `values` the reference escapes a sample's whole name (`a_dot_b__total`) where
//! we keep the suffix as OpenMetrics requires (`a_dot_b_total`), see `src/exposition/text.rs`,
//! so those two are checked by the Python client's OpenMetrics parser instead.

use prometheus_aioexporter::MetricConfig;

use crate::support::http::try_get;
use crate::support::python::normalise;
use crate::support::python::PARSE_OPENMETRICS;
use crate::support::python::{python_client, run_python};
use crate::support::test_server::TestServer;

/// The reference's registry, the same metrics as `server`; prints the body for the format and
/// escaping given as arguments.
const REFERENCE: &str = r#"
import sys
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Enum, generate_latest, disable_created_metrics
from prometheus_client.openmetrics import exposition as om
disable_created_metrics()
r = CollectorRegistry()
Gauge('my.metric', 'Gauge "quoted".', ['code', 'some.label'], registry=r).labels('200', 'x"y').set(1.5)
Counter('requests.count', 'Requests.', ['método'], registry=r).labels('GET').inc(3)
Histogram('lat.seconds', 'Latency.', ['a.b'], buckets=[0.5], registry=r).labels('a').observe(0.25)
Enum('run.state', 'State.', states=['up', 'down'], registry=r)
Gauge('legacy_name', 'Legacy.', ['nïveau'], registry=r).labels('v').set(2)
Gauge('日本語', 'Japanese.', registry=r).set(-1)
fmt, esc = sys.stdin.read().split()
if fmt == 'text':
    print(generate_latest(r, escaping=esc).decode(), end='')
else:
    print(om.generate_latest(r, escaping=esc).decode(), end='')
"#;

fn server() -> TestServer {
    TestServer::start(|e| {
        let metrics = e
            .registry_mut()
            .create_metrics([
                MetricConfig::new("my.metric", "Gauge \"quoted\".", "gauge")
                    .labels(["code", "some.label"]),
                MetricConfig::new("requests.count", "Requests.", "counter").labels(["método"]),
                MetricConfig::new("lat.seconds", "Latency.", "histogram")
                    .labels(["a.b"])
                    .buckets([0.5]),
                MetricConfig::new("run.state", "State.", "enum").states(["up", "down"]),
                MetricConfig::new("legacy_name", "Legacy.", "gauge").labels(["nïveau"]),
                MetricConfig::new("日本語", "Japanese.", "gauge"),
            ])
            .unwrap();
        let gauge = metrics.gauge_family("my.metric").unwrap();
        gauge.labels(&["200", "x\"y"]).unwrap().set(1.5);
        let requests = metrics.counter_family("requests.count").unwrap();
        requests.labels(&["GET"]).unwrap().inc_by(3.0).unwrap();
        let latency = metrics.histogram_family("lat.seconds").unwrap();
        latency.labels(&["a"]).unwrap().observe(0.25);
        let legacy = metrics.gauge_family("legacy_name").unwrap();
        legacy.labels(&["v"]).unwrap().set(2.0);
        metrics.gauge("日本語").unwrap().set(-1.0);
    })
}

#[test]
fn utf8_names_are_written_as_the_reference_writes_them() {
    if python_client("the UTF-8 names bodies").is_none() {
        return;
    }
    let server = server();
    let cases = [
        (
            "text",
            "allow-utf-8",
            "text/plain;version=1.0.0;escaping=allow-utf-8",
        ),
        (
            "text",
            "underscores",
            "text/plain;version=1.0.0;escaping=underscores",
        ),
        ("text", "dots", "text/plain;version=1.0.0;escaping=dots"),
        ("text", "values", "text/plain;version=1.0.0;escaping=values"),
        // Text 0.0.4 cannot carry UTF-8 names: underscores, whatever else the header says.
        (
            "text",
            "underscores",
            "text/plain;version=0.0.4;escaping=allow-utf-8",
        ),
        ("text", "underscores", "text/plain;version=0.0.4"),
        (
            "om",
            "allow-utf-8",
            "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8",
        ),
        (
            "om",
            "underscores",
            "application/openmetrics-text;version=1.0.0",
        ),
        ("om", "underscores", "application/openmetrics-text"),
    ];
    for (format, escaping, accept) in cases {
        let response = try_get(server.port(), "/metrics", &[("Accept", accept)]).unwrap();
        let reference = run_python(REFERENCE, format!("{format} {escaping}").into_bytes());
        assert_eq!(
            normalise(response.text()),
            normalise(&reference),
            "{accept}\nours:\n{}\nthe reference:\n{reference}",
            response.text()
        );
    }
}

#[test]
fn every_escaping_of_utf8_names_is_valid_openmetrics() {
    if python_client("the UTF-8 names OpenMetrics bodies").is_none() {
        return;
    }
    let server = server();
    let cases = [
        (
            "allow-utf-8",
            "lat.seconds histogram 4\nlegacy_name gauge 1\nmy.metric gauge 1\n\
             requests.count counter 1\nrun.state stateset 2\n日本語 gauge 1",
        ),
        (
            "underscores",
            "___ gauge 1\nlat_seconds histogram 4\nlegacy_name gauge 1\nmy_metric gauge 1\n\
             requests_count counter 1\nrun_state stateset 2",
        ),
        (
            "dots",
            "______ gauge 1\nlat_dot_seconds histogram 4\nlegacy__name gauge 1\n\
             my_dot_metric gauge 1\nrequests_dot_count counter 1\nrun_dot_state stateset 2",
        ),
        (
            "values",
            "U___65e5__672c__8a9e_ gauge 1\nU__lat_2e_seconds histogram 4\n\
             U__my_2e_metric gauge 1\nU__requests_2e_count counter 1\n\
             U__run_2e_state stateset 2\nlegacy_name gauge 1",
        ),
    ];
    for (escaping, want) in cases {
        let accept = format!("application/openmetrics-text;version=1.0.0;escaping={escaping}");
        let response = try_get(server.port(), "/metrics", &[("Accept", &accept)]).unwrap();
        let families = run_python(PARSE_OPENMETRICS, response.body.clone());
        assert_eq!(families.trim(), want, "{escaping}:\n{}", response.text());
    }
}
