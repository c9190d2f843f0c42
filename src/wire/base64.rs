//! Base64 decoding into a caller's buffer, for the two alphabets basic auth meets: RFC 4648's
//! (the `Authorization: Basic` credentials) and bcrypt's (the salt and digest of a hash).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

/// RFC 4648's alphabet: `A–Z a–z 0–9 + /`.
pub(crate) fn standard(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// bcrypt's alphabet: `. / A–Z a–z 0–9`, the same bit order as RFC 4648, never padded.
pub(crate) fn bcrypt(b: u8) -> Option<u8> {
    match b {
        b'.' => Some(0),
        b'/' => Some(1),
        b'A'..=b'Z' => Some(b - b'A' + 2),
        b'a'..=b'z' => Some(b - b'a' + 28),
        b'0'..=b'9' => Some(b - b'0' + 54),
        _ => None,
    }
}

/// Decodes `input` (characters of `alphabet`, then at most two `=` that complete its last
/// group of four) into the start of `out`; the number of bytes written, or `None` if a
/// character is not in the alphabet, the length cannot be base64 (one character left over),
/// or `out` is too small. Bits past the last whole byte are ignored.
pub(crate) fn decode(
    input: &[u8],
    alphabet: fn(u8) -> Option<u8>,
    out: &mut [u8],
) -> Option<usize> {
    let padding = input.iter().rev().take_while(|&&b| b == b'=').count();
    let data = input.get(..input.len() - padding)?;
    if padding > 2 || (padding > 0 && input.len() % 4 != 0) || data.len() % 4 == 1 {
        return None;
    }
    let mut written = 0;
    let mut bits: u32 = 0;
    let mut held = 0;
    for &b in data {
        bits = (bits << 6) | u32::from(alphabet(b)?);
        held += 6;
        if held >= 8 {
            held -= 8;
            *out.get_mut(written)? = (bits >> held) as u8;
            written += 1;
        }
    }
    Some(written)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn decoded(input: &str, alphabet: fn(u8) -> Option<u8>) -> Option<Vec<u8>> {
        let mut out = [0u8; 64];
        decode(input.as_bytes(), alphabet, &mut out).map(|n| out[..n].to_vec())
    }

    #[test]
    fn standard_alphabet_follows_rfc_4648_vectors() {
        for (text, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(
                decoded(encoded, standard).unwrap(),
                text.as_bytes(),
                "{encoded}"
            );
        }
        // Unpadded is taken too (curl pads, some clients do not).
        assert_eq!(decoded("Zm8", standard).unwrap(), b"fo");
        assert_eq!(decoded("+/+/", standard).unwrap(), [0xfb, 0xff, 0xbf]);
    }

    #[test]
    fn malformed_input_is_refused() {
        for bad in [
            "Z", "Zm9vY", "Zg===", "Z===", "Zm=8", "Zm9v!", "Zg=", "=", "Zm 9v", "é",
        ] {
            assert_eq!(decoded(bad, standard), None, "{bad}");
        }
        let mut small = [0u8; 2];
        assert_eq!(
            decode(b"Zm9v", standard, &mut small),
            None,
            "too small a buffer"
        );
    }

    #[test]
    fn bcrypt_alphabet_is_offset_from_the_standard_one() {
        // The same bits as `Zm9v` ("foo"), spelled in bcrypt's alphabet.
        let shifted: String = "Zm9v"
            .bytes()
            .map(|b| {
                let v = standard(b).unwrap();
                (b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")[v as usize]
                    as char
            })
            .collect();
        assert_eq!(decoded(&shifted, bcrypt).unwrap(), b"foo");
        assert_eq!(decoded("+", bcrypt), None);
    }
}
