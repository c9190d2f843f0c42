//! bcrypt hashes as `htpasswd -B` writes them (`$2y$05$` + 22 characters of salt + 31 of
//! digest), parsed once and checked against a password on the blowfish crate's EksBlowfish
//! key schedule.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt;

use crate::wire::base64;

/// The lowest and highest cost accepted. Checking runs on the server's one thread, so the
/// highest is what a check may block it for: cost 12 is about 0.25 s on a current core.
pub(crate) const MIN_COST: u32 = 4;
pub(crate) const MAX_COST: u32 = 12;

/// What bcrypt encrypts 64 times with the key schedule it derived (Provos and Mazières).
const MAGIC: &[u8; 24] = b"OrpheanBeholderScryDoubt";

/// A bcrypt hash: cost, 16 bytes of salt, and the first 23 bytes of the digest.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Hash {
    /// `$2a$`, whose writers since 2011 (Openwall's crypt_blowfish: libxcrypt, PHP) hash
    /// some passwords with bytes of 0x80 and above differently from `$2b$` and `$2y$`.
    two_a: bool,
    cost: u32,
    salt: [u8; 16],
    digest: [u8; 23],
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The digest would help whoever reads logs guess passwords offline.
        write!(f, "Hash {{ cost: {} }}", self.cost)
    }
}

/// Why a hash is not one this module checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HashError {
    /// Apache's MD5 (`$apr1$`), SHA-1 (`{SHA}`), crypt, or anything else but bcrypt.
    NotBcrypt(&'static str),
    /// A bcrypt cost outside [`MIN_COST`]..=[`MAX_COST`].
    Cost(String),
    /// Salt or digest of the wrong length or outside bcrypt's alphabet.
    Malformed,
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashError::NotBcrypt(kind) => write!(f, "{kind} hash, not bcrypt"),
            HashError::Cost(cost) => write!(
                f,
                "bcrypt cost '{cost}' out of range: expected {MIN_COST:02} to {MAX_COST} \
                 (a check blocks the server's thread for the time the cost asks)"
            ),
            HashError::Malformed => {
                write!(
                    f,
                    "malformed bcrypt hash: expected 53 characters of ./A-Za-z0-9 after the cost"
                )
            }
        }
    }
}

impl Hash {
    /// Parses `$2y$`, `$2b$` or `$2a$`, a two-digit cost and `$`, then salt and digest.
    pub(crate) fn parse(text: &str) -> Result<Hash, HashError> {
        let Some(rest) = ["$2y$", "$2b$", "$2a$"]
            .iter()
            .find_map(|prefix| text.strip_prefix(prefix))
        else {
            return Err(HashError::NotBcrypt(kind_of(text)));
        };
        let (cost_text, encoded) = rest.split_once('$').ok_or(HashError::Malformed)?;
        let cost = Some(cost_text)
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|c| c.parse::<u32>().ok())
            .filter(|c| (MIN_COST..=MAX_COST).contains(c))
            .ok_or_else(|| HashError::Cost(cost_text.to_string()))?;
        if encoded.len() != 53 {
            return Err(HashError::Malformed);
        }
        let (salt_text, digest_text) = encoded.split_at(22);
        let mut salt = [0u8; 16];
        let mut digest = [0u8; 23];
        let decoded_salt = base64::decode(salt_text.as_bytes(), base64::bcrypt, &mut salt);
        let decoded_digest = base64::decode(digest_text.as_bytes(), base64::bcrypt, &mut digest);
        if decoded_salt != Some(16) || decoded_digest != Some(23) {
            return Err(HashError::Malformed);
        }
        let two_a = text.starts_with("$2a$");
        Ok(Hash {
            two_a,
            cost,
            salt,
            digest,
        })
    }

    /// `true` if `password` hashes to this digest. Takes 2^cost rounds of key expansion: the
    /// slowness is bcrypt's point. The digests are compared in constant time.
    pub(crate) fn verify(&self, password: &[u8]) -> bool {
        let digest = digest(self.cost, &self.salt, password, self.two_a);
        constant_time_eq(&self.digest, &digest)
    }
}

/// bcrypt's digest of `password` with `salt` at `cost`: the key is the password and a NUL,
/// cut at 72 bytes, as OpenBSD's `$2b$` (and `$2y$`, the same) reads it; with `two_a`, the
/// first expansion's key as crypt_blowfish's `$2a$` alters it ([`two_a_key`]).
fn digest(cost: u32, salt: &[u8; 16], password: &[u8], two_a: bool) -> [u8; 23] {
    let mut key = [0u8; 72];
    let copied = password.len().min(72);
    if let (Some(to), Some(from)) = (key.get_mut(..copied), password.get(..copied)) {
        to.copy_from_slice(from);
    }
    let key = key.get(..(copied + 1).min(72)).unwrap_or(&[]);
    let mut state = blowfish::Blowfish::bc_init_state();
    match two_a.then(|| two_a_key(key)).flatten() {
        Some(altered) => state.salted_expand_key(salt, &altered),
        None => state.salted_expand_key(salt, key),
    }
    for _ in 0..1u64 << cost {
        state.bc_expand_key(key);
        state.bc_expand_key(salt);
    }
    let mut out = [0u8; 24];
    for (block, magic) in out.chunks_exact_mut(8).zip(MAGIC.chunks_exact(8)) {
        let word = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap_or([0; 4]));
        let (left, right) = magic.split_at(4);
        let mut lr = [word(left), word(right)];
        for _ in 0..64 {
            lr = state.bc_encrypt(lr);
        }
        let [l, r] = lr;
        let (left, right) = block.split_at_mut(4);
        left.copy_from_slice(&l.to_be_bytes());
        right.copy_from_slice(&r.to_be_bytes());
    }
    let mut digest = [0u8; 23];
    digest.copy_from_slice(out.get(..23).unwrap_or(&[0; 23]));
    digest
}

/// The key of a `$2a$` hash's first expansion, when crypt_blowfish alters it: cycled to the
/// 72 bytes the schedule reads, with bit 16 of its first word flipped, if a byte of 0x80 or
/// above would have been sign-extended into its word's higher bytes (the 2011 bug) yet every
/// word reads the same either way. crypt_blowfish does this so that such a password's `$2a$`
/// hash matches neither the buggy `$2x$` nor `$2y$`; `None` when it does not apply.
fn two_a_key(key: &[u8]) -> Option<[u8; 72]> {
    let mut stream = [0u8; 72];
    for (to, from) in stream.iter_mut().zip(key.iter().cycle()) {
        *to = *from;
    }
    let (mut sign, mut diff) = (0u32, 0u32);
    for word in stream.chunks_exact(4) {
        let (mut right, mut buggy) = (0u32, 0u32);
        for (i, &b) in word.iter().enumerate() {
            right = right << 8 | u32::from(b);
            buggy = buggy << 8 | b as i8 as i32 as u32;
            if i > 0 {
                sign |= buggy & 0x80;
            }
        }
        diff |= right ^ buggy;
    }
    let altered = diff == 0 && sign != 0;
    if let (true, Some(byte)) = (altered, stream.get_mut(1)) {
        *byte ^= 0x01;
    }
    altered.then_some(stream)
}

/// A name for a hash that is not bcrypt, for the error message.
fn kind_of(text: &str) -> &'static str {
    if text.starts_with("$apr1$") {
        "MD5 ($apr1$)"
    } else if text.starts_with("{SHA}") {
        "SHA-1 ({SHA})"
    } else if text.starts_with("$5$") || text.starts_with("$6$") {
        "SHA-crypt ($5$/$6$)"
    } else if text.starts_with("$2") {
        "unknown bcrypt variant"
    } else if text.starts_with('$') {
        "crypt"
    } else if text.is_empty() {
        "empty"
    } else {
        "crypt or plain-text"
    }
}

/// `true` if `a` and `b` hold the same bytes, in a time that depends on their lengths only.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut difference = u8::from(a.len() != b.len());
    for (x, y) in a.iter().zip(b) {
        difference |= x ^ y;
    }
    // Keeps the compiler from turning the loop into one that stops at the first difference.
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// crypt_blowfish's own vectors (its wrapper.c) for passwords with bytes of 0x80 and
    /// above: `$2a$` alters the key of some of them (the first two), `$2b$` never does.
    #[test]
    fn two_a_hashes_of_8_bit_passwords_verify_as_crypt_blowfish_writes_them() {
        let cases: [(&str, &[u8]); 5] = [
            (
                "$2a$05$/OK.fbVrR/bpIqNJ5ianF.nqd1wy.pTMdcvrRWxyiGL2eMz.2a85.",
                b"\xff\xff\xa3",
            ),
            (
                "$2a$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq",
                b"\xa3",
            ),
            (
                "$2a$05$/OK.fbVrR/bpIqNJ5ianF.ZC1JEJ8Z4gPfpe1JOr/oyPXTWl9EFd.",
                b"\xff\xa334\xff\xff\xff\xa3345",
            ),
            (
                "$2a$05$/OK.fbVrR/bpIqNJ5ianF.nRht2l/HRhr6zmCp9vYUvvsqynflf9e",
                b"\xff\xa3345",
            ),
            (
                "$2b$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e",
                b"\xff\xff\xa3",
            ),
        ];
        for (hash, password) in cases {
            let parsed = Hash::parse(hash).unwrap();
            assert!(parsed.verify(password), "{hash}");
            assert!(!parsed.verify(b"\xff\xff\xa4"), "{hash}: another password");
        }
    }

    #[test]
    fn known_vectors_verify() {
        // OpenBSD's and Openwall's published vectors, and one from `htpasswd -nbB -C 5`.
        for (hash, password) in [
            (
                "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
                "U*U",
            ),
            (
                "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK",
                "U*U*",
            ),
            (
                "$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.",
                "",
            ),
            (
                "$2y$05$0wp89dMeAoYGPugHlYPKq.dzuaOIQ25eEfnT2EBWvGMqkF.kMbqAG",
                "secret",
            ),
        ] {
            let parsed = Hash::parse(hash).unwrap();
            assert!(parsed.verify(password.as_bytes()), "{hash}");
            assert!(!parsed.verify(b"wrong"), "{hash}");
        }
    }

    #[test]
    fn passwords_are_cut_at_72_bytes() {
        let hash = Hash {
            two_a: false,
            cost: 4,
            salt: [7; 16],
            digest: digest(4, &[7; 16], &[b'a'; 72], false),
        };
        assert!(hash.verify(&[b'a'; 100]));
        assert!(!hash.verify(&[b'a'; 71]));
    }

    #[test]
    fn other_hashes_are_named() {
        let err = |h: &str| Hash::parse(h).unwrap_err().to_string();
        assert_eq!(err("$apr1$abc$def"), "MD5 ($apr1$) hash, not bcrypt");
        assert_eq!(
            err("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="),
            "SHA-1 ({SHA}) hash, not bcrypt"
        );
        assert_eq!(err("rqXexS6ZhobKA"), "crypt or plain-text hash, not bcrypt");
        assert_eq!(
            err("$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
            "unknown bcrypt variant hash, not bcrypt"
        );
        for cost in ["03", "13", "99", "5", "1a"] {
            let hash = format!("$2y${cost}$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
            assert!(
                err(&hash).starts_with(&format!("bcrypt cost '{cost}' out of range")),
                "{hash}"
            );
        }
        assert!(err("$2y$05$CCCC").starts_with("malformed bcrypt hash"));
        assert!(
            err("$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe!")
                .starts_with("malformed")
        );
    }

    #[test]
    fn constant_time_eq_compares_bytes_and_lengths() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
