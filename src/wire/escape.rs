//! Escapes of the exposition formats: help texts and label values.

/// Appends `s` with `\` and newline escaped, and `"` too when `quote` is set (label values).
pub(crate) fn write_escaped(out: &mut Vec<u8>, s: &str, quote: bool) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'"' if quote => b"\\\"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escaped);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends one label pair, `name="value"`, with the value escaped.
pub(crate) fn write_label_pair(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"=\"");
    write_escaped(out, value, true);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_format() {
        let cases: &[(&str, bool, &str)] = &[
            ("plain", true, "plain"),
            ("a\\b", true, "a\\\\b"),
            ("a\nb", true, "a\\nb"),
            ("a\"b", true, "a\\\"b"),
            ("a\"b", false, "a\"b"),
            ("\\\n\"", true, "\\\\\\n\\\""),
            ("tab\there", true, "tab\there"),
            ("ünïcödé ✓", true, "ünïcödé ✓"),
            ("", true, ""),
        ];
        for &(input, quote, want) in cases {
            let mut out = Vec::new();
            write_escaped(&mut out, input, quote);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{input:?}");
        }
    }
}
