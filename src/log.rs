//! Logging to stderr: one line per event, with a UTC timestamp and a level, filtered by a global
//! level. Every layer logs through it; it uses only the `wire` layer.
//!
//! This module owns the crate's only logging so an exporter needs no logging dependency and no
//! setup: in a `FROM scratch` container stderr is what `docker logs` and Kubernetes collect, and
//! there is no time zone database, hence UTC computed by hand. A line looks like
//!
//! ```text
//! 2026-11-24T02:08:36.123Z WARNING scrape took 2.1s
//! ```
//!
//! With `--log-format json` ([`set_format`]) each line is one JSON object instead, with the
//! fields `time`, `level` (lowercase), `target` (the module that logged), `message`, and for
//! an access line `address`, `method`, `path`, `version`, `status`, `bytes`, `user_agent` and
//! `duration_seconds`:
//!
//! ```text
//! {"time":"2026-11-24T02:08:36.123Z","level":"warning","target":"my_exporter","message":"scrape took 2.1s"}
//! ```
//!
//! With the `log` cargo feature, events go to the [`log`](https://docs.rs/log) crate's logger
//! instead of stderr (see [`log()`]).
//!
//! Each line is assembled in memory and written with a single `write_all`, so lines from
//! different threads do not interleave, and newlines inside a message are escaped so one event is
//! always one line. A disabled level costs one atomic load and formats nothing.
//!
//! An exporter logs through the same macros, so its lines look like the crate's and `-L`
//! (or [`set_level`]) filters them too, as Python's scripts log through the library's logger:
//!
//! ```
//! use prometheus_aioexporter::log::{log_info, log_warning};
//!
//! let (rows, table) = (42, "jobs");
//! log_info!("read {rows} rows from {table}");
//! if rows == 0 {
//!     log_warning!("{table} is empty");
//! }
//! ```

use std::error::Error;
use std::fmt::{self, Write as _};
#[cfg(not(feature = "log"))]
use std::io::{self, Write as _};
#[cfg(feature = "server")]
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::wire::date::civil_from_days;
use crate::wire::decimal::Decimal;

/// How severe a log event is. Ordered from most severe (`Critical`) to least (`Debug`).
///
/// An event is shown when its level is `<=` the configured level ([`set_level`]), so the
/// default, `Warning`, shows critical, error and warning events.
///
/// ```
/// use prometheus_aioexporter::log::{self, Level};
///
/// log::set_level(Level::Info);
/// assert!(Level::Warning <= log::level()); // more severe: shown
/// assert!(Level::Debug > log::level()); // more verbose: filtered out
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// The exporter cannot continue.
    Critical,
    /// Something failed, e.g. a scrape or a connection.
    Error,
    /// Something unexpected that the exporter worked around.
    Warning,
    /// Normal but notable events, e.g. the listening address.
    Info,
    /// Detail for debugging, e.g. each request.
    Debug,
}

impl Level {
    /// The lowercase names accepted by [`Level::from_str`], most severe first; for command-line
    /// help and error messages.
    ///
    /// ```
    /// use prometheus_aioexporter::log::Level;
    ///
    /// // What `-L` accepts, for a help text.
    /// assert_eq!(Level::NAMES.join(", "), "critical, error, warning, info, debug");
    /// ```
    pub const NAMES: [&'static str; 5] = ["critical", "error", "warning", "info", "debug"];

    const ALL: [Level; 5] = [
        Level::Critical,
        Level::Error,
        Level::Warning,
        Level::Info,
        Level::Debug,
    ];

    /// The level as written in log lines: `"CRITICAL"`, `"ERROR"`, `"WARNING"`, `"INFO"` or
    /// `"DEBUG"`.
    ///
    /// ```
    /// use prometheus_aioexporter::log::Level;
    ///
    /// assert_eq!(Level::Warning.as_str(), "WARNING");
    /// assert_eq!("warning".parse::<Level>(), Ok(Level::Warning)); // any case
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Critical => "CRITICAL",
            Level::Error => "ERROR",
            Level::Warning => "WARNING",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
        }
    }

    fn from_u8(value: u8) -> Level {
        Level::ALL
            .get(usize::from(value))
            .copied()
            .unwrap_or(Level::Debug)
    }
}

impl fmt::Display for Level {
    /// Writes [`Level::as_str`], honouring width and alignment (`{:<8}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Level {
    type Err = ParseLevelError;

    /// Parses one of [`Level::NAMES`], ignoring ASCII case (`"WARNING"` and `"warning"` both
    /// work; abbreviations such as `"warn"` do not).
    fn from_str(s: &str) -> Result<Level, ParseLevelError> {
        Level::NAMES
            .iter()
            .position(|name| name.eq_ignore_ascii_case(s))
            .map(|index| Level::ALL[index])
            .ok_or_else(|| ParseLevelError {
                input: s.to_owned(),
            })
    }
}

/// A string that is not one of [`Level::NAMES`].
///
/// Displays as "invalid log level 'loud': expected one of critical, error, warning, info, debug".
///
/// ```
/// use prometheus_aioexporter::log::Level;
///
/// let err = "loud".parse::<Level>().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid log level 'loud': expected one of critical, error, warning, info, debug"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseLevelError {
    input: String,
}

impl ParseLevelError {
    /// The rejected input.
    ///
    /// ```
    /// use prometheus_aioexporter::log::Level;
    ///
    /// let err = "verbose".parse::<Level>().unwrap_err();
    /// assert_eq!(err.input(), "verbose");
    /// ```
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for ParseLevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid log level '{}': expected one of {}",
            self.input,
            Level::NAMES.join(", ")
        )
    }
}

impl Error for ParseLevelError {}

/// The configured level as `Level as u8`; `Warning` until [`set_level`] is called.
static LEVEL: AtomicU8 = AtomicU8::new(Level::Warning as u8);

/// Sets the most verbose level that is written, for the whole process.
///
/// ```
/// use prometheus_aioexporter::log::{self, log_debug, Level};
///
/// log::set_level(Level::Debug); // as `-L debug` does
/// log_debug!("connecting to {}", "db:5432"); // now written
/// assert_eq!(log::level(), Level::Debug);
/// ```
pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// The most verbose level that is written; `Level::Warning` unless [`set_level`] changed it.
///
/// ```
/// use prometheus_aioexporter::log::{self, Level};
///
/// assert_eq!(log::level(), Level::Warning); // until `set_level`
/// ```
pub fn level() -> Level {
    Level::from_u8(LEVEL.load(Ordering::Relaxed))
}

/// Returns `true` if events of `level` are written, i.e. `level <= level()` (and, with the
/// `log` feature, the `log` crate's maximum level lets them through).
///
/// ```
/// use prometheus_aioexporter::log::{self, log_debug, Level};
///
/// let rows = vec![1, 2, 3];
/// if log::enabled(Level::Debug) {
///     // Only build what the line needs when it will be written.
///     let summary: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
///     log_debug!("rows: {}", summary.join(","));
/// }
/// ```
pub fn enabled(level: Level) -> bool {
    let ours = level as u8 <= LEVEL.load(Ordering::Relaxed);
    #[cfg(feature = "log")]
    let ours = ours && facade_level(level) <= ::log::max_level();
    ours
}

/// How log lines are written: plain text or one JSON object per line.
///
/// ```
/// use prometheus_aioexporter::log::{self, log_warning, LogFormat};
///
/// log::set_format("json".parse::<LogFormat>()?); // as `--log-format json` does
/// log_warning!("disk almost full"); // {"time":"…","level":"warning",…,"message":"disk almost full"}
/// assert_eq!(log::format(), LogFormat::Json);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `<timestamp> <LEVEL> <message>`, as the module documentation shows.
    Plain,
    /// One JSON object per line, with the fields the module documentation lists.
    Json,
}

impl LogFormat {
    /// The names accepted by [`LogFormat::from_str`]: `plain`, `json`.
    ///
    /// ```
    /// use prometheus_aioexporter::log::LogFormat;
    ///
    /// for name in LogFormat::NAMES {
    ///     assert_eq!(name.parse::<LogFormat>().map(LogFormat::as_str), Ok(name));
    /// }
    /// ```
    pub const NAMES: [&'static str; 2] = ["plain", "json"];

    /// The name: `"plain"` or `"json"`.
    ///
    /// ```
    /// use prometheus_aioexporter::log::LogFormat;
    ///
    /// assert_eq!(LogFormat::Json.as_str(), "json");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Plain => "plain",
            LogFormat::Json => "json",
        }
    }
}

impl FromStr for LogFormat {
    type Err = ParseLogFormatError;

    /// Parses one of [`LogFormat::NAMES`], ignoring ASCII case.
    fn from_str(s: &str) -> Result<LogFormat, ParseLogFormatError> {
        if s.eq_ignore_ascii_case("plain") {
            Ok(LogFormat::Plain)
        } else if s.eq_ignore_ascii_case("json") {
            Ok(LogFormat::Json)
        } else {
            Err(ParseLogFormatError {
                input: s.to_owned(),
            })
        }
    }
}

/// A string that is not one of [`LogFormat::NAMES`].
///
/// Displays as "invalid log format 'xml': expected one of plain, json".
///
/// ```
/// use prometheus_aioexporter::log::LogFormat;
///
/// let err = "xml".parse::<LogFormat>().unwrap_err();
/// assert_eq!(err.to_string(), "invalid log format 'xml': expected one of plain, json");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseLogFormatError {
    input: String,
}

impl fmt::Display for ParseLogFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid log format '{}': expected one of {}",
            self.input,
            LogFormat::NAMES.join(", ")
        )
    }
}

impl Error for ParseLogFormatError {}

/// `true` while lines are written as JSON.
static JSON: AtomicBool = AtomicBool::new(false);

/// Sets how lines are written, for the whole process; [`LogFormat::Plain`] until called.
///
/// ```
/// use prometheus_aioexporter::log::{self, LogFormat};
///
/// log::set_format(LogFormat::Json);
/// assert_eq!(log::format(), LogFormat::Json);
/// ```
pub fn set_format(format: LogFormat) {
    JSON.store(format == LogFormat::Json, Ordering::Relaxed);
}

/// How lines are written.
///
/// ```
/// use prometheus_aioexporter::log::{self, LogFormat};
///
/// assert_eq!(log::format(), LogFormat::Plain); // until `set_format`
/// ```
pub fn format() -> LogFormat {
    if JSON.load(Ordering::Relaxed) {
        LogFormat::Json
    } else {
        LogFormat::Plain
    }
}

/// A structured field's value, for JSON lines.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub(crate) enum Value<'a> {
    /// A string, escaped as JSON needs.
    Text(&'a str),
    /// A whole number.
    Number(u64),
    /// A duration, in seconds with microseconds.
    Seconds(std::time::Duration),
}

/// A named field of an event.
pub(crate) type Field<'a> = (&'static str, Value<'a>);

/// The `log` crate's level for ours: critical is its error.
#[cfg(feature = "log")]
fn facade_level(level: Level) -> ::log::Level {
    match level {
        Level::Critical | Level::Error => ::log::Level::Error,
        Level::Warning => ::log::Level::Warn,
        Level::Info => ::log::Level::Info,
        Level::Debug => ::log::Level::Debug,
    }
}

/// Writes one line for the event to stderr if `level` is [`enabled`], with this crate as its
/// target.
///
/// The line is `<timestamp> <LEVEL> <message>\n`, with the timestamp from [`format_timestamp`]
/// and `\n` / `\r` in the message written as the two characters `\n` / `\r`; or a JSON object
/// ([`set_format`]). It is written with a single `write_all`; errors writing stderr (e.g. it is
/// closed) are ignored, since there is nowhere else to report them.
///
/// With the `log` cargo feature, the event goes to the `log` crate's logger instead, at its
/// level (critical as error), with the target as the module that logged; the logger decides
/// whether and where it is written. [`set_level`] still filters first.
///
/// ```
/// use prometheus_aioexporter::log::{self, Level};
///
/// // A level chosen at run time; the macros fix theirs.
/// let level = if 3 > 2 { Level::Error } else { Level::Info };
/// log::log(level, format_args!("backup failed after {} tries", 3));
/// ```
pub fn log(level: Level, args: fmt::Arguments<'_>) {
    event(level, "prometheus_aioexporter", args, &[]);
}

/// What the macros call: [`log`] with the calling module as the target.
#[doc(hidden)]
pub fn log_from(level: Level, target: &str, args: fmt::Arguments<'_>) {
    event(level, target, args, &[]);
}

/// One event, with the structured fields a JSON line (only) carries.
pub(crate) fn event(level: Level, target: &str, args: fmt::Arguments<'_>, fields: &[Field<'_>]) {
    if !enabled(level) {
        return;
    }
    #[cfg(feature = "log")]
    {
        let _ = fields;
        ::log::logger().log(
            &::log::Record::builder()
                .args(args)
                .level(facade_level(level))
                .target(target)
                .build(),
        );
    }
    #[cfg(not(feature = "log"))]
    {
        let mut line = String::with_capacity(128);
        let now = SystemTime::now();
        if format() == LogFormat::Json {
            format_json_line(now, level, target, args, fields, &mut line);
        } else {
            format_line(now, level, args, &mut line);
        }
        let _ = io::stderr().lock().write_all(line.as_bytes());
    }
}

/// Formats a whole log line, newline included.
#[cfg_attr(feature = "log", allow(dead_code))]
fn format_line(t: SystemTime, level: Level, args: fmt::Arguments<'_>, out: &mut String) {
    format_timestamp(t, out);
    // Writing into a String cannot fail; a failing Display impl in `args` only truncates the line.
    let _ = write!(out, " {} ", level);
    let _ = EscapeLineBreaks(out).write_fmt(args);
    out.push('\n');
}

/// Formats a whole JSON line, newline included: valid JSON whatever the message and fields
/// hold, since every string goes through [`JsonString`].
#[cfg_attr(feature = "log", allow(dead_code))]
fn format_json_line(
    t: SystemTime,
    level: Level,
    target: &str,
    args: fmt::Arguments<'_>,
    fields: &[Field<'_>],
    out: &mut String,
) {
    out.push_str("{\"time\":\"");
    format_timestamp(t, out);
    out.push_str("\",\"level\":\"");
    if let Some(name) = Level::NAMES.get(level as usize) {
        out.push_str(name);
    }
    out.push_str("\",\"target\":\"");
    push_json(out, target);
    out.push_str("\",\"message\":\"");
    let _ = JsonString(out).write_fmt(args);
    out.push('"');
    for (name, value) in fields {
        out.push_str(",\"");
        push_json(out, name);
        out.push_str("\":");
        match value {
            Value::Text(text) => {
                out.push('"');
                push_json(out, text);
                out.push('"');
            }
            Value::Number(n) => push_decimal(out, *n, 0),
            Value::Seconds(d) => {
                push_decimal(out, d.as_secs(), 0);
                out.push('.');
                // Six digits: a million added, and its leading 1 dropped.
                push_decimal(out, 1_000_000 + u64::from(d.subsec_micros()), 1);
            }
        }
    }
    out.push_str("}\n");
}

/// Appends the decimal digits of `n`, less the first `skip`.
#[cfg_attr(feature = "log", allow(dead_code))]
fn push_decimal(out: &mut String, n: u64, skip: usize) {
    let digits = Decimal::new(n);
    let digits = digits.as_bytes().get(skip..).unwrap_or_default();
    out.push_str(std::str::from_utf8(digits).unwrap_or_default());
}

/// A `fmt::Write` adapter that writes the inside of a JSON string ([`push_json`]).
#[cfg_attr(feature = "log", allow(dead_code))]
struct JsonString<'a>(&'a mut String);

impl fmt::Write for JsonString<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        push_json(self.0, s);
        Ok(())
    }
}

/// Appends `s` to `out` as the inside of a JSON string: `"` and `\\` escaped, and every control
/// character as `\u00XX`.
#[cfg_attr(feature = "log", allow(dead_code))]
#[inline(never)]
fn push_json(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(index) = rest.find(|c: char| c == '"' || c == '\\' || c < ' ') {
        out.push_str(&rest[..index]);
        let byte = rest.as_bytes()[index];
        if byte == b'"' || byte == b'\\' {
            out.push('\\');
            out.push(char::from(byte));
        } else {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
        rest = &rest[index + 1..];
    }
    out.push_str(rest);
}

/// Text from the network, for a quoted field of a log line: `"`, `\` and control characters are
/// written as `\xHH`, as nginx does in its access log, so a client cannot end the field early
/// and forge the ones after it.
///
/// ```
/// use prometheus_aioexporter::log::{log_info, Quoted};
///
/// let user_agent = "curl\" injected=\"1";
/// log_info!("user_agent=\"{}\"", Quoted(user_agent));
/// assert_eq!(Quoted(user_agent).to_string(), r"curl\x22 injected=\x221");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(index) = rest.find(|c: char| c == '"' || c == '\\' || c.is_control()) {
            f.write_str(&rest[..index])?;
            let c = rest[index..].chars().next().unwrap_or_default();
            let mut bytes = [0; 4];
            for &b in c.encode_utf8(&mut bytes).as_bytes() {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                let escape = [
                    b'\\',
                    b'x',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 15)],
                ];
                f.write_str(std::str::from_utf8(&escape).unwrap_or_default())?;
            }
            rest = &rest[index + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

#[cfg(feature = "server")]
/// A socket address, written as std's `Display` writes it (`127.0.0.1:9090`, `[::1]:9090`,
/// `[fe80::1%2]:9090`, `[::ffff:10.0.0.1]:9090`) but without its width and precision support:
/// core's IP address formatting would be linked into every static binary for the log lines
/// alone (the README's size section has the figures).
#[derive(Clone, Copy)]
pub(crate) struct Addr(pub(crate) SocketAddr);

#[cfg(feature = "server")]
impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            SocketAddr::V4(addr) => write_ipv4(f, *addr.ip())?,
            SocketAddr::V6(addr) => {
                f.write_str("[")?;
                write_ipv6(f, addr.ip())?;
                if addr.scope_id() != 0 {
                    f.write_str("%")?;
                    write_decimal(f, addr.scope_id())?;
                }
                f.write_str("]")?;
            }
        }
        f.write_str(":")?;
        write_decimal(f, u32::from(self.0.port()))
    }
}

#[cfg(feature = "server")]
fn write_decimal(f: &mut fmt::Formatter<'_>, n: u32) -> fmt::Result {
    f.write_str(Decimal::new(u64::from(n)).as_str())
}

#[cfg(feature = "server")]
fn write_ipv4(f: &mut fmt::Formatter<'_>, ip: Ipv4Addr) -> fmt::Result {
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            f.write_str(".")?;
        }
        write_decimal(f, u32::from(octet))?;
    }
    Ok(())
}

#[cfg(feature = "server")]
/// RFC 5952, as std: lowercase hex without leading zeros, the longest run (the first of equal
/// ones) of two or more zero groups as `::`, an IPv4-mapped address as `::ffff:a.b.c.d`.
fn write_ipv6(f: &mut fmt::Formatter<'_>, ip: &Ipv6Addr) -> fmt::Result {
    if let Some(v4) = ip.to_ipv4_mapped() {
        f.write_str("::ffff:")?;
        return write_ipv4(f, v4);
    }
    let groups = ip.segments();
    let (mut zeros_at, mut zeros_len, mut run_at, mut run_len) = (0, 0, 0, 0);
    for (i, &group) in groups.iter().enumerate() {
        if group != 0 {
            run_len = 0;
            continue;
        }
        if run_len == 0 {
            run_at = i;
        }
        run_len += 1;
        if run_len > zeros_len {
            (zeros_at, zeros_len) = (run_at, run_len);
        }
    }
    if zeros_len > 1 {
        write_groups(f, &groups[..zeros_at])?;
        f.write_str("::")?;
        write_groups(f, &groups[zeros_at + zeros_len..])
    } else {
        write_groups(f, &groups)
    }
}

#[cfg(feature = "server")]
fn write_groups(f: &mut fmt::Formatter<'_>, groups: &[u16]) -> fmt::Result {
    for (i, &group) in groups.iter().enumerate() {
        if i > 0 {
            f.write_str(":")?;
        }
        let mut hex = [0u8; 4];
        let mut start = hex.len();
        let mut rest = group;
        loop {
            start -= 1;
            hex[start] = b"0123456789abcdef"[usize::from(rest & 15)];
            rest >>= 4;
            if rest == 0 {
                break;
            }
        }
        f.write_str(std::str::from_utf8(&hex[start..]).unwrap_or_default())?;
    }
    Ok(())
}

/// `true`, and remembers now as `last`, if nothing was logged at `last` within `every`: for
/// warnings a client could otherwise repeat into a flood of log lines.
#[cfg(feature = "server")]
pub(crate) fn due(last: &mut Option<std::time::Instant>, every: std::time::Duration) -> bool {
    let now = std::time::Instant::now();
    if last.is_some_and(|at| now.saturating_duration_since(at) < every) {
        return false;
    }
    *last = Some(now);
    true
}

/// A `fmt::Write` adapter that writes `\n` and `\r` as two-character escapes.
#[cfg_attr(feature = "log", allow(dead_code))]
struct EscapeLineBreaks<'a>(&'a mut String);

impl fmt::Write for EscapeLineBreaks<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(index) = rest.find(['\n', '\r']) {
            self.0.push_str(&rest[..index]);
            self.0.push_str(if rest.as_bytes()[index] == b'\n' {
                "\\n"
            } else {
                "\\r"
            });
            rest = &rest[index + 1..];
        }
        self.0.push_str(rest);
        Ok(())
    }
}

/// Writes `t` as an RFC 3339 UTC timestamp with milliseconds, e.g. `2026-11-24T02:08:36.123Z`.
///
/// Sub-millisecond parts are truncated towards the past (also before 1970). Years are written with
/// at least four digits; times before year 0 or after 9999 are outside RFC 3339 but still written.
/// Errors from `out` are ignored (writing to a `String` cannot fail).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use prometheus_aioexporter::log::format_timestamp;
///
/// let mut out = String::new();
/// format_timestamp(UNIX_EPOCH + Duration::from_millis(1_795_919_316_123), &mut out);
/// assert_eq!(out, "2026-11-29T02:28:36.123Z");
/// ```
pub fn format_timestamp(t: SystemTime, out: &mut impl fmt::Write) {
    let millis: i64 = match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_millis()).unwrap_or(i64::MAX);
            let partial = i64::from(before.subsec_nanos() % 1_000_000 != 0);
            -whole.saturating_add(partial)
        }
    };
    let days = millis.div_euclid(86_400_000);
    let ms_of_day = millis.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let seconds = ms_of_day / 1000;
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        year,
        month,
        day,
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        ms_of_day % 1000
    );
}

/// Logs at [`Level::Critical`](crate::log::Level::Critical): `log_critical!("cannot bind {}: {}", addr, err)`.
///
/// ```
/// use prometheus_aioexporter::log::log_critical;
///
/// let path = "/var/lib/exporter/state";
/// log_critical!("cannot open {path}: disk is read-only");
/// ```
#[macro_export]
macro_rules! log_critical {
    ($($arg:tt)*) => {
        if $crate::log::enabled($crate::log::Level::Critical) {
            $crate::log::log_from(
                $crate::log::Level::Critical,
                ::core::module_path!(),
                ::core::format_args!($($arg)*),
            )
        }
    };
}

/// Logs at [`Level::Error`](crate::log::Level::Error): `log_error!("scrape failed: {}", err)`.
///
/// ```
/// use prometheus_aioexporter::log::log_error;
///
/// let err = std::io::Error::from(std::io::ErrorKind::TimedOut);
/// log_error!("backend query failed: {err}");
/// ```
#[macro_export]
macro_rules! log_error {
    ($($arg:tt)*) => {
        if $crate::log::enabled($crate::log::Level::Error) {
            $crate::log::log_from(
                $crate::log::Level::Error,
                ::core::module_path!(),
                ::core::format_args!($($arg)*),
            )
        }
    };
}

/// Logs at [`Level::Warning`](crate::log::Level::Warning): `log_warning!("closing idle connection from {}", peer)`.
///
/// ```
/// use prometheus_aioexporter::log::log_warning;
///
/// let (took, limit) = (2.1, 2.0);
/// if took > limit {
///     log_warning!("scrape took {took}s, over {limit}s");
/// }
/// ```
#[macro_export]
macro_rules! log_warning {
    ($($arg:tt)*) => {
        if $crate::log::enabled($crate::log::Level::Warning) {
            $crate::log::log_from(
                $crate::log::Level::Warning,
                ::core::module_path!(),
                ::core::format_args!($($arg)*),
            )
        }
    };
}

/// Logs at [`Level::Info`](crate::log::Level::Info): `log_info!("listening on {}", addr)`.
///
/// ```
/// use prometheus_aioexporter::log::log_info;
///
/// let rows = 42;
/// log_info!("read {rows} rows"); // shown with `-L info` or more verbose
/// ```
#[macro_export]
macro_rules! log_info {
    ($($arg:tt)*) => {
        if $crate::log::enabled($crate::log::Level::Info) {
            $crate::log::log_from(
                $crate::log::Level::Info,
                ::core::module_path!(),
                ::core::format_args!($($arg)*),
            )
        }
    };
}

/// Logs at [`Level::Debug`](crate::log::Level::Debug): `log_debug!("{} {} from {}", method, path, peer)`.
///
/// ```
/// use prometheus_aioexporter::log::log_debug;
///
/// let query = "SELECT count(*) FROM jobs";
/// log_debug!("query: {query}");
/// ```
#[macro_export]
macro_rules! log_debug {
    ($($arg:tt)*) => {
        if $crate::log::enabled($crate::log::Level::Debug) {
            $crate::log::log_from(
                $crate::log::Level::Debug,
                ::core::module_path!(),
                ::core::format_args!($($arg)*),
            )
        }
    };
}

// `#[macro_export]` puts the macros at the crate's root; here they are also where the rest of
// the module's API is, `prometheus_aioexporter::log::log_info!`.
pub use crate::{log_critical, log_debug, log_error, log_info, log_warning};

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    /// Serializes the tests that change the global level.
    static LEVEL_LOCK: Mutex<()> = Mutex::new(());

    fn timestamp(t: SystemTime) -> String {
        let mut out = String::new();
        format_timestamp(t, &mut out);
        out
    }

    fn at(seconds: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_millis(millis)
    }

    #[test]
    fn quoted_fields_cannot_be_ended_by_the_client() {
        for (input, want) in [
            ("curl/8.0", "curl/8.0"),
            ("a\" 500 999 \"fake", "a\\x22 500 999 \\x22fake"),
            ("back\\slash", "back\\x5Cslash"),
            ("tab\there\nline\r", "tab\\x09here\\x0Aline\\x0D"),
            ("\u{85}é\u{7f}", "\\xC2\\x85é\\x7F"),
            ("", ""),
        ] {
            assert_eq!(Quoted(input).to_string(), want, "{input:?}");
        }
    }

    #[test]
    fn timestamps_of_known_instants() {
        let cases: &[(SystemTime, &str)] = &[
            (at(0, 0), "1970-01-01T00:00:00.000Z"),
            // sub-millisecond parts are truncated, not rounded
            (
                UNIX_EPOCH + Duration::from_nanos(999_999),
                "1970-01-01T00:00:00.000Z",
            ),
            (at(0, 1), "1970-01-01T00:00:00.001Z"),
            (at(86_399, 999), "1970-01-01T23:59:59.999Z"),
            // leap day of a year divisible by 400
            (at(951_782_400, 0), "2000-02-29T00:00:00.000Z"),
            (at(951_868_800, 0), "2000-03-01T00:00:00.000Z"),
            // 2100 is not a leap year
            (at(4_102_444_800, 0), "2100-01-01T00:00:00.000Z"),
            (at(4_107_542_400, 0), "2100-03-01T00:00:00.000Z"),
            // end of a leap year: day 366
            (at(1_735_689_599, 999), "2024-12-31T23:59:59.999Z"),
            (at(1_735_689_600, 0), "2025-01-01T00:00:00.000Z"),
            (at(1_709_164_800, 0), "2024-02-29T00:00:00.000Z"),
            (at(1_795_486_116, 123), "2026-11-24T02:08:36.123Z"),
            (at(253_402_300_799, 999), "9999-12-31T23:59:59.999Z"),
        ];
        for (t, expected) in cases {
            assert_eq!(timestamp(*t), *expected, "{t:?}");
        }
    }

    #[test]
    fn timestamps_before_the_epoch_round_down() {
        let cases: &[(SystemTime, &str)] = &[
            (
                UNIX_EPOCH - Duration::from_millis(1),
                "1969-12-31T23:59:59.999Z",
            ),
            (
                UNIX_EPOCH - Duration::from_nanos(1),
                "1969-12-31T23:59:59.999Z",
            ),
            (
                UNIX_EPOCH - Duration::from_secs(86_400),
                "1969-12-31T00:00:00.000Z",
            ),
            (
                UNIX_EPOCH - Duration::from_secs(2_208_988_800),
                "1900-01-01T00:00:00.000Z",
            ),
        ];
        for (t, expected) in cases {
            assert_eq!(timestamp(*t), *expected, "{t:?}");
        }
    }

    #[test]
    fn every_day_follows_the_previous_one() {
        // Walk 1970..2400 day by day and check the calendar against a simple model.
        let is_leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let (mut year, mut month, mut day) = (1970_i64, 1_u32, 1_u32);
        for days in 0..(430 * 366) {
            assert_eq!(civil_from_days(days), (year, month, day), "day {days}");
            let month_length = match month {
                2 if is_leap(year) => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            day += 1;
            if day > month_length {
                day = 1;
                month += 1;
                if month > 12 {
                    month = 1;
                    year += 1;
                }
            }
        }
    }

    #[test]
    fn level_parsing() {
        let cases: &[(&str, Option<Level>)] = &[
            ("critical", Some(Level::Critical)),
            ("error", Some(Level::Error)),
            ("warning", Some(Level::Warning)),
            ("WARNING", Some(Level::Warning)),
            ("Info", Some(Level::Info)),
            ("dEbUg", Some(Level::Debug)),
            ("Warn", None),
            ("", None),
            (" info", None),
            ("info ", None),
            ("fatal", None),
            ("debugging", None),
        ];
        for (input, expected) in cases {
            assert_eq!(input.parse::<Level>().ok(), *expected, "{input:?}");
        }
    }

    #[test]
    fn level_parse_error_message() {
        let err = "loud".parse::<Level>().unwrap_err();
        assert_eq!(err.input(), "loud");
        assert_eq!(
            err.to_string(),
            "invalid log level 'loud': expected one of critical, error, warning, info, debug"
        );
        assert_eq!(
            "".parse::<Level>().unwrap_err().to_string(),
            "invalid log level '': expected one of critical, error, warning, info, debug"
        );
    }

    #[test]
    fn names_round_trip_and_display() {
        for (index, name) in Level::NAMES.iter().enumerate() {
            let level: Level = name.parse().unwrap();
            assert_eq!(level, Level::ALL[index]);
            assert_eq!(level.as_str(), name.to_ascii_uppercase());
            assert_eq!(level.to_string(), level.as_str());
            assert_eq!(Level::from_u8(level as u8), level);
        }
        assert_eq!(format!("[{:<8}]", Level::Info), "[INFO    ]");
    }

    #[test]
    fn levels_are_ordered_most_severe_first() {
        assert!(Level::Critical < Level::Error);
        assert!(Level::Error < Level::Warning);
        assert!(Level::Warning < Level::Info);
        assert!(Level::Info < Level::Debug);
    }

    #[test]
    fn default_level_and_enabled() {
        let _guard = LEVEL_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // With the `log` feature, the facade's maximum level filters too; no logger is set here.
        #[cfg(feature = "log")]
        ::log::set_max_level(::log::LevelFilter::Trace);
        let before = level();
        // Every test that changes the level restores it under the lock, so this is the default.
        assert_eq!(before, Level::Warning);

        set_level(Level::Warning);
        assert_eq!(level(), Level::Warning);
        assert!(enabled(Level::Critical));
        assert!(enabled(Level::Error));
        assert!(enabled(Level::Warning));
        assert!(!enabled(Level::Info));
        assert!(!enabled(Level::Debug));

        set_level(Level::Critical);
        assert_eq!(level(), Level::Critical);
        assert!(enabled(Level::Critical));
        assert!(!enabled(Level::Error));

        set_level(Level::Debug);
        assert!(Level::ALL.iter().all(|&l| enabled(l)));

        set_level(before);
    }

    #[test]
    fn lines_are_single_and_escaped() {
        let t = at(1_795_486_116, 123);
        let cases: &[(fmt::Arguments<'_>, &str)] = &[
            (
                format_args!("listening on {}", "[::]:9100"),
                "2026-11-24T02:08:36.123Z WARNING listening on [::]:9100\n",
            ),
            (
                format_args!("two\nlines\r\n{}", "and\nan argument"),
                "2026-11-24T02:08:36.123Z WARNING two\\nlines\\r\\nand\\nan argument\n",
            ),
            (format_args!(""), "2026-11-24T02:08:36.123Z WARNING \n"),
            (
                format_args!("\n{}\n", 'é'),
                "2026-11-24T02:08:36.123Z WARNING \\né\\n\n",
            ),
        ];
        for (args, expected) in cases {
            let mut line = String::new();
            format_line(t, Level::Warning, *args, &mut line);
            assert_eq!(line, *expected);
        }
    }

    #[test]
    fn json_lines_escape_whatever_they_carry() {
        let t = at(1_795_486_116, 123);
        let head = "{\"time\":\"2026-11-24T02:08:36.123Z\",\"level\":\"warning\",\"target\":\"t\",";
        let cases: &[(fmt::Arguments<'_>, &[Field<'_>], &str)] = &[
            (format_args!("plain"), &[], "\"message\":\"plain\"}\n"),
            (
                format_args!("{}", "q\"b\\n\nr\rt\tz\u{0}\u{1f}\u{7f}é\u{2028}"),
                &[],
                "\"message\":\"q\\\"b\\\\n\\u000ar\\u000dt\\u0009z\\u0000\\u001f\u{7f}é\u{2028}\"}\n",
            ),
            (
                format_args!("GET"),
                &[
                    ("path", Value::Text("/\"}\u{1b}[31m")),
                    ("status", Value::Number(404)),
                    ("duration_seconds", Value::Seconds(Duration::from_nanos(1_234_567_890))),
                ],
                "\"message\":\"GET\",\"path\":\"/\\\"}\\u001b[31m\",\"status\":404,\"duration_seconds\":1.234567}\n",
            ),
        ];
        for (args, fields, tail) in cases {
            let mut line = String::new();
            format_json_line(t, Level::Warning, "t", *args, fields, &mut line);
            assert_eq!(line, format!("{head}{tail}"));
        }
    }

    #[test]
    fn log_formats_parse_and_default_to_plain() {
        assert_eq!(format(), LogFormat::Plain);
        assert_eq!("JSON".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert_eq!("plain".parse::<LogFormat>(), Ok(LogFormat::Plain));
        let err = "xml".parse::<LogFormat>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid log format 'xml': expected one of plain, json"
        );
        for name in LogFormat::NAMES {
            assert_eq!(name.parse::<LogFormat>().map(LogFormat::as_str), Ok(name));
        }
    }

    #[test]
    fn macros_expand_and_skip_disabled_levels() {
        let _guard = LEVEL_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let before = level();
        set_level(Level::Critical);
        // A disabled level must not evaluate its arguments' Display impls.
        struct Panics;
        impl fmt::Display for Panics {
            fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
                panic!("formatted a disabled log event")
            }
        }
        log_error!("{}", Panics);
        log_warning!("{}", Panics);
        log_info!("{}", Panics);
        log_debug!("{}", Panics);
        log(Level::Debug, format_args!("{}", Panics));
        if level() < Level::Critical {
            // Never runs; checks that the macro expands and type-checks.
            log_critical!("{} {}", 1, "two");
        }
        set_level(before);
    }

    #[cfg(feature = "server")]
    #[test]
    fn addr_is_written_as_std_writes_it() {
        use std::net::{SocketAddrV4, SocketAddrV6};
        let mut addrs: Vec<SocketAddr> = [
            "0.0.0.0:0",
            "127.0.0.1:9090",
            "255.255.255.255:65535",
            "10.0.200.7:80",
            "[::]:0",
            "[::1]:9090",
            "[1::]:1",
            "[::ffff:10.0.0.1]:80",
            "[::ffff:0.0.0.0]:80",
            "[::1.2.3.4]:80",
            "[64:ff9b::1.2.3.4]:80",
            "[2001:db8::1]:443",
            "[2001:db8:0:0:1:0:0:1]:443",
            "[2001:0:0:1:0:0:0:1]:443",
            "[1:0:1:0:1:0:1:0]:1",
            "[fe80::1%2]:9090",
            "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535",
            "[abcd:ef01:2345:6789:a:bc:def:1000]:8",
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            let mut groups = [0u16; 8];
            for g in &mut groups {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Mostly zero groups, to make runs of every length and place.
                *g = if state % 3 == 0 {
                    (state >> 20) as u16 >> (state % 16)
                } else {
                    0
                };
            }
            let ip = Ipv6Addr::from(groups);
            let scope = if state % 5 == 0 {
                (state >> 32) as u32
            } else {
                0
            };
            addrs.push(SocketAddrV6::new(ip, (state >> 8) as u16, 0, scope).into());
            let v4 = Ipv4Addr::from((state >> 16) as u32);
            addrs.push(SocketAddrV4::new(v4, (state >> 48) as u16).into());
        }
        for addr in addrs {
            assert_eq!(Addr(addr).to_string(), addr.to_string());
        }
    }
}
