//! `f64` values spelled as Go's `ParseFloat` reads them back, and bucket bounds spelled as
//! client_golang writes them.

use super::decimal::write_u64;
use super::dtoa;

/// Appends `v` as the text format spells numbers: integers exactly (`42`, `-0`), `NaN`, `+Inf`,
/// `-Inf`, other values as the shortest decimal that parses back to the same `f64` (the closest
/// to it of those, as `Display`), with an exponent when very large or very small (`1e300`,
/// `1.5e-7`).
///
/// ```
/// # use prometheus_aioexporter::internals::write_float;
/// let mut out = Vec::new();
/// for v in [1.0, 0.25, f64::INFINITY, f64::NAN, 1e300, -1.5e-7] {
///     write_float(&mut out, v);
///     out.push(b' ');
/// }
/// assert_eq!(out, b"1 0.25 +Inf NaN 1e300 -1.5e-7 ");
/// ```
pub fn write_float(out: &mut Vec<u8>, v: f64) {
    let magnitude = v.abs();
    // Whole numbers below 1e15 exactly (not `fract()`: without SSE4.1 that is a call into
    // libm). Zeros too, `-0` by its sign bit; NaN fails.
    let (whole, rounded) = dtoa::round_small(magnitude);
    if magnitude < 1e15 && rounded == magnitude {
        if v.is_sign_negative() {
            out.push(b'-');
        }
        write_u64(out, whole);
    } else if magnitude <= f64::MAX {
        // The digits and layout of `Display` (or `{:e}` outside 1e-5..1e21), without
        // `core::fmt`'s float machinery.
        dtoa::write_shortest(out, v);
    } else if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
    }
}

/// Appends a bucket bound as client_golang writes `le`, so that our buckets are the same
/// series as a Go exporter's: Go's shortest `%g` (`0.005`, `100000`, `1e+06`,
/// `1e-05`); in OpenMetrics with `.0` when there is neither a point nor an exponent (`1.0`,
/// `1e+06`) when `canonical`, as its canonical numbers want. Done once, when the metric is
/// created.
pub(crate) fn write_bound(out: &mut Vec<u8>, v: f64, canonical: bool) {
    if !v.is_finite() {
        write_float(out, v);
        return;
    }
    let start = out.len();
    dtoa::write_go_general(out, v);
    let written = out.get(start..).unwrap_or_default();
    if canonical && !written.iter().any(|&b| b == b'.' || b == b'e') {
        out.extend_from_slice(b".0");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(v: f64) -> String {
        let mut out = Vec::new();
        write_float(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    /// Short decimals are spelled as `Display` spells them, and so are their neighbours one
    /// ulp away, with up to 17 digits.
    #[test]
    fn short_decimals_and_their_neighbours_match_display() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..100_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let decimals = (state % 7) as i32;
            let m = ((state >> 8) % 2_000_000_000) as f64;
            let exact = m / 10f64.powi(decimals);
            if exact < 1e-5 {
                continue;
            }
            let (up, down) = (exact.to_bits() + 1, exact.to_bits() - 1);
            for v in [exact, -exact, f64::from_bits(up), f64::from_bits(down)] {
                assert_eq!(float(v), format!("{v}"), "{v:e}");
            }
        }
        for (v, spelled) in [
            (0.1 + 0.2, "0.30000000000000004"),
            (1e-5, "0.00001"),
            (0.3, "0.3"),
        ] {
            assert_eq!(float(v), spelled);
        }
    }

    #[test]
    fn floats_are_spelled_as_go_parses_them() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (42.0, "42"),
            (0.5, "0.5"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.3333333333333333"),
            (123456789012345.0, "123456789012345"),
            (1e15, "1000000000000000"),
            (1e20, "100000000000000000000"),
            (1e21, "1e21"),
            (1e300, "1e300"),
            (1e-300, "1e-300"),
            (1.5e-7, "1.5e-7"),
            (0.00001, "0.00001"),
            (f64::MAX, "1.7976931348623157e308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (9007199254740993.0, "9007199254740992"),
        ];
        for &(v, want) in cases {
            assert_eq!(float(v), want, "{v:?}");
        }
    }

    #[test]
    fn floats_round_trip() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            let s = float(v);
            let back: f64 = match s.as_str() {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                other => other.parse().unwrap(),
            };
            if v.is_nan() {
                assert!(back.is_nan());
            } else {
                assert_eq!(back.to_bits(), v.to_bits(), "{v:?} -> {s}");
            }
        }
    }

    /// client_golang's spellings (`strconv.AppendFloat(v, 'g', -1, 64)`, plus `.0` in
    /// OpenMetrics), and the OpenMetrics specification's examples of canonical `le` values.
    #[test]
    fn bucket_bounds_are_spelled_as_client_golang_does() {
        for (v, text, om) in [
            (0.005, "0.005", "0.005"),
            (0.1, "0.1", "0.1"),
            (0.25, "0.25", "0.25"),
            (1.0, "1", "1.0"),
            (2.5, "2.5", "2.5"),
            (10.0, "10", "10.0"),
            (0.0, "0", "0.0"),
            (-0.0, "0", "0.0"),
            (-1.0, "-1", "-1.0"),
            (-0.5, "-0.5", "-0.5"),
            (1e-10, "1e-10", "1e-10"),
            (1e-9, "1e-09", "1e-09"),
            (1e-5, "1e-05", "1e-05"),
            (0.0001, "0.0001", "0.0001"),
            (100000.0, "100000", "100000.0"),
            (999999.0, "999999", "999999.0"),
            (1e6, "1e+06", "1e+06"),
            (1.5e6, "1.5e+06", "1.5e+06"),
            (123456789.0, "1.23456789e+08", "1.23456789e+08"),
            (1e10, "1e+10", "1e+10"),
            (1e21, "1e+21", "1e+21"),
            (1e22, "1e+22", "1e+22"),
            (1e23, "1e+23", "1e+23"),
            (1e100, "1e+100", "1e+100"),
            (1e-100, "1e-100", "1e-100"),
            (0.3, "0.3", "0.3"),
            (1.0 / 3.0, "0.3333333333333333", "0.3333333333333333"),
            (5e-324, "5e-324", "5e-324"),
            (
                f64::MAX,
                "1.7976931348623157e+308",
                "1.7976931348623157e+308",
            ),
            (f64::INFINITY, "+Inf", "+Inf"),
        ] {
            for (canonical, want) in [(false, text), (true, om)] {
                let mut out = Vec::new();
                write_bound(&mut out, v, canonical);
                assert_eq!(String::from_utf8(out).unwrap(), want, "{v:e} {canonical}");
            }
        }
    }

    /// Against `{:e}` (shortest and closest digits, as Go's) laid out Go's way: random bit
    /// patterns over the whole range, powers of two and their neighbours (where the gaps are
    /// uneven), decimals of up to 15 digits, and bounds computed as Go's `ExponentialBuckets`
    /// and `LinearBuckets` compute them (`5904.900000000001`).
    #[test]
    fn bucket_bounds_have_go_s_digits() {
        let go = |v: f64| {
            if v == 0.0 {
                return "0".to_string();
            }
            let e = format!("{v:e}");
            let (mantissa, exponent) = e.split_once('e').unwrap();
            let exponent: i32 = exponent.parse().unwrap();
            if (-4..6).contains(&exponent) {
                format!("{v}")
            } else {
                let sign = if exponent < 0 { '-' } else { '+' };
                format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
            }
        };
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut values = dtoa::hard_floats(next(), 50_000);
        for _ in 0..20_000 {
            let m = next() % 10u64.pow(1 + (next() % 15) as u32);
            values.push(
                format!("{m}e{}", (next() % 600) as i32 - 300)
                    .parse()
                    .unwrap(),
            );
        }
        let (mut exponential, mut linear) = (0.1, 0.001);
        for _ in 0..30 {
            values.extend([exponential, linear]);
            exponential *= 3.0;
            linear += 0.1;
        }
        assert!(values.contains(&5904.900000000001));
        let mut ties = 0;
        for v in values.into_iter().filter(|v| v.is_finite()) {
            let mut out = Vec::new();
            write_bound(&mut out, v, false);
            let ours = String::from_utf8(out).unwrap();
            if ours == go(v) {
                continue;
            }
            // `{:e}` breaks an exact tie between the two nearest upwards; Go, to the even
            // digit. The exact expansion shows a tie: a 5 and only zeros after the digits.
            let digits = |s: &str| -> String {
                let mantissa = s.split('e').next().unwrap();
                mantissa
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect::<String>()
            };
            let ours_digits = digits(&ours).trim_start_matches('0').to_string();
            let exact = digits(&format!("{:.80e}", v.abs()));
            let rest = &exact[ours_digits.len()..];
            assert!(
                rest.starts_with('5') && rest[1..].bytes().all(|b| b == b'0'),
                "{v:e}: ours {ours}, Go's {}",
                go(v)
            );
            let last = ours_digits.bytes().last().unwrap();
            assert_eq!(
                (last - b'0') % 2,
                0,
                "{v:e}: a tie goes to the even digit: {ours}"
            );
            assert_eq!(ours.parse::<f64>().unwrap(), v, "{ours}");
            ties += 1;
        }
        assert!(ties < 20, "{ties} ties");
    }
}
