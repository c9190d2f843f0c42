//! Decimal digits of an `f64` that read back as the same `f64`: the shortest such digits, and
//! of those the closest to the value, without `core::fmt`.
//!
//! Why not `format!("{v}")`: Rust's float formatting (Grisu3 with a Dragon4 bignum fallback, and
//! the exact-precision variants `Display` also carries) is a fair share of what a static
//! binary would cost on top of std (the README's size section has the figures). This module is
//! Schubfach (Giulietti, "The Schubfach way to render doubles", 2020): the value and the two
//! ends of its rounding interval are scaled by a 128-bit power of ten ([`super::pow10`]) so that
//! at most one multiple of ten lies in the scaled interval; that one, or else the nearer of the
//! two integers around the value, are the digits. Three 128×64-bit products and a few
//! comparisons, no loop over digits; each product is rounded to odd, which keeps exactly the
//! information the comparisons need (the paper proves it for a significand no more than one
//! unit above the exact power, which is what the table holds). Whole millionths below 1e9
//! (`0.25`, `1234.5`) skip it: one multiplication, and a division that proves the digits
//! ([`short_decimal`]).
//!
//! [`write_shortest`] writes the layout of Rust's `Display` for `1e-5 <= |v| < 1e21`
//! (`0.25`, `123.5`) and of `{:e}` otherwise (`1e300`, `-1.5e-7`), with their digits (a tie
//! between two closest goes up, as theirs). [`write_go_general`] writes bucket bounds as Go does
//! (`1e+06`, a tie to the even digit), since an `le` label is compared as a string and one digit
//! off makes it another series.

use super::decimal::{eight_digits, DIGIT_PAIRS};
use super::pow10;

/// Which of two shortest decimals, equally close to the value, to take.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tie {
    /// The larger, as Rust's `Display` and `{:e}`.
    Up,
    /// The even one, as Go's `strconv` and Python's `repr`.
    Even,
}

/// The shortest decimal `digits × 10^exponent` that reads back as the finite `v > 0`, the
/// closest to `v` of those (`digits` may end in zeros, which [`Line`] drops).
fn shortest(v: f64, tie: Tie) -> (u64, i32) {
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    // v = c × 2^q.
    let (c, q) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << 52, biased - 1075)
    };
    // Everything times 4, so the ends of the interval, halfway to the neighbours, are integers;
    // above a power of two the neighbour below is half as far as the one above.
    let center = c << 2;
    let (low, k) = if fraction == 0 && biased > 1 {
        (center - 1, pow10::floor_log10_three_quarters_pow2(q))
    } else {
        (center - 2, pow10::floor_log10_pow2(q))
    };
    let high = center + 2;
    // Scaled by 10^-k the interval is at least 1 and under 10 wide. The shift (1 to 4) makes
    // the product with the significand come out in units of 1/4 after the top 64 bits.
    let g = pow10::significand(-k);
    let shift = q + pow10::floor_log2_pow10(-k) + 1;
    let scaled = |x: u64| round_to_odd(g, x << shift);
    // An odd significand's interval excludes its ends (the reader rounds ties to even).
    let open = c & 1;
    let (vb, vb_low, vb_high) = (scaled(center), scaled(low) + open, scaled(high) - open);
    let s = vb >> 2;
    // A multiple of ten inside (at most one fits) is the shortest. The one below vb can only
    // be below the interval, the one above only above it: one comparison each.
    let tens = s / 10;
    let (ten_in, next_ten_in) = (vb_low <= tens * 40, (tens + 1) * 40 <= vb_high);
    // Otherwise the one of s and s + 1 inside, or the nearer; vb against 4s + 2, the midpoint.
    // Neither ends in zero: it would be the multiple of ten inside.
    let (s_in, next_in) = (vb_low <= s << 2, (s + 1) << 2 <= vb_high);
    let midpoint = (s << 2) + 2;
    let nearer_up = (vb > midpoint) | (vb == midpoint) & (tie == Tie::Up || s & 1 == 1);
    // Selections by masks, not branches: for arbitrary values which case applies is a coin
    // toss, and a mispredicted branch costs more than computing both.
    let one_in = s_in != next_in;
    let up = (one_in & next_in) | (!one_in & nearer_up);
    let ten = u64::from(ten_in != next_ten_in);
    let mask = ten.wrapping_neg();
    let digits = (tens + u64::from(next_ten_in)) & mask | (s + u64::from(up)) & !mask;
    (digits, k + ten as i32)
}

/// `v` as a whole number of millionths, when it is one (`0.25`, `1234.5`, `0.000125`), for
/// `1e-5 <= v < 1e9`: a multiplication, a conversion and a division instead of Schubfach.
///
/// Below 1e9, `v × 10^6 < 2^50`: the gap between `v` and its neighbours, times 10^6, is under
/// 1/4, so at most one multiple of 10^-6 reads back as `v`, and when one does, the rounded
/// product finds it. The division checks it: `m` and 10^6 are exact, and a correctly rounded
/// division rounds as the reader does. Fewer decimals would show as trailing zeros of `m`;
/// no number with fewer digits can read back as `v` (it would be a whole number, and those
/// are exact), so these are Schubfach's digits too.
#[inline]
fn short_decimal(v: f64) -> Option<(u64, i32)> {
    if !within(v, 1e-5, 1e9) {
        return None;
    }
    let (m, rounded) = round_small(v * 1e6);
    (rounded / 1e6 == v).then_some((m, -6))
}

/// `low <= v < high` for positive `low`, `high` and `v` (NaN fails), with one branch: positive
/// `f64`s are ordered as their bits. Two comparisons would be two branches, the first a coin
/// toss for arbitrary values.
#[inline]
fn within(v: f64, low: f64, high: f64) -> bool {
    let from_low = v.to_bits().wrapping_sub(low.to_bits());
    from_low < high.to_bits() - low.to_bits()
}

/// `x` rounded to a whole number, as an integer and as an `f64`, for `0 <= x < 2^52`: added to
/// 2^52 it has no bits below the unit, so the addition rounds it and its significand bits are
/// the integer. No call to libm's `round` (without SSE4.1), no saturating conversion.
#[inline]
pub(super) fn round_small(x: f64) -> (u64, f64) {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    let shifted = x + TWO_52;
    (shifted.to_bits() & ((1 << 52) - 1), shifted - TWO_52)
}

/// `g × x / 2^128`, with the lowest bit set when the quotient is not exact (rounding to odd),
/// so that comparing it with a multiple of 4 gives the same answer as the exact quotient.
#[inline]
fn round_to_odd(g: u128, x: u64) -> u64 {
    let x = u128::from(x);
    let low = (g as u64 as u128) * x;
    // Below 2^123 + 2^59: no overflow.
    let product = (g >> 64) * x + (low >> 64);
    (product >> 64) as u64 | u64::from(product as u64 != 0)
}

/// The text of a number, built in place: a `'-'` at `line[0]`, then the shortest digits of
/// a finite `v > 0` from `line[1]` on (the first never `'0'`, the significant ones `len`, then
/// `'0'`s), which the layouts move into place. Pieces of a fixed size move in a few
/// instructions, where a copy of a variable length is a call to `memcpy`; the text is cut to
/// length at the end.
struct Line {
    line: [u8; 48],
    len: usize,
    /// `v ≈ 0.DIGITS × 10^point`.
    point: i32,
    /// The length of the text after the sign, once laid out.
    text_len: usize,
}

impl Line {
    fn of(v: f64, tie: Tie) -> Line {
        let (n, exponent) = match short_decimal(v) {
            Some(short) => short,
            None => shortest(v, tie),
        };
        // The number of digits from the bit length: `guess`, or one more.
        let guess = (((64 - n.leading_zeros()) * 1233) >> 12) as usize;
        let longer = POW10.get(guess).is_some_and(|&p| n >= p);
        let count = guess + usize::from(longer);
        // n < 10^17. Scaled to exactly 17 digits, the first lands at line[1] whatever the
        // length: a multiplication instead of copies at a variable offset. Both scales are
        // loaded at once with the threshold, rather than one after the count is known: this
        // is the longest chain of dependencies of the whole writer.
        let scale = |i: usize| POW10.get(i).copied().unwrap_or(1);
        let (shorter_scale, longer_scale) =
            (scale(17 - guess), scale(16usize.saturating_sub(guess)));
        let aligned = n * if longer { longer_scale } else { shorter_scale };
        let (upper, lowest) = (
            (aligned / 100_000_000) as u32,
            (aligned % 100_000_000) as u32,
        );
        // upper < 10^9: 32-bit arithmetic.
        let (first, middle) = ((upper / 100_000_000) as u8, upper % 100_000_000);
        let (middle, lowest) = (eight_digits(middle), eight_digits(lowest));
        let mut line = [b'0'; 48];
        line[0] = b'-';
        line[1] = b'0'.wrapping_add(first);
        put(&mut line, 2, middle);
        put(&mut line, 10, lowest);
        // The trailing zeros (the scaling's and n's own): '0' bytes from the last digit back,
        // which in little-endian words are the top bytes, counted at once.
        let zero_bits = |digits: [u8; 8]| u64::from_le_bytes(digits) ^ 0x3030_3030_3030_3030;
        let tail = u128::from(zero_bits(lowest)) << 64 | u128::from(zero_bits(middle));
        let zeros = (tail.leading_zeros() / 8) as usize;
        Line {
            line,
            len: 17 - zeros.min(16),
            point: exponent + count as i32,
            text_len: 0,
        }
    }

    /// `N` bytes from the `at`th after the sign.
    #[inline]
    fn get<const N: usize>(&self, at: usize) -> [u8; N] {
        self.line
            .get(1 + at..1 + at + N)
            .and_then(|piece| piece.try_into().ok())
            .unwrap_or([b'0'; N])
    }

    /// Copies `piece` to the `at`th byte after the sign.
    #[inline]
    fn put<const N: usize>(&mut self, at: usize, piece: [u8; N]) {
        put(&mut self.line, 1 + at, piece);
    }

    /// Appends the text, with the sign if `negative`: one copy of a fixed size, then a cut.
    #[inline]
    fn emit(&self, out: &mut Vec<u8>, negative: bool) {
        let start = usize::from(!negative);
        let before = out.len();
        out.extend_from_slice(self.line.get(start..start + 32).unwrap_or_default());
        out.truncate(before + (usize::from(negative) + self.text_len).min(32));
    }
}

/// 10^0 through 10^19.
const POW10: [u64; 20] = {
    let mut table = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// Copies `piece` into `text` at `at` (nothing if it does not fit, which the callers rule out).
#[inline]
fn put<const N: usize, const M: usize>(text: &mut [u8; M], at: usize, piece: [u8; N]) {
    if let Some(slot) = text.get_mut(at..at + N) {
        slot.copy_from_slice(&piece);
    }
}

/// Appends a finite, non-zero `v`: plain decimal for `1e-5 <= |v| < 1e21` (as `Display`),
/// otherwise scientific (as `{:e}`), with the shortest digits that read back as `v`.
pub(crate) fn write_shortest(out: &mut Vec<u8>, v: f64) {
    let mut line = Line::of(v.abs(), Tie::Up);
    if within(v.abs(), 1e-5, 1e21) {
        positional(&mut line);
    } else {
        let exponent = line.point - 1;
        scientific(&mut line, exponent, false);
    }
    line.emit(out, v < 0.0);
}

/// Appends a finite `v` as Go's `strconv.FormatFloat(v, 'g', -1, 64)` spells it, which is how
/// client_golang writes `le` values: the fewest digits that read back, positional unless the
/// exponent is below -4 or at least 6, then with a sign and two digits or more (`0.0001`,
/// `1e-05`, `250000`, `1e+06`, `1.5e+23`; either zero is `0`), with Go's digits: the
/// shortest, the closest of those, a tie to the even one (`5904.900000000001`).
pub(crate) fn write_go_general(out: &mut Vec<u8>, v: f64) {
    if v == 0.0 {
        // `-0` too: client_golang writes either zero as `0`.
        out.push(b'0');
        return;
    }
    let mut line = Line::of(v.abs(), Tie::Even);
    let exponent = line.point - 1;
    if (-4..6).contains(&exponent) {
        positional(&mut line);
    } else {
        scientific(&mut line, exponent, true);
    }
    line.emit(out, v < 0.0);
}

/// `0.DIGITS × 10^point` without an exponent, for `-4 <= point <= 21`: `1500`, `1.5`,
/// `0.0015`.
fn positional(line: &mut Line) {
    let (n, point) = (line.len, line.point);
    line.text_len = if point >= n as i32 {
        // The digits, then the zeros that follow them.
        point as usize
    } else if point > 0 {
        // The part after the point one byte further on.
        let p = point as usize;
        line.put(p + 1, line.get::<16>(p));
        line.put(p, [b'.']);
        n + 1
    } else {
        // The digits moved after "0." and as many zeros as -point.
        let digits = line.get::<24>(0);
        line.put(0, *b"0.000000");
        let at = 2 + point.unsigned_abs() as usize;
        line.put(at, digits);
        at + n
    };
}

/// `D.IGITS × 10^exponent` as `1.5e-7`, or Go's way with `go`: `1.5e-07`, `1e+300`.
fn scientific(line: &mut Line, exponent: i32, go: bool) {
    line.put(2, line.get::<16>(1));
    line.put(1, [b'.']);
    // No point after a single digit: the exponent goes over it.
    let at = if line.len > 1 { line.len + 1 } else { 1 };
    let (suffix, len) = exponent_text(exponent, go);
    line.put(at, suffix);
    line.text_len = at + len;
}

/// `e-7`, `e300`, or Go's way with `go`: `e-07`, `e+300`; and its length. Without a branch on
/// the number of digits, which random exponents would mispredict.
fn exponent_text(exponent: i32, go: bool) -> ([u8; 8], usize) {
    let e = exponent.unsigned_abs() as usize;
    // e < 400, where e × 41 / 4096 is e / 100.
    let hundreds = (e * 41) >> 12;
    // `min`: in bounds for the compiler too, no check and branch on the lookup.
    let i = (e - hundreds * 100).min(99) * 2;
    let pair = DIGIT_PAIRS
        .get(i..i + 2)
        .map_or(0, |p| u32::from(p[0]) | u32::from(p[1]) << 8);
    // Three digits, the first in the low byte, then as many dropped as are leading zeros.
    let three = (u32::from(b'0') + hundreds as u32) | pair << 8;
    let count = 1 + usize::from(e >= 10 || go) + usize::from(e >= 100);
    let digits = u64::from(three >> (8 * (3 - count)));
    let signed = exponent < 0 || go;
    let sign = u64::from(if exponent < 0 { b'-' } else { b'+' });
    let text = if signed {
        u64::from(b'e') | sign << 8 | digits << 16
    } else {
        u64::from(b'e') | digits << 8
    };
    (text.to_le_bytes(), 1 + usize::from(signed) + count)
}

/// For tests: `n` random bit patterns (from `seed`), then every power of two and its two
/// neighbours, where the gaps to the neighbours change.
#[cfg(test)]
pub(crate) fn hard_floats(seed: u64, n: usize) -> Vec<f64> {
    let mut state = seed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut values: Vec<f64> = (0..n).map(|_| f64::from_bits(next())).collect();
    for e in -1074..1024 {
        let p = 2f64.powi(e);
        values.extend([
            p,
            f64::from_bits(p.to_bits() + 1),
            f64::from_bits(p.to_bits().saturating_sub(1)),
        ]);
    }
    values
}

#[cfg(test)]
mod tests {
    use super::write_shortest;

    /// The next `f64` above and below a finite, positive `v` (`f64::next_up` is newer than
    /// our MSRV).
    fn up(v: f64) -> f64 {
        f64::from_bits(v.to_bits() + 1)
    }

    fn down(v: f64) -> f64 {
        f64::from_bits(v.to_bits() - 1)
    }

    fn shortest(v: f64) -> String {
        let mut out = Vec::new();
        write_shortest(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn layouts_match_display_and_lower_exp() {
        for (v, want) in [
            (0.25, "0.25"),
            (0.1, "0.1"),
            (-0.3, "-0.3"),
            (123.456, "123.456"),
            (1e-5, "0.00001"),
            (1.5e-5, "0.000015"),
            (9.99e-6, "9.99e-6"),
            (1e20, "100000000000000000000"),
            (1.5e20, "150000000000000000000"),
            (1e21, "1e21"),
            (1e23, "1e23"),
            (1e300, "1e300"),
            (-1.5e-7, "-1.5e-7"),
            (f64::MAX, "1.7976931348623157e308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
            (1e15 + 0.5, "1000000000000000.5"),
            (2.0f64.powi(60), "1152921504606847000"),
            // A tie between .2 and .3: up, as `Display`.
            (2.0f64.powi(50) + 0.25, "1125899906842624.3"),
        ] {
            assert_eq!(shortest(v), want, "{v:e}");
        }
    }

    /// What `Display` (inside 1e-5..1e21) or `{:e}` (outside) would write: std's digits are
    /// the shortest that read back and the closest of those.
    fn std_spelling(v: f64) -> String {
        if (1e-5..1e21).contains(&v.abs()) {
            format!("{v}")
        } else {
            format!("{v:e}")
        }
    }

    /// The differential test: the same text as std, for random bit patterns over the whole
    /// range, every power of two and its neighbours, powers of ten and theirs, integers,
    /// decimals of up to 17 digits, whole millionths and their neighbours, exact ties between
    /// two shortest, the smallest subnormals one by one, and the extremes.
    #[test]
    fn digits_are_std_s() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut values = super::hard_floats(next(), 300_000);
        for e in -323..309 {
            let p: f64 = format!("1e{e}").parse().unwrap();
            values.extend([p, up(p), down(p)]);
        }
        for _ in 0..50_000 {
            let m = next() % 10u64.pow(1 + (next() % 17) as u32);
            let e = (next() % 640) as i32 - 330;
            values.push(format!("{m}e{e}").parse().unwrap());
            values.push((next() >> 11) as f64);
            values.push((next() % 1_000_000) as f64 / 1000.0);
        }
        // Whole millionths below 1e9 (the short path) and their neighbours, which are not.
        for _ in 0..20_000 {
            let v = (1 + next() % 999_999_999_999_999) as f64 / 1e6;
            values.extend([v, up(v), down(v)]);
        }
        // Between 2^50 and 2^54 the last digit of 17 can tie: odd multiples of a quarter.
        for i in 0..20_000u64 {
            let base = 2f64.powi(50 + (i % 4) as i32);
            values.push(base + (2 * (next() % (1 << 20)) + 1) as f64 * 0.25);
        }
        values.extend((1..100_000).map(f64::from_bits));
        values.extend([f64::MAX, f64::MIN_POSITIVE, down(f64::MIN_POSITIVE), 5e-324]);
        let mut checked = 0;
        for v in values {
            if !v.is_finite() || v == 0.0 {
                continue;
            }
            for v in [v, -v] {
                assert_eq!(shortest(v), std_spelling(v), "{v:e}");
            }
            checked += 1;
        }
        assert!(checked > 500_000, "{checked}");
    }

    /// `shortest` on every `f64` whose bits are `0x3ff0_0000_xxxx_xxxx` for a stretch, i.e.
    /// neighbours in a row: rounding boundaries show up in runs.
    #[test]
    fn neighbours_in_a_row_are_std_s() {
        let mut v = 1.0f64;
        for _ in 0..100_000 {
            assert_eq!(shortest(v), std_spelling(v), "{v:e}");
            v = up(v);
        }
    }
}
