//! The exporter layer: what the server answers, and the update handler that runs before each
//! scrape.
//!
//! [`Exporter`] is the builder: name, addresses, limits, the metrics path, the registry and
//! the update handler. Binding turns it into a [`BoundExporter`], which serves and whose
//! settings are fixed, so a setting either applies or cannot be called. The bound exporter's
//! answers are the private `app`'s: `/` is the landing page, the metrics path (`/metrics` by
//! default) the exposition, anything else 404, and methods other than `GET` and `HEAD` on
//! those paths 405. It uses the layers below: the server (sockets), HTTP (bytes), the
//! exposition (formats) and the registry.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

mod app;
#[cfg(feature = "basic-auth")]
mod basic_auth;
#[cfg(feature = "basic-auth")]
mod bcrypt;
mod bound;
#[cfg(feature = "gzip")]
mod gzip;
mod scrape;

use app::App;
#[cfg(feature = "script")]
pub(crate) use app::HEALTH_PATH;
#[cfg(feature = "basic-auth")]
pub use basic_auth::{BasicAuth, BasicAuthError};
pub use bound::{BoundExporter, RunningExporter};
use scrape::BodyPool;
pub use scrape::{Scrape, UpdateHandler};

#[cfg(feature = "process-stats")]
use crate::registry::process::{self, ProcessMetrics};
use crate::registry::{BoxError, MetricError, Metrics, Registry};
use crate::server::{self, Limits, Server, ShutdownSignals};

/// Why the exporter could not start or keep serving.
///
/// ```
/// use prometheus_aioexporter::{Exporter, ExporterError};
///
/// let mut exporter = Exporter::new("my-exporter", "My exporter.");
/// let err = exporter.set_metrics_path("metrics").unwrap_err(); // no leading '/'
/// assert!(matches!(err, ExporterError::InvalidMetricsPath(_)));
/// assert!(err.to_string().starts_with("invalid metrics path 'metrics': "));
/// ```
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

/// An exporter being built: what it is called, where it listens, its limits, registry and
/// update handler. [`bind`](Exporter::bind) (or [`spawn`](Exporter::spawn),
/// [`run`](Exporter::run)) starts it.
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
    registry: Registry,
    handler: Option<UpdateHandler>,
    #[cfg(feature = "process-stats")]
    process: Option<ProcessMetrics>,
    openmetrics: bool,
    scrape_timeout_offset: Duration,
    max_scrape_timeout: Option<Duration>,
    #[cfg(feature = "tls")]
    tls: Option<server::TlsConfig>,
    #[cfg(feature = "basic-auth")]
    basic_auth: Option<BasicAuth>,
}

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
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let exporter = Exporter::new("my-exporter", "My Prometheus exporter.");
    /// assert_eq!(exporter.metrics_path(), "/metrics");
    /// ```
    pub fn new(name: &str, description: &str) -> Exporter {
        Exporter {
            name: name.to_string(),
            description: description.to_string(),
            version: String::new(),
            hosts: vec!["localhost".to_string()],
            port: 9090,
            metrics_path: "/metrics".to_string(),
            limits: Limits::default(),
            registry: Registry::new(),
            handler: None,
            #[cfg(feature = "process-stats")]
            process: None,
            openmetrics: true,
            scrape_timeout_offset: Duration::from_millis(500),
            max_scrape_timeout: None,
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "basic-auth")]
            basic_auth: None,
        }
    }

    /// Sets the version shown in the `Server` header (`name/version`).
    ///
    /// ```
    /// # fn get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
    /// #     use std::io::{Read, Write};
    /// #     let mut conn = std::net::TcpStream::connect(addr)?;
    /// #     write!(conn, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    /// #     let mut response = String::new();
    /// #     conn.read_to_string(&mut response)?;
    /// #     Ok(response)
    /// # }
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_version(env!("CARGO_PKG_VERSION"));
    /// # exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// # let running = exporter.spawn()?;
    /// # let response = get(running.local_addrs()[0], "/metrics")?;
    /// # running.shutdown()?;
    /// # assert!(response.contains(&format!("Server: my-exporter/{}\r\n", env!("CARGO_PKG_VERSION"))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_version(&mut self, version: &str) -> &mut Self {
        self.version = version.to_string();
        self
    }

    /// Sets the hosts to listen on: names or address literals (`::1`, `[::1]`), resolved when
    /// the exporter binds; `localhost` needs no resolver.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1", "::1"]).set_port(0);
    /// let running = exporter.spawn()?;
    /// assert!(running.local_addrs()[0].ip().is_loopback());
    /// running.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0); // any free port
    /// let running = exporter.spawn()?;
    /// assert_ne!(running.local_addrs()[0].port(), 0);
    /// running.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_port(&mut self, port: u16) -> &mut Self {
        self.port = port;
        self
    }

    /// Sets the path of the metrics (default `/metrics`).
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_metrics_path("/probe/metrics")?;
    /// assert_eq!(exporter.metrics_path(), "/probe/metrics");
    /// assert!(exporter.set_metrics_path("/a b").is_err()); // a space is not a path byte
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ExporterError::InvalidMetricsPath`] unless it starts with `/` and holds only what a
    /// URL path may hold unescaped (letters, digits, `-._~!$&'()*+,;=:@/`): a client sends
    /// any other byte percent-encoded, so a path holding one could not be named in a link.
    pub fn set_metrics_path(&mut self, path: &str) -> Result<&mut Self, ExporterError> {
        if !is_reachable_path(path) {
            return Err(ExporterError::InvalidMetricsPath(path.to_string()));
        }
        self.metrics_path = path.to_string();
        Ok(self)
    }

    /// Sets the level of the crate's log lines on stderr (one setting for the process; the
    /// default is warning).
    ///
    /// ```
    /// use prometheus_aioexporter::log::{self, Level};
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_log_level(Level::Info); // log "listening on …" when bound
    /// assert_eq!(log::level(), Level::Info);
    /// ```
    pub fn set_log_level(&mut self, level: crate::log::Level) -> &mut Self {
        crate::log::set_level(level);
        self
    }

    /// Sets the connection limits and timeouts, which the server binds with.
    ///
    /// ```
    /// use std::time::Duration;
    /// use prometheus_aioexporter::{Exporter, Limits};
    ///
    /// let mut limits = Limits::default();
    /// limits.max_connections = 64;
    /// limits.idle_timeout = Duration::from_secs(30);
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_limits(limits);
    /// assert_eq!(exporter.limits().max_connections, 64);
    /// ```
    pub fn set_limits(&mut self, limits: Limits) -> &mut Self {
        self.limits = limits;
        self
    }

    /// The connection limits and timeouts.
    ///
    /// ```
    /// use prometheus_aioexporter::{Exporter, Limits};
    ///
    /// let exporter = Exporter::new("my-exporter", "My exporter.");
    /// assert_eq!(*exporter.limits(), Limits::default());
    /// ```
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The metrics path.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_metrics_path("/stats")?;
    /// assert_eq!(exporter.metrics_path(), "/stats");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metrics_path(&self) -> &str {
        &self.metrics_path
    }

    /// The registry.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.registry_mut().gauge("temp", "Temperature.")?;
    /// assert_eq!(exporter.registry().metrics().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The registry, to add metrics or collectors.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// let requests = exporter.registry_mut().counter("requests", "Requests.")?;
    /// requests.inc(); // the handle stays valid once the exporter serves
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Every registered metric by name.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.registry_mut().gauge("temp", "Temperature.")?;
    /// exporter.metrics().gauge("temp")?.set(21.0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metrics(&self) -> &Metrics {
        self.registry.metrics()
    }

    /// Sets the update handler, called with every metric by name before each metrics response
    /// (on the server's thread). If it returns an error, that scrape is answered with HTTP 500
    /// and a one-line message, the error is logged, and the exporter keeps serving.
    ///
    /// ```
    /// # fn get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
    /// #     use std::io::{Read, Write};
    /// #     let mut conn = std::net::TcpStream::connect(addr)?;
    /// #     write!(conn, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    /// #     let mut response = String::new();
    /// #     conn.read_to_string(&mut response)?;
    /// #     Ok(response)
    /// # }
    /// use prometheus_aioexporter::{Exporter, MetricConfig};
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// exporter
    ///     .registry_mut()
    ///     .create_metrics([MetricConfig::new("scrapes", "Scrapes answered.", "counter")])?;
    /// exporter.set_metric_update_handler(|metrics| {
    ///     metrics.counter("scrapes")?.inc();
    ///     Ok(())
    /// });
    /// let running = exporter.spawn()?;
    /// let response = get(running.local_addrs()[0], "/metrics")?;
    /// assert!(response.ends_with("scrapes_total 1\n"));
    /// running.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// ```
    /// # fn get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
    /// #     use std::io::{Read, Write};
    /// #     let mut conn = std::net::TcpStream::connect(addr)?;
    /// #     write!(conn, "GET {path} HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text\r\nConnection: close\r\n\r\n")?;
    /// #     let mut response = String::new();
    /// #     conn.read_to_string(&mut response)?;
    /// #     Ok(response)
    /// # }
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// exporter.set_openmetrics(false); // the text format, even to a scraper that prefers OpenMetrics
    /// let running = exporter.spawn()?;
    /// let response = get(running.local_addrs()[0], "/metrics")?;
    /// assert!(response.contains("Content-Type: text/plain; version=0.0.4"));
    /// running.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_openmetrics(&mut self, enabled: bool) -> &mut Self {
        self.openmetrics = enabled;
        self
    }

    /// How much earlier than the scraper's timeout the handler's [`Scrape::deadline`] falls, to
    /// leave time for encoding and sending (default 0.5 s, as the blackbox exporter's
    /// `--timeout-offset`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// // Encoding and sending take little here: give the handler all but 100 ms.
    /// exporter.set_scrape_timeout_offset(Duration::from_millis(100));
    /// ```
    pub fn set_scrape_timeout_offset(&mut self, offset: Duration) -> &mut Self {
        self.scrape_timeout_offset = offset;
        self
    }

    /// The longest scrape timeout believed from a request (default: none), and the timeout
    /// assumed when a request announces none.
    ///
    /// ```
    /// use std::time::Duration;
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// // A handler never gets more than 10 s, whatever a scraper announces.
    /// exporter.set_max_scrape_timeout(Some(Duration::from_secs(10)));
    /// exporter.set_metric_update_handler_with_scrape(|_metrics, scrape| {
    ///     assert!(scrape.deadline().is_some());
    ///     Ok(())
    /// });
    /// ```
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
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.enable_process_stats()?; // fails at once if /proc cannot be read
    /// assert!(exporter.metrics().gauge("process_open_fds").is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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

    /// Serves HTTPS with `tls` (a key, its certificate chain and, for mutual TLS, the client
    /// certificates' authorities, read by [`TlsConfig::from_pem_files`](server::TlsConfig::from_pem_files)),
    /// or plain HTTP with `None`, the default. Needs the `tls` feature.
    ///
    /// ```
    /// # fn get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
    /// #     use std::io::{Read, Write};
    /// #     let mut conn = std::net::TcpStream::connect(addr)?;
    /// #     write!(conn, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    /// #     let mut response = String::new();
    /// #     conn.read_to_string(&mut response)?;
    /// #     Ok(response)
    /// # }
    /// # let dir = std::env::temp_dir().join(format!("doc-tls-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
    /// # let made = std::process::Command::new("openssl")
    /// #     .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
    /// #     .args(["-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout"])
    /// #     .arg(&key).arg("-out").arg(&cert).output()?;
    /// # assert!(made.status.success(), "openssl makes the example's certificate");
    /// use prometheus_aioexporter::{Exporter, TlsConfig};
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// exporter.set_tls(Some(TlsConfig::from_pem_files(&key, &cert, None)?));
    /// let running = exporter.spawn()?;
    /// // Plain HTTP is answered with a hint, then the connection is closed.
    /// let response = get(running.local_addrs()[0], "/metrics")?;
    /// assert!(response.ends_with("Client sent an HTTP request to an HTTPS server.\n"));
    /// running.shutdown()?;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "tls")]
    pub fn set_tls(&mut self, tls: Option<server::TlsConfig>) -> &mut Self {
        self.tls = tls;
        self
    }

    /// The TLS configuration, if the exporter serves HTTPS.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let exporter = Exporter::new("my-exporter", "My exporter.");
    /// assert!(exporter.tls().is_none()); // plain HTTP unless `set_tls` was given one
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(&self) -> Option<&server::TlsConfig> {
        self.tls.as_ref()
    }

    /// Asks every request, on every path, for the user and password of one of `users`
    /// (HTTP basic auth), or asks none with `None`, the default. Needs the `basic-auth` feature.
    ///
    /// A request without them, or with wrong ones, is answered 401 with
    /// `WWW-Authenticate: Basic realm="<name>"`, the exporter's name. Credentials that verified
    /// are remembered (as a keyed digest) until the exporter stops, so a scraper pays for
    /// bcrypt once; so are the last 64 that failed, answered 401 at once. Other failed checks
    /// may take at most 1/20 of the server's time (addresses that failed recently share 1/25,
    /// others may also use 1/100), and credentials that would need one more are answered 503.
    /// Serve HTTPS too ([`set_tls`](Self::set_tls)), or the password crosses the network
    /// readable.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::net::TcpStream;
    /// use prometheus_aioexporter::{BasicAuth, Exporter};
    ///
    /// // As `htpasswd -nbB prometheus secret` prints it.
    /// let users = "prometheus:$2y$05$0wp89dMeAoYGPugHlYPKq.dzuaOIQ25eEfnT2EBWvGMqkF.kMbqAG\n";
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// exporter.set_basic_auth(Some(BasicAuth::from_htpasswd(users, "users")?));
    /// let running = exporter.spawn()?;
    ///
    /// let mut stream = TcpStream::connect(running.local_addrs()[0])?;
    /// stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    /// let mut answer = String::new();
    /// stream.read_to_string(&mut answer)?;
    /// assert!(answer.starts_with("HTTP/1.1 401 "), "{answer}");
    /// assert!(answer.contains("WWW-Authenticate: Basic realm=\"my-exporter\""), "{answer}");
    /// running.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "basic-auth")]
    pub fn set_basic_auth(&mut self, users: Option<BasicAuth>) -> &mut Self {
        self.basic_auth = users;
        self
    }

    /// The users asked for credentials, if basic auth is on.
    ///
    /// ```
    /// use prometheus_aioexporter::{BasicAuth, Exporter};
    ///
    /// let users = "prometheus:$2y$05$0wp89dMeAoYGPugHlYPKq.dzuaOIQ25eEfnT2EBWvGMqkF.kMbqAG\n";
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// assert!(exporter.basic_auth().is_none());
    /// exporter.set_basic_auth(Some(BasicAuth::from_htpasswd(users, "users")?));
    /// assert_eq!(exporter.basic_auth().map(BasicAuth::len), Some(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "basic-auth")]
    pub fn basic_auth(&self) -> Option<&BasicAuth> {
        self.basic_auth.as_ref()
    }

    /// Resolves the hosts and binds every address, logging a line per URL.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let mut bound = exporter.bind()?;
    /// println!("listening on {:?}", bound.local_addrs());
    /// bound.shutdown(); // from a hook, or another thread's `ShutdownHandle`
    /// bound.serve(None)?; // returns at once: shut down already
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ExporterError::Bind`] naming the host or address that failed.
    pub fn bind(self) -> Result<BoundExporter, ExporterError> {
        let server = Server::bind(&self.listen_addrs()?, self.limits, &self.server_header());
        let server = self.with_tls(server.map_err(ExporterError::Bind)?);
        BoundExporter::new(server, self)
    }

    /// Resolves the hosts and binds every address in the caller's mio `registry`, under
    /// tokens from `tokens` only, for a loop the caller owns: it passes the events of those
    /// tokens to [`BoundExporter::handle_event`] and calls [`BoundExporter::tick`] after every
    /// poll (see `examples/own_loop.rs`). No thread is created.
    ///
    /// ```
    /// use mio::{Events, Poll};
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("device-agent", "Metrics of the device.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let mut poll = Poll::new()?;
    /// // Tokens 1000 to 1999 are the exporter's; the program keeps the others for its own sockets.
    /// let mut bound = exporter.bind_in(poll.registry(), 1000..2000)?;
    /// let mut events = Events::with_capacity(128);
    /// bound.shutdown(); // so that this example ends; a program polls until it is done
    /// while !bound.is_shut_down() {
    ///     poll.poll(&mut events, bound.timeout())?;
    ///     for event in events.iter() {
    ///         if bound.owns(event.token()) {
    ///             bound.handle_event(event);
    ///         } // else: one of the program's own sockets
    ///     }
    ///     bound.tick();
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ExporterError::Bind`] naming the host or address that failed, or a token range too
    /// small for the listeners, two reserved tokens and [`Limits::max_connections`].
    pub fn bind_in(
        self,
        registry: &mio::Registry,
        tokens: std::ops::Range<usize>,
    ) -> Result<BoundExporter, ExporterError> {
        let addrs = self.listen_addrs()?;
        let server = Server::bind_in(registry, tokens, &addrs, self.limits, &self.server_header());
        let server = self.with_tls(server.map_err(ExporterError::Bind)?);
        BoundExporter::new(server, self)
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
    pub fn spawn(self) -> Result<RunningExporter, ExporterError> {
        // A thread name cannot hold NUL (`Builder::name` would panic); the name is only shown.
        let thread_name = self.name.replace('\0', " ");
        self.bind()?.spawn(thread_name)
    }

    /// Binds, then serves until SIGTERM or SIGINT.
    ///
    /// The signal handlers are installed when `run` starts. A program that does slow work
    /// before (building many series, connecting to what it exports) and may run as PID 1
    /// should install [`ShutdownSignals`] first and then [`bind`](Exporter::bind) and
    /// [`serve`](BoundExporter::serve) with them: the kernel discards a SIGTERM sent to PID 1
    /// before it has a handler. `run_script` does so.
    ///
    /// ```no_run
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_port(9100);
    /// let uptime = exporter.registry_mut().gauge("uptime_seconds", "Uptime.")?;
    /// let started = std::time::Instant::now();
    /// exporter.set_metric_update_handler(move |_| {
    ///     uptime.set(started.elapsed().as_secs_f64());
    ///     Ok(())
    /// });
    /// exporter.run()?; // until SIGTERM or SIGINT
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Exporter::bind`] and [`BoundExporter::serve`]; also if the signal handlers cannot
    /// be installed.
    pub fn run(self) -> Result<(), ExporterError> {
        let mut signals = ShutdownSignals::install().map_err(ExporterError::Serve)?;
        self.bind()?.serve(Some(&mut signals))
    }

    /// The server, serving HTTPS if the exporter was given a TLS configuration.
    #[cfg_attr(not(feature = "tls"), allow(clippy::unused_self))]
    fn with_tls(&self, #[allow(unused_mut)] mut server: Server) -> Server {
        #[cfg(feature = "tls")]
        server.set_tls(self.tls.clone());
        server
    }

    /// `https` when serving TLS, else `http`.
    fn scheme(&self) -> &'static str {
        #[cfg(feature = "tls")]
        if self.tls.is_some() {
            return "https";
        }
        "http"
    }

    /// The hosts resolved, without the IPv6 addresses this host cannot listen on.
    fn listen_addrs(&self) -> Result<Vec<SocketAddr>, ExporterError> {
        server::resolve_listen_addrs(&self.hosts, self.port)
            .and_then(|addrs| server::usable_addrs(&addrs))
            .map_err(ExporterError::Bind)
    }

    /// `name/version`, or the name alone.
    fn server_header(&self) -> String {
        if self.version.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.name, self.version)
        }
    }

    /// The landing page: the name, the description, and a link to the metrics.
    fn landing_page(&self) -> Vec<u8> {
        let name = html_escape(&self.name);
        let description = html_escape(&self.description);
        let path = html_escape(&self.metrics_path);
        // Relative, as the Python library's page links it: behind a proxy that serves the
        // exporter under a prefix (`/exporter/`), the link stays under it.
        format!(
            "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>{name}</title></head>\n\
             <body>\n<h1>{name}</h1>\n<p>{description}</p>\n\
             <p><a href=\".{path}\">Metrics</a></p>\n</body>\n</html>\n"
        )
        .into_bytes()
    }

    /// What serves the requests once bound.
    fn into_app(self) -> App {
        let landing_page = self.landing_page();
        #[cfg(feature = "basic-auth")]
        let gate = self
            .basic_auth
            .map(|users| basic_auth::Gate::new(users, &self.name));
        App {
            #[cfg(feature = "basic-auth")]
            gate,
            landing_page,
            registry: self.registry,
            handler: self.handler,
            #[cfg(feature = "process-stats")]
            process: self.process,
            metrics_path: self.metrics_path,
            openmetrics: self.openmetrics,
            scrape_timeout_offset: self.scrape_timeout_offset,
            max_scrape_timeout: self.max_scrape_timeout,
            max_scrapes_in_flight: self.limits.max_scrapes_in_flight,
            bodies: BodyPool::default(),
            #[cfg(feature = "gzip")]
            gzip_bodies: BodyPool::default(),
            #[cfg(feature = "gzip")]
            gzip: None,
            busy_refused: 0,
            busy_warned_at: None,
        }
    }
}

/// What a metrics path must look like, for error messages.
pub(crate) const METRICS_PATH_EXPECTED: &str =
    "expected '/' followed by letters, digits and -._~!$&'()*+,;=:@/, not '//' first nor '.' or '..' segments";

/// `true` if `path` can be requested as it is: it starts with `/` and holds only what a URL
/// path may hold unescaped, so a link can name it as it is.
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

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
        assert_eq!(e.server_header(), "x");
        e.set_version("1.2");
        assert_eq!(e.server_header(), "x/1.2");
    }
}
