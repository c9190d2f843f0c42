//! The TLS counterpart of the plain path's `drive_connection`: one connection's turn, moving
//! records between the socket and rustls ([`super::tls`]) and plaintext between rustls and
//! the session. Apart from `tls.rs`, so that the TLS state a connection holds and the loop
//! that drives it do not import each other.

use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::time::Instant;

use mio::net::TcpStream;

use super::connections::Connection;
use super::tls::{
    flush, looks_like_plain_http, read_records, Flush, Records, TlsConnection, PLAIN_HTTP_ANSWER,
};
use super::{Next, Turn, TURN, TURN_BYTES};
use crate::http::{Action, Context};
use crate::log::{log_debug, Addr};

/// Answers plain HTTP with a 400, then closes: what has arrived of the request is read first
/// (a few chunks at most: a client that streams cannot hold the loop) so that closing does not
/// reset the connection under the answer.
fn refuse_plain_http(stream: &mut TcpStream, chunk: &mut [u8]) -> Next {
    for _ in 0..4 {
        if !matches!(stream.read(chunk), Ok(n) if n > 0) {
            break;
        }
    }
    let _ = stream.write(PLAIN_HTTP_ANSWER);
    let _ = stream.shutdown(Shutdown::Write);
    Next::Close
}

/// The TLS counterpart of the plain path's `drive_connection`: moves records between the
/// socket and rustls, and plaintext between rustls and the session, until the socket would
/// block or the connection's turn is over.
pub(super) fn drive_tls_connection(
    conn: &mut Connection,
    tls: &mut TlsConnection,
    service: &mut dyn crate::http::Service,
    turn: &Turn<'_>,
    chunk: &mut [u8],
) -> Next {
    let context = Context {
        peer: conn.session.peer(),
        arrived: turn.started,
        common: turn.common,
        responses_in_flight: turn.responses_in_flight,
    };
    let peer = Addr(conn.session.peer());
    let mut written = 0;
    for _ in 0..TURN {
        match flush(tls, &mut conn.stream) {
            Flush::Done(n) | Flush::Blocked(n) if n > 0 => {
                conn.last_active = Instant::now();
                conn.last_write = conn.last_active;
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
            let _ = conn.stream.shutdown(Shutdown::Write);
        }
        if written >= TURN_BYTES && !conn.session.has_output() {
            return Next::Yield;
        }
        if tls.conn.is_handshaking() {
            if !tls.first_bytes_checked {
                let mut first = [0u8; 4];
                match conn.stream.peek(&mut first) {
                    Ok(0) => return Next::Close,
                    Ok(n) => {
                        tls.first_bytes_checked = true;
                        if looks_like_plain_http(first.get(..n).unwrap_or_default()) {
                            log_debug!("plain HTTP from {peer} on a TLS port");
                            return refuse_plain_http(&mut conn.stream, chunk);
                        }
                    }
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Next::Keep,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => return Next::Close,
                }
            }
            match read_records(tls, &mut conn.stream, peer) {
                Records::Read => {
                    conn.driven = true;
                    conn.last_active = Instant::now();
                    continue;
                }
                Records::Blocked => return Next::Keep,
                Records::EndOfStream | Records::Failed => return Next::Close,
            }
        }
        match conn.session.next(service, &context) {
            Action::Write => {
                let [head, body] = conn.session.pending();
                // rustls keeps at most its buffer limit (64 KiB) of records unsent; the rest
                // stays with the session until they are written.
                match tls
                    .conn
                    .writer()
                    .write_vectored(&[IoSlice::new(head), IoSlice::new(body)])
                {
                    Ok(0) if !tls.conn.wants_write() => return Next::Close,
                    Ok(n) => conn.session.wrote(n),
                    Err(_) => return Next::Close,
                }
            }
            Action::Read => {
                let room = conn.session.read_room().min(chunk.len());
                let Some(buf) = chunk.get_mut(..room).filter(|b| !b.is_empty()) else {
                    return Next::Close;
                };
                match tls.conn.reader().read(buf) {
                    // The client's close_notify.
                    Ok(0) => {
                        conn.driven = true;
                        conn.session.received_eof();
                    }
                    Ok(n) => {
                        conn.driven = true;
                        conn.session.received(buf.get(..n).unwrap_or_default());
                        conn.last_active = Instant::now();
                    }
                    // No plaintext left: read records.
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                        match read_records(tls, &mut conn.stream, peer) {
                            Records::Read => conn.last_active = Instant::now(),
                            Records::Blocked => return Next::Keep,
                            Records::EndOfStream => {
                                conn.driven = true;
                                conn.session.received_eof();
                            }
                            Records::Failed => return Next::Close,
                        }
                    }
                    // The end of the stream without a close_notify.
                    Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => {
                        conn.driven = true;
                        conn.session.received_eof();
                    }
                    Err(_) => return Next::Close,
                }
            }
            Action::ShutdownWrite => {
                tls.conn.send_close_notify();
                tls.shutdown_pending = true;
            }
            Action::Close => {
                let _ = flush(tls, &mut conn.stream);
                return Next::Close;
            }
        }
    }
    Next::Yield
}
