//! Scrape latency behind basic auth, with and without a flood of wrong passwords, side by side
//! in one run:
//!
//! ```text
//! cargo run --release --features basic-auth --example basic_auth_flood
//! ```
//!
//! An in-process exporter on 127.0.0.1 asks for a user whose hash has bcrypt's usual cost 10.
//! A scraper sends the right credentials on one keep-alive connection every 10 ms, 300 times,
//! first alone, then while `FLOOD_CONNECTIONS` connections on other threads send wrong
//! passwords (each a new one) as fast as they are answered. It prints the scraper's latency
//! (p50, p99, max) in both phases, what one wrong password costs alone, and how the flood was
//! answered: 401 after a bcrypt check, or 503 without one once failed checks have used their
//! share of the server's thread. Everything stays on loopback, and the flood ends with the
//! phase.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_aioexporter::{BasicAuth, Exporter, MetricConfig};

/// `htpasswd -nbB -C 10 scraper bench-password`.
const USERS: &str = "scraper:$2y$10$IqPTj.3ZY0p4ivW4Y6WKXuPUqy6z/7gI9BB0WKdWuk1wxhf9F8PSu\n";
/// `scraper:bench-password` in base64.
const RIGHT: &str = "Basic c2NyYXBlcjpiZW5jaC1wYXNzd29yZA==";
const SCRAPES: usize = 300;
const SCRAPE_EVERY: Duration = Duration::from_millis(10);
const FLOOD_CONNECTIONS: usize = 8;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut exporter = Exporter::new("flood-bench", "Basic auth under a flood.");
    exporter.set_hosts(["127.0.0.1"]).set_port(0);
    exporter.set_basic_auth(Some(BasicAuth::from_htpasswd(USERS, "USERS")?));
    exporter.registry_mut().create_metrics(
        (0..20).map(|i| MetricConfig::new(format!("bench_gauge_{i}"), "A gauge.", "gauge")),
    )?;
    let running = exporter.spawn()?;
    let addr = running.local_addrs()[0];

    // The first right scrape pays for its check; the phases measure remembered credentials.
    let mut scraper = connect(addr)?;
    let started = Instant::now();
    let status = request(&mut scraper, RIGHT)?;
    println!(
        "first scrape, credentials checked: {status} in {:.1} ms (a cost-10 bcrypt check)",
        ms(started.elapsed())
    );
    let mut probe = connect(addr)?;
    let started = Instant::now();
    let status = request(&mut probe, "Basic c2NyYXBlcjp3cm9uZw==")?;
    println!(
        "one wrong password, alone:        {status} in {:.1} ms",
        ms(started.elapsed())
    );

    let quiet = scrape_phase(&mut scraper)?;
    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new([AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)]);
    let flooders: Vec<_> = (0..FLOOD_CONNECTIONS)
        .map(|i| {
            let (stop, counts) = (Arc::clone(&stop), Arc::clone(&counts));
            std::thread::spawn(move || flood(addr, i, &stop, &counts))
        })
        .collect();
    let flooded = scrape_phase(&mut scraper);
    stop.store(true, Ordering::SeqCst);
    for flooder in flooders {
        let _ = flooder.join();
    }
    let flooded = flooded?;

    println!("\nscrape latency, right credentials (remembered), {SCRAPES} scrapes each:");
    println!("{:<34} {:>9} {:>9} {:>9}", "", "p50 ms", "p99 ms", "max ms");
    for (name, latencies) in [("no flood", &quiet), ("wrong-password flood", &flooded)] {
        println!(
            "{name:<34} {:>9.2} {:>9.2} {:>9.2}",
            ms(percentile(latencies, 0.50)),
            ms(percentile(latencies, 0.99)),
            ms(percentile(latencies, 1.0)),
        );
    }
    let [checked, refused, other] = counts.as_ref();
    println!(
        "\nflood ({FLOOD_CONNECTIONS} connections): {} answered 401 after a bcrypt check, {} \
         answered 503 without one, {} other",
        checked.load(Ordering::SeqCst),
        refused.load(Ordering::SeqCst),
        other.load(Ordering::SeqCst),
    );
    running.shutdown()?;
    Ok(())
}

/// `SCRAPES` scrapes, one per `SCRAPE_EVERY`; their latencies, sorted.
fn scrape_phase(scraper: &mut TcpStream) -> io::Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(SCRAPES);
    let mut next = Instant::now();
    for _ in 0..SCRAPES {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        next += SCRAPE_EVERY;
        let started = Instant::now();
        let status = request(scraper, RIGHT)?;
        latencies.push(started.elapsed());
        if status != 200 {
            return Err(io::Error::new(
                io::ErrorKind::Other,
                format!("scrape answered {status}"),
            ));
        }
    }
    latencies.sort();
    Ok(latencies)
}

/// Wrong passwords on one connection until `stop`, counting 401s, 503s and anything else.
fn flood(addr: SocketAddr, id: usize, stop: &AtomicBool, counts: &[AtomicU64; 3]) {
    let mut n = 0u64;
    let mut stream = None;
    while !stop.load(Ordering::SeqCst) {
        let conn = match stream.take().map_or_else(|| connect(addr), Ok) {
            Ok(conn) => stream.insert(conn),
            Err(_) => continue,
        };
        n += 1;
        // `scraper:guess-<id>-<n>`, a new password each time, so nothing can be remembered.
        let raw = format!("scraper:guess-{id}-{n}");
        let authorization = format!("Basic {}", base64(raw.as_bytes()));
        let slot = match request(conn, &authorization) {
            Ok(401) => 0,
            Ok(503) => 1,
            _ => {
                stream = None;
                2
            }
        };
        counts[slot].fetch_add(1, Ordering::SeqCst);
    }
}

fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    Ok(stream)
}

/// `GET /metrics` with `authorization` on a keep-alive connection; the status, once the whole
/// response (framed by `Content-Length`) is read.
fn request(stream: &mut TcpStream, authorization: &str) -> io::Result<u16> {
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: bench\r\nAuthorization: {authorization}\r\n\r\n"
    )?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if buf.len() >= end + 4 + length {
            let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
            return Ok(status);
        }
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

/// The `q` quantile of sorted durations (nearest rank).
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
