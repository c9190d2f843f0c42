//! What a scrape is told (its format and deadline), and the bodies scrapes are encoded into.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::exposition::Format;
use crate::registry::{BoxError, Metrics};

/// The update handler: given every metric by name and what is known of the scrape, it brings
/// the metrics up to date before the response.
///
/// ```
/// use prometheus_aioexporter::{Metrics, Scrape, UpdateHandler};
///
/// // The shape both `set_metric_update_handler` forms are stored as.
/// let handler: UpdateHandler = Box::new(|metrics: &Metrics, _scrape: &Scrape| {
///     let _ = metrics.len();
///     Ok(())
/// });
/// # drop(handler);
/// ```
pub type UpdateHandler = Box<dyn FnMut(&Metrics, &Scrape) -> Result<(), BoxError> + Send>;

/// What is known of the scrape an update handler runs for.
///
/// ```
/// # fn get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
/// #     use std::io::{Read, Write};
/// #     let mut conn = std::net::TcpStream::connect(addr)?;
/// #     write!(conn, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
/// #                   Accept: application/openmetrics-text; version=1.0.0\r\n\
/// #                   X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n")?;
/// #     let mut response = String::new();
/// #     conn.read_to_string(&mut response)?;
/// #     Ok(response)
/// # }
/// use std::sync::{Arc, Mutex};
/// use prometheus_aioexporter::{Exporter, Format, Scrape};
///
/// let mut exporter = Exporter::new("my-exporter", "My exporter.");
/// exporter.set_hosts(["127.0.0.1"]).set_port(0);
/// let seen: Arc<Mutex<Option<Scrape>>> = Arc::default();
/// let record = Arc::clone(&seen);
/// exporter.set_metric_update_handler_with_scrape(move |_metrics, scrape| {
///     *record.lock().unwrap() = Some(*scrape);
///     Ok(())
/// });
/// let running = exporter.spawn()?;
/// get(running.local_addrs()[0], "/metrics")?; // as Prometheus asks, with a 10 s timeout
/// running.shutdown()?;
/// let scrape = seen.lock().unwrap().expect("the handler ran");
/// assert_eq!(scrape.format(), Format::OpenMetrics);
/// assert!(scrape.remaining().unwrap() < std::time::Duration::from_secs(10));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scrape {
    pub(super) format: Format,
    pub(super) deadline: Option<Instant>,
}

impl Scrape {
    /// The format the response will be in.
    ///
    /// ```
    /// use prometheus_aioexporter::{Exporter, Format};
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_metric_update_handler_with_scrape(|_metrics, scrape| {
    ///     let openmetrics = scrape.format() == Format::OpenMetrics;
    ///     let _ = openmetrics; // e.g. fill exemplars only then
    ///     Ok(())
    /// });
    /// ```
    pub fn format(&self) -> Format {
        self.format
    }

    /// When the scraper gives up: the request's `X-Prometheus-Scrape-Timeout-Seconds` (capped
    /// by [`Exporter::set_max_scrape_timeout`](crate::Exporter::set_max_scrape_timeout)) after
    /// the request arrived, minus
    /// [`Exporter::set_scrape_timeout_offset`](crate::Exporter::set_scrape_timeout_offset) to
    /// leave time for the response. `None` when
    /// neither header nor cap says; a header that is not plain decimal seconds (`10`, `9.5`)
    /// under 10⁹ is ignored. "Arrived" is the start of the event loop's turn that answers
    /// it, so time spent waiting behind other scrapes' handlers in that turn counts, as it
    /// does for the scraper. (A request a keep-alive client sent during that turn, read in
    /// it, is thus told less time than it has; Prometheus does not send one.)
    ///
    /// ```
    /// use std::time::Instant;
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_metric_update_handler_with_scrape(|_metrics, scrape| {
    ///     for _target in ["a", "b", "c"] {
    ///         if scrape.deadline().is_some_and(|d| Instant::now() >= d) {
    ///             return Err("out of time: the scraper gave up".into());
    ///         }
    ///         // … query the target …
    ///     }
    ///     Ok(())
    /// });
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The time left until [`Scrape::deadline`] (zero once it has passed).
    ///
    /// ```
    /// use std::time::Duration;
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_metric_update_handler_with_scrape(|_metrics, scrape| {
    ///     let timeout = scrape.remaining().unwrap_or(Duration::from_secs(5));
    ///     // … query the backend with `timeout` …
    ///     # let _ = timeout;
    ///     Ok(())
    /// });
    /// ```
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }
}

/// The scrape timeout a request announces: decimal seconds, such as `10` or `9.5`, above
/// zero. Read as a fixed-point decimal (to the nanosecond), which keeps float parsing out of
/// small binaries; anything else is no announcement.
pub(super) fn announced_timeout(header: Option<&[u8]>) -> Option<Duration> {
    let text = std::str::from_utf8(header?).ok()?.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 9 || !digits(whole) || !digits(fraction) {
        return None;
    }
    let seconds: u64 = whole.parse().ok()?;
    let mut nanos: u32 = 0;
    for (i, b) in fraction.bytes().take(9).enumerate() {
        nanos += u32::from(b - b'0') * 10u32.pow(8 - i as u32);
    }
    let timeout = Duration::new(seconds, nanos);
    (!timeout.is_zero()).then_some(timeout)
}

/// Response bodies shared with the connections sending them, and reused once none does, so a
/// steady stream of scrapes does not allocate, even when scrapes overlap.
#[derive(Debug, Default)]
pub(super) struct BodyPool {
    bodies: Vec<Arc<Vec<u8>>>,
    /// The longest body so far, to size new buffers so they need not grow.
    longest: usize,
}

fn is_free(body: &Arc<Vec<u8>>) -> bool {
    Arc::strong_count(body) == 1 && Arc::weak_count(body) == 0
}

impl BodyPool {
    /// Free buffers kept for reuse, at most.
    const KEEP: usize = 4;

    /// An empty buffer that no connection holds.
    pub(super) fn take(&mut self) -> Arc<Vec<u8>> {
        match self.bodies.iter().position(is_free) {
            Some(index) => {
                let mut body = self.bodies.swap_remove(index);
                // Held alone: `make_mut` gives it back without copying.
                Arc::make_mut(&mut body).clear();
                body
            }
            // Room for growth, so the next exposition does not reallocate it.
            None => Arc::new(Vec::with_capacity(self.longest + self.longest / 8)),
        }
    }

    /// Keeps a handle on `body` for reuse, and returns it to be sent.
    pub(super) fn put(&mut self, body: Arc<Vec<u8>>) -> Arc<Vec<u8>> {
        self.longest = self.longest.max(body.len());
        if self.bodies.iter().filter(|b| is_free(b)).count() >= Self::KEEP {
            if let Some(index) = self.bodies.iter().position(is_free) {
                self.bodies.swap_remove(index);
            }
        }
        if self.bodies.capacity() == 0 {
            self.bodies.reserve_exact(Self::KEEP);
        }
        self.bodies.push(Arc::clone(&body));
        body
    }
}

/// Why a scrape got no body.
#[derive(Debug, PartialEq)]
pub(super) enum ScrapeFailure {
    /// [`Limits::max_scrapes_in_flight`](crate::Limits::max_scrapes_in_flight) responses are
    /// still being sent: 503.
    Busy,
    /// The handler or a collector failed: 500, with this one-line reason.
    Failed(String),
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn announced_timeouts_are_read_as_seconds() {
        let cases: &[(&str, Option<Duration>)] = &[
            ("10", Some(Duration::from_secs(10))),
            ("0.5", Some(Duration::from_millis(500))),
            (" 2 ", Some(Duration::from_secs(2))),
            ("9.75", Some(Duration::from_millis(9750))),
            ("1.0000000019", Some(Duration::new(1, 1))),
            ("3.", Some(Duration::from_secs(3))),
            ("0", None),
            ("0.000", None),
            ("-1", None),
            ("+1", None),
            (".5", None),
            ("1.2.3", None),
            ("NaN", None),
            ("inf", None),
            ("1e300", None),
            ("9999999999", None),
            ("ten", None),
            ("", None),
        ];
        for &(header, want) in cases {
            assert_eq!(announced_timeout(Some(header.as_bytes())), want, "{header}");
        }
        assert_eq!(announced_timeout(None), None);
    }
}
