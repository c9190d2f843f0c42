//! A small HTTP/1.1 client over raw `TcpStream`s, for the tests that scrape a server over a real
//! socket: one request per connection, with `Connection: close`.
//!
//! Two ways to read the answer: [`get`] and [`read_response`] fail the test on anything unexpected
//! and frame the body by its `Content-Length` (which this crate always sends); [`try_get`] returns
//! an `Err` instead, reads to the end of the stream and also takes chunked bodies, for servers
//! other than this crate's (Prometheus' HTTP API) and for polling.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Read and write timeout of the helpers that fail the test: a server that stops answering fails
/// it instead of hanging it.
pub const IO_TIMEOUT: Duration = Duration::from_secs(20);
/// Connect, read and write timeout of [`try_get`], which is polled against a deadline of its own.
pub const TRY_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a request goes: a port on 127.0.0.1, or a socket address.
pub trait Target {
    fn addr(self) -> SocketAddr;
}

impl Target for u16 {
    fn addr(self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self))
    }
}

impl Target for SocketAddr {
    fn addr(self) -> SocketAddr {
        self
    }
}

/// One parsed response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// As received: names as spelled, values without surrounding white space.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The value of the only header named `name` (case-insensitive); panics if repeated.
    #[track_caller]
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut found = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name));
        let first = found.next().map(|(_, v)| v.as_str());
        assert!(found.next().is_none(), "repeated header {name}: {self:?}");
        first
    }

    /// The body as text; panics if it is not UTF-8.
    #[track_caller]
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a UTF-8 body")
    }

    /// The body as text, with anything that is not UTF-8 replaced.
    pub fn text_lossy(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A connection to `to`, with read and write timeouts of [`IO_TIMEOUT`].
#[track_caller]
pub fn connect(to: impl Target) -> TcpStream {
    let addr = to.addr();
    let stream = TcpStream::connect(addr).unwrap_or_else(|err| panic!("connect to {addr}: {err}"));
    stream.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
    stream.set_write_timeout(Some(IO_TIMEOUT)).expect("timeout");
    stream
}

/// `GET path` on a new connection, with `Connection: close`; the response as
/// [`read_response`] reads it.
#[track_caller]
pub fn get(to: impl Target, path: &str) -> Response {
    let addr = to.addr();
    let mut stream = connect(addr);
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    read_response(&mut stream)
}

/// `GET path` on a new connection, with `Connection: close`; the whole response, as text, once
/// the server has closed the connection.
#[track_caller]
pub fn get_raw(to: impl Target, path: &str) -> String {
    let raw = fetch(to.addr(), path, &[], IO_TIMEOUT).unwrap_or_else(|err| panic!("{err}"));
    String::from_utf8(raw).expect("a UTF-8 response")
}

/// Reads one HTTP/1.1 response whose body length is given by `Content-Length`, and nothing
/// after it.
#[track_caller]
pub fn read_response(stream: &mut TcpStream) -> Response {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).expect("read the response head");
        assert!(
            n > 0,
            "connection closed before the end of the head: {:?}",
            String::from_utf8_lossy(&buffer)
        );
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buffer[..head_end].to_vec()).expect("ASCII head");
    assert!(head.starts_with("HTTP/1.1 "), "status line of {head:?}");
    let mut response = parse_head(&head).unwrap_or_else(|err| panic!("{err}"));
    response.body = buffer[head_end + 4..].to_vec();
    let length: usize = response
        .header("Content-Length")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Content-Length in {head:?}"));
    while response.body.len() < length {
        let n = stream.read(&mut chunk).expect("read the body");
        assert!(n > 0, "connection closed in the body of {head:?}");
        response.body.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(response.body.len(), length, "more than Content-Length");
    response
}

/// `GET target` on a new connection to 127.0.0.1:`port` with `Connection: close` and the extra
/// `headers`; the response is read to the end of the stream. `Err` for any failure, with the
/// reason.
pub fn try_get(port: u16, target: &str, headers: &[(&str, &str)]) -> Result<Response, String> {
    let addr = port.addr();
    let raw = fetch(addr, target, headers, TRY_TIMEOUT)?;
    parse_response(&raw).map_err(|err| format!("GET http://{addr}{target}: {err}"))
}

/// Sends `GET target` with `Connection: close` and `headers`, and reads until the server closes.
fn fetch(
    addr: SocketAddr,
    target: &str,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|err| format!("connect to {addr}: {err}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|err| format!("set timeouts: {err}"))?;
    let mut request = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|err| format!("send to {addr}: {err}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|err| format!("read from {addr}: {err}"))?;
    Ok(raw)
}

/// A status line (any HTTP/1.x) and header lines, without the blank line that ends them; the
/// body is left empty.
fn parse_head(head: &str) -> Result<Response, String> {
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    if !parts.next().is_some_and(|v| v.starts_with("HTTP/1.")) {
        return Err(format!("bad status line {status_line:?}"));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("bad header line {line:?}"))?;
        headers.push((name.to_string(), value.trim().to_string()));
    }
    Ok(Response {
        status,
        headers,
        body: Vec::new(),
    })
}

/// A whole response, read to the end of the stream: the body chunked, as long as its
/// `Content-Length`, or all the rest.
fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no end of head in {:?}", String::from_utf8_lossy(raw)))?;
    let head = std::str::from_utf8(&raw[..head_end]).map_err(|_| "head is not UTF-8")?;
    let mut response = parse_head(head)?;
    let rest = &raw[head_end + 4..];
    let chunked = response
        .header("Transfer-Encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if chunked {
        response.body = decode_chunked(rest)?;
    } else if let Some(length) = response.header("Content-Length") {
        let length: usize = length
            .parse()
            .map_err(|_| format!("bad Content-Length {length:?}"))?;
        if rest.len() != length {
            return Err(format!(
                "Content-Length {length} but {} body bytes",
                rest.len()
            ));
        }
        response.body = rest.to_vec();
    } else {
        response.body = rest.to_vec();
    }
    Ok(response)
}

fn decode_chunked(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunk size")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).map_err(|_| "bad chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        if rest.len() < size + 2 {
            return Err("truncated chunk".to_string());
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}
