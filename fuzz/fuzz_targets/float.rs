//! Any `f64` (8 input bytes as its bits) is written by `write_float` as text that Rust's
//! parser, which is exact, reads back as the same bits (NaN as a NaN), with at most 17
//! significant digits, and in the layouts the text format accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prometheus_aioexporter::internals::write_float;

fuzz_target!(|data: &[u8]| {
    for chunk in data.chunks_exact(8) {
        let mut bits = [0u8; 8];
        bits.copy_from_slice(chunk);
        let v = f64::from_bits(u64::from_le_bytes(bits));
        let mut out = Vec::new();
        write_float(&mut out, v);
        let text = std::str::from_utf8(&out).expect("ASCII");
        let back: f64 = match text {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other.parse().expect("parses"),
        };
        if v.is_nan() {
            assert!(back.is_nan(), "{text}");
        } else {
            assert_eq!(back.to_bits(), v.to_bits(), "{text} for {v:e}");
        }
        let mantissa = text.split('e').next().unwrap_or("");
        let digits = mantissa
            .trim_start_matches(['-', '0', '.'])
            .trim_end_matches(['0', '.'])
            .bytes()
            .filter(u8::is_ascii_digit)
            .count();
        assert!(digits <= 17, "{text}");
        assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)), "{text}");
    }
});
