//! An open-loop load generator, for latency tails without coordinated omission (as wrk2).
//!
//! ```text
//! cargo run --release --example openloop -- http://127.0.0.1:9101/metrics -c 10 -R 50000 -d 10
//! ```
//!
//! Requests are due at a fixed total rate (`-R` per second), spread over `-c` keep-alive
//! connections, each connection's requests due every `c / R` seconds. A request is sent when it
//! is due, or as soon as its connection's previous response is complete if that came later; its
//! latency counts from when it was due, so a stalled response is charged to every request it
//! held back. One thread and one mio `Poll` drive all connections, so the client adds no
//! latency of its own beyond its event loop. Prints the rate achieved and p50/p90/p99/p99.9/max.
//! Responses must carry `Content-Length`; loopback only.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

struct Conn {
    stream: TcpStream,
    /// Bytes of the response being read.
    buf: Vec<u8>,
    /// When the request in flight was due; `None` when idle.
    in_flight: Option<Instant>,
    /// How many of this connection's requests have been sent.
    sent: u64,
}

fn main() {
    if let Err(message) = run() {
        eprintln!("openloop: {message}");
        eprintln!("usage: openloop URL [-c CONNS] [-R RATE] [-d SECONDS]");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let mut url = None;
    let (mut conns, mut rate, mut seconds) = (10usize, 10_000f64, 10f64);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "-c" => conns = value()?.parse().map_err(|e| format!("-c: {e}"))?,
            "-R" => rate = value()?.parse().map_err(|e| format!("-R: {e}"))?,
            "-d" => seconds = value()?.parse().map_err(|e| format!("-d: {e}"))?,
            other if url.is_none() && !other.starts_with('-') => url = Some(other.to_string()),
            other => return Err(format!("unexpected argument {other}")),
        }
    }
    if conns == 0
        || !rate.is_finite()
        || rate <= 0.0
        || !(0.0..=3600.0).contains(&seconds)
        || seconds == 0.0
    {
        return Err("-c, -R and -d must be positive (-d at most 3600)".into());
    }
    let url = url.ok_or("missing URL")?;
    let rest = url.strip_prefix("http://").ok_or("only http:// URLs")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let addr: SocketAddr = authority
        .parse()
        .map_err(|_| format!("{authority}: expected IP:PORT"))?;
    if !addr.ip().is_loopback() {
        return Err("loopback addresses only".into());
    }
    let path = if path.is_empty() { "/" } else { path };
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: openloop\r\n\r\n");

    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let mut pool = Vec::with_capacity(conns);
    for i in 0..conns {
        let std_stream = std::net::TcpStream::connect(addr).map_err(|e| format!("{addr}: {e}"))?;
        std_stream.set_nodelay(true).map_err(|e| e.to_string())?;
        std_stream
            .set_nonblocking(true)
            .map_err(|e| e.to_string())?;
        let mut stream = TcpStream::from_std(std_stream);
        poll.registry()
            .register(&mut stream, Token(i), Interest::READABLE)
            .map_err(|e| e.to_string())?;
        pool.push(Conn {
            stream,
            buf: Vec::with_capacity(64 * 1024),
            in_flight: None,
            sent: 0,
        });
    }

    // Connection i's k-th request is due at start + (k * conns + i) / rate.
    let step = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now() + Duration::from_millis(10);
    let end = start + Duration::from_secs_f64(seconds);
    let due = |i: usize, k: u64| start + step.mul_f64((k * conns as u64 + i as u64) as f64);
    let mut latencies: Vec<u32> = Vec::with_capacity((rate * seconds) as usize + 1024);
    let mut events = Events::with_capacity(1024);
    let mut chunk = vec![0u8; 256 * 1024];
    let mut errors = 0u64;
    loop {
        let now = Instant::now();
        // Send what is due on idle connections.
        let mut next_due: Option<Instant> = None;
        for (i, conn) in pool.iter_mut().enumerate() {
            if conn.in_flight.is_some() {
                continue;
            }
            let when = due(i, conn.sent);
            if when >= end {
                continue;
            }
            if when <= now {
                conn.stream
                    .write_all(request.as_bytes())
                    .map_err(|e| format!("send: {e}"))?;
                conn.in_flight = Some(when);
                conn.sent += 1;
            } else {
                next_due = Some(next_due.map_or(when, |n: Instant| n.min(when)));
            }
        }
        if pool.iter().all(|c| c.in_flight.is_none()) && next_due.is_none() {
            break;
        }
        let timeout = next_due.map(|n| n.saturating_duration_since(Instant::now()));
        match poll.poll(&mut events, timeout) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            result => result.map_err(|e| e.to_string())?,
        }
        for event in &events {
            let Some(conn) = pool.get_mut(event.token().0) else {
                continue;
            };
            loop {
                match conn.stream.read(&mut chunk) {
                    Ok(0) => return Err("the server closed a connection".into()),
                    Ok(n) => conn.buf.extend_from_slice(&chunk[..n]),
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(err) => return Err(format!("read: {err}")),
                }
            }
            if let Some(len) = complete_response(&conn.buf) {
                if !conn.buf.starts_with(b"HTTP/1.1 2") {
                    errors += 1;
                }
                conn.buf.drain(..len);
                if let Some(when) = conn.in_flight.take() {
                    let micros = when.elapsed().as_micros();
                    latencies.push(u32::try_from(micros).unwrap_or(u32::MAX));
                }
            }
        }
    }

    let elapsed = (Instant::now() - start).as_secs_f64();
    latencies.sort_unstable();
    let at = |q: f64| {
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(i).copied().unwrap_or(0)
    };
    println!(
        "RESULT requests={} rps={:.1} target_rps={rate} p50_us={} p90_us={} p99_us={} p999_us={} max_us={} errors={errors}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        at(0.5),
        at(0.9),
        at(0.99),
        at(0.999),
        latencies.last().copied().unwrap_or(0),
    );
    Ok(())
}

/// The length of the complete response at the start of `buf`, if it is all there.
fn complete_response(buf: &[u8]) -> Option<usize> {
    let head = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = std::str::from_utf8(&buf[..head]).ok()?;
    let length: usize = text
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    (buf.len() >= head + length).then_some(head + length)
}
