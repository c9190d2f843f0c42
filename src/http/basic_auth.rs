//! The `Authorization: Basic` request header (RFC 7617): the user and password it carries,
//! decoded into a caller's buffer, so that checking credentials allocates nothing.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::wire::ascii::trim_ows;
use crate::wire::base64;

/// Room for decoded credentials: a user and password longer than this together are refused
/// as wrong (bcrypt reads 72 bytes of a password; no htpasswd user name comes near).
pub const MAX_CREDENTIALS_BYTES: usize = 1024;

/// A user and password, borrowed from the buffer they were decoded into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials<'a> {
    /// The user, before the first `:`.
    pub user: &'a [u8],
    /// The password, after the first `:` (it may hold more).
    pub password: &'a [u8],
}

/// The credentials of an `Authorization` header value, decoded into `buf`; `None` unless the
/// scheme is `Basic` (in any case) followed by base64 of `user:password`.
pub fn basic_credentials<'a>(
    value: &[u8],
    buf: &'a mut [u8; MAX_CREDENTIALS_BYTES],
) -> Option<Credentials<'a>> {
    let value = trim_ows(value);
    let scheme = value.get(..6)?;
    if !scheme.eq_ignore_ascii_case(b"basic ") {
        return None;
    }
    let token = trim_ows(value.get(6..)?);
    let len = base64::decode(token, base64::standard, buf)?;
    let decoded = buf.get(..len)?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    Some(Credentials {
        user: decoded.get(..colon)?,
        password: decoded.get(colon + 1..)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn parsed(value: &str) -> Option<(String, String)> {
        let mut buf = [0u8; MAX_CREDENTIALS_BYTES];
        basic_credentials(value.as_bytes(), &mut buf).map(|c| {
            (
                String::from_utf8_lossy(c.user).into_owned(),
                String::from_utf8_lossy(c.password).into_owned(),
            )
        })
    }

    #[test]
    fn basic_credentials_are_decoded() {
        let pair = |u: &str, p: &str| Some((u.to_string(), p.to_string()));
        // RFC 7617's example.
        assert_eq!(
            parsed("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
            pair("Aladdin", "open sesame")
        );
        assert_eq!(
            parsed("basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
            pair("Aladdin", "open sesame")
        );
        assert_eq!(
            parsed(" BASIC   YTpiOmM= "),
            pair("a", "b:c"),
            "the first colon splits"
        );
        assert_eq!(parsed("Basic Og=="), pair("", ""));
    }

    #[test]
    fn anything_else_is_no_credentials() {
        for bad in [
            "",
            "Basic",
            "Basic ",
            "Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
            "BasicQWxhZGRpbjpvcGVuIHNlc2FtZQ==",
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZ", // a group of one character
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=!", // not base64
            "Basic YWxhZGRpbg==",              // "aladdin": no colon
            "Digest username=\"a\"",
        ] {
            assert_eq!(parsed(bad), None, "{bad:?}");
        }
        let long = format!("Basic {}", "QUFB".repeat(MAX_CREDENTIALS_BYTES / 3 + 1));
        assert_eq!(parsed(&long), None, "longer than the buffer");
    }
}
