//! Response heads as bytes: the status line and headers, or a whole small response.
//!
//! [`write_response_head`] and [`write_simple_response`] append to an output buffer and write
//! no header the caller did not ask for besides `Content-Length` and `Connection`.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt;

use crate::wire::decimal::{push_short, write_u64};

/// An HTTP status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub u16);

impl Status {
    /// 200 OK.
    pub const OK: Status = Status(200);
    /// 400 Bad Request.
    pub const BAD_REQUEST: Status = Status(400);
    /// 401 Unauthorized (send `WWW-Authenticate`).
    pub const UNAUTHORIZED: Status = Status(401);
    /// 404 Not Found.
    pub const NOT_FOUND: Status = Status(404);
    /// 405 Method Not Allowed (send `Allow`).
    pub const METHOD_NOT_ALLOWED: Status = Status(405);
    /// 406 Not Acceptable.
    pub const NOT_ACCEPTABLE: Status = Status(406);
    /// 408 Request Timeout.
    pub const REQUEST_TIMEOUT: Status = Status(408);
    /// 414 URI Too Long.
    pub const URI_TOO_LONG: Status = Status(414);
    /// 431 Request Header Fields Too Large.
    pub const HEADER_FIELDS_TOO_LARGE: Status = Status(431);
    /// 500 Internal Server Error.
    pub const INTERNAL_SERVER_ERROR: Status = Status(500);
    /// 501 Not Implemented.
    pub const NOT_IMPLEMENTED: Status = Status(501);
    /// 503 Service Unavailable.
    pub const SERVICE_UNAVAILABLE: Status = Status(503);
    /// 505 HTTP Version Not Supported.
    pub const VERSION_NOT_SUPPORTED: Status = Status(505);

    /// The numeric code.
    pub fn code(self) -> u16 {
        self.0
    }

    /// The standard reason phrase, or `""` for a code this module does not know (a status line
    /// may have an empty reason phrase).
    pub fn reason(self) -> &'static str {
        match self.0 {
            100 => "Continue",
            200 => "OK",
            204 => "No Content",
            301 => "Moved Permanently",
            302 => "Found",
            304 => "Not Modified",
            307 => "Temporary Redirect",
            308 => "Permanent Redirect",
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            406 => "Not Acceptable",
            408 => "Request Timeout",
            411 => "Length Required",
            413 => "Content Too Large",
            414 => "URI Too Long",
            415 => "Unsupported Media Type",
            429 => "Too Many Requests",
            431 => "Request Header Fields Too Large",
            500 => "Internal Server Error",
            501 => "Not Implemented",
            502 => "Bad Gateway",
            503 => "Service Unavailable",
            504 => "Gateway Timeout",
            505 => "HTTP Version Not Supported",
            _ => "",
        }
    }
}

impl fmt::Display for Status {
    /// `404 Not Found`, for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reason().is_empty() {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{} {}", self.0, self.reason())
        }
    }
}

/// What goes into a response head.
#[derive(Debug, Clone, Copy)]
pub struct ResponseHead<'a> {
    /// The status; a code outside 100..=999 is written as 500.
    pub status: Status,
    /// `Content-Type`, e.g. `text/plain; version=0.0.4; charset=utf-8`; omitted if empty.
    pub content_type: &'a str,
    /// Length of the body that would be sent for `GET` (also sent for `HEAD`).
    pub content_length: usize,
    /// `false` writes `Connection: close`; `true` with `minor_version == 0` writes
    /// `Connection: keep-alive`.
    pub keep_alive: bool,
    /// The request's minor version. The status line always says `HTTP/1.1` (RFC 9110 §6.2
    /// allows it); this only decides whether keep-alive must be announced.
    pub minor_version: u8,
    /// `Server` and `Date`.
    pub common: CommonHeaders<'a>,
    /// `Allow`, e.g. `GET, HEAD` for a 405.
    pub allow: Option<&'a str>,
    /// More headers as (name, value), e.g. `("Content-Encoding", "gzip")`,
    /// `("Vary", "Accept-Encoding")`.
    pub extra: &'a [(&'a str, &'a str)],
}

/// The headers every response of one server carries, whatever the request.
#[derive(Debug, Clone, Copy, Default)]
pub struct CommonHeaders<'a> {
    /// `Server`, e.g. `my-exporter/1.2.3`; omitted if empty.
    pub server: &'a str,
    /// `Date`, e.g. [`HttpDate::as_str`](super::HttpDate::as_str); omitted if empty. RFC 9110 §6.6.1 asks an origin
    /// server with a clock to send it.
    pub date: &'a str,
}

/// Appends a response head to `out`: the status line, the headers in the order `Server`,
/// `Date`, `Content-Type`, `Content-Length`, `extra`, `Allow`, `Connection`, then the blank
/// line.
///
/// A header whose name is not a token, or whose value holds a control character other than tab
/// (CR and LF included), is left out rather than let it split the head. Allocates nothing
/// beyond growing `out`.
pub fn write_response_head(out: &mut Vec<u8>, head: &ResponseHead<'_>) {
    let status = if (100..=999).contains(&head.status.0) {
        head.status
    } else {
        Status::INTERNAL_SERVER_ERROR
    };
    out.extend_from_slice(b"HTTP/1.1 ");
    write_u64(out, u64::from(status.0));
    out.push(b' ');
    push_short(out, status.reason().as_bytes());
    out.extend_from_slice(b"\r\n");

    if !head.common.server.is_empty() {
        push_header(out, "Server", head.common.server);
    }
    if !head.common.date.is_empty() {
        push_header(out, "Date", head.common.date);
    }
    if !head.content_type.is_empty() {
        push_header(out, "Content-Type", head.content_type);
    }
    out.extend_from_slice(b"Content-Length: ");
    write_u64(out, head.content_length as u64);
    out.extend_from_slice(b"\r\n");
    for (name, value) in head.extra {
        push_header(out, name, value);
    }
    if let Some(allow) = head.allow {
        push_header(out, "Allow", allow);
    }
    if !head.keep_alive {
        out.extend_from_slice(b"Connection: close\r\n");
    } else if head.minor_version == 0 {
        out.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends a complete small `text/plain; charset=utf-8` response to `out`: head, then `body`
/// unless `head_only` (a `HEAD` request, which still gets the body's `Content-Length`). Meant
/// for errors (400, 404, 405, 500…).
///
/// Not knowing the request's version, it announces a kept-alive connection explicitly with
/// `Connection: keep-alive`, which HTTP/1.0 clients need and HTTP/1.1 clients ignore;
/// `keep_alive == false` writes `Connection: close`. That suits the answers to requests that
/// could not be read, which end the connection; an answer to a request that was read uses
/// [`write_response_head`] with the request's version, so that every status follows one rule:
/// `Connection: close` when the connection ends after it, `Connection: keep-alive` to an
/// HTTP/1.0 client whose connection stays open, nothing to an HTTP/1.1 one.
pub fn write_simple_response(
    out: &mut Vec<u8>,
    status: Status,
    body: &str,
    keep_alive: bool,
    head_only: bool,
    common: CommonHeaders<'_>,
    allow: Option<&str>,
) {
    write_response_head(
        out,
        &ResponseHead {
            status,
            content_type: "text/plain; charset=utf-8",
            content_length: body.len(),
            keep_alive,
            minor_version: 0,
            common,
            allow,
            extra: &[],
        },
    );
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
}

/// `name: value\r\n`, or nothing if either could break the head.
fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    let name_ok = !name.is_empty() && name.bytes().all(is_token_byte);
    let value_ok = value.bytes().all(|b| b == b'\t' || !b.is_ascii_control());
    if !(name_ok && value_ok) {
        return;
    }
    push_short(out, name.as_bytes());
    out.extend_from_slice(b": ");
    push_short(out, value.as_bytes());
    out.extend_from_slice(b"\r\n");
}
/// `tchar` of RFC 9110 §5.6.2.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;

    fn head<'a>(status: Status, keep_alive: bool, minor_version: u8) -> ResponseHead<'a> {
        ResponseHead {
            status,
            content_type: "text/plain; version=0.0.4; charset=utf-8",
            content_length: 1234,
            keep_alive,
            minor_version,
            common: CommonHeaders {
                server: "my-exporter/1.2.3",
                date: "Sun, 06 Nov 1994 08:49:37 GMT",
            },
            allow: None,
            extra: &[],
        }
    }

    fn written(head: &ResponseHead<'_>) -> String {
        let mut out = Vec::new();
        write_response_head(&mut out, head);
        String::from_utf8(out).unwrap()
    }
    #[test]
    fn response_head_keep_alive_http11() {
        let extra = [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")];
        let head = ResponseHead {
            extra: &extra,
            ..head(Status::OK, true, 1)
        };
        assert_eq!(
            written(&head),
            "HTTP/1.1 200 OK\r\n\
             Server: my-exporter/1.2.3\r\n\
             Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
             Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
             Content-Length: 1234\r\n\
             Content-Encoding: gzip\r\n\
             Vary: Accept-Encoding\r\n\
             \r\n"
        );
    }

    #[test]
    fn response_head_keep_alive_http10() {
        assert_eq!(
            written(&head(Status::OK, true, 0)),
            "HTTP/1.1 200 OK\r\n\
             Server: my-exporter/1.2.3\r\n\
             Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
             Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
             Content-Length: 1234\r\n\
             Connection: keep-alive\r\n\
             \r\n"
        );
    }

    #[test]
    fn response_head_close() {
        for minor_version in [0, 1] {
            assert_eq!(
                written(&head(Status::SERVICE_UNAVAILABLE, false, minor_version)),
                "HTTP/1.1 503 Service Unavailable\r\n\
                 Server: my-exporter/1.2.3\r\n\
                 Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
                 Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
                 Content-Length: 1234\r\n\
                 Connection: close\r\n\
                 \r\n"
            );
        }
    }

    #[test]
    fn response_head_leaves_out_what_could_split_it() {
        let extra = [
            ("X-Ok", "a\tb"),
            ("X-Bad", "a\r\nSet-Cookie: x"),
            ("X-Bad", "a\nb"),
            ("X-Nul", "a\0b"),
            ("Bad Name", "v"),
            ("", "v"),
            ("Bad:Name", "v"),
        ];
        let head = ResponseHead {
            status: Status(299),
            content_type: "",
            content_length: 0,
            keep_alive: true,
            minor_version: 1,
            common: CommonHeaders::default(),
            allow: Some("GET\r\n"),
            extra: &extra,
        };
        assert_eq!(
            written(&head),
            "HTTP/1.1 299 \r\nContent-Length: 0\r\nX-Ok: a\tb\r\n\r\n"
        );
    }

    #[test]
    fn response_head_appends_and_writes_any_length() {
        let mut out = b"previous".to_vec();
        let head = ResponseHead {
            content_length: usize::MAX,
            status: Status(1000),
            ..head(Status::OK, true, 1)
        };
        write_response_head(&mut out, &head);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("previousHTTP/1.1 500 Internal Server Error\r\n"),
            "{text}"
        );
        assert!(text.contains(&format!("Content-Length: {}\r\n", usize::MAX)));
    }

    #[test]
    fn simple_response_405_with_allow() {
        let mut out = Vec::new();
        write_simple_response(
            &mut out,
            Status::METHOD_NOT_ALLOWED,
            "method not allowed\n",
            false,
            false,
            CommonHeaders {
                server: "x/1",
                date: "Thu, 01 Jan 1970 00:00:00 GMT",
            },
            Some("GET, HEAD"),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 405 Method Not Allowed\r\n\
             Server: x/1\r\n\
             Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             Content-Length: 19\r\n\
             Allow: GET, HEAD\r\n\
             Connection: close\r\n\
             \r\n\
             method not allowed\n"
        );
    }

    #[test]
    fn simple_response_to_head_has_the_length_but_no_body() {
        let mut out = Vec::new();
        write_simple_response(
            &mut out,
            Status::NOT_FOUND,
            "not found\n",
            true,
            true,
            CommonHeaders::default(),
            None,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 404 Not Found\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             Content-Length: 10\r\n\
             Connection: keep-alive\r\n\
             \r\n"
        );
    }

    #[test]
    fn simple_responses_parse_back_with_httparse() {
        for status in [
            Status::BAD_REQUEST,
            Status::INTERNAL_SERVER_ERROR,
            Status(299),
        ] {
            let mut out = Vec::new();
            let now = super::super::HttpDate::now();
            let common = CommonHeaders {
                server: "s",
                date: now.as_str(),
            };
            write_simple_response(&mut out, status, "oops\n", false, false, common, None);
            let mut headers = [httparse::EMPTY_HEADER; 8];
            let mut response = httparse::Response::new(&mut headers);
            let len = response.parse(&out).unwrap().unwrap();
            assert_eq!(response.code, Some(status.code()));
            assert_eq!(&out[len..], b"oops\n");
        }
    }

    #[test]
    fn statuses_have_reasons() {
        let all = [
            Status::OK,
            Status::BAD_REQUEST,
            Status::NOT_FOUND,
            Status::METHOD_NOT_ALLOWED,
            Status::NOT_ACCEPTABLE,
            Status::REQUEST_TIMEOUT,
            Status::URI_TOO_LONG,
            Status::HEADER_FIELDS_TOO_LARGE,
            Status::INTERNAL_SERVER_ERROR,
            Status::NOT_IMPLEMENTED,
            Status::SERVICE_UNAVAILABLE,
            Status::VERSION_NOT_SUPPORTED,
        ];
        for status in all {
            assert!(!status.reason().is_empty(), "{}", status.code());
        }
        assert_eq!(Status::REQUEST_TIMEOUT.code(), 408);
        assert_eq!(Status::HEADER_FIELDS_TOO_LARGE.code(), 431);
        assert_eq!(Status::NOT_FOUND.to_string(), "404 Not Found");
        assert_eq!(Status(299).to_string(), "299");
    }
}
