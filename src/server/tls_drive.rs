//! The TLS counterpart of the plain path's `drive_connection`: one connection's turn, moving
//! records between the socket and rustls ([`super::tls`]) and plaintext between rustls and
//! the session. Apart from `tls.rs`, so that the TLS state a connection holds and the loop
//! that drives it do not import each other. The turn works on any [`Socket`], so the fuzz
//! target drives the same code over memory ([`TlsFuzzConnection`]).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::Instant;

use mio::net::TcpStream;

use super::connections::Connection;
use super::tls::{
    flush, looks_like_plain_http, read_records, Flush, Records, TlsConfig, TlsConnection,
    PLAIN_HTTP_ANSWER,
};
use super::{Next, Turn, READ_CHUNK, TURN, TURN_BYTES};
use crate::http::{Action, CommonHeaders, Context, RequestLimits, Service, Session};
use crate::log::{log_debug, Addr};

/// What a TLS connection's turn needs of its socket besides reading and writing.
trait Socket: Read + Write {
    /// Reads without taking the bytes from the socket.
    fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Shuts the write side: the client sees the end of the stream.
    fn shutdown_write(&mut self);
}

impl Socket for TcpStream {
    fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        TcpStream::peek(self, buf)
    }

    fn shutdown_write(&mut self) {
        let _ = self.shutdown(Shutdown::Write);
    }
}

/// What a turn notes of a connection's activity, for its deadlines and eviction.
struct Activity {
    /// The last time bytes moved.
    last_active: Instant,
    /// The last time bytes were written.
    last_write: Instant,
    /// The loop has read from it.
    driven: bool,
}

/// Answers plain HTTP with a 400, then closes: what has arrived of the request is read first
/// (a few chunks at most: a client that streams cannot hold the loop) so that closing does not
/// reset the connection under the answer.
fn refuse_plain_http(stream: &mut impl Socket, chunk: &mut [u8]) -> Next {
    for _ in 0..4 {
        if !matches!(stream.read(chunk), Ok(n) if n > 0) {
            break;
        }
    }
    let _ = stream.write(PLAIN_HTTP_ANSWER);
    stream.shutdown_write();
    Next::Close
}

/// The TLS counterpart of the plain path's `drive_connection`: moves records between the
/// socket and rustls, and plaintext between rustls and the session, until the socket would
/// block or the connection's turn is over.
pub(super) fn drive_tls_connection(
    conn: &mut Connection,
    tls: &mut TlsConnection,
    service: &mut dyn Service,
    turn: &Turn<'_>,
    chunk: &mut [u8],
) -> Next {
    let context = Context {
        peer: conn.session.peer(),
        arrived: turn.started,
        common: turn.common,
        responses_in_flight: turn.responses_in_flight,
    };
    let mut activity = Activity {
        last_active: conn.last_active,
        last_write: conn.last_write,
        driven: conn.driven,
    };
    let next = tls_turn(
        &mut conn.stream,
        &mut conn.session,
        &mut activity,
        tls,
        service,
        &context,
        chunk,
    );
    conn.last_active = activity.last_active;
    conn.last_write = activity.last_write;
    conn.driven = activity.driven;
    next
}

/// One turn of a TLS connection on `stream`.
fn tls_turn(
    stream: &mut impl Socket,
    session: &mut Session,
    activity: &mut Activity,
    tls: &mut TlsConnection,
    service: &mut dyn Service,
    context: &Context<'_>,
    chunk: &mut [u8],
) -> Next {
    let peer = Addr(session.peer());
    let mut written = 0;
    for _ in 0..TURN {
        match flush(tls, stream) {
            Flush::Done(n) | Flush::Blocked(n) if n > 0 => {
                activity.last_active = Instant::now();
                activity.last_write = activity.last_active;
                written += n;
            }
            Flush::Failed => return Next::Close,
            _ => {}
        }
        if tls.conn.wants_write() {
            return Next::Keep; // The send queue is full: WRITABLE resumes.
        }
        if tls.shutdown_pending {
            tls.shutdown_pending = false;
            stream.shutdown_write();
        }
        if written >= TURN_BYTES && !session.has_output() {
            return Next::Yield;
        }
        if tls.conn.is_handshaking() {
            if !tls.first_bytes_checked {
                let mut first = [0u8; 4];
                match stream.peek(&mut first) {
                    Ok(0) => return Next::Close,
                    Ok(n) => {
                        tls.first_bytes_checked = true;
                        if looks_like_plain_http(first.get(..n).unwrap_or_default()) {
                            log_debug!("plain HTTP from {peer} on a TLS port");
                            return refuse_plain_http(stream, chunk);
                        }
                    }
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Next::Keep,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => return Next::Close,
                }
            }
            match read_records(tls, stream, peer) {
                Records::Read => {
                    activity.driven = true;
                    activity.last_active = Instant::now();
                    continue;
                }
                Records::Blocked => return Next::Keep,
                Records::EndOfStream | Records::Failed => return Next::Close,
            }
        }
        match session.next(service, context) {
            Action::Write => {
                let [head, body] = session.pending();
                // rustls keeps at most its buffer limit (64 KiB) of records unsent; the rest
                // stays with the session until they are written.
                match tls
                    .conn
                    .writer()
                    .write_vectored(&[IoSlice::new(head), IoSlice::new(body)])
                {
                    Ok(0) if !tls.conn.wants_write() => return Next::Close,
                    Ok(n) => session.wrote(n),
                    Err(_) => return Next::Close,
                }
            }
            Action::Read => {
                let room = session.read_room().min(chunk.len());
                let Some(buf) = chunk.get_mut(..room).filter(|b| !b.is_empty()) else {
                    return Next::Close;
                };
                match tls.conn.reader().read(buf) {
                    // The client's close_notify.
                    Ok(0) => {
                        activity.driven = true;
                        session.received_eof();
                    }
                    Ok(n) => {
                        activity.driven = true;
                        session.received(buf.get(..n).unwrap_or_default());
                        activity.last_active = Instant::now();
                    }
                    // No plaintext left: read records.
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                        match read_records(tls, stream, peer) {
                            Records::Read => activity.last_active = Instant::now(),
                            Records::Blocked => return Next::Keep,
                            Records::EndOfStream => {
                                activity.driven = true;
                                session.received_eof();
                            }
                            Records::Failed => return Next::Close,
                        }
                    }
                    // The end of the stream without a close_notify.
                    Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => {
                        activity.driven = true;
                        session.received_eof();
                    }
                    Err(_) => return Next::Close,
                }
            }
            Action::ShutdownWrite => {
                tls.conn.send_close_notify();
                tls.shutdown_pending = true;
            }
            Action::Close => {
                let _ = flush(tls, stream);
                return Next::Close;
            }
        }
    }
    Next::Yield
}

/// How a turn of a [`TlsOverMemory`] connection ended.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnEnd {
    /// It waits for the client: more bytes, or room to send.
    Waiting,
    /// It used its turn with work left.
    Yielded,
    /// The server closed it.
    Closed,
}

/// Not API: one connection of a TLS server driven turn by turn, as the loop drives it, over
/// memory instead of a socket, for the fuzz target (through `internals`).
#[doc(hidden)]
pub struct TlsOverMemory {
    socket: MemorySocket,
    session: Session,
    activity: Activity,
    tls: TlsConnection,
    chunk: Box<[u8]>,
    closed: bool,
}

impl std::fmt::Debug for TlsOverMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsOverMemory")
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

/// The client's side of a connection in memory: what it sent and the server has not read, and
/// what the server sent and the client has not taken.
struct MemorySocket {
    received: std::collections::VecDeque<u8>,
    /// Bytes one read returns at most.
    read_size: usize,
    end_of_stream: bool,
    sent: Vec<u8>,
    /// Bytes the socket holds before the client takes them: more would block.
    send_room: usize,
    write_shut: bool,
}

impl Read for MemorySocket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.peek(buf)?;
        self.received.drain(..n);
        Ok(n)
    }
}

impl Write for MemorySocket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.write_shut {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let room = self.send_room.saturating_sub(self.sent.len());
        if room == 0 && !buf.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = room.min(buf.len());
        self.sent.extend(buf.iter().take(n));
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Socket for MemorySocket {
    fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.received.is_empty() {
            return if self.end_of_stream {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        let n = buf.len().min(self.read_size).min(self.received.len());
        for (to, from) in buf.iter_mut().zip(self.received.iter()).take(n) {
            *to = *from;
        }
        Ok(n)
    }

    fn shutdown_write(&mut self) {
        self.write_shut = true;
    }
}

impl TlsOverMemory {
    /// A connection accepted with `config`, whose socket returns at most `read_size` bytes a
    /// read and holds `send_room` bytes before the client takes them (both at least 1).
    ///
    /// # Errors
    /// rustls' refusal to start a connection with this configuration.
    pub fn new(
        config: &TlsConfig,
        limits: RequestLimits,
        read_size: usize,
        send_room: usize,
    ) -> Result<TlsOverMemory, String> {
        let now = Instant::now();
        Ok(TlsOverMemory {
            socket: MemorySocket {
                received: std::collections::VecDeque::new(),
                read_size: read_size.max(1),
                end_of_stream: false,
                sent: Vec::new(),
                send_room: send_room.max(1),
                write_shut: false,
            },
            session: Session::new(SocketAddr::from(([127, 0, 0, 1], 9)), limits),
            activity: Activity {
                last_active: now,
                last_write: now,
                driven: false,
            },
            tls: config.accept().map_err(|err| err.to_string())?,
            chunk: vec![0; READ_CHUNK].into_boxed_slice(),
            closed: false,
        })
    }

    /// The client sends `bytes`.
    pub fn client_sends(&mut self, bytes: &[u8]) {
        self.socket.received.extend(bytes);
    }

    /// The client closes its side: reads end after what it sent.
    pub fn client_closes(&mut self) {
        self.socket.end_of_stream = true;
    }

    /// The bytes the server sent since the last call: the client reads them.
    pub fn take_sent(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.socket.sent)
    }

    /// `true` once the server shut its side (no more bytes will come).
    pub fn server_shut_writing(&self) -> bool {
        self.socket.write_shut || self.closed
    }

    /// `true` while the handshake is under way.
    pub fn is_handshaking(&self) -> bool {
        self.tls.conn.is_handshaking()
    }

    /// The bytes the client sent that the server has not read.
    pub fn unread(&self) -> usize {
        self.socket.received.len()
    }

    /// One turn of the connection, as the loop gives it on an event.
    pub fn turn(&mut self, service: &mut dyn Service, common: CommonHeaders<'_>) -> TurnEnd {
        if self.closed {
            return TurnEnd::Closed;
        }
        let context = Context {
            peer: self.session.peer(),
            arrived: Instant::now(),
            common,
            responses_in_flight: 0,
        };
        let next = tls_turn(
            &mut self.socket,
            &mut self.session,
            &mut self.activity,
            &mut self.tls,
            service,
            &context,
            &mut self.chunk,
        );
        match next {
            Next::Keep => TurnEnd::Waiting,
            Next::Yield => TurnEnd::Yielded,
            Next::Close => {
                self.closed = true;
                TurnEnd::Closed
            }
        }
    }
}
