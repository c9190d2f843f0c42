//! Content negotiation against the reference, the official Python client's
//! `prometheus_client.exposition.choose_encoder`: a table of the `Accept` headers scrapers send
//! and of the rules' edge cases, then generated headers, each answered by our
//! `negotiate_format` and by the reference (`support/choose_encoder.py`), Content-Type string
//! against Content-Type string; then the same through a real exporter over HTTP, and the one
//! escaping that changes legacy names (`dots`) against the reference's text body.
//!
//! The reference reads no weights (`q`), and the crate does: where a header carries weights we
//! compare with the reference applied tier by tier of weight (`weighted` in the script, which
//! explains it), and where it carries none, with the reference itself. The table also names
//! the headers we answer differently on purpose; the differences are explained in
//! `src/exposition/negotiate.rs`.

use prometheus_aioexporter::internals::negotiate_format;
use prometheus_aioexporter::MetricConfig;

use crate::support::http::try_get;
use crate::support::python::normalise;
use crate::support::python::PARSE_OPENMETRICS;
use crate::support::python::{json_field, json_string, python_client, run_python};
use crate::support::test_server::TestServer;
use crate::support::Rng;

const SCRIPT: &str = include_str!("support/choose_encoder.py");

/// What the reference answers for one header.
#[derive(Debug)]
struct Reference {
    /// `choose_encoder`'s Content-Type, or `ERROR: …` when it raises.
    plain: String,
    /// `choose_encoder` applied by weight, as RFC 9110 reads the header.
    weighted: String,
}

/// The reference's answers, in order (`None`: no `Accept` header).
fn reference(headers: &[Option<String>]) -> Vec<Reference> {
    let mut input = String::new();
    for header in headers {
        input.push_str(&header.as_deref().map_or("null".to_string(), json_string));
        input.push('\n');
    }
    let output = run_python(SCRIPT, input.into_bytes());
    let answers: Vec<Reference> = output
        .lines()
        .map(|line| Reference {
            plain: json_field(line, "reference"),
            weighted: json_field(line, "weighted"),
        })
        .collect();
    assert_eq!(answers.len(), headers.len(), "one answer per header");
    answers
}

fn ours(header: Option<&str>) -> &'static str {
    negotiate_format(header.map(str::as_bytes), true).content_type()
}

const PROMETHEUS_3: &str = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
const PROMETHEUS_2: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

const TEXT_004: &str = "text/plain; version=0.0.4; charset=utf-8";
const OPENMETRICS_UNDERSCORES: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores";
const OPENMETRICS_UTF8: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8";

/// `(what, header, why we differ from the reference and what we answer)`: `None` where we
/// answer as it does.
/// Prometheus 3's headers are those its `acceptHeader` (scrape/scrape.go) builds from
/// `scrape_protocols` and `metric_name_escaping_scheme`.
#[allow(clippy::type_complexity)]
const TABLE: &[(&str, Option<&str>, Option<(&str, &str)>)] = &[
    ("Prometheus 3, defaults", Some(PROMETHEUS_3), None),
    (
        "Prometheus 3, metric_name_escaping_scheme: underscores",
        Some("application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=underscores;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"),
        None,
    ),
    (
        "Prometheus 3, metric_name_escaping_scheme: dots",
        Some("application/openmetrics-text;version=1.0.0;escaping=dots;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=dots;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"),
        None,
    ),
    (
        "Prometheus 3, metric_name_escaping_scheme: values",
        Some("application/openmetrics-text;version=1.0.0;escaping=values;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=values;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"),
        None,
    ),
    (
        "Prometheus 3, native histograms (protobuf first)",
        Some("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"),
        None,
    ),
    (
        "Prometheus 3, scrape_protocols: [PrometheusText1.0.0, PrometheusText0.0.4]",
        Some("text/plain;version=1.0.0;escaping=allow-utf-8;q=0.6,text/plain;version=0.0.4;q=0.5,*/*;q=0.4"),
        None,
    ),
    (
        "Prometheus 3, scrape_protocols: [PrometheusText0.0.4, OpenMetricsText1.0.0]",
        Some("text/plain;version=0.0.4;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,*/*;q=0.4"),
        Some((
            "the scraper prefers text 0.0.4 (q=0.6) to OpenMetrics (q=0.5); the reference reads no weights",
            TEXT_004,
        )),
    ),
    ("Prometheus 2.x (2.42, Debian)", Some(PROMETHEUS_2), None),
    (
        "Prometheus 2.x, OpenMetrics off; VictoriaMetrics vmagent",
        Some("text/plain;version=0.0.4;q=1,*/*;q=0.1"),
        None,
    ),
    ("curl", Some("*/*"), None),
    ("no Accept header", None, None),
    ("empty", Some(""), None),
    (
        "a browser",
        Some("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"),
        None,
    ),
    ("malformed", Some(";;,, ,/,a/b/c;=;q"), None),
    ("text 1.0.0", Some("text/plain;version=1.0.0"), None),
    ("text 1.0.0, dots", Some("text/plain;version=1.0.0;escaping=dots"), None),
    ("an unknown escaping", Some("text/plain;version=1.0.0;escaping=bogus"), None),
    ("OpenMetrics, no version", Some("application/openmetrics-text"), None),
    ("OpenMetrics 0.0.1 only", Some("application/openmetrics-text;version=0.0.1"), None),
    ("OpenMetrics 1.0 (below 1.0.0)", Some("application/openmetrics-text;version=1.0"), None),
    (
        "OpenMetrics 2.0.0",
        Some("application/openmetrics-text;version=2.0.0;escaping=allow-utf-8"),
        Some((
            "the body is OpenMetrics 1.0.0, and the Content-Type says so; the reference echoes 2.0.0",
            OPENMETRICS_UTF8,
        )),
    ),
    (
        "a version that is not numbers",
        Some("application/openmetrics-text;version=abc,text/plain"),
        Some((
            "not a version we know: skipped; the reference raises TypeError (a 500)",
            TEXT_004,
        )),
    ),
    (
        "a quoted version",
        Some("application/openmetrics-text;version=\"1.0.0\""),
        Some((
            "a quoted value is its content (RFC 9110 §5.6.4); the reference raises TypeError",
            OPENMETRICS_UNDERSCORES,
        )),
    ),
    (
        "OpenMetrics refused",
        Some("application/openmetrics-text;q=0,text/plain"),
        Some(("q=0 is not acceptable (RFC 9110 §12.4.2)", TEXT_004)),
    ),
    (
        "text 1.0.0 weighted below text 0.0.4",
        Some("text/plain;version=1.0.0;escaping=allow-utf-8;q=0.1,text/plain;version=0.0.4;q=0.9"),
        Some(("the heavier candidate wins", TEXT_004)),
    ),
    (
        "equal weights: text 0.0.4 listed first",
        Some("text/plain;version=0.0.4,application/openmetrics-text;version=1.0.0"),
        None,
    ),
    (
        "media type in capitals",
        Some("Application/OpenMetrics-Text;version=1.0.0"),
        Some((
            "media types are case-insensitive (RFC 9110 §8.3.1)",
            OPENMETRICS_UNDERSCORES,
        )),
    ),
    (
        "parameter names in capitals",
        Some("application/openmetrics-text;Version=1.0.0;Escaping=allow-utf-8"),
        Some((
            "parameter names are case-insensitive (RFC 9110 §5.6.6)",
            OPENMETRICS_UTF8,
        )),
    ),
    (
        "white space",
        Some(" application/openmetrics-text ; version=1.0.0 ;\tescaping=allow-utf-8 , */* ; q=0.1"),
        None,
    ),
    (
        "a comma inside a quoted parameter",
        Some("application/openmetrics-text;x=\"a,text/plain;version=1.0.0\";version=1.0.0"),
        Some((
            "commas inside quotes do not split (RFC 9110 §5.6.4); the reference splits them",
            OPENMETRICS_UNDERSCORES,
        )),
    ),
];

#[test]
fn scrapers_headers_get_what_the_reference_answers() {
    if python_client("the negotiation table").is_none() {
        return;
    }
    let headers: Vec<Option<String>> = TABLE.iter().map(|(_, h, _)| h.map(String::from)).collect();
    let answers = reference(&headers);
    let mut table = String::new();
    let mut failures = Vec::new();
    for ((what, header, differs), reference) in TABLE.iter().zip(&answers) {
        let ours = ours(*header);
        table.push_str(&format!(
            "{what}\n  Accept:    {header:?}\n  ours:      {ours}\n  reference: {}\n",
            reference.plain
        ));
        match differs {
            None if ours != reference.plain || ours != reference.weighted => {
                failures.push(format!(
                    "{what}: ours {ours:?}, the reference {:?} (by weight {:?})",
                    reference.plain, reference.weighted
                ));
            }
            Some((why, _)) if ours == reference.plain => failures.push(format!(
                "{what}: now equal to the reference, though the table says we differ ({why})"
            )),
            Some((why, want)) if ours != *want => {
                failures.push(format!("{what}: ours {ours:?}, not {want:?} ({why})"));
            }
            _ => {}
        }
    }
    eprintln!("{table}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A header of 1 to 5 elements: media ranges we serve and some we do not, with versions,
/// escapings and weights (well-formed and not, repeated sometimes), other parameters, and
/// white space around the separators. Lower case, unquoted and free of commas in parameters:
/// the cases where the reference errs by the RFC are in the table.
fn any_header(rng: &mut Rng) -> String {
    const MEDIA: &[&str] = &[
        "application/openmetrics-text",
        "application/openmetrics-text",
        "text/plain",
        "text/plain",
        "*/*",
        "text/*",
        "application/*",
        "application/json",
        "application/vnd.google.protobuf",
        "text/html",
    ];
    const VERSIONS: &[&str] = &[
        "1.0.0", "1.0.0", "0.0.1", "0.0.4", "1.0.0", "1.0", "1", "2.0.0", "1.0.0.1", "0.9.9", "",
    ];
    const ESCAPINGS: &[&str] = &["allow-utf-8", "underscores", "dots", "values", "bogus", ""];
    const WEIGHTS: &[&str] = &[
        "0", "0.1", "0.2", "0.5", "0.50", "0.6", "1", "1.0", "0.999", "0.000", "2", "x", ".5",
        "0.", "1.", "0.1234",
    ];
    const SPACE: &[&str] = &["", "", "", " ", "\t", "  "];
    let mut header = String::new();
    for i in 0..1 + rng.below(5) {
        if i > 0 {
            header.push_str(rng.pick(SPACE));
            header.push(',');
            header.push_str(rng.pick(SPACE));
        }
        header.push_str(rng.pick(MEDIA));
        let mut params: Vec<String> = Vec::new();
        for _ in 0..rng.below(4) {
            params.push(match rng.below(7) {
                0 | 1 => format!("version={}", rng.pick(VERSIONS)),
                2 | 3 => format!("escaping={}", rng.pick(ESCAPINGS)),
                4 | 5 => format!("q={}", rng.pick(WEIGHTS)),
                _ => rng
                    .pick(&["charset=utf-8", "version", "proto=x", "encoding=delimited"])
                    .into(),
            });
        }
        for param in params {
            header.push_str(rng.pick(SPACE));
            header.push(';');
            header.push_str(rng.pick(SPACE));
            header.push_str(&param);
        }
    }
    header
}

const GENERATED: u64 = 4_000;

/// The reference's OpenMetrics Content-Type with the version we write: it echoes whatever
/// version ≥ 1.0.0 was asked for (`2.0.0`, `1.0.0.1`), where we name the one our body is in.
fn version_1_0_0(content_type: &str) -> String {
    const PREFIX: &str = "application/openmetrics-text; version=";
    match content_type
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split_once(';'))
    {
        Some((_, rest)) => format!("{PREFIX}1.0.0;{rest}"),
        None => content_type.to_string(),
    }
}

#[test]
fn generated_headers_get_what_the_reference_answers() {
    if python_client("the generated negotiation cases").is_none() {
        return;
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let headers: Vec<Option<String>> = (0..GENERATED).map(|_| Some(any_header(&mut rng))).collect();
    let answers = reference(&headers);
    let mut failures = Vec::new();
    let mut unweighted = 0;
    for (header, reference) in headers.iter().zip(&answers) {
        let header = header.as_deref().expect("generated");
        let ours = ours(Some(header));
        let reference = Reference {
            plain: version_1_0_0(&reference.plain),
            weighted: version_1_0_0(&reference.weighted),
        };
        if ours != reference.weighted {
            failures.push(format!(
                "{header:?}: ours {ours:?}, the reference by weight {:?}",
                reference.weighted
            ));
        }
        if !header.contains("q=") {
            unweighted += 1;
            if ours != reference.plain {
                failures.push(format!(
                    "{header:?}: ours {ours:?}, the reference {:?}",
                    reference.plain
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {GENERATED} headers differ; the first ten:\n{}",
        failures.len(),
        failures[..failures.len().min(10)].join("\n")
    );
    // Not a check of the crate: the generator reaches both kinds of header, and every answer.
    assert!(
        unweighted > GENERATED / 10,
        "{unweighted} headers without weights"
    );
    let mut seen: Vec<&str> = answers.iter().map(|a| a.weighted.as_str()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert!(
        seen.len() >= 8,
        "only {} distinct answers: {seen:?}",
        seen.len()
    );
}

#[test]
fn an_exporter_answers_with_the_negotiated_content_type() {
    let server = TestServer::start(|e| {
        let metrics = e
            .registry_mut()
            .create_metrics([MetricConfig::new("up_seconds", "Uptime.", "gauge")])
            .unwrap();
        metrics.gauge("up_seconds").unwrap().set(1.0);
    });
    for (what, header, _) in TABLE {
        let headers: Vec<(&str, &str)> = header.map(|h| ("Accept", h)).into_iter().collect();
        let response = try_get(server.port(), "/metrics", &headers).unwrap();
        assert_eq!(response.status, 200, "{what}");
        assert_eq!(
            response.header("Content-Type"),
            Some(ours(*header)),
            "{what}: {header:?}"
        );
        let body = response.text();
        let openmetrics = ours(*header).starts_with("application/openmetrics-text");
        assert_eq!(body.ends_with("# EOF\n"), openmetrics, "{what}: {body}");
    }
}

/// The Python client's text exposition, under `dots`, of what our exporter below holds.
const DOTS_SCRIPT: &str = r#"
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

class Fixed:
    def collect(self):
        g = GaugeMetricFamily('lat_seconds', 'Latency.', labels=['status_code'])
        g.add_metric(['2"0\\0'], 1.5)
        yield g
        c = CounterMetricFamily('jobs_done', 'Jobs.', labels=['job_kind'])
        c.add_metric(['a_b'], 3)
        yield c
        h = HistogramMetricFamily('req_size_bytes', 'Sizes.')
        h.add_metric([], [('0.5', 1), ('+Inf', 2)], 6.25)
        yield h

registry = CollectorRegistry()
registry.register(Fixed())
print(generate_latest(registry, escaping='dots').decode(), end='')
"#;

#[test]
fn dots_escape_legacy_names_as_the_reference_does() {
    if python_client("the dots body").is_none() {
        return;
    }
    let server = TestServer::start(|e| {
        let metrics = e
            .registry_mut()
            .create_metrics([
                MetricConfig::new("lat_seconds", "Latency.", "gauge").labels(["status_code"]),
                MetricConfig::new("jobs_done", "Jobs.", "counter").labels(["job_kind"]),
                MetricConfig::new("req_size_bytes", "Sizes.", "histogram").buckets([0.5]),
            ])
            .unwrap();
        let gauge = metrics.gauge_family("lat_seconds").unwrap();
        gauge.labels(&["2\"0\\0"]).unwrap().set(1.5);
        let jobs = metrics.counter_family("jobs_done").unwrap();
        jobs.labels(&["a_b"]).unwrap().inc_by(3.0).unwrap();
        let sizes = metrics.histogram("req_size_bytes").unwrap();
        sizes.observe(0.25);
        sizes.observe(6.0);
    });
    let accept = [("Accept", "text/plain;version=1.0.0;escaping=dots")];
    let response = try_get(server.port(), "/metrics", &accept).unwrap();
    assert_eq!(
        response.header("Content-Type"),
        Some("text/plain; version=1.0.0; charset=utf-8; escaping=dots")
    );
    // Compared as lines with the values read as numbers (`support::python::normalise`).
    let reference = run_python(DOTS_SCRIPT, Vec::new());
    assert_eq!(
        normalise(response.text()),
        normalise(&reference),
        "ours:\n{}\nthe reference:\n{reference}",
        response.text()
    );
    // OpenMetrics under dots: each sample in its typed family, for the Python client's parser.
    let accept = [(
        "Accept",
        "application/openmetrics-text;version=1.0.0;escaping=dots",
    )];
    let response = try_get(server.port(), "/metrics", &accept).unwrap();
    let families = run_python(PARSE_OPENMETRICS, response.body.clone());
    assert_eq!(
        families.trim(),
        "jobs__done counter 1\nlat__seconds gauge 1\nreq__size__bytes histogram 4",
        "{}",
        response.text()
    );
}
