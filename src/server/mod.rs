//! The server layer: one thread, one mio `Poll`, every listener and connection on it.
//!
//! It owns sockets and time: accepting, reading into a per-connection buffer with a hard cap,
//! writing responses as the socket takes them, timeouts, the connection [`Limits`], listen
//! addresses ([`addrs`], [`listener`]), shutdown signals ([`signal`]) and graceful shutdown.
//! What the bytes mean is the HTTP layer's business, and what to answer is a [`Service`]'s;
//! neither sees a socket. The server hands each request to the service with a [`Context`]:
//! the peer, when the request had arrived (the start of the loop's turn) and the `Server` and
//! `Date` headers, which the server keeps. It may use the HTTP layer, the `wire` layer and the
//! log; the exporter layer above drives it.
//!
//! The shape is mio's `tcp_server` example, hardened against its shortcuts:
//! - tokens: fixed ones for the waker, the signal socket and each listener, then one per
//!   connection slot; a freed slot is reused after all the others, so a late event of a closed
//!   connection seldom reaches its successor, and one that does finds a socket that would block;
//! - accept is drained until `WouldBlock`; a read or write that moves fewer bytes than asked
//!   stands for one (the socket had no more, or took no more: the next change is a new edge),
//!   which saves a syscall per request; `Interrupted` is retried, and `Ok(0)` is end of stream;
//! - what the bytes of one connection mean is its [`Session`]'s
//!   business, which keeps unparsed bytes across events (a request may arrive in many
//!   segments, or several in one) and stops reading while a response is pending, so a client
//!   that pipelines requests and never reads its answers holds at most one response;
//! - `WRITABLE` interest only while output is pending, always together with `READABLE`;
//! - one connection's error closes that connection only.
//!
//! Slow and idle clients cannot starve others: a request head must arrive within
//! [`Limits::request_head_timeout`] of its first byte, an idle keep-alive connection is closed
//! after [`Limits::idle_timeout`], and when [`Limits::max_connections`] is reached the least
//! recently active connection that is not being answered, and has no request waiting, makes
//! room for the new one.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use mio::event::Event;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use crate::http::{
    Action, CommonHeaders, Context, HttpDate, RequestLimits, Service, Session, Wait,
};
use crate::log::{log_debug, log_error, log_info, log_warning, Addr};

mod addrs;
mod connections;
mod limits;
mod listener;
pub(crate) mod signal;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "tls")]
mod tls_drive;

use addrs::bind_listeners;
pub(crate) use addrs::{resolve_listen_addrs, usable_addrs};
use connections::{Connection, Connections};
use limits::check_limits;
pub use limits::Limits;
#[cfg(feature = "script")]
pub(crate) use listener::raise_open_files_limit;
use signal::signal_name;
pub use signal::ShutdownSignals;
#[cfg(all(feature = "tls", feature = "script"))]
pub(crate) use tls::self_check_client;
#[cfg(feature = "tls")]
pub use tls::{TlsConfig, TlsError};
#[cfg(feature = "tls")]
pub use tls_drive::{TlsOverMemory, TurnEnd};

/// How many of the least recently active connections eviction asks before it gives up for
/// this turn, when each has a request waiting unread.
const EVICTION_TRIES: usize = 4;

/// After a response that ends the connection, how long unread request bytes (a body) are
/// drained before closing, so the kernel does not reset the connection under the response.
pub(super) const LINGER: Duration = Duration::from_secs(2);

/// With no room for a waiting client (the connection limit or the descriptors reached, and no
/// connection to evict), how long to leave it in the listen queue before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Connections queued for their next turn that fit without the queue growing.
const READY_CAPACITY: usize = 1024;
/// How long a connection that has sent nothing is spared from eviction.
pub(super) const EVICTION_GRACE: Duration = Duration::from_millis(500);
/// How often, at most, a lack of room for connections is logged.
const ROOM_WARNING_EVERY: Duration = Duration::from_secs(10);
/// Bytes read from a socket per `read` call.
const READ_CHUNK: usize = 4096;

/// Asks a running server to shut down gracefully, from any thread.
///
/// ```
/// use prometheus_aioexporter::Exporter;
///
/// let mut exporter = Exporter::new("my-exporter", "My exporter.");
/// exporter.set_hosts(["127.0.0.1"]).set_port(0);
/// let running = exporter.spawn()?;
/// let handle = running.shutdown_handle(); // Clone + Send: give it to whoever stops the server
/// handle.shutdown();
/// running.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    requested: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

impl ShutdownHandle {
    /// Stops accepting, lets responses in flight finish (within
    /// [`Limits::shutdown_timeout`]), then makes the server's `run` return.
    ///
    /// ```
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("my-exporter", "My exporter.");
    /// exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let mut bound = exporter.bind()?;
    /// let handle = bound.shutdown_handle();
    /// std::thread::spawn(move || handle.shutdown());
    /// bound.serve(None)?; // returns once the other thread asked
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(&self) {
        self.requested.store(true, Ordering::SeqCst);
        if let Err(err) = self.waker.wake() {
            log_error!("cannot wake the server to shut it down: {err}");
        }
    }
}

/// Offsets in a server's token range: the waker (own poll only), the signal socket (own
/// poll only), then one token per listener, then connections.
const WAKER: usize = 0;
const SIGNALS: usize = 1;
const FIRST_LISTENER: usize = 2;

/// What became of a connection after it was driven.
enum Next {
    /// Waiting for the socket: the next event resumes it.
    Keep,
    /// It used its turn with work left: drive it again after the other ready connections.
    Yield,
    Close,
}

/// Reads and writes one connection may do per turn, so a client that streams pipelined
/// requests (or a body, while lingering) as fast as it can cannot starve the others.
const TURN: usize = 64;
/// Bytes after which a connection's turn ends with the response it is writing, so one client
/// pipelining large scrapes cannot make the others wait for many of them.
const TURN_BYTES: usize = 64 * 1024;

/// What every request answered in one turn of the loop shares.
struct Turn<'a> {
    started: Instant,
    common: CommonHeaders<'a>,
    responses_in_flight: usize,
}

/// The poll a server owns when it runs its own loop (see [`Server::run`]).
struct OwnPoll {
    poll: Poll,
    events: Events,
}

/// The listening sockets, their connections, and the event loop that serves them.
///
/// A server either owns its `Poll` ([`Server::bind`], then [`Server::run`] blocks until shut
/// down), or lives in a `Poll` its user owns ([`Server::bind_in`]): then the user hands it the
/// events of its [token range](Server::owns), asks it for a [`timeout`](Server::timeout)
/// hint, and calls [`tick`](Server::tick) after every poll. No thread is created either way.
pub struct Server {
    own: Option<OwnPoll>,
    registry: Registry,
    /// The tokens this server may use, `[start, end)`.
    tokens: (usize, usize),
    listeners: Vec<Option<(TcpListener, SocketAddr)>>,
    connections: Connections,
    limits: Limits,
    requested: Arc<AtomicBool>,
    waker: Arc<Waker>,
    /// When accepting was paused for lack of room (the connection limit or the descriptors
    /// reached), when to try again.
    accept_paused_until: Option<Instant>,
    /// When a lack of room for connections was last logged.
    room_warned_at: Option<Instant>,
    /// A client waits for room, and no connection has closed since: stalled responses give
    /// way (see [`Limits::busy_write_timeout`]).
    room_wanted: bool,
    shutdown_deadline: Option<Instant>,
    read_chunk: Box<[u8; READ_CHUNK]>,
    /// Connections that yielded with work left, driven again at the next tick.
    ready: Vec<Token>,
    ready_now: Vec<Token>,
    /// When this turn of the loop began to drive connections (its first event, or the tick's
    /// queued connections), until the tick that ends it; `None` in a turn that drives none.
    turn_started: Option<Instant>,
    /// The `Server` header of every response.
    server_header: String,
    /// The `Date` header, formatted once per second.
    date: HttpDate,
    /// What connections are served with when they are TLS: every one, once set.
    #[cfg(feature = "tls")]
    tls: Option<tls::Tls>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addrs", &self.local_addrs())
            .field("tokens", &self.tokens)
            .field("connections", &self.connections.len())
            .field("limits", &self.limits)
            .finish()
    }
}

impl Server {
    /// Binds every address, with a `Poll` of the server's own, for [`Server::run`].
    /// `addrs` is usually [`resolve_listen_addrs`]' answer. IPv6 listeners are IPv6-only, so
    /// `0.0.0.0` and `::` can share a port. Port 0 is one free port shared by every address that
    /// asks for it (unless they overlap, as `127.0.0.1` and `0.0.0.0` do: then each has its own).
    ///
    /// # Errors
    /// The first bind error, with the address in its message; `InvalidInput` for a
    /// [`Limits::max_connections`] of 0 or above [`Limits::MAX_CONNECTIONS`], a
    /// [`Limits::max_request_head_bytes`] below 18 or above [`Limits::MAX_REQUEST_HEAD_BYTES`], or a
    /// zero `request_head_timeout`, `idle_timeout` or `write_timeout` (`Duration::MAX` is no
    /// limit).
    pub fn bind(addrs: &[SocketAddr], limits: Limits, server_header: &str) -> io::Result<Server> {
        check_limits(&limits)?;
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let own = OwnPoll {
            poll,
            events: Events::with_capacity(256),
        };
        Server::bind_with(
            registry,
            Some(own),
            (0, usize::MAX),
            addrs,
            limits,
            server_header,
        )
    }

    /// Binds every address and registers the listeners, and later the connections, in the
    /// caller's mio `registry`, under tokens from `tokens` only. The caller's loop then passes
    /// the events of those tokens to [`Server::handle_event`].
    ///
    /// # Errors
    /// A bind error, or `InvalidInput` if the range has fewer tokens than the listeners, two
    /// reserved tokens and [`Limits::max_connections`] need.
    pub fn bind_in(
        registry: &Registry,
        tokens: std::ops::Range<usize>,
        addrs: &[SocketAddr],
        limits: Limits,
        server_header: &str,
    ) -> io::Result<Server> {
        check_limits(&limits)?;
        let needed = FIRST_LISTENER + addrs.len() + limits.max_connections;
        if tokens.end.saturating_sub(tokens.start) < needed {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "token range {tokens:?} too small: {needed} tokens needed for {} listener(s) and {} connections",
                    addrs.len(),
                    limits.max_connections
                ),
            ));
        }
        Server::bind_with(
            registry.try_clone()?,
            None,
            (tokens.start, tokens.end),
            addrs,
            limits,
            server_header,
        )
    }

    fn bind_with(
        registry: Registry,
        own: Option<OwnPoll>,
        tokens: (usize, usize),
        addrs: &[SocketAddr],
        limits: Limits,
        server_header: &str,
    ) -> io::Result<Server> {
        let waker = Arc::new(Waker::new(&registry, Token(tokens.0 + WAKER))?);
        let mut listeners = Vec::with_capacity(addrs.len());
        for (i, (mut listener, local)) in bind_listeners(addrs)?.into_iter().enumerate() {
            let token = Token(tokens.0 + FIRST_LISTENER + i);
            registry.register(&mut listener, token, Interest::READABLE)?;
            log_debug!("bound {}", Addr(local));
            listeners.push(Some((listener, local)));
        }
        Ok(Server {
            own,
            registry,
            tokens,
            listeners,
            connections: Connections::new(tokens.0 + FIRST_LISTENER + addrs.len()),
            limits,
            requested: Arc::new(AtomicBool::new(false)),
            waker,
            accept_paused_until: None,
            room_warned_at: None,
            room_wanted: false,
            shutdown_deadline: None,
            read_chunk: Box::new([0; READ_CHUNK]),
            // A token is queued once at most, so these never grow past the connection limit,
            // and past `READY_CAPACITY` only with that many connections ready at once.
            ready: Vec::with_capacity(limits.max_connections.min(READY_CAPACITY)),
            ready_now: Vec::with_capacity(limits.max_connections.min(READY_CAPACITY)),
            turn_started: None,
            server_header: server_header.to_string(),
            date: HttpDate::now(),
            #[cfg(feature = "tls")]
            tls: None,
        })
    }

    /// Serves HTTPS with `tls` on every listener from now on (connections already accepted
    /// stay as they are), or plain HTTP again with `None`.
    #[cfg(feature = "tls")]
    pub fn set_tls(&mut self, tls: Option<TlsConfig>) {
        self.tls = tls.map(tls::Tls::new);
    }

    /// The bound addresses (with the real port when 0 was asked for).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners.iter().flatten().map(|(_, a)| *a).collect()
    }

    /// A handle that shuts the server down gracefully from any thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            requested: Arc::clone(&self.requested),
            waker: Arc::clone(&self.waker),
        }
    }

    /// `true` if `token` is one of this server's: pass its events to
    /// [`Server::handle_event`].
    pub fn owns(&self, token: Token) -> bool {
        (self.tokens.0..self.tokens.1).contains(&token.0)
    }

    /// Handles one event of a token this server [owns](Server::owns); others are ignored.
    pub fn handle_event(&mut self, event: &Event, service: &mut dyn Service) {
        self.check_stop(&mut None);
        self.handle_token(event, service);
    }

    /// Notes the start of the loop's turn, once per turn: what the requests answered in it
    /// are told of their arrival, and the `Date` they are answered with.
    fn begin_turn(&mut self) {
        if self.turn_started.is_none() {
            self.turn_started = Some(Instant::now());
            self.date.update(SystemTime::now());
        }
    }

    fn handle_token(&mut self, event: &Event, service: &mut dyn Service) {
        self.begin_turn();
        let token = event.token();
        let Some(offset) = token.0.checked_sub(self.tokens.0) else {
            return;
        };
        if !self.owns(token) {
            return;
        }
        if offset == WAKER {
            if self.requested.load(Ordering::SeqCst) {
                self.begin_shutdown("shutdown requested");
            }
            return;
        }
        let Some(listener_or_connection) = offset.checked_sub(FIRST_LISTENER) else {
            return;
        };
        match listener_or_connection {
            i if i < self.listeners.len() => self.accept_all(i),
            _ => {
                if event.is_read_closed() || event.is_error() {
                    if let Some(conn) = self.connections.get_mut(token) {
                        conn.peer_closed = true;
                    }
                }
                self.drive(token, service);
            }
        }
    }

    /// How long the caller's `poll` may wait before [`Server::tick`] has work to do.
    pub fn timeout(&self) -> Option<Duration> {
        if !self.ready.is_empty() {
            return Some(Duration::ZERO);
        }
        self.next_deadline()
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Runs what is due: gives connections that yielded their next turn, closes connections
    /// past their deadlines, resumes accepting after a lack of descriptors, ends a shutdown.
    /// Call it after every poll.
    pub fn tick(&mut self, service: &mut dyn Service) {
        self.tick_watching(service, &mut None);
    }

    fn tick_watching(
        &mut self,
        service: &mut dyn Service,
        signals: &mut Option<&mut ShutdownSignals>,
    ) {
        std::mem::swap(&mut self.ready, &mut self.ready_now);
        if !self.ready_now.is_empty() {
            self.begin_turn();
        }
        let mut ready_now = std::mem::take(&mut self.ready_now);
        for token in ready_now.drain(..) {
            self.check_stop(signals);
            self.drive(token, service);
        }
        self.ready_now = ready_now;
        let now = Instant::now();
        self.expire(now);
        self.shed_stalled(now);
        if self.accept_paused_until.is_some_and(|t| t <= now) {
            self.accept_paused_until = None;
            for i in 0..self.listeners.len() {
                self.accept_all(i);
            }
        }
        if let Some(deadline) = self.shutdown_deadline {
            if !self.connections.is_empty() && deadline <= now {
                log_warning!(
                    "closing {} connection(s) still in flight at the shutdown deadline",
                    self.connections.len()
                );
                let tokens = self.connections.tokens_where(|_| true);
                for token in tokens {
                    self.close(token);
                }
            }
        }
        self.turn_started = None;
    }

    /// Starts a graceful shutdown: stops listening, closes connections that are not being
    /// answered, and lets the others finish their response (within
    /// [`Limits::shutdown_timeout`]); [`Server::is_shut_down`] then turns `true`.
    pub fn shutdown(&mut self) {
        self.begin_shutdown("shutdown requested");
    }

    /// `true` once a shutdown has started and every connection is closed.
    pub fn is_shut_down(&self) -> bool {
        self.shutdown_deadline.is_some() && self.connections.is_empty()
    }

    /// Serves on the server's own `Poll` until shut down through a [`ShutdownHandle`] or,
    /// when `signals` is given, by SIGTERM or SIGINT.
    ///
    /// # Errors
    /// If polling itself fails, or for a server bound in the caller's `Poll`
    /// ([`Server::bind_in`]); errors of single connections close those connections.
    pub fn run(
        &mut self,
        service: &mut dyn Service,
        mut signals: Option<&mut ShutdownSignals>,
    ) -> io::Result<()> {
        let Some(mut own) = self.own.take() else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a server in the caller's Poll is driven by the caller's loop",
            ));
        };
        let result = self.run_own(&mut own, service, &mut signals);
        self.own = Some(own);
        if let Some(signals) = signals {
            let _ = signals.deregister(&self.registry);
        }
        result
    }

    fn run_own(
        &mut self,
        own: &mut OwnPoll,
        service: &mut dyn Service,
        signals: &mut Option<&mut ShutdownSignals>,
    ) -> io::Result<()> {
        if let Some(signals) = signals.as_deref_mut() {
            signals.register(&self.registry, Token(SIGNALS))?;
        }
        loop {
            if self.is_shut_down() {
                return Ok(());
            }
            if let Err(err) = own.poll.poll(&mut own.events, self.timeout()) {
                if err.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(err);
            }
            // Between any two connections' turns (one may render a large scrape), a shutdown
            // request or signal is noticed at once, not after the whole batch of events.
            for event in own.events.iter() {
                if event.token().0 == SIGNALS {
                    // Drains the socket; the pending flag alone could miss a signal that came
                    // while the handlers were being installed.
                    let received = signals.as_deref_mut().and_then(|s| s.take());
                    if let Some(signal) = received {
                        self.begin_shutdown(signal_name(signal));
                    }
                    continue;
                }
                self.check_stop(signals);
                self.handle_token(event, service);
            }
            self.check_stop(signals);
            self.tick_watching(service, signals);
        }
    }

    /// `true` while responses are being sent on so many connections that the next scrape
    /// would be refused ([`Limits::max_scrapes_in_flight`]), or while a client waits for room
    /// for its connection.
    fn busy(&self) -> bool {
        let max = self.limits.max_scrapes_in_flight;
        self.room_wanted || max > 0 && self.connections.responding() >= max
    }

    /// The earliest time something must happen without an event.
    fn next_deadline(&self) -> Option<Instant> {
        let busy = self.busy();
        let conns = self
            .connections
            .iter()
            .map(|(_, c)| c.deadline_when(busy, &self.limits));
        // Once shut down, nothing is left to happen: no deadline, however long the caller's
        // loop keeps polling.
        let shutdown = self
            .shutdown_deadline
            .filter(|_| !self.connections.is_empty());
        conns.chain(self.accept_paused_until).chain(shutdown).min()
    }

    /// Begins the shutdown if a [`ShutdownHandle`] asked for it or, when given, a signal
    /// arrived: two atomic loads, cheap enough before every connection's turn.
    fn check_stop(&mut self, signals: &mut Option<&mut ShutdownSignals>) {
        if self.shutdown_deadline.is_some() {
            return;
        }
        if let Some(signals) = signals.as_deref_mut() {
            if signals.pending() {
                if let Some(signal) = signals.take() {
                    self.begin_shutdown(signal_name(signal));
                    return;
                }
            }
        }
        if self.requested.load(Ordering::SeqCst) {
            self.begin_shutdown("shutdown requested");
        }
    }

    /// Stops listening and closes connections that are not being answered.
    fn begin_shutdown(&mut self, why: &str) {
        if self.shutdown_deadline.is_some() {
            return;
        }
        log_info!("{why}: shutting down");
        self.shutdown_deadline = Some(later(Instant::now(), self.limits.shutdown_timeout));
        for (listener, _) in self.listeners.iter_mut().flatten() {
            let _ = self.registry.deregister(listener);
        }
        self.listeners.iter_mut().for_each(|l| *l = None);
        self.accept_paused_until = None;
        let idle = self.connections.tokens_where(|c| !c.has_output());
        for token in idle {
            self.close(token);
        }
        self.connections
            .for_each_mut(|conn| conn.session.finish_after_output());
    }

    /// Accepts every pending connection on listener `i`.
    ///
    /// At the connection limit, or out of descriptors, a waiting client gets room by the
    /// eviction of an idle connection ([`Server::evict_one`]). With none to evict, accepting
    /// pauses and the clients wait in the listen queue, until a connection closes or
    /// [`ACCEPT_BACKOFF`] has passed (without a pause the loop would spin on the queue).
    fn accept_all(&mut self, i: usize) {
        loop {
            if self.accept_paused_until.is_some() {
                return;
            }
            let Some(Some((listener, _))) = self.listeners.get(i) else {
                return;
            };
            let full = self.connections.len() >= self.limits.max_connections;
            let accepted = if full { None } else { Some(listener.accept()) };
            let (stream, peer) = match accepted {
                Some(Ok(accepted)) => accepted,
                Some(Err(err)) if err.kind() == io::ErrorKind::WouldBlock => return,
                Some(Err(err)) if err.kind() == io::ErrorKind::Interrupted => continue,
                // A connection that failed between the kernel's accept and ours.
                Some(Err(err)) if !is_out_of_descriptors(&err) => {
                    log_debug!("accept failed: {err}");
                    continue;
                }
                // Full, or out of descriptors (which Linux says with the last one in use even
                // if nobody waits): make room only for a client that is waiting.
                Some(Err(_)) | None => {
                    if !listener::has_pending_connection(listener) {
                        return;
                    }
                    if self.evict_one(Instant::now()) {
                        continue;
                    }
                    self.pause_accepting(full);
                    return;
                }
            };
            self.add_connection(stream, peer);
        }
    }

    /// Leaves waiting clients in the listen queue for a while, saying why at most once per
    /// [`ROOM_WARNING_EVERY`].
    fn pause_accepting(&mut self, full: bool) {
        self.accept_paused_until = Some(later(Instant::now(), ACCEPT_BACKOFF));
        self.room_wanted = true;
        if !crate::log::due(&mut self.room_warned_at, ROOM_WARNING_EVERY) {
            return;
        }
        if full {
            log_warning!(
                "all {} connections are in use: new ones wait in the listen queue",
                self.limits.max_connections
            );
        } else {
            log_warning!(
                "out of file descriptors (ulimit -n): new connections wait in the listen queue"
            );
        }
    }

    fn add_connection(&mut self, mut stream: TcpStream, peer: SocketAddr) {
        let Some(token) = self.connections.free_token(self.limits.max_connections) else {
            log_warning!("refusing connection from {}: no free token", Addr(peer));
            return;
        };
        if let Err(err) = self
            .registry
            .register(&mut stream, token, Interest::READABLE)
        {
            log_warning!("cannot register connection from {}: {err}", Addr(peer));
            return;
        }
        #[cfg(feature = "tls")]
        let tls = match self
            .tls
            .as_mut()
            .map(|tls| tls.current(Instant::now()).accept())
            .transpose()
        {
            Ok(tls) => tls.map(Box::new),
            Err(err) => {
                log_warning!("cannot serve TLS to {}: {err}", Addr(peer));
                let _ = self.registry.deregister(&mut stream);
                return;
            }
        };
        // Responses go out in one vectored write; do not let Nagle hold the last segment.
        let _ = stream.set_nodelay(true);
        let now = Instant::now();
        // A TLS handshake is timed as a request head from the start: a client that connects
        // and says nothing holds no more than a plain one that sent half a head.
        #[cfg(feature = "tls")]
        let (wait, timeout) = if tls.is_some() {
            (Wait::RequestHead, self.limits.request_head_timeout)
        } else {
            (Wait::Idle, self.limits.idle_timeout)
        };
        #[cfg(not(feature = "tls"))]
        let (wait, timeout) = (Wait::Idle, self.limits.idle_timeout);
        self.connections.fill(
            token,
            Connection {
                stream,
                session: Session::new(
                    peer,
                    RequestLimits {
                        max_request_head_bytes: self.limits.max_request_head_bytes,
                    },
                ),
                wait,
                deadline: later(now, timeout),
                armed_at: now,
                last_active: now,
                accepted_at: now,
                driven: false,
                last_write: now,
                wants_writable: false,
                peer_closed: false,
                #[cfg(feature = "tls")]
                tls,
            },
        );
        log_debug!("connection from {}", Addr(peer));
    }

    /// Closes the least recently active connection that is not being answered, to make room.
    /// A head half sent counts as no more than an idle connection: a scraper sends its head in
    /// one piece, so a long-stalled part of one is a slow client's (slowloris), and sparing
    /// those would evict the newest connections first, before their requests are read. Nor is
    /// a connection evicted before it has had its chance to send a request (see
    /// [`Connection::may_be_evicted`]): in a burst, clients wait in the listen queue instead.
    fn evict_one(&mut self, now: Instant) -> bool {
        // Not one whose next request has arrived unread (its event may come later in this
        // batch): closed with input unread, it would be reset, its request lost. The oldest
        // few are asked; the rest wait for a later turn.
        let mut passed = [None; EVICTION_TRIES];
        for slot in 0..EVICTION_TRIES {
            let victim = self
                .connections
                .iter()
                .filter(|(t, c)| {
                    !c.has_output() && c.may_be_evicted(now) && !passed.contains(&Some(*t))
                })
                .min_by_key(|(_, c)| c.last_active);
            let Some((token, conn)) = victim else {
                return false;
            };
            if !listener::is_readable(&conn.stream) {
                self.close(token);
                return true;
            }
            if let Some(entry) = passed.get_mut(slot) {
                *entry = Some(token);
            }
        }
        false
    }

    fn close(&mut self, token: Token) {
        if let Some(mut conn) = self.connections.remove(token) {
            let _ = self.registry.deregister(&mut conn.stream);
            log_debug!("closed connection from {}", Addr(conn.session.peer()));
            // A descriptor is free again: accept what waited for one.
            self.room_wanted = false;
            if self.accept_paused_until.is_some() {
                self.accept_paused_until = Some(Instant::now());
            }
        }
    }

    /// Closes connections whose deadline has passed.
    fn expire(&mut self, now: Instant) {
        let expired = self.connections.tokens_where(|c| c.deadline <= now);
        for token in expired {
            if let Some(conn) = self.connections.get(token) {
                log_debug!("timeout on connection from {}", Addr(conn.session.peer()));
            }
            self.close(token);
        }
    }

    /// While the server is [`busy`](Server::busy), closes the responses that made no progress
    /// for [`Limits::busy_write_timeout`], the longest stalled first, until it is not.
    ///
    /// A stall counts until this turn of the loop began, not until now: while the loop was
    /// held (a slow update handler), a client that reads could not be written to, and its
    /// writable event waits in the next poll. Its response is not closed for that.
    fn shed_stalled(&mut self, now: Instant) {
        let since = self.turn_started.unwrap_or(now);
        let wait = self.limits.busy_write_timeout;
        while self.busy() {
            let longest = self
                .connections
                .iter()
                .filter(|(_, c)| c.wait == Wait::Response && later(c.armed_at, wait) <= since)
                .min_by_key(|(_, c)| c.armed_at);
            let Some((token, conn)) = longest else {
                return;
            };
            log_debug!(
                "closing the stalled response to {}: scrape slots or connections are needed",
                Addr(conn.session.peer())
            );
            self.close(token);
        }
    }

    /// Handles whatever the connection is ready for: writes pending output, then reads and
    /// answers requests until the socket would block.
    fn drive(&mut self, token: Token, service: &mut dyn Service) {
        let responding = self.connections.responding();
        let Some(conn) = self.connections.get_mut(token) else {
            return; // A spurious or stale event.
        };
        let turn = Turn {
            started: self.turn_started.unwrap_or_else(Instant::now),
            common: CommonHeaders {
                server: &self.server_header,
                date: self.date.as_str(),
            },
            // The others': this one asks for an answer only once its last one is sent.
            responses_in_flight: responding - usize::from(conn.wait == Wait::Response),
        };
        let next = match drive_connection(conn, service, &turn, &mut self.read_chunk[..]) {
            Next::Close => Next::Close,
            next => {
                self.connections.rearm(token, &self.limits);
                match self.connections.get_mut(token) {
                    Some(conn) => match update_interest(&self.registry, token, conn) {
                        Next::Close => Next::Close,
                        _ => next,
                    },
                    None => Next::Close,
                }
            }
        };
        match next {
            Next::Close => self.close(token),
            Next::Yield => {
                if !self.ready.contains(&token) {
                    self.ready.push(token);
                }
            }
            Next::Keep => {}
        }
    }
}

/// `time + wait`, or about a century later when a configured limit is too large for the clock
/// (`Duration::MAX` as "never"), instead of the panic of `Instant + Duration`.
pub(super) fn later(time: Instant, wait: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    time.checked_add(wait)
        .or_else(|| time.checked_add(CENTURY))
        .unwrap_or(time)
}

/// `true` for the `accept` errors that mean the process or system is out of descriptors or
/// memory, which retrying at once cannot fix.
fn is_out_of_descriptors(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// Registers `WRITABLE` interest exactly while output is pending (always with `READABLE`).
fn update_interest(registry: &Registry, token: Token, conn: &mut Connection) -> Next {
    let wants_writable = conn.has_output();
    if wants_writable == conn.wants_writable {
        return Next::Keep;
    }
    let interest = if wants_writable {
        Interest::READABLE | Interest::WRITABLE
    } else {
        Interest::READABLE
    };
    match registry.reregister(&mut conn.stream, token, interest) {
        Ok(()) => {
            conn.wants_writable = wants_writable;
            Next::Keep
        }
        Err(err) => {
            log_debug!(
                "cannot reregister connection from {}: {err}",
                Addr(conn.session.peer())
            );
            Next::Close
        }
    }
}

/// Moves bytes between the socket and the session until the socket would block, or the
/// connection's turn is over ([`TURN`] operations, or a response finished after
/// [`TURN_BYTES`]).
///
/// A read that fills less than its buffer, or a write that takes less than it was given, has
/// drained the socket's receive queue or filled its send queue: the next call would only say
/// `WouldBlock`, so the connection waits for its next event without making it. This is sound
/// for edge-triggered readiness (epoll, kqueue), which reports every new arrival and every
/// freed space, and saves a system call per request (tokio does the same). Except once the peer
/// has closed: its FIN may have come with the last data, in the same edge, so reads go on
/// until the end of the stream.
fn drive_connection(
    conn: &mut Connection,
    service: &mut dyn Service,
    turn: &Turn<'_>,
    chunk: &mut [u8],
) -> Next {
    #[cfg(feature = "tls")]
    if let Some(mut tls) = conn.tls.take() {
        let next = tls_drive::drive_tls_connection(conn, &mut tls, service, turn, chunk);
        conn.tls = Some(tls);
        return next;
    }
    let context = Context {
        peer: conn.session.peer(),
        arrived: turn.started,
        common: turn.common,
        responses_in_flight: turn.responses_in_flight,
    };
    let mut written = 0;
    let mut drained = false;
    for _ in 0..TURN {
        match conn.session.next(service, &context) {
            Action::Write => {
                let [head, body] = conn.session.pending();
                let wanted = head.len() + body.len();
                match conn
                    .stream
                    .write_vectored(&[IoSlice::new(head), IoSlice::new(body)])
                {
                    Ok(0) => return Next::Close,
                    Ok(n) => {
                        conn.session.wrote(n);
                        conn.last_active = Instant::now();
                        conn.last_write = conn.last_active;
                        written += n;
                        if n < wanted {
                            return Next::Keep; // The send queue is full.
                        }
                        if written >= TURN_BYTES && !conn.session.has_output() {
                            return Next::Yield;
                        }
                    }
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Next::Keep,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(err) => {
                        log_debug!("write to {} failed: {err}", Addr(conn.session.peer()));
                        return Next::Close;
                    }
                }
            }
            Action::Read => {
                if drained && !conn.peer_closed {
                    return Next::Keep;
                }
                let room = conn.session.read_room().min(chunk.len());
                let Some(buf) = chunk.get_mut(..room).filter(|b| !b.is_empty()) else {
                    return Next::Close;
                };
                match conn.stream.read(buf) {
                    Ok(0) => {
                        conn.driven = true;
                        conn.session.received_eof();
                    }
                    Ok(n) => {
                        conn.driven = true;
                        drained = n < buf.len();
                        conn.session.received(buf.get(..n).unwrap_or_default());
                        conn.last_active = Instant::now();
                    }
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Next::Keep,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(err) => {
                        log_debug!("read from {} failed: {err}", Addr(conn.session.peer()));
                        return Next::Close;
                    }
                }
            }
            Action::ShutdownWrite => {
                // No more output; the linger gives the client the time to read the response
                // before unread input would make the kernel reset the connection.
                let _ = conn.stream.shutdown(Shutdown::Write);
            }
            Action::Close => return Next::Close,
        }
    }
    Next::Yield
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn limits_too_large_for_the_clock_are_far_deadlines() {
        let now = Instant::now();
        assert!(later(now, Duration::MAX) > now + Duration::from_secs(50 * 365 * 24 * 3600));
        assert_eq!(
            later(now, Duration::from_secs(3)),
            now + Duration::from_secs(3)
        );
    }

    #[test]
    fn a_shut_down_server_sets_no_deadline_for_the_callers_loop() {
        let addrs = ["127.0.0.1:0".parse().unwrap()];
        let poll = Poll::new().unwrap();
        let mut server =
            Server::bind_in(poll.registry(), 0..10_000, &addrs, Limits::default(), "").unwrap();
        server.shutdown();
        server.tick(&mut Nothing);
        assert!(server.is_shut_down());
        // A loop that goes on polling for its own sockets must not spin.
        assert_eq!(server.timeout(), None);
    }

    /// Answers nothing: for servers no request reaches.
    struct Nothing;
    impl Service for Nothing {
        fn respond(
            &mut self,
            _: &crate::http::Request<'_>,
            _: &Context<'_>,
            _: &mut crate::http::Response,
        ) {
        }
    }

    #[test]
    fn a_shut_down_server_runs_no_more() {
        let addrs = ["127.0.0.1:0".parse().unwrap()];
        let mut server = Server::bind(&addrs, Limits::default(), "").unwrap();
        server.shutdown();
        // Once shut down, `run` returns at once rather than wait for events that never come;
        // a second `run` too.
        server.run(&mut Nothing, None).unwrap();
        server.run(&mut Nothing, None).unwrap();
    }

    #[test]
    fn connection_limits_no_server_can_keep_are_errors() {
        let addrs = ["127.0.0.1:0".parse().unwrap()];
        for max_connections in [0, Limits::MAX_CONNECTIONS + 1, usize::MAX] {
            let limits = Limits {
                max_connections,
                ..Limits::default()
            };
            let err = Server::bind(&addrs, limits, "").unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{max_connections}");
            assert!(err.to_string().contains("max_connections"), "{err}");
            let poll = Poll::new().unwrap();
            let err =
                Server::bind_in(poll.registry(), 0..usize::MAX, &addrs, limits, "").unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{max_connections}");
        }
        let limits = Limits {
            max_connections: Limits::MAX_CONNECTIONS,
            ..Limits::default()
        };
        Server::bind(&addrs, limits, "").unwrap();

        for max_request_head_bytes in [0, 17, Limits::MAX_REQUEST_HEAD_BYTES + 1, usize::MAX] {
            let limits = Limits {
                max_request_head_bytes,
                ..Limits::default()
            };
            let err = Server::bind(&addrs, limits, "").unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains("max_request_head_bytes"), "{err}");
        }
        let zero_timeouts: [fn(&mut Limits); 3] = [
            |l| l.request_head_timeout = Duration::ZERO,
            |l| l.idle_timeout = Duration::ZERO,
            |l| l.write_timeout = Duration::ZERO,
        ];
        for zero in zero_timeouts {
            let mut limits = Limits::default();
            zero(&mut limits);
            let err = Server::bind(&addrs, limits, "").unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains("is 0"), "{err}");
        }
        let unlimited = Limits {
            request_head_timeout: Duration::MAX,
            idle_timeout: Duration::MAX,
            write_timeout: Duration::MAX,
            busy_write_timeout: Duration::ZERO,
            shutdown_timeout: Duration::ZERO,
            ..Limits::default()
        };
        Server::bind(&addrs, unlimited, "").unwrap();
        for max_request_head_bytes in [18, Limits::MAX_REQUEST_HEAD_BYTES] {
            let limits = Limits {
                max_request_head_bytes,
                ..Limits::default()
            };
            Server::bind(&addrs, limits, "").unwrap();
        }
    }
}
