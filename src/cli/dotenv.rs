//! The syntax of a `.env` file, as python-dotenv writes and reads it (the Python library's 3.x
//! versions load one at start): one `KEY=value` per line.
//!
//! - Blank lines and lines starting with `#` are skipped; `export KEY=value` is `KEY=value`.
//! - White space around the name, the `=` and an unquoted value is dropped.
//! - An unquoted value ends at a `#` that follows white space within it (`A=b # note` is `b`;
//!   `A=b#c` is `b#c`; `A= # note` is `# note`, as python-dotenv reads it: the white space
//!   after `=` is not the value's).
//! - `'single quotes'` keep everything inside as it is; `"double quotes"` take the escapes `\n`,
//!   `\r`, `\t`, `\"`, `\'` and `\\` (any other backslash stays). A quoted value may be followed
//!   by white space and a comment, nothing else, and ends on its line.
//! - Names are `[A-Za-z_][A-Za-z0-9_]*`. A later line for a name replaces an earlier one.
//! - No `${VAR}` expansion: values are taken as written.
//!
//! Anything else is an error naming the line, rather than a value silently half read.

use std::fmt;

/// A line of a `.env` file that is not `KEY=value`, a comment or blank.
///
/// Displays as "line 3: expected KEY=value, found 'oops'".
///
/// ```
/// use prometheus_aioexporter::cli::parse_dotenv;
///
/// let err = parse_dotenv("MY_EXPORTER_PORT=9200\noops\n").unwrap_err();
/// assert_eq!(err.to_string(), "line 2: expected KEY=value, found 'oops'");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotenvError {
    line: usize,
    reason: String,
}

impl DotenvError {
    /// The line, counted from 1.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::parse_dotenv;
    ///
    /// let err = parse_dotenv("# settings\n\noops\n").unwrap_err();
    /// assert_eq!(err.line(), 3); // counted from 1, comments and blank lines too
    /// ```
    pub fn line(&self) -> usize {
        self.line
    }

    /// What is wrong with it.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::parse_dotenv;
    ///
    /// let err = parse_dotenv("oops\n").unwrap_err();
    /// assert_eq!(err.reason(), "expected KEY=value, found 'oops'");
    /// ```
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for DotenvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for DotenvError {}

/// The `(name, value)` pairs of a `.env` file's text, in file order (a name may repeat: the
/// last one counts).
///
/// ```
/// use prometheus_aioexporter::cli::parse_dotenv;
///
/// let text = "# my exporter\nexport MY_EXPORTER_PORT=9200\nMY_EXPORTER_HOST='127.0.0.1 ::1' # both\n";
/// let pairs = parse_dotenv(text)?;
/// assert_eq!(pairs[0], ("MY_EXPORTER_PORT".to_string(), "9200".to_string()));
/// assert_eq!(pairs[1], ("MY_EXPORTER_HOST".to_string(), "127.0.0.1 ::1".to_string()));
/// # Ok::<(), prometheus_aioexporter::cli::DotenvError>(())
/// ```
///
/// # Errors
/// [`DotenvError`] for the first line that is not blank, a comment or `KEY=value` in the form
/// described in this module's documentation.
pub fn parse_dotenv(text: &str) -> Result<Vec<(String, String)>, DotenvError> {
    let mut pairs = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        let error = |reason: String| DotenvError {
            line: index + 1,
            reason,
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(pair) = parse_line(line).map_err(error)? {
            pairs.push(pair);
        }
    }
    Ok(pairs)
}

/// One line: `None` for a blank line or a comment. Byte-wise: every character it looks for is
/// ASCII, so the slices it takes are whole characters.
fn parse_line(line: &str) -> Result<Option<(String, String)>, String> {
    let rest = line.trim_start();
    if rest.is_empty() || rest.starts_with('#') {
        return Ok(None);
    }
    let rest = match rest.strip_prefix("export") {
        Some(after) if after.starts_with([' ', '\t']) => after.trim_start(),
        _ => rest,
    };
    let Some((name, value)) = rest.split_once('=') else {
        return Err(["expected KEY=value, found '", line.trim(), "'"].concat());
    };
    let name = name.trim_end();
    if !is_name(name) {
        let expected = "': expected [A-Za-z_][A-Za-z0-9_]*";
        return Err(["invalid name '", name, expected].concat());
    }
    let value = value.trim_start();
    let value = match value.as_bytes().first() {
        Some(&quote @ (b'\'' | b'"')) => quoted(value, quote)?,
        _ => unquoted(value).to_owned(),
    };
    Ok(Some((name.to_owned(), value)))
}

fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// An unquoted value: up to a `#` after white space, trimmed.
fn unquoted(value: &str) -> &str {
    let bytes = value.as_bytes();
    let end = (1..bytes.len())
        .find(|&i| bytes[i] == b'#' && (bytes[i - 1] == b' ' || bytes[i - 1] == b'\t'))
        .unwrap_or(bytes.len());
    value[..end].trim_end()
}

/// A value in quotes (`value` starts with the opening `quote`), to its closing one; then only
/// white space and a comment.
fn quoted(value: &str, quote: u8) -> Result<String, String> {
    let bytes = value.as_bytes();
    let mut out = String::new();
    let mut from = 1; // the start of the text not yet copied
    let mut i = 1;
    let close = loop {
        match bytes.get(i) {
            None => {
                let quote = if quote == b'"' { "\"" } else { "'" };
                return Err(["no closing ", quote, " on the line"].concat());
            }
            Some(&b) if b == quote => break i,
            Some(b'\\') if quote == b'"' => {
                out.push_str(&value[from..i]);
                let escaped = match bytes.get(i + 1) {
                    Some(b'n') => "\n",
                    Some(b'r') => "\r",
                    Some(b't') => "\t",
                    Some(b'"') => "\"",
                    Some(b'\'') => "'",
                    Some(b'\\') => "\\",
                    _ => "\\", // kept, with what follows it
                };
                out.push_str(escaped);
                i += if escaped == "\\" && bytes.get(i + 1) != Some(&b'\\') {
                    1
                } else {
                    2
                };
                from = i;
            }
            Some(_) => i += 1,
        }
    };
    out.push_str(&value[from..close]);
    let after = value[close + 1..].trim_start();
    if !after.is_empty() && !after.starts_with('#') {
        return Err(["unexpected '", after, "' after the closing quote"].concat());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        #[rustfmt::skip]
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("", None),
            ("   ", None),
            ("# a comment", None),
            ("  # an indented comment", None),
            ("A=b", Some(("A", "b"))),
            ("A = b ", Some(("A", "b"))),                  // white space around
            ("export A=b", Some(("A", "b"))),
            ("export\tA=b", Some(("A", "b"))),
            ("exportA=b", Some(("exportA", "b"))),          // a name that starts with export
            ("export=b", Some(("export", "b"))),
            ("A=", Some(("A", ""))),
            ("A=b # note", Some(("A", "b"))),
            ("A=b#c", Some(("A", "b#c"))),                  // no space: part of the value
            ("A=#c", Some(("A", "#c"))),
            ("A=b=c", Some(("A", "b=c"))),
            ("A='b # c' # note", Some(("A", "b # c"))),
            ("A='\\n'", Some(("A", "\\n"))),                // single quotes: as written
            ("A=\"b\\nc\\t\\\"d\\\\\"", Some(("A", "b\nc\t\"d\\"))),
            ("A=\"\\x\"", Some(("A", "\\x"))),              // unknown escape kept
            ("A=\"'\"", Some(("A", "'"))),
            ("A=''", Some(("A", ""))),
            ("A=b 'c'", Some(("A", "b 'c'"))),              // quotes inside an unquoted value
            ("A=é ü", Some(("A", "é ü"))),
            ("_A1=x", Some(("_A1", "x"))),
        ];
        for (line, want) in cases {
            let got = parse_line(line).unwrap_or_else(|err| panic!("{line:?}: {err}"));
            let got = got.as_ref().map(|(k, v)| (k.as_str(), v.as_str()));
            assert_eq!(got, *want, "{line:?}");
        }
    }

    #[test]
    fn errors_name_the_line_and_the_form() {
        let cases: &[(&str, &str)] = &[
            ("oops", "line 2: expected KEY=value, found 'oops'"),
            (
                "1A=b",
                "line 2: invalid name '1A': expected [A-Za-z_][A-Za-z0-9_]*",
            ),
            (
                "A-B=c",
                "line 2: invalid name 'A-B': expected [A-Za-z_][A-Za-z0-9_]*",
            ),
            (
                "=b",
                "line 2: invalid name '': expected [A-Za-z_][A-Za-z0-9_]*",
            ),
            ("A='b", "line 2: no closing ' on the line"),
            ("A=\"b\\\"", "line 2: no closing \" on the line"),
            ("A='b' c", "line 2: unexpected 'c' after the closing quote"),
        ];
        for (line, want) in cases {
            let text = format!("OK=1\n{line}\nLATER=2\n");
            let err = parse_dotenv(&text).unwrap_err();
            assert_eq!(err.to_string(), *want, "{line:?}");
            assert_eq!(err.line(), 2);
        }
    }

    #[test]
    fn a_file_in_order_with_crlf() {
        let text = "# head\r\nA=1\r\n\r\nexport B='two'\r\nA=3";
        let pairs = parse_dotenv(text).unwrap();
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(pairs, [("A", "1"), ("B", "two"), ("A", "3")]);
    }
}
