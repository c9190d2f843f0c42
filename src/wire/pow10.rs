//! 128-bit significands of the powers of ten from 10^-292 to 10^324, for [`super::dtoa`]: 24
//! of them stored, one every 27, and the rest computed from those, so that the table costs
//! about 550 bytes of the binary instead of the 10 KB of a full one.
//!
//! `10^n = 5^n × 2^n`, so the significand of `10^n` is that of `5^n`; the significand of
//! `5^(27j + i)` is that of `5^27j` times `5^i` (exact in 64 bits for `i < 28`), renormalised.
//! Truncating the stored one makes the product up to 2 short of the exact floor; a 2-bit
//! correction per power, checked against exact big-integer arithmetic by the tests below,
//! gives the exact value back. 10^0 to 10^26, exact in 64 bits, come straight from the
//! table of powers of five.

/// The smallest and largest `n` of [`significand`].
pub(super) const MIN_EXPONENT: i32 = -292;
pub(super) const MAX_EXPONENT: i32 = 324;

/// Every 27th power stored: `floor(5^n × 2^-e)`, with `e` such that the result is in
/// `[2^127, 2^128)`, for `n = 27 × j - 297`.
const STRIDE: i32 = 27;
const FIRST_BASE: i32 = -297;

#[rustfmt::skip]
const BASES: [u128; 24] = [
    0xa76c582338ed2621af2af2b80af6f24e,
    0x873e4f75e2224e685a7744a6e804a291,
    0xda7f5bf590966848af39a475506a899e,
    0xb080392cc4349decbd8d794d96aacfb3,
    0x8e938662882af53e547eb47b7282ee9c,
    0xe65829b3046b0afa0cb4a5a3112a5112,
    0xba121a4650e4ddeb92f34d62616ce413,
    0x964e858c91ba26553a6a07f8d510f86f,
    0xf2d56790ab41c2a2fae27299423fb9c3,
    0xc428d05aa4751e4caa97e14c3c26b886,
    0x9e74d1b791e07e48775ea264cf55347d,
    0x80000000000000000000000000000000,
    0xcecb8f27f4200f3a0000000000000000,
    0xa70c3c40a64e6c51999090b65f67d924,
    0x86f0ac99b4e8dafd69a028bb3ded71a3,
    0xda01ee641a708de9e80e6f4820cc9495,
    0xb01ae745b101e9e45ec05dcff72e7f8f,
    0x8e41ade9fbebc27d14588f13be847307,
    0xe5d3ef282a242e818f1668c8a86da5fa,
    0xb9a74a0637ce2ee16d953e2bd7173692,
    0x95f83d0a1fb69cd94abdaf101564f98e,
    0xf24a01a73cf2dccfbc633b39673c8cec,
    0xc3b8358109e84f070a862f80ec4700c8,
    0x9e19db92b4e31ba96c07a2c26a8346d1,
];
/// For each `n` from [`MIN_EXPONENT`], 2 bits: what the product misses of the exact floor.
const CORRECTIONS: [u64; 20] = [
    0x9445410050001400,
    0x5445441169565555,
    0x5965255554105540,
    0x4410540051041551,
    0x0100400154010404,
    0x9554000000000000,
    0x0504011659551556,
    0x1150515540010000,
    0x4510551954515544,
    0x0000000000000045,
    0x0000000000000000,
    0x5555900000000000,
    0x555455505969965a,
    0x5145455115050155,
    0x0001101000010555,
    0x4455454555515541,
    0x0000154144415050,
    0x4004000000010000,
    0x0000000000000000,
    0x0000000000000000,
];

/// `5^0` through `5^26`, each shifted left until its top bit is set: the product with a
/// stored power then has its top bit at 191 or 190, so renormalising is a shift by 0 or 1.
const POW5: [u64; 27] = {
    let mut table = [1u64; 27];
    let mut power = 1u64;
    let mut i = 0;
    while i < 27 {
        table[i] = power << power.leading_zeros();
        power *= 5;
        i += 1;
    }
    table
};

/// `floor(10^n × 2^-r) + 1` with `r = floor_log2_pow10(n) - 127`: the 128-bit significand of
/// `10^n`, rounded up (never below the exact value, which Schubfach's error bound wants), for
/// `n` in `MIN_EXPONENT..=MAX_EXPONENT` (clamped outside).
#[inline]
pub(super) fn significand(n: i32) -> u128 {
    // 10^0 to 10^26 are exact in 64 bits, and they are the ones that values of everyday
    // sizes need (1e-11 to 1e15 or so): no product, no correction.
    if let Some(&exact) = usize::try_from(n).ok().and_then(|i| POW5.get(i)) {
        return (u128::from(exact) << 64) + 1;
    }
    let n = n.clamp(MIN_EXPONENT, MAX_EXPONENT);
    // offset / 27 as a multiplication, exact for offsets up to 699.
    let offset = (n - FIRST_BASE) as u32;
    let j = (offset * 2428) >> 16;
    let i = offset - STRIDE as u32 * j;
    let base = BASES.get(j as usize).copied().unwrap_or(1 << 127);
    let multiplier = u128::from(POW5.get(i as usize).copied().unwrap_or(1 << 63));
    // base × multiplier is 192 bits: `high` the top 128, `low` the bottom 64.
    let low = (base as u64 as u128) * multiplier;
    let high = (base >> 64) * multiplier + (low >> 64);
    // The top 128 bits: `high`, or one more bit from `low` if the top one is clear.
    let shifted = high << 1 | (low >> 63) & 1;
    let top = if high >> 127 == 0 { shifted } else { high };
    let index = (n - MIN_EXPONENT) as usize;
    let word = CORRECTIONS.get(index / 32).copied().unwrap_or(0);
    let correction = (word >> (2 * (index % 32))) & 3;
    top + u128::from(correction) + 1
}

/// `floor(q × log10(2))` for `q` in -1074..=971 (the exponents of `f64`s), checked by a test.
#[inline]
pub(super) fn floor_log10_pow2(q: i32) -> i32 {
    (q * 315_653) >> 20
}

/// `floor(log10(3/4 × 2^q))` for `q` in -1074..=971, checked by a test.
#[inline]
pub(super) fn floor_log10_three_quarters_pow2(q: i32) -> i32 {
    (q * 315_653 - 131_008) >> 20
}

/// `floor(n × log2(10))` for `n` in -330..=330, checked by a test.
#[inline]
pub(super) fn floor_log2_pow10(n: i32) -> i32 {
    (n * 1_741_647) >> 19
}

#[cfg(test)]
mod tests {
    use super::super::bignum::Big;
    use super::*;
    use std::cmp::Ordering::{Greater, Less};

    fn pow(base: u32, n: u32) -> Big {
        let mut big = Big::from_u64(1);
        for _ in 0..n {
            big.mul_small(base);
        }
        big
    }

    fn shifted(mut big: Big, bits: u32) -> Big {
        big.shl(bits);
        big
    }

    /// Every significand is the exact `floor + 1`: `g - 1 <= 10^n × 2^-r < g`, in integers,
    /// and its exponent is `floor_log2_pow10`.
    #[test]
    fn significands_are_exact() {
        for n in MIN_EXPONENT..=MAX_EXPONENT {
            let g = significand(n);
            assert!(g >> 127 == 1, "{n}");
            let five = pow(5, n.unsigned_abs());
            let bits = five.bit_len();
            // With `5^|n|` of `bits` bits: for n >= 0 the significand is 5^n × 2^(128 - bits);
            // below, 2^(127 + bits) / 5^-n.
            let (low, high, value) = if n >= 0 {
                let value = shifted(five.clone(), 128);
                (
                    shifted(Big::from_u128(g - 1), bits),
                    shifted(Big::from_u128(g), bits),
                    value,
                )
            } else {
                let value = shifted(Big::from_u64(1), 127 + bits);
                (five.mul_u128(g - 1), five.mul_u128(g), value)
            };
            assert_ne!(low.cmp(&value), Greater, "10^{n}");
            assert_eq!(value.cmp(&high), Less, "10^{n}");
            let log2 = if n >= 0 {
                n + bits as i32 - 1
            } else {
                n - bits as i32
            };
            assert_eq!(floor_log2_pow10(n), log2, "10^{n}");
        }
    }

    /// `10^k <= c × 2^q < 10^(k+1)` in integers, for every exponent of an `f64`.
    #[test]
    fn logarithms_are_exact() {
        // Is 10^k <= (3/4 if quarters) × 2^q? Both sides times 4 × 10^max(0,-k) × 2^max(0,-q).
        let at_most = |k: i32, q: i32, quarters: bool| {
            let (kn, qn) = (k.max(0) as u32, q.max(0) as u32);
            let (kd, qd) = ((-k).max(0) as u32, (-q).max(0) as u32);
            let left = shifted(pow(10, kn), 2 + qd);
            let mut right = shifted(pow(10, kd), qn);
            right.mul_small(if quarters { 3 } else { 4 });
            left.cmp(&right) != Greater
        };
        for q in -1074..=971 {
            let k = floor_log10_pow2(q);
            assert!(at_most(k, q, false) && !at_most(k + 1, q, false), "2^{q}");
            let k = floor_log10_three_quarters_pow2(q);
            assert!(at_most(k, q, true) && !at_most(k + 1, q, true), "3/4 2^{q}");
        }
        for n in -330..=330 {
            let e = floor_log2_pow10(n);
            // 2^e <= 10^n < 2^(e+1), times 2^max(0,-e) × 10^max(0,-n).
            let (nn, nd) = (n.max(0) as u32, (-n).max(0) as u32);
            let ten = shifted(pow(10, nn), (-e).max(0) as u32 + 1);
            let two = shifted(pow(10, nd), e.max(0) as u32);
            assert_ne!(shifted(two.clone(), 1).cmp(&ten), Greater, "10^{n}");
            assert_eq!(ten.cmp(&shifted(two, 2)), Less, "10^{n}");
        }
    }
}
