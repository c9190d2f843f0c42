//! Any registry the input describes exposes, in both formats, a body that parses back strictly
//! (the parser of tests/support/exposition.rs) to exactly what it holds: label values and help
//! texts (lossy UTF-8 of input bytes), values (8-byte chunks as f64 bits), every metric type.
//! Names come from a fixed list, valid and colliding ones, so declarations get past validation
//! often; the shared model says which declarations and updates the crate must refuse.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/exposition.rs"]
mod exposition;

use exposition::{
    check_round_trip, CollectedSpec, Format, KindSpec, MetricSpec, Op, RegistrySpec, SeriesSpec,
};

/// Metric names: valid, with the suffixes the crate adds or strips, and names that collide.
const NAMES: [&str; 20] = [
    "a",
    "b",
    "requests",
    "requests_total",
    "build_info",
    "latency_seconds",
    "x:y",
    ":",
    "_",
    "h",
    "h_sum",
    "h_count",
    "h_bucket",
    "jobs_total_total",
    "_total",
    "_info",
    "state",
    "mode",
    "A1",
    "l",
];

/// Label names, including ones some types reserve (`le`, `quantile`, an enum's own name).
const LABELS: [&str; 11] = [
    "l", "method", "code", "_x", "a1", "path", "k", "version", "le", "quantile", "state",
];

/// The fuzz input, consumed from the front; zeros once it runs out.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n
    }

    fn pick(&mut self, items: &[&str]) -> String {
        items[self.below(items.len())].to_string()
    }

    /// The next 8 bytes as the bits of an f64 (little-endian, zero-padded).
    fn float(&mut self) -> f64 {
        let mut bits = [0u8; 8];
        let n = self.0.len().min(8);
        bits[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        f64::from_le_bytes(bits)
    }

    /// Up to 31 bytes as lossy UTF-8.
    fn string(&mut self) -> String {
        let n = self.below(32).min(self.0.len());
        let (s, rest) = self.0.split_at(n);
        self.0 = rest;
        String::from_utf8_lossy(s).into_owned()
    }

    fn labels(&mut self) -> Vec<String> {
        (0..self.below(3)).map(|_| self.pick(&LABELS)).collect()
    }
}

fn op(input: &mut Input<'_>, kind: &KindSpec) -> Op {
    match kind {
        KindSpec::Counter | KindSpec::Gauge => {
            if input.below(3) == 0 {
                Op::Add(input.float())
            } else {
                Op::Set(input.float())
            }
        }
        KindSpec::Histogram(_) | KindSpec::Summary => Op::Observe(input.float()),
        KindSpec::Info => Op::Pairs(
            (0..input.below(4))
                .map(|_| (input.pick(&LABELS), input.string()))
                .collect(),
        ),
        KindSpec::Enum(_) => Op::State(input.below(8)),
    }
}

fn metric(input: &mut Input<'_>, kind: u8) -> MetricSpec {
    let name = input.pick(&NAMES);
    let help = input.string();
    let labels = input.labels();
    let kind = match kind {
        0 => KindSpec::Counter,
        1 => KindSpec::Gauge,
        2 => KindSpec::Histogram(match input.below(4) {
            0 => None,
            n => {
                let mut bounds: Vec<f64> = (0..n * 2).map(|_| input.float()).collect();
                if input.below(8) != 0 {
                    // Mostly valid: sorted, without NaN or repeats.
                    bounds.retain(|b| !b.is_nan());
                    bounds.sort_by(|a, b| a.total_cmp(b));
                    bounds.dedup_by(|a, b| a == b);
                }
                Some(bounds)
            }
        }),
        3 => KindSpec::Summary,
        4 => KindSpec::Info,
        _ => KindSpec::Enum((0..input.below(5)).map(|_| input.string()).collect()),
    };
    let series: Vec<SeriesSpec> = (0..input.below(4))
        .map(|_| {
            let values = labels.iter().map(|_| input.string()).collect();
            let ops = (0..input.below(5)).map(|_| op(input, &kind)).collect();
            SeriesSpec { values, ops }
        })
        .collect();
    let mut remove = Vec::new();
    if input.below(4) == 0 {
        if let Some(first) = series.first() {
            remove.push(first.values.clone());
        }
    }
    MetricSpec {
        name,
        help,
        kind,
        labels,
        series,
        remove,
        clear: input.below(8) == 0,
    }
}

fn collected(input: &mut Input<'_>) -> CollectedSpec {
    let name = input.pick(&NAMES);
    let help = input.string();
    let counter = input.below(2) == 0;
    let labels = input.labels();
    let samples = (0..1 + input.below(4))
        .map(|_| {
            let values = labels.iter().map(|_| input.string()).collect();
            (values, input.float())
        })
        .collect();
    CollectedSpec {
        name,
        help,
        counter,
        labels,
        samples,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mut spec = RegistrySpec::default();
    while !input.0.is_empty() && spec.metrics.len() + spec.collected.len() < 10 {
        match input.byte() % 8 {
            7 => spec.collected.push(collected(&mut input)),
            kind => spec.metrics.push(metric(&mut input, kind)),
        }
    }
    for format in Format::ALL {
        if let Err(problem) = check_round_trip(&spec, format) {
            panic!("{problem}\n{spec:#?}");
        }
    }
});
