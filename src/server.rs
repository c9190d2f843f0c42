//! The event loop: one thread, one mio `Poll`, every listener and connection on it.
//!
//! This module owns sockets and time: accepting, reading into a per-connection buffer with a
//! hard cap, writing responses as the socket takes them, timeouts, the connection limit, and
//! graceful shutdown. What the bytes mean is [`crate::session`]'s and [`crate::http`]'s
//! business, and what to answer is a [`Service`]'s; none of them sees a socket.
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
//! recently active connection that is not being answered makes room for the new one.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{self, IoSlice, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::event::Event;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use crate::http::RequestLimits;
use crate::log::{log_debug, log_error, log_info, log_warning, Addr};
use crate::session::{Action, Session, Wait};
pub use crate::session::{Response, Service};
use crate::signal::{signal_name, ShutdownSignals};

/// Limits that keep one client from holding the server. Defaults follow nginx where it has
/// one, tightened where an exporter's clients (scrapers) make that safe. Binding refuses values
/// no server can keep: a zero `request_head_timeout`, `idle_timeout` or `write_timeout`
/// (`Duration::MAX` is none), and sizes out of the ranges given below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Open connections at most (nginx's `worker_connections` default, 512), from 1 to
    /// [`MAX_CONNECTIONS`]. When full, the least recently active connection that is not being
    /// answered is closed for a new one, if it has been read from or has sent nothing for
    /// 0.5 s; otherwise new connections wait in the listen queue until one closes.
    pub max_connections: usize,
    /// Largest request head (request line and headers) in bytes: 8 KiB, nginx's
    /// `large_client_header_buffers`. Longer: 414 or 431, then close. 18 to
    /// [`MAX_REQUEST_HEAD_BYTES`].
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
    /// Scrape bodies being sent at once, at most: 8 (0: no limit). Each is a whole exposition,
    /// plain or compressed, so this bounds the memory that clients which ask and do not read can
    /// pin. A scrape beyond it is answered 503 without running the update handler, as
    /// client_golang's `MaxRequestsInFlight` and node_exporter's `--web.max-requests` do.
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

/// After a response that ends the connection, how long unread request bytes (a body) are
/// drained before closing, so the kernel does not reset the connection under the response.
const LINGER: Duration = Duration::from_secs(2);
/// The largest [`Limits::max_connections`]: Linux's default `fs.nr_open`, the most descriptors
/// one process can have.
pub const MAX_CONNECTIONS: usize = 1 << 20;

/// The largest [`Limits::max_request_head_bytes`]: 16 MiB, sixteen times Go's default. Each
/// connection may buffer that much, so "no limit" would let clients take all memory.
pub const MAX_REQUEST_HEAD_BYTES: usize = 1 << 24;

/// `InvalidInput` for limits no server can keep.
fn check_limits(limits: &Limits) -> io::Result<()> {
    let out_of = |name: &str, value: usize, low: usize, high: usize| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name} is {value}: expected {low} to {high}"),
        )
    };
    if !(1..=MAX_CONNECTIONS).contains(&limits.max_connections) {
        return Err(out_of(
            "max_connections",
            limits.max_connections,
            1,
            MAX_CONNECTIONS,
        ));
    }
    // The shortest request head, `GET / HTTP/1.0` and two line ends, is 18 bytes.
    if !(18..=MAX_REQUEST_HEAD_BYTES).contains(&limits.max_request_head_bytes) {
        return Err(out_of(
            "max_request_head_bytes",
            limits.max_request_head_bytes,
            18,
            MAX_REQUEST_HEAD_BYTES,
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

/// With no room for a waiting client (the connection limit or the descriptors reached, and no
/// connection to evict), how long to leave it in the listen queue before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Connections queued for their next turn that fit without the queue growing.
const READY_CAPACITY: usize = 1024;
/// How long a connection that has sent nothing is spared from eviction.
const EVICTION_GRACE: Duration = Duration::from_millis(500);
/// How often, at most, a lack of room for connections is logged.
const ROOM_WARNING_EVERY: Duration = Duration::from_secs(10);
/// Bytes read from a socket per `read` call.
const READ_CHUNK: usize = 4096;

/// Asks a running server to shut down gracefully, from any thread.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    requested: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

impl ShutdownHandle {
    /// Stops accepting, lets responses in flight finish (within
    /// [`Limits::shutdown_timeout`]), then makes the server's `run` return.
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

struct Connection {
    stream: TcpStream,
    session: Session,
    /// What the connection waited for when its deadline was set.
    wait: Wait,
    /// When the connection is closed unless something happens first.
    deadline: Instant,
    /// When `deadline` was set.
    armed_at: Instant,
    /// The last time bytes moved, for choosing whom to evict when full.
    last_active: Instant,
    /// When the connection was accepted.
    accepted_at: Instant,
    /// A read from it has returned bytes or the end of the stream: its request, if any, is
    /// being dealt with. (A stale event of a token's previous connection does not count.)
    driven: bool,
    /// The last time bytes were written.
    last_write: Instant,
    /// `WRITABLE` is among the registered interests.
    wants_writable: bool,
    /// An event said the peer closed its side or the socket failed: read on until the read
    /// says so, even after a short read (the one edge for both may already have come).
    peer_closed: bool,
}

/// The open connections, in slots: slot `i` holds the connection of token `first + i`, so a
/// token finds its connection by indexing. Slots are added only when none is free, so there
/// are never more than [`Limits::max_connections`]; a freed slot is reused after the others
/// (counting up and wrapping), which keeps a late event of a closed connection from reaching
/// its successor at once (and one that does only finds the socket would block).
struct Connections {
    slots: Vec<Option<Connection>>,
    /// The token of slot 0.
    first: usize,
    /// Where the search for a free slot starts.
    next: usize,
    open: usize,
}

impl Connections {
    fn new(first: usize) -> Connections {
        Connections {
            slots: Vec::new(),
            first,
            next: 0,
            open: 0,
        }
    }

    fn len(&self) -> usize {
        self.open
    }

    fn is_empty(&self) -> bool {
        self.open == 0
    }

    fn slot(&self, token: Token) -> Option<usize> {
        token.0.checked_sub(self.first)
    }

    fn get(&self, token: Token) -> Option<&Connection> {
        self.slots.get(self.slot(token)?)?.as_ref()
    }

    fn get_mut(&mut self, token: Token) -> Option<&mut Connection> {
        let slot = self.slot(token)?;
        self.slots.get_mut(slot)?.as_mut()
    }

    /// A token whose slot is free, adding a slot if none is and fewer than `max` exist.
    fn free_token(&mut self, max: usize) -> Option<Token> {
        let count = self.slots.len();
        for i in 0..count {
            let slot = (self.next + i) % count;
            if self.slots.get(slot).is_some_and(Option::is_none) {
                self.next = slot + 1;
                return Some(Token(self.first + slot));
            }
        }
        if count < max {
            self.slots.push(None);
            self.next = count + 1;
            return Some(Token(self.first + count));
        }
        None
    }

    /// Puts `conn` in the free slot of `token`, from [`Connections::free_token`].
    fn fill(&mut self, token: Token, conn: Connection) {
        let Some(slot) = self.slot(token).and_then(|s| self.slots.get_mut(s)) else {
            return;
        };
        if slot.replace(conn).is_none() {
            self.open += 1;
        }
    }

    fn remove(&mut self, token: Token) -> Option<Connection> {
        let slot = self.slot(token)?;
        let conn = self.slots.get_mut(slot)?.take()?;
        self.open -= 1;
        Some(conn)
    }

    fn iter(&self) -> impl Iterator<Item = (Token, &Connection)> {
        let first = self.first;
        self.slots
            .iter()
            .enumerate()
            .filter_map(move |(i, c)| Some((Token(first + i), c.as_ref()?)))
    }

    fn for_each_mut(&mut self, f: impl FnMut(&mut Connection)) {
        self.slots.iter_mut().flatten().for_each(f);
    }

    /// The tokens of the connections `keep` selects (no allocation when it selects none).
    fn tokens_where(&self, mut keep: impl FnMut(&Connection) -> bool) -> Vec<Token> {
        self.iter()
            .filter(|(_, c)| keep(c))
            .map(|(t, _)| t)
            .collect()
    }
}

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
    /// [`Limits::max_connections`] of 0 or above [`MAX_CONNECTIONS`], a
    /// [`Limits::max_request_head_bytes`] below 18 or above [`MAX_REQUEST_HEAD_BYTES`], or a
    /// zero `request_head_timeout`, `idle_timeout` or `write_timeout` (`Duration::MAX` is no
    /// limit).
    pub fn bind(addrs: &[SocketAddr], limits: Limits) -> io::Result<Server> {
        check_limits(&limits)?;
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let own = OwnPoll {
            poll,
            events: Events::with_capacity(256),
        };
        Server::bind_with(registry, Some(own), (0, usize::MAX), addrs, limits)
    }

    /// Binds every address and registers the listeners, and later the connections, in the
    /// caller's mio `registry`, under tokens from `tokens` only. The caller's loop then passes
    /// the events of those tokens to [`Server::handle_event`].
    ///
    /// ```no_run
    /// use mio::{Events, Poll, Token};
    /// use prometheus_aioexporter::server::{Limits, Server};
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut exporter = Exporter::new("device-agent", "Metrics of the device.");
    /// let mut poll = Poll::new()?;
    /// let addrs = ["127.0.0.1:9100".parse()?];
    /// let mut server = Server::bind_in(poll.registry(), 1000..2000, &addrs, Limits::default())?;
    /// let mut events = Events::with_capacity(128);
    /// loop {
    ///     poll.poll(&mut events, server.timeout())?;
    ///     for event in events.iter() {
    ///         if server.owns(event.token()) {
    ///             server.handle_event(event, &mut exporter);
    ///         } else {
    ///             // the device's own sockets
    ///         }
    ///     }
    ///     server.tick(&mut exporter);
    ///     if server.is_shut_down() {
    ///         break; // after a `ShutdownHandle::shutdown`; or keep serving the own sockets
    ///     }
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A bind error, or `InvalidInput` if the range has fewer tokens than the listeners, two
    /// reserved tokens and [`Limits::max_connections`] need.
    pub fn bind_in(
        registry: &Registry,
        tokens: std::ops::Range<usize>,
        addrs: &[SocketAddr],
        limits: Limits,
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
        )
    }

    fn bind_with(
        registry: Registry,
        own: Option<OwnPoll>,
        tokens: (usize, usize),
        addrs: &[SocketAddr],
        limits: Limits,
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
        })
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

    /// Notes the start of the loop's turn, once per turn, and tells the service.
    fn begin_turn(&mut self, service: &mut dyn Service) {
        if self.turn_started.is_none() {
            let now = Instant::now();
            self.turn_started = Some(now);
            service.turn_started(now);
        }
    }

    fn handle_token(&mut self, event: &Event, service: &mut dyn Service) {
        self.begin_turn(service);
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
            self.begin_turn(service);
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
        if self.turn_started.take().is_some() {
            service.turn_ended();
        }
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
            if self.is_shut_down() {
                return Ok(());
            }
        }
    }

    /// `true` while responses are being sent on so many connections that the next scrape
    /// would be refused ([`Limits::max_scrapes_in_flight`]), or while a client waits for room
    /// for its connection.
    fn busy(&self) -> bool {
        let max = self.limits.max_scrapes_in_flight;
        self.room_wanted
            || max > 0
                && self.connections.len() >= max
                && self
                    .connections
                    .iter()
                    .filter(|(_, c)| c.wait == Wait::Response)
                    .count()
                    >= max
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
        let idle = self.connections.tokens_where(|c| !c.session.has_output());
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
                    if !crate::listener::has_pending_connection(listener) {
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
        // Responses go out in one vectored write; do not let Nagle hold the last segment.
        let _ = stream.set_nodelay(true);
        let now = Instant::now();
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
                wait: Wait::Idle,
                deadline: later(now, self.limits.idle_timeout),
                armed_at: now,
                last_active: now,
                accepted_at: now,
                driven: false,
                last_write: now,
                wants_writable: false,
                peer_closed: false,
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
        let victim = self
            .connections
            .iter()
            .filter(|(_, c)| !c.session.has_output() && c.may_be_evicted(now))
            .min_by_key(|(_, c)| c.last_active)
            .map(|(t, _)| t);
        match victim {
            Some(token) => {
                self.close(token);
                true
            }
            None => false,
        }
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
        let Some(conn) = self.connections.get_mut(token) else {
            return; // A spurious or stale event.
        };
        let next = match drive_connection(conn, service, &mut self.read_chunk[..]) {
            Next::Close => Next::Close,
            next => {
                conn.rearm(&self.limits);
                match update_interest(&self.registry, token, conn) {
                    Next::Close => Next::Close,
                    _ => next,
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

impl Connection {
    /// A connection may make room for another once the loop has read from it, or once it has
    /// been open for [`EVICTION_GRACE`] without sending anything: never one accepted a moment
    /// ago whose request is waiting to be read.
    fn may_be_evicted(&self, now: Instant) -> bool {
        self.driven || later(self.accepted_at, EVICTION_GRACE) <= now
    }

    /// The deadline, shortened to [`Limits::busy_write_timeout`] from the last progress for a
    /// response while the server is `busy`.
    fn deadline_when(&self, busy: bool, limits: &Limits) -> Instant {
        if busy && self.wait == Wait::Response {
            self.deadline
                .min(later(self.armed_at, limits.busy_write_timeout))
        } else {
            self.deadline
        }
    }

    /// Sets the deadline for what the connection now waits for: from the first byte of a
    /// request head (however slowly the rest comes), from the end of the last response when
    /// idle, from the last progress of a response being sent.
    fn rearm(&mut self, limits: &Limits) {
        let wait = self.session.wait();
        // Bytes written since the deadline was set: a response went out (the idle time and a
        // next head's time count from it) or a slow one progressed. Bytes read never extend
        // a deadline, so a head that trickles in cannot outlive its timeout.
        let progressed = wait != Wait::Linger && self.last_write > self.armed_at;
        if wait != self.wait || progressed {
            let timeout = match wait {
                Wait::Idle => limits.idle_timeout,
                Wait::RequestHead => limits.request_head_timeout,
                Wait::Response => limits.write_timeout,
                Wait::Linger => LINGER,
            };
            let now = Instant::now();
            self.wait = wait;
            self.armed_at = now;
            self.deadline = later(now, timeout);
        }
    }
}

/// `time + wait`, or about a century later when a configured limit is too large for the clock
/// (`Duration::MAX` as "never"), instead of the panic of `Instant + Duration`.
fn later(time: Instant, wait: Duration) -> Instant {
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
    let wants_writable = conn.session.has_output();
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
fn drive_connection(conn: &mut Connection, service: &mut dyn Service, chunk: &mut [u8]) -> Next {
    let mut written = 0;
    let mut drained = false;
    for _ in 0..TURN {
        match conn.session.next(service) {
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

/// How many times [`bind_listeners`] tries to give every address the same free port.
const SHARED_PORT_ATTEMPTS: usize = 8;

/// Binds every address. Port 0 means one free port, the same on every address that asks for
/// it: the port the kernel picks for the first is asked for on the others, so `localhost` with
/// port 0 listens on one port on `127.0.0.1` and `::1`. If that port is taken on a later
/// address, all are closed and bound again. Should that keep failing (addresses that overlap,
/// such as `127.0.0.1` and `0.0.0.0`), the last attempt lets each address take its own port.
fn bind_listeners(addrs: &[SocketAddr]) -> io::Result<Vec<(TcpListener, SocketAddr)>> {
    let mut attempt = 0;
    'attempt: loop {
        attempt += 1;
        let share = attempt < SHARED_PORT_ATTEMPTS;
        let mut bound: Vec<(TcpListener, SocketAddr)> = Vec::with_capacity(addrs.len());
        let mut chosen_port = None;
        for &addr in addrs {
            let mut asked = addr;
            if let (0, Some(port), true) = (addr.port(), chosen_port, share) {
                asked.set_port(port);
            }
            let listener = match crate::listener::bind(asked) {
                Ok(listener) => listener,
                Err(err) if asked != addr && err.kind() == io::ErrorKind::AddrInUse => {
                    continue 'attempt;
                }
                Err(err) => {
                    // `0.0.0.0` and `127.0.0.1` on one port: the clash is our own.
                    let covered_by = bound.iter().map(|(_, local)| *local).find(|local| {
                        local.port() == asked.port()
                            && local.is_ipv4() == asked.is_ipv4()
                            && (local.ip().is_unspecified() || asked.ip().is_unspecified())
                    });
                    let why = match covered_by {
                        Some(other) if err.kind() == io::ErrorKind::AddrInUse => {
                            format!("it overlaps {}, listened on already", Addr(other))
                        }
                        _ => err.to_string(),
                    };
                    return Err(io::Error::new(
                        err.kind(),
                        format!("cannot listen on {}: {why}", Addr(asked)),
                    ));
                }
            };
            let local = listener.local_addr()?;
            if addr.port() == 0 {
                chosen_port.get_or_insert(local.port());
            }
            bound.push((listener, local));
        }
        return Ok(bound);
    }
}

/// The socket addresses to listen on for `hosts` and `port`.
///
/// `localhost` means the loopback addresses, `127.0.0.1` and `::1`, without asking a resolver,
/// so it works in a `FROM scratch` image with no `/etc/hosts`. IP literals (IPv6 with or
/// without brackets) are used as they are; an empty host means every interface, `0.0.0.0` and
/// `::` (as in Python's asyncio). Other names are resolved by the system. Duplicates are
/// dropped.
///
/// # Errors
/// A name that does not resolve, with the name in the message.
pub fn resolve_listen_addrs(hosts: &[String], port: u16) -> io::Result<Vec<SocketAddr>> {
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for host in hosts {
        let host = host.trim();
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let found: Vec<SocketAddr> = if bare.is_empty() {
            vec![
                SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
            ]
        } else if bare.eq_ignore_ascii_case("localhost") || bare.eq_ignore_ascii_case("localhost.")
        {
            vec![
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
            ]
        } else if let Ok(ip) = bare.parse::<IpAddr>() {
            // An IPv4-mapped address (`::ffff:127.0.0.1`) is its IPv4 address: an IPv6-only
            // listener cannot bind it.
            let ip = match ip {
                IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
                v4 => v4,
            };
            vec![SocketAddr::new(ip, port)]
        } else {
            (bare, port)
                .to_socket_addrs()
                .map_err(|err| {
                    io::Error::new(err.kind(), format!("cannot resolve host '{host}': {err}"))
                })?
                .collect()
        };
        for addr in found {
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
    }
    Ok(addrs)
}

/// The addresses of `addrs` this host can listen on: an IPv6 address is dropped with a warning
/// when the host has IPv6 disabled, as long as another address remains (so `localhost` works
/// on IPv4-only hosts).
///
/// # Errors
/// `InvalidInput` if no address remains.
pub fn usable_addrs(addrs: &[SocketAddr]) -> io::Result<Vec<SocketAddr>> {
    let mut usable = Vec::with_capacity(addrs.len());
    for &addr in addrs {
        if addr.is_ipv6() && addrs.len() > 1 {
            // Probe: does this host do IPv6 at all?
            match std::net::TcpListener::bind(SocketAddr::new(addr.ip(), 0)) {
                Err(err)
                    if matches!(
                        err.raw_os_error(),
                        Some(libc::EADDRNOTAVAIL | libc::EAFNOSUPPORT)
                    ) =>
                {
                    log_warning!("skipping {}: {err}", Addr(addr));
                    continue;
                }
                _ => {}
            }
        }
        usable.push(addr);
    }
    if usable.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no address to listen on",
        ));
    }
    Ok(usable)
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
            Server::bind_in(poll.registry(), 0..10_000, &addrs, Limits::default()).unwrap();
        let mut exporter = crate::Exporter::new("t", "T.");
        server.shutdown();
        server.tick(&mut exporter);
        assert!(server.is_shut_down());
        // A loop that goes on polling for its own sockets must not spin.
        assert_eq!(server.timeout(), None);
    }

    #[test]
    fn connection_limits_no_server_can_keep_are_errors() {
        let addrs = ["127.0.0.1:0".parse().unwrap()];
        for max_connections in [0, MAX_CONNECTIONS + 1, usize::MAX] {
            let limits = Limits {
                max_connections,
                ..Limits::default()
            };
            let err = Server::bind(&addrs, limits).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{max_connections}");
            assert!(err.to_string().contains("max_connections"), "{err}");
            let poll = Poll::new().unwrap();
            let err = Server::bind_in(poll.registry(), 0..usize::MAX, &addrs, limits).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{max_connections}");
        }
        let limits = Limits {
            max_connections: MAX_CONNECTIONS,
            ..Limits::default()
        };
        Server::bind(&addrs, limits).unwrap();

        for max_request_head_bytes in [0, 17, MAX_REQUEST_HEAD_BYTES + 1, usize::MAX] {
            let limits = Limits {
                max_request_head_bytes,
                ..Limits::default()
            };
            let err = Server::bind(&addrs, limits).unwrap_err();
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
            let err = Server::bind(&addrs, limits).unwrap_err();
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
        Server::bind(&addrs, unlimited).unwrap();
        for max_request_head_bytes in [18, MAX_REQUEST_HEAD_BYTES] {
            let limits = Limits {
                max_request_head_bytes,
                ..Limits::default()
            };
            Server::bind(&addrs, limits).unwrap();
        }
    }

    #[test]
    fn localhost_needs_no_resolver() {
        let addrs = resolve_listen_addrs(&["localhost".into()], 9090).unwrap();
        assert_eq!(
            addrs,
            vec![
                "127.0.0.1:9090".parse().unwrap(),
                "[::1]:9090".parse().unwrap()
            ]
        );
    }

    #[test]
    fn literals_brackets_and_duplicates() {
        let hosts: Vec<String> = ["127.0.0.1", "[::1]", "::1", "", "::ffff:127.0.0.1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let addrs = resolve_listen_addrs(&hosts, 80).unwrap();
        assert_eq!(
            addrs,
            vec![
                "127.0.0.1:80".parse().unwrap(),
                "[::1]:80".parse().unwrap(),
                "0.0.0.0:80".parse().unwrap(),
                "[::]:80".parse().unwrap(),
            ]
        );
    }

    fn ports(bound: &[(TcpListener, SocketAddr)]) -> Vec<u16> {
        bound.iter().map(|(_, local)| local.port()).collect()
    }

    #[test]
    fn port_0_is_one_free_port_on_every_address() {
        let addrs: Vec<SocketAddr> = ["127.0.0.1:0", "127.0.0.2:0", "127.0.0.3:0"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        let bound = bind_listeners(&addrs).unwrap();
        let ports = ports(&bound);
        assert_ne!(ports[0], 0);
        assert_eq!(ports, [ports[0]; 3]);
        // Every listener accepts on that port.
        for (_, local) in &bound {
            std::net::TcpStream::connect(local).unwrap();
        }
    }

    #[test]
    fn port_0_on_overlapping_addresses_falls_back_to_a_port_each() {
        // 0.0.0.0 cannot take a port 127.0.0.1 listens on, whatever the attempt.
        let addrs: Vec<SocketAddr> = ["127.0.0.1:0", "0.0.0.0:0"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        let bound = bind_listeners(&addrs).unwrap();
        let ports = ports(&bound);
        assert!(
            ports[0] != 0 && ports[1] != 0 && ports[0] != ports[1],
            "{ports:?}"
        );
    }

    #[test]
    fn overlapping_addresses_on_a_fixed_port_say_so() {
        // A port free now; another process may take it before us, so a few tries.
        for _ in 0..5 {
            let free = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
            let port = free.local_addr().unwrap().port();
            drop(free);
            let addrs: Vec<SocketAddr> = [format!("0.0.0.0:{port}"), format!("127.0.0.1:{port}")]
                .iter()
                .map(|a| a.parse().unwrap())
                .collect();
            let err = bind_listeners(&addrs).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
            if err.to_string().contains(&format!("0.0.0.0:{port}:")) {
                continue; // taken by someone else meanwhile
            }
            let want = format!("127.0.0.1:{port}: it overlaps 0.0.0.0:{port}");
            assert!(err.to_string().contains(&want), "{err}");
            return;
        }
        panic!("no free port in 5 tries");
    }

    #[test]
    fn a_fixed_port_in_use_is_an_error_naming_the_address() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let err = bind_listeners(&["127.0.0.2:0".parse().unwrap(), addr]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    }

    #[test]
    fn unresolvable_names_are_errors_naming_the_host() {
        let err = resolve_listen_addrs(&["no-such-host.invalid".into()], 80).unwrap_err();
        assert!(err.to_string().contains("'no-such-host.invalid'"), "{err}");
    }
}
