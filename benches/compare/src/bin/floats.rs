//! Float writing speed: the crate's `write_float` (the digits of every sample value) beside
//! std's `Debug`, which writes the same shortest round-tripping digits, also switching to an
//! exponent for very large and small values (`Display` never does, and writes hundreds of
//! digits for them), in one process.
//!
//! Four kinds of 100 000 values each: integers (`i % 100 000`), short decimals
//! (`i × 0.5 + 0.25`), arbitrary measurements (`(i × 1.618).sin() × 1000`) and random finite
//! bit patterns (every exponent). Each sample writes all values of a kind, one per line, into
//! one reused buffer; the samples of the two writers alternate. Prints ns per value, the
//! median and the minimum of the samples, and std ÷ ours.
//!
//! ```text
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin floats [-- --samples 21]
//! ```

use std::hint::black_box;
use std::io::Write as _;
use std::time::Instant;

use prometheus_aioexporter::internals::write_float;

const N: usize = 100_000;
const KINDS: [&str; 4] = ["integers", "short decimals", "sin × 1000", "random bits"];

fn values(kind: &str) -> Vec<f64> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut random_finite = move || loop {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let v = f64::from_bits(state);
        if v.is_finite() {
            return v;
        }
    };
    (0..N)
        .map(|i| match kind {
            "integers" => (i % 100_000) as f64,
            "short decimals" => (i % 100_000) as f64 * 0.5 + 0.25,
            "sin × 1000" => (i as f64 * 1.618).sin() * 1e3,
            _ => random_finite(),
        })
        .collect()
}

/// ns per value of one sample: every value written by `write`, then a newline.
fn sample(values: &[f64], out: &mut Vec<u8>, write: fn(&mut Vec<u8>, f64)) -> f64 {
    out.clear();
    let started = Instant::now();
    for &v in values {
        write(out, black_box(v));
        out.push(b'\n');
    }
    let ns = started.elapsed().as_nanos() as f64 / values.len() as f64;
    black_box(&out);
    ns
}

fn ours(out: &mut Vec<u8>, v: f64) {
    write_float(out, v);
}

fn std_debug(out: &mut Vec<u8>, v: f64) {
    let _ = write!(out, "{v:?}");
}

fn median_min(mut times: Vec<f64>) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[0])
}

fn main() {
    let mut samples = 21;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next().and_then(|v| v.parse().ok())) {
            ("--samples", Some(n)) if n > 0 => samples = n,
            _ => {
                eprintln!("usage: floats [--samples N]");
                std::process::exit(2);
            }
        }
    }
    println!("ns per value, median (min) of {samples} samples of {N} values");
    println!(
        "{:<16}{:>18}{:>18}{:>12}",
        "values", "ours", "std Debug", "std ÷ ours"
    );
    let mut out = Vec::with_capacity(N * 32);
    for kind in KINDS {
        let values = values(kind);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..samples {
            a.push(sample(&values, &mut out, ours));
            b.push(sample(&values, &mut out, std_debug));
        }
        let ((a_med, a_min), (b_med, b_min)) = (median_min(a), median_min(b));
        println!(
            "{kind:<16}{:>10.1} ({:>5.1}){:>10.1} ({:>5.1}){:>12.2}",
            a_med,
            a_min,
            b_med,
            b_min,
            b_med / a_med
        );
    }
}
