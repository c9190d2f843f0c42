//! Do scrapes stall the program? The latency of one update and of one series creation in a
//! counter family of 100 000 series, measured with no scrape running, then while another
//! thread encodes the registry in a loop (issue 15, part 3).
//!
//! - update: `labels(&[id]).inc()` on an existing series, the ids in random order;
//! - create: `labels(&[new id]).inc()` on a series that does not exist yet, then the removal
//!   of the one created 1 000 creations before, so the family keeps its size. Each creation
//!   marks the family changed, so every scrape rebuilds its sorted copy of the handles (the
//!   case where a scrape holds the shards' locks).
//!
//! Each operation is timed on its own (`Instant` around it, whose own cost, some 20–40 ns, is
//! in every figure), two threads at most (the 2 cores of the machine the README's figures come
//! from): the measuring thread, and the scraping thread in the second phase. Printed: p50,
//! p99.9 and the maximum per phase, and the scrapes done.
//!
//! ```text
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin stall
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin stall -- --ops 400000
//! ```

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use prometheus_aioexporter::{CounterFamily, Registry};

const SERIES: usize = 100_000;
/// Creations that stay before each is removed again.
const KEPT: usize = 1_000;

/// xorshift64*: reproducible data without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64) as usize
    }
}

/// p50, p99.9 and max of `ns`, in microseconds.
fn summary(mut ns: Vec<u64>) -> [f64; 3] {
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() - 1) as f64 * q) as usize] as f64 / 1e3;
    [at(0.5), at(0.999), at(1.0)]
}

/// Times `ops` calls of `op(i)`, one by one.
fn timed(ops: usize, mut op: impl FnMut(usize)) -> Vec<u64> {
    let mut ns = Vec::with_capacity(ops);
    for i in 0..ops {
        let start = Instant::now();
        op(i);
        ns.push(start.elapsed().as_nanos() as u64);
    }
    ns
}

/// Runs `measure` alone, then again while another thread encodes `registry` in a loop;
/// returns both latency summaries and the scrapes done in the second run.
fn phases(
    registry: &mut Registry,
    measure: &mut dyn FnMut() -> Vec<u64>,
) -> ([f64; 3], [f64; 3], usize) {
    let alone = summary(measure());
    let stop = AtomicBool::new(false);
    let scrapes = AtomicUsize::new(0);
    let mut body = Vec::new();
    let with = std::thread::scope(|s| {
        let (stop, scrapes, body) = (&stop, &scrapes, &mut body);
        s.spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                body.clear();
                registry.encode(body).unwrap();
                scrapes.fetch_add(1, Ordering::Relaxed);
            }
        });
        // Let the first scrape start.
        while scrapes.load(Ordering::Relaxed) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let with = summary(measure());
        stop.store(true, Ordering::Relaxed);
        with
    });
    (alone, with, scrapes.load(Ordering::Relaxed))
}

fn main() {
    let mut ops = 200_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next().and_then(|v| v.parse().ok())) {
            ("--ops", Some(n)) if n > 0 => ops = n,
            _ => {
                eprintln!("usage: stall [--ops N]");
                std::process::exit(2);
            }
        }
    }
    let mut registry = Registry::new();
    let family: CounterFamily<1> = registry
        .counter_family("stall_requests", "Requests.", ["id"])
        .unwrap();
    let ids: Vec<String> = (0..SERIES).map(|i| format!("series-{i:06}")).collect();
    for id in &ids {
        family.labels(&[id]).inc();
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let order: Vec<usize> = (0..ops).map(|_| rng.below(SERIES)).collect();
    let mut body = Vec::new();
    registry.encode(&mut body).unwrap();
    let body_len = body.len();

    let mut update = || timed(ops, |i| family.labels(&[&ids[order[i]]]).inc());
    let (u_alone, u_with, u_scrapes) = phases(&mut registry, &mut update);

    let mut round = 0usize;
    let mut create = || {
        round += 1;
        let new = |i: usize| format!("new-{round}-{i}");
        let names: Vec<String> = (0..ops).map(new).collect();
        let mut ns = Vec::with_capacity(ops);
        for (i, name) in names.iter().enumerate() {
            let start = Instant::now();
            family.labels(&[name]).inc();
            ns.push(start.elapsed().as_nanos() as u64);
            // Not timed: the removal keeps the family at its size.
            if i >= KEPT {
                family.remove(&[&names[i - KEPT]]);
            }
        }
        for name in &names[ops.saturating_sub(KEPT)..] {
            family.remove(&[name]);
        }
        ns
    };
    let (c_alone, c_with, c_scrapes) = phases(&mut registry, &mut create);

    println!(
        "a counter family of {SERIES} series ({:.1} MB per scrape), {ops} operations per phase; \
         latency in µs (p50 / p99.9 / max), each timed alone",
        body_len as f64 / 1e6
    );
    println!(
        "{:<34} {:>26} {:>26} {:>8}",
        "operation", "no scrape", "scrapes in a loop", "scrapes"
    );
    let fmt = |[p50, p999, max]: [f64; 3]| format!("{p50:.2} / {p999:.1} / {max:.0}");
    println!(
        "{:<34} {:>26} {:>26} {:>8}",
        "update: labels(&[id]).inc()",
        fmt(u_alone),
        fmt(u_with),
        u_scrapes
    );
    println!(
        "{:<34} {:>26} {:>26} {:>8}",
        "create: labels(&[new id]).inc()",
        fmt(c_alone),
        fmt(c_with),
        c_scrapes
    );
}
