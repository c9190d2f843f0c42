//! Scrape latency behind basic auth, with and without a flood of wrong passwords, side by side
//! in one run:
//!
//! ```text
//! cargo run --release --features basic-auth --example basic_auth_flood
//! ```
//!
//! An in-process exporter on 127.0.0.1 asks for users whose hashes have bcrypt's usual cost 10.
//! A scraper sends the right credentials on one keep-alive connection every 10 ms, 300 times,
//! first alone, then while `FLOOD_CONNECTIONS` connections on other threads send wrong
//! passwords (each a new one) as fast as they are answered: all from 127.0.0.1, then each
//! request from a new address (127.1.x.y). In each flood, once it is answered 503, a new
//! scraper whose credentials were never checked (another user, from 127.0.0.2 or 127.0.0.3)
//! tries every 10 ms, at most `NEW_SCRAPER_ATTEMPTS` times, until it is let in. It prints the
//! scraper's latency (p50, p99, max) in each phase, how many attempts the new scraper needed,
//! what one wrong password costs alone, and how each flood was answered: 401 after a bcrypt
//! check, or 503 without one once failed checks have used their share of the server's thread.
//! Everything stays on loopback (Linux answers on all of 127.0.0.0/8), and each flood ends
//! with its phase.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_aioexporter::{BasicAuth, Exporter, MetricConfig};

/// `htpasswd -nbB -C 10 <user> bench-password` for three users.
const USERS: &str = "scraper:$2y$10$IqPTj.3ZY0p4ivW4Y6WKXuPUqy6z/7gI9BB0WKdWuk1wxhf9F8PSu\n\
                     newcomer:$2y$10$/vAzrCUcZZjgERPd9TqOduQhVoX/JExgaUBBGbwrEc1J0XY80kYw2\n\
                     latecomer:$2y$10$ASUyI0JsoFV4lQCzWKKUnOd72PfE418JkiRruSFmZAZFA/t3uITfa\n";
/// `scraper:bench-password` in base64.
const RIGHT: &str = "Basic c2NyYXBlcjpiZW5jaC1wYXNzd29yZA==";
/// `newcomer:bench-password` and `latecomer:bench-password`: the new scrapers of each flood.
const NEW_SCRAPERS: [&str; 2] = [
    "Basic bmV3Y29tZXI6YmVuY2gtcGFzc3dvcmQ=",
    "Basic bGF0ZWNvbWVyOmJlbmNoLXBhc3N3b3Jk",
];
const SCRAPES: usize = 300;
const SCRAPE_EVERY: Duration = Duration::from_millis(10);
const FLOOD_CONNECTIONS: usize = 8;
const NEW_SCRAPER_ATTEMPTS: usize = 1000;

/// Where a flood's requests come from.
#[derive(Clone, Copy)]
enum Sources {
    /// 127.0.0.1, on keep-alive connections.
    One,
    /// A new address of 127.1.0.0/16 for each request, each on a new connection.
    NewEach,
}

/// A flood's answers, and what the scrapers saw during it.
struct Phase {
    latencies: Vec<Duration>,
    /// Attempts until the new scraper's first 200 (`None`: none in `NEW_SCRAPER_ATTEMPTS`), and
    /// the time from its first attempt to the end of the last.
    new_scraper: Option<(usize, Duration)>,
    /// 401s, 503s, anything else.
    answered: [u64; 3],
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut exporter = Exporter::new("flood-bench", "Basic auth under a flood.");
    exporter.set_hosts(["127.0.0.1"]).set_port(0);
    exporter.set_basic_auth(Some(BasicAuth::from_htpasswd(USERS, "USERS")?));
    exporter.registry_mut().create_metrics(
        (0..20).map(|i| MetricConfig::new(format!("bench_gauge_{i}"), "A gauge.", "gauge")),
    )?;
    let running = exporter.spawn()?;
    let SocketAddr::V4(addr) = running.local_addrs()[0] else {
        return Err("127.0.0.1 is IPv4".into());
    };

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
    let one = flood_phase(addr, &mut scraper, Sources::One, 2, NEW_SCRAPERS[0])?;
    let many = flood_phase(addr, &mut scraper, Sources::NewEach, 3, NEW_SCRAPERS[1])?;

    println!(
        "\nscrape latency, right credentials (remembered), {SCRAPES} scrapes each; a new \
         scraper (credentials never checked, another address) every {} ms, at most \
         {NEW_SCRAPER_ATTEMPTS} times:",
        SCRAPE_EVERY.as_millis()
    );
    println!(
        "{:<42} {:>8} {:>8} {:>8}   new scraper: attempts to 200, ms",
        "", "p50 ms", "p99 ms", "max ms"
    );
    let rows = [
        ("no flood", &quiet, None),
        (
            "wrong-password flood, one address",
            &one.latencies,
            Some(&one),
        ),
        (
            "wrong-password flood, new address each",
            &many.latencies,
            Some(&many),
        ),
    ];
    for (name, latencies, flood) in rows {
        let new_scraper = match flood.map(|f| f.new_scraper) {
            None => "-".to_string(),
            Some(Some((attempts, took))) => format!("{attempts}, {:.0} ms", ms(took)),
            Some(None) => format!("none in {NEW_SCRAPER_ATTEMPTS}"),
        };
        println!(
            "{name:<42} {:>8.2} {:>8.2} {:>8.2}   {new_scraper}",
            ms(percentile(latencies, 0.50)),
            ms(percentile(latencies, 0.99)),
            ms(percentile(latencies, 1.0)),
        );
    }
    println!();
    for (name, flood) in [("one address", &one), ("new address each", &many)] {
        let [checked, refused, other] = flood.answered;
        println!(
            "flood, {name} ({FLOOD_CONNECTIONS} threads): {checked} answered 401 after a bcrypt \
             check, {refused} answered 503 without one, {other} other"
        );
    }
    running.shutdown()?;
    Ok(())
}

/// A flood from `sources` until the scraper's phase ends; the new scraper, from
/// 127.0.0.`new_scraper_host` with `new_credentials`, tries once the flood is answered 503.
fn flood_phase(
    addr: SocketAddrV4,
    scraper: &mut TcpStream,
    sources: Sources,
    new_scraper_host: u8,
    new_credentials: &str,
) -> io::Result<Phase> {
    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new([AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)]);
    let flooders: Vec<_> = (0..FLOOD_CONNECTIONS)
        .map(|i| {
            let (stop, counts) = (Arc::clone(&stop), Arc::clone(&counts));
            std::thread::spawn(move || flood(addr, sources, i, &stop, &counts))
        })
        .collect();
    let measured: io::Result<_> = (|| {
        while counts[1].load(Ordering::SeqCst) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let new_scraper = new_scraper(addr, new_scraper_host, new_credentials)?;
        let latencies = scrape_phase(scraper)?;
        Ok((new_scraper, latencies))
    })();
    stop.store(true, Ordering::SeqCst);
    for flooder in flooders {
        let _ = flooder.join();
    }
    let (new_scraper, latencies) = measured?;
    Ok(Phase {
        latencies,
        new_scraper,
        answered: [0, 1, 2].map(|i| counts[i].load(Ordering::SeqCst)),
    })
}

/// Requests with `credentials` from 127.0.0.`host`, a connection each, one per
/// `SCRAPE_EVERY`, until one is answered 200: how many, and how long from the first.
fn new_scraper(
    addr: SocketAddrV4,
    host: u8,
    credentials: &str,
) -> io::Result<Option<(usize, Duration)>> {
    let started = Instant::now();
    let mut next = started;
    for attempt in 1..=NEW_SCRAPER_ATTEMPTS {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        next += SCRAPE_EVERY;
        let mut stream = connect_from(Ipv4Addr::new(127, 0, 0, host), addr)?;
        match request(&mut stream, credentials)? {
            200 => return Ok(Some((attempt, started.elapsed()))),
            503 => {}
            status => {
                return Err(io::Error::new(
                    io::ErrorKind::Other,
                    format!("the new scraper was answered {status}"),
                ))
            }
        }
    }
    Ok(None)
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

/// Wrong passwords from `sources` until `stop`, counting 401s, 503s and anything else.
fn flood(
    addr: SocketAddrV4,
    sources: Sources,
    id: usize,
    stop: &AtomicBool,
    counts: &[AtomicU64; 3],
) {
    let mut n = 0u64;
    let mut stream = None;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let connected = match (sources, stream.take()) {
            (Sources::One, Some(conn)) => Ok(conn),
            (Sources::One, None) => connect(addr),
            // 127.1.x.y, x.y counting up from a start of each thread's own.
            (Sources::NewEach, _) => {
                let host = (id as u64 * 8192 + n) % 65_534 + 1;
                let [.., x, y] = (host as u32).to_be_bytes();
                connect_from(Ipv4Addr::new(127, 1, x, y), addr)
            }
        };
        let Ok(conn) = connected else {
            continue;
        };
        let conn = stream.insert(conn);
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

fn connect(addr: SocketAddrV4) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    Ok(stream)
}

/// A connection from `source` (bound before connecting, which std's `TcpStream` cannot) to
/// `addr`.
fn connect_from(source: Ipv4Addr, addr: SocketAddrV4) -> io::Result<TcpStream> {
    use std::os::fd::FromRawFd as _;
    let sockaddr = |addr: SocketAddrV4| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: addr.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*addr.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    let (from, to) = (sockaddr(SocketAddrV4::new(source, 0)), sockaddr(addr));
    // SAFETY: a new socket, owned by the `TcpStream` at once (closed on every return); the
    // addresses are valid `sockaddr_in`s of `len` bytes that outlive the calls.
    let stream = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let stream = TcpStream::from_raw_fd(fd);
        if libc::bind(fd, std::ptr::addr_of!(from).cast(), len) != 0
            || libc::connect(fd, std::ptr::addr_of!(to).cast(), len) != 0
        {
            return Err(io::Error::last_os_error());
        }
        stream
    };
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
