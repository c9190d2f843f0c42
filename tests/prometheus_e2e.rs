//! End to end with a real Prometheus server (Debian's `prometheus` package, 2.42): one
//! Prometheus on loopback scrapes four targets every second, and its HTTP API is asked what it
//! made of them.
//!
//! - `sample`: the example binary `sample`, as a user runs it;
//! - `om`: an in-process `Exporter` exposing every metric type with fixed values, tricky label
//!   values and special floats, OpenMetrics enabled (Prometheus 2.x prefers it);
//! - `text`: the same metrics with OpenMetrics disabled, so Prometheus parses the text format;
//! - `recorder`: a raw TCP listener answering a minimal exposition and recording the request
//!   heads, to see exactly what Prometheus sends (`Accept`, `Accept-Encoding`, timeout).
//!
//! The in-process exporters also have a collector, the process stats, and 2000 series with long
//! label values (a 0.5 MB exposition, sent in many writes). Checked: every target up without
//! error; `scrape_samples_scraped` against the samples counted in a scrape; every fixed value
//! and label read back exactly through PromQL (`le` as each format spells it); the types and
//! help texts Prometheus recorded; the request head Prometheus sent; `Content-Encoding` on the
//! wire (gzip with the `gzip` feature, identity without).
//!
//! Everything waits by polling (every 200 ms, 60 s at most overall), never by fixed sleeps. Every
//! process, thread and temporary file is cleaned up on drop, also when an assertion fails.
//! Without `prometheus` on `PATH`, the test prints a note and passes, unless the environment
//! variable `CI` is non-empty, in which case it fails.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prometheus_aioexporter::{
    BoxError, CollectedFamily, Collector, MetricConfig, MetricType, Metrics,
};

use crate::support;
use crate::support::http::try_get;
use crate::support::sample::{Proc, TEST_ARGS};
use crate::support::test_server::TestServer;
use crate::support::tools::{find_on_path, prometheus_tool};

/// The whole test's bound: everything must be done within this of the start.
const OVERALL: Duration = Duration::from_secs(60);
/// How often the HTTP API and readiness are polled.
const POLL: Duration = Duration::from_millis(200);
/// Timeout of one HTTP request or socket operation.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// What Prometheus 2.x sends as `Accept`: `scrapeAcceptHeader` in its scrape/scrape.go.
const PROMETHEUS_2_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// The content types of the two formats, as the crate answers Prometheus 2.x (which names the
/// OpenMetrics version and no escaping: the Python client's `escaping=underscores`).
const OPENMETRICS_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores";
const TEXT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

// ---------------------------------------------------------------------------------------------
// The fixed metrics of the `om` and `text` jobs
// ---------------------------------------------------------------------------------------------

/// All special characters at once, in one label value.
const TRICKY: &str = "a \" b \\ c \n d ü✓日本";

/// The gauge `e2e_value{case=...}`: one series per case.
const GAUGES: &[(&str, f64)] = &[
    ("negative", -2.5),
    ("huge", 1e300),
    ("tiny", 1e-300),
    ("plus_inf", f64::INFINITY),
    ("minus_inf", f64::NEG_INFINITY),
    ("nan", f64::NAN),
    ("quote\"d", 1.0),
    ("back\\slash", 2.0),
    ("new\nline", 3.0),
    ("ü✓日本", 4.0),
    ("", 5.0),
    (TRICKY, 6.0),
];

/// The counter `e2e_requests{method, path}`.
const COUNTERS: &[([&str; 2], f64)] = &[
    (["GET", "/a\"b\\c"], 3.0),
    (["POST", "ü✓日本\n"], 7.5),
    (["", "empty method"], 1.0),
];

/// The histogram `e2e_latency_seconds`: buckets and observations.
const BUCKETS: [f64; 3] = [0.1, 1.0, 10.0];
const OBSERVATIONS: [f64; 5] = [0.05, 0.5, 0.5, 5.0, 50.0];
/// Cumulative counts per `le`, in the text format's and OpenMetrics' spelling of `le`.
const BUCKET_COUNTS_TEXT: [(&str, f64); 4] = [("0.1", 1.0), ("1", 3.0), ("10", 4.0), ("+Inf", 5.0)];
const BUCKET_COUNTS_OM: [(&str, f64); 4] =
    [("0.1", 1.0), ("1.0", 3.0), ("10.0", 4.0), ("+Inf", 5.0)];

/// The summary `e2e_size_bytes`.
const SUMMARY_OBSERVATIONS: [f64; 2] = [3.0, 4.5];

/// The info `e2e_build{component}`: its one series' label value and pairs (the empty value
/// is dropped by Prometheus).
const INFO_COMPONENT: &str = "cöre";
const INFO_PAIRS: [(&str, &str); 3] = [("version", "1.2.3"), ("note", TRICKY), ("empty", "")];

/// The enum `e2e_state{unit}`: states, and the current one.
const STATES: [&str; 3] = ["starting", "running", "stopped"];
const CURRENT_STATE: &str = "running";
const ENUM_UNIT: &str = "db ✓";

/// The gauge `e2e_bulk{i, pad}`: many series with long label values, so that an exposition
/// (about 0.5 MB) takes many writes to send; series `i` has the value `i * BULK_FACTOR`.
const BULK_SERIES: usize = 2000;
const BULK_FACTOR: f64 = 0.37;

fn bulk_pad() -> String {
    TRICKY.repeat(8)
}

/// Help texts: `"`, `\` and newline need escaping (`"` only in OpenMetrics).
const COUNTER_HELP: &str = "Requests \"served\" \\ here ü✓.";
const GAUGE_HELP: &str = "Values\nof every \\kind\\.";

fn metric_configs() -> Vec<MetricConfig> {
    vec![
        MetricConfig::new("e2e_requests", COUNTER_HELP, "counter").labels(["method", "path"]),
        MetricConfig::new("e2e_value", GAUGE_HELP, "gauge").labels(["case"]),
        MetricConfig::new("e2e_latency_seconds", "Latency.", "histogram").buckets(BUCKETS),
        MetricConfig::new("e2e_size_bytes", "Sizes.", "summary"),
        MetricConfig::new("e2e_build", "Build facts.", "info").labels(["component"]),
        MetricConfig::new("e2e_state", "State.", "enum")
            .labels(["unit"])
            .states(STATES),
        MetricConfig::new("e2e_bulk", "Bulk.", "gauge").labels(["i", "pad"]),
        // A UTF-8 name: Prometheus 2 asks for no escaping, so it gets underscores.
        MetricConfig::new(UTF8_GAUGE.0, "UTF-8.", "gauge").labels([UTF8_GAUGE.1]),
    ]
}

/// A gauge named outside the legacy set (Prometheus 3's UTF-8 names), with such a label name
/// and value; then both names as Prometheus 2 stores them, escaped with underscores.
const UTF8_GAUGE: (&str, &str, &str, f64) = ("e2e.utf8-gauge", "código.ü", "ünï", 7.25);
const UTF8_GAUGE_ESCAPED: (&str, &str) = ("e2e_utf8_gauge", "c_digo__");

fn set_fixed_values(metrics: &Metrics) {
    let requests = metrics.counter_family("e2e_requests").unwrap();
    for (labels, value) in COUNTERS {
        requests.labels(labels).unwrap().inc_by(*value).unwrap();
    }
    let values = metrics.gauge_family("e2e_value").unwrap();
    for (case, value) in GAUGES {
        values.labels(&[case]).unwrap().set(*value);
    }
    let latency = metrics.histogram("e2e_latency_seconds").unwrap();
    for v in OBSERVATIONS {
        latency.observe(v);
    }
    let sizes = metrics.summary("e2e_size_bytes").unwrap();
    for v in SUMMARY_OBSERVATIONS {
        sizes.observe(v);
    }
    metrics
        .info_family("e2e_build")
        .unwrap()
        .labels(&[INFO_COMPONENT])
        .unwrap()
        .set(INFO_PAIRS)
        .unwrap();
    metrics
        .enumeration_family("e2e_state")
        .unwrap()
        .labels(&[ENUM_UNIT])
        .unwrap()
        .set(CURRENT_STATE)
        .unwrap();
    let utf8 = metrics.gauge_family(UTF8_GAUGE.0).unwrap();
    utf8.labels(&[UTF8_GAUGE.2]).unwrap().set(UTF8_GAUGE.3);
    let bulk = metrics.gauge_family("e2e_bulk").unwrap();
    let pad = bulk_pad();
    for i in 0..BULK_SERIES {
        let labels = [i.to_string(), pad.clone()];
        bulk.labels(&labels).unwrap().set(i as f64 * BULK_FACTOR);
    }
}

/// The collected counter `e2e_collected_total{source}` and gauge `e2e_collected_gauge`, added
/// at scrape time by [`FixedCollector`].
const COLLECTED_COUNTERS: [(&str, f64); 2] = [("a \" \\ \n ü", 42.0), ("b", 0.5)];
const COLLECTED_GAUGE: f64 = -1.5e-7;

/// Yields the collected families, the same at every scrape.
struct FixedCollector;

impl Collector for FixedCollector {
    fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
        let mut counter =
            CollectedFamily::new("e2e_collected_total", "Collected.", MetricType::Counter)
                .labels(["source"]);
        for (source, value) in COLLECTED_COUNTERS {
            counter.add_sample(&[source], value)?;
        }
        let mut gauge =
            CollectedFamily::new("e2e_collected_gauge", "Collected gauge.", MetricType::Gauge);
        gauge.add_sample(&[] as &[&str], COLLECTED_GAUGE)?;
        out.push(counter);
        out.push(gauge);
        Ok(())
    }
}

/// The sum of `values` added in order, as the exporter adds them.
fn sum(values: &[f64]) -> f64 {
    values.iter().fold(0.0, |acc, v| acc + v)
}

// ---------------------------------------------------------------------------------------------
// Temporary directory, polling, free ports
// ---------------------------------------------------------------------------------------------

/// A directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "{prefix}-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|err| panic!("cannot create {}: {err}", path.display()));
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Calls `attempt` every [`POLL`] until it returns `Ok`, and returns that. `Err` says what is
/// not there yet; when `deadline` passes, the test fails with the last one. Fatal conditions
/// panic inside `attempt`.
fn wait_for<T>(what: &str, deadline: Instant, mut attempt: impl FnMut() -> Result<T, String>) -> T {
    loop {
        let started = Instant::now();
        match attempt() {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => {
                panic!("timed out waiting for {what}; last state:\n{last}")
            }
            Err(_) => {}
        }
        // Poll every POLL, however long the attempt took.
        std::thread::sleep(POLL.saturating_sub(started.elapsed()));
    }
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

// ---------------------------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------------------------

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// A small JSON parser, for the API's answers
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn parse(text: &str) -> Result<Json, String> {
        let mut parser = JsonParser {
            bytes: text.as_bytes(),
            pos: 0,
        };
        let value = parser.value()?;
        parser.skip_whitespace();
        if parser.pos != parser.bytes.len() {
            return Err(format!("trailing data at byte {}", parser.pos));
        }
        Ok(value)
    }

    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    fn array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// An object of strings (a label set) as a map.
    fn string_map(&self) -> Option<BTreeMap<String, String>> {
        match self {
            Json::Object(fields) => fields
                .iter()
                .map(|(k, v)| Some((k.clone(), v.str()?.to_string())))
                .collect(),
            _ => None,
        }
    }
}

struct JsonParser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl JsonParser<'_> {
    fn skip_whitespace(&mut self) {
        while self
            .bytes
            .get(self.pos)
            .is_some_and(|b| b" \t\r\n".contains(b))
        {
            self.pos += 1;
        }
    }

    fn error<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("JSON: {what} at byte {}", self.pos))
    }

    fn expect_literal(&mut self, literal: &str, value: Json) -> Result<Json, String> {
        if self.bytes[self.pos..].starts_with(literal.as_bytes()) {
            self.pos += literal.len();
            Ok(value)
        } else {
            self.error("unknown literal")
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.skip_whitespace();
        match self.bytes.get(self.pos) {
            None => self.error("unexpected end"),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b't') => self.expect_literal("true", Json::Bool(true)),
            Some(b'f') => self.expect_literal("false", Json::Bool(false)),
            Some(b'n') => self.expect_literal("null", Json::Null),
            Some(_) => self.number(),
        }
    }

    fn object(&mut self) -> Result<Json, String> {
        self.pos += 1;
        let mut fields = Vec::new();
        self.skip_whitespace();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Json::Object(fields));
        }
        loop {
            self.skip_whitespace();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return self.error("expected a key");
            }
            let key = self.string()?;
            self.skip_whitespace();
            if self.bytes.get(self.pos) != Some(&b':') {
                return self.error("expected ':'");
            }
            self.pos += 1;
            fields.push((key, self.value()?));
            self.skip_whitespace();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(fields));
                }
                _ => return self.error("expected ',' or '}'"),
            }
        }
    }

    fn array(&mut self) -> Result<Json, String> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_whitespace();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                _ => return self.error("expected ',' or ']'"),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u32::from_str_radix(d, 16).ok());
        match digits {
            Some(v) => {
                self.pos += 4;
                Ok(v)
            }
            None => self.error("bad \\u escape"),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&b) = self.bytes.get(self.pos) else {
                return self.error("unterminated string");
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.bytes.get(self.pos) else {
                        return self.error("unterminated escape");
                    };
                    self.pos += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let high = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&high) {
                                if !self.bytes[self.pos..].starts_with(b"\\u") {
                                    return self.error("lone surrogate");
                                }
                                self.pos += 2;
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return self.error("bad low surrogate");
                                }
                                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                high
                            };
                            match char::from_u32(code) {
                                Some(c) => c,
                                None => return self.error("bad code point"),
                            }
                        }
                        _ => return self.error("bad escape"),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(b),
            }
        }
        String::from_utf8(out).or_else(|_| self.error("string is not UTF-8"))
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.pos;
        while self
            .bytes
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_digit() || b"+-.eE".contains(b))
        {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.pos]).unwrap_or_default();
        match text.parse() {
            Ok(v) => Ok(Json::Number(v)),
            Err(_) => self.error("bad number"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Targets: the sample binary, in-process exporters, the recorder
// ---------------------------------------------------------------------------------------------

/// An exporter named `name` with [`metric_configs`] set to [`set_fixed_values`], a
/// [`FixedCollector`] and the process stats, serving on a thread; shut down and joined on drop.
fn start_in_process_exporter(name: &'static str, openmetrics: bool) -> TestServer {
    TestServer::start_named(name, "An end-to-end test exporter.", |exporter| {
        exporter.set_openmetrics(openmetrics);
        let metrics = exporter
            .registry_mut()
            .create_metrics(metric_configs())
            .expect("the test's metrics are valid");
        set_fixed_values(&metrics);
        exporter.registry_mut().register_collector(FixedCollector);
        exporter
            .enable_process_stats()
            .expect("process stats next to the test's metrics");
    })
}

/// A raw TCP listener that answers every request with a minimal text exposition and keeps the
/// request heads; stopped and joined on drop.
struct Recorder {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Recorder {
    const BODY: &'static str = "# TYPE r gauge\nr 1\n";

    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_heads, thread_stop) = (Arc::clone(&heads), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if thread_stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                if let Some(head) = Recorder::answer(&mut stream) {
                    if let Ok(mut heads) = thread_heads.lock() {
                        heads.push(head);
                    }
                }
            }
        });
        Recorder {
            port,
            heads,
            stop,
            thread: Some(thread),
        }
    }

    /// Reads one request head, answers it, closes; returns the head.
    fn answer(stream: &mut TcpStream) -> Option<String> {
        stream.set_read_timeout(Some(IO_TIMEOUT)).ok()?;
        stream.set_write_timeout(Some(IO_TIMEOUT)).ok()?;
        let mut head = Vec::new();
        let mut chunk = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut chunk).ok()?;
            if n == 0 || head.len() > 65536 {
                return None;
            }
            head.extend_from_slice(&chunk[..n]);
        }
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{}",
            Recorder::BODY.len(),
            Recorder::BODY
        );
        let _ = stream.write_all(response.as_bytes());
        let _ = stream.shutdown(Shutdown::Write);
        // Let the client close first, so no reset destroys the response.
        let _ = stream.read(&mut chunk);
        let end = head.windows(4).position(|w| w == b"\r\n\r\n")?;
        Some(String::from_utf8_lossy(&head[..end]).into_owned())
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().map(|h| h.clone()).unwrap_or_default()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ =
            TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], self.port)), IO_TIMEOUT);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The value of header `name` in a raw request head.
fn head_header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

// ---------------------------------------------------------------------------------------------
// Prometheus
// ---------------------------------------------------------------------------------------------

/// A series' labels, `__name__` included.
type Labels = BTreeMap<String, String>;

/// A Prometheus server on 127.0.0.1, in its own process group, with its configuration, TSDB
/// and log in a temporary directory. On drop, the whole group is killed, then the directory
/// removed.
struct Prometheus {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Prometheus {
    /// Starts Prometheus scraping `jobs` (`(job, port)`), and waits until it is ready. Retries
    /// with another port (at most 3 times in all) if the port was taken in the meantime.
    fn start(binary: &Path, jobs: &[(&str, u16)], deadline: Instant) -> Prometheus {
        let mut config = String::from(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n",
        );
        for (job, port) in jobs {
            config.push_str(&format!(
                "  - job_name: {job}\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
            ));
        }
        for attempt in 1..=3 {
            let dir = TempDir::new("prometheus-e2e");
            let config_path = dir.path().join("prometheus.yml");
            std::fs::write(&config_path, &config).expect("write prometheus.yml");
            let log = File::create(dir.path().join("prometheus.log")).expect("create the log");
            let port = free_port();
            let child = Command::new(binary)
                .arg(format!("--config.file={}", config_path.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--log.level=warn")
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone the log"))
                .stderr(log)
                .process_group(0)
                .spawn()
                .unwrap_or_else(|err| panic!("cannot start {}: {err}", binary.display()));
            let mut prometheus = Prometheus { child, port, dir };
            let ready = wait_for("Prometheus to be ready", deadline, || {
                if let Ok(Some(status)) = prometheus.child.try_wait() {
                    return Ok(Err(status));
                }
                match try_get(port, "/-/ready", &[]) {
                    Ok(r) if r.status == 200 => Ok(Ok(())),
                    Ok(r) => Err(format!("/-/ready: {} {}", r.status, r.text_lossy())),
                    Err(err) => Err(err),
                }
            });
            match ready {
                Ok(()) => return prometheus,
                Err(status) => {
                    let log = prometheus.log();
                    if attempt < 3 && log.contains("address already in use") {
                        eprintln!("note: port {port} was taken, starting Prometheus again");
                        continue;
                    }
                    panic!("Prometheus exited with {status}; its log:\n{log}");
                }
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// `GET` an API path; the `data` of a `"status":"success"` answer.
    fn api(&self, target: &str) -> Result<Json, String> {
        let response = try_get(self.port, target, &[])?;
        let json = Json::parse(&response.text_lossy())
            .map_err(|err| format!("{target}: {err} in {}", response.text_lossy()))?;
        if response.status != 200 || json.get("status").and_then(Json::str) != Some("success") {
            return Err(format!(
                "{target}: {} {}",
                response.status,
                response.text_lossy()
            ));
        }
        json.get("data")
            .cloned()
            .ok_or_else(|| format!("{target}: no data in {}", response.text_lossy()))
    }

    /// An instant query's vector: each series' labels and value string.
    fn query(&self, promql: &str) -> Result<Vec<(Labels, String)>, String> {
        let data = self.api(&format!("/api/v1/query?query={}", url_encode(promql)))?;
        if data.get("resultType").and_then(Json::str) != Some("vector") {
            return Err(format!("not a vector: {data:?}"));
        }
        let mut out = Vec::new();
        for item in data.get("result").and_then(Json::array).unwrap_or_default() {
            let labels = item
                .get("metric")
                .and_then(Json::string_map)
                .ok_or_else(|| format!("bad metric in {item:?}"))?;
            let value = item
                .get("value")
                .and_then(Json::array)
                .and_then(|v| v.get(1))
                .and_then(Json::str)
                .ok_or_else(|| format!("bad value in {item:?}"))?;
            out.push((labels, value.to_string()));
        }
        Ok(out)
    }

    /// The one series `promql` returns, or `Err` when there are none or several.
    fn query_one(&self, promql: &str) -> Result<(Labels, String), String> {
        let mut result = self.query(promql)?;
        if result.len() == 1 {
            Ok(result.remove(0))
        } else {
            Err(format!("{} series instead of 1: {result:?}", result.len()))
        }
    }

    /// Every active target's labels `job`, `health`, `lastError` and `scrapeUrl`.
    fn targets(&self) -> Result<Vec<BTreeMap<String, String>>, String> {
        let data = self.api("/api/v1/targets?state=active")?;
        let mut out = Vec::new();
        for target in data
            .get("activeTargets")
            .and_then(Json::array)
            .unwrap_or_default()
        {
            let mut fields = BTreeMap::new();
            let job = target
                .get("labels")
                .and_then(|l| l.get("job"))
                .and_then(Json::str);
            fields.insert("job".to_string(), job.unwrap_or_default().to_string());
            for key in ["health", "lastError", "scrapeUrl"] {
                let value = target.get(key).and_then(Json::str).unwrap_or_default();
                fields.insert(key.to_string(), value.to_string());
            }
            out.push(fields);
        }
        Ok(out)
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        // Its own process group: kill it and anything it may have started.
        let pgid = self.child.id();
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/// Inside a double-quoted PromQL string: `\` and `"` escaped, newline as `\n`.
fn promql_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A selector `name{job="...",k="v",...}` with exact matchers.
fn selector(name: &str, job: &str, labels: &[(&str, &str)]) -> String {
    let mut out = format!("{name}{{job={}", promql_string(job));
    for (k, v) in labels {
        out.push_str(&format!(",{k}={}", promql_string(v)));
    }
    out.push('}');
    out
}

/// `Ok` if the API's value string is `want`: `"+Inf"`, `"-Inf"`, `"NaN"` spelled so, other
/// values parsed back to the very same bits.
fn check_value(got: &str, want: f64) -> Result<(), String> {
    let ok = if want.is_nan() {
        got == "NaN"
    } else if want == f64::INFINITY {
        got == "+Inf"
    } else if want == f64::NEG_INFINITY {
        got == "-Inf"
    } else {
        got.parse::<f64>()
            .is_ok_and(|v| v.to_bits() == want.to_bits())
    };
    if ok {
        Ok(())
    } else {
        Err(format!("value {got:?}, expected {want:e}"))
    }
}

/// The samples of an exposition as this test counts them: non-empty lines that are not
/// comments (`# HELP`, `# TYPE`, `# UNIT`, `# EOF`).
fn count_samples(body: &str) -> usize {
    body.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .count()
}

/// What one job's checks have to know.
struct Job<'a> {
    name: &'a str,
    port: u16,
    openmetrics: bool,
}

impl Job<'_> {
    /// The labels Prometheus stores with a series of this job: `__name__`, `job`, `instance`,
    /// and the non-empty ones of `labels` (an empty label value is the absence of the label).
    fn labels(&self, name: &str, labels: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        out.insert("__name__".to_string(), name.to_string());
        out.insert("job".to_string(), self.name.to_string());
        out.insert("instance".to_string(), format!("127.0.0.1:{}", self.port));
        for (k, v) in labels {
            if !v.is_empty() {
                out.insert(k.to_string(), v.to_string());
            }
        }
        out
    }
}

/// Queries `name{labels}` of `job` and checks it is one series with exactly the expected
/// labels and value; failures are appended to `failures`.
fn check_series(
    prometheus: &Prometheus,
    job: &Job<'_>,
    name: &str,
    labels: &[(&str, &str)],
    want: f64,
    failures: &mut Vec<String>,
) {
    let promql = selector(name, job.name, labels);
    let result = prometheus
        .query_one(&promql)
        .and_then(|(got_labels, value)| {
            let want_labels = job.labels(name, labels);
            if got_labels != want_labels {
                return Err(format!("labels {got_labels:?}, expected {want_labels:?}"));
            }
            check_value(&value, want)
        });
    if let Err(err) = result {
        failures.push(format!("[{}] {promql}: {err}", job.name));
    }
}

/// A series as Prometheus should store it: name, labels (without `job` and `instance`), value.
type Expected = (&'static str, Vec<(&'static str, String)>, f64);

/// Every series of the fixed metrics, with `le` spelled as `openmetrics` says.
fn expected_series(openmetrics: bool) -> Vec<Expected> {
    let own = |labels: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        labels.iter().map(|(k, v)| (*k, v.to_string())).collect()
    };
    let mut out: Vec<Expected> = Vec::new();
    for (case, value) in GAUGES {
        out.push(("e2e_value", own(&[("case", case)]), *value));
    }
    for ([method, path], value) in COUNTERS {
        let labels = own(&[("method", method), ("path", path)]);
        out.push(("e2e_requests_total", labels, *value));
    }
    let buckets = if openmetrics {
        BUCKET_COUNTS_OM
    } else {
        BUCKET_COUNTS_TEXT
    };
    for (le, count) in buckets {
        out.push(("e2e_latency_seconds_bucket", own(&[("le", le)]), count));
    }
    let (h_sum, h_count) = (sum(&OBSERVATIONS), OBSERVATIONS.len() as f64);
    out.push(("e2e_latency_seconds_sum", Vec::new(), h_sum));
    out.push(("e2e_latency_seconds_count", Vec::new(), h_count));
    let summary = &SUMMARY_OBSERVATIONS;
    out.push(("e2e_size_bytes_sum", Vec::new(), sum(summary)));
    out.push(("e2e_size_bytes_count", Vec::new(), summary.len() as f64));
    let mut info = own(&[("component", INFO_COMPONENT)]);
    info.extend(own(&INFO_PAIRS));
    out.push(("e2e_build_info", info, 1.0));
    for state in STATES {
        let value = if state == CURRENT_STATE { 1.0 } else { 0.0 };
        let labels = own(&[("unit", ENUM_UNIT), ("e2e_state", state)]);
        out.push(("e2e_state", labels, value));
    }
    for (source, value) in COLLECTED_COUNTERS {
        out.push(("e2e_collected_total", own(&[("source", source)]), value));
    }
    out.push(("e2e_collected_gauge", Vec::new(), COLLECTED_GAUGE));
    let (name, label) = UTF8_GAUGE_ESCAPED;
    out.push((name, own(&[(label, UTF8_GAUGE.2)]), UTF8_GAUGE.3));
    let pad = bulk_pad();
    for i in [0, 1, 1234, BULK_SERIES - 1] {
        let labels = vec![("i", i.to_string()), ("pad", pad.clone())];
        out.push(("e2e_bulk", labels, i as f64 * BULK_FACTOR));
    }
    out
}

/// Every value of the fixed metrics, read back from Prometheus. Returns the `le` values
/// Prometheus stored, as spelled.
fn check_fixed_values(
    prometheus: &Prometheus,
    job: &Job<'_>,
    failures: &mut Vec<String>,
) -> Vec<String> {
    for (name, labels, value) in expected_series(job.openmetrics) {
        let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        check_series(prometheus, job, name, &labels, value, failures);
    }
    // Process stats: there, with no other labels, and plausible (they change at every scrape).
    for name in support::PROCESS_METRICS {
        let promql = selector(name, job.name, &[]);
        match prometheus.query_one(&promql) {
            Ok((labels, _)) if labels != job.labels(name, &[]) => {
                failures.push(format!("[{}] {promql}: labels {labels:?}", job.name));
            }
            Ok(_) => {}
            Err(err) => failures.push(format!("[{}] {promql}: {err}", job.name)),
        }
    }
    let start_time = selector("process_start_time_seconds", job.name, &[]);
    let promql = format!("{start_time} > 1e9");
    if let Err(err) = prometheus.query_one(&promql) {
        failures.push(format!("[{}] {promql}: {err}", job.name));
    }
    // Nothing else in these families: as many series as set.
    for (name, want) in [
        ("e2e_value", GAUGES.len()),
        ("e2e_requests_total", COUNTERS.len()),
        ("e2e_latency_seconds_bucket", BUCKET_COUNTS_TEXT.len()),
        ("e2e_state", STATES.len()),
        ("e2e_build_info", 1),
        ("e2e_collected_total", COLLECTED_COUNTERS.len()),
        ("e2e_bulk", BULK_SERIES),
    ] {
        let promql = format!("count({})", selector(name, job.name, &[]));
        match prometheus.query_one(&promql) {
            Ok((_, count)) if count == want.to_string() => {}
            Ok((_, count)) => failures.push(format!(
                "[{}] {promql}: {count} series, expected {want}",
                job.name
            )),
            Err(err) => failures.push(format!("[{}] {promql}: {err}", job.name)),
        }
    }
    // The `le` values as stored.
    let promql = selector("e2e_latency_seconds_bucket", job.name, &[]);
    let mut les: Vec<String> = match prometheus.query(&promql) {
        Ok(series) => series
            .iter()
            .map(|(labels, _)| labels.get("le").cloned().unwrap_or_default())
            .collect(),
        Err(err) => {
            failures.push(format!("[{}] {promql}: {err}", job.name));
            Vec::new()
        }
    };
    les.sort_by(|a, b| {
        let parse = |s: &str| s.parse::<f64>().unwrap_or(f64::INFINITY);
        parse(a).total_cmp(&parse(b))
    });
    les
}

/// The type and help text Prometheus recorded for each of the job's metric families
/// (`/api/v1/targets/metadata`), by family name.
fn metadata(
    prometheus: &Prometheus,
    job: &str,
) -> Result<BTreeMap<String, (String, String)>, String> {
    let matcher = format!("{{job={}}}", promql_string(job));
    let data = prometheus.api(&format!(
        "/api/v1/targets/metadata?match_target={}",
        url_encode(&matcher)
    ))?;
    let mut out = BTreeMap::new();
    for item in data.array().unwrap_or_default() {
        let field = |key| item.get(key).and_then(Json::str).unwrap_or_default();
        let entry = (field("type").to_string(), field("help").to_string());
        out.insert(field("metric").to_string(), entry);
    }
    Ok(out)
}

/// The families' types and help texts as Prometheus parsed them from the job's format.
fn check_metadata(prometheus: &Prometheus, job: &Job<'_>, failures: &mut Vec<String>) {
    let found = match metadata(prometheus, job.name) {
        Ok(found) => found,
        Err(err) => return failures.push(format!("[{}] {err}", job.name)),
    };
    eprintln!("[{}] metadata: {found:?}", job.name);
    // OpenMetrics names counter and info families without their sample suffixes, and has
    // the info and stateset types; the text format exposes them as counter_total and gauges.
    let (counter, collected, cpu, info, info_type, enum_type) = if job.openmetrics {
        let c = ("e2e_requests", "e2e_collected", "process_cpu_seconds");
        (c.0, c.1, c.2, "e2e_build", "info", "stateset")
    } else {
        let c = (
            "e2e_requests_total",
            "e2e_collected_total",
            "process_cpu_seconds_total",
        );
        (c.0, c.1, c.2, "e2e_build_info", "gauge", "gauge")
    };
    let want = [
        (counter, "counter", COUNTER_HELP),
        ("e2e_value", "gauge", GAUGE_HELP),
        ("e2e_latency_seconds", "histogram", "Latency."),
        ("e2e_size_bytes", "summary", "Sizes."),
        (info, info_type, "Build facts."),
        ("e2e_state", enum_type, "State."),
        (collected, "counter", "Collected."),
        ("e2e_collected_gauge", "gauge", "Collected gauge."),
        (UTF8_GAUGE_ESCAPED.0, "gauge", "UTF-8."),
        (
            cpu,
            "counter",
            "Total user and system CPU time spent in seconds.",
        ),
        (
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
        ),
    ];
    for (metric, kind, help) in want {
        let got = found.get(metric);
        if got.map(|(k, h)| (k.as_str(), h.as_str())) != Some((kind, help)) {
            failures.push(format!(
                "[{}] metadata of {metric}: {got:?}, expected ({kind:?}, {help:?})",
                job.name
            ));
        }
    }
}

/// The lines of an exposition that are the same at every scrape: all but the process stats.
fn fixed_lines(body: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(body)
        .lines()
        .filter(|line| !line.contains("process_"))
        .map(str::to_string)
        .collect()
}

/// Decompresses with the system's `gzip -dc`; `None` when there is no `gzip`.
fn gunzip(data: &[u8]) -> Option<Result<Vec<u8>, String>> {
    let gzip = find_on_path("gzip")?;
    let run = || -> Result<Vec<u8>, String> {
        let mut child = Command::new(gzip)
            .arg("-dc")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|err| format!("cannot run gzip: {err}"))?;
        let mut stdin = child.stdin.take().ok_or("gzip's stdin")?;
        let input = data.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let output = child
            .wait_with_output()
            .map_err(|err| format!("wait for gzip: {err}"))?;
        let _ = writer.join();
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(format!(
                "gzip -dc: {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    };
    Some(run())
}

/// Content-Encoding on the wire, for an exporter of this crate: identity without
/// `Accept-Encoding`; with `Accept-Encoding: gzip`, gzip exactly when the feature is on.
fn check_content_encoding(job: &Job<'_>, accept: Option<&str>, failures: &mut Vec<String>) {
    let mut headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
    let plain = match try_get(job.port, "/metrics", &headers) {
        Ok(r) => r,
        Err(err) => return failures.push(format!("[{}] {err}", job.name)),
    };
    if plain.status != 200 || plain.header("Content-Encoding").is_some() {
        failures.push(format!(
            "[{}] without Accept-Encoding: {} with Content-Encoding {:?}",
            job.name,
            plain.status,
            plain.header("Content-Encoding")
        ));
    }
    headers.push(("Accept-Encoding", "gzip"));
    let gz = match try_get(job.port, "/metrics", &headers) {
        Ok(r) => r,
        Err(err) => return failures.push(format!("[{}] {err}", job.name)),
    };
    let encoding = gz.header("Content-Encoding");
    eprintln!(
        "[{}] Accept-Encoding: gzip -> {} Content-Encoding: {encoding:?}, Vary: {:?}, {} bytes \
         (identity: {} bytes)",
        job.name,
        gz.status,
        gz.header("Vary"),
        gz.body.len(),
        plain.body.len()
    );
    if cfg!(feature = "gzip") {
        let vary_ok = gz.header("Vary").is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("Accept-Encoding"))
        });
        if gz.status != 200
            || encoding != Some("gzip")
            || !vary_ok
            || !gz.body.starts_with(&[0x1f, 0x8b])
            || gz.body.len() == plain.body.len()
        {
            failures.push(format!(
                "[{}] with the gzip feature, Accept-Encoding: gzip got {} Content-Encoding \
                 {encoding:?}, Vary {:?}, first bytes {:02x?}, {} bytes (identity {})",
                job.name,
                gz.status,
                gz.header("Vary"),
                &gz.body[..gz.body.len().min(4)],
                gz.body.len(),
                plain.body.len()
            ));
        } else {
            match gunzip(&gz.body) {
                Some(Ok(body)) if fixed_lines(&body) == fixed_lines(&plain.body) => {}
                Some(Ok(body)) => failures.push(format!(
                    "[{}] gzip body decompresses to something else:\n{}",
                    job.name,
                    String::from_utf8_lossy(&body)
                )),
                Some(Err(err)) => failures.push(format!("[{}] {err}", job.name)),
                None => eprintln!("note: no gzip on PATH, the gzip body is not decompressed"),
            }
        }
    } else if gz.status != 200
        || encoding.is_some()
        || fixed_lines(&gz.body) != fixed_lines(&plain.body)
    {
        failures.push(format!(
            "[{}] without the gzip feature, Accept-Encoding: gzip got {} Content-Encoding \
             {encoding:?} and {} bytes (identity {})",
            job.name,
            gz.status,
            gz.body.len(),
            plain.body.len()
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

#[test]
fn prometheus_scrapes_every_format_and_reads_back_every_value() {
    let Some(binary) = prometheus_tool("prometheus", "the end-to-end test") else {
        return;
    };
    let started = Instant::now();
    let deadline = started + OVERALL;

    // Declared before Prometheus, so they are dropped after it: nothing scrapes a dead target.
    let mut sample = Proc::spawn("sample", &TEST_ARGS, &[]);
    let sample_port = sample.ready_until(deadline);
    let om = start_in_process_exporter("e2e-om", true);
    let text = start_in_process_exporter("e2e-text", false);
    let recorder = Recorder::start();
    let jobs = [
        ("sample", sample_port),
        ("om", om.port()),
        ("text", text.port()),
        ("recorder", recorder.port),
    ];
    let prometheus = Prometheus::start(&binary, &jobs, deadline);
    eprintln!(
        "Prometheus ready on 127.0.0.1:{} after {:?}",
        prometheus.port,
        started.elapsed()
    );

    // Every target up, with no error.
    let targets = wait_for("every target to be up", deadline, || {
        let targets = prometheus.targets()?;
        for target in &targets {
            // A scrape that timed out (a loaded machine) is tried again; any other error is
            // the exporter's and fails at once.
            let timed_out = target["lastError"].contains("deadline exceeded");
            if target["health"] == "down" && !timed_out {
                panic!(
                    "target {} ({}) is down: {}\nPrometheus log:\n{}",
                    target["job"],
                    target["scrapeUrl"],
                    target["lastError"],
                    prometheus.log()
                );
            }
        }
        let up = |job: &str| {
            targets
                .iter()
                .any(|t| t["job"] == job && t["health"] == "up")
        };
        if jobs.iter().all(|(job, _)| up(job)) && targets.len() == jobs.len() {
            Ok(targets)
        } else {
            Err(format!("{targets:#?}"))
        }
    });
    for target in &targets {
        assert_eq!(target["lastError"], "", "{target:?}");
    }
    eprintln!("every target up after {:?}", started.elapsed());

    // What Prometheus sent.
    let head = wait_for("a recorded scrape", deadline, || {
        recorder
            .heads()
            .pop()
            .ok_or_else(|| "no scrape yet".to_string())
    });
    eprintln!("Prometheus' scrape request, as received:");
    for line in head.split("\r\n") {
        eprintln!("    {line}");
    }
    let accept = head_header(&head, "Accept").unwrap_or_else(|| panic!("no Accept in {head}"));
    assert!(
        accept.starts_with("application/openmetrics-text"),
        "Accept: {accept}"
    );
    assert!(
        accept.contains("text/plain;version=0.0.4"),
        "Accept: {accept}"
    );
    let agent = head_header(&head, "User-Agent").unwrap_or_default();
    if agent.starts_with("Prometheus/2.") {
        assert_eq!(accept, PROMETHEUS_2_ACCEPT, "{agent}'s Accept");
    }
    let accept_encoding = head_header(&head, "Accept-Encoding");
    assert_eq!(accept_encoding, Some("gzip"), "{head}");
    let timeout = head_header(&head, "X-Prometheus-Scrape-Timeout-Seconds")
        .unwrap_or_else(|| panic!("no X-Prometheus-Scrape-Timeout-Seconds in {head}"));
    assert_eq!(timeout.parse::<f64>(), Ok(1.0), "the configured 1s: {head}");
    let accept = accept.to_string();

    let om_job = Job {
        name: "om",
        port: om.port(),
        openmetrics: true,
    };
    let text_job = Job {
        name: "text",
        port: text.port(),
        openmetrics: false,
    };

    // Our exporters negotiate as expected with exactly what Prometheus sent.
    for (job, want) in [(&om_job, OPENMETRICS_TYPE), (&text_job, TEXT_TYPE)] {
        let response = try_get(job.port, "/metrics", &[("Accept", &accept)]).unwrap();
        assert_eq!(
            response.status,
            200,
            "[{}] {}",
            job.name,
            response.text_lossy()
        );
        assert_eq!(
            response.header("Content-Type"),
            Some(want),
            "[{}]",
            job.name
        );
    }

    // scrape_samples_scraped equals the samples of the exposition, as counted here. The
    // sample binary's series come and go with its random labels: poll until both agree.
    let bodies: [(&str, u16, Option<&str>); 3] = [
        ("sample", sample_port, Some(&accept)),
        ("om", om.port(), Some(&accept)),
        ("text", text.port(), None),
    ];
    for (job, port, accept) in bodies {
        let counted = wait_for(
            &format!("scrape_samples_scraped{{job=\"{job}\"}} to match the exposition"),
            deadline,
            || {
                let headers: Vec<(&str, &str)> =
                    accept.map(|a| ("Accept", a)).into_iter().collect();
                let response = try_get(port, "/metrics", &headers)?;
                if response.status != 200 {
                    return Err(format!("{} {}", response.status, response.text_lossy()));
                }
                let counted = count_samples(&response.text_lossy());
                let promql = selector("scrape_samples_scraped", job, &[]);
                let (_, value) = prometheus
                    .query_one(&promql)
                    .map_err(|err| format!("{promql}: {err}"))?;
                if value.parse::<f64>() == Ok(counted as f64) {
                    Ok(counted)
                } else {
                    let text = response.text_lossy();
                    let start: String = text.chars().take(3000).collect();
                    Err(format!(
                        "{promql} = {value}, counted {counted} in\n{start}…"
                    ))
                }
            },
        );
        eprintln!("[{job}] scrape_samples_scraped = {counted}");
    }
    for (job, _) in jobs {
        let promql = selector("up", job, &[]);
        wait_for(&promql, deadline, || {
            match prometheus.query_one(&promql)? {
                (_, value) if value == "1" => Ok(()),
                (_, value) => Err(format!("{promql} = {value}")),
            }
        });
    }

    // Every value read back, in both formats.
    let mut failures = Vec::new();
    for job in [&om_job, &text_job] {
        let les = check_fixed_values(&prometheus, job, &mut failures);
        eprintln!(
            "[{}] histogram le values stored by Prometheus: {les:?}",
            job.name
        );
        check_metadata(&prometheus, job, &mut failures);
    }

    // Content-Encoding on the wire; Prometheus (which always asks for gzip) got the values
    // above through it.
    check_content_encoding(&om_job, Some(&accept), &mut failures);
    check_content_encoding(&text_job, None, &mut failures);

    // Prometheus logs (at warn level) what it rejected while ingesting; nothing is expected.
    let log = prometheus.log();
    eprintln!("Prometheus log (warn and above):\n{log}--- end of log ---");
    for line in log.lines() {
        if ["scrape", "ingest", "sample", "parse"]
            .iter()
            .any(|word| line.to_ascii_lowercase().contains(word))
        {
            failures.push(format!("Prometheus logged: {line}"));
        }
    }

    // Still up, still without errors, after all that.
    for target in prometheus.targets().unwrap() {
        // As above, a timed-out scrape says the machine was busy, not that the exporter erred.
        let timed_out = target["lastError"].contains("deadline exceeded");
        if !timed_out && (target["health"] != "up" || !target["lastError"].is_empty()) {
            failures.push(format!("target not healthy at the end: {target:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}\nPrometheus log:\n{}\nsample's stderr:\n{}",
        failures.len(),
        failures.join("\n"),
        prometheus.log(),
        sample.stderr_now()
    );
    eprintln!("done after {:?}", started.elapsed());
}
