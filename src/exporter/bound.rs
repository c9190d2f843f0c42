//! [`BoundExporter`]: an exporter bound to its addresses, serving on the caller's thread, in
//! the caller's loop, or on a thread of its own ([`RunningExporter`]).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use mio::event::Event;
use mio::Token;

use super::app::App;
use super::{Exporter, ExporterError, Scrape};
use crate::log::{log_info, Addr};
use crate::registry::{BoxError, Metrics, Registry};
use crate::server::{Server, ShutdownHandle, ShutdownSignals};

/// An exporter bound to its addresses: the `app` that a script's startup and shutdown hooks
/// receive. What it was built with is fixed; the registry and the update handler may still
/// change.
///
/// It serves until shut down with [`serve`](BoundExporter::serve), or in a loop the caller
/// owns ([`Exporter::bind_in`]): pass it the events of its tokens with
/// [`handle_event`](BoundExporter::handle_event) and call [`tick`](BoundExporter::tick)
/// after every poll.
///
/// ```
/// use mio::{Events, Poll};
/// use prometheus_aioexporter::Exporter;
///
/// let mut exporter = Exporter::new("device-agent", "Metrics of the device.");
/// exporter.set_hosts(["127.0.0.1"]).set_port(9100);
/// # exporter.set_port(0);
/// let mut poll = Poll::new()?;
/// let mut bound = exporter.bind_in(poll.registry(), 1000..2000)?;
/// # bound.shutdown_handle().shutdown(); // so that the example ends
/// let mut events = Events::with_capacity(128);
/// loop {
///     poll.poll(&mut events, bound.timeout())?;
///     for event in events.iter() {
///         if bound.owns(event.token()) {
///             bound.handle_event(event);
///         } else {
///             // the device's own sockets
///         }
///     }
///     bound.tick();
///     if bound.is_shut_down() {
///         break; // after a `ShutdownHandle::shutdown`; or keep serving the own sockets
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct BoundExporter {
    server: Server,
    app: App,
    local_addrs: Vec<SocketAddr>,
}

impl fmt::Debug for BoundExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundExporter")
            .field("server", &self.server)
            .field("metrics_path", &self.app.metrics_path)
            .field("registry", &self.app.registry)
            .field("handler", &self.app.handler.is_some())
            .finish()
    }
}

impl BoundExporter {
    /// Keeps the server's addresses and logs a line per URL it listens on.
    pub(super) fn new(server: Server, exporter: Exporter) -> Result<BoundExporter, ExporterError> {
        let local_addrs = server.local_addrs();
        // Once, before the addresses: what runs, for whoever reads the log.
        let library = env!("CARGO_PKG_VERSION");
        if exporter.version.is_empty() {
            log_info!(
                "starting {} (prometheus-aioexporter {library})",
                exporter.name
            );
        } else {
            let (name, version) = (&exporter.name, &exporter.version);
            log_info!("starting {name} {version} (prometheus-aioexporter {library})");
        }
        let scheme = exporter.scheme();
        let app = exporter.into_app();
        for addr in &local_addrs {
            log_info!(
                "listening on {scheme}://{}{}",
                Addr(*addr),
                app.metrics_path
            );
        }
        Ok(BoundExporter {
            server,
            app,
            local_addrs,
        })
    }

    /// The bound addresses, with the real port when 0 was asked for.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let bound = exporter.bind()?;
    /// let addr = bound.local_addrs()[0];
    /// assert!(addr.ip().is_loopback() && addr.port() != 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// The metrics path.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0).set_metrics_path("/stats")?;
    /// let bound = exporter.bind()?;
    /// println!("scrape http://{}{}", bound.local_addrs()[0], bound.metrics_path());
    /// assert_eq!(bound.metrics_path(), "/stats");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metrics_path(&self) -> &str {
        &self.app.metrics_path
    }

    /// The registry.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// exporter.registry_mut().gauge("temp", "Temperature.")?;
    /// let bound = exporter.bind()?;
    /// assert!(bound.registry().metrics().get("temp").is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn registry(&self) -> &Registry {
        &self.app.registry
    }

    /// The registry, to add metrics or collectors.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let mut bound = exporter.bind()?;
    /// // A startup hook may still declare metrics once bound.
    /// let jobs = bound.registry_mut().counter("jobs", "Jobs done.")?;
    /// jobs.inc();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.app.registry
    }

    /// Every registered metric by name.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// exporter.registry_mut().gauge("temp", "Temperature.")?;
    /// let bound = exporter.bind()?;
    /// bound.metrics().gauge("temp")?.set(21.0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metrics(&self) -> &Metrics {
        self.app.registry.metrics()
    }

    /// Sets the update handler; see [`Exporter::set_metric_update_handler`].
    ///
    /// ```
    /// use prometheus_aioexporter::{Exporter, MetricConfig};
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// exporter
    ///     .registry_mut()
    ///     .create_metrics([MetricConfig::new("metric1", "a metric", "gauge")])?;
    /// let mut bound = exporter.bind()?;
    /// // What a script's `on_application_startup` does with its `app`:
    /// bound.set_metric_update_handler(|metrics| {
    ///     metrics.gauge("metric1")?.set(1.0);
    ///     Ok(())
    /// });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_metric_update_handler<F>(&mut self, mut handler: F) -> &mut Self
    where
        F: FnMut(&Metrics) -> Result<(), BoxError> + Send + 'static,
    {
        self.app.handler = Some(Box::new(move |metrics, _| handler(metrics)));
        self
    }

    /// Sets an update handler that is told about the scrape; see
    /// [`Exporter::set_metric_update_handler_with_scrape`].
    ///
    /// ```
    /// use prometheus_aioexporter::{Exporter, Format};
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let mut bound = exporter.bind()?;
    /// bound.set_metric_update_handler_with_scrape(|_metrics, scrape| {
    ///     if scrape.format() == Format::OpenMetrics {
    ///         // e.g. skip what only the text format's readers want
    ///     }
    ///     Ok(())
    /// });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_metric_update_handler_with_scrape<F>(&mut self, handler: F) -> &mut Self
    where
        F: FnMut(&Metrics, &Scrape) -> Result<(), BoxError> + Send + 'static,
    {
        self.app.handler = Some(Box::new(handler));
        self
    }

    /// A handle that shuts the server down gracefully from any thread.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let mut bound = exporter.bind()?;
    /// let handle = bound.shutdown_handle();
    /// let stopper = std::thread::spawn(move || handle.shutdown()); // e.g. on a command
    /// bound.serve(None)?; // returns once the handle was used
    /// stopper.join().unwrap();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.server.shutdown_handle()
    }

    /// Serves until shut down (by `signals`, when given, or a [`ShutdownHandle`]); at once if
    /// it already is.
    ///
    /// ```no_run
    /// use prometheus_aioexporter::{Exporter, ShutdownSignals};
    ///
    /// // Handlers first, so that a SIGTERM during slow startup work is not lost (PID 1).
    /// let mut signals = ShutdownSignals::install()?;
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_port(9100);
    /// // … connect to what is exported, declare metrics …
    /// let mut bound = exporter.bind()?;
    /// bound.serve(Some(&mut signals))?; // until SIGTERM or SIGINT
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ExporterError::Serve`] if the event loop fails, or for an exporter bound in the
    /// caller's loop ([`Exporter::bind_in`]).
    pub fn serve(&mut self, signals: Option<&mut ShutdownSignals>) -> Result<(), ExporterError> {
        self.server
            .run(&mut self.app, signals)
            .map_err(ExporterError::Serve)
    }

    /// `true` if `token` is one of this exporter's: pass its events to
    /// [`handle_event`](BoundExporter::handle_event).
    ///
    /// ```
    /// use mio::{Poll, Token};
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let poll = Poll::new()?;
    /// let bound = exporter.bind_in(poll.registry(), 1000..2000)?;
    /// assert!(!bound.owns(Token(7))); // the program's own token
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn owns(&self, token: Token) -> bool {
        self.server.owns(token)
    }

    /// Handles one event of a token this exporter [owns](BoundExporter::owns); others are
    /// ignored.
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
    /// use mio::{Events, Poll};
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// exporter.registry_mut().gauge("temp", "Temperature.")?.set(21.5);
    /// let mut poll = Poll::new()?;
    /// let mut bound = exporter.bind_in(poll.registry(), 1000..2000)?;
    /// let (addr, stop) = (bound.local_addrs()[0], bound.shutdown_handle());
    /// let scraper = std::thread::spawn(move || {
    ///     let response = get(addr, "/metrics");
    ///     stop.shutdown();
    ///     response
    /// });
    /// let mut events = Events::with_capacity(128);
    /// while !bound.is_shut_down() {
    ///     poll.poll(&mut events, bound.timeout())?;
    ///     for event in events.iter() {
    ///         if bound.owns(event.token()) {
    ///             bound.handle_event(event);
    ///         }
    ///     }
    ///     bound.tick();
    /// }
    /// assert!(scraper.join().unwrap()?.ends_with("temp 21.5\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn handle_event(&mut self, event: &Event) {
        self.server.handle_event(event, &mut self.app);
    }

    /// How long the caller's `poll` may wait before [`tick`](BoundExporter::tick) has work to
    /// do.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mio::{Events, Poll};
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let mut poll = Poll::new()?;
    /// let mut bound = exporter.bind_in(poll.registry(), 1000..2000)?;
    /// // The program's own timers may want an earlier wake-up.
    /// let mine = Duration::from_millis(10);
    /// let timeout = bound.timeout().map_or(mine, |t| t.min(mine));
    /// poll.poll(&mut Events::with_capacity(16), Some(timeout))?;
    /// bound.tick();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn timeout(&self) -> Option<Duration> {
        self.server.timeout()
    }

    /// Runs what is due: connections that yielded, timeouts, the end of a shutdown. Call it
    /// after every poll.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mio::{Events, Poll};
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let mut poll = Poll::new()?;
    /// let mut bound = exporter.bind_in(poll.registry(), 1000..2000)?;
    /// let mut events = Events::with_capacity(128);
    /// poll.poll(&mut events, Some(Duration::ZERO))?;
    /// // … handle the events …
    /// bound.tick(); // after every poll, whether or not the exporter had events
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tick(&mut self) {
        self.server.tick(&mut self.app);
    }

    /// Starts a graceful shutdown; [`is_shut_down`](BoundExporter::is_shut_down) turns `true`
    /// once the responses in flight are sent.
    ///
    /// ```
    /// use mio::{Events, Poll};
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let mut poll = Poll::new()?;
    /// let mut bound = exporter.bind_in(poll.registry(), 1000..2000)?;
    /// bound.shutdown();
    /// let mut events = Events::with_capacity(16);
    /// while !bound.is_shut_down() {
    ///     poll.poll(&mut events, bound.timeout())?;
    ///     bound.tick();
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(&mut self) {
        self.server.shutdown();
    }

    /// `true` once a shutdown has started and every connection is closed.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let mut bound = exporter.bind()?;
    /// assert!(!bound.is_shut_down());
    /// bound.shutdown();
    /// bound.serve(None)?; // no connection is open: done at once
    /// assert!(bound.is_shut_down());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_shut_down(&self) -> bool {
        self.server.is_shut_down()
    }

    /// Serves on a thread named `name`.
    pub(super) fn spawn(self, name: String) -> Result<RunningExporter, ExporterError> {
        let local_addrs = self.local_addrs.clone();
        let handle = self.shutdown_handle();
        let mut bound = self;
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(move || {
                let result = bound.serve(None);
                (bound, result)
            })
            .map_err(ExporterError::Serve)?;
        Ok(RunningExporter {
            local_addrs,
            handle,
            thread,
        })
    }
}

/// An exporter serving on its own thread; see [`Exporter::spawn`].
///
/// Dropping it detaches the thread, as dropping a `JoinHandle` does: the server then serves
/// until the process exits. Keep it, or a [`ShutdownHandle`], to stop the server.
///
/// ```
/// use prometheus_aioexporter::Exporter;
///
/// let mut exporter = Exporter::new("device-agent", "Metrics of the device.");
/// exporter.set_hosts(["127.0.0.1"]).set_port(0);
/// let uptime = exporter.registry_mut().gauge("uptime_seconds", "Uptime.")?;
/// let running = exporter.spawn()?;
/// uptime.set(12.0); // from any thread, while it serves
/// running.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use = "dropping it leaves the server running with no way to stop it"]
pub struct RunningExporter {
    local_addrs: Vec<SocketAddr>,
    handle: ShutdownHandle,
    thread: std::thread::JoinHandle<(BoundExporter, Result<(), ExporterError>)>,
}

impl RunningExporter {
    /// The bound addresses (with the real port when 0 was asked for).
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let running = exporter.spawn()?;
    /// println!("metrics on http://{}/metrics", running.local_addrs()[0]);
    /// running.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// A handle that shuts the server down from any thread.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let running = exporter.spawn()?;
    /// let handle = running.shutdown_handle();
    /// std::thread::spawn(move || handle.shutdown()); // e.g. the program's own stop command
    /// running.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// Shuts the server down gracefully (as SIGTERM would), waits for its thread, and gives
    /// the exporter back.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let running = exporter.spawn()?;
    /// let bound = running.shutdown()?; // waits for responses in flight
    /// assert!(bound.is_shut_down());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// What the server failed with, if it did.
    pub fn shutdown(self) -> Result<BoundExporter, ExporterError> {
        self.handle.shutdown();
        self.join()
    }

    /// Waits until the server stops (after a shutdown through a [`ShutdownHandle`]) and gives
    /// the exporter back.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let running = exporter.spawn()?;
    /// running.shutdown_handle().shutdown();
    /// running.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// What the server failed with, if it did.
    pub fn join(self) -> Result<BoundExporter, ExporterError> {
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
