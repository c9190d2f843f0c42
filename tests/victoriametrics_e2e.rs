//! End to end with a real VictoriaMetrics (Debian's `victoria-metrics` package, 1.79): the
//! single binary, on loopback with a data directory of its own, scrapes an in-process exporter
//! every second, and its `/federate` endpoint is asked for what it stored.
//!
//! The exporter has every metric type, label values with every character that needs escaping,
//! and a metric and label named outside the legacy set (`my.metric`, `some.label`).
//! VictoriaMetrics 1.79 asks for text 0.0.4 (`Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1`),
//! without `escaping`, so those names must arrive escaped with underscores. Checked: the
//! exporter's answer to that `Accept` is text 0.0.4 with the names escaped; every sample in it is
//! in VictoriaMetrics with the same labels and value (to the 12 significant digits it keeps, and
//! an empty label value read as no label); VictoriaMetrics counted as many samples as
//! the body has (`scrape_samples_scraped`) and the target is up.
//!
//! Everything waits by polling (every 200 ms, 60 s at most overall), never by fixed sleeps; the
//! process and its directory are removed on drop, also when an assertion fails. Without
//! `victoria-metrics` on `PATH`, the test prints a note and passes, unless the environment
//! variable `CI` is non-empty, in which case it fails.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prometheus_aioexporter::MetricConfig;
use prometheus_aioexporter::Metrics;

use crate::support::http::try_get;
use crate::support::test_server::TestServer;
use crate::support::tools::find_on_path;

const OVERALL: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(200);
const JOB: &str = "vm_e2e";
/// What VictoriaMetrics 1.79 sends (its `lib/promscrape/client.go`).
const VM_ACCEPT: &str = "text/plain;version=0.0.4;q=1,*/*;q=0.1";

/// Escapes of every kind in one label value.
const TRICKY: &str = "a \" b \\ c \n d ü✓";

fn metric_configs() -> Vec<MetricConfig> {
    vec![
        MetricConfig::new("vm_requests", "Requests.", "counter").labels(["method", "path"]),
        MetricConfig::new("vm_value", "Values.", "gauge").labels(["case"]),
        MetricConfig::new("vm_latency_seconds", "Latency.", "histogram").buckets([0.1, 1.0]),
        MetricConfig::new("vm_size_bytes", "Sizes.", "summary"),
        MetricConfig::new("vm_build", "Build.", "info"),
        MetricConfig::new("vm_state", "State.", "enum").states(["up", "down"]),
        MetricConfig::new("my.metric", "A UTF-8 name.", "gauge").labels(["some.label"]),
    ]
}

fn set_values(metrics: &Metrics) {
    let requests = metrics.counter_family("vm_requests").unwrap();
    requests
        .labels(&["GET", "/a\"b\\c"])
        .unwrap()
        .inc_by(3.0)
        .unwrap();
    requests
        .labels(&["POST", TRICKY])
        .unwrap()
        .inc_by(7.5)
        .unwrap();
    let values = metrics.gauge_family("vm_value").unwrap();
    for (case, v) in [
        ("negative", -2.5),
        ("huge", 1e300),
        ("tiny", 1.5e-300),
        ("pi", std::f64::consts::PI),
        ("", 5.0),
        (TRICKY, 6.0),
    ] {
        values.labels(&[case]).unwrap().set(v);
    }
    let latency = metrics.histogram("vm_latency_seconds").unwrap();
    for v in [0.05, 0.5, 0.5, 5.0] {
        latency.observe(v);
    }
    metrics.summary("vm_size_bytes").unwrap().observe(4.5);
    metrics
        .info("vm_build")
        .unwrap()
        .set([("version", "1.2.3"), ("note", TRICKY)])
        .unwrap();
    metrics
        .enumeration("vm_state")
        .unwrap()
        .set("down")
        .unwrap();
    let utf8 = metrics.gauge_family("my.metric").unwrap();
    utf8.labels(&["ünï"]).unwrap().set(7.25);
}

/// One sample: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// The samples of a text 0.0.4 body (comments and timestamps left out).
fn parse_text(body: &str) -> Result<Vec<Sample>, String> {
    let mut samples = Vec::new();
    for line in body
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        samples.push(parse_line(line).ok_or_else(|| format!("cannot parse {line:?}"))?);
    }
    Ok(samples)
}

fn parse_line(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let (name, mut rest) = line.split_at(name_end);
    let mut labels = BTreeMap::new();
    if let Some(inner) = rest.strip_prefix('{') {
        rest = inner;
        while !rest.starts_with('}') {
            let (label, after) = rest.split_once("=\"")?;
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next()? {
                    (i, '"') => break i,
                    (_, '\\') => value.push(match chars.next()?.1 {
                        'n' => '\n',
                        c => c,
                    }),
                    (_, c) => value.push(c),
                }
            };
            labels.insert(label.to_string(), value);
            rest = after[end + 1..].trim_start_matches(',');
        }
        rest = &rest[1..];
    }
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some((name.to_string(), labels, value))
}

/// A VictoriaMetrics process with its data directory, both removed on drop.
struct VictoriaMetrics {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl VictoriaMetrics {
    fn start(binary: &std::path::Path, target_port: u16) -> VictoriaMetrics {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("vm-e2e-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the data directory");
        let config = dir.join("scrape.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: {JOB}\n    \
                 static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n"
            ),
        )
        .expect("write the scrape configuration");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = File::create(dir.join("vm.log")).expect("create the log file");
        let child = Command::new(binary)
            .arg(format!("-promscrape.config={}", config.display()))
            .arg(format!("-storageDataPath={}", dir.join("data").display()))
            .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start victoria-metrics");
        VictoriaMetrics { child, port, dir }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("vm.log")).unwrap_or_default()
    }

    /// The latest sample of every series of the job, from `/federate`, without the `job` and
    /// `instance` labels VictoriaMetrics adds.
    fn federate(&mut self) -> Result<Vec<Sample>, String> {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("victoria-metrics exited ({status}):\n{}", self.log());
        }
        let target = format!("/federate?match%5B%5D=%7Bjob%3D%22{JOB}%22%7D");
        let response = try_get(self.port, &target, &[])?;
        if response.status != 200 {
            return Err(format!(
                "status {}: {}",
                response.status,
                response.text_lossy()
            ));
        }
        let mut samples = parse_text(&response.text_lossy())?;
        for (_, labels, _) in &mut samples {
            labels.remove("job");
            labels.remove("instance");
        }
        Ok(samples)
    }
}

impl Drop for VictoriaMetrics {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `true` if VictoriaMetrics stored `scraped` as `stored`: it keeps 12 significant decimal
/// digits (it stores values as decimals), so `3.141592653589793` comes back as `3.141592653589`.
fn same_value(stored: f64, scraped: f64) -> bool {
    stored == scraped || ((stored - scraped) / scraped).abs() < 1e-11
}

/// What is missing or different in `stored` from `scraped`; empty when every sample arrived.
fn differences(scraped: &[Sample], stored: &[Sample]) -> Vec<String> {
    let stored: BTreeMap<(&str, &BTreeMap<String, String>), f64> = stored
        .iter()
        .map(|(name, labels, value)| ((name.as_str(), labels), *value))
        .collect();
    let mut problems = Vec::new();
    for (name, labels, value) in scraped {
        match stored.get(&(name.as_str(), labels)) {
            None => problems.push(format!("missing {name}{labels:?}")),
            Some(got) if !same_value(*got, *value) => {
                problems.push(format!("{name}{labels:?}: stored {got}, scraped {value}"))
            }
            Some(_) => {}
        }
    }
    let none = BTreeMap::new();
    let count = stored.get(&("scrape_samples_scraped", &none)).copied();
    if count != Some(scraped.len() as f64) {
        problems.push(format!(
            "scrape_samples_scraped {count:?}, the body has {}",
            scraped.len()
        ));
    }
    if stored.get(&("up", &none)) != Some(&1.0) {
        problems.push("up is not 1".to_string());
    }
    problems
}

#[test]
fn victoriametrics_ingests_every_sample() {
    let Some(binary) = find_on_path("victoria-metrics") else {
        if std::env::var_os("CI").is_some_and(|ci| !ci.is_empty()) {
            panic!("victoria-metrics not found: install Debian's victoria-metrics package");
        }
        eprintln!(
            "note: victoria-metrics not found on PATH, skipping the end-to-end test \
             (install Debian's victoria-metrics package)"
        );
        return;
    };
    let deadline = Instant::now() + OVERALL;
    let exporter = TestServer::start(|exporter| {
        let metrics = exporter
            .registry_mut()
            .create_metrics(metric_configs())
            .expect("valid metrics");
        set_values(&metrics);
    });
    // What VictoriaMetrics gets: text 0.0.4, the UTF-8 names escaped with underscores.
    let response = try_get(exporter.port(), "/metrics", &[("Accept", VM_ACCEPT)]).unwrap();
    assert_eq!(
        response.header("Content-Type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let body = response.text_lossy();
    assert!(
        body.contains("my_metric{some_label=\"ünï\"} 7.25\n"),
        "the UTF-8 names escaped with underscores:\n{body}"
    );
    let mut scraped = parse_text(&body).unwrap();
    // An empty label value is the label's absence, for VictoriaMetrics as for Prometheus.
    for (_, labels, _) in &mut scraped {
        labels.retain(|_, value| !value.is_empty());
    }
    // 2 requests, 6 values, 5 for the histogram, 2 for the summary, 1 info, 2 states, 1 UTF-8.
    assert_eq!(scraped.len(), 19, "{body}");

    let mut vm = VictoriaMetrics::start(&binary, exporter.port());
    loop {
        let last = match vm.federate() {
            Ok(stored) => differences(&scraped, &stored),
            Err(err) => vec![err],
        };
        if last.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "VictoriaMetrics did not ingest every sample within {OVERALL:?}:\n{}\n--- log ---\n{}",
            last.join("\n"),
            vm.log()
        );
        std::thread::sleep(POLL);
    }
}
