//! A keep-alive HTTP/1.1 load generator for loopback scrapes, and an exporter to load.
//!
//! ```text
//! # an exporter with N labelled series per family (see `serve` below), on 127.0.0.1:9101
//! cargo run --release --example load -- serve --series 10 --port 9101 &
//! # 10 keep-alive connections on 1 thread for 10 s, as `wrk -t1 -c10 -d10s`
//! cargo run --release --example load -- http://127.0.0.1:9101/metrics -c 10 -d 10
//! ```
//!
//! Load mode: `load URL [-c CONNS] [-t THREADS] [-d SECONDS] [-n MAX_REQUESTS]
//! [--accept VALUE] [--timeout SECONDS]`. Each thread keeps its share of the connections busy
//! with one request in flight each (no pipelining), reading them in turn on blocking sockets,
//! and resends on a connection as soon as its response is complete, like wrk. A response must
//! carry `Content-Length` (the body is read and discarded); a status other than 2xx, a
//! malformed or chunked response, a timeout or a socket error counts as an error, and the
//! connection is reopened. Latency is from writing a request to reading the last byte of its
//! response, kept in a log-linear histogram (1/64 relative resolution). The run ends after
//! `-d` seconds (default 10, at most 3600) or `-n` requests, whichever comes first. Only
//! loopback addresses are accepted (`127.0.0.0/8`, `::1`, `localhost`).
//!
//! Serve mode: `load serve [--series N] [--port P] [--host H] [--data tidy|realistic]
//! [--churn M]` serves a sample-like exporter with the data of benches/compare's `encode`: a
//! counter family and a gauge family of N children each, plus one histogram; before every
//! scrape the handler increments every counter and sets every gauge (on handles fetched at
//! startup). `tidy` (the default) labels them `instance="host-{i}"`, `path="/api/v{i%10}"`
//! in label order with quarter-step gauges; `realistic` uses pod names and API paths of 20 to
//! 40 characters, creates the series in a random order with M others (default 1 000 000)
//! created between them and removed (a churned heap), and sets arbitrary `f64` values. It
//! stops on SIGTERM or SIGINT.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Latency histogram

/// Log-linear buckets over nanoseconds: values below 64 exactly, then 64 buckets per power of
/// two (at most 1/64 relative error).
const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
const BUCKETS: usize = ((64 - SUB_BITS as usize) + 1) * SUB as usize;

struct Histogram {
    counts: Vec<u64>,
    total: u64,
    sum_ns: u128,
    max_ns: u64,
}

impl Histogram {
    fn new() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            sum_ns: 0,
            max_ns: 0,
        }
    }

    fn index(ns: u64) -> usize {
        if ns < SUB {
            return ns as usize;
        }
        let exponent = 63 - ns.leading_zeros(); // >= SUB_BITS
        let shift = exponent - SUB_BITS;
        let sub = (ns >> shift) - SUB; // 0..SUB
        ((shift as u64 + 1) * SUB + sub) as usize
    }

    /// The largest value that falls into bucket `i`.
    fn upper(i: usize) -> u64 {
        let i = i as u64;
        if i < SUB {
            return i;
        }
        let shift = i / SUB - 1;
        let sub = i % SUB;
        let upper = (u128::from(SUB + sub + 1) << shift) - 1;
        u64::try_from(upper).unwrap_or(u64::MAX)
    }

    fn record(&mut self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.counts[Self::index(ns)] += 1;
        self.total += 1;
        self.sum_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// The value at quantile `q` (bucket upper bound, capped at the maximum seen).
    fn quantile(&self, q: f64) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Duration::from_nanos(Self::upper(i).min(self.max_ns));
            }
        }
        Duration::from_nanos(self.max_ns)
    }

    fn mean(&self) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos((self.sum_ns / u128::from(self.total)) as u64)
    }
}

// ---------------------------------------------------------------------------------------------
// Load

struct LoadOptions {
    addr: SocketAddr,
    request: Vec<u8>,
    connections: usize,
    threads: usize,
    duration: Duration,
    max_requests: u64,
    timeout: Duration,
}

#[derive(Default, Clone, Copy)]
struct Errors {
    connect: u64,
    write: u64,
    read: u64,
    timeout: u64,
    status: u64,
    parse: u64,
}

impl Errors {
    fn total(&self) -> u64 {
        self.connect + self.write + self.read + self.timeout + self.status + self.parse
    }

    fn add(&mut self, o: &Errors) {
        self.connect += o.connect;
        self.write += o.write;
        self.read += o.read;
        self.timeout += o.timeout;
        self.status += o.status;
        self.parse += o.parse;
    }
}

struct ThreadResult {
    latency: Histogram,
    requests: u64,
    bytes: u64,
    body_bytes: u64,
    errors: Errors,
}

enum Failure {
    Io(io::Error),
    Status,
    Parse,
}

/// One connection, with at most one request in flight.
struct Conn {
    stream: Option<TcpStream>,
    sent_at: Instant,
    in_flight: bool,
}

/// Reads one response: (total bytes, body bytes, keep-alive). `head` and `chunk` are reused.
fn read_response(
    stream: &mut TcpStream,
    head: &mut Vec<u8>,
    chunk: &mut [u8],
) -> Result<(u64, u64, bool), Failure> {
    head.clear();
    // Read until the end of the head; bytes after it belong to the body.
    let (head_len, mut body_seen) = loop {
        let n = stream.read(chunk).map_err(Failure::Io)?;
        if n == 0 {
            return Err(Failure::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        let searched_from = head.len().saturating_sub(3);
        head.extend_from_slice(&chunk[..n]);
        if let Some(pos) = head[searched_from..]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
        {
            let end = searched_from + pos + 4;
            break (end, head.len() - end);
        }
        if head.len() > 64 * 1024 {
            return Err(Failure::Parse);
        }
    };
    let text = std::str::from_utf8(&head[..head_len]).map_err(|_| Failure::Parse)?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().ok_or(Failure::Parse)?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().ok_or(Failure::Parse)?;
    let code: u16 = parts
        .next()
        .and_then(|c| c.parse().ok())
        .ok_or(Failure::Parse)?;
    if !version.starts_with("HTTP/1.") {
        return Err(Failure::Parse);
    }
    let mut length = None;
    let mut keep_alive = version == "HTTP/1.1";
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<u64>().map_err(|_| Failure::Parse)?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(Failure::Parse); // chunked responses are not supported
        } else if name.eq_ignore_ascii_case("connection") {
            if value.eq_ignore_ascii_case("close") {
                keep_alive = false;
            } else if value.eq_ignore_ascii_case("keep-alive") {
                keep_alive = true;
            }
        }
    }
    let length = length.ok_or(Failure::Parse)?;
    if body_seen as u64 > length {
        return Err(Failure::Parse); // more than one response: the server is confused
    }
    while (body_seen as u64) < length {
        let want = ((length - body_seen as u64) as usize).min(chunk.len());
        let n = stream.read(&mut chunk[..want]).map_err(Failure::Io)?;
        if n == 0 {
            return Err(Failure::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        body_seen += n;
    }
    if !(200..300).contains(&code) {
        return Err(Failure::Status);
    }
    Ok((head_len as u64 + length, length, keep_alive))
}

fn connect(opts: &LoadOptions) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&opts.addr, opts.timeout)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(opts.timeout))?;
    stream.set_write_timeout(Some(opts.timeout))?;
    Ok(stream)
}

fn count_io_error(errors: &mut Errors, err: &io::Error, reading: bool) {
    if matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    ) {
        errors.timeout += 1;
    } else if reading {
        errors.read += 1;
    } else {
        errors.write += 1;
    }
}

/// Keeps `conns` connections busy until `stop_at` or `budget` requests have been sent.
fn run_thread(opts: &LoadOptions, conns: usize, stop_at: Instant, budget: u64) -> ThreadResult {
    let mut result = ThreadResult {
        latency: Histogram::new(),
        requests: 0,
        bytes: 0,
        body_bytes: 0,
        errors: Errors::default(),
    };
    let mut head = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 256 * 1024];
    let mut sent: u64 = 0;
    let now = Instant::now();
    let mut pool: Vec<Conn> = (0..conns)
        .map(|_| Conn {
            stream: None,
            sent_at: now,
            in_flight: false,
        })
        .collect();

    // Sends a request on `conn`, (re)connecting first if needed; false if it failed.
    let send = |conn: &mut Conn, errors: &mut Errors, sent: &mut u64| -> bool {
        if conn.stream.is_none() {
            match connect(opts) {
                Ok(s) => conn.stream = Some(s),
                Err(_) => {
                    errors.connect += 1;
                    return false;
                }
            }
        }
        let Some(stream) = conn.stream.as_mut() else {
            return false;
        };
        conn.sent_at = Instant::now();
        match stream.write_all(&opts.request) {
            Ok(()) => {
                conn.in_flight = true;
                *sent += 1;
                true
            }
            Err(err) => {
                count_io_error(errors, &err, false);
                conn.stream = None;
                false
            }
        }
    };

    for conn in pool.iter_mut() {
        if sent < budget {
            send(conn, &mut result.errors, &mut sent);
        }
    }
    loop {
        let mut any_in_flight = false;
        for conn in pool.iter_mut() {
            if conn.in_flight {
                let Some(stream) = conn.stream.as_mut() else {
                    conn.in_flight = false;
                    continue;
                };
                conn.in_flight = false;
                match read_response(stream, &mut head, &mut chunk) {
                    Ok((bytes, body, keep_alive)) => {
                        result.latency.record(conn.sent_at.elapsed());
                        result.requests += 1;
                        result.bytes += bytes;
                        result.body_bytes = body;
                        if !keep_alive {
                            conn.stream = None;
                        }
                    }
                    Err(failure) => {
                        match failure {
                            Failure::Io(err) => count_io_error(&mut result.errors, &err, true),
                            Failure::Status => result.errors.status += 1,
                            Failure::Parse => result.errors.parse += 1,
                        }
                        conn.stream = None;
                    }
                }
            }
            let more = Instant::now() < stop_at && sent < budget;
            if more && !send(conn, &mut result.errors, &mut sent) && conn.stream.is_none() {
                // Do not spin on a refused connection.
                std::thread::sleep(Duration::from_millis(10));
            }
            any_in_flight |= conn.in_flight;
        }
        if !any_in_flight && (Instant::now() >= stop_at || sent >= budget) {
            break;
        }
    }
    result
}

fn load(opts: LoadOptions) {
    println!(
        "load {} ({} B request): {} thread(s), {} connection(s), up to {:.0} s{}",
        opts.addr,
        opts.request.len(),
        opts.threads,
        opts.connections,
        opts.duration.as_secs_f64(),
        if opts.max_requests < u64::MAX {
            format!(" or {} requests", opts.max_requests)
        } else {
            String::new()
        }
    );
    let start = Instant::now();
    let stop_at = start + opts.duration;
    let results: Vec<ThreadResult> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..opts.threads)
            .map(|t| {
                let conns = opts.connections / opts.threads
                    + usize::from(t < opts.connections % opts.threads);
                let budget = opts.max_requests / opts.threads as u64
                    + u64::from((t as u64) < opts.max_requests % opts.threads as u64);
                let opts = &opts;
                scope.spawn(move || run_thread(opts, conns, stop_at, budget))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("load thread"))
            .collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let mut latency = Histogram::new();
    let mut errors = Errors::default();
    let (mut requests, mut bytes, mut body) = (0, 0, 0);
    for r in &results {
        latency.merge(&r.latency);
        errors.add(&r.errors);
        requests += r.requests;
        bytes += r.bytes;
        body = body.max(r.body_bytes);
    }
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let rps = requests as f64 / elapsed;
    println!(
        "requests: {requests} in {elapsed:.2} s = {rps:.1} req/s; {:.1} MB/s (last body {body} B)",
        bytes as f64 / elapsed / 1e6
    );
    println!(
        "latency: p50 {:.1} us, p90 {:.1} us, p99 {:.1} us, p99.9 {:.1} us, max {:.1} us, \
         mean {:.1} us",
        us(latency.quantile(0.5)),
        us(latency.quantile(0.9)),
        us(latency.quantile(0.99)),
        us(latency.quantile(0.999)),
        us(Duration::from_nanos(latency.max_ns)),
        us(latency.mean()),
    );
    println!(
        "errors: {} (connect {}, write {}, read {}, timeout {}, status {}, parse {})",
        errors.total(),
        errors.connect,
        errors.write,
        errors.read,
        errors.timeout,
        errors.status,
        errors.parse
    );
    println!(
        "RESULT requests={requests} rps={rps:.1} p50_us={:.1} p90_us={:.1} p99_us={:.1} \
         max_us={:.1} errors={}",
        us(latency.quantile(0.5)),
        us(latency.quantile(0.9)),
        us(latency.quantile(0.99)),
        us(Duration::from_nanos(latency.max_ns)),
        errors.total()
    );
}

/// `http://HOST[:PORT]/PATH` with a loopback HOST: the address, the Host header, the path.
fn parse_url(url: &str) -> Result<(SocketAddr, String, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("'{url}': only http:// URLs are supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| format!("'{url}': unclosed '['"))?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port: u16 = match port {
        Some(p) => p.parse().map_err(|_| format!("'{url}': bad port"))?,
        None => 80,
    };
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        host.parse()
            .map_err(|_| format!("'{host}': give a loopback IP address or localhost"))?
    };
    if !ip.is_loopback() {
        return Err(format!(
            "refusing {ip}: only loopback addresses may be loaded from this tool"
        ));
    }
    Ok((SocketAddr::new(ip, port), authority.to_string(), path))
}

fn parse_load_args(args: Vec<String>) -> Result<LoadOptions, String> {
    let mut url = None;
    let mut connections = 10usize;
    let mut threads = 1usize;
    let mut seconds = 10f64;
    let mut max_requests = u64::MAX;
    let mut accept = None;
    let mut timeout = 5f64;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "-c" | "--connections" => {
                connections = value()?.parse().map_err(|e| format!("-c: {e}"))?
            }
            "-t" | "--threads" => threads = value()?.parse().map_err(|e| format!("-t: {e}"))?,
            "-d" | "--duration" => seconds = value()?.parse().map_err(|e| format!("-d: {e}"))?,
            "-n" | "--requests" => {
                max_requests = value()?.parse().map_err(|e| format!("-n: {e}"))?
            }
            "--accept" => accept = Some(value()?),
            "--timeout" => timeout = value()?.parse().map_err(|e| format!("--timeout: {e}"))?,
            other if other.starts_with('-') => return Err(format!("unknown option {other}")),
            other if url.is_none() => url = Some(other.to_string()),
            other => return Err(format!("unexpected argument {other}")),
        }
    }
    let url = url.ok_or("missing URL")?;
    if connections == 0 || threads == 0 {
        return Err("-c and -t must be at least 1".into());
    }
    if !(seconds > 0.0 && seconds <= 3600.0) {
        return Err("-d must be in (0, 3600] seconds".into());
    }
    if !(timeout > 0.0 && timeout <= 600.0) {
        return Err("--timeout must be in (0, 600] seconds".into());
    }
    let (addr, host, path) = parse_url(&url)?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: load\r\n");
    if let Some(accept) = accept {
        request.push_str(&format!("Accept: {accept}\r\n"));
    }
    request.push_str("\r\n");
    Ok(LoadOptions {
        addr,
        request: request.into_bytes(),
        connections,
        threads: threads.min(connections),
        duration: Duration::from_secs_f64(seconds),
        max_requests,
        timeout: Duration::from_secs_f64(timeout),
    })
}

// ---------------------------------------------------------------------------------------------
// Serve

#[cfg(not(feature = "server"))]
fn serve(_: Vec<String>) -> Result<(), String> {
    Err("serve mode needs the crate's `server` feature".into())
}

#[cfg(feature = "server")]
fn serve(args: Vec<String>) -> Result<(), String> {
    use prometheus_aioexporter::ShutdownSignals;
    use prometheus_aioexporter::{Counter, Exporter, Gauge, MetricConfig};

    // Before building what may be 200 000 series: as PID 1, a SIGTERM that comes before the
    // handler is discarded, not deferred.
    let mut signals = ShutdownSignals::install().map_err(|e| e.to_string())?;
    let mut series = 10usize;
    let mut port = 9101u16;
    let mut host = "127.0.0.1".to_string();
    let mut realistic = false;
    let mut churn = 1_000_000usize;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--series" | "-n" => series = value()?.parse().map_err(|e| format!("{arg}: {e}"))?,
            "--port" | "-p" => port = value()?.parse().map_err(|e| format!("{arg}: {e}"))?,
            "--host" | "-H" => host = value()?,
            "--data" => {
                realistic = match value()?.as_str() {
                    "tidy" => false,
                    "realistic" => true,
                    other => return Err(format!("--data: '{other}': expected tidy or realistic")),
                }
            }
            "--churn" => churn = value()?.parse().map_err(|e| format!("{arg}: {e}"))?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let mut exporter = Exporter::new("load-serve", "An exporter to load.");
    exporter.set_hosts([host]).set_port(port);
    let metrics = exporter
        .registry_mut()
        .create_metrics([
            MetricConfig::new("bench_requests", "Requests served.", "counter")
                .labels(["instance", "path"]),
            MetricConfig::new("bench_temperature", "A temperature.", "gauge")
                .labels(["instance", "path"]),
            MetricConfig::new("bench_latency_seconds", "Request latency.", "histogram"),
        ])
        .map_err(|e| e.to_string())?;
    let counters = metrics
        .counter_family("bench_requests")
        .map_err(|e| e.to_string())?;
    let gauges = metrics
        .gauge_family("bench_temperature")
        .map_err(|e| e.to_string())?;
    let mut handles: Vec<(Counter, Gauge)> = Vec::with_capacity(series);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut order: Vec<usize> = (0..series).collect();
    if realistic {
        for i in (1..series).rev() {
            order.swap(i, (random() % (i as u64 + 1)) as usize);
        }
    }
    let per_series = if realistic {
        (churn + series.max(1) - 1) / series.max(1)
    } else {
        0
    };
    let churned = |i: usize, j: usize| {
        [
            format!("churn-{i}-{j}-job-7d9f8b6c5d-x2k4p"),
            ROUTES[j % 8].to_string(),
        ]
    };
    for &i in &order {
        for j in 0..per_series {
            let labels = churned(i, j);
            counters.labels(&labels).map_err(|e| e.to_string())?;
            gauges.labels(&labels).map_err(|e| e.to_string())?;
        }
        let labels = if realistic {
            [
                realistic_pod(i, random()),
                ROUTES[random() as usize % 8].to_string(),
            ]
        } else {
            [format!("host-{i}"), format!("/api/v{}", i % 10)]
        };
        let counter = counters.labels(&labels).map_err(|e| e.to_string())?;
        let gauge = gauges.labels(&labels).map_err(|e| e.to_string())?;
        if realistic {
            counter
                .set((i as f64 * 0.618).cos().abs() * 1e5)
                .map_err(|e| e.to_string())?;
            gauge.set((i as f64 * 1.618).sin() * 1e3);
        } else {
            counter.set((i * 7) as f64).map_err(|e| e.to_string())?;
            gauge.set(i as f64 * 0.25 + 0.5);
        }
        handles.push((counter, gauge));
    }
    for i in 0..series {
        for j in 0..per_series {
            let labels = churned(i, j);
            counters.remove(&labels).map_err(|e| e.to_string())?;
            gauges.remove(&labels).map_err(|e| e.to_string())?;
        }
    }
    let histogram = metrics
        .histogram("bench_latency_seconds")
        .map_err(|e| e.to_string())?;
    for v in [0.003, 0.02, 0.2, 0.7, 3.0, 12.0] {
        histogram.observe(v);
    }
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    exporter.set_metric_update_handler(move |_| {
        for (counter, gauge) in &handles {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            counter.inc();
            if realistic {
                // An arbitrary f64 in [512, 1024): 52 random bits of significand.
                gauge.set(f64::from_bits((state >> 12) | 0x4080_0000_0000_0000));
            } else {
                // Quarter steps below 100: a short, exact decimal, as a temperature would be.
                gauge.set((state % 400) as f64 * 0.25);
            }
        }
        Ok(())
    });
    eprintln!(
        "load serve: {} labelled series per family ({} in all), pid {}",
        series,
        2 * series + 1,
        std::process::id()
    );
    let mut bound = exporter.bind().map_err(|e| e.to_string())?;
    bound.serve(Some(&mut signals)).map_err(|e| e.to_string())
}

/// API paths of 20 to 40 characters, for `--data realistic`.
#[cfg(feature = "server")]
const ROUTES: [&str; 8] = [
    "/api/v2/orders/{id}/items",
    "/api/v2/users/{id}/preferences",
    "/api/v1/catalog/search",
    "/api/v3/payments/{id}/refunds",
    "/internal/healthz/dependencies",
    "/api/v2/carts/{id}/checkout",
    "/api/v1/inventory/{sku}/reservations",
    "/static/assets/{bundle}.js",
];

/// A pod name as Kubernetes makes them (service, replica-set hash, pod suffix), unique by `i`.
#[cfg(feature = "server")]
fn realistic_pod(i: usize, mut bits: u64) -> String {
    const SERVICES: [&str; 4] = ["checkout", "payments-api", "inventory-sync", "frontend-web"];
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut name = SERVICES[(bits % 4) as usize].to_string();
    for len in [10, 5] {
        name.push('-');
        for _ in 0..len {
            bits = bits.rotate_right(5) ^ 0x9E37_79B9_7F4A_7C15;
            name.push(ALPHABET[(bits % ALPHABET.len() as u64) as usize] as char);
        }
    }
    format!("{name}-{i:x}")
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("serve") {
        args.remove(0);
        serve(args)
    } else if args.is_empty() || args.iter().any(|a| a == "-h" || a == "--help") {
        Err(
            "usage: load URL [-c CONNS] [-t THREADS] [-d SECONDS] [-n MAX_REQUESTS] \
             [--accept VALUE] [--timeout SECONDS]\n       \
             load serve [--series N] [--port P] [--host H] [--data tidy|realistic] \
             [--churn M]"
                .to_string(),
        )
    } else {
        parse_load_args(args).map(load)
    };
    if let Err(message) = result {
        eprintln!("{message}");
        std::process::exit(2);
    }
}
