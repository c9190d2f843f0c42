//! [`Limits`]: what one client may hold of the server, checked when the server binds.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io;
use std::time::Duration;

use crate::http::RequestLimits;

/// Limits that keep one client from holding the server. Defaults follow nginx where it has
/// one, tightened where an exporter's clients (scrapers) make that safe. Binding refuses values
/// no server can keep: a zero `request_head_timeout`, `idle_timeout` or `write_timeout`
/// (`Duration::MAX` is none), and sizes out of the ranges given below.
///
/// ```
/// use std::time::Duration;
/// use prometheus_aioexporter::{Exporter, Limits};
///
/// let mut limits = Limits::default(); // non-exhaustive: start from the defaults
/// limits.max_connections = 64;
/// limits.max_scrapes_in_flight = 2;
/// limits.shutdown_timeout = Duration::from_secs(1);
/// let mut exporter = Exporter::new("my-exporter", "My exporter.");
/// exporter.set_limits(limits);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Open connections at most (nginx's `worker_connections` default, 512), from 1 to
    /// [`Limits::MAX_CONNECTIONS`]. When full, the least recently active connection that is not being
    /// answered and has no request waiting is closed for a new one, if it has been read from or has sent nothing for
    /// 0.5 s; otherwise new connections wait in the listen queue until one closes.
    pub max_connections: usize,
    /// Largest request head (request line and headers) in bytes: 8 KiB, nginx's
    /// `large_client_header_buffers`. Longer: 414 or 431, then close. 18 to
    /// [`Limits::MAX_REQUEST_HEAD_BYTES`].
    pub max_request_head_bytes: usize,
    /// Time from a request's first byte to the end of its head: 10 s (nginx allows 60 s; a
    /// scraper sends its head in one segment, and a shorter limit frees slowloris slots sooner).
    pub request_head_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request: 75 s, nginx's
    /// `keepalive_timeout`, longer than Prometheus' default 60 s scrape interval so the
    /// scraper's connection is reused.
    pub idle_timeout: Duration,
    /// How long a response may make no progress before the connection is closed: 60 s, nginx's
    /// `send_timeout`.
    pub write_timeout: Duration,
    /// On shutdown, how long responses in flight may take to finish: 5 s.
    pub shutdown_timeout: Duration,
    /// Responses being sent at once, at most: 8 (0: no limit). A scrape's is a whole
    /// exposition, plain or compressed, so this bounds the memory that clients which ask and do
    /// not read can pin (small answers, such as the landing page, leave at once). A scrape
    /// beyond it is answered 503 without running the update handler, as client_golang's
    /// `MaxRequestsInFlight` and node_exporter's `--web.max-requests` do. The server keeps the
    /// one count, and tells the exporter with each request.
    pub max_scrapes_in_flight: usize,
    /// While responses are being sent on [`max_scrapes_in_flight`](Self::max_scrapes_in_flight)
    /// connections or more (so the next scrape would be refused), or while a new connection
    /// waits for room ([`max_connections`](Self::max_connections) or the descriptors reached),
    /// how long one of them may make no progress: 2 s. Then the longest stalled is closed, and
    /// so on until a slot is free; time the loop spends elsewhere (a slow update handler) is not
    /// counted against a client. Clients that ask and do not read thus hold the scrape slots,
    /// or the connections, for seconds, not for [`write_timeout`](Self::write_timeout).
    pub busy_write_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 512,
            max_request_head_bytes: RequestLimits::DEFAULT_MAX_REQUEST_HEAD_BYTES,
            request_head_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(75),
            write_timeout: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(5),
            max_scrapes_in_flight: 8,
            busy_write_timeout: Duration::from_secs(2),
        }
    }
}

impl Limits {
    /// The largest [`Limits::max_connections`]: Linux's default `fs.nr_open`, the most
    /// descriptors one process can have.
    ///
    /// ```
    /// use prometheus_aioexporter::{Exporter, Limits};
    ///
    /// let mut limits = Limits::default();
    /// limits.max_connections = Limits::MAX_CONNECTIONS + 1;
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0).set_limits(limits);
    /// assert!(exporter.bind().is_err()); // refused when binding
    /// ```
    pub const MAX_CONNECTIONS: usize = 1 << 20;

    /// The largest [`Limits::max_request_head_bytes`]: 16 MiB, sixteen times Go's default. Each
    /// connection may buffer that much, so "no limit" would let clients take all memory.
    ///
    /// ```
    /// use prometheus_aioexporter::Limits;
    ///
    /// let mut limits = Limits::default();
    /// limits.max_request_head_bytes = 64 * 1024; // long bearer tokens or cookies
    /// assert!(limits.max_request_head_bytes <= Limits::MAX_REQUEST_HEAD_BYTES);
    /// ```
    pub const MAX_REQUEST_HEAD_BYTES: usize = 1 << 24;
}

/// `InvalidInput` for limits no server can keep.
pub(super) fn check_limits(limits: &Limits) -> io::Result<()> {
    let out_of = |name: &str, value: usize, low: usize, high: usize| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name} is {value}: expected {low} to {high}"),
        )
    };
    if !(1..=Limits::MAX_CONNECTIONS).contains(&limits.max_connections) {
        return Err(out_of(
            "max_connections",
            limits.max_connections,
            1,
            Limits::MAX_CONNECTIONS,
        ));
    }
    // The shortest request head, `GET / HTTP/1.0` and two line ends, is 18 bytes.
    if !(18..=Limits::MAX_REQUEST_HEAD_BYTES).contains(&limits.max_request_head_bytes) {
        return Err(out_of(
            "max_request_head_bytes",
            limits.max_request_head_bytes,
            18,
            Limits::MAX_REQUEST_HEAD_BYTES,
        ));
    }
    // Zero means "no limit" in Go's `http.Server`; here it would close every connection at
    // once, so it is refused rather than taken either way.
    let timeouts = [
        ("request_head_timeout", limits.request_head_timeout),
        ("idle_timeout", limits.idle_timeout),
        ("write_timeout", limits.write_timeout),
    ];
    if let Some((name, _)) = timeouts.iter().find(|(_, t)| t.is_zero()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name} is 0: no connection could live; for no limit, use Duration::MAX"),
        ));
    }
    Ok(())
}
