//! The event loop: one thread, one mio `Poll`, every listener and connection on it.
//!
//! This module owns sockets and time: accepting, reading into a per-connection buffer with a
//! hard cap, writing responses as the socket takes them, timeouts, the connection limit, and
//! graceful shutdown. What the bytes mean is [`crate::http`]'s business, and what to answer is
//! a [`Service`]'s; neither sees a socket.
//!
//! The shape is mio's `tcp_server` example, hardened against its shortcuts (see `STYLE.md`):
//! - tokens: fixed ones for the waker, the signal socket and each listener, then a counter that
//!   never reuses a token, so a stale event cannot reach a new connection;
//! - accept, read and write are each drained until `WouldBlock`, `Interrupted` is retried, and
//!   `Ok(0)` is end of stream;
//! - a connection keeps its unparsed bytes across events (a request may arrive in many
//!   segments, or several in one); it stops reading while a response is pending, so a client
//!   that pipelines requests and never reads its answers holds at most one response;
//! - `WRITABLE` interest only while output is pending, always together with `READABLE`;
//! - one connection's error closes that connection only.
//!
//! Slow and idle clients cannot starve others: a request head must arrive within
//! [`Limits::request_head_timeout`] of its first byte, an idle keep-alive connection is closed
//! after [`Limits::idle_timeout`], and when [`Limits::max_connections`] is reached the least
//! recently active connection that is not being answered makes room for the new one.

use std::collections::HashMap;
use std::io::{self, IoSlice, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use crate::http::{self, Parse, Request, RequestLimits, Status};
use crate::log::{log_debug, log_error, log_info, log_warning};
use crate::signal::{signal_name, ShutdownSignals};

/// Limits that keep one client from holding the server. Defaults follow nginx where it has
/// one, tightened where an exporter's clients (scrapers) make that safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Open connections at most (nginx's `worker_connections` default, 512). When full, the
    /// least recently active connection that is not being answered is closed for a new one.
    pub max_connections: usize,
    /// Largest request head (request line and headers) in bytes: 8 KiB, nginx's
    /// `large_client_header_buffers`. Longer: 414 or 431, then close.
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
        }
    }
}

/// After a response that ends the connection, how long unread request bytes (a body) are
/// drained before closing, so the kernel does not reset the connection under the response.
const LINGER: Duration = Duration::from_secs(2);
/// After `accept` fails for lack of descriptors, how long to wait before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Bytes read from a socket per `read` call.
const READ_CHUNK: usize = 4096;

/// What a [`Service`] answers: a head (with any small body) and an optional shared body, which
/// many connections may send at once without copying it.
#[derive(Debug, Default)]
pub struct Response {
    /// The status line, headers and blank line, and a small body if any.
    pub head: Vec<u8>,
    /// A large body shared between responses, sent after `head`.
    pub body: Option<Arc<Vec<u8>>>,
}

/// Decides the answer to a request. Implemented by the exporter; the loop owns the sockets.
pub trait Service {
    /// Writes the answer to `request` from `peer` into `response` (which arrives empty).
    fn respond(&mut self, request: &Request<'_>, peer: SocketAddr, response: &mut Response);
    /// The `Server` header value, for responses the loop writes itself (errors).
    fn server_header(&self) -> &str;
}

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

const WAKER: Token = Token(0);
const SIGNALS: Token = Token(1);
const FIRST_LISTENER: usize = 2;

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for (more of) a request head.
    Reading,
    /// The response ends the connection: it is written, the write side shut, and what the
    /// client still sends is discarded until it closes or [`LINGER`] passes.
    Lingering,
}

struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    /// Bytes read and not yet consumed by a complete request.
    input: Vec<u8>,
    output: Response,
    /// How much of `output` (head, then body) is written.
    written: usize,
    /// Close (after lingering) once the pending output is written.
    close_after_output: bool,
    phase: Phase,
    /// The client has shut its write side: no more requests will come.
    read_closed: bool,
    /// `WRITABLE` is among the registered interests.
    wants_writable: bool,
    /// When the connection is closed unless something happens first.
    deadline: Instant,
    /// The last time bytes moved, for choosing whom to evict when full.
    last_active: Instant,
}

impl Connection {
    fn output_len(&self) -> usize {
        self.output.head.len() + self.output.body.as_ref().map_or(0, |b| b.len())
    }

    fn has_output(&self) -> bool {
        self.written < self.output_len()
    }

    /// Nothing half-received and nothing being sent: closing it loses nothing.
    fn is_idle(&self) -> bool {
        self.input.is_empty() && !self.has_output()
    }
}

/// What became of a connection after it was driven.
enum Next {
    Keep,
    Close,
}

/// The listening sockets and their event loop.
pub struct Server {
    poll: Poll,
    events: Events,
    listeners: Vec<Option<(TcpListener, SocketAddr)>>,
    connections: HashMap<Token, Connection>,
    next_token: usize,
    limits: Limits,
    requested: Arc<AtomicBool>,
    waker: Arc<Waker>,
    /// When accepting was paused for lack of descriptors, when to try again.
    accept_paused_until: Option<Instant>,
    shutdown_deadline: Option<Instant>,
    read_chunk: Box<[u8; READ_CHUNK]>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addrs", &self.local_addrs())
            .field("connections", &self.connections.len())
            .field("limits", &self.limits)
            .finish()
    }
}

impl Server {
    /// Binds every address. `addrs` is usually [`resolve_listen_addrs`]' answer.
    ///
    /// # Errors
    /// The first bind error, with the address in its message.
    pub fn bind(addrs: &[SocketAddr], limits: Limits) -> io::Result<Server> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let mut listeners = Vec::with_capacity(addrs.len());
        for (i, &addr) in addrs.iter().enumerate() {
            let mut listener = TcpListener::bind(addr).map_err(|err| {
                io::Error::new(err.kind(), format!("cannot listen on {addr}: {err}"))
            })?;
            poll.registry().register(
                &mut listener,
                Token(FIRST_LISTENER + i),
                Interest::READABLE,
            )?;
            let local = listener.local_addr()?;
            listeners.push(Some((listener, local)));
        }
        Ok(Server {
            poll,
            events: Events::with_capacity(256),
            next_token: FIRST_LISTENER + listeners.len(),
            listeners,
            connections: HashMap::new(),
            limits,
            requested: Arc::new(AtomicBool::new(false)),
            waker,
            accept_paused_until: None,
            shutdown_deadline: None,
            read_chunk: Box::new([0; READ_CHUNK]),
        })
    }

    /// The bound addresses (with the real port when 0 was asked for).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners.iter().flatten().map(|(_, a)| *a).collect()
    }

    /// A handle that shuts the server down from any thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            requested: Arc::clone(&self.requested),
            waker: Arc::clone(&self.waker),
        }
    }

    /// Serves until shut down through a [`ShutdownHandle`] or, when `signals` is given, by
    /// SIGTERM or SIGINT.
    ///
    /// # Errors
    /// Only if polling itself fails; errors of single connections close those connections.
    pub fn run(
        &mut self,
        service: &mut dyn Service,
        mut signals: Option<&mut ShutdownSignals>,
    ) -> io::Result<()> {
        if let Some(signals) = signals.as_deref_mut() {
            signals.register(self.poll.registry(), SIGNALS)?;
        }
        loop {
            let now = Instant::now();
            let timeout = self
                .next_deadline()
                .map(|d| d.saturating_duration_since(now));
            if let Err(err) = self.poll.poll(&mut self.events, timeout) {
                if err.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(err);
            }
            let tokens: Vec<Token> = self.events.iter().map(|e| e.token()).collect();
            for token in tokens {
                match token {
                    WAKER => {
                        if self.requested.load(Ordering::SeqCst) {
                            self.begin_shutdown("shutdown requested");
                        }
                    }
                    SIGNALS => {
                        let received = signals.as_deref_mut().and_then(|s| s.take());
                        if let Some(signal) = received {
                            self.begin_shutdown(signal_name(signal));
                        }
                    }
                    Token(t)
                        if t >= FIRST_LISTENER && t < FIRST_LISTENER + self.listeners.len() =>
                    {
                        self.accept_all(t - FIRST_LISTENER);
                    }
                    token => self.drive(token, service),
                }
            }
            let now = Instant::now();
            self.expire(now);
            if self.accept_paused_until.is_some_and(|t| t <= now) {
                self.accept_paused_until = None;
                for i in 0..self.listeners.len() {
                    self.accept_all(i);
                }
            }
            if let Some(deadline) = self.shutdown_deadline {
                if self.connections.is_empty() || deadline <= now {
                    if !self.connections.is_empty() {
                        log_warning!(
                            "closing {} connection(s) still in flight at the shutdown deadline",
                            self.connections.len()
                        );
                    }
                    for (_, mut conn) in self.connections.drain() {
                        let _ = self.poll.registry().deregister(&mut conn.stream);
                    }
                    return Ok(());
                }
            }
        }
    }

    /// The earliest time something must happen without an event.
    fn next_deadline(&self) -> Option<Instant> {
        let conns = self.connections.values().map(|c| c.deadline);
        conns
            .chain(self.accept_paused_until)
            .chain(self.shutdown_deadline)
            .min()
    }

    /// Stops listening and closes connections that are not being answered.
    fn begin_shutdown(&mut self, why: &str) {
        if self.shutdown_deadline.is_some() {
            return;
        }
        log_info!("{why}: shutting down");
        self.shutdown_deadline = Some(Instant::now() + self.limits.shutdown_timeout);
        for (listener, _) in self.listeners.iter_mut().flatten() {
            let _ = self.poll.registry().deregister(listener);
        }
        self.listeners.iter_mut().for_each(|l| *l = None);
        let idle: Vec<Token> = self
            .connections
            .iter()
            .filter(|(_, c)| !c.has_output())
            .map(|(t, _)| *t)
            .collect();
        for token in idle {
            self.close(token);
        }
        for conn in self.connections.values_mut() {
            conn.close_after_output = true;
        }
    }

    /// Accepts every pending connection on listener `i`.
    fn accept_all(&mut self, i: usize) {
        loop {
            if self.accept_paused_until.is_some() {
                return;
            }
            let Some(Some((listener, _))) = self.listeners.get(i) else {
                return;
            };
            let (stream, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) if is_out_of_descriptors(&err) => {
                    // The pending connection stays queued; without a pause the loop would
                    // spin on it. Try again shortly, or as soon as a connection closes.
                    log_warning!("cannot accept connections: {err}; retrying shortly");
                    self.accept_paused_until = Some(Instant::now() + ACCEPT_BACKOFF);
                    return;
                }
                // A connection that failed between the kernel's accept and ours.
                Err(err) => {
                    log_debug!("accept failed: {err}");
                    continue;
                }
            };
            if self.connections.len() >= self.limits.max_connections && !self.evict_one() {
                log_warning!(
                    "refusing connection from {peer}: all {} connections are busy",
                    self.limits.max_connections
                );
                continue;
            }
            self.add_connection(stream, peer);
        }
    }

    fn add_connection(&mut self, mut stream: TcpStream, peer: SocketAddr) {
        let token = Token(self.next_token);
        self.next_token += 1;
        if let Err(err) = self
            .poll
            .registry()
            .register(&mut stream, token, Interest::READABLE)
        {
            log_warning!("cannot register connection from {peer}: {err}");
            return;
        }
        // Responses go out in one vectored write; do not let Nagle hold the last segment.
        let _ = stream.set_nodelay(true);
        let now = Instant::now();
        self.connections.insert(
            token,
            Connection {
                stream,
                peer,
                input: Vec::new(),
                output: Response::default(),
                written: 0,
                close_after_output: false,
                phase: Phase::Reading,
                read_closed: false,
                wants_writable: false,
                deadline: now + self.limits.idle_timeout,
                last_active: now,
            },
        );
        log_debug!("connection from {peer}");
    }

    /// Closes the least recently active connection that is not being answered, to make room.
    fn evict_one(&mut self) -> bool {
        let victim = self
            .connections
            .iter()
            .filter(|(_, c)| !c.has_output())
            .min_by_key(|(_, c)| (!c.is_idle(), c.last_active))
            .map(|(t, _)| *t);
        match victim {
            Some(token) => {
                self.close(token);
                true
            }
            None => false,
        }
    }

    fn close(&mut self, token: Token) {
        if let Some(mut conn) = self.connections.remove(&token) {
            let _ = self.poll.registry().deregister(&mut conn.stream);
            log_debug!("closed connection from {}", conn.peer);
            // A descriptor is free again: accept what waited for one.
            if self.accept_paused_until.is_some() {
                self.accept_paused_until = Some(Instant::now());
            }
        }
    }

    /// Closes connections whose deadline has passed.
    fn expire(&mut self, now: Instant) {
        let expired: Vec<Token> = self
            .connections
            .iter()
            .filter(|(_, c)| c.deadline <= now)
            .map(|(t, _)| *t)
            .collect();
        for token in expired {
            if let Some(conn) = self.connections.get(&token) {
                log_debug!("timeout on connection from {}", conn.peer);
            }
            self.close(token);
        }
    }

    /// Handles whatever the connection is ready for: writes pending output, then reads and
    /// answers requests until the socket would block.
    fn drive(&mut self, token: Token, service: &mut dyn Service) {
        let shutting_down = self.shutdown_deadline.is_some();
        let Some(conn) = self.connections.get_mut(&token) else {
            return; // A spurious or stale event.
        };
        let next = drive_connection(
            conn,
            service,
            &self.limits,
            &mut self.read_chunk[..],
            shutting_down,
        );
        let next = match next {
            Next::Keep => update_interest(&self.poll, token, conn),
            close => close,
        };
        if let Next::Close = next {
            self.close(token);
        }
    }
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
fn update_interest(poll: &Poll, token: Token, conn: &mut Connection) -> Next {
    let wants_writable = conn.has_output();
    if wants_writable == conn.wants_writable {
        return Next::Keep;
    }
    let interest = if wants_writable {
        Interest::READABLE | Interest::WRITABLE
    } else {
        Interest::READABLE
    };
    match poll
        .registry()
        .reregister(&mut conn.stream, token, interest)
    {
        Ok(()) => {
            conn.wants_writable = wants_writable;
            Next::Keep
        }
        Err(err) => {
            log_debug!("cannot reregister connection from {}: {err}", conn.peer);
            Next::Close
        }
    }
}

/// The connection's state machine; see [`Server::drive`].
fn drive_connection(
    conn: &mut Connection,
    service: &mut dyn Service,
    limits: &Limits,
    chunk: &mut [u8],
    shutting_down: bool,
) -> Next {
    let request_limits = RequestLimits {
        max_request_head_bytes: limits.max_request_head_bytes,
    };
    loop {
        if conn.has_output() {
            match flush(conn) {
                Ok(true) => {}
                Ok(false) => {
                    // The socket is full; a WRITABLE event resumes.
                    return Next::Keep;
                }
                Err(err) => {
                    log_debug!("write to {} failed: {err}", conn.peer);
                    return Next::Close;
                }
            }
            conn.output.head.clear();
            conn.output.body = None;
            conn.written = 0;
            let now = Instant::now();
            if conn.close_after_output || shutting_down {
                // Close gracefully: no more output, and give the client the time to read
                // the response before unread bytes would make the kernel reset the connection.
                let _ = conn.stream.shutdown(Shutdown::Write);
                conn.phase = Phase::Lingering;
                conn.input.clear();
                conn.deadline = now + LINGER;
            } else {
                conn.deadline = now + limits.idle_timeout;
            }
        }

        if conn.phase == Phase::Lingering {
            return match read_into(conn, chunk, true) {
                Ok(ReadOutcome::Eof) | Err(_) => Next::Close,
                Ok(_) => Next::Keep,
            };
        }

        match http::parse_request(&conn.input, &request_limits) {
            Parse::Complete { request, head_len } => {
                service.respond(&request, conn.peer, &mut conn.output);
                conn.close_after_output = !request.keep_alive || shutting_down;
                conn.input.drain(..head_len);
                conn.written = 0;
                conn.deadline = Instant::now() + limits.write_timeout;
                continue;
            }
            Parse::Reject(status) => {
                log_debug!("rejecting request from {}: {status}", conn.peer);
                reject(conn, status, service.server_header());
                conn.deadline = Instant::now() + limits.write_timeout;
                continue;
            }
            Parse::Partial => {}
        }

        if conn.read_closed {
            // The client will send nothing more and has no complete request: done.
            return Next::Close;
        }
        let was_empty = conn.input.is_empty();
        match read_into(conn, chunk, false) {
            Ok(ReadOutcome::Data) => {
                if was_empty {
                    // A new request starts: its head must be complete within the limit,
                    // however slowly the rest arrives.
                    conn.deadline = Instant::now() + limits.request_head_timeout;
                }
            }
            Ok(ReadOutcome::Eof) => conn.read_closed = true,
            Ok(ReadOutcome::WouldBlock) => return Next::Keep,
            Err(err) => {
                log_debug!("read from {} failed: {err}", conn.peer);
                return Next::Close;
            }
        }
    }
}

enum ReadOutcome {
    Data,
    Eof,
    WouldBlock,
}

/// Reads once into `conn.input` (at most one byte past the head limit, which is enough for
/// the parser to decide), or into the void when `discard` is set.
fn read_into(conn: &mut Connection, chunk: &mut [u8], discard: bool) -> io::Result<ReadOutcome> {
    loop {
        match conn.stream.read(chunk) {
            Ok(0) => return Ok(ReadOutcome::Eof),
            Ok(n) => {
                conn.last_active = Instant::now();
                if !discard {
                    conn.input
                        .extend_from_slice(chunk.get(..n).unwrap_or_default());
                }
                if discard {
                    continue;
                }
                return Ok(ReadOutcome::Data);
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                return Ok(ReadOutcome::WouldBlock)
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        }
    }
}

/// Writes pending output until done (`Ok(true)`) or the socket is full (`Ok(false)`).
fn flush(conn: &mut Connection) -> io::Result<bool> {
    loop {
        let head = &conn.output.head;
        let body: &[u8] = conn.output.body.as_deref().map_or(&[], |b| &b[..]);
        let total = head.len() + body.len();
        if conn.written >= total {
            return Ok(true);
        }
        let (head_rest, body_rest) = if conn.written < head.len() {
            (head.get(conn.written..).unwrap_or_default(), body)
        } else {
            (
                &[][..],
                body.get(conn.written - head.len()..).unwrap_or_default(),
            )
        };
        let slices = [IoSlice::new(head_rest), IoSlice::new(body_rest)];
        match conn.stream.write_vectored(&slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                conn.written += n;
                conn.last_active = Instant::now();
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        }
    }
}

/// Answers a malformed request with `status` and marks the connection to close.
fn reject(conn: &mut Connection, status: Status, server: &str) {
    conn.output.head.clear();
    conn.output.body = None;
    conn.written = 0;
    let mut body = [0u8; 64];
    let text = status_line_text(status, &mut body);
    http::write_simple_response(
        &mut conn.output.head,
        status,
        text,
        false,
        false,
        server,
        None,
    );
    conn.close_after_output = true;
    conn.input.clear();
}

/// `"431 Request Header Fields Too Large\n"`, written into `buf`.
fn status_line_text(status: Status, buf: &mut [u8; 64]) -> &str {
    let mut cursor = io::Cursor::new(&mut buf[..]);
    let _ = writeln!(cursor, "{status}");
    let len = usize::try_from(cursor.position()).unwrap_or(0);
    std::str::from_utf8(buf.get(..len).unwrap_or_default()).unwrap_or("")
}

/// The socket addresses to listen on for `hosts` and `port`.
///
/// `localhost` means the loopback addresses, `127.0.0.1` and `::1`, without asking a resolver,
/// so it works in a `FROM scratch` image with no `/etc/hosts`. IP literals (IPv6 with or
/// without brackets) are used as they are; an empty host means every IPv4 interface. Other
/// names are resolved by the system. Duplicates are dropped.
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
            vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port)]
        } else if bare.eq_ignore_ascii_case("localhost") || bare.eq_ignore_ascii_case("localhost.")
        {
            vec![
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
            ]
        } else if let Ok(ip) = bare.parse::<IpAddr>() {
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

/// Binds what can be bound of `addrs`: an IPv6 loopback address is skipped with a warning when
/// the host has IPv6 disabled, as long as something else is bound.
///
/// # Errors
/// Any other bind error, or nothing bound.
pub fn bind_available(addrs: &[SocketAddr], limits: Limits) -> io::Result<Server> {
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
                    log_warning!("skipping {addr}: {err}");
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
    let server = Server::bind(&usable, limits)?;
    for addr in server.local_addrs() {
        log_debug!("bound {addr}");
    }
    Ok(server)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let hosts: Vec<String> = ["127.0.0.1", "[::1]", "::1", "", "127.0.0.1"]
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
            ]
        );
    }

    #[test]
    fn unresolvable_names_are_errors_naming_the_host() {
        let err = resolve_listen_addrs(&["no-such-host.invalid".into()], 80).unwrap_err();
        assert!(err.to_string().contains("'no-such-host.invalid'"), "{err}");
    }

    #[test]
    fn status_text_is_one_line() {
        let mut buf = [0u8; 64];
        assert_eq!(
            status_line_text(Status::HEADER_FIELDS_TOO_LARGE, &mut buf),
            "431 Request Header Fields Too Large\n"
        );
    }
}
