//! The exposition layer: the Prometheus text format (0.0.4, and 1.0.0, the same body while
//! every name is legacy) and OpenMetrics 1.0, which of them and which name escaping a scraper
//! asked for, and the exposition written to a file.
//!
//! Metric and label names may be any UTF-8; those outside the legacy sets are quoted or
//! escaped as the negotiated [`Escaping`] says, per scrape and without allocating.
//!
//! It owns the bytes of a scrape: `# HELP` / `# TYPE` lines, sample lines and the closing
//! `# EOF` ([`text`]), content negotiation ([`negotiate`], with the server), and node_exporter
//! textfiles ([`textfile`], the only module here that does I/O). Both formats share one walk
//! over the registry; a [`Format`] decides the few places where they differ: family names and
//! types in the header lines (OpenMetrics names a counter family without `_total` and has `info`
//! and `stateset` types), `"` escaped in OpenMetrics help texts, canonical `le` values (`1.0`,
//! not `1`), and `# EOF`; an [`Escaping`] how names are spelled (only `dots` changes legacy
//! names), and OpenMetrics leaves out the samples it forbids (negative or NaN counters and
//! sums), so that every OpenMetrics body parses. Encoding appends to a `Vec<u8>`, which a scrape reuses, so it
//! allocates only when the buffer must grow.
//!
//! It uses the registry (to read values) and the `wire` layer (to spell them).

#[cfg(feature = "server")]
pub(crate) mod negotiate;
#[cfg(test)]
mod tests;
mod text;
mod textfile;

pub use textfile::WriteError;

use crate::registry::{CollectError, Registry};

/// The `Content-Type` of the text format.
const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `Content-Type` of OpenMetrics 1.0.
const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// An exposition format.
///
/// ```
/// use prometheus_aioexporter::{Format, Registry};
///
/// let mut registry = Registry::new();
/// registry.counter("jobs", "Jobs done.")?.inc();
/// let mut text = Vec::new();
/// registry.encode_format(&mut text, Format::Text)?;
/// let mut openmetrics = Vec::new();
/// registry.encode_format(&mut openmetrics, Format::OpenMetrics)?;
/// assert!(text.ends_with(b"jobs_total 1\n"));
/// assert!(openmetrics.ends_with(b"jobs_total 1\n# EOF\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// The Prometheus text format: version 0.0.4, or 1.0.0 when a scraper asks for it (the
    /// same body while every name is legacy; only the `Content-Type` differs).
    Text,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

/// How names outside the legacy character set are written: the `escaping` parameter of
/// Prometheus 3's `Accept` and of our `Content-Type`.
///
/// Legacy names are left as they are by `allow-utf-8`, `underscores` and `values`; `dots`
/// changes them too (`_` becomes `__`). Names outside the legacy set (declared UTF-8 names) are
/// quoted, or escaped as each variant says, as the Python client writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
// Without the server nothing negotiates: only the default is used.
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub enum Escaping {
    /// `allow-utf-8`: names outside the legacy set are quoted.
    AllowUtf8,
    /// `underscores`: each character outside the legacy set becomes `_` (the default).
    Underscores,
    /// `dots`: `.` becomes `_dot_`, `_` becomes `__`, any other invalid character `__`;
    /// legacy names too.
    Dots,
    /// `values`: a name outside the legacy set becomes `U__` and its characters' code points.
    Values,
}

impl Format {
    /// Both formats: text, then OpenMetrics.
    ///
    /// ```
    /// use prometheus_aioexporter::{Format, Registry};
    ///
    /// let mut registry = Registry::new();
    /// registry.gauge("temp", "Temperature.")?.set(21.5);
    /// for format in Format::ALL {
    ///     let mut body = Vec::new();
    ///     registry.encode_format(&mut body, format)?;
    ///     assert!(String::from_utf8(body)?.contains("temp 21.5\n"));
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const ALL: [Format; 2] = [Format::Text, Format::OpenMetrics];

    /// The `Content-Type` header value of a response in this format.
    ///
    /// ```
    /// use prometheus_aioexporter::Format;
    ///
    /// assert_eq!(Format::Text.content_type(), "text/plain; version=0.0.4; charset=utf-8");
    /// assert_eq!(
    ///     Format::OpenMetrics.content_type(),
    ///     "application/openmetrics-text; version=1.0.0; charset=utf-8"
    /// );
    /// ```
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => TEXT_CONTENT_TYPE,
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        }
    }
}

/// How a registry is written out: the exposition layer's part of [`Registry`].
impl Registry {
    /// Appends the text-format exposition of everything to `out`.
    ///
    /// ```
    /// use prometheus_aioexporter::Registry;
    ///
    /// let mut registry = Registry::new();
    /// let temp = registry.gauge_family("temperature_celsius", "Temperature.", ["room"])?;
    /// temp.labels(&["kitchen"]).set(21.5);
    /// let mut body = Vec::new();
    /// registry.encode(&mut body)?;
    /// let expected = "# HELP temperature_celsius Temperature.\n# TYPE temperature_celsius gauge\n\
    ///                 temperature_celsius{room=\"kitchen\"} 21.5\n";
    /// assert_eq!(String::from_utf8(body)?, expected);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A [`CollectError`] if a collector fails or yields invalid data; `out` then holds only
    /// what it held before.
    pub fn encode(&mut self, out: &mut Vec<u8>) -> Result<(), CollectError> {
        self.encode_format(out, Format::Text)
    }

    /// Appends the exposition of everything to `out` in `format` (OpenMetrics ends with
    /// `# EOF`).
    ///
    /// ```
    /// use prometheus_aioexporter::{Format, Registry};
    ///
    /// let mut registry = Registry::new();
    /// registry.counter("jobs", "Jobs done.")?.inc_by_u64(3);
    /// let mut body = Vec::new();
    /// registry.encode_format(&mut body, Format::OpenMetrics)?;
    /// assert_eq!(
    ///     String::from_utf8(body)?,
    ///     "# HELP jobs Jobs done.\n# TYPE jobs counter\njobs_total 3\n# EOF\n"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Registry::encode`].
    pub fn encode_format(&mut self, out: &mut Vec<u8>, format: Format) -> Result<(), CollectError> {
        self.encode_escaped(out, format, Escaping::Underscores)
    }

    /// As [`Registry::encode_format`], with names escaped by `escaping` (what a scraper
    /// negotiated).
    pub(crate) fn encode_escaped(
        &mut self,
        out: &mut Vec<u8>,
        format: Format,
        escaping: Escaping,
    ) -> Result<(), CollectError> {
        let style = text::Style::new(format, escaping);
        let start = out.len();
        for (_, metric) in self.metrics().iter() {
            text::encode_metric(out, metric, style);
        }
        if let Err(err) = self.collect() {
            out.truncate(start);
            return Err(err);
        }
        for family in self.collected() {
            text::encode_collected(out, family, style);
        }
        if format == Format::OpenMetrics {
            out.extend_from_slice(b"# EOF\n");
        }
        Ok(())
    }
}
