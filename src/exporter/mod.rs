//! The exporter layer: what the server answers, and the update handler that runs before each
//! scrape.
//!
//! [`Exporter`] is the `app` that the script's startup and shutdown hooks receive. It owns the
//! [`Registry`], the metric update handler, the landing page, and the routing of requests: `/`
//! is the landing page, the metrics path (`/metrics` by default) the exposition, anything else
//! 404, and methods other than `GET` and `HEAD` on those paths 405. It uses the layers below:
//! the server (sockets), HTTP (bytes), the exposition (formats) and the registry.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::exposition::{negotiate, Format};
use crate::http::{self, Context, Method, Request, Response, ResponseHead, Service, Status};
use crate::log::{log_debug, log_error, log_info, log_warning, Addr};
#[cfg(feature = "process-stats")]
use crate::registry::process;
use crate::registry::{BoxError, MetricError, Metrics, Registry};
use crate::server::{self, Limits, Server, ShutdownHandle, ShutdownSignals};

#[cfg(feature = "gzip")]
mod gzip;

/// The update handler: given every metric by name and what is known of the scrape, it brings
/// the metrics up to date before the response.
pub type UpdateHandler = Box<dyn FnMut(&Metrics, &Scrape) -> Result<(), BoxError> + Send>;

/// What is known of the scrape an update handler runs for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scrape {
    format: Format,
    deadline: Option<Instant>,
}

impl Scrape {
    /// The format the response will be in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// When the scraper gives up: the request's `X-Prometheus-Scrape-Timeout-Seconds` (capped
    /// by [`Exporter::set_max_scrape_timeout`]) after the request arrived, minus
    /// [`Exporter::set_scrape_timeout_offset`] to leave time for the response. `None` when
    /// neither header nor cap says; a header that is not plain decimal seconds (`10`, `9.5`)
    /// under 10⁹ is ignored. "Arrived" is the start of the event loop's turn that answers
    /// it, so time spent waiting behind other scrapes' handlers in that turn counts, as it
    /// does for the scraper. (A request a keep-alive client sent during that turn, read in
    /// it, is thus told less time than it has; Prometheus does not send one.)
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The time left until [`Scrape::deadline`] (zero once it has passed).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }
}

/// The scrape timeout a request announces: decimal seconds, such as `10` or `9.5`, above
/// zero. Read as a fixed-point decimal (to the nanosecond), which keeps float parsing out of
/// small binaries; anything else is no announcement.
fn announced_timeout(header: Option<&[u8]>) -> Option<Duration> {
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

/// Why the exporter could not start or keep serving.
#[derive(Debug)]
#[non_exhaustive]
pub enum ExporterError {
    /// The metrics path is not a plain absolute path: `/` followed by letters, digits and
    /// `-._~!$&'()*+,;=:@/`, without `//` first or `.`/`..` segments.
    InvalidMetricsPath(String),
    /// A host did not resolve, or an address could not be bound.
    Bind(io::Error),
    /// The event loop failed (polling itself, not a single connection).
    Serve(io::Error),
    /// The process metrics clash with metrics of the same names.
    ProcessStats(MetricError),
    /// Process metrics were asked for, but `/proc` cannot be read (not mounted, as in an empty
    /// chroot, or not Linux).
    #[cfg(feature = "process-stats")]
    ProcessStatsUnreadable(process::ProcessStatsError),
}

impl fmt::Display for ExporterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExporterError::InvalidMetricsPath(p) => {
                write!(f, "invalid metrics path '{p}': {}", METRICS_PATH_EXPECTED)
            }
            ExporterError::Bind(err) => write!(f, "{err}"),
            ExporterError::Serve(err) => write!(f, "server failed: {err}"),
            ExporterError::ProcessStats(err) => write!(f, "cannot add process metrics: {err}"),
            #[cfg(feature = "process-stats")]
            ExporterError::ProcessStatsUnreadable(err) => {
                write!(f, "process metrics need a readable /proc: {err}")
            }
        }
    }
}

impl std::error::Error for ExporterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExporterError::Bind(err) | ExporterError::Serve(err) => Some(err),
            ExporterError::ProcessStats(err) => Some(err),
            #[cfg(feature = "process-stats")]
            ExporterError::ProcessStatsUnreadable(err) => Some(err),
            ExporterError::InvalidMetricsPath(_) => None,
        }
    }
}

/// Response bodies shared with the connections sending them, and reused once none does, so a
/// steady stream of scrapes does not allocate, even when scrapes overlap. Bodies still being
/// sent stay listed, so that they can be counted.
#[derive(Debug, Default)]
struct BodyPool {
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

    /// How many of its bodies connections are still sending.
    fn in_flight(&self) -> usize {
        self.bodies.iter().filter(|b| !is_free(b)).count()
    }

    /// An empty buffer that no connection holds.
    fn take(&mut self) -> Arc<Vec<u8>> {
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
    fn put(&mut self, body: Arc<Vec<u8>>) -> Arc<Vec<u8>> {
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
enum ScrapeFailure {
    /// [`Limits::max_scrapes_in_flight`] bodies are still being sent: 503.
    Busy,
    /// The handler or a collector failed: 500, with this one-line reason.
    Failed(String),
}

/// An exporter serving on its own thread; see [`Exporter::spawn`].
///
/// Dropping it detaches the thread, as dropping a `JoinHandle` does: the server then serves
/// until the process exits. Keep it, or a [`ShutdownHandle`], to stop the server.
#[derive(Debug)]
#[must_use = "dropping it leaves the server running with no way to stop it"]
pub struct RunningExporter {
    local_addrs: Vec<SocketAddr>,
    handle: ShutdownHandle,
    thread: std::thread::JoinHandle<(Exporter, Result<(), ExporterError>)>,
}

impl RunningExporter {
    /// The bound addresses (with the real port when 0 was asked for).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// A handle that shuts the server down from any thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// Shuts the server down gracefully (as SIGTERM would), waits for its thread, and gives
    /// the exporter back.
    ///
    /// # Errors
    /// What the server failed with, if it did.
    pub fn shutdown(self) -> Result<Exporter, ExporterError> {
        self.handle.shutdown();
        self.join()
    }

    /// Waits until the server stops (after a shutdown through a [`ShutdownHandle`]) and gives
    /// the exporter back.
    ///
    /// # Errors
    /// What the server failed with, if it did.
    pub fn join(self) -> Result<Exporter, ExporterError> {
        match self.thread.join() {
            Ok((exporter, Ok(()))) => Ok(exporter),
            Ok((_, Err(err))) => Err(err),
            Err(_) => Err(ExporterError::Serve(io::Error::new(
                io::ErrorKind::Other,
                "the server thread panicked",
            ))),
        }
    }
}

/// An exporter: registry, update handler, and HTTP routes.
///
/// ```no_run
/// use prometheus_aioexporter::{Exporter, MetricConfig};
///
/// let mut exporter = Exporter::new("my-exporter", "My Prometheus exporter.");
/// exporter.set_port(9100);
/// exporter
///     .registry_mut()
///     .create_metrics([MetricConfig::new("up_seconds", "Uptime.", "gauge")])?;
/// let started = std::time::Instant::now();
/// exporter.set_metric_update_handler(move |metrics| {
///     metrics.gauge("up_seconds")?.set(started.elapsed().as_secs_f64());
///     Ok(())
/// });
/// exporter.run()?; // until SIGTERM or SIGINT
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Exporter {
    name: String,
    description: String,
    version: String,
    hosts: Vec<String>,
    port: u16,
    metrics_path: String,
    limits: Limits,
    /// What the last `bind` bound.
    local_addrs: Vec<SocketAddr>,
    registry: Registry,
    handler: Option<UpdateHandler>,
    #[cfg(feature = "process-stats")]
    process: Option<process::ProcessMetrics>,
    openmetrics: bool,
    scrape_timeout_offset: Duration,
    max_scrape_timeout: Option<Duration>,
    server_header: String,
    landing_page: Vec<u8>,
    /// Exposition buffers, reused once no connection sends them any more.
    bodies: BodyPool,
    /// Compressed exposition buffers, reused likewise.
    #[cfg(feature = "gzip")]
    gzip_bodies: BodyPool,
    #[cfg(feature = "gzip")]
    gzip: Option<crate::gzip::Gzip>,
    /// Scrapes refused for [`Limits::max_scrapes_in_flight`] since the last warning, and when
    /// that was: refusals are logged once per [`BUSY_WARNING_EVERY`], not once each.
    busy_refused: u64,
    busy_warned_at: Option<Instant>,
}

/// How often, at most, refused scrapes are logged.
const BUSY_WARNING_EVERY: Duration = Duration::from_secs(10);

impl fmt::Debug for Exporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exporter")
            .field("name", &self.name)
            .field("hosts", &self.hosts)
            .field("port", &self.port)
            .field("metrics_path", &self.metrics_path)
            .field("limits", &self.limits)
            .field("registry", &self.registry)
            .field("handler", &self.handler.is_some())
            .finish()
    }
}

impl Exporter {
    /// An exporter named `name` (shown on the landing page and in the `Server` header),
    /// listening on `localhost:9090` with metrics at `/metrics`, with an empty registry.
    pub fn new(name: &str, description: &str) -> Exporter {
        let mut exporter = Exporter {
            name: name.to_string(),
            description: description.to_string(),
            version: String::new(),
            hosts: vec!["localhost".to_string()],
            port: 9090,
            metrics_path: "/metrics".to_string(),
            limits: Limits::default(),
            local_addrs: Vec::new(),
            registry: Registry::new(),
            handler: None,
            #[cfg(feature = "process-stats")]
            process: None,
            openmetrics: true,
            scrape_timeout_offset: Duration::from_millis(500),
            max_scrape_timeout: None,
            server_header: String::new(),
            landing_page: Vec::new(),
            bodies: BodyPool::default(),
            #[cfg(feature = "gzip")]
            gzip_bodies: BodyPool::default(),
            #[cfg(feature = "gzip")]
            gzip: None,
            busy_refused: 0,
            busy_warned_at: None,
        };
        exporter.render_fixed_parts();
        exporter
    }

    /// Sets the version shown in the `Server` header (`name/version`).
    pub fn set_version(&mut self, version: &str) -> &mut Self {
        self.version = version.to_string();
        self.render_fixed_parts();
        self
    }

    /// Sets the hosts to listen on (see [`server::resolve_listen_addrs`]).
    pub fn set_hosts<I, S>(&mut self, hosts: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the port (0 picks a free one, the same on every address the hosts resolve to; see
    /// [`Exporter::bind`]).
    pub fn set_port(&mut self, port: u16) -> &mut Self {
        self.port = port;
        self
    }

    /// Sets the path of the metrics (default `/metrics`).
    ///
    /// # Errors
    /// [`ExporterError::InvalidMetricsPath`] unless it starts with `/` and holds only what a
    /// URL path may hold unescaped (letters, digits, `-._~!$&'()*+,;=:@/`): requests are
    /// matched on the path as sent, so any other path could never be reached.
    pub fn set_metrics_path(&mut self, path: &str) -> Result<&mut Self, ExporterError> {
        if !is_reachable_path(path) {
            return Err(ExporterError::InvalidMetricsPath(path.to_string()));
        }
        self.metrics_path = path.to_string();
        self.render_fixed_parts();
        Ok(self)
    }

    /// Sets the level of the crate's log lines on stderr (one setting for the process; the
    /// default is warning).
    pub fn set_log_level(&mut self, level: crate::log::Level) -> &mut Self {
        crate::log::set_level(level);
        self
    }

    /// Sets the connection limits and timeouts. Set them before [`bind`](Exporter::bind): a
    /// bound [`Server`] keeps the limits it was bound with, and only
    /// [`Limits::max_scrapes_in_flight`], which the exporter itself keeps, applies at once. (A
    /// script sets them in its `configure_exporter` hook.)
    pub fn set_limits(&mut self, limits: Limits) -> &mut Self {
        self.limits = limits;
        self
    }

    /// The connection limits and timeouts.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The addresses the last successful [`bind`](Exporter::bind) or
    /// [`bind_in`](Exporter::bind_in) bound, with the real port when 0 was asked for; empty
    /// before.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// The metrics path.
    pub fn metrics_path(&self) -> &str {
        &self.metrics_path
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The registry, to add metrics or collectors.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Every registered metric by name.
    pub fn metrics(&self) -> &Metrics {
        self.registry.metrics()
    }

    /// Sets the update handler, called with every metric by name before each metrics response
    /// (on the server's thread). If it returns an error, that scrape is answered with HTTP 500
    /// and a one-line message, the error is logged, and the exporter keeps serving.
    pub fn set_metric_update_handler<F>(&mut self, mut handler: F) -> &mut Self
    where
        F: FnMut(&Metrics) -> Result<(), BoxError> + Send + 'static,
    {
        self.handler = Some(Box::new(move |metrics, _| handler(metrics)));
        self
    }

    /// Like [`set_metric_update_handler`](Self::set_metric_update_handler), for a handler that
    /// also wants to know about the scrape: its [`deadline`](Scrape::deadline), to bound slow
    /// work, and the response's format.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_metric_update_handler_with_scrape(|metrics, scrape| {
    ///     if let Some(left) = scrape.remaining() {
    ///         // query the slow backend with a timeout of `left`
    ///     }
    ///     Ok(())
    /// });
    /// ```
    pub fn set_metric_update_handler_with_scrape<F>(&mut self, handler: F) -> &mut Self
    where
        F: FnMut(&Metrics, &Scrape) -> Result<(), BoxError> + Send + 'static,
    {
        self.handler = Some(Box::new(handler));
        self
    }

    /// Whether OpenMetrics is served to scrapers that prefer it (default `true`); `false`
    /// always answers in the text format.
    pub fn set_openmetrics(&mut self, enabled: bool) -> &mut Self {
        self.openmetrics = enabled;
        self
    }

    /// How much earlier than the scraper's timeout the handler's [`Scrape::deadline`] falls, to
    /// leave time for encoding and sending (default 0.5 s, as the blackbox exporter's
    /// `--timeout-offset`).
    pub fn set_scrape_timeout_offset(&mut self, offset: Duration) -> &mut Self {
        self.scrape_timeout_offset = offset;
        self
    }

    /// The longest scrape timeout believed from a request (default: none), and the timeout
    /// assumed when a request announces none.
    pub fn set_max_scrape_timeout(&mut self, max: Option<Duration>) -> &mut Self {
        self.max_scrape_timeout = max;
        self
    }

    /// Adds client_golang's process metrics (`process_cpu_seconds_total`,
    /// `process_open_fds`, …), read from `/proc` before each scrape.
    ///
    /// `/proc` is read once here, so that an exporter that cannot read it says so at start
    /// rather than exporting zeros (a start time of 1970, no open files). A second call does
    /// nothing.
    ///
    /// # Errors
    /// [`ExporterError::ProcessStatsUnreadable`] if `/proc/self` cannot be read;
    /// [`ExporterError::ProcessStats`] if the registry has metrics of those names that are not
    /// the process metrics.
    #[cfg(feature = "process-stats")]
    pub fn enable_process_stats(&mut self) -> Result<&mut Self, ExporterError> {
        if self.process.is_none() {
            process::collect().map_err(ExporterError::ProcessStatsUnreadable)?;
            let metrics = process::ProcessMetrics::register(&mut self.registry)
                .map_err(ExporterError::ProcessStats)?;
            self.process = Some(metrics);
        }
        Ok(self)
    }

    /// Resolves the hosts and binds every address, logging a line per URL.
    ///
    /// # Errors
    /// [`ExporterError::Bind`] naming the host or address that failed.
    pub fn bind(&mut self) -> Result<Server, ExporterError> {
        let server = Server::bind(&self.listen_addrs()?, self.limits, &self.server_header);
        self.announce(server.map_err(ExporterError::Bind)?)
    }

    /// Resolves the hosts and binds every address in the caller's mio `registry`, under
    /// tokens from `tokens` only, for a loop the caller owns (see [`Server::bind_in`]); pass
    /// this exporter as the service to [`Server::handle_event`] and [`Server::tick`].
    ///
    /// # Errors
    /// [`ExporterError::Bind`] naming the host or address that failed, or a token range too
    /// small for the listeners and [`Limits::max_connections`].
    pub fn bind_in(
        &mut self,
        registry: &mio::Registry,
        tokens: std::ops::Range<usize>,
    ) -> Result<Server, ExporterError> {
        let server = Server::bind_in(
            registry,
            tokens,
            &self.listen_addrs()?,
            self.limits,
            &self.server_header,
        );
        self.announce(server.map_err(ExporterError::Bind)?)
    }

    /// The hosts resolved, without the IPv6 addresses this host cannot listen on.
    fn listen_addrs(&self) -> Result<Vec<SocketAddr>, ExporterError> {
        server::resolve_listen_addrs(&self.hosts, self.port)
            .and_then(|addrs| server::usable_addrs(&addrs))
            .map_err(ExporterError::Bind)
    }

    /// Keeps the server's addresses and logs a line per URL it listens on.
    fn announce(&mut self, server: Server) -> Result<Server, ExporterError> {
        self.local_addrs = server.local_addrs();
        for addr in &self.local_addrs {
            log_info!("listening on http://{}{}", Addr(*addr), self.metrics_path);
        }
        Ok(server)
    }

    /// Serves on a bound server until it is shut down (by `signals`, when given, or a
    /// [`ShutdownHandle`]).
    ///
    /// # Errors
    /// [`ExporterError::Serve`] if the event loop fails.
    pub fn serve(
        &mut self,
        server: &mut Server,
        signals: Option<&mut ShutdownSignals>,
    ) -> Result<(), ExporterError> {
        server.run(self, signals).map_err(ExporterError::Serve)
    }

    /// Binds, then serves on a background thread of its own: the way in for programs that have
    /// other work on their main thread. Metrics are updated from any thread meanwhile (their
    /// handles are `Send + Sync`); the returned [`RunningExporter`] knows the bound addresses
    /// and stops the server.
    ///
    /// ```
    /// use prometheus_aioexporter::{Exporter, MetricConfig};
    ///
    /// let mut exporter = Exporter::new("batch-job", "A job with metrics.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let metrics = exporter
    ///     .registry_mut()
    ///     .create_metrics([MetricConfig::new("items", "Items done.", "counter")])?;
    /// let running = exporter.spawn()?;
    /// println!("metrics on http://{}/metrics", running.local_addrs()[0]);
    /// metrics.counter("items")?.inc(); // from this or any thread
    /// let exporter = running.shutdown()?; // graceful, like SIGTERM; gives the exporter back
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Exporter::bind`], or if the thread cannot be started.
    pub fn spawn(mut self) -> Result<RunningExporter, ExporterError> {
        let mut server = self.bind()?;
        let local_addrs = server.local_addrs();
        let handle = server.shutdown_handle();
        // A thread name cannot hold NUL (`Builder::name` would panic); the name is only shown.
        let thread = std::thread::Builder::new()
            .name(self.name.replace('\0', " "))
            .spawn(move || {
                let result = self.serve(&mut server, None);
                (self, result)
            })
            .map_err(ExporterError::Serve)?;
        Ok(RunningExporter {
            local_addrs,
            handle,
            thread,
        })
    }

    /// Binds, then serves until SIGTERM or SIGINT.
    ///
    /// The signal handlers are installed when `run` starts. A program that does slow work
    /// before (building many series, connecting to what it exports) and may run as PID 1
    /// should install [`ShutdownSignals`] first and then [`bind`](Exporter::bind) and
    /// [`serve`](Exporter::serve) with them: the kernel discards a SIGTERM sent to PID 1
    /// before it has a handler. `run_script` does so.
    ///
    /// # Errors
    /// As [`Exporter::bind`] and [`Exporter::serve`]; also if the signal handlers cannot be
    /// installed.
    pub fn run(&mut self) -> Result<(), ExporterError> {
        let mut signals = ShutdownSignals::install().map_err(ExporterError::Serve)?;
        let mut server = self.bind()?;
        self.serve(&mut server, Some(&mut signals))
    }

    fn render_fixed_parts(&mut self) {
        self.server_header = if self.version.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.name, self.version)
        };
        let name = html_escape(&self.name);
        let description = html_escape(&self.description);
        let path = html_escape(&self.metrics_path);
        // Relative, as the Python library's page links it: behind a proxy that serves the
        // exporter under a prefix (`/exporter/`), the link stays under it.
        self.landing_page = format!(
            "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>{name}</title></head>\n\
             <body>\n<h1>{name}</h1>\n<p>{description}</p>\n\
             <p><a href=\".{path}\">Metrics</a></p>\n</body>\n</html>\n"
        )
        .into_bytes();
    }

    /// What the handler is told about a scrape that had arrived by `arrived`.
    fn scrape(&self, format: Format, announced: Option<&[u8]>, arrived: Instant) -> Scrape {
        let timeout = match (announced_timeout(announced), self.max_scrape_timeout) {
            (Some(t), Some(max)) => Some(t.min(max)),
            (t, max) => t.or(max),
        };
        Scrape {
            format,
            deadline: timeout
                .and_then(|t| arrived.checked_add(t.saturating_sub(self.scrape_timeout_offset))),
        }
    }

    /// Runs the process-stats refresh and the update handler, then encodes the registry into
    /// a reusable body.
    fn collect(&mut self, scrape: &Scrape) -> Result<Arc<Vec<u8>>, ScrapeFailure> {
        // A scrape pins one body, plain or compressed: count both kinds against the limit.
        let max = self.limits.max_scrapes_in_flight;
        #[cfg(feature = "gzip")]
        let in_flight = self.bodies.in_flight() + self.gzip_bodies.in_flight();
        #[cfg(not(feature = "gzip"))]
        let in_flight = self.bodies.in_flight();
        if max > 0 && in_flight >= max {
            self.warn_busy(max);
            return Err(ScrapeFailure::Busy);
        }
        if self.busy_refused > 0 {
            // The end of a burst of refusals: its count, which no warning has given yet.
            log_warning!(
                "{} scrape(s) answered 503 since the last warning; scrapes are answered again",
                self.busy_refused
            );
            self.busy_refused = 0;
        }
        let mut body = self.bodies.take();
        #[cfg(feature = "process-stats")]
        if let Some(process) = &self.process {
            process.refresh();
        }
        if let Some(handler) = self.handler.as_mut() {
            let metrics = self.registry.metrics();
            let message = match catch_unwind(AssertUnwindSafe(|| handler(metrics, scrape))) {
                Ok(Ok(())) => None,
                Ok(Err(err)) => Some(one_line(&format!("metric update handler failed: {err}"))),
                Err(_) => Some("metric update handler panicked".to_string()),
            };
            if let Some(message) = message {
                log_error!("{message}");
                self.bodies.put(body);
                return Err(ScrapeFailure::Failed(message));
            }
        }
        // Collectors are the caller's code too: a panic in one fails this scrape, as one in
        // the handler does, and not the server.
        let out = Arc::make_mut(&mut body);
        let encoded = catch_unwind(AssertUnwindSafe(|| {
            self.registry.encode_format(out, scrape.format)
        }));
        let message = match encoded {
            Ok(Ok(())) => return Ok(self.bodies.put(body)),
            Ok(Err(err)) => one_line(&format!("cannot collect metrics: {err}")),
            Err(_) => "a collector panicked".to_string(),
        };
        self.bodies.put(body);
        log_error!("{message}");
        Err(ScrapeFailure::Failed(message))
    }

    /// Counts a refused scrape, and logs the count at most once per [`BUSY_WARNING_EVERY`]:
    /// clients that flood a busy exporter must not flood its log too.
    fn warn_busy(&mut self, max: usize) {
        self.busy_refused += 1;
        if !crate::log::due(&mut self.busy_warned_at, BUSY_WARNING_EVERY) {
            return;
        }
        log_warning!(
            "{max} scrapes are still being sent: {} scrape(s) answered 503 since the last warning",
            self.busy_refused
        );
        self.busy_refused = 0;
    }

    /// The body compressed, in a reused buffer; `None` if compression failed.
    #[cfg(feature = "gzip")]
    fn compress(&mut self, body: &[u8]) -> Option<Arc<Vec<u8>>> {
        // Within the limit `collect` checked: the plain body is free again once compressed.
        let mut out = self.gzip_bodies.take();
        let gzip = self.gzip.get_or_insert_with(gzip::Gzip::new);
        let compressed = gzip.compress(body, Arc::make_mut(&mut out));
        let out = self.gzip_bodies.put(out);
        if compressed {
            Some(out)
        } else {
            crate::log::log_warning!("gzip compression failed; answering uncompressed");
            None
        }
    }

    /// Without the `gzip` feature, bodies are always sent as they are.
    #[cfg(not(feature = "gzip"))]
    fn compress(&mut self, _body: &[u8]) -> Option<Arc<Vec<u8>>> {
        None
    }
}

impl Service for Exporter {
    fn respond(&mut self, request: &Request<'_>, context: &Context<'_>, response: &mut Response) {
        let is_metrics = http::path_is(request.path, &self.metrics_path);
        let is_landing = http::path_is(request.path, "/");
        let head_only = request.method == Method::Head;
        let keep_alive = request.keep_alive;
        let status = if !is_metrics && !is_landing {
            http::write_simple_response(
                &mut response.head,
                Status::NOT_FOUND,
                "404 Not Found\n",
                keep_alive,
                head_only,
                context.common,
                None,
            );
            Status::NOT_FOUND
        } else if request.method == Method::Other {
            http::write_simple_response(
                &mut response.head,
                Status::METHOD_NOT_ALLOWED,
                "405 Method Not Allowed\n",
                keep_alive,
                false,
                context.common,
                Some("GET, HEAD"),
            );
            Status::METHOD_NOT_ALLOWED
        } else if is_metrics {
            let format = negotiate::negotiate_format(request.accept, self.openmetrics);
            let scrape = self.scrape(format, request.scrape_timeout, context.arrived);
            match self.collect(&scrape) {
                Ok(mut body) => {
                    let mut extra: &[(&str, &str)] = &[];
                    if cfg!(feature = "gzip") {
                        extra = &[("Vary", "Accept-Encoding")];
                        if negotiate::accepts_gzip(request.accept_encoding) {
                            if let Some(compressed) = self.compress(&body) {
                                body = compressed;
                                extra =
                                    &[("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")];
                            }
                        }
                    }
                    http::write_response_head(
                        &mut response.head,
                        &ResponseHead {
                            status: Status::OK,
                            content_type: format.content_type(),
                            content_length: body.len(),
                            keep_alive,
                            minor_version: request.minor_version,
                            common: context.common,
                            allow: None,
                            extra,
                        },
                    );
                    if !head_only {
                        response.body = Some(body);
                    }
                    Status::OK
                }
                Err(failure) => {
                    let (status, mut text) = match failure {
                        ScrapeFailure::Busy => (
                            Status::SERVICE_UNAVAILABLE,
                            "too many scrapes in flight".to_string(),
                        ),
                        ScrapeFailure::Failed(message) => (Status::INTERNAL_SERVER_ERROR, message),
                    };
                    text.push('\n');
                    http::write_simple_response(
                        &mut response.head,
                        status,
                        &text,
                        keep_alive,
                        head_only,
                        context.common,
                        None,
                    );
                    status
                }
            }
        } else {
            http::write_response_head(
                &mut response.head,
                &ResponseHead {
                    status: Status::OK,
                    content_type: "text/html; charset=utf-8",
                    content_length: self.landing_page.len(),
                    keep_alive,
                    minor_version: request.minor_version,
                    common: context.common,
                    allow: None,
                    extra: &[],
                },
            );
            if !head_only {
                response.head.extend_from_slice(&self.landing_page);
            }
            Status::OK
        };
        if crate::log::enabled(crate::log::Level::Debug) {
            let length = response.head.len() + response.body.as_ref().map_or(0, |b| b.len());
            let agent = request
                .user_agent
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            log_debug!(
                "{} \"{} {} HTTP/1.{}\" {} {length} \"{}\"",
                Addr(context.peer),
                request.method_str,
                crate::log::Quoted(request.target),
                request.minor_version,
                status.code(),
                crate::log::Quoted(&agent),
            );
        }
    }
}

/// What a metrics path must look like, for error messages.
pub(crate) const METRICS_PATH_EXPECTED: &str =
    "expected '/' followed by letters, digits and -._~!$&'()*+,;=:@/, not '//' first nor '.' or '..' segments";

/// `true` if `path` can be requested as it is: it starts with `/` and holds only what a URL
/// path may hold unescaped. Requests are matched on the path as sent, so another path could
/// never be reached.
///
/// Nor may it start with `//` (a link to it would name a host) or hold a `.` or `..` segment
/// (clients resolve those away before sending).
pub(crate) fn is_reachable_path(path: &str) -> bool {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b);
    path.starts_with('/')
        && !path.starts_with("//")
        && path.bytes().all(allowed)
        && !path
            .split('/')
            .any(|segment| segment == "." || segment == "..")
}

/// Escapes text for HTML element content and attribute values.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Folds a message onto one line, for a response body and a log line.
fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn landing_page_escapes_what_it_shows() {
        let mut e = Exporter::new("a<b", "x & \"y\"");
        e.set_metrics_path("/m'&").unwrap();
        let page = String::from_utf8(e.landing_page.clone()).unwrap();
        assert!(page.contains("<h1>a&lt;b</h1>"), "{page}");
        assert!(page.contains("<p>x &amp; &quot;y&quot;</p>"), "{page}");
        assert!(page.contains("href=\"./m&#39;&amp;\""), "{page}");
    }

    #[test]
    fn metrics_path_must_be_absolute() {
        let mut e = Exporter::new("x", "");
        for bad in [
            "metrics",
            "",
            "/a?b",
            "/a#b",
            "/a b",
            "/métriques",
            "/100%",
            "//x",
            "/x/../metrics",
            "/./metrics",
            "/m/.",
            "/m/..",
        ] {
            assert!(e.set_metrics_path(bad).is_err(), "{bad}");
        }
        assert_eq!(
            e.set_metrics_path("metrics").unwrap_err().to_string(),
            "invalid metrics path 'metrics': expected '/' followed by letters, digits and -._~!$&'()*+,;=:@/, not '//' first nor '.' or '..' segments"
        );
        for good in [
            "/",
            "/metrics",
            "/a/b-c_d.e~f",
            "/x:y@z",
            "/.well-known/m",
            "/a/...",
            "/m/",
        ] {
            assert!(e.set_metrics_path(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn server_header_has_the_version_when_known() {
        let mut e = Exporter::new("x", "");
        assert_eq!(e.server_header, "x");
        e.set_version("1.2");
        assert_eq!(e.server_header, "x/1.2");
    }

    #[test]
    #[cfg(feature = "process-stats")]
    fn process_stats_are_registered_with_client_golang_names() {
        let mut e = Exporter::new("x", "");
        e.enable_process_stats().unwrap();
        let body = e
            .collect(&e.scrape(Format::Text, None, Instant::now()))
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        for name in [
            "process_cpu_seconds_total ",
            "process_open_fds ",
            "process_max_fds ",
            "process_virtual_memory_bytes ",
            "process_virtual_memory_max_bytes ",
            "process_resident_memory_bytes ",
            "process_start_time_seconds ",
        ] {
            assert!(
                text.contains(&format!("\n{name}")),
                "{name} missing:\n{text}"
            );
        }
        assert!(
            !text.contains("process_resident_memory_bytes 0\n"),
            "{text}"
        );
    }

    #[test]
    fn handler_errors_and_panics_become_one_line_reasons() {
        let mut e = Exporter::new("x", "");
        let scrape = e.scrape(Format::Text, None, Instant::now());
        e.set_metric_update_handler(|_| Err("bad\nthing".into()));
        assert_eq!(
            e.collect(&scrape).unwrap_err(),
            ScrapeFailure::Failed("metric update handler failed: bad thing".into())
        );
        e.set_metric_update_handler(|_| panic!("boom"));
        assert_eq!(
            e.collect(&scrape).unwrap_err(),
            ScrapeFailure::Failed("metric update handler panicked".into())
        );
        e.set_metric_update_handler(|_| Ok(()));
        assert!(e.collect(&scrape).is_ok());
    }

    #[test]
    fn scrapes_beyond_the_bodies_in_flight_are_busy_without_running_the_handler() {
        let mut e = Exporter::new("x", "");
        e.set_limits(Limits {
            max_scrapes_in_flight: 2,
            ..Limits::default()
        });
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        e.set_metric_update_handler(move |_| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        });
        let scrape = e.scrape(Format::Text, None, Instant::now());
        // Bodies held, as connections sending them hold them.
        let first = e.collect(&scrape).unwrap();
        let second = e.collect(&scrape).unwrap();
        for _ in 0..3 {
            assert_eq!(e.collect(&scrape).unwrap_err(), ScrapeFailure::Busy);
        }
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
        // The first refusal was logged at once; the two after it wait for the next line.
        assert_eq!(e.busy_refused, 2);
        drop(first);
        let third = e.collect(&scrape).unwrap();
        assert_eq!(
            e.busy_refused, 0,
            "the burst's count is logged when scrapes resume"
        );
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
        drop((second, third));
        for _ in 0..10 {
            assert!(e.collect(&scrape).is_ok(), "sent bodies free their slots");
        }
        e.set_limits(Limits {
            max_scrapes_in_flight: 0,
            ..Limits::default()
        });
        let held: Vec<_> = (0..20).map(|_| e.collect(&scrape).unwrap()).collect();
        assert_eq!(held.len(), 20, "0 is no limit");
    }

    /// A compressed body counts as the scrape's one body: with gzip, the limit holds too.
    #[test]
    #[cfg(feature = "gzip")]
    fn compressed_bodies_count_against_the_same_limit() {
        let mut e = Exporter::new("x", "");
        e.set_limits(Limits {
            max_scrapes_in_flight: 2,
            ..Limits::default()
        });
        let scrape = e.scrape(Format::Text, None, Instant::now());
        let mut held = Vec::new();
        for _ in 0..2 {
            let body = e.collect(&scrape).unwrap();
            let compressed = e.compress(&body).unwrap();
            drop(body);
            held.push(compressed);
        }
        assert_eq!(e.collect(&scrape).unwrap_err(), ScrapeFailure::Busy);
        held.pop();
        assert!(e.collect(&scrape).is_ok());
    }

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

    #[test]
    fn scrape_deadlines_take_the_offset_and_the_cap() {
        let mut e = Exporter::new("x", "");
        let before = Instant::now();
        let s = e.scrape(Format::Text, Some(b"10"), before);
        assert_eq!(s.deadline(), Some(before + Duration::from_millis(9500)));
        assert_eq!(
            e.scrape(Format::Text, None, Instant::now()).deadline(),
            None
        );
        e.set_max_scrape_timeout(Some(Duration::from_secs(2)));
        e.set_scrape_timeout_offset(Duration::ZERO);
        let s = e.scrape(Format::OpenMetrics, Some(b"10"), before);
        assert_eq!(s.deadline(), Some(before + Duration::from_secs(2)));
        assert_eq!(s.format(), Format::OpenMetrics);
        assert!(e
            .scrape(Format::Text, None, Instant::now())
            .deadline()
            .is_some());
    }
}
