//! Request bytes, delivered in arbitrary chunks, decide the same as when parsed at once, and
//! never panic. The first byte seeds the chunk sizes; the rest is the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prometheus_aioexporter::http::{parse_request, Parse, RequestLimits};

/// Parses a whole stream the way a connection does: a request at a time from the front.
/// Returns each decision as (consumed bytes, outcome) and what was left undecided.
fn decisions(stream: &[u8], limits: &RequestLimits) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut buf: &[u8] = stream;
    loop {
        match parse_request(buf, limits) {
            Parse::Partial => return out,
            Parse::Reject(status) => {
                out.push((0, format!("reject {status}")));
                return out;
            }
            Parse::Complete { request, head_len } => {
                assert!(head_len > 0 && head_len <= buf.len());
                assert!(head_len <= limits.max_request_head_bytes);
                out.push((head_len, format!("{request:?}")));
                if !request.keep_alive {
                    return out;
                }
                buf = &buf[head_len..];
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&seed, stream)) = data.split_first() else { return };
    let limits = RequestLimits { max_request_head_bytes: 512 };
    let whole = decisions(stream, &limits);

    // The same bytes arriving in chunks: buffer, re-parse after each chunk, act on decisions.
    let mut chunked = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut rest = stream;
    let mut x = u32::from(seed) | 1;
    let mut done = false;
    while !rest.is_empty() && !done {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let n = (x as usize % 64 + 1).min(rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        loop {
            match parse_request(&buf, &limits) {
                Parse::Partial => {
                    // The loop reads at most one byte past the limit before deciding.
                    assert!(buf.len() <= limits.max_request_head_bytes);
                    break;
                }
                Parse::Reject(status) => {
                    chunked.push((0, format!("reject {status}")));
                    done = true;
                    break;
                }
                Parse::Complete { request, head_len } => {
                    chunked.push((head_len, format!("{request:?}")));
                    let keep = request.keep_alive;
                    buf.drain(..head_len);
                    if !keep {
                        done = true;
                        break;
                    }
                }
            }
        }
    }
    assert_eq!(whole, chunked);
});
