//! Decimal digits of integers, and the copy of short pieces every writer here makes.

/// The decimal digits of a `u64`, in a buffer on the stack.
pub(crate) struct Decimal {
    digits: [u8; 20],
    start: usize,
}

impl Decimal {
    pub(crate) fn new(mut n: u64) -> Decimal {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        // Two digits per division, from a table of "00" to "99".
        while n >= 10 {
            let pair = (n % 100) as usize * 2;
            n /= 100;
            start -= 2;
            digits[start..start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        }
        // The last pair came from n >= 10, so it has no leading zero; what is left is one digit.
        if n > 0 || start == digits.len() {
            start -= 1;
            digits[start] = b'0' + n as u8;
        }
        Decimal { digits, start }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.digits.get(self.start..).unwrap_or_default()
    }

    #[cfg(feature = "server")]
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

/// Appends the decimal digits of `n`, without going through `format!`.
pub(crate) fn write_u64(out: &mut Vec<u8>, n: u64) {
    push_short(out, Decimal::new(n).as_bytes());
}

/// The eight decimal digits of `n < 10^8`, leading zeros included, computed in the lanes of
/// one `u64`: the two halves of four digits, then the pairs, then the digits, each split by a
/// multiplication and a shift that divide exactly in the range (`x / 100 ==
/// x * 10486 >> 20` for `x < 10^4`, `y / 10 == y * 103 >> 10` for `y < 100`). Each split puts
/// `q` in a lane and `x - q × d` in the next, `w` bits up, written `(x << w) + q × (1 - (d <<
/// w))`: one instruction fewer than with the subtraction apart, and the same lane values, so
/// nothing carries across lanes.
#[inline]
pub(super) fn eight_digits(n: u32) -> [u8; 8] {
    let split = |x: u64, q: u64, d: u64, w: u32| {
        (x << w).wrapping_add(q.wrapping_mul(1u64.wrapping_sub(d << w)))
    };
    let n = u64::from(n);
    // Little-endian: the first digits go to the low lanes.
    let halves = split(n, n / 10_000, 10_000, 32);
    let pairs = split(
        halves,
        ((halves * 10_486) >> 20) & 0x0000_007f_0000_007f,
        100,
        16,
    );
    let digits = split(pairs, ((pairs * 103) >> 10) & 0x000f_000f_000f_000f, 10, 8);
    (digits + 0x3030_3030_3030_3030).to_le_bytes()
}

/// "00", "01", …, "99".
pub(super) const DIGIT_PAIRS: [u8; 200] = {
    let mut table = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        table[2 * i] = b'0' + (i / 10) as u8;
        table[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    table
};

/// Appends `bytes`, one of the short pieces an exposition is made of (a name, label pairs, a
/// number). With musl, in 8-byte steps the compiler copies inline: `extend_from_slice` calls
/// `memcpy` for each piece, and musl's `memcpy`, made for long copies, then took two thirds of
/// an encode (see the README's performance section). glibc's is quicker than the steps.
#[cfg(not(target_env = "musl"))]
#[inline(always)]
pub(crate) fn push_short(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(bytes);
}

/// See the other `push_short`.
#[cfg(target_env = "musl")]
#[inline(always)]
pub(crate) fn push_short(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() > 128 {
        out.extend_from_slice(bytes);
        return;
    }
    out.reserve(bytes.len());
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        out.extend_from_slice(&word);
    }
    for &b in chunks.remainder() {
        out.push(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_written_without_formatting_machinery() {
        for (n, want) in [
            (0u64, "0"),
            (7, "7"),
            (10, "10"),
            (u64::MAX, "18446744073709551615"),
        ] {
            let mut out = Vec::new();
            write_u64(&mut out, n);
            assert_eq!(out, want.as_bytes());
        }
        // Every length, and around every power of ten.
        let mut n = 1u64;
        while let Some(next) = n.checked_mul(10) {
            for v in [n - 1, n, n + 1, n + 5, next - 1] {
                let mut out = Vec::new();
                write_u64(&mut out, v);
                assert_eq!(out, v.to_string().as_bytes());
            }
            n = next;
        }
        for n in (0..100_000_000u32).step_by(7).chain([99_999_999]) {
            assert_eq!(eight_digits(n), *format!("{n:08}").as_bytes());
        }
        for v in 0..100_000u64 {
            let mut out = Vec::new();
            write_u64(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes());
        }
    }
}
