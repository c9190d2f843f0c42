//! Content negotiation: which exposition format and which content coding a scraper asked for.
//!
//! This module owns reading `Accept` and `Accept-Encoding` (RFC 9110 §12.5) without allocating:
//! media ranges and codings with their `q` weights, the most specific range deciding for each
//! candidate. Prometheus 2.x asks for
//! `application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1`
//! and 3.x for weighted variants with `escaping=allow-utf-8`; both get OpenMetrics. A missing,
//! unparsable or unsatisfiable header gets the text format, as client_golang does, never a 406:
//! a scrape that fails for a header is worse than one in the older format.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::Format;
use crate::wire::ascii::trim_ows;

/// One element of an `Accept` header that mentions a type we can serve.
#[derive(Debug, Clone, Copy)]
struct Match {
    /// 0 for `*/*`, 1 for `type/*`, 2 for `type/subtype`, 3 with a version parameter.
    specificity: u8,
    /// The weight, in thousandths (RFC 9110 allows three decimals).
    q: u16,
    /// The element's position in the header, to prefer the earlier on equal weights.
    position: usize,
}

/// Keeps the most specific match for a candidate (ties: the first seen).
fn better(current: Option<Match>, new: Match) -> Option<Match> {
    match current {
        Some(c) if c.specificity >= new.specificity => Some(c),
        _ => Some(new),
    }
}

/// Splits `s` at top-level commas (not inside quoted strings).
fn split_commas(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let current = rest?;
        let mut quoted = false;
        let mut escaped = false;
        for (i, &b) in current.iter().enumerate() {
            match b {
                _ if escaped => escaped = false,
                b'\\' if quoted => escaped = true,
                b'"' => quoted = !quoted,
                b',' if !quoted => {
                    rest = current.get(i + 1..);
                    return current.get(..i);
                }
                _ => {}
            }
        }
        rest = None;
        Some(current)
    })
}

/// Parses a qvalue (`0`, `0.5`, `1`, `1.000`) into thousandths; `None` if malformed.
fn parse_q(v: &[u8]) -> Option<u16> {
    let (int, frac) = match v.iter().position(|&b| b == b'.') {
        Some(i) => (v.get(..i)?, v.get(i + 1..)?),
        None => (v, &[][..]),
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for i in 0..3 {
        thousandths = thousandths * 10 + frac.get(i).map_or(0, |d| u16::from(d - b'0'));
    }
    match int {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The parameters of a media range or coding: `(name, value)` pairs, and the `q` weight.
/// `None` when the element is malformed (then it is ignored).
fn parse_params<'a>(params: &'a [u8], mut f: impl FnMut(&'a [u8], &'a [u8])) -> Option<u16> {
    let mut q = 1000;
    for param in params.split(|&b| b == b';').map(trim_ows) {
        if param.is_empty() {
            continue;
        }
        let eq = param.iter().position(|&b| b == b'=')?;
        let name = trim_ows(param.get(..eq)?);
        let mut value = trim_ows(param.get(eq + 1..)?);
        if let Some(unquoted) = value
            .strip_prefix(b"\"")
            .and_then(|v| v.strip_suffix(b"\""))
        {
            value = unquoted;
        }
        if name.eq_ignore_ascii_case(b"q") {
            q = parse_q(value)?;
        } else {
            f(name, value);
        }
    }
    Some(q)
}

/// The format to answer with, given the request's `Accept` header. OpenMetrics only when
/// `openmetrics` is allowed and the client prefers it to the text format.
///
/// ```
/// use prometheus_aioexporter::internals::negotiate_format;
/// use prometheus_aioexporter::Format;
///
/// let prometheus_2 = b"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// assert_eq!(negotiate_format(Some(prometheus_2), true), Format::OpenMetrics);
/// assert_eq!(negotiate_format(Some(prometheus_2), false), Format::Text);
/// assert_eq!(negotiate_format(None, true), Format::Text);
/// assert_eq!(negotiate_format(Some(b"*/*"), true), Format::Text);
/// ```
pub fn negotiate_format(accept: Option<&[u8]>, openmetrics: bool) -> Format {
    let Some(accept) = accept else {
        return Format::Text;
    };
    let mut om: Option<Match> = None;
    let mut text: Option<Match> = None;
    for (position, element) in split_commas(accept).map(trim_ows).enumerate() {
        let (range, params) = match element.iter().position(|&b| b == b';') {
            Some(i) => (
                trim_ows(element.get(..i).unwrap_or_default()),
                element.get(i + 1..).unwrap_or_default(),
            ),
            None => (element, &[][..]),
        };
        let Some(slash) = range.iter().position(|&b| b == b'/') else {
            continue;
        };
        let kind = range.get(..slash).unwrap_or_default();
        let subtype = range.get(slash + 1..).unwrap_or_default();
        let mut version: Option<&[u8]> = None;
        let Some(q) = parse_params(params, |name, value| {
            if name.eq_ignore_ascii_case(b"version") {
                version = Some(value);
            }
        }) else {
            continue;
        };
        let is = |a: &[u8], b: &str| a.eq_ignore_ascii_case(b.as_bytes());
        let specificity = |versioned: bool| if versioned { 3 } else { 2 };
        let found = |specificity| Match {
            specificity,
            q,
            position,
        };
        // Wildcards weigh for the text format only: OpenMetrics is sent to a client that names
        // it, as client_golang does, so `*/*` or `application/*` alone gets text.
        if is(kind, "*") && is(subtype, "*") {
            text = better(text, found(0));
        } else if is(kind, "text") && is(subtype, "*") {
            text = better(text, found(1));
        } else if is(kind, "application") && is(subtype, "openmetrics-text") {
            // Versions 0.0.1 and 1.0.0 are what we write; another version is not served.
            if matches!(version, None | Some(b"1.0.0") | Some(b"0.0.1")) {
                om = better(om, found(specificity(version.is_some())));
            }
        } else if is(kind, "text") && is(subtype, "plain") {
            // 0.0.4, and 1.0.0 (Prometheus 3's UTF-8 text), which 0.0.4 bodies satisfy.
            if matches!(version, None | Some(b"0.0.4") | Some(b"1.0.0")) {
                text = better(text, found(specificity(version.is_some())));
            }
        }
    }
    let weight = |m: Option<Match>| m.map_or((0, usize::MAX), |m| (m.q, m.position));
    let (om_q, om_pos) = weight(om);
    let (text_q, text_pos) = weight(text);
    let prefers_om = om_q > text_q || (om_q == text_q && om_pos < text_pos);
    if openmetrics && om_q > 0 && prefers_om {
        Format::OpenMetrics
    } else {
        Format::Text
    }
}

/// `true` if the request's `Accept-Encoding` allows gzip (`gzip`, `x-gzip` or `*` with a
/// non-zero weight, the most specific deciding).
///
/// ```
/// use prometheus_aioexporter::internals::accepts_gzip;
///
/// assert!(accepts_gzip(Some(b"gzip")));
/// assert!(accepts_gzip(Some(b"br;q=1.0, gzip;q=0.8, *;q=0.1")));
/// assert!(!accepts_gzip(Some(b"gzip;q=0, *")));
/// assert!(!accepts_gzip(None));
/// ```
pub fn accepts_gzip(accept_encoding: Option<&[u8]>) -> bool {
    let Some(header) = accept_encoding else {
        return false;
    };
    let mut gzip: Option<u16> = None;
    let mut any: Option<u16> = None;
    for element in split_commas(header).map(trim_ows) {
        let (coding, params) = match element.iter().position(|&b| b == b';') {
            Some(i) => (
                trim_ows(element.get(..i).unwrap_or_default()),
                element.get(i + 1..).unwrap_or_default(),
            ),
            None => (element, &[][..]),
        };
        let Some(q) = parse_params(params, |_, _| {}) else {
            continue;
        };
        if coding.eq_ignore_ascii_case(b"gzip") || coding.eq_ignore_ascii_case(b"x-gzip") {
            gzip = gzip.or(Some(q));
        } else if coding == b"*" {
            any = any.or(Some(q));
        }
    }
    gzip.or(any).is_some_and(|q| q > 0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use Format::{OpenMetrics, Text};

    #[test]
    fn accept_headers_choose_the_preferred_format() {
        let cases: &[(&str, Format, &str)] = &[
            ("", Text, "empty header"),
            ("*/*", Text, "anything: the default"),
            ("text/plain", Text, "plain text"),
            ("application/openmetrics-text", OpenMetrics, "openmetrics, no version"),
            (
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
                OpenMetrics,
                "Prometheus 2.x",
            ),
            (
                "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
                OpenMetrics,
                "Prometheus 3.x",
            ),
            (
                "text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5",
                Text,
                "text weighted higher",
            ),
            (
                "application/openmetrics-text;version=2.0.0,text/plain;q=0.1",
                Text,
                "an openmetrics version we do not write",
            ),
            ("application/openmetrics-text;q=0", Text, "openmetrics refused"),
            ("application/openmetrics-text;q=2", Text, "malformed q: ignored"),
            ("application/openmetrics-text;q=0.5x", Text, "malformed q: ignored"),
            ("application/openmetrics-text;version", Text, "malformed parameter"),
            (
                "APPLICATION/OpenMetrics-Text ; Version=1.0.0 ; Q=0.9 , text/plain;q=0.8",
                OpenMetrics,
                "case and spaces",
            ),
            (
                "application/openmetrics-text, text/plain",
                OpenMetrics,
                "equal weights: the first listed",
            ),
            (
                "text/plain, application/openmetrics-text",
                Text,
                "equal weights: the first listed",
            ),
            (
                "application/*;q=0.9,text/plain;q=0.5",
                Text,
                "a type wildcard does not name openmetrics",
            ),
            (
                "text/plain;q=0.1,*/*",
                Text,
                "nor does */*, however weighted",
            ),
            (
                "*/*;q=0.9,application/openmetrics-text;q=0.5,text/plain;q=0.1",
                OpenMetrics,
                "named openmetrics against named text",
            ),
            (
                "*/*;q=0.9,application/openmetrics-text;q=0.1",
                Text,
                "the specific range decides for openmetrics",
            ),
            ("application/json", Text, "nothing we serve: text anyway"),
            ("\u{0}\u{ff},,;;/", Text, "garbage"),
            (
                "application/openmetrics-text;foo=\"a,b\";q=0.9,text/plain;q=0.1",
                OpenMetrics,
                "a comma inside a quoted parameter",
            ),
        ];
        for &(header, want, why) in cases {
            assert_eq!(
                negotiate_format(Some(header.as_bytes()), true),
                want,
                "{why}: {header}"
            );
            assert_eq!(
                negotiate_format(Some(header.as_bytes()), false),
                Text,
                "{why}"
            );
        }
    }

    #[test]
    fn accept_encoding_allows_gzip_or_not() {
        let cases: &[(&str, bool)] = &[
            ("gzip", true),
            ("GZIP", true),
            ("x-gzip", true),
            ("deflate, gzip;q=0.5", true),
            ("*", true),
            ("identity", false),
            ("gzip;q=0", false),
            ("gzip;q=0.000", false),
            ("gzip;q=0, *;q=1", false),
            ("*;q=0", false),
            ("gzip;q=bad", false),
            ("", false),
            ("br", false),
        ];
        for &(header, want) in cases {
            assert_eq!(accepts_gzip(Some(header.as_bytes())), want, "{header}");
        }
    }

    #[test]
    fn qvalues_follow_the_grammar() {
        let cases: &[(&str, Option<u16>)] = &[
            ("1", Some(1000)),
            ("1.000", Some(1000)),
            ("1.001", None),
            ("0", Some(0)),
            ("0.5", Some(500)),
            ("0.75", Some(750)),
            ("0.125", Some(125)),
            ("0.1250", None),
            (".5", None),
            ("2", None),
            ("", None),
        ];
        for &(v, want) in cases {
            assert_eq!(parse_q(v.as_bytes()), want, "{v}");
        }
    }
}
