//! Instrumentation speed: what a program pays per update on its own hot path, for this crate,
//! `prometheus-client` 0.24 and `prometheus` 0.14, measured side by side in one process.
//!
//! The operations, each in a loop over pre-generated inputs (the same for every crate):
//!
//! - `inc()` on an unlabelled counter handle (the peers' integer counters: `IntCounter`,
//!   `Counter<u64>`); `inc_by(3)` (ours: `inc_by_u64(3)`, and in the next row `inc_by(3.0)`,
//!   our `f64` API, against the same integer calls of the peers); `inc_by(x)` with arbitrary
//!   positive `f64`s (the peers' `f64` counters);
//! - lookup + `inc()` on a 2-label family of 1 000 series: label values of 10–30 characters
//!   (a route and an instance), the series created in random order after 2 000 others were
//!   created and removed (churn), looked up in random order. Ours and `prometheus` take the
//!   values as `&[&str]`; `prometheus-client` needs its owned key type, so each lookup builds
//!   `[(&str, String); 2]` from the same `&str`s, as a caller holding borrowed values must;
//! - `observe(v)` on a histogram with the default buckets, `v` arbitrary (log-normal-ish
//!   latencies from 0.1 ms to tens of seconds);
//! - `observe(v)` on our summaries, the same `v`: without quantiles (`_sum` and `_count`), and
//!   with client_golang's example objectives `(0.5, 0.05), (0.9, 0.01), (0.99, 0.001)` over
//!   the default window. Neither peer has summary quantiles (`prometheus` 0.14 has no summary,
//!   `prometheus-client` 0.24 none with quantiles), so their columns in these two rows are
//!   their histograms' `observe` again, the nearest thing they offer;
//! - the unlabelled `inc()` and the lookup again from 2 threads at once (both threads on the
//!   same counter; for the lookup, each thread its own random order over the same series).
//!
//! A second table is ours alone: the price of series expiry (`MetricConfig::expire_after`).
//! The same 2-label family is declared twice, without and with expiry (an hour, so that
//! nothing expires during the run), and each row measures `inc()` on a kept series handle, or
//! the lookup + `inc()`, on the family without expiry, the one with it, and the one without
//! again, the samples of the three interleaved (the two "without" columns show the noise).
//!
//! Each figure is the median of `--samples` samples (default 9) of ns per operation (per thread
//! for the 2-thread rows), after a warm-up. `ratio` is the fastest peer's time divided by ours:
//! above 1 means ours is faster.
//!
//! ```text
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin hotpath
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin hotpath -- --samples 15
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin hotpath --target x86_64-unknown-linux-musl
//! ```

use std::hint::black_box;
use std::sync::Barrier;
use std::time::Instant;

use prometheus_aioexporter::{Counter, MetricConfig, Registry, DEFAULT_BUCKETS};

/// Inputs cycle through this many pre-generated values (a power of two).
const INPUTS: usize = 1 << 14;
const SERIES: usize = 1_000;
const CHURN: usize = 2_000;

/// xorshift64*: reproducible data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// In [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A route of 10–30 characters and an instance of 15–30, as a web service would label.
fn label_values(rng: &mut Rng) -> [String; 2] {
    const SEGMENTS: [&str; 12] = [
        "api", "v1", "v2", "users", "orders", "items", "search", "auth", "token", "cart",
        "checkout", "health",
    ];
    let mut route = String::new();
    while route.len() < 10 + rng.below(12) {
        route.push('/');
        route.push_str(SEGMENTS[rng.below(SEGMENTS.len())]);
    }
    route.truncate(30);
    let instance = format!(
        "{}-{:06x}.{}:{}",
        ["web", "api", "worker"][rng.below(3)],
        rng.next() & 0xff_ffff,
        ["eu-west-1", "us-east-2", "internal"][rng.below(3)],
        9000 + rng.below(1000)
    );
    [route, instance]
}

/// 1 000 distinct label sets, then 2 000 more for the churn.
fn label_sets(rng: &mut Rng) -> (Vec<[String; 2]>, Vec<[String; 2]>) {
    let mut seen = std::collections::HashSet::new();
    let mut all = Vec::new();
    while all.len() < SERIES + CHURN {
        let v = label_values(rng);
        if seen.insert(v.clone()) {
            all.push(v);
        }
    }
    let churn = all.split_off(SERIES);
    (all, churn)
}

/// The median of `times`.
fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Median ns per operation of each of `fs` (ours, prometheus-client, prometheus), where
/// `f(ops)` performs `ops` operations. The samples of the three alternate, so that a change
/// in the machine's load (other processes, the CPU's clock) falls on all of them alike.
fn measure(samples: usize, ops: usize, mut fs: [&mut dyn FnMut(usize); 3]) -> [f64; 3] {
    let mut times: [Vec<f64>; 3] = Default::default();
    for f in fs.iter_mut() {
        f(ops / 4);
    }
    for _ in 0..samples {
        for (f, times) in fs.iter_mut().zip(&mut times) {
            let start = Instant::now();
            f(ops);
            times.push(start.elapsed().as_nanos() as f64 / ops as f64);
        }
    }
    times.map(median)
}

/// Two threads running `f(thread, ops)` at once: ns per operation per thread.
fn two_threads(ops: usize, f: &(dyn Fn(usize, usize) + Sync)) -> f64 {
    let barrier = Barrier::new(2);
    let elapsed: Vec<f64> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    f(t, ops);
                    start.elapsed().as_nanos() as f64 / ops as f64
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    elapsed.iter().sum::<f64>() / 2.0
}

/// [`measure`] with two threads per sample.
fn measure2(samples: usize, ops: usize, fs: [&(dyn Fn(usize, usize) + Sync); 3]) -> [f64; 3] {
    let mut times: [Vec<f64>; 3] = Default::default();
    for f in fs {
        two_threads(ops / 4, f);
    }
    for _ in 0..samples {
        for (f, times) in fs.iter().zip(&mut times) {
            times.push(two_threads(ops, *f));
        }
    }
    times.map(median)
}

/// The values of a label set as a caller holds them: borrowed.
fn strs(v: &[String; 2]) -> [&str; 2] {
    [v[0].as_str(), v[1].as_str()]
}

struct Row {
    name: &'static str,
    ours: f64,
    client: f64,
    prometheus: f64,
}

impl Row {
    fn new(name: &'static str, [ours, client, prometheus]: [f64; 3]) -> Row {
        Row {
            name,
            ours,
            client,
            prometheus,
        }
    }
}

fn main() {
    let mut samples = 9usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--samples" => samples = args.next().and_then(|s| s.parse().ok()).unwrap_or(9),
            _ => {
                eprintln!("usage: hotpath [--samples N]");
                std::process::exit(2);
            }
        }
    }
    let samples = samples.max(1);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (sets, churn) = label_sets(&mut rng);
    // Creation order: random.
    let mut creation: Vec<usize> = (0..SERIES).collect();
    for i in (1..creation.len()).rev() {
        creation.swap(i, rng.below(i + 1));
    }
    // Lookup orders, one per thread.
    let orders: Vec<Vec<usize>> = (0..2)
        .map(|_| (0..INPUTS).map(|_| rng.below(SERIES)).collect())
        .collect();
    let floats: Vec<f64> = (0..INPUTS).map(|_| rng.unit() * 10.0 + 1e-3).collect();
    // Latencies: exp of a uniform over [ln 1e-4, ln 30].
    let latencies: Vec<f64> = (0..INPUTS)
        .map(|_| (rng.unit() * (30f64.ln() - 1e-4f64.ln()) + 1e-4f64.ln()).exp())
        .collect();
    let mask = INPUTS - 1;

    // Ours.
    let mut registry = Registry::new();
    let ours_counter = registry.counter("hot_ops", "Ops.").unwrap();
    let ours_float = registry.counter("hot_seconds", "Seconds.").unwrap();
    let ours_family = registry
        .counter_family("hot_requests", "Requests.", ["route", "instance"])
        .unwrap();
    let ours_histogram = registry
        .histogram("hot_latency_seconds", "Latency.", DEFAULT_BUCKETS)
        .unwrap();
    let ours_summary = registry.summary("hot_size_bytes", "Sizes.").unwrap();
    let ours_quantiles = registry
        .summary_with_quantiles(
            "hot_rpc_seconds",
            "RPC time.",
            [(0.5, 0.05), (0.9, 0.01), (0.99, 0.001)],
        )
        .unwrap();
    for v in &churn {
        ours_family.labels(&strs(v)).inc();
    }
    for &i in &creation {
        ours_family.labels(&strs(&sets[i])).inc();
    }
    for v in &churn {
        ours_family.remove(&strs(v));
    }
    let expiring = registry
        .register::<Counter, 2>(
            MetricConfig::new("hot_expiring", "Requests.", "counter")
                .labels(["route", "instance"])
                .expire_after(std::time::Duration::from_secs(3600)),
        )
        .unwrap();
    for v in &churn {
        expiring.labels(&strs(v)).inc();
    }
    for &i in &creation {
        expiring.labels(&strs(&sets[i])).inc();
    }
    for v in &churn {
        expiring.remove(&strs(v));
    }

    // prometheus-client.
    type Key = [(&'static str, String); 2];
    let client_counter = prometheus_client::metrics::counter::Counter::<u64>::default();
    let client_float = prometheus_client::metrics::counter::Counter::<f64>::default();
    let client_family = prometheus_client::metrics::family::Family::<
        Key,
        prometheus_client::metrics::counter::Counter,
    >::default();
    let client_histogram =
        prometheus_client::metrics::histogram::Histogram::new(DEFAULT_BUCKETS.iter().copied());
    let client_key =
        |v: [&str; 2]| -> Key { [("route", v[0].to_string()), ("instance", v[1].to_string())] };
    for v in &churn {
        client_family.get_or_create(&client_key(strs(v))).inc();
    }
    for &i in &creation {
        client_family
            .get_or_create(&client_key(strs(&sets[i])))
            .inc();
    }
    for v in &churn {
        client_family.remove(&client_key(strs(v)));
    }

    // prometheus.
    let prom_counter = prometheus::IntCounter::new("ops", "Ops.").unwrap();
    let prom_float = prometheus::Counter::new("seconds", "Seconds.").unwrap();
    let prom_family = prometheus::IntCounterVec::new(
        prometheus::Opts::new("requests", "Requests."),
        &["route", "instance"],
    )
    .unwrap();
    let prom_histogram = prometheus::Histogram::with_opts(prometheus::HistogramOpts::new(
        "latency_seconds",
        "Latency.",
    ))
    .unwrap();
    for v in &churn {
        prom_family.with_label_values(&strs(v)).inc();
    }
    for &i in &creation {
        prom_family.with_label_values(&strs(&sets[i])).inc();
    }
    for v in &churn {
        prom_family.remove_label_values(&strs(v)).unwrap();
    }

    let fast = 2_000_000;
    let lookups = 200_000;
    let mut rows = Vec::new();

    rows.push(Row::new(
        "inc() unlabelled",
        measure(
            samples,
            fast,
            [
                &mut |n| (0..n).for_each(|_| ours_counter.inc()),
                &mut |n| {
                    (0..n).for_each(|_| {
                        client_counter.inc();
                    })
                },
                &mut |n| (0..n).for_each(|_| prom_counter.inc()),
            ],
        ),
    ));
    rows.push(Row::new(
        "inc_by(3) unlabelled",
        measure(
            samples,
            fast,
            [
                &mut |n| (0..n).for_each(|_| ours_counter.inc_by_u64(black_box(3))),
                &mut |n| {
                    (0..n).for_each(|_| {
                        client_counter.inc_by(black_box(3));
                    })
                },
                &mut |n| (0..n).for_each(|_| prom_counter.inc_by(black_box(3))),
            ],
        ),
    ));
    rows.push(Row::new(
        "inc_by(3.0), ours f64 API",
        measure(
            samples,
            fast,
            [
                &mut |n| (0..n).for_each(|_| ours_counter.inc_by(black_box(3.0)).unwrap()),
                &mut |n| {
                    (0..n).for_each(|_| {
                        client_counter.inc_by(black_box(3));
                    })
                },
                &mut |n| (0..n).for_each(|_| prom_counter.inc_by(black_box(3))),
            ],
        ),
    ));
    rows.push(Row::new(
        "inc_by(f64) unlabelled",
        measure(
            samples,
            fast,
            [
                &mut |n| (0..n).for_each(|i| ours_float.inc_by(floats[i & mask]).unwrap()),
                &mut |n| {
                    (0..n).for_each(|i| {
                        client_float.inc_by(floats[i & mask]);
                    })
                },
                &mut |n| (0..n).for_each(|i| prom_float.inc_by(floats[i & mask])),
            ],
        ),
    ));
    rows.push(Row::new(
        "inc() unlabelled, 2 threads",
        measure2(
            samples,
            fast,
            [
                &|_, n| (0..n).for_each(|_| ours_counter.inc()),
                &|_, n| {
                    (0..n).for_each(|_| {
                        client_counter.inc();
                    })
                },
                &|_, n| (0..n).for_each(|_| prom_counter.inc()),
            ],
        ),
    ));
    let order = &orders[0];
    rows.push(Row::new(
        "labels(2 of 1000) + inc()",
        measure(
            samples,
            lookups,
            [
                &mut |n| {
                    (0..n).for_each(|i| ours_family.labels(&strs(&sets[order[i & mask]])).inc())
                },
                &mut |n| {
                    (0..n).for_each(|i| {
                        client_family
                            .get_or_create(&client_key(strs(&sets[order[i & mask]])))
                            .inc();
                    })
                },
                &mut |n| {
                    (0..n).for_each(|i| {
                        prom_family
                            .with_label_values(&strs(&sets[order[i & mask]]))
                            .inc()
                    })
                },
            ],
        ),
    ));
    rows.push(Row::new(
        "labels + inc(), 2 threads",
        measure2(
            samples,
            lookups,
            [
                &|t, n| {
                    let order = &orders[t];
                    (0..n).for_each(|i| ours_family.labels(&strs(&sets[order[i & mask]])).inc())
                },
                &|t, n| {
                    let order = &orders[t];
                    (0..n).for_each(|i| {
                        client_family
                            .get_or_create(&client_key(strs(&sets[order[i & mask]])))
                            .inc();
                    })
                },
                &|t, n| {
                    let order = &orders[t];
                    (0..n).for_each(|i| {
                        prom_family
                            .with_label_values(&strs(&sets[order[i & mask]]))
                            .inc()
                    })
                },
            ],
        ),
    ));
    rows.push(Row::new(
        "observe(f64) histogram",
        measure(
            samples,
            fast,
            [
                &mut |n| (0..n).for_each(|i| ours_histogram.observe(latencies[i & mask])),
                &mut |n| (0..n).for_each(|i| client_histogram.observe(latencies[i & mask])),
                &mut |n| (0..n).for_each(|i| prom_histogram.observe(latencies[i & mask])),
            ],
        ),
    ));

    rows.push(Row::new(
        "observe summary (peers: hist.)",
        measure(
            samples,
            fast,
            [
                &mut |n| (0..n).for_each(|i| ours_summary.observe(latencies[i & mask])),
                &mut |n| (0..n).for_each(|i| client_histogram.observe(latencies[i & mask])),
                &mut |n| (0..n).for_each(|i| prom_histogram.observe(latencies[i & mask])),
            ],
        ),
    ));
    rows.push(Row::new(
        "observe 3 quantiles (p: hist.)",
        measure(
            samples,
            fast,
            [
                &mut |n| (0..n).for_each(|i| ours_quantiles.observe(latencies[i & mask])),
                &mut |n| (0..n).for_each(|i| client_histogram.observe(latencies[i & mask])),
                &mut |n| (0..n).for_each(|i| prom_histogram.observe(latencies[i & mask])),
            ],
        ),
    ));

    let kept = ours_family.labels(&strs(&sets[0]));
    let kept_expiring = expiring.labels(&strs(&sets[0]));
    let expiry_rows = [
        Row::new(
            "inc() on a kept series",
            measure(
                samples,
                fast,
                [
                    &mut |n| (0..n).for_each(|_| kept.inc()),
                    &mut |n| (0..n).for_each(|_| kept_expiring.inc()),
                    &mut |n| (0..n).for_each(|_| kept.inc()),
                ],
            ),
        ),
        Row::new(
            "labels(2 of 1000) + inc()",
            measure(
                samples,
                lookups,
                [
                    &mut |n| {
                        (0..n).for_each(|i| ours_family.labels(&strs(&sets[order[i & mask]])).inc())
                    },
                    &mut |n| {
                        (0..n).for_each(|i| expiring.labels(&strs(&sets[order[i & mask]])).inc())
                    },
                    &mut |n| {
                        (0..n).for_each(|i| ours_family.labels(&strs(&sets[order[i & mask]])).inc())
                    },
                ],
            ),
        ),
    ];

    // The values must add up, or a loop was optimised away or an update lost.
    black_box((ours_counter.get(), ours_float.get(), ours_histogram.count()));
    black_box((ours_summary.count(), ours_quantiles.count()));
    black_box((client_counter.get(), prom_counter.get(), prom_float.get()));

    println!(
        "ns per operation (median of {samples}; per thread in the 2-thread rows); \
         ratio = fastest peer / ours (above 1: ours faster)"
    );
    println!(
        "{:<30} {:>8} {:>19} {:>16} {:>7}",
        "operation", "ours", "prometheus-client", "prometheus 0.14", "ratio"
    );
    for r in &rows {
        let best = r.client.min(r.prometheus);
        println!(
            "{:<30} {:>8.1} {:>19.1} {:>16.1} {:>7.2}",
            r.name,
            r.ours,
            r.client,
            r.prometheus,
            best / r.ours
        );
    }
    println!();
    println!("series expiry, ours only: ns per operation (median of {samples}); ratio = with / without (A)");
    println!(
        "{:<30} {:>12} {:>12} {:>12} {:>7}",
        "operation", "without (A)", "with expiry", "without (B)", "ratio"
    );
    for r in &expiry_rows {
        println!(
            "{:<30} {:>12.1} {:>12.1} {:>12.1} {:>7.2}",
            r.name,
            r.ours,
            r.client,
            r.prometheus,
            r.client / r.ours
        );
    }
    let mut check = Vec::new();
    registry.encode(&mut check).unwrap();
    assert!(check.len() > 1000);
}
