//! Collected families of every type (counter, gauge, histogram, summary with and without
//! quantiles, info, stateset), labelled and unlabelled, with UTF-8 names and info keys, written
//! as the reference writes the same families: the official Python client's custom collectors
//! (`generate_latest` of the text format and of OpenMetrics, 0.26), line for line (values read
//! as numbers, lines sorted), for each format and escaping a scraper may ask for; and read by
//! the Python client's strict OpenMetrics parser and by promtool.
//!
//! The reference sorts a sample's label pairs by name; ours keep the given order, so the info
//! pairs here are given sorted.

use prometheus_aioexporter::{BoxError, CollectedFamily, CollectedValue, Collector};

use crate::support::http::try_get;
use crate::support::python::{normalise, python_client, run_python, PARSE_OPENMETRICS};
use crate::support::test_server::TestServer;
use crate::support::tools::assert_promtool_clean;

/// The same families as `Families`, from a Python custom collector, and a registered info
/// with a UTF-8 key; prints the body for the format and escaping given on stdin.
const REFERENCE: &str = r#"
import sys
from prometheus_client import CollectorRegistry, Info, generate_latest, disable_created_metrics
from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily,
    SummaryMetricFamily, InfoMetricFamily, StateSetMetricFamily, Metric)
from prometheus_client.openmetrics import exposition as om
disable_created_metrics()
class Families:
    def collect(self):
        yield GaugeMetricFamily('uptime_seconds', 'Uptime.', value=12.5)
        c = CounterMetricFamily('queries', 'Queries.', labels=['db'])
        c.add_metric(['users'], 42)
        c.add_metric(['orders'], 7.5)
        yield c
        h = HistogramMetricFamily('query_seconds', 'Time.', labels=['db'])
        h.add_metric(['users'], buckets=[('0.25', 3), ('2.5', 7), ('+Inf', 8)], sum_value=4.5)
        yield h
        yield HistogramMetricFamily('wait_seconds', 'Wait.',
            buckets=[('0.25', 1), ('2.5', 1), ('+Inf', 2)], sum_value=3.25)
        yield SummaryMetricFamily('size_bytes', 'Size.', count_value=4, sum_value=1024)
        s = SummaryMetricFamily('rows', 'Rows.', labels=['db'])
        s.add_metric(['users'], count_value=2, sum_value=30)
        yield s
        q = Metric('latency_seconds', 'Latency.', 'summary')
        q.add_sample('latency_seconds', {'quantile': '0.5'}, 0.25)
        q.add_sample('latency_seconds', {'quantile': '0.99'}, 1.5)
        q.add_sample('latency_seconds_sum', {}, 10)
        q.add_sample('latency_seconds_count', {}, 20)
        yield q
        yield InfoMetricFamily('build', 'Build.', value={'version': '1.2', 'commit': 'abc'})
        i = InfoMetricFamily('db.driver', 'Driver.', labels=['db'])
        i.add_metric(['users'], {'driver.version': '3.1'})
        yield i
        yield StateSetMetricFamily('mode', 'Mode.', value={'primary': False, 'replica': True})
        e = StateSetMetricFamily('health', 'Health.', labels=['db'])
        e.add_metric(['users'], {'ok': True, 'degraded': False})
        yield e
        g = GaugeMetricFamily('queue.depth', 'Depth.', labels=['queue.name'])
        g.add_metric(['in'], 3)
        yield g
r = CollectorRegistry()
r.register(Families())
Info('app', 'App.', registry=r).info({'build.version': '1.2', 'os': 'linux'})
fmt, esc = sys.stdin.read().split()
if fmt == 'text':
    print(generate_latest(r, escaping=esc).decode(), end='')
else:
    print(om.generate_latest(r, escaping=esc).decode(), end='')
"#;

/// Every type, as `REFERENCE`'s `Families`.
struct Families;

impl Collector for Families {
    fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
        out.push(CollectedFamily::gauge("uptime_seconds", "Uptime.").sample(12.5));
        let mut queries = CollectedFamily::counter("queries", "Queries.").labels(["db"]);
        queries.add_sample(&["users"], 42.0)?;
        queries.add_sample(&["orders"], 7.5)?;
        out.push(queries);
        let mut query =
            CollectedFamily::histogram("query_seconds", "Time.", [0.25, 2.5]).labels(["db"]);
        query.add_sample(&["users"], CollectedValue::histogram([3, 7, 8], 4.5))?;
        out.push(query);
        let wait = CollectedValue::histogram([1, 1, 2], 3.25);
        out.push(CollectedFamily::histogram("wait_seconds", "Wait.", [0.25, 2.5]).sample(wait));
        let size = CollectedValue::summary(4, 1024.0);
        out.push(CollectedFamily::summary("size_bytes", "Size.").sample(size));
        let mut rows = CollectedFamily::summary("rows", "Rows.").labels(["db"]);
        rows.add_sample(&["users"], CollectedValue::summary(2, 30.0))?;
        out.push(rows);
        let latency = CollectedValue::summary_with_quantiles(20, 10.0, [(0.5, 0.25), (0.99, 1.5)]);
        out.push(CollectedFamily::summary("latency_seconds", "Latency.").sample(latency));
        let build = CollectedValue::info([("commit", "abc"), ("version", "1.2")]);
        out.push(CollectedFamily::info("build", "Build.").sample(build));
        let mut driver = CollectedFamily::info("db.driver", "Driver.").labels(["db"]);
        driver.add_sample(
            &["users"],
            CollectedValue::info([("driver.version", "3.1")]),
        )?;
        out.push(driver);
        let mode = CollectedFamily::stateset("mode", "Mode.", ["primary", "replica"]);
        out.push(mode.sample(CollectedValue::state("replica")));
        let mut health =
            CollectedFamily::stateset("health", "Health.", ["ok", "degraded"]).labels(["db"]);
        health.add_sample(&["users"], CollectedValue::state("ok"))?;
        out.push(health);
        let mut depth = CollectedFamily::gauge("queue.depth", "Depth.").labels(["queue.name"]);
        depth.add_sample(&["in"], 3.0)?;
        out.push(depth);
        Ok(())
    }
}

fn server() -> TestServer {
    TestServer::start(|e| {
        let registry = e.registry_mut();
        registry.register_collector(Families);
        let app = registry.info("app", "App.").unwrap();
        app.set([("build.version", "1.2"), ("os", "linux")])
            .unwrap();
    })
}

#[test]
fn collected_families_of_every_type_are_written_as_the_reference_writes_them() {
    if python_client("the collected families' bodies").is_none() {
        return;
    }
    let server = server();
    let cases = [
        ("text", "underscores", "text/plain;version=0.0.4"),
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
fn collected_families_parse_strictly_and_pass_promtool() {
    let server = server();
    let text = try_get(
        server.port(),
        "/metrics",
        &[("Accept", "text/plain;version=0.0.4")],
    )
    .unwrap();
    assert_promtool_clean(&text.body);
    if python_client("the collected families' OpenMetrics").is_none() {
        return;
    }
    let want = [
        (
            "allow-utf-8",
            "app info 1\nbuild info 1\ndb.driver info 1\nhealth stateset 2\n\
             latency_seconds summary 4\nmode stateset 2\nqueries counter 2\n\
             query_seconds histogram 5\nqueue.depth gauge 1\nrows summary 2\n\
             size_bytes summary 2\nuptime_seconds gauge 1\nwait_seconds histogram 5",
        ),
        (
            "underscores",
            "app info 1\nbuild info 1\ndb_driver info 1\nhealth stateset 2\n\
             latency_seconds summary 4\nmode stateset 2\nqueries counter 2\n\
             query_seconds histogram 5\nqueue_depth gauge 1\nrows summary 2\n\
             size_bytes summary 2\nuptime_seconds gauge 1\nwait_seconds histogram 5",
        ),
        (
            "dots",
            "app info 1\nbuild info 1\ndb_dot_driver info 1\nhealth stateset 2\n\
             latency__seconds summary 4\nmode stateset 2\nqueries counter 2\n\
             query__seconds histogram 5\nqueue_dot_depth gauge 1\nrows summary 2\n\
             size__bytes summary 2\nuptime__seconds gauge 1\nwait__seconds histogram 5",
        ),
    ];
    for (escaping, want) in want {
        let accept = format!("application/openmetrics-text;version=1.0.0;escaping={escaping}");
        let response = try_get(server.port(), "/metrics", &[("Accept", &accept)]).unwrap();
        let families = run_python(PARSE_OPENMETRICS, response.body.clone());
        assert_eq!(families.trim(), want, "{escaping}:\n{}", response.text());
    }
}
