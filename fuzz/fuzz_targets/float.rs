//! Any `f64` (8 input bytes as its bits) is written by `write_float` as std writes it (the
//! shortest digits that read back, the closest of those): `Display` between 1e-5 and 1e21,
//! `{:e}` outside, `NaN`, `+Inf` and `-Inf` as Go spells them; and Rust's parser, which is
//! exact, reads the text back as the same bits.
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
        let want = if v.is_nan() {
            "NaN".to_string()
        } else if v.is_infinite() {
            if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
        } else if v == 0.0 || (1e-5..1e21).contains(&v.abs()) {
            format!("{v}")
        } else {
            format!("{v:e}")
        };
        assert_eq!(text, want, "{v:e}");
        if v.is_finite() {
            let back: f64 = text.parse().expect("parses");
            assert_eq!(back.to_bits(), v.to_bits(), "{text} for {v:e}");
        }
    }
});
