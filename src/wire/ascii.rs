//! Bytes of HTTP header values: optional white space (RFC 9110 §5.6.3).

/// Space or horizontal tab.
pub(crate) fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `bytes` without leading and trailing optional white space.
pub(crate) fn trim_ows(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| !is_ows(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_ows(b))
        .map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::trim_ows;

    #[test]
    fn trims_spaces_and_tabs_only() {
        for (input, want) in [
            (&b""[..], &b""[..]),
            (b" \t ", b""),
            (b"a", b"a"),
            (b" \ta b\t ", b"a b"),
            (b"\r\na\r\n", b"\r\na\r\n"),
        ] {
            assert_eq!(
                trim_ows(input),
                want,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }
}
