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
//! Each phase runs for `--seconds` (default 2). Each operation is timed on its own (`Instant`
//! around it, whose own cost, some 20–40 ns, is in every figure), two threads at most (the 2 cores of the machine the README's figures come
//! from): the measuring thread, and the scraping thread in the second phase. Printed: p50,
//! p99.9, p99.99 and the maximum per phase, the operations slower than 100 µs, and the scrapes
//! done. The maximum is the scheduler's on a loaded machine (a thread preempted for a time
//! slice); the counts above 100 µs compare the phases.
//!
//! ```text
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin stall
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin stall -- --seconds 5
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

/// Operations slower than this (µs) are counted: a wait for a lock held through a whole
/// shard's copy would be above it, a chunk's below.
const SLOW_US: f64 = 100.0;

/// p50, p99.9, p99.99, max (µs) and the count above [`SLOW_US`] of `ns`.
fn summary(mut ns: Vec<u64>) -> [f64; 5] {
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() - 1) as f64 * q) as usize] as f64 / 1e3;
    let slow = ns.iter().filter(|&&t| t as f64 / 1e3 > SLOW_US).count();
    [at(0.5), at(0.999), at(0.9999), at(1.0), slow as f64]
}

/// Times calls of `op(i)`, one by one, for `phase`.
fn timed(phase: Duration, mut op: impl FnMut(usize)) -> Vec<u64> {
    let mut ns = Vec::with_capacity(1 << 22);
    let started = Instant::now();
    let mut i = 0;
    while started.elapsed() < phase {
        let start = Instant::now();
        op(i);
        ns.push(start.elapsed().as_nanos() as u64);
        i += 1;
    }
    ns
}

/// Runs `measure` alone, then again while another thread encodes `registry` in a loop;
/// returns both latency summaries and the scrapes done in the second run.
fn phases(
    registry: &mut Registry,
    measure: &mut dyn FnMut() -> Vec<u64>,
) -> ([f64; 5], [f64; 5], usize) {
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
    let mut seconds = 2u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next().and_then(|v| v.parse().ok())) {
            ("--seconds", Some(n)) if n > 0 => seconds = n,
            _ => {
                eprintln!("usage: stall [--seconds N]");
                std::process::exit(2);
            }
        }
    }
    let phase = Duration::from_secs(seconds);
    let mut registry = Registry::new();
    let family: CounterFamily<1> = registry
        .counter_family("stall_requests", "Requests.", ["id"])
        .unwrap();
    let ids: Vec<String> = (0..SERIES).map(|i| format!("series-{i:06}")).collect();
    for id in &ids {
        family.labels(&[id]).inc();
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let order: Vec<usize> = (0..1 << 16).map(|_| rng.below(SERIES)).collect();
    let mut body = Vec::new();
    registry.encode(&mut body).unwrap();
    let body_len = body.len();

    let mut update = || timed(phase, |i| family.labels(&[&ids[order[i & 0xffff]]]).inc());
    let (u_alone, u_with, u_scrapes) = phases(&mut registry, &mut update);

    let mut round = 0usize;
    let mut create = || {
        round += 1;
        // The names made before they are timed, in a ring of the last `KEPT`.
        let mut names: Vec<String> = (0..KEPT).map(|i| format!("new-{round}-{i}")).collect();
        let mut ns = Vec::with_capacity(1 << 22);
        let started = Instant::now();
        let mut i = 0;
        while started.elapsed() < phase {
            let slot = i % KEPT;
            if i >= KEPT {
                // Not timed: the removal keeps the family at its size.
                family.remove(&[&names[slot]]);
                names[slot] = format!("new-{round}-{i}");
            }
            let start = Instant::now();
            family.labels(&[&names[slot]]).inc();
            ns.push(start.elapsed().as_nanos() as u64);
            i += 1;
        }
        for name in &names {
            family.remove(&[name]);
        }
        ns
    };
    let (c_alone, c_with, c_scrapes) = phases(&mut registry, &mut create);

    println!(
        "a counter family of {SERIES} series ({:.1} MB per scrape), {seconds} s per phase; \
         latency in µs (p50 / p99.9 / p99.99 / max; ops over {SLOW_US} µs), each timed alone",
        body_len as f64 / 1e6
    );
    println!(
        "{:<34} {:>34} {:>34} {:>8}",
        "operation", "no scrape", "scrapes in a loop", "scrapes"
    );
    let fmt = |[p50, p999, p9999, max, slow]: [f64; 5]| {
        format!("{p50:.2} / {p999:.1} / {p9999:.0} / {max:.0}; {slow}")
    };
    println!(
        "{:<34} {:>34} {:>34} {:>8}",
        "update: labels(&[id]).inc()",
        fmt(u_alone),
        fmt(u_with),
        u_scrapes
    );
    println!(
        "{:<34} {:>34} {:>34} {:>8}",
        "create: labels(&[new id]).inc()",
        fmt(c_alone),
        fmt(c_with),
        c_scrapes
    );
}
