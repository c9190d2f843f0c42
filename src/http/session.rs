//! One connection's conversation, without the socket: bytes in, decisions and responses out.
//!
//! This module owns the per-connection state machine of the server: the buffer of unparsed
//! bytes (capped at the request-head limit), the response being sent, and when to read, write,
//! shut the write side, or close. The event loop (the server layer) only moves bytes between a
//! socket and a [`Session`] and keeps time; tests and the `session` fuzz target drive a
//! session directly with any chunking of input and output.
//!
//! A session answers one request at a time: while a response is pending it does not parse
//! further, so a client that pipelines requests and never reads holds at most one response and
//! one head limit of input. A response that ends the connection (the request said
//! `Connection: close`, had a body, was malformed, or the server is shutting down) is followed
//! by [`Action::ShutdownWrite`] and a linger during which input is discarded, so the client
//! reads the whole response before the connection closes.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use super::{
    parse_request, write_simple_response, CommonHeaders, Parse, Request, RequestLimits, Status,
};
use crate::log::{log_debug, Addr};

/// What a [`Service`] answers: a head (with any small body) and an optional shared body, which
/// many connections may send at once without copying it.
#[derive(Debug, Default)]
pub struct Response {
    /// The status line, headers and blank line, and a small body if any.
    pub head: Vec<u8>,
    /// A large body shared between responses, sent after `head`.
    pub body: Option<Arc<Vec<u8>>>,
}

impl Response {
    fn len(&self) -> usize {
        self.head.len() + self.body.as_ref().map_or(0, |b| b.len())
    }

    fn clear(&mut self) {
        self.head.clear();
        self.body = None;
    }
}

/// What the server knows of a request besides its bytes, handed to the [`Service`] with it.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The client's address.
    pub peer: SocketAddr,
    /// When the request had arrived, at the latest: the start of the event loop's turn that
    /// answers it (unless its connection sent it during the turn). On one thread, `respond`
    /// may run long after, behind other requests' answers; a deadline counts from here.
    pub arrived: Instant,
    /// The `Server` and `Date` headers every response carries.
    pub common: CommonHeaders<'a>,
    /// How many other connections are sending a response: what the server counts against
    /// its limit on responses in flight, so that a service refuses work by the same count.
    pub responses_in_flight: usize,
}

/// Decides the answer to a request. Implemented by the exporter; sessions own the bytes.
pub trait Service {
    /// Writes the answer to `request` into `response` (which arrives empty).
    fn respond(&mut self, request: &Request<'_>, context: &Context<'_>, response: &mut Response);
}

/// What the connection should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Write [`Session::pending`], then report it with [`Session::wrote`].
    Write,
    /// Read, then report with [`Session::received`] or [`Session::received_eof`]; at most
    /// [`Session::read_room`] bytes are kept.
    Read,
    /// The last response is out: shut the socket's write side, then keep reading (the input
    /// is discarded) until the client closes or the linger time passes.
    ShutdownWrite,
    /// Close the connection.
    Close,
}

/// What the connection is waiting for, which decides its timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// For a new request, with nothing of it received.
    Idle,
    /// For the rest of a request head whose first bytes have arrived.
    RequestHead,
    /// For the client to take the pending response.
    Response,
    /// For the client to close after the last response.
    Linger,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// The final response is written; the write side must be shut.
    Finished,
    Lingering,
}

/// One connection's conversation: bytes in, decisions and responses out.
#[derive(Debug)]
pub struct Session {
    limits: RequestLimits,
    peer: SocketAddr,
    input: Vec<u8>,
    output: Response,
    written: usize,
    close_after_output: bool,
    read_closed: bool,
    state: State,
    /// Bytes thrown away while lingering.
    discarded: usize,
}

/// How much a lingering connection may still send before it is closed anyway.
const LINGER_DISCARD_LIMIT: usize = 1 << 20;

impl Session {
    /// A session for a connection from `peer`.
    pub fn new(peer: SocketAddr, limits: RequestLimits) -> Session {
        Session {
            limits,
            peer,
            input: Vec::new(),
            output: Response::default(),
            written: 0,
            close_after_output: false,
            read_closed: false,
            state: State::Open,
            discarded: 0,
        }
    }

    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// `true` while a response is not fully written.
    pub fn has_output(&self) -> bool {
        self.written < self.output.len()
    }

    /// `true` if nothing is half-received or being sent: closing loses nothing.
    pub fn is_idle(&self) -> bool {
        self.input.is_empty() && !self.has_output() && self.state == State::Open
    }

    /// What the connection waits for now.
    pub fn wait(&self) -> Wait {
        if self.state != State::Open {
            Wait::Linger
        } else if self.has_output() {
            Wait::Response
        } else if self.input.is_empty() {
            Wait::Idle
        } else {
            Wait::RequestHead
        }
    }

    /// Makes the current response, or the next one if none is pending, the last: used when
    /// the server shuts down.
    pub fn finish_after_output(&mut self) {
        self.close_after_output = true;
    }

    /// Decides the next step, answering buffered requests through `service` as far as it can.
    /// `context` is what the server knows of them.
    pub fn next(&mut self, service: &mut dyn Service, context: &Context<'_>) -> Action {
        loop {
            if self.has_output() {
                return Action::Write;
            }
            match self.state {
                State::Finished => {
                    self.state = State::Lingering;
                    return Action::ShutdownWrite;
                }
                State::Lingering => {
                    return if self.read_closed || self.discarded > LINGER_DISCARD_LIMIT {
                        Action::Close
                    } else {
                        Action::Read
                    };
                }
                State::Open => {}
            }
            match parse_request(&self.input, &self.limits) {
                Parse::Complete { request, head_len } => {
                    self.output.clear();
                    self.written = 0;
                    service.respond(&request, context, &mut self.output);
                    if !request.keep_alive {
                        self.close_after_output = true;
                    }
                    self.input.drain(..head_len.min(self.input.len()));
                    if self.close_after_output {
                        self.input.clear();
                        if !self.has_output() {
                            // Nothing to write first: end now, as `wrote` would after it.
                            self.state = State::Finished;
                        }
                    }
                }
                Parse::Reject(status) => {
                    log_debug!("rejecting request from {}: {status}", Addr(self.peer));
                    self.reject(status, context.common);
                }
                Parse::Partial if self.read_closed => {
                    // The client sends nothing more, and has no complete request.
                    return Action::Close;
                }
                Parse::Partial => return Action::Read,
            }
        }
    }

    /// Answers a malformed request with `status`, and ends the connection after it.
    fn reject(&mut self, status: Status, common: CommonHeaders<'_>) {
        self.output.clear();
        self.written = 0;
        let mut buf = [0u8; 64];
        let text = status_text(status, &mut buf);
        write_simple_response(
            &mut self.output.head,
            status,
            text,
            false,
            false,
            common,
            None,
        );
        self.close_after_output = true;
        self.input.clear();
    }

    /// The unwritten rest of the response: a part of the head and a part of the body (either
    /// may be empty), to write together.
    pub fn pending(&self) -> [&[u8]; 2] {
        let head = self.output.head.as_slice();
        let body = self
            .output
            .body
            .as_deref()
            .map_or(&[][..], |b| b.as_slice());
        if self.written < head.len() {
            [head.get(self.written..).unwrap_or_default(), body]
        } else {
            let offset = self.written - head.len();
            [&[][..], body.get(offset..).unwrap_or_default()]
        }
    }

    /// Records that `n` bytes of [`Session::pending`] were written.
    pub fn wrote(&mut self, n: usize) {
        self.written = self.written.saturating_add(n).min(self.output.len());
        if !self.has_output() {
            // Release the shared body, so the next exposition can reuse its buffer.
            self.output.body = None;
            if self.close_after_output {
                self.state = State::Finished;
                self.input.clear();
            }
        }
    }

    /// How many bytes a read may bring: up to one past the head limit while a head is
    /// incomplete (enough for the parser to decide), anything while lingering.
    pub fn read_room(&self) -> usize {
        if self.state == State::Lingering {
            return usize::MAX;
        }
        (self.limits.max_request_head_bytes.saturating_add(1)).saturating_sub(self.input.len())
    }

    /// Records bytes read from the client (discarded while lingering, until a megabyte makes
    /// the session close; cut at [`Session::read_room`]).
    pub fn received(&mut self, bytes: &[u8]) {
        if self.state != State::Open {
            self.discarded = self.discarded.saturating_add(bytes.len());
            return;
        }
        let room = self.read_room();
        self.input
            .extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
    }

    /// Records that the client shut its write side.
    pub fn received_eof(&mut self) {
        self.read_closed = true;
    }
}

/// `"431 Request Header Fields Too Large\n"`, written into `buf`.
fn status_text(status: Status, buf: &mut [u8; 64]) -> &str {
    use std::io::Write;
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    let _ = writeln!(cursor, "{status}");
    let len = usize::try_from(cursor.position()).unwrap_or(0);
    std::str::from_utf8(buf.get(..len).unwrap_or_default()).unwrap_or("")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    /// Answers every request with its path as the body.
    struct Echo;
    impl Service for Echo {
        fn respond(&mut self, request: &Request<'_>, _: &Context<'_>, response: &mut Response) {
            write_simple_response(
                &mut response.head,
                Status::OK,
                request.path,
                request.keep_alive,
                false,
                CommonHeaders {
                    server: "echo",
                    date: "",
                },
                None,
            );
        }
    }

    /// What the server would pass: the rejections name "echo" as the server.
    fn context() -> Context<'static> {
        Context {
            peer: "127.0.0.1:1".parse().unwrap(),
            arrived: Instant::now(),
            common: CommonHeaders {
                server: "echo",
                date: "",
            },
            responses_in_flight: 0,
        }
    }

    fn session() -> Session {
        Session::new(
            "127.0.0.1:1".parse().unwrap(),
            RequestLimits {
                max_request_head_bytes: 256,
            },
        )
    }

    /// Runs a session over `input`, writing at most `write_chunk` bytes at a time; returns
    /// everything written and the final action.
    fn run(input: &[u8], read_chunk: usize, write_chunk: usize) -> (String, Action) {
        let mut s = session();
        let mut rest = input;
        let mut out = Vec::new();
        loop {
            match s.next(&mut Echo, &context()) {
                Action::Write => {
                    let [a, b] = s.pending();
                    let all: Vec<u8> = a.iter().chain(b).copied().collect();
                    let n = all.len().min(write_chunk);
                    out.extend_from_slice(&all[..n]);
                    s.wrote(n);
                }
                Action::Read if rest.is_empty() => s.received_eof(),
                Action::Read => {
                    let n = rest.len().min(read_chunk).min(s.read_room());
                    s.received(&rest[..n]);
                    rest = &rest[n..];
                }
                Action::ShutdownWrite => {}
                Action::Close => return (String::from_utf8(out).unwrap(), Action::Close),
            }
        }
    }

    #[test]
    fn pipelined_requests_are_answered_in_order_however_they_are_split() {
        let input = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n\
                      GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /d HTTP/1.1\r\n\r\n";
        let (whole, _) = run(input, usize::MAX, usize::MAX);
        assert_eq!(whole.matches("HTTP/1.1 200 OK").count(), 3, "{whole}");
        let bodies: Vec<&str> = whole.split("\r\n\r\n").skip(1).map(|s| &s[..2]).collect();
        assert_eq!(bodies, ["/a", "/b", "/c"]);
        for read in [1, 2, 7, 64] {
            for write in [1, 3, 100] {
                assert_eq!(
                    run(input, read, write).0,
                    whole,
                    "read {read} write {write}"
                );
            }
        }
    }

    /// Answers nothing: a `Service` of the caller's may.
    struct Silent;
    impl Service for Silent {
        fn respond(&mut self, _: &Request<'_>, _: &Context<'_>, _: &mut Response) {}
    }

    #[test]
    fn a_request_that_ends_the_connection_ends_it_even_unanswered() {
        let mut s = session();
        s.received(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /next HTTP/1.1\r\n");
        assert_eq!(s.next(&mut Silent, &context()), Action::ShutdownWrite);
        // What follows is not parsed as a request.
        s.received_eof();
        assert_eq!(s.next(&mut Silent, &context()), Action::Close);
    }

    #[test]
    fn a_body_ends_the_connection_instead_of_being_parsed() {
        let input = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 28\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
        let (out, _) = run(input, usize::MAX, usize::MAX);
        assert_eq!(out.matches("HTTP/1.1").count(), 1, "{out}");
        assert!(out.contains("Connection: close"), "{out}");
    }

    #[test]
    fn malformed_and_oversized_heads_are_rejected_then_closed() {
        let cases: &[(&[u8], &str)] = &[
            (b"\x00\x01\x02\r\n\r\n", "400"),
            (b"GET / HTTP/1.1\r\n\r\n", "400"),
            (&[b'a'; 300], "414"),
        ];
        for &(input, status) in cases {
            let (out, action) = run(input, 50, usize::MAX);
            assert!(out.starts_with(&format!("HTTP/1.1 {status} ")), "{out}");
            assert_eq!(out.matches("HTTP/1.1").count(), 1);
            assert_eq!(action, Action::Close);
        }
    }

    #[test]
    fn pending_input_is_capped_at_one_past_the_head_limit() {
        let mut s = session();
        assert_eq!(s.next(&mut Echo, &context()), Action::Read);
        s.received(&[b'a'; 1000]);
        assert_eq!(s.input.len(), 257);
        assert_eq!(s.read_room(), 0);
        assert_eq!(s.next(&mut Echo, &context()), Action::Write);
    }

    #[test]
    fn waits_follow_the_conversation() {
        let mut s = session();
        assert_eq!(s.wait(), Wait::Idle);
        s.received(b"GET / HTTP/1.1\r\n");
        assert_eq!(s.next(&mut Echo, &context()), Action::Read);
        assert_eq!(s.wait(), Wait::RequestHead);
        s.received(b"Host: x\r\nConnection: close\r\n\r\n");
        assert_eq!(s.next(&mut Echo, &context()), Action::Write);
        assert_eq!(s.wait(), Wait::Response);
        let n = s.pending().iter().map(|p| p.len()).sum();
        s.wrote(n);
        assert_eq!(s.next(&mut Echo, &context()), Action::ShutdownWrite);
        assert_eq!(s.wait(), Wait::Linger);
        s.received(b"ignored");
        assert_eq!(s.next(&mut Echo, &context()), Action::Read);
        s.received_eof();
        assert_eq!(s.next(&mut Echo, &context()), Action::Close);
    }

    #[test]
    fn shutting_down_closes_after_the_response_in_flight() {
        let mut s = session();
        s.received(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(s.next(&mut Echo, &context()), Action::Write);
        s.finish_after_output();
        let n = s.pending().iter().map(|p| p.len()).sum();
        s.wrote(n);
        assert_eq!(s.next(&mut Echo, &context()), Action::ShutdownWrite);
    }
}
