//! Any bytes, read and written in any chunk sizes, through the connection state machine the
//! server uses: no panic, bounded input, every response well-formed HTTP/1.1, each request
//! answered exactly once, in order, and the same answers however the bytes were split.
//! The first two bytes seed the read and write chunk sizes; the rest is what the client sends.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use prometheus_aioexporter::internals::{
    self as http, parse_request, Parse, Request, RequestLimits,
};
use prometheus_aioexporter::internals::{Action, Context, Response, Service, Session, Status};

const LIMIT: usize = 512;

/// `Server` and a fixed `Date`, so runs are reproducible.
const FUZZ: http::CommonHeaders<'static> = http::CommonHeaders {
    server: "fuzz",
    date: "Thu, 01 Jan 1970 00:00:00 GMT",
};

/// Answers with the path as the body, 404 for `/missing`, and a large shared body for `/big`.
struct Echo;

impl Service for Echo {
    fn respond(&mut self, request: &Request<'_>, _: &Context<'_>, response: &mut Response) {
        if request.path == "/big" {
            let body = vec![b'x'; 5000];
            http::write_response_head(
                &mut response.head,
                &http::ResponseHead {
                    status: Status::OK,
                    content_type: "text/plain",
                    content_length: body.len(),
                    keep_alive: request.keep_alive,
                    minor_version: request.minor_version,
                    common: FUZZ,
                    allow: None,
                    extra: &[],
                },
            );
            response.body = Some(std::sync::Arc::new(body));
            return;
        }
        let status = if request.path == "/missing" {
            Status::NOT_FOUND
        } else {
            Status::OK
        };
        http::write_simple_response(
            &mut response.head,
            status,
            request.path,
            request.keep_alive,
            request.method == http::Method::Head,
            FUZZ,
            None,
        );
    }
}

/// How many responses a connection owes for `stream`: each complete request up to the first
/// that ends the connection, plus one for a rejected head.
fn expected_responses(stream: &[u8], limits: &RequestLimits) -> usize {
    let mut count = 0;
    let mut buf = stream;
    loop {
        match parse_request(buf, limits) {
            Parse::Partial => return count,
            Parse::Reject(_) => return count + 1,
            Parse::Complete { request, head_len } => {
                count += 1;
                if !request.keep_alive {
                    return count;
                }
                buf = &buf[head_len..];
            }
        }
    }
}

/// Drives a session over `input`; returns the bytes written.
fn converse(input: &[u8], mut read_seed: u32, mut write_seed: u32) -> Vec<u8> {
    let limits = RequestLimits {
        max_request_head_bytes: LIMIT,
    };
    let peer = "127.0.0.1:9".parse().unwrap();
    let mut session = Session::new(peer, limits);
    let context = Context {
        peer,
        arrived: Instant::now(),
        common: FUZZ,
        responses_in_flight: 0,
    };
    let next_size = |seed: &mut u32| {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 17;
        *seed ^= *seed << 5;
        *seed as usize % 700 + 1
    };
    let mut rest = input;
    let mut out = Vec::new();
    for _ in 0..(input.len() * 4 + 10_000) {
        match session.next(&mut Echo, &context) {
            Action::Write => {
                let [head, body] = session.pending();
                let pending: Vec<u8> = head.iter().chain(body).copied().collect();
                assert!(!pending.is_empty());
                let n = next_size(&mut write_seed).min(pending.len());
                out.extend_from_slice(&pending[..n]);
                session.wrote(n);
            }
            Action::Read if rest.is_empty() => session.received_eof(),
            Action::Read => {
                let room = session.read_room();
                assert!(room > 0);
                let n = next_size(&mut read_seed).min(rest.len()).min(room);
                session.received(&rest[..n]);
                rest = &rest[n..];
            }
            Action::ShutdownWrite => {}
            Action::Close => return out,
        }
    }
    panic!("the session neither closed nor finished");
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (seeds, input) = data.split_at(2);
    let out = converse(input, u32::from(seeds[0]) | 1, u32::from(seeds[1]) | 1);
    // The same as with everything read and written at once.
    assert_eq!(out, converse(input, 0x7fff_ffff, 0x7fff_ffff));

    // Every response is well-formed, and there is one per request owed.
    let limits = RequestLimits {
        max_request_head_bytes: LIMIT,
    };
    let mut responses = 0;
    let mut rest = &out[..];
    while !rest.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut response = httparse::Response::new(&mut headers);
        let head_len = match response.parse(rest) {
            Ok(httparse::Status::Complete(n)) => n,
            other => panic!("malformed response: {other:?}"),
        };
        assert_eq!(response.version, Some(1));
        let length: usize = response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("content-length"))
            .map(|h| std::str::from_utf8(h.value).unwrap().parse().unwrap())
            .expect("every response has a Content-Length");
        // HEAD responses carry the length of a body they do not send.
        let body = if rest[head_len..].starts_with(b"HTTP/1.1 ") || head_len == rest.len() {
            0
        } else {
            length
        };
        rest = &rest[head_len + body..];
        responses += 1;
    }
    assert_eq!(responses, expected_responses(input, &limits));
});
