//! HTTP/1.x request bytes in, a decision about the request out.
//!
//! [`parse_request`] looks at the bytes read so far on one connection and says what to do:
//! [`Parse::Partial`] (read more), [`Parse::Complete`] (answer this request, then drop
//! `head_len` bytes) or [`Parse::Reject`] (answer with this status, then close).
//! Nothing here touches a socket, so the event loop, the tests and fuzz targets call it directly.
//!
//! What it does not do:
//! - read request bodies: a request that has one is answered, and the connection is closed after
//!   the answer (`keep_alive == false`), so body bytes are never taken for a next request;
//! - allocate while parsing: headers go into a fixed array of [`MAX_HEADERS`] on the stack.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![forbid(unsafe_code)]

use super::Status;
use crate::wire::ascii::trim_ows;

/// Most header fields one request may carry; one more is answered with
/// [`Status::HEADER_FIELDS_TOO_LARGE`].
pub const MAX_HEADERS: usize = 64;

/// Limits on what one request head may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Most bytes one request head may take: leading empty lines, request line, header fields and
    /// the blank line that ends the head. A longer head is rejected with
    /// [`Status::URI_TOO_LONG`] if its request line alone does not fit, else with
    /// [`Status::HEADER_FIELDS_TOO_LARGE`]. A connection's read buffer needs to hold no more than
    /// this plus one byte to reach a decision.
    pub max_request_head_bytes: usize,
}

impl RequestLimits {
    /// The default [`max_request_head_bytes`](Self::max_request_head_bytes): 8 KiB, like nginx's
    /// `large_client_header_buffers 4 8k`.
    pub const DEFAULT_MAX_REQUEST_HEAD_BYTES: usize = 8192;
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_request_head_bytes: Self::DEFAULT_MAX_REQUEST_HEAD_BYTES,
        }
    }
}

/// The request method, as far as an exporter cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET` (methods are case-sensitive: `get` is [`Method::Other`]).
    Get,
    /// `HEAD`: answer like `GET`, without the body.
    Head,
    /// Any other method; [`Request::method_str`] says which.
    Other,
}

/// One complete, acceptable request head. Every slice borrows from the parsed buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'b> {
    /// The method, classified.
    pub method: Method,
    /// The method as sent, for access logs.
    pub method_str: &'b str,
    /// The full request target as sent, for logs.
    pub target: &'b str,
    /// The target without its query string. An absolute-form target
    /// (`http://host/x?y`) is reduced to its path (`/x`, or `/` when empty); the asterisk-form
    /// target of `OPTIONS *` is `*`. Percent-escapes are left as sent: [`path_is`] compares it
    /// with a route, decoding them.
    pub path: &'b str,
    /// `0` for HTTP/1.0, `1` for HTTP/1.1.
    pub minor_version: u8,
    /// `true` if the connection may carry another request after this one: HTTP/1.1 unless a
    /// `Connection` header lists `close`; HTTP/1.0 only if one lists `keep-alive` (and none
    /// `close`). Always `false` if the request has a body (`Content-Length` above 0, or any
    /// `Transfer-Encoding`): the body is never read, so the connection must close after the
    /// response.
    pub keep_alive: bool,
    /// The raw value of the first `Accept` header, for content negotiation.
    pub accept: Option<&'b [u8]>,
    /// The raw value of the first `Accept-Encoding` header.
    pub accept_encoding: Option<&'b [u8]>,
    /// The raw value of the first `X-Prometheus-Scrape-Timeout-Seconds` header.
    pub scrape_timeout: Option<&'b [u8]>,
    /// The raw value of the first `User-Agent` header.
    pub user_agent: Option<&'b [u8]>,
    /// The raw value of the first `Authorization` header, for basic auth.
    #[cfg(feature = "basic-auth")]
    pub authorization: Option<&'b [u8]>,
}

/// What to do with the bytes read so far on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse<'b> {
    /// More bytes are needed; nothing is wrong yet.
    Partial,
    /// A complete request head of `head_len` bytes. The caller answers it, then drops `head_len`
    /// bytes (and if `!keep_alive`, closes after the response instead of reading further).
    Complete {
        /// The request.
        request: Request<'b>,
        /// Bytes taken by the head, leading empty lines and the final blank line included.
        head_len: usize,
    },
    /// The bytes are not an acceptable request: answer with this status and close the
    /// connection, since where a next request would start is unknown.
    Reject(Status),
}

/// Decides what the bytes read so far on a connection are: a [`Parse::Partial`] head, a
/// [`Parse::Complete`] acceptable request, or a request to [`Parse::Reject`] with a status.
///
/// Only the first [`max_request_head_bytes`](RequestLimits::max_request_head_bytes) of `buf`
/// are looked at, and whether there are more: a head that has not ended by then is rejected with
/// 414 (the request line has not ended either) or 431. So the answer is the same however the
/// bytes were split across reads, and bytes after a complete head (a body, or pipelined
/// requests) do not change it.
///
/// Rejected with 400: bytes that are not HTTP/1.x syntax (including obsolete line folding); a
/// request target that is not `/…`, `http://…`, `https://…`, or `*` for `OPTIONS`; userinfo
/// (`http://user@host/…`); a fragment (`#`); a `%` in the path not followed by two hex
/// digits; HTTP/1.1
/// without `Host`; more than one `Host`, or one with a byte no host and port can hold (a space,
/// `/`, `@`…); a `Content-Length` that is not decimal digits, or
/// several that disagree; `Transfer-Encoding` with `Content-Length`, on HTTP/1.0, or without
/// `chunked` as its last coding.
/// Rejected with 505: a well-formed version other than 1.0 and 1.1 (`HTTP/2.0`, `HTTP/0.9`,
/// `HTTP/1.2`). Rejected with 431: more than [`MAX_HEADERS`] header fields.
///
/// Does not allocate.
///
/// # Example
///
/// ```
/// use prometheus_aioexporter::internals::{parse_request, Method, Parse, RequestLimits};
///
/// let limits = RequestLimits::default();
/// let buf = b"GET /metrics?debug=1 HTTP/1.1\r\nHost: localhost:9100\r\n\r\nGET /next";
///
/// // Every prefix of a head is Partial: keep reading.
/// assert_eq!(parse_request(&buf[..20], &limits), Parse::Partial);
///
/// match parse_request(buf, &limits) {
///     Parse::Complete { request, head_len } => {
///         assert_eq!(request.method, Method::Get);
///         assert_eq!(request.path, "/metrics");
///         assert!(request.keep_alive);
///         // What follows the head is the next pipelined request.
///         assert_eq!(&buf[head_len..], b"GET /next");
///     }
///     other => panic!("expected a complete request, got {other:?}"),
/// }
///
/// // Malformed bytes: answer with the status, then close.
/// let bad = b"GET /metrics HTTP/1.1\r\n\r\n"; // HTTP/1.1 needs a Host header
/// assert!(matches!(parse_request(bad, &limits), Parse::Reject(s) if s.code() == 400));
/// ```
pub fn parse_request<'b>(buf: &'b [u8], limits: &RequestLimits) -> Parse<'b> {
    let limit = limits.max_request_head_bytes;
    let over_limit = buf.len() > limit;
    let window = buf.get(..limit).unwrap_or(buf);

    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(window) {
        Ok(httparse::Status::Complete(head_len)) => check_head(&parsed, head_len),
        Ok(httparse::Status::Partial) if over_limit => Parse::Reject(oversize_status(window)),
        Ok(httparse::Status::Partial) => Parse::Partial,
        Err(httparse::Error::TooManyHeaders) => Parse::Reject(Status::HEADER_FIELDS_TOO_LARGE),
        Err(httparse::Error::Version) => Parse::Reject(version_status(window)),
        Err(_) => Parse::Reject(Status::BAD_REQUEST),
    }
}

/// The checks httparse leaves to us, on a syntactically complete head.
fn check_head<'b>(parsed: &httparse::Request<'_, 'b>, head_len: usize) -> Parse<'b> {
    const BAD: Parse<'static> = Parse::Reject(Status::BAD_REQUEST);

    let (Some(method_str), Some(target), Some(minor_version)) =
        (parsed.method, parsed.path, parsed.version)
    else {
        return BAD;
    };
    let method = match method_str {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        _ => Method::Other,
    };
    let Some(path) = request_path(method_str, target).filter(|path| escapes_are_valid(path)) else {
        return BAD;
    };

    let mut hosts = 0usize;
    let mut content_length: Option<u64> = None;
    let mut transfer_encoding = false;
    let mut connection_close = false;
    let mut connection_keep_alive = false;
    let mut accept = None;
    let mut accept_encoding = None;
    let mut scrape_timeout = None;
    let mut user_agent = None;
    #[cfg(feature = "basic-auth")]
    let mut authorization = None;
    let mut chunked_last = false;

    for header in parsed.headers.iter() {
        let name = header.name;
        let value = header.value;
        if name.eq_ignore_ascii_case("host") {
            hosts += 1;
            if !value.iter().all(|&b| is_host_byte(b)) {
                return BAD;
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            let Some(length) = parse_content_length(value) else {
                return BAD;
            };
            match content_length {
                Some(seen) if seen != length => return BAD,
                _ => content_length = Some(length),
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            transfer_encoding = true;
            // The codings of several fields form one list, empty elements ignored: the last
            // coding of all counts.
            if let Some(coding) = list_elements(value).last() {
                chunked_last = coding.eq_ignore_ascii_case(b"chunked");
            }
        } else if name.eq_ignore_ascii_case("connection") {
            for token in list_elements(value) {
                if token.eq_ignore_ascii_case(b"close") {
                    connection_close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    connection_keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("accept") {
            accept = accept.or(Some(value));
        } else if name.eq_ignore_ascii_case("accept-encoding") {
            accept_encoding = accept_encoding.or(Some(value));
        } else if name.eq_ignore_ascii_case("x-prometheus-scrape-timeout-seconds") {
            scrape_timeout = scrape_timeout.or(Some(value));
        } else if name.eq_ignore_ascii_case("user-agent") {
            user_agent = user_agent.or(Some(value));
        } else if cfg!(feature = "basic-auth") && name.eq_ignore_ascii_case("authorization") {
            #[cfg(feature = "basic-auth")]
            {
                authorization = authorization.or(Some(value));
            }
        }
    }

    if hosts > 1 || (minor_version >= 1 && hosts == 0) {
        return BAD;
    }
    // Without `chunked` last, a request body's length cannot be known (RFC 9112, 6.3).
    if transfer_encoding && (content_length.is_some() || minor_version == 0 || !chunked_last) {
        return BAD;
    }
    let has_body = transfer_encoding || matches!(content_length, Some(n) if n > 0);
    let keep_alive =
        !has_body && !connection_close && (minor_version >= 1 || connection_keep_alive);

    Parse::Complete {
        request: Request {
            method,
            method_str,
            target,
            path,
            minor_version,
            keep_alive,
            accept,
            accept_encoding,
            scrape_timeout,
            user_agent,
            #[cfg(feature = "basic-auth")]
            authorization,
        },
        head_len,
    }
}

/// The path of an acceptable request target, or `None` if the target is of no form we accept.
fn request_path<'b>(method: &str, target: &'b str) -> Option<&'b str> {
    // Clients strip fragments before sending; a `#` could only hide what follows it.
    if target.contains('#') {
        return None;
    }
    if target.starts_with('/') {
        return Some(without_query(target));
    }
    if target == "*" {
        return if method == "OPTIONS" {
            Some(target)
        } else {
            None
        };
    }
    let rest = without_http_scheme(target)?;
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..authority_len)?;
    // Userinfo (`user@host`) is an error in a request (RFC 9110 §4.2.4), as in `Host`.
    if authority.is_empty() || !authority.bytes().all(is_host_byte) {
        return None;
    }
    let path = without_query(rest.get(authority_len..)?);
    Some(if path.is_empty() { "/" } else { path })
}

/// `true` if every `%` in `path` starts an escape of two hex digits (RFC 3986 §2.1). Go's
/// net/http answers 400 to a path that breaks this, as [`parse_request`] does.
fn escapes_are_valid(path: &str) -> bool {
    let mut rest = path.as_bytes();
    while let Some(i) = rest.iter().position(|&b| b == b'%') {
        match rest.get(i + 1..i + 3) {
            Some(&[high, low]) if hex_value(high).is_some() && hex_value(low).is_some() => {
                rest = rest.get(i + 3..).unwrap_or_default();
            }
            _ => return false,
        }
    }
    true
}

/// `true` if the request path `path` is `route` once its percent-escapes are decoded (RFC 3986
/// §2.1; hex digits of either case), as Go's `ServeMux` and nginx route on the decoded path: so
/// `/%6Detrics` is `/metrics`. A `%` not followed by two hex digits matches nothing. Allocates
/// nothing; without escapes it is a plain comparison.
///
/// ```
/// use prometheus_aioexporter::internals::path_is;
///
/// assert!(path_is("/metrics", "/metrics"));
/// assert!(path_is("/%6d%65trics", "/metrics"));
/// assert!(!path_is("/metrics/", "/metrics"));
/// assert!(!path_is("/%6", "/m"));
/// ```
pub fn path_is(path: &str, route: &str) -> bool {
    let (mut path, mut route) = (path.as_bytes(), route.as_bytes());
    loop {
        match (path, route) {
            ([], []) => return true,
            ([b'%', high, low, rest @ ..], [wanted, route_rest @ ..]) => {
                match (hex_value(*high), hex_value(*low)) {
                    (Some(high), Some(low)) if high * 16 + low == *wanted => {
                        (path, route) = (rest, route_rest);
                    }
                    _ => return false,
                }
            }
            ([b'%', ..], _) => return false,
            ([byte, rest @ ..], [wanted, route_rest @ ..]) if byte == wanted => {
                (path, route) = (rest, route_rest);
            }
            _ => return false,
        }
    }
}

/// The value of a hex digit.
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `target` after a case-insensitive `http://` or `https://`.
fn without_http_scheme(target: &str) -> Option<&str> {
    ["http://", "https://"].iter().find_map(|scheme| {
        let head = target.get(..scheme.len())?;
        if head.eq_ignore_ascii_case(scheme) {
            target.get(scheme.len()..)
        } else {
            None
        }
    })
}

/// `target` up to its first `?` or `#`.
fn without_query(target: &str) -> &str {
    target.split(['?', '#']).next().unwrap_or(target)
}

/// A `Content-Length` value: decimal digits, or a list of equal ones (RFC 9110 §8.6).
fn parse_content_length(value: &[u8]) -> Option<u64> {
    let mut length = None;
    for element in value.split(|&b| b == b',').map(trim_ows) {
        let n = parse_decimal(element)?;
        if length.is_some_and(|seen| seen != n) {
            return None;
        }
        length = Some(n);
    }
    length
}

/// `1*DIGIT` as a number, `None` if empty, not digits, or too big for a `u64`.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        if b.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// The non-empty elements of a comma-separated header value, without surrounding whitespace.
fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|element| !element.is_empty())
}

/// `bytes` after the empty lines that may precede a request line (RFC 9112 §2.2).
fn after_leading_newlines(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or(&[])
}

/// The status for a head that does not end within the limit.
fn oversize_status(window: &[u8]) -> Status {
    if after_leading_newlines(window).contains(&b'\n') {
        Status::HEADER_FIELDS_TOO_LARGE
    } else {
        Status::URI_TOO_LONG
    }
}

/// The status for httparse's `Error::Version`: 505 for a well-formed `HTTP/x.y` other than
/// 1.0 and 1.1, else 400. httparse has by then accepted `method SP target SP`, so the version
/// starts after the second space of the request line; only its first bytes are looked at, so
/// the answer does not depend on how much of it has arrived.
fn version_status(window: &[u8]) -> Status {
    let version = after_leading_newlines(window)
        .splitn(3, |&b| b == b' ')
        .nth(2)
        .unwrap_or(&[]);
    match version {
        [b'H', b'T', b'T', b'P', b'/', major, rest @ ..] if major.is_ascii_digit() => {
            if *major != b'1' {
                return Status::VERSION_NOT_SUPPORTED;
            }
            match rest {
                [b'.', minor, ..] if minor.is_ascii_digit() => Status::VERSION_NOT_SUPPORTED,
                _ => Status::BAD_REQUEST,
            }
        }
        _ => Status::BAD_REQUEST,
    }
}

/// A byte of a `Host` value: `uri-host [ ":" port ]` of RFC 9112 §3.2, where a reg-name, an
/// IPv4 address or a bracketed IPv6 literal may stand (the set Go's net/http allows). Spaces,
/// controls, `/`, `?`, `#`, `@` and anything not ASCII make the value invalid, and the request
/// a 400.
fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!$%&'()*+,-.:;=[]_~".contains(&b)
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

    const LIMIT: usize = RequestLimits::DEFAULT_MAX_REQUEST_HEAD_BYTES;

    fn limits() -> RequestLimits {
        RequestLimits::default()
    }

    /// What a table case expects.
    enum Expect {
        Partial,
        Reject(Status),
        /// Complete, with `head_len == input.len()`, and this check on the request.
        Whole(fn(&Request<'_>)),
        /// Complete, these bytes left after the head, and this check.
        Rest(&'static [u8], fn(&Request<'_>)),
    }
    use Expect::*;

    struct Case {
        name: &'static str,
        input: Vec<u8>,
        expect: Expect,
    }

    fn case(name: &'static str, input: &[u8], expect: Expect) -> Case {
        Case {
            name,
            input: input.to_vec(),
            expect,
        }
    }

    /// A GET for `/` on HTTP/1.1 with `n` extra header fields besides `Host`.
    fn with_headers(n: usize) -> Vec<u8> {
        let mut v = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
        for i in 0..n {
            v.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
        }
        v.extend_from_slice(b"\r\n");
        v
    }

    fn get(path_and_rest: &str) -> Vec<u8> {
        format!("GET {path_and_rest}").into_bytes()
    }

    fn cases() -> Vec<Case> {
        let long_target = "/".repeat(LIMIT + 1);
        let big_header = "a".repeat(LIMIT);
        vec![
            // --- the basics
            case(
                "simple GET",
                b"GET /metrics HTTP/1.1\r\nHost: localhost:9100\r\n\r\n",
                Whole(|r| {
                    assert_eq!(r.method, Method::Get);
                    assert_eq!(r.method_str, "GET");
                    assert_eq!(r.target, "/metrics");
                    assert_eq!(r.path, "/metrics");
                    assert_eq!(r.minor_version, 1);
                    assert!(r.keep_alive);
                    assert_eq!(r.accept, None);
                }),
            ),
            case(
                "HEAD",
                b"HEAD /metrics HTTP/1.1\r\nHost: h\r\n\r\n",
                Whole(|r| {
                    assert_eq!(r.method, Method::Head);
                    assert!(r.keep_alive);
                }),
            ),
            case(
                "POST with a body is answered, then the connection closes",
                b"POST /metrics HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
                Rest(b"hello", |r| {
                    assert_eq!(r.method, Method::Other);
                    assert_eq!(r.method_str, "POST");
                    assert!(!r.keep_alive);
                }),
            ),
            case(
                "lowercase method is not GET",
                b"get / HTTP/1.1\r\nHost: h\r\n\r\n",
                Whole(|r| {
                    assert_eq!(r.method, Method::Other);
                    assert_eq!(r.method_str, "get");
                }),
            ),
            case(
                "a Prometheus scrape: the headers we keep",
                b"GET /metrics HTTP/1.1\r\nHost: h:9100\r\nUser-Agent: Prometheus/2.42.0\r\n\
                  Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n\
                  Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n",
                Whole(|r| {
                    assert_eq!(r.user_agent, Some(&b"Prometheus/2.42.0"[..]));
                    assert_eq!(
                        r.accept,
                        Some(
                            &b"application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
                                [..]
                        )
                    );
                    assert_eq!(r.accept_encoding, Some(&b"gzip"[..]));
                    assert_eq!(r.scrape_timeout, Some(&b"10"[..]));
                }),
            ),
            case(
                "header names are case-insensitive; the first of a repeated header is kept",
                b"GET / HTTP/1.1\r\nHOST: h\r\naccept-ENCODING: br\r\nAccept-Encoding: gzip\r\n\r\n",
                Whole(|r| assert_eq!(r.accept_encoding, Some(&b"br"[..]))),
            ),
            case(
                "tab and trailing whitespace in a value: tab kept inside, trailing trimmed",
                b"GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: a\tb  \r\n\r\n",
                Whole(|r| assert_eq!(r.user_agent, Some(&b"a\tb"[..]))),
            ),
            // --- targets
            case(
                "query string is not part of the path",
                b"GET /metrics?name[]=up&x=%20 HTTP/1.1\r\nHost: h\r\n\r\n",
                Whole(|r| {
                    assert_eq!(r.target, "/metrics?name[]=up&x=%20");
                    assert_eq!(r.path, "/metrics");
                }),
            ),
            case(
                "a fragment, which no request target has (RFC 9112 3.2)",
                b"GET /metrics#top HTTP/1.1\r\nHost: h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "a fragment after the query",
                b"GET /a/b?c#d HTTP/1.1\r\nHost: h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "a fragment hiding userinfo",
                b"GET http://h#@x/metrics HTTP/1.1\r\nHost: h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "absolute-form is reduced to its path",
                b"GET http://localhost:9100/metrics?x=1 HTTP/1.1\r\nHost: localhost:9100\r\n\r\n",
                Whole(|r| {
                    assert_eq!(r.target, "http://localhost:9100/metrics?x=1");
                    assert_eq!(r.path, "/metrics");
                }),
            ),
            case(
                "absolute-form https, scheme case-insensitive, empty path is /",
                b"GET HTTPS://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
                Whole(|r| assert_eq!(r.path, "/")),
            ),
            case(
                "absolute-form with a query and no path",
                b"GET http://h?x=/y HTTP/1.1\r\nHost: h\r\n\r\n",
                Whole(|r| assert_eq!(r.path, "/")),
            ),
            case(
                "absolute-form without authority",
                b"GET http:///metrics HTTP/1.1\r\nHost: h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "absolute-form with userinfo",
                b"GET http://user:pw@h/metrics HTTP/1.1\r\nHost: h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "absolute-form with an IPv6 literal and a port",
                b"GET http://[::1]:9100/metrics HTTP/1.1\r\nHost: [::1]:9100\r\n\r\n",
                Whole(|r| assert_eq!(r.path, "/metrics")),
            ),
            case(
                "a percent-escape in the path",
                b"GET /%6Detrics%2f HTTP/1.1\r\nHost: h\r\n\r\n",
                Whole(|r| assert_eq!(r.path, "/%6Detrics%2f")),
            ),
            case(
                "a malformed percent-escape in the path",
                b"GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "a percent sign ending the path",
                b"GET /metrics% HTTP/1.1\r\nHost: h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "half an escape before the query",
                b"GET /metrics%4?x HTTP/1.1\r\nHost: h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "a malformed escape in the query is left to the handler",
                b"GET /metrics?x=%zz HTTP/1.1\r\nHost: h\r\n\r\n",
                Whole(|r| assert_eq!(r.path, "/metrics")),
            ),
            case(
                "absolute-form of another scheme",
                b"GET ftp://h/metrics HTTP/1.1\r\nHost: h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "asterisk-form with OPTIONS",
                b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
                Whole(|r| {
                    assert_eq!(r.method, Method::Other);
                    assert_eq!(r.path, "*");
                }),
            ),
            case(
                "asterisk-form with GET",
                b"GET * HTTP/1.1\r\nHost: h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "relative target",
                b"GET foo HTTP/1.1\r\nHost: h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "authority-form (CONNECT)",
                b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "UTF-8 in the target is passed through",
                "GET /caf\u{e9} HTTP/1.1\r\nHost: h\r\n\r\n".as_bytes(),
                Whole(|r| assert_eq!(r.path, "/caf\u{e9}")),
            ),
            case(
                "invalid UTF-8 in the target",
                b"GET /\xff HTTP/1.1\r\nHost: h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "space inside the target",
                b"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "two spaces after the method",
                b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            // --- line endings
            case(
                "leading CRLFs are skipped and counted in head_len",
                b"\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\nNEXT",
                Rest(b"NEXT", |r| assert_eq!(r.path, "/")),
            ),
            case(
                "leading bare LFs are skipped and counted",
                b"\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
                Whole(|r| assert_eq!(r.path, "/")),
            ),
            case(
                "leading CR without LF",
                b"\rGET / HTTP/1.1\r\nHost: h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "bare LF line endings",
                b"GET /x HTTP/1.1\nHost: h\n\nNEXT",
                Rest(b"NEXT", |r| assert_eq!(r.path, "/x")),
            ),
            case(
                "mixed line endings",
                b"GET /x HTTP/1.1\r\nHost: h\n\r\n",
                Whole(|r| assert_eq!(r.path, "/x")),
            ),
            case(
                "CR inside a header value",
                b"GET / HTTP/1.1\r\nHost: h\rX\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "obs-fold is refused",
                b"GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "space before a colon",
                b"GET / HTTP/1.1\r\nHost : h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "NUL in a header value",
                b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "NUL in a header name",
                b"GET / HTTP/1.1\r\nHost: h\r\nX\0: a\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "garbage: a TLS ClientHello",
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "garbage: a request line without version",
                b"GET /\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            // --- versions
            case(
                "HTTP/2.0 is a version we do not support",
                b"GET / HTTP/2.0\r\nHost: h\r\n\r\n",
                Reject(Status::VERSION_NOT_SUPPORTED),
            ),
            case(
                "the HTTP/2 prior-knowledge preface",
                b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                Reject(Status::VERSION_NOT_SUPPORTED),
            ),
            case(
                "HTTP/0.9",
                b"GET / HTTP/0.9\r\n\r\n",
                Reject(Status::VERSION_NOT_SUPPORTED),
            ),
            case(
                "HTTP/1.2 is refused by httparse: 505",
                b"GET / HTTP/1.2\r\nHost: h\r\n\r\n",
                Reject(Status::VERSION_NOT_SUPPORTED),
            ),
            case(
                "HTTP/2 known as soon as the major digit arrives",
                b"GET / HTTP/2",
                Reject(Status::VERSION_NOT_SUPPORTED),
            ),
            case(
                "HTTP/12.0 is malformed",
                b"GET / HTTP/12.0\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "not HTTP at all",
                b"GET / HTTPS/1.1\r\nHost: h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "lowercase http version",
                b"GET / http/1.1\r\nHost: h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            // --- keep-alive
            case(
                "HTTP/1.0 closes by default and needs no Host",
                b"GET / HTTP/1.0\r\n\r\n",
                Whole(|r| {
                    assert_eq!(r.minor_version, 0);
                    assert!(!r.keep_alive);
                }),
            ),
            case(
                "HTTP/1.0 with keep-alive",
                b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
                Whole(|r| assert!(r.keep_alive)),
            ),
            case(
                "HTTP/1.0 keep-alive among other tokens",
                b"GET / HTTP/1.0\r\nConnection: TE,  keep-alive ,\r\n\r\n",
                Whole(|r| assert!(r.keep_alive)),
            ),
            case(
                "HTTP/1.1 with close",
                b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
                Whole(|r| assert!(!r.keep_alive)),
            ),
            case(
                "close wins over keep-alive in one header",
                b"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Close\r\n\r\n",
                Whole(|r| assert!(!r.keep_alive)),
            ),
            case(
                "close in a second Connection header",
                b"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
                Whole(|r| assert!(!r.keep_alive)),
            ),
            case(
                "a token that merely contains close",
                b"GET / HTTP/1.1\r\nHost: h\r\nConnection: closed, x-close-y\r\n\r\n",
                Whole(|r| assert!(r.keep_alive)),
            ),
            // --- Host
            case(
                "HTTP/1.1 without Host",
                b"GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "two Host headers",
                b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "two Host headers on HTTP/1.0",
                b"GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "a Host with a space",
                b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "a Host with userinfo",
                b"GET / HTTP/1.1\r\nHost: user@h\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "a Host with a path",
                b"GET / HTTP/1.1\r\nHost: h/x\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "a Host that is not ASCII",
                b"GET / HTTP/1.1\r\nHost: h\xc3\xa9\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "an invalid Host on HTTP/1.0",
                b"GET / HTTP/1.0\r\nHost: a\tb\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "an IPv6 literal Host, trailing spaces trimmed",
                b"GET / HTTP/1.1\r\nHost: [::1]:9090  \r\nX: 1\r\n\r\n",
                Whole(|r| assert!(r.keep_alive)),
            ),
            case(
                "a reg-name Host with a port",
                b"GET / HTTP/1.1\r\nHost: my-host.example_1:80\r\n\r\n",
                Whole(|r| assert!(r.keep_alive)),
            ),
            case(
                "an IPv4 Host with a port",
                b"GET / HTTP/1.1\r\nHost: 127.0.0.1:9100\r\n\r\n",
                Whole(|r| assert!(r.keep_alive)),
            ),
            case(
                "an empty Host is still a Host",
                b"GET / HTTP/1.1\r\nHost:\r\n\r\n",
                Whole(|r| assert!(r.keep_alive)),
            ),
            // --- bodies and smuggling
            case(
                "Content-Length: 0 is no body",
                b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
                Whole(|r| assert!(r.keep_alive)),
            ),
            case(
                "Content-Length: 0 on HTTP/1.0 keep-alive",
                b"GET / HTTP/1.0\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n",
                Whole(|r| assert!(r.keep_alive)),
            ),
            case(
                "Content-Length above 0 closes after the answer",
                b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n",
                Whole(|r| assert!(!r.keep_alive)),
            ),
            case(
                "httparse strips the whitespace before a value, so '  5' is 5",
                b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length:   5\r\n\r\n",
                Whole(|r| assert!(!r.keep_alive)),
            ),
            case(
                "a list of equal Content-Lengths",
                b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n",
                Whole(|r| assert!(!r.keep_alive)),
            ),
            case(
                "equal Content-Length headers",
                b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
                Whole(|r| assert!(!r.keep_alive)),
            ),
            case(
                "Content-Length in exponent notation",
                b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1e3\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "negative Content-Length",
                b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "signed Content-Length",
                b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "a space inside Content-Length",
                b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5 5\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "a list of different Content-Lengths",
                b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "different Content-Length headers",
                b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "an empty element in Content-Length",
                b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5,\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "an empty Content-Length",
                b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "a Content-Length beyond u64",
                b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551616\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "Transfer-Encoding with Content-Length",
                b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "Transfer-Encoding with Content-Length: 0",
                b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\ntransfer-encoding: chunked\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "chunked closes after the answer",
                b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                Rest(b"5\r\nhello\r\n0\r\n\r\n", |r| assert!(!r.keep_alive)),
            ),
            case(
                "gzip, then chunked, in two fields",
                b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: Chunked\r\n\r\n",
                Rest(b"", |r| assert!(!r.keep_alive)),
            ),
            case(
                "Transfer-Encoding without chunked last",
                b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "chunked, then gzip",
                b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "chunked, then an empty field",
                b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: ,\r\n\r\n",
                Rest(b"", |r| assert!(!r.keep_alive)),
            ),
            case(
                "an empty Transfer-Encoding",
                b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            case(
                "Transfer-Encoding on HTTP/1.0",
                b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
                Reject(Status::BAD_REQUEST),
            ),
            // --- partial heads
            case("nothing yet", b"", Partial),
            case("only empty lines yet", b"\r\n\r\n", Partial),
            case(
                "headers not ended",
                b"GET / HTTP/1.1\r\nHost: h\r\n",
                Partial,
            ),
            case(
                "final CR without LF yet",
                b"GET / HTTP/1.1\r\nHost: h\r\n\r",
                Partial,
            ),
            // --- limits
            case(
                "64 header fields are fine",
                &with_headers(MAX_HEADERS - 1),
                Whole(|r| assert!(r.keep_alive)),
            ),
            case(
                "65 header fields",
                &with_headers(MAX_HEADERS),
                Reject(Status::HEADER_FIELDS_TOO_LARGE),
            ),
            case(
                "a request line longer than the limit, not ended",
                &get(&long_target),
                Reject(Status::URI_TOO_LONG),
            ),
            case(
                "a request line longer than the limit, ended",
                &get(&format!("{long_target} HTTP/1.1\r\nHost: h\r\n\r\n")),
                Reject(Status::URI_TOO_LONG),
            ),
            case(
                "leading empty lines count towards the limit",
                &[b"\r\n".repeat(LIMIT / 2).as_slice(), b"G"].concat(),
                Reject(Status::URI_TOO_LONG),
            ),
            case(
                "header fields longer than the limit, not ended",
                &get(&format!("/ HTTP/1.1\r\nHost: h\r\nX-Big: {big_header}")),
                Reject(Status::HEADER_FIELDS_TOO_LARGE),
            ),
            case(
                "a complete head longer than the limit",
                &get(&format!("/ HTTP/1.1\r\nHost: h\r\nX-Big: {big_header}\r\n\r\n")),
                Reject(Status::HEADER_FIELDS_TOO_LARGE),
            ),
            case(
                "an unfinished head of exactly the limit is still partial",
                &get(&"/".repeat(LIMIT - 4)),
                Partial,
            ),
            case(
                "a head of exactly the limit is complete",
                &get(&format!(
                    "/ HTTP/1.1\r\nHost: h\r\nX: {}\r\n\r\n",
                    "a".repeat(LIMIT - 34)
                )),
                Whole(|r| assert_eq!(r.path, "/")),
            ),
            case(
                "a short head followed by more than the limit",
                &[
                    b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 9000\r\n\r\n".as_slice(),
                    &[b'x'; 9000],
                ]
                .concat(),
                Rest(&[b'x'; 9000], |r| assert!(!r.keep_alive)),
            ),
        ]
    }

    #[test]
    fn request_table() {
        let cases = cases();
        assert!(cases.len() >= 40);
        for Case {
            name,
            input,
            expect,
        } in &cases
        {
            let got = parse_request(input, &limits());
            match (expect, got) {
                (Partial, Parse::Partial) => {}
                (Reject(want), Parse::Reject(status)) => {
                    assert_eq!(status, *want, "{name}")
                }
                (Whole(check), Parse::Complete { request, head_len }) => {
                    assert_eq!(head_len, input.len(), "{name}: head_len");
                    check(&request);
                }
                (Rest(rest, check), Parse::Complete { request, head_len }) => {
                    assert_eq!(&input[head_len..], *rest, "{name}: head_len");
                    check(&request);
                }
                (_, got) => panic!("{name}: unexpected {got:?}"),
            }
        }
    }

    fn valid_requests() -> Vec<&'static [u8]> {
        vec![
            b"GET /metrics HTTP/1.1\r\nHost: localhost:9100\r\nAccept: */*\r\n\r\n",
            b"\r\n\nHEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            b"GET /x?y HTTP/1.1\nHost: h\nUser-Agent: curl/8\n\n",
            b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET http://h:1/p HTTP/1.1\r\nHost: h:1\r\nConnection: close\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, upgrade\r\nX-Empty:\r\n\r\n",
        ]
    }

    #[test]
    fn every_prefix_of_a_valid_request_is_partial() {
        for req in valid_requests() {
            assert!(
                matches!(parse_request(req, &limits()), Parse::Complete { head_len, .. } if head_len == req.len()),
                "{:?}",
                String::from_utf8_lossy(req)
            );
            for end in 0..req.len() {
                assert_eq!(
                    parse_request(&req[..end], &limits()),
                    Parse::Partial,
                    "prefix {end} of {:?}",
                    String::from_utf8_lossy(req)
                );
            }
        }
    }

    #[test]
    fn pipelined_requests_are_parsed_one_after_the_other() {
        let buf = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nHEAD /b HTTP/1.1\r\nHost: h\r\n\r\nGET /c";
        let Parse::Complete { request, head_len } = parse_request(buf, &limits()) else {
            panic!("first request not complete");
        };
        assert_eq!(request.path, "/a");
        assert_eq!(head_len, 28);
        assert!(buf[head_len..].starts_with(b"HEAD /b"));

        let rest = &buf[head_len..];
        let Parse::Complete { request, head_len } = parse_request(rest, &limits()) else {
            panic!("second request not complete");
        };
        assert_eq!(request.method, Method::Head);
        assert_eq!(request.path, "/b");
        assert_eq!(&rest[head_len..], b"GET /c");
        assert_eq!(parse_request(&rest[head_len..], &limits()), Parse::Partial);
    }

    /// A tiny deterministic xorshift64, to split streams without the rand crate.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
    }

    /// What the event loop would do with a stream: parse, drop each complete head, stop at a
    /// reject. `chunks` gives the sizes of successive reads (`None`: everything at once).
    fn drive(stream: &[u8], limits: &RequestLimits, chunks: Option<&mut XorShift>) -> Vec<String> {
        let mut log = Vec::new();
        let mut buf = Vec::new();
        let mut fed = 0;
        let mut rng = chunks;
        while fed < stream.len() {
            let n = match rng.as_mut() {
                Some(rng) => 1 + (rng.next() % 40) as usize,
                None => stream.len(),
            };
            let end = (fed + n).min(stream.len());
            buf.extend_from_slice(&stream[fed..end]);
            fed = end;
            loop {
                match parse_request(&buf, limits) {
                    Parse::Partial => break,
                    Parse::Complete { request, head_len } => {
                        log.push(format!("{request:?} {head_len}"));
                        buf.drain(..head_len);
                    }
                    Parse::Reject(status) => {
                        log.push(format!("reject {status}"));
                        return log;
                    }
                }
            }
        }
        log.push(format!("partial with {} bytes left", buf.len()));
        log
    }

    #[test]
    fn split_reads_agree_with_a_one_shot_parse() {
        let mut valid = Vec::new();
        for (i, req) in valid_requests().iter().cycle().take(30).enumerate() {
            valid.extend_from_slice(req);
            if i % 4 == 0 {
                valid.extend_from_slice(b"\r\n"); // an empty line between requests
            }
        }
        let with_tail = |tail: &[u8]| [valid.as_slice(), tail].concat();
        let small = RequestLimits {
            max_request_head_bytes: 100,
        };
        let streams = [
            (with_tail(b""), limits(), "partial with 0 bytes left"),
            (
                with_tail(b"GET /half HTTP/1.1\r\nHo"),
                limits(),
                "partial with 22 bytes left",
            ),
            (
                with_tail(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
                limits(),
                "reject 400 Bad Request",
            ),
            (
                with_tail(b"GET / HTTP/2.0\r\n\r\n"),
                limits(),
                "reject 505 HTTP Version Not Supported",
            ),
            (
                with_tail(&with_headers(MAX_HEADERS)),
                limits(),
                "reject 431 Request Header Fields Too Large",
            ),
            (
                with_tail(&get(&"/".repeat(200))),
                small,
                "reject 414 URI Too Long",
            ),
            (
                with_tail(&get(&format!(
                    "/ HTTP/1.1\r\nHost: h\r\nX: {}",
                    "a".repeat(200)
                ))),
                small,
                "reject 431 Request Header Fields Too Large",
            ),
        ];
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for (stream, limits, last) in &streams {
            let one_shot = drive(stream, limits, None);
            assert_eq!(one_shot.len(), 31, "{one_shot:#?}");
            assert_eq!(one_shot.last().map(String::as_str), Some(*last));
            for _ in 0..50 {
                assert_eq!(drive(stream, limits, Some(&mut rng)), one_shot);
            }
        }
    }

    /// The property the event loop relies on, over mutated requests: once a prefix gets a
    /// decision (Complete or Reject), every longer buffer gets the same one; Complete never
    /// claims more bytes than it was given.
    #[test]
    fn decisions_on_a_prefix_stand_when_more_bytes_arrive() {
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        let alphabet = b"\r\n :,/?#*\t\0\xffHTP1.0GETHostContent-Length";
        let small = RequestLimits {
            max_request_head_bytes: 48,
        };
        for round in 0..3000 {
            let base = valid_requests()[round % valid_requests().len()];
            let mut input = base.to_vec();
            for _ in 0..1 + rng.next() % 3 {
                let at = (rng.next() as usize) % (input.len() + 1);
                let byte = alphabet[(rng.next() as usize) % alphabet.len()];
                match rng.next() % 3 {
                    0 if at < input.len() => input[at] = byte,
                    1 if at < input.len() => {
                        input.remove(at);
                    }
                    _ => input.insert(at, byte),
                }
            }
            input.extend_from_slice(b"GET / HTTP/1.1\r\n");
            for limits in [limits(), small] {
                let full = parse_request(&input, &limits);
                if let Parse::Complete { head_len, .. } = full {
                    assert!(head_len <= input.len().min(limits.max_request_head_bytes));
                }
                let mut decided = None;
                for end in 0..=input.len() {
                    let got = parse_request(&input[..end], &limits);
                    match (decided, got) {
                        (None, Parse::Partial) => {}
                        (None, decision) => decided = Some(decision),
                        (Some(first), now) => {
                            assert_eq!(now, first, "{:?} at {end}", String::from_utf8_lossy(&input))
                        }
                    }
                }
                assert_eq!(decided.unwrap_or(Parse::Partial), full);
            }
        }
    }

    #[test]
    fn paths_compare_decoded() {
        let cases: &[(&str, &str, bool)] = &[
            ("/metrics", "/metrics", true),
            ("/", "/", true),
            ("/%6detrics", "/metrics", true),
            ("/%6Detrics", "/metrics", true),
            ("%2Fmetrics", "/metrics", true),
            ("/m%65t%72ic%73", "/metrics", true),
            ("/m%27x", "/m'x", true),
            ("/metrics", "/metric", false),
            ("/metric", "/metrics", false),
            ("/metrics/", "/metrics", false),
            ("/%2fmetrics", "/metrics", false),
            ("/%6", "/m", false),
            ("/%", "/%", false),
            ("/%zz", "/%zz", false),
            ("/%6g", "/m", false),
            ("/%25", "/%", true),
            ("", "", true),
            ("/", "", false),
        ];
        for &(path, route, expected) in cases {
            assert_eq!(path_is(path, route), expected, "{path:?} vs {route:?}");
        }
    }
}
