//! Content negotiation: which exposition format, which name escaping and which content coding
//! a scraper asked for.
//!
//! This module owns reading `Accept` and `Accept-Encoding` (RFC 9110 §12.5) without allocating.
//! For `Accept` the reference is the official Python client's
//! `prometheus_client.exposition.choose_encoder` (0.26): for a header without weights we answer
//! as it does, element for element, Content-Type string for Content-Type string (a test runs it
//! against the real thing). Where it departs from RFC 9110 we follow the RFC, each departure
//! named where it is handled:
//!
//! - weights count: the client's most preferred acceptable candidate wins, and `q=0` means
//!   "not acceptable" (§12.4.2); only among equally weighted candidates do we choose as the
//!   reference does (the first OpenMetrics or text 1.0.0 element, else text 0.0.4);
//! - media types and parameter names are case-insensitive (§8.3.1, §5.6.6), quoted parameter
//!   values equal their unquoted form and commas inside quotes do not split (§5.6.4);
//! - the `Content-Type` says `version=1.0.0` for OpenMetrics, since that is what we write,
//!   where the reference echoes whatever version ≥ 1.0.0 was asked for.
//!
//! A missing, unparsable or unsatisfiable header gets text 0.0.4, as both reference clients do,
//! never a 406: a scrape that fails for a header is worse than one in the older format.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::{Escaping, Format};
use crate::wire::ascii::trim_ows;

/// Splits `s` at top-level commas (not inside quoted strings).
fn split_commas(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    split_unquoted(s, b',')
}

/// Splits `s` at each `separator` outside quoted strings.
fn split_unquoted(s: &[u8], separator: u8) -> impl Iterator<Item = &[u8]> {
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
                _ if b == separator && !quoted => {
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

/// What a scrape is answered with: the body's format, how names are escaped in it, and the
/// `Content-Type` that says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Negotiated {
    media: Media,
    escaping: Escaping,
}

/// The media type and version of a response, as its `Content-Type` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Media {
    /// `text/plain; version=0.0.4`: no `escaping` parameter (names escaped with underscores).
    Text004,
    /// `text/plain; version=1.0.0`, with the `escaping` parameter.
    Text100,
    /// OpenMetrics asked for without a version: the reference answers without `escaping`.
    OpenMetricsUnversioned,
    /// OpenMetrics asked for with a version ≥ 1.0.0, with the `escaping` parameter.
    OpenMetrics,
}

impl Negotiated {
    /// Text 0.0.4: the answer to a missing or unsatisfiable `Accept`.
    pub const TEXT: Negotiated = Negotiated {
        media: Media::Text004,
        escaping: Escaping::Underscores,
    };

    /// The grammar of the body.
    pub fn format(self) -> Format {
        match self.media {
            Media::Text004 | Media::Text100 => Format::Text,
            Media::OpenMetricsUnversioned | Media::OpenMetrics => Format::OpenMetrics,
        }
    }

    /// How names are escaped in the body.
    pub fn escaping(self) -> Escaping {
        self.escaping
    }

    /// The `Content-Type` header value, spelled as the reference spells it.
    pub fn content_type(self) -> &'static str {
        macro_rules! with_escaping {
            ($prefix:literal) => {
                match self.escaping {
                    Escaping::AllowUtf8 => concat!($prefix, "; escaping=allow-utf-8"),
                    Escaping::Underscores => concat!($prefix, "; escaping=underscores"),
                    Escaping::Dots => concat!($prefix, "; escaping=dots"),
                    Escaping::Values => concat!($prefix, "; escaping=values"),
                }
            };
        }
        match self.media {
            Media::Text004 => super::TEXT_CONTENT_TYPE,
            Media::OpenMetricsUnversioned => super::OPENMETRICS_CONTENT_TYPE,
            Media::Text100 => with_escaping!("text/plain; version=1.0.0; charset=utf-8"),
            Media::OpenMetrics => {
                with_escaping!("application/openmetrics-text; version=1.0.0; charset=utf-8")
            }
        }
    }
}

/// `true` if `version` is at least 1.0.0, compared as the reference does: dot-separated
/// numbers, a shorter prefix before a longer one (`1.0` is less than `1.0.0`). A part that is
/// not decimal digits makes it no version we know (the reference raises `TypeError` there and
/// answers 500).
fn at_least_1_0_0(version: &[u8]) -> bool {
    let mut parts = version.split(|&b| b == b'.');
    for wanted in [1u64, 0, 0] {
        let Some(part) = parts.next() else {
            return false;
        };
        if part.is_empty() || part.len() > 18 || !part.iter().all(u8::is_ascii_digit) {
            return false;
        }
        let n = part.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        if n != wanted {
            // Later parts do not matter, but must still be numbers.
            let rest_numeric = parts.all(|p| !p.is_empty() && p.iter().all(u8::is_ascii_digit));
            return n > wanted && rest_numeric;
        }
    }
    parts.all(|p| !p.is_empty() && p.iter().all(u8::is_ascii_digit))
}

/// The `escaping` parameter's scheme; a missing or unknown one is `underscores`, as in the
/// reference.
fn parse_escaping(value: Option<&[u8]>) -> Escaping {
    match value {
        Some(b"allow-utf-8") => Escaping::AllowUtf8,
        Some(b"dots") => Escaping::Dots,
        Some(b"values") => Escaping::Values,
        _ => Escaping::Underscores,
    }
}

/// One element of an `Accept` header, read: its range, the parameters we look at, its weight.
struct Element<'a> {
    kind: &'a [u8],
    subtype: &'a [u8],
    /// The first `version` parameter's value (unquoted), if any.
    version: Option<&'a [u8]>,
    /// The first `escaping` parameter's value (unquoted), if any.
    escaping: Option<&'a [u8]>,
    /// In thousandths; a missing or malformed `q` is 1 (the reference reads no weights at all,
    /// so an element is never dropped for one).
    q: u16,
}

/// Reads one comma-separated element. Parameters are `name=value` pairs separated by `;`; one
/// without `=` is skipped (as the reference does), names are case-insensitive (RFC 9110
/// §5.6.6, where the reference compares them exactly) and a quoted value is its content.
fn parse_element(element: &[u8]) -> Element<'_> {
    let mut tokens = split_unquoted(element, b';');
    let range = trim_ows(tokens.next().unwrap_or_default());
    let (kind, subtype) = match range.iter().position(|&b| b == b'/') {
        Some(slash) => (
            range.get(..slash).unwrap_or_default(),
            range.get(slash + 1..).unwrap_or_default(),
        ),
        None => (range, &[][..]),
    };
    let mut parsed = Element {
        kind,
        subtype,
        version: None,
        escaping: None,
        q: 1000,
    };
    let mut q_seen = false;
    for token in tokens.map(trim_ows) {
        let Some(eq) = token.iter().position(|&b| b == b'=') else {
            continue;
        };
        // No white space around `=` (the grammar has none): `version = 1` names no version,
        // for us as for the reference.
        let name = token.get(..eq).unwrap_or_default();
        let mut value = token.get(eq + 1..).unwrap_or_default();
        if let Some(unquoted) = value
            .strip_prefix(b"\"")
            .and_then(|v| v.strip_suffix(b"\""))
        {
            value = unquoted;
        }
        if name.eq_ignore_ascii_case(b"version") {
            parsed.version = parsed.version.or(Some(value));
        } else if name.eq_ignore_ascii_case(b"escaping") {
            parsed.escaping = parsed.escaping.or(Some(value));
        } else if name.eq_ignore_ascii_case(b"q") && !q_seen {
            q_seen = true;
            parsed.q = parse_q(value).unwrap_or(1000);
        }
    }
    parsed
}

/// The choice to answer with, given the request's `Accept` header; OpenMetrics is a candidate
/// only when `openmetrics` is allowed.
///
/// Each element offers a candidate: `application/openmetrics-text` without a version (OpenMetrics,
/// names escaped with underscores), or with a version ≥ 1.0.0 (OpenMetrics with the `escaping`
/// asked for); `text/plain` with a version ≥ 1.0.0 (text 1.0.0 with the `escaping` asked for).
/// Text 0.0.4 is one candidate, weighted by the most specific of `text/plain` (without such a
/// version), `text/*` and `*/*` (the first on ties). The heaviest candidate wins; on equal
/// weights an OpenMetrics or text 1.0.0 element beats text 0.0.4, and the earlier element
/// beats the later, which is the reference's order. No candidate above `q=0`: text 0.0.4.
///
/// ```
/// use prometheus_aioexporter::internals::negotiate_format;
/// use prometheus_aioexporter::Format;
///
/// let prometheus_2 = b"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// let chosen = negotiate_format(Some(prometheus_2), true);
/// assert_eq!(chosen.format(), Format::OpenMetrics);
/// assert_eq!(
///     chosen.content_type(),
///     "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores"
/// );
/// assert_eq!(negotiate_format(Some(prometheus_2), false).format(), Format::Text);
/// assert_eq!(negotiate_format(None, true).format(), Format::Text);
/// assert_eq!(negotiate_format(Some(b"*/*"), true).format(), Format::Text);
/// ```
pub fn negotiate_format(accept: Option<&[u8]>, openmetrics: bool) -> Negotiated {
    let Some(accept) = accept else {
        return Negotiated::TEXT;
    };
    // The best OpenMetrics or text 1.0.0 candidate: (weight, choice), the first on ties.
    let mut best: Option<(u16, Negotiated)> = None;
    // Text 0.0.4: (specificity, weight) of the most specific range naming it, the first on ties.
    let mut text: Option<(u8, u16)> = None;
    for element in split_commas(accept).map(trim_ows) {
        let e = parse_element(element);
        let is = |a: &[u8], b: &str| a.eq_ignore_ascii_case(b.as_bytes());
        let candidate = if is(e.kind, "application") && is(e.subtype, "openmetrics-text") {
            match e.version {
                // `version=` counts as none, as in the reference.
                None | Some(b"") => Some(Negotiated {
                    media: Media::OpenMetricsUnversioned,
                    escaping: Escaping::Underscores,
                }),
                // 0.0.1 and other versions below 1.0.0 are not served, as in the reference.
                Some(v) if at_least_1_0_0(v) => Some(Negotiated {
                    media: Media::OpenMetrics,
                    escaping: parse_escaping(e.escaping),
                }),
                Some(_) => None,
            }
            .filter(|_| openmetrics)
        } else if is(e.kind, "text") && is(e.subtype, "plain") {
            match e.version {
                Some(v) if at_least_1_0_0(v) => Some(Negotiated {
                    media: Media::Text100,
                    escaping: parse_escaping(e.escaping),
                }),
                _ => {
                    text = text_range(text, 2, e.q);
                    None
                }
            }
        } else if is(e.kind, "text") && is(e.subtype, "*") {
            text = text_range(text, 1, e.q);
            None
        } else if is(e.kind, "*") && is(e.subtype, "*") {
            text = text_range(text, 0, e.q);
            None
        } else {
            None
        };
        if let Some(candidate) = candidate {
            if e.q > 0 && best.map_or(true, |(q, _)| e.q > q) {
                best = Some((e.q, candidate));
            }
        }
    }
    let text_q = text.map_or(0, |(_, q)| q);
    match best {
        Some((q, chosen)) if q >= text_q => chosen,
        _ => Negotiated::TEXT,
    }
}

/// Keeps the most specific range naming text 0.0.4 (the first on ties).
fn text_range(current: Option<(u8, u16)>, specificity: u8, q: u16) -> Option<(u8, u16)> {
    match current {
        Some(c) if c.0 >= specificity => Some(c),
        _ => Some((specificity, q)),
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

    const T004: &str = "text/plain; version=0.0.4; charset=utf-8";
    const T100_U: &str = "text/plain; version=1.0.0; charset=utf-8; escaping=underscores";
    const T100_UTF8: &str = "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8";
    const OM: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    const OM_U: &str =
        "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores";
    const OM_UTF8: &str =
        "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8";
    const OM_DOTS: &str =
        "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=dots";

    #[test]
    fn accept_headers_choose_the_preferred_format() {
        // The differential test in tests/negotiation.rs checks these against the reference;
        // this table keeps the cases that explain the rules.
        let cases: &[(&str, &str, &str)] = &[
            ("", T004, "empty header"),
            ("*/*", T004, "anything: the default"),
            ("text/plain", T004, "plain text"),
            ("application/openmetrics-text", OM, "openmetrics, no version"),
            ("application/openmetrics-text;version=", OM, "an empty version is none"),
            (
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
                OM_U,
                "Prometheus 2.x",
            ),
            (
                "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
                OM_UTF8,
                "Prometheus 3.x",
            ),
            (
                "text/plain;version=1.0.0;escaping=allow-utf-8",
                T100_UTF8,
                "Prometheus 3 text",
            ),
            ("text/plain;version=1.0.0", T100_U, "text 1.0.0 names its escaping"),
            ("text/plain;version=1.0.0;escaping=bogus", T100_U, "unknown scheme"),
            (
                "application/openmetrics-text;version=1.0.0;escaping=dots",
                OM_DOTS,
                "dots",
            ),
            (
                "application/openmetrics-text;version=2.0.0",
                OM_U,
                "a later version gets the 1.0.0 we write, and says so",
            ),
            (
                "application/openmetrics-text;version=0.0.1,text/plain",
                T004,
                "0.0.1 is not served",
            ),
            (
                "text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5",
                T004,
                "text weighted higher",
            ),
            ("application/openmetrics-text;q=0", T004, "openmetrics refused"),
            ("application/openmetrics-text;q=2", OM, "malformed q: weight 1"),
            ("application/openmetrics-text;version", OM, "no '=': skipped"),
            (
                "application/openmetrics-text;version = 1.0.0",
                OM,
                "white space around '=': another parameter",
            ),
            (
                "APPLICATION/OpenMetrics-Text ; Version=1.0.0 ; Q=0.9 , text/plain;q=0.8",
                OM_U,
                "case and spaces",
            ),
            (
                "text/plain, application/openmetrics-text",
                OM,
                "equal weights: openmetrics beats text 0.0.4",
            ),
            (
                "application/*;q=0.9,text/plain;q=0.5",
                T004,
                "a type wildcard does not name openmetrics",
            ),
            (
                "*/*;q=0.9,application/openmetrics-text;q=0.5,text/plain;q=0.1",
                OM,
                "the explicit text/plain weighs for text 0.0.4, not */*",
            ),
            (
                "*/*;q=0.9,application/openmetrics-text;q=0.1",
                T004,
                "*/* weighs for text 0.0.4",
            ),
            (
                "*/*,text/plain;q=0,application/openmetrics-text;q=0.1",
                OM,
                "text refused",
            ),
            ("application/json", T004, "nothing we serve: text anyway"),
            ("\u{0}\u{ff},,;;/", T004, "garbage"),
            (
                "application/openmetrics-text;foo=\"a,b\";q=0.9,text/plain;q=0.1",
                OM,
                "a comma inside a quoted parameter",
            ),
            (
                "application/openmetrics-text;version=\"1.0.0\";escaping=\"allow-utf-8\"",
                OM_UTF8,
                "quoted values",
            ),
        ];
        for &(header, want, why) in cases {
            let got = negotiate_format(Some(header.as_bytes()), true);
            assert_eq!(got.content_type(), want, "{why}: {header}");
            let without = negotiate_format(Some(header.as_bytes()), false);
            assert_eq!(without.format(), Format::Text, "{why}");
        }
    }

    #[test]
    fn versions_compare_as_the_reference_does() {
        let cases: &[(&str, bool)] = &[
            ("1.0.0", true),
            ("1.0.0.0", true),
            ("1.0.1", true),
            ("1.1", true),
            ("2", true),
            ("01.0.0", true),
            ("1.0", false),
            ("1", false),
            ("0.0.4", false),
            ("0.9.9.9", false),
            ("", false),
            ("1.0.x", false),
            ("abc", false),
            ("1..0", false),
        ];
        for &(v, want) in cases {
            assert_eq!(at_least_1_0_0(v.as_bytes()), want, "{v}");
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
