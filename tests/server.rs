//! The server over real sockets: an exporter on a loopback port in a thread of the test, and
//! std `TcpStream` clients that send raw bytes and read raw responses.
//!
//! Every client socket has read and write timeouts, so a broken server fails a test instead of
//! hanging it. Nothing is synchronised by sleeping: time-based behaviour (timeouts) is
//! configured short and observed as its effect (the connection closes) within a generous bound.
//! The few sleeps pace a client whose slowness is the point of its test, or poll, with a bound,
//! for an effect on other sockets.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_aioexporter::{
    BoxError, CollectedFamily, Collector, Exporter, Limits, MetricConfig,
};

use crate::support::http::Response;
use crate::support::test_server::TestServer;

/// How long a client waits for any read or write before the test fails.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// "Promptly": what a client that must not be held up by another one may wait, at most.
const PROMPTLY: Duration = Duration::from_secs(5);
/// A short timeout for tests that watch a server-side timeout fire.
const SHORT: Duration = Duration::from_millis(300);
/// The content type of the text exposition format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Series in the registry of tests that need responses much larger than socket buffers' worth
/// of a single write.
const MANY_SERIES: usize = 20_000;

// ---------------------------------------------------------------------------------------------
// Harness

// The server is `support::test_server::TestServer`; the clients are this file's own, which take
// pipelined responses apart exactly where the server put their boundaries.
impl TestServer {
    /// Connects a client.
    #[track_caller]
    fn connect(&self) -> Client {
        Client::connect(self.addr)
    }
}

/// Default limits with `change` applied (`Limits` is `#[non_exhaustive]`).
fn limits(change: impl FnOnce(&mut Limits)) -> Limits {
    let mut limits = Limits::default();
    change(&mut limits);
    limits
}

/// Adds a gauge `big` with `series` series, so a scrape is about 30 bytes × `series`.
#[track_caller]
fn add_big_gauge(exporter: &mut Exporter, series: usize) {
    let metrics = exporter
        .registry_mut()
        .create_metrics([MetricConfig::new("big", "Many series.", "gauge").labels(["series"])])
        .expect("create the big gauge");
    let family = metrics.gauge_family("big").expect("the big gauge family");
    for i in 0..series {
        family
            .labels(&[i.to_string()])
            .expect("a series of the big gauge")
            .set(i as f64);
    }
}

/// A GET request for `path` on HTTP/1.1.
fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n")
}

impl Response {
    /// Asserts the status and that the `Server` header names the test exporter.
    #[track_caller]
    fn assert_status(&self, status: u16) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.header("Server"), Some("test-exporter"), "{self:?}");
    }
}

/// A client connection that keeps what it has read beyond the current response, so pipelined
/// responses are taken apart exactly where the server put their boundaries.
struct Client {
    stream: TcpStream,
    /// Read and not yet consumed.
    buf: Vec<u8>,
    /// Bytes asked for per `read`.
    chunk: usize,
}

impl Client {
    #[track_caller]
    fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect to the test server");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        Client {
            stream,
            buf: Vec::new(),
            chunk: 64 * 1024,
        }
    }

    #[track_caller]
    fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream
            .write_all(bytes.as_ref())
            .expect("send to the test server");
    }

    /// Sends a GET for `path` and reads its response.
    #[track_caller]
    fn get(&mut self, path: &str) -> Response {
        self.send(get(path));
        self.response()
    }

    /// Reads once more into `buf`; `Ok(0)` at end of stream.
    fn fill(&mut self) -> io::Result<usize> {
        let start = self.buf.len();
        self.buf.resize(start + self.chunk, 0);
        let result = self.stream.read(&mut self.buf[start..]);
        self.buf.truncate(start + *result.as_ref().unwrap_or(&0));
        result
    }

    /// Reads more, failing the test on end of stream, error or timeout.
    #[track_caller]
    fn fill_or_fail(&mut self, what: &str) {
        let outcome = match self.fill() {
            Ok(0) => "the connection was closed".to_string(),
            Ok(_) => return,
            Err(err) => format!("{err}"),
        };
        let tail = &self.buf[self.buf.len().saturating_sub(300)..];
        panic!(
            "reading {what}: {outcome}; have {} bytes, ending {:?}",
            self.buf.len(),
            String::from_utf8_lossy(tail)
        );
    }

    /// Reads a response head: status line and headers, each ending in CRLF.
    #[track_caller]
    fn response_head(&mut self) -> Response {
        let head_len = loop {
            if let Some(pos) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break pos + 4;
            }
            self.fill_or_fail("a response head");
        };
        let head: Vec<u8> = self.buf.drain(..head_len).collect();
        let head = String::from_utf8(head).expect("a UTF-8 response head");
        let mut lines = head.strip_suffix("\r\n\r\n").unwrap().split("\r\n");
        let status_line = lines.next().unwrap();
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let headers = lines
            .map(|line| {
                let (name, value) = line
                    .split_once(": ")
                    .unwrap_or_else(|| panic!("bad header line {line:?}"));
                (name.to_string(), value.to_string())
            })
            .collect();
        Response {
            status,
            headers,
            body: Vec::new(),
        }
    }

    /// Reads a whole response, its body as long as its `Content-Length` says.
    #[track_caller]
    fn response(&mut self) -> Response {
        let mut response = self.response_head();
        let len: usize = response
            .header("Content-Length")
            .unwrap_or_else(|| panic!("no Content-Length: {response:?}"))
            .parse()
            .expect("a decimal Content-Length");
        while self.buf.len() < len {
            self.fill_or_fail("a response body");
        }
        response.body = self.buf.drain(..len).collect();
        response
    }

    /// Reads until the server closes, failing on timeout.
    #[track_caller]
    fn read_to_end(&mut self) -> Vec<u8> {
        loop {
            match self.fill() {
                Ok(0) => return std::mem::take(&mut self.buf),
                Ok(_) => {}
                Err(err) => panic!("reading to the end failed: {err}"),
            }
        }
    }

    /// Asserts that nothing more comes and the server closes the connection (end of stream, or a
    /// reset) within [`IO_TIMEOUT`].
    #[track_caller]
    fn assert_closed(&mut self) {
        self.assert_closed_within(IO_TIMEOUT);
    }

    #[track_caller]
    fn assert_closed_within(&mut self, timeout: Duration) {
        assert!(
            self.buf.is_empty(),
            "unexpected bytes: {:?}",
            String::from_utf8_lossy(&self.buf)
        );
        self.stream.set_read_timeout(Some(timeout)).unwrap();
        let mut byte = [0u8; 1];
        match self.stream.read(&mut byte) {
            Ok(0) => {}
            Err(err) if err.kind() == io::ErrorKind::ConnectionReset => {}
            Ok(_) => {
                let mut rest = byte.to_vec();
                let _ = self.stream.read_to_end(&mut rest);
                panic!(
                    "expected the connection closed, got bytes {:?}",
                    String::from_utf8_lossy(&rest)
                );
            }
            Err(err) => panic!("expected the connection closed within {timeout:?}, got {err}"),
        }
    }

    /// `true` if the server has closed the connection by now (without waiting).
    #[track_caller]
    fn is_closed_now(&self) -> bool {
        self.stream.set_nonblocking(true).unwrap();
        let mut byte = [0u8; 1];
        let closed = match (&self.stream).read(&mut byte) {
            Ok(0) => true,
            Err(err) if err.kind() == io::ErrorKind::ConnectionReset => true,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => false,
            Ok(_) => panic!("unexpected bytes on an idle connection"),
            Err(err) => panic!("unexpected error on an idle connection: {err}"),
        };
        self.stream.set_nonblocking(false).unwrap();
        closed
    }
}

// ---------------------------------------------------------------------------------------------
// Routes and headers

#[test]
fn get_metrics_returns_the_exposition_with_its_headers() {
    let server = TestServer::start(|e| {
        e.registry_mut()
            .create_metrics([MetricConfig::new("answer", "The answer.", "gauge")])
            .unwrap();
        e.set_metric_update_handler(|metrics| {
            metrics.gauge("answer")?.set(42.0);
            Ok(())
        });
    });
    let response = server.connect().get("/metrics");
    response.assert_status(200);
    assert_eq!(response.header("Content-Type"), Some(TEXT_FORMAT));
    assert_eq!(
        response.header("Content-Length"),
        Some(response.body.len().to_string().as_str())
    );
    let body = response.text();
    assert!(body.contains("# TYPE answer gauge\n"), "{body}");
    assert!(body.contains("\nanswer 42\n"), "{body}");
}

#[test]
fn server_header_carries_the_version_when_set() {
    let server = TestServer::start(|e| {
        e.set_version("1.2.3");
    });
    let mut client = server.connect();
    for path in ["/metrics", "/", "/nope"] {
        let response = client.get(path);
        assert_eq!(
            response.header("Server"),
            Some("test-exporter/1.2.3"),
            "{path}: {response:?}"
        );
    }
}

/// Seconds since 1970 of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), counted day by day
/// here rather than with the crate's own arithmetic; `None` if it is not one.
fn parse_http_date(date: &str) -> Option<u64> {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let fields: Vec<&str> = date.split(' ').collect();
    let [weekday, day, month, year, time, "GMT"] = fields[..] else {
        return None;
    };
    if day.len() != 2 || year.len() != 4 {
        return None;
    }
    let (day, year): (u64, u64) = (day.parse().ok()?, year.parse().ok()?);
    let month = MONTHS.iter().position(|m| *m == month)?;
    let leap = |y: u64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = |y: u64, m: usize| match m {
        1 => 28 + u64::from(leap(y)),
        3 | 5 | 8 | 10 => 30,
        _ => 31,
    };
    if day == 0 || day > month_days(year, month) || year < 1970 {
        return None;
    }
    let days = (1970..year).map(|y| 365 + u64::from(leap(y))).sum::<u64>()
        + (0..month).map(|m| month_days(year, m)).sum::<u64>()
        + (day - 1);
    if weekday.strip_suffix(',') != Some(WEEKDAYS[(days % 7) as usize]) {
        return None;
    }
    let hms: Vec<u64> = time
        .split(':')
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms[..] else { return None };
    (h < 24 && m < 60 && s < 60).then_some(days * 86_400 + h * 3_600 + m * 60 + s)
}

#[test]
fn every_response_carries_the_date() {
    let server = TestServer::start(|_| {});
    let mut client = server.connect();
    let unix_now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let before = unix_now();
    let mut responses = vec![client.get("/metrics"), client.get("/"), client.get("/nope")];
    client.send("POST /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
    responses.push(client.response());
    client.send("GET /metrics HTTP/1.1\r\n\r\n"); // no Host: rejected by the session
    responses.push(client.response());
    let after = unix_now();
    for response in &responses {
        let date = response
            .header("Date")
            .unwrap_or_else(|| panic!("no Date: {response:?}"));
        let secs = parse_http_date(date).unwrap_or_else(|| panic!("not an IMF-fixdate: {date}"));
        assert!(
            (before..=after).contains(&secs),
            "{date} is not between {before} and {after}"
        );
    }
    assert_eq!(
        responses.iter().map(|r| r.status).collect::<Vec<_>>(),
        [200, 200, 404, 405, 400]
    );
}

#[test]
fn http_dates_are_parsed_by_the_test_as_expected() {
    assert_eq!(
        parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
        Some(784_111_777)
    );
    assert_eq!(
        parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"),
        Some(951_782_400)
    );
    assert_eq!(parse_http_date("Mon, 06 Nov 1994 08:49:37 GMT"), None); // wrong weekday
    assert_eq!(parse_http_date("Sun, 6 Nov 1994 08:49:37 GMT"), None);
    assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
}

#[test]
fn query_string_is_ignored() {
    let server = TestServer::start(|_| {});
    let response = server.connect().get("/metrics?x=1");
    response.assert_status(200);
    assert_eq!(response.header("Content-Type"), Some(TEXT_FORMAT));
}

#[test]
fn custom_metrics_path_replaces_the_default() {
    let server = TestServer::start(|e| {
        e.set_metrics_path("/custom").unwrap();
    });
    let mut client = server.connect();
    let response = client.get("/custom");
    response.assert_status(200);
    assert_eq!(response.header("Content-Type"), Some(TEXT_FORMAT));
    client.get("/metrics").assert_status(404);
    let landing = client.get("/");
    assert!(landing.text().contains("href=\"./custom\""), "{landing:?}");
}

#[test]
fn head_metrics_has_the_get_headers_and_no_body() {
    let server = TestServer::start(|e| {
        e.registry_mut()
            .create_metrics([MetricConfig::new("answer", "The answer.", "gauge")])
            .unwrap();
        e.set_metric_update_handler(|metrics| {
            metrics.gauge("answer")?.set(42.0);
            Ok(())
        });
    });
    let mut client = server.connect();
    // The GET right behind the HEAD shows where the server thinks the HEAD response ends.
    client.send(
        "HEAD /metrics HTTP/1.1\r\nHost: test\r\n\r\nGET /metrics HTTP/1.1\r\nHost: test\r\n\r\n",
    );
    let head = client.response_head();
    let full = client.response();
    head.assert_status(200);
    assert_eq!(head.headers, full.headers);
    assert_eq!(
        head.header("Content-Length"),
        Some(full.body.len().to_string().as_str())
    );
    assert!(full.text().contains("\nanswer 42\n"), "{full:?}");
}

#[test]
fn landing_page_shows_name_description_and_metrics_link() {
    let server = TestServer::start(|_| {});
    let response = server.connect().get("/");
    response.assert_status(200);
    assert_eq!(
        response.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    let page = response.text();
    assert!(page.contains("test-exporter"), "{page}");
    assert!(page.contains("A test exporter."), "{page}");
    assert!(page.contains("<a href=\"./metrics\">"), "{page}");
}

#[test]
fn landing_page_does_not_run_the_update_handler() {
    let runs = Arc::new(AtomicUsize::new(0));
    let runs_in_handler = Arc::clone(&runs);
    let server = TestServer::start(move |e| {
        e.set_metric_update_handler(move |_| {
            runs_in_handler.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
    });
    let mut client = server.connect();
    client.get("/").assert_status(200);
    client.send("HEAD / HTTP/1.1\r\nHost: test\r\n\r\n");
    client.response_head().assert_status(200);
    client.get("/nope").assert_status(404);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[test]
fn unknown_paths_are_404() {
    let server = TestServer::start(|_| {});
    let mut client = server.connect();
    for path in ["/nope", "/metrics/", "/metricsx", "/index.html"] {
        let response = client.get(path);
        assert_eq!(response.status, 404, "{path}: {response:?}");
    }
}

#[test]
fn routes_match_the_decoded_path() {
    let server = TestServer::start(|e| {
        e.set_metrics_path("/m'x(1)").unwrap();
    });
    let mut client = server.connect();
    for (path, status) in [
        ("/m'x(1)", 200),
        ("/m%27x%281%29", 200),
        ("/%6D%27x(1)?q=%20", 200),
        ("/%2F", 404),
        ("/m%27x%281", 404),
        ("/%2f", 404),
    ] {
        let response = client.get(path);
        assert_eq!(response.status, status, "{path}: {response:?}");
    }
    let landing = client.get("/%3F");
    assert_eq!(landing.status, 404, "{landing:?}"); // `?` decoded is no query
                                                    // A malformed escape is a bad request, as in Go's net/http, and ends the connection.
    let malformed = client.get("/m%zzx(1)");
    assert_eq!(malformed.status, 400, "{malformed:?}");
}

#[test]
fn other_methods_are_405_with_allow() {
    let server = TestServer::start(|_| {});
    let mut client = server.connect();
    for method in ["POST", "PUT", "DELETE"] {
        for path in ["/", "/metrics"] {
            client.send(format!("{method} {path} HTTP/1.1\r\nHost: test\r\n\r\n"));
            let response = client.response();
            assert_eq!(response.status, 405, "{method} {path}: {response:?}");
            assert_eq!(
                response.header("Allow"),
                Some("GET, HEAD"),
                "{method} {path}"
            );
        }
    }
}

/// What Prometheus 2 sends when it prefers OpenMetrics.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,\
     application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

#[test]
fn openmetrics_is_served_when_preferred() {
    let server = TestServer::start(|e| {
        e.registry_mut()
            .create_metrics([MetricConfig::new("answer", "The answer.", "gauge")])
            .unwrap();
    });
    let mut client = server.connect();
    client.send(format!(
        "GET /metrics HTTP/1.1\r\nHost: test\r\nAccept: {PROMETHEUS_ACCEPT}\r\n\r\n"
    ));
    let response = client.response();
    response.assert_status(200);
    assert_eq!(
        response.header("Content-Type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores")
    );
    assert!(response.text().ends_with("# EOF\n"), "{response:?}");
}

#[test]
fn openmetrics_can_be_turned_off() {
    let server = TestServer::start(|e| {
        e.set_openmetrics(false);
    });
    let mut client = server.connect();
    client.send(format!(
        "GET /metrics HTTP/1.1\r\nHost: test\r\nAccept: {PROMETHEUS_ACCEPT}\r\n\r\n"
    ));
    let response = client.response();
    response.assert_status(200);
    assert_eq!(response.header("Content-Type"), Some(TEXT_FORMAT));
}

#[test]
fn update_handler_sees_the_announced_scrape_deadline() {
    let remaining = Arc::new(std::sync::Mutex::new(Vec::new()));
    let remaining_in_handler = Arc::clone(&remaining);
    let server = TestServer::start(move |e| {
        e.set_metric_update_handler_with_scrape(move |_, scrape| {
            remaining_in_handler
                .lock()
                .unwrap()
                .push(scrape.remaining());
            Ok(())
        });
    });
    let mut client = server.connect();
    client.send(
        "GET /metrics HTTP/1.1\r\nHost: test\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n",
    );
    client.response().assert_status(200);
    client.get("/metrics").assert_status(200);
    let remaining = remaining.lock().unwrap();
    let [announced, unannounced] = remaining[..] else {
        panic!("two scrapes expected: {remaining:?}");
    };
    // 10 s minus the default 0.5 s offset, minus however long the handler took to start.
    let announced = announced.expect("a deadline when the scraper announces its timeout");
    assert!(
        announced > Duration::ZERO && announced <= Duration::from_millis(9500),
        "{announced:?}"
    );
    assert_eq!(unannounced, None);
}

// ---------------------------------------------------------------------------------------------
// Connections: keep-alive, pipelining, partial requests

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let server = TestServer::start(|_| {});
    let mut client = server.connect();
    for path in ["/metrics", "/", "/metrics"] {
        let response = client.get(path);
        response.assert_status(200);
        assert_eq!(response.header("Connection"), None, "{response:?}");
    }
}

#[test]
fn connection_close_is_answered_then_closed() {
    let server = TestServer::start(|_| {});
    let mut client = server.connect();
    client.send("GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    let response = client.response();
    response.assert_status(200);
    assert_eq!(response.header("Connection"), Some("close"));
    client.assert_closed();
}

#[test]
fn http10_without_keep_alive_is_closed_after_the_response() {
    let server = TestServer::start(|_| {});
    let mut client = server.connect();
    client.send("GET /metrics HTTP/1.0\r\n\r\n");
    let response = client.response();
    response.assert_status(200);
    assert_eq!(response.header("Connection"), Some("close"));
    client.assert_closed();
}

#[test]
fn http10_with_keep_alive_stays_open() {
    let server = TestServer::start(|_| {});
    let mut client = server.connect();
    for _ in 0..2 {
        client.send("GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let response = client.response();
        response.assert_status(200);
        assert_eq!(response.header("Connection"), Some("keep-alive"));
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = TestServer::start(|_| {});
    let paths: Vec<&str> = ["/", "/metrics", "/nope"]
        .into_iter()
        .cycle()
        .take(10)
        .collect();
    let mut client = server.connect();
    client.send(paths.iter().map(|p| get(p)).collect::<String>());
    for path in paths {
        let response = client.response();
        let expected = match path {
            "/" => (200, "text/html; charset=utf-8"),
            "/metrics" => (200, TEXT_FORMAT),
            _ => (404, "text/plain; charset=utf-8"),
        };
        assert_eq!(
            (response.status, response.header("Content-Type").unwrap()),
            expected,
            "response to {path}"
        );
    }
    // And nothing more.
    assert!(client.buf.is_empty(), "{:?}", client.buf);
}

#[test]
fn request_sent_one_byte_at_a_time_is_answered() {
    let server = TestServer::start(|_| {});
    let mut client = server.connect();
    client.stream.set_nodelay(true).unwrap();
    for byte in get("/metrics").bytes() {
        client.send([byte]);
        client.stream.flush().unwrap();
    }
    client.response().assert_status(200);
}

// ---------------------------------------------------------------------------------------------
// The update handler

#[test]
fn update_handler_runs_before_every_scrape() {
    let runs = Arc::new(AtomicUsize::new(0));
    let runs_in_handler = Arc::clone(&runs);
    let server = TestServer::start(move |e| {
        e.registry_mut()
            .create_metrics([MetricConfig::new("scrapes", "Scrapes seen.", "counter")])
            .unwrap();
        e.set_metric_update_handler(move |metrics| {
            runs_in_handler.fetch_add(1, Ordering::SeqCst);
            metrics.counter("scrapes")?.inc();
            Ok(())
        });
    });
    let mut client = server.connect();
    for n in 1..=3 {
        let response = client.get("/metrics");
        response.assert_status(200);
        let body = response.text();
        assert!(body.contains(&format!("\nscrapes_total {n}\n")), "{body}");
        assert_eq!(runs.load(Ordering::SeqCst), n);
        client.get("/").assert_status(200);
        assert_eq!(runs.load(Ordering::SeqCst), n, "the landing page ran it");
    }
    // HEAD is a scrape too: it must announce the length of a fresh body.
    client.send("HEAD /metrics HTTP/1.1\r\nHost: test\r\n\r\n");
    client.response_head().assert_status(200);
    assert_eq!(runs.load(Ordering::SeqCst), 4);
}

#[test]
fn handler_error_is_500_with_its_message_then_the_next_scrape_succeeds() {
    let fail = Arc::new(AtomicBool::new(true));
    let fail_in_handler = Arc::clone(&fail);
    let server = TestServer::start(move |e| {
        e.set_metric_update_handler(move |_| {
            if fail_in_handler.load(Ordering::SeqCst) {
                return Err("database unreachable".into());
            }
            Ok(())
        });
    });
    let mut client = server.connect();
    let response = client.get("/metrics");
    response.assert_status(500);
    let body = response.text();
    assert!(body.contains("database unreachable"), "{body}");
    assert!(body.ends_with('\n'), "{body:?}");
    assert_eq!(body.lines().count(), 1, "{body:?}");

    fail.store(false, Ordering::SeqCst);
    let response = client.get("/metrics");
    response.assert_status(200);
    assert_eq!(response.header("Content-Type"), Some(TEXT_FORMAT));
}

#[test]
fn handler_panic_is_500_and_the_server_keeps_serving() {
    let panic_now = Arc::new(AtomicBool::new(true));
    let panic_in_handler = Arc::clone(&panic_now);
    let server = TestServer::start(move |e| {
        e.set_metric_update_handler(move |_| {
            if panic_in_handler.load(Ordering::SeqCst) {
                panic!("deliberate panic in the update handler (expected by the test)");
            }
            Ok(())
        });
    });
    let mut client = server.connect();
    let response = client.get("/metrics");
    response.assert_status(500);
    assert!(
        response.text().contains("panicked"),
        "{:?}",
        response.text()
    );
    // The same connection, and a new one, are still served.
    client.get("/").assert_status(200);
    panic_now.store(false, Ordering::SeqCst);
    server.connect().get("/metrics").assert_status(200);
}

/// What a panic or an error from the caller's code may carry, whose own drop or spelling
/// panics: caught as the panic itself is, so one scrape fails and not the server thread.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("a payload's drop panicking (expected by the test)");
    }
}

#[derive(Debug)]
struct BadError(&'static str);

impl std::fmt::Display for BadError {
    fn fmt(&self, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 == "display" {
            panic!("an error's Display panicking (expected by the test)");
        }
        Ok(())
    }
}

impl std::error::Error for BadError {}

impl Drop for BadError {
    fn drop(&mut self) {
        if self.0 == "drop" {
            panic!("an error's drop panicking (expected by the test)");
        }
    }
}

#[test]
fn a_handler_whose_panic_or_error_panics_again_is_500_not_a_dead_server() {
    for case in ["payload", "display", "drop"] {
        let server = TestServer::start(move |e| {
            e.set_metric_update_handler(move |_| match case {
                "payload" => std::panic::panic_any(Bomb),
                other => Err(Box::new(BadError(other))),
            });
        });
        let mut client = server.connect();
        client.get("/metrics").assert_status(500);
        client.get("/").assert_status(200);
        server.connect().get("/-/healthy").assert_status(200);
    }
}

/// At the connection limit, the idle connection closed for a newcomer is never one whose next
/// request has already arrived unread: closed with input unread, it is reset, and that request
/// lost. Both arrive while the update handler holds the loop, the newcomer first.
#[test]
fn eviction_spares_a_connection_whose_next_request_has_arrived() {
    use std::sync::{mpsc, Mutex};
    let (started, started_rx) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let gate = Mutex::new(Some((started, release_rx)));
    let server = TestServer::start(move |e| {
        e.set_limits(limits(|l| l.max_connections = 2));
        e.set_metric_update_handler(move |_| {
            if let Some((started, release)) = gate.lock().unwrap().take() {
                started.send(()).unwrap();
                release.recv().unwrap();
            }
            Ok(())
        });
    });
    let mut kept = server.connect();
    kept.get("/").assert_status(200);
    // Past the grace a new connection has before it may be evicted (half a second).
    std::thread::sleep(Duration::from_millis(600));
    let mut scraper = server.connect();
    scraper.send("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
    started_rx.recv().unwrap();
    let mut newcomer = server.connect();
    kept.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    release.send(()).unwrap();
    scraper.response().assert_status(200);
    kept.response().assert_status(200);
    newcomer.get("/").assert_status(200);
}

/// A collector whose source is down.
struct FailingCollector;

impl Collector for FailingCollector {
    fn collect(&mut self, _out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
        Err("sensor offline".into())
    }
}

#[test]
fn collector_error_is_500_with_its_message() {
    let server = TestServer::start(|e| {
        e.registry_mut().register_collector(FailingCollector);
    });
    let mut client = server.connect();
    let response = client.get("/metrics");
    response.assert_status(500);
    let body = response.text();
    assert!(body.contains("sensor offline"), "{body}");
    assert_eq!(body.lines().count(), 1, "{body:?}");
    // The connection is kept.
    client.get("/").assert_status(200);
}

/// A collector that panics while the flag is set.
struct PanickingCollector(Arc<AtomicBool>);

impl Collector for PanickingCollector {
    fn collect(&mut self, _out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
        if self.0.load(Ordering::SeqCst) {
            panic!("deliberate panic in a collector (expected by the test)");
        }
        Ok(())
    }
}

#[test]
fn collector_panic_is_500_and_the_server_keeps_serving() {
    let panic_now = Arc::new(AtomicBool::new(true));
    let collector = PanickingCollector(Arc::clone(&panic_now));
    let server = TestServer::start(move |e| {
        e.registry_mut().register_collector(collector);
    });
    let mut client = server.connect();
    let response = client.get("/metrics");
    response.assert_status(500);
    assert!(
        response.text().contains("collector panicked"),
        "{:?}",
        response.text()
    );
    client.get("/").assert_status(200);
    panic_now.store(false, Ordering::SeqCst);
    server.connect().get("/metrics").assert_status(200);
}

// ---------------------------------------------------------------------------------------------
// Malformed and oversized requests

#[test]
fn garbage_is_400_then_closed() {
    let server = TestServer::start(|_| {});
    let mut client = server.connect();
    client.send(b"\x00\x01\x02 not http at all\r\n\r\n");
    let response = client.response();
    response.assert_status(400);
    assert_eq!(response.header("Connection"), Some("close"));
    client.assert_closed();
}

#[test]
fn missing_host_on_http11_is_400_then_closed() {
    let server = TestServer::start(|_| {});
    let mut client = server.connect();
    client.send("GET /metrics HTTP/1.1\r\n\r\n");
    client.response().assert_status(400);
    client.assert_closed();
}

#[test]
fn oversized_request_line_is_414_then_closed() {
    let server = TestServer::with_limits(limits(|l| l.max_request_head_bytes = 1024));
    let mut client = server.connect();
    client.send(get(&format!("/metrics?{}", "x".repeat(2000))));
    let response = client.response();
    response.assert_status(414);
    assert_eq!(response.header("Connection"), Some("close"));
    client.assert_closed();
}

#[test]
fn oversized_headers_are_431_then_closed() {
    let server = TestServer::with_limits(limits(|l| l.max_request_head_bytes = 1024));
    let mut client = server.connect();
    client.send(format!(
        "GET /metrics HTTP/1.1\r\nHost: test\r\nX-Big: {}\r\n\r\n",
        "x".repeat(2000)
    ));
    let response = client.response();
    response.assert_status(431);
    assert_eq!(response.header("Connection"), Some("close"));
    client.assert_closed();
}

#[test]
fn a_hundred_headers_are_431_then_closed() {
    let server = TestServer::start(|_| {});
    let mut client = server.connect();
    let mut request = String::from("GET /metrics HTTP/1.1\r\nHost: test\r\n");
    for i in 0..100 {
        request.push_str(&format!("X-{i}: {i}\r\n"));
    }
    request.push_str("\r\n");
    assert!(
        request.len() < 8192,
        "under the size limit: only the count is wrong"
    );
    client.send(request);
    client.response().assert_status(431);
    client.assert_closed();
}

#[test]
fn request_with_a_body_is_answered_then_closed() {
    let server = TestServer::start(|_| {});
    let mut client = server.connect();
    client.send("POST /metrics HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello");
    let response = client.response();
    response.assert_status(405);
    assert_eq!(response.header("Connection"), Some("close"));
    client.assert_closed();
}

#[test]
fn request_body_is_never_parsed_as_a_request() {
    let server = TestServer::start(|_| {});
    let mut client = server.connect();
    client.send(
        "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\n\
         GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let response = client.response();
    response.assert_status(405);
    assert_eq!(response.header("Connection"), Some("close"));
    // Exactly one response, then the end.
    client.assert_closed();
}

#[test]
fn rejected_requests_get_their_status_then_close() {
    let server = TestServer::start(|_| {});
    let cases: &[(&str, &str, u16)] = &[
        // A version we do not speak.
        ("HTTP/2.0", "GET /metrics HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        // Two hosts: which one is meant?
        (
            "two Host",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            400,
        ),
        // A Host no authority can be (RFC 9112 §3.2: a MUST for 400).
        ("bad Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
        // A length that is not a number.
        (
            "bad length",
            "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: x\r\n\r\n",
            400,
        ),
        // Both framings at once (request smuggling).
        (
            "TE and CL",
            "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
        ),
        // Obsolete line folding.
        (
            "obs-fold",
            "GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n",
            400,
        ),
        // A target that is neither a path nor an absolute URL.
        ("bad target", "GET metrics HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ];
    for (name, request, status) in cases {
        let mut client = server.connect();
        client.send(request);
        let response = client.response();
        assert_eq!(response.status, *status, "{name}: {response:?}");
        assert_eq!(response.header("Connection"), Some("close"), "{name}");
        client.assert_closed();
    }
}

#[test]
fn requests_pipelined_after_connection_close_are_not_answered() {
    let server = TestServer::start(|_| {});
    let mut client = server.connect();
    client.send(format!(
        "{}GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n{}",
        get("/metrics"),
        get("/nope")
    ));
    client.response().assert_status(200);
    let last = client.response();
    last.assert_status(200);
    assert_eq!(last.header("Connection"), Some("close"));
    client.assert_closed();
}

// ---------------------------------------------------------------------------------------------
// Slow, idle, greedy and rude clients

#[test]
fn stalled_request_head_does_not_block_others() {
    let server = TestServer::start(|_| {});
    let mut stalled = server.connect();
    stalled.send("GET /metrics HTTP/1.1\r\nHo");
    let mut other = server.connect();
    other.stream.set_read_timeout(Some(PROMPTLY)).unwrap();
    other.get("/metrics").assert_status(200);
    // The stalled one is still open, and finishing its head gets it answered.
    assert!(!stalled.is_closed_now());
    stalled.send("st: test\r\n\r\n");
    stalled.response().assert_status(200);
}

#[test]
fn stalled_request_head_is_closed_after_the_head_timeout() {
    let server = TestServer::with_limits(limits(|l| l.request_head_timeout = SHORT));
    let mut stalled = server.connect();
    stalled.send("GET /metrics HTTP/1.1\r\nHo");
    stalled.assert_closed();
}

#[test]
fn trickled_head_is_closed_after_the_head_timeout() {
    // Trickling bytes does not extend the time a head has.
    let server = TestServer::with_limits(limits(|l| l.request_head_timeout = SHORT));
    let mut client = server.connect();
    client.send("GET /metrics HTTP/1.1\r\nHost: test\r\n");
    let started = Instant::now();
    let closed = loop {
        // Each byte only goes out while the connection is open; the server closes it after the
        // head timeout even though bytes keep coming.
        if client.stream.write_all(b"X-Trickle: y\r\n").is_err() || client.is_closed_now() {
            break true;
        }
        if started.elapsed() > IO_TIMEOUT {
            break false;
        }
        std::thread::sleep(Duration::from_millis(20)); // pacing, not synchronisation
    };
    assert!(closed, "still open after {IO_TIMEOUT:?} of trickling");
}

#[test]
fn pipelined_partial_head_is_closed_after_the_head_timeout() {
    let server = TestServer::with_limits(limits(|l| {
        l.request_head_timeout = SHORT;
        l.idle_timeout = Duration::from_secs(60);
    }));
    let mut client = server.connect();
    // A whole request, then the start of another that never completes.
    client.send(format!("{}GET /metrics HTTP/1.1\r\nHo", get("/")));
    client.response().assert_status(200);
    client.assert_closed();
}

#[test]
fn each_pipelined_head_gets_its_own_head_timeout() {
    // Every segment completes one head and starts the next: no head takes long, but the
    // connection always has a partial head when an event ends.
    let head_timeout = Duration::from_secs(1);
    let server = TestServer::with_limits(limits(|l| l.request_head_timeout = head_timeout));
    let mut client = server.connect();
    client.send("GET / HTTP/1.1\r\nHo");
    let started = Instant::now();
    while started.elapsed() < 2 * head_timeout {
        std::thread::sleep(head_timeout / 4); // pacing the client, not synchronisation
        client.send("st: test\r\n\r\nGET / HTTP/1.1\r\nHo");
        client.response().assert_status(200);
    }
}

#[test]
fn idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let server = TestServer::with_limits(limits(|l| l.idle_timeout = SHORT));
    let mut client = server.connect();
    client.get("/metrics").assert_status(200);
    client.assert_closed();
}

#[test]
fn idle_timeout_counts_from_the_last_response() {
    let idle = Duration::from_secs(2);
    let server = TestServer::with_limits(limits(|l| l.idle_timeout = idle));
    let mut client = server.connect();
    let started = Instant::now();
    // Never idle for more than a quarter of the idle timeout, for twice its length.
    while started.elapsed() < 2 * idle {
        client.get("/metrics").assert_status(200);
        std::thread::sleep(idle / 4); // pacing the client, not synchronisation
    }
    client.get("/metrics").assert_status(200);
}

#[test]
fn connection_that_never_sends_is_closed_after_the_idle_timeout() {
    let server = TestServer::with_limits(limits(|l| l.idle_timeout = SHORT));
    server.connect().assert_closed();
}

#[test]
fn full_server_evicts_an_idle_connection_for_a_new_one() {
    let server = TestServer::with_limits(limits(|l| l.max_connections = 8));
    let idle: Vec<Client> = (0..8).map(|_| server.connect()).collect();
    server.connect().get("/metrics").assert_status(200);
    let deadline = Instant::now() + IO_TIMEOUT;
    loop {
        let closed = idle.iter().filter(|c| c.is_closed_now()).count();
        if closed >= 1 {
            break;
        }
        assert!(Instant::now() < deadline, "no idle connection was evicted");
        std::thread::sleep(Duration::from_millis(10)); // polling for the effect
    }
}

#[test]
fn a_burst_beyond_the_connection_limit_waits_in_the_queue_and_is_all_answered() {
    // Three connections allowed, forty clients at once, each a request with `Connection:
    // close`. Connections accepted a moment ago must not be evicted for the next ones before
    // their requests are read: the rest wait in the listen queue.
    let server = TestServer::with_limits(limits(|l| l.max_connections = 3));
    let addr = server.addr;
    let statuses: Vec<u16> = (0..40)
        .map(|_| {
            std::thread::spawn(move || {
                let mut client = Client::connect(addr);
                client.send(get("/metrics").replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
                client.response().status
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().expect("a client thread"))
        .collect();
    assert_eq!(statuses, vec![200; 40]);
}

#[test]
fn eviction_takes_the_least_recently_active_even_half_way_through_a_head() {
    // Two connections allowed: one stalled half-way through a head (as slowloris), then one
    // that was just answered. A third evicts the stalled one, the least recently active.
    let server = TestServer::with_limits(limits(|l| l.max_connections = 2));
    let mut stalled = server.connect();
    stalled.send("GET /metrics HTTP/1.1\r\nHo");
    let mut recent = server.connect();
    // Both are accepted, and `recent` is the more recently active, before the third comes.
    recent.get("/").assert_status(200);
    server.connect().get("/metrics").assert_status(200);
    stalled.assert_closed();
    recent.get("/metrics").assert_status(200);
}

#[test]
fn client_that_pipelines_and_never_reads_does_not_block_others() {
    let server = TestServer::start(|e| add_big_gauge(e, MANY_SERIES));
    let mut greedy = server.connect();
    greedy.send(get("/metrics").repeat(200));
    let mut other = server.connect();
    other.stream.set_read_timeout(Some(PROMPTLY)).unwrap();
    for _ in 0..3 {
        let response = other.get("/metrics");
        response.assert_status(200);
        assert!(response.text().ends_with('\n'));
    }
    drop(greedy);
    server.connect().get("/").assert_status(200);
}

#[test]
fn slow_reader_receives_a_large_body_intact() {
    let server = TestServer::start(|e| add_big_gauge(e, MANY_SERIES));
    let mut client = server.connect();
    client.chunk = 1024;
    let response = client.get("/metrics");
    response.assert_status(200);
    let body = response.text();
    assert!(body.ends_with('\n'));
    // Every line is whole: each series once, with its own number as the value.
    let mut seen = vec![false; MANY_SERIES];
    for line in body.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line
            .strip_prefix("big{series=\"")
            .and_then(|rest| rest.split_once("\"} "))
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        assert_eq!(series, value, "{line:?}");
        let i: usize = series.parse().unwrap();
        assert!(!std::mem::replace(&mut seen[i], true), "{line:?} repeated");
    }
    assert!(seen.iter().all(|&s| s), "series missing");
    // Still usable.
    client.get("/").assert_status(200);
}

#[test]
fn client_reset_mid_response_does_not_stop_the_server() {
    // About 3 MB per response: far more than the socket buffers hold when the client resets.
    let server = TestServer::start(|e| add_big_gauge(e, 100_000));
    for _ in 0..3 {
        let mut rude = server.connect();
        rude.send(get("/metrics"));
        rude.response_head().assert_status(200);
        // Unread bytes in the receive buffer make the close a reset.
        drop(rude);
    }
    let response = server.connect().get("/metrics");
    response.assert_status(200);
    assert!(response.text().ends_with('\n'));
}

/// Adds a gauge `wide` with `series` series whose label values are `width` bytes each: a large
/// body from few series, quick to build.
#[track_caller]
fn add_wide_gauge(exporter: &mut Exporter, series: usize, width: usize) {
    let metrics = exporter
        .registry_mut()
        .create_metrics([MetricConfig::new("wide", "Wide labels.", "gauge").labels(["v"])])
        .expect("create the wide gauge");
    let family = metrics.gauge_family("wide").expect("the wide gauge family");
    for i in 0..series {
        let value = format!("{i}{}", "x".repeat(width));
        family.labels(&[value]).expect("a wide series").set(1.0);
    }
}

/// `n` clients that ask for a scrape, read its head, and then read no more; each with its
/// body's length.
fn pin_scrapes(server: &TestServer, n: usize) -> Vec<(Client, usize)> {
    (0..n)
        .map(|_| {
            let mut client = server.connect();
            client.send(get("/metrics"));
            let head = client.response_head();
            head.assert_status(200);
            let len = head.header("Content-Length").unwrap().parse().unwrap();
            (client, len)
        })
        .collect()
}

#[test]
fn scrapes_beyond_the_bodies_in_flight_are_503_until_one_is_sent() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    // 16 MB per body: more than loopback socket buffers take, so a client that does not read
    // keeps its body in flight.
    let server = TestServer::start(move |e| {
        e.set_limits(limits(|l| {
            l.max_scrapes_in_flight = 2;
            // Long enough that the pinned clients are not dropped while the test runs.
            l.busy_write_timeout = Duration::from_secs(600);
        }));
        add_wide_gauge(e, 16, 1 << 20);
        e.set_metric_update_handler(move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
    });
    let mut pinned = pin_scrapes(&server, 2);
    let busy = server.connect().get("/metrics");
    busy.assert_status(503);
    assert_eq!(busy.text(), "too many scrapes in flight\n");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "no handler run for the refused scrape"
    );
    server.connect().get("/").assert_status(200);

    // Read one body to its end: it has left the server, and its slot is free.
    let (mut first, len) = pinned.remove(0);
    assert!(len > 16 << 20, "a body of {len} bytes");
    while first.buf.len() < len {
        first.fill_or_fail("the pinned body");
    }
    server.connect().get("/metrics").assert_status(200);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    drop(pinned);
}

/// A server with two scrape slots, `busy_write_timeout` as given, and 16 MB bodies (more than
/// loopback buffers hold, so a client that does not read keeps its slot); `more` adds to it.
fn two_slot_server(busy_write_timeout: Duration, more: impl FnOnce(&mut Exporter)) -> TestServer {
    TestServer::start(|e| {
        e.set_limits(limits(|l| {
            l.max_scrapes_in_flight = 2;
            l.busy_write_timeout = busy_write_timeout;
        }));
        add_wide_gauge(e, 16, 1 << 20);
        more(e);
    })
}

/// Reads a pinned scrape to its end now, and asserts that the server cut it short.
#[track_caller]
fn assert_cut_short((client, len): &mut (Client, usize)) {
    let mut body = std::mem::take(&mut client.buf);
    if let Err(err) = client.stream.read_to_end(&mut body) {
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
    }
    assert!(
        body.len() < *len,
        "a stalled body of {len} bytes was sent in full"
    );
}

/// Clients that ask and do not read hold the scrape slots only for `busy_write_timeout`: then
/// the longest stalled is closed, its body cut short, and a reader gets its scrape (0 here, so
/// at once).
#[test]
fn stalled_scrapes_at_the_limit_are_dropped_for_a_reader() {
    // The server closes the first stalled response after sending the second one's head,
    // before it can read the reader's request.
    a_reader_gets_its_scrape_past_two_that_do_not_read(&two_slot_server(Duration::ZERO, |_| {}));
}

/// Pins two scrapes that are never read, then asserts that a third client gets its whole
/// scrape and that the first pinned one was cut short to make way for it.
#[track_caller]
fn a_reader_gets_its_scrape_past_two_that_do_not_read(server: &TestServer) {
    let mut pinned = pin_scrapes(server, 2);
    let reader = server.connect().get("/metrics");
    reader.assert_status(200);
    assert!(reader.body.len() > 16 << 20, "{} bytes", reader.body.len());
    assert_cut_short(&mut pinned[0]);
}

/// Connections that ask and do not read give way, after `busy_write_timeout`, to a client
/// waiting in the listen queue for room (here the connection limit; a lack of descriptors is
/// handled alike).
#[test]
fn stalled_responses_make_room_for_a_connection_waiting_in_the_queue() {
    let server = TestServer::start(|e| {
        e.set_limits(limits(|l| {
            l.max_connections = 2;
            l.busy_write_timeout = SHORT;
        }));
        add_wide_gauge(e, 16, 1 << 20);
    });
    a_reader_gets_its_scrape_past_two_that_do_not_read(&server);
}

/// The busy deadline wakes the loop by itself: with no event at all, a stalled response is
/// closed once `busy_write_timeout` has passed.
#[test]
fn stalled_scrapes_are_dropped_without_another_event() {
    let server = two_slot_server(SHORT, |_| {});
    let mut pinned = pin_scrapes(&server, 2);
    // Nothing to wait on but the server's timer; ten times it is ample on a loaded machine.
    std::thread::sleep(SHORT * 10);
    assert_cut_short(&mut pinned[0]);
}

/// A scrape whose update handler holds the loop longer than `busy_write_timeout` must not make
/// a client that reads look stalled: a stall counts only until the loop's turn began.
#[test]
fn a_slow_handler_does_not_cut_off_a_client_that_reads() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let server = two_slot_server(SHORT, move |e| {
        e.set_metric_update_handler(move |_| {
            if counted.fetch_add(1, Ordering::SeqCst) == 1 {
                std::thread::sleep(SHORT * 4); // the second scrape's handler is slow
            }
            Ok(())
        });
    });
    let mut steady = server.connect();
    steady.send(get("/metrics"));
    let head = steady.response_head();
    head.assert_status(200);
    let len: usize = head.header("Content-Length").unwrap().parse().unwrap();
    // Reads all along, in small steps, while the other scrape's handler runs.
    let reader = std::thread::spawn(move || {
        steady.chunk = 64 * 1024;
        while steady.buf.len() < len {
            steady.fill_or_fail("the steady reader's body");
            std::thread::sleep(Duration::from_millis(2));
        }
        steady.buf.len()
    });
    let mut slow = server.connect();
    slow.send(get("/metrics"));
    slow.response_head().assert_status(200);
    assert_eq!(reader.join().unwrap(), len);
}

/// The request and the FIN can come in one readiness edge: the server must still see the end
/// of the stream after answering, not keep the connection until its idle timeout.
#[test]
fn small_request_then_half_close_gets_the_response_then_eof_at_once() {
    let server = TestServer::start(|_| {});
    for _ in 0..20 {
        let mut client = server.connect();
        client.send(get("/metrics"));
        client.stream.shutdown(Shutdown::Write).unwrap();
        client.response().assert_status(200);
        client.assert_closed_within(PROMPTLY);
    }
}

#[test]
fn half_closed_client_gets_the_full_response_then_eof() {
    let server = TestServer::start(|e| add_big_gauge(e, MANY_SERIES));
    let mut client = server.connect();
    client.send(get("/metrics"));
    client.stream.shutdown(Shutdown::Write).unwrap();
    let response = client.response();
    response.assert_status(200);
    assert!(response.text().ends_with('\n'));
    client.assert_closed();
}

#[test]
fn lingering_after_a_close_does_not_let_a_body_stream_starve_others() {
    // A request with a huge body is answered, then the server discards the body while it
    // lingers; a client that keeps the body coming must not hold the loop.
    let server = TestServer::start(|_| {});
    let mut flooder = server.connect();
    flooder.send("POST /metrics HTTP/1.1\r\nHost: test\r\nContent-Length: 100000000000\r\n\r\n");
    flooder.response().assert_status(405);
    let mut writer = flooder.stream.try_clone().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop_writer = Arc::clone(&stop);
    let flood = std::thread::spawn(move || {
        let chunk = vec![b'x'; 64 * 1024];
        while !stop_writer.load(Ordering::SeqCst) {
            if writer.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let mut other = server.connect();
    other.stream.set_read_timeout(Some(PROMPTLY)).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        other.get("/metrics").assert_status(200);
    }));
    stop.store(true, Ordering::SeqCst);
    let _ = flooder.stream.shutdown(Shutdown::Both);
    flood.join().unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

// ---------------------------------------------------------------------------------------------
// Shutdown

#[test]
fn graceful_shutdown_returns_and_stops_listening() {
    let mut server = TestServer::start(|_| {});
    let mut idle = server.connect();
    idle.get("/metrics").assert_status(200);
    let started = Instant::now();
    server.stop().expect("serve returns Ok");
    assert!(
        started.elapsed() < PROMPTLY,
        "shutdown took {:?} with only an idle connection",
        started.elapsed()
    );
    idle.assert_closed();
    let refused = TcpStream::connect(server.addr);
    assert!(refused.is_err(), "still accepting after shutdown");
}

#[test]
fn graceful_shutdown_finishes_the_response_in_flight() {
    let mut server = TestServer::start(|e| add_big_gauge(e, MANY_SERIES));
    let mut client = server.connect();
    client.send(get("/metrics"));
    let head = client.response_head();
    head.assert_status(200);
    server.handle.shutdown();
    let len: usize = head.header("Content-Length").unwrap().parse().unwrap();
    let rest = client.read_to_end();
    assert_eq!(rest.len(), len, "the whole body, then the end");
    assert!(rest.ends_with(b"\n"));
    server.stop().expect("serve returns Ok");
}
