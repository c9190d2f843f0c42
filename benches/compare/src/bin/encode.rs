//! Encoding speed: the same metrics encoded by this crate's registry (text and OpenMetrics), by
//! the `prometheus` crate (`TextEncoder`, after `gather`) and by `prometheus-client`
//! (`text::encode`), against a plain `memcpy` of as many bytes as our text exposition.
//!
//! The data: a counter family and a gauge family of N series each, labelled `instance` and
//! `path`, plus one unlabelled histogram with the default buckets, in one of three cases
//! (`--cases`, default `fresh,churned`):
//!
//! - `fresh`: what a real exporter holds. Label values of 20 to 40 characters (pod names such
//!   as `checkout-7d9f8b6c5d-x2k4p`, paths such as `/api/v2/orders/{id}/items`), values
//!   arbitrary `f64`s (gauges `(i × 1.618).sin() × 1000`, counters `|cos(i × 0.618)| × 10^5`),
//!   series created in a random order.
//! - `churned`: the same, in a heap that has seen heavy churn: while the N series are created,
//!   a million others (`--churn`) are created between them in the same families and then
//!   removed, through each implementation's own API, so that the N left are scattered over the
//!   heap as in a long-running process whose series come and go.
//! - `tidy`: the convenient data of earlier versions of this benchmark: short labels
//!   (`instance="host-{i}"`, `path="/api/v{i%10}"`) created in label order, small integer and
//!   quarter values.
//!
//! Every implementation gets the same data, in the same order. Every implementation writes into
//! an output buffer that is cleared and reused from run to run (that is what the exporter does
//! with its body), and each measurement is the median of several samples taken after warm-up
//! runs; a sample of a small N is a batch of runs.
//!
//! A package of its own (benches/compare), so that the crate's builds and tests do not compile
//! the two peers. From the repository's root:
//!
//! ```text
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin encode
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin encode -- --sizes 10,1000 --samples 15
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin encode -- --cases tidy
//! # the same with musl's allocator:
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin encode --target x86_64-unknown-linux-musl
//! ```
//!
//! Columns: `ns/series` is the median time of one encode divided by the series (2N + 1, the
//! histogram counting as one); `vs p-c` is prometheus-client's time divided by the row's (a
//! speed-up: above 1 is faster than prometheus-client); `x memcpy` is the row's time divided by
//! the memcpy's; `allocs` counts heap allocations during one encode (after warm-up).
//!
//! At large N an encode is bound by memory latency, so its time depends on where the series
//! sit in the heap, which the earlier rounds of the same process disturb. To compare
//! implementations each in a fresh heap, run them one at a time:
//! `encode --sizes 100000 --only "ours text"` (`--only` keeps the implementations whose
//! name contains the text: `ours`, `prometheus-client`, `prometheus 0`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use prometheus_aioexporter::{Format, MetricConfig, Registry, DEFAULT_BUCKETS};

/// Counts allocations while `COUNTING` is set (one relaxed load otherwise).
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by one call of `f`.
fn allocations(f: &mut dyn FnMut() -> usize) -> u64 {
    ALLOCS.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::SeqCst);
    black_box(f());
    COUNTING.store(false, Ordering::SeqCst);
    ALLOCS.load(Ordering::Relaxed)
}

const COUNTER_HELP: &str = "Requests served.";
const GAUGE_HELP: &str = "A temperature.";
const HISTOGRAM_HELP: &str = "Request latency.";

/// Which data the families hold (see the header).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Case {
    Fresh,
    Churned,
    Tidy,
}

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::Fresh => "fresh",
            Case::Churned => "churned",
            Case::Tidy => "tidy",
        }
    }
}

/// The data of one run: the series in creation order, and how many to create and remove
/// between them.
struct Data {
    /// (instance, path, counter value, gauge value), in the order they are created.
    series: Vec<(String, String, f64, f64)>,
    /// Series created (then removed) before each kept one.
    churn_per_series: usize,
}

/// A xorshift generator: the same data for every implementation and every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SERVICES: [&str; 8] = [
    "checkout",
    "payments-api",
    "inventory-sync",
    "frontend-web",
    "search-indexer",
    "auth-gateway",
    "notifications-worker",
    "recommendations",
];
const ROUTES: [&str; 8] = [
    "/api/v2/orders/{id}/items",
    "/api/v2/users/{id}/preferences",
    "/api/v1/catalog/search",
    "/api/v3/payments/{id}/refunds",
    "/internal/healthz/dependencies",
    "/api/v2/carts/{id}/checkout",
    "/api/v1/inventory/{sku}/reservations",
    "/static/assets/{bundle}.js",
];

/// A pod name as Kubernetes makes them: service, replica-set hash, pod suffix (20 to 40
/// characters).
fn pod(random: &mut Random) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut name = SERVICES[random.below(SERVICES.len())].to_string();
    for len in [10, 5] {
        name.push('-');
        for _ in 0..len {
            name.push(ALPHABET[random.below(ALPHABET.len())] as char);
        }
    }
    name
}

impl Data {
    fn new(case: Case, n: usize, churn: usize) -> Data {
        let mut random = Random(0x2545_f491_4f6c_dd1d);
        let mut series: Vec<_> = (0..n)
            .map(|i| match case {
                Case::Tidy => (
                    format!("host-{i}"),
                    format!("/api/v{}", i % 10),
                    (i * 7) as f64,
                    i as f64 * 0.25 + 0.5,
                ),
                Case::Fresh | Case::Churned => (
                    // Unique: the index, then a realistic name.
                    format!("{}-{i:x}", pod(&mut random)),
                    ROUTES[random.below(ROUTES.len())].to_string(),
                    (i as f64 * 0.618).cos().abs() * 1e5,
                    (i as f64 * 1.618).sin() * 1e3,
                ),
            })
            .collect();
        if case != Case::Tidy {
            // Fisher-Yates: created in a random order.
            for i in (1..series.len()).rev() {
                series.swap(i, random.below(i + 1));
            }
        }
        let churn_per_series = match case {
            Case::Churned => churn.div_ceil(n.max(1)),
            _ => 0,
        };
        Data {
            series,
            churn_per_series,
        }
    }

    /// Labels of the `j`th series created and removed before series `i`.
    fn churn_labels(i: usize, j: usize) -> [String; 2] {
        [
            format!("churn-{i}-{j}-job-7d9f8b6c5d-x2k4p"),
            ROUTES[j % ROUTES.len()].to_string(),
        ]
    }

    /// Creates the series through `create`, with the churn between them removed through
    /// `remove` afterwards (each called with instance and path).
    fn populate(
        &self,
        mut create: impl FnMut(&str, &str, f64, f64),
        mut remove: impl FnMut(&str, &str),
    ) {
        for (i, (instance, path, counter, gauge)) in self.series.iter().enumerate() {
            for j in 0..self.churn_per_series {
                let [a, b] = Data::churn_labels(i, j);
                create(&a, &b, 1.0, 1.0);
            }
            create(instance, path, *counter, *gauge);
        }
        for i in 0..self.series.len() {
            for j in 0..self.churn_per_series {
                let [a, b] = Data::churn_labels(i, j);
                remove(&a, &b);
            }
        }
    }
}

const OBSERVATIONS: [f64; 6] = [0.003, 0.02, 0.2, 0.7, 3.0, 12.0];

/// One implementation set up with the data: `run` encodes once and returns the bytes written.
struct Subject {
    name: &'static str,
    run: Box<dyn FnMut() -> usize>,
}

fn ours(data: &Data, format: Format) -> Subject {
    let mut registry = Registry::new();
    let metrics = registry
        .create_metrics([
            MetricConfig::new("bench_requests", COUNTER_HELP, "counter")
                .labels(["instance", "path"]),
            MetricConfig::new("bench_temperature", GAUGE_HELP, "gauge")
                .labels(["instance", "path"]),
            MetricConfig::new("bench_latency_seconds", HISTOGRAM_HELP, "histogram"),
        ])
        .expect("valid metrics");
    let counters = metrics.counter_family("bench_requests").expect("counter");
    let gauges = metrics.gauge_family("bench_temperature").expect("gauge");
    data.populate(
        |instance, path, counter, gauge| {
            let labels = [instance, path];
            counters
                .labels(&labels)
                .expect("labels")
                .set(counter)
                .expect("a counter value >= 0");
            gauges.labels(&labels).expect("labels").set(gauge);
        },
        |instance, path| {
            counters.remove(&[instance, path]).expect("labels");
            gauges.remove(&[instance, path]).expect("labels");
        },
    );
    let histogram = metrics
        .histogram("bench_latency_seconds")
        .expect("histogram");
    for v in OBSERVATIONS {
        histogram.observe(v);
    }
    let mut out = Vec::new();
    Subject {
        name: match format {
            Format::Text => "ours text",
            Format::OpenMetrics => "ours openmetrics",
        },
        run: Box::new(move || {
            out.clear();
            registry
                .encode_format(&mut out, format)
                .expect("no collector fails");
            black_box(&out);
            out.len()
        }),
    }
}

fn prometheus(data: &Data) -> Subject {
    use prometheus::{CounterVec, Encoder, GaugeVec, Histogram, HistogramOpts, Opts, TextEncoder};
    let registry = prometheus::Registry::new();
    let counters = CounterVec::new(
        Opts::new("bench_requests_total", COUNTER_HELP),
        &["instance", "path"],
    )
    .expect("counter");
    let gauges = GaugeVec::new(
        Opts::new("bench_temperature", GAUGE_HELP),
        &["instance", "path"],
    )
    .expect("gauge");
    let histogram = Histogram::with_opts(
        HistogramOpts::new("bench_latency_seconds", HISTOGRAM_HELP)
            .buckets(DEFAULT_BUCKETS.to_vec()),
    )
    .expect("histogram");
    registry
        .register(Box::new(counters.clone()))
        .expect("register");
    registry
        .register(Box::new(gauges.clone()))
        .expect("register");
    registry
        .register(Box::new(histogram.clone()))
        .expect("register");
    data.populate(
        |instance, path, counter, gauge| {
            counters
                .with_label_values(&[instance, path])
                .inc_by(counter);
            gauges.with_label_values(&[instance, path]).set(gauge);
        },
        |instance, path| {
            counters
                .remove_label_values(&[instance, path])
                .expect("created");
            gauges
                .remove_label_values(&[instance, path])
                .expect("created");
        },
    );
    for v in OBSERVATIONS {
        histogram.observe(v);
    }
    let encoder = TextEncoder::new();
    let mut out = Vec::new();
    Subject {
        name: "prometheus 0.14",
        run: Box::new(move || {
            out.clear();
            let families = registry.gather();
            encoder.encode(&families, &mut out).expect("encode");
            black_box(&out);
            out.len()
        }),
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct Labels {
    instance: String,
    path: String,
}

fn prometheus_client(data: &Data) -> Subject {
    use prometheus_client::metrics::counter::Counter;
    use prometheus_client::metrics::family::Family;
    use prometheus_client::metrics::gauge::Gauge;
    use prometheus_client::metrics::histogram::Histogram;
    use std::sync::atomic::AtomicU64;

    let mut registry = prometheus_client::registry::Registry::default();
    let counters = Family::<Labels, Counter<f64, AtomicU64>>::default();
    let gauges = Family::<Labels, Gauge<f64, AtomicU64>>::default();
    let histogram = Histogram::new(DEFAULT_BUCKETS);
    registry.register("bench_requests", COUNTER_HELP, counters.clone());
    registry.register("bench_temperature", GAUGE_HELP, gauges.clone());
    registry.register("bench_latency_seconds", HISTOGRAM_HELP, histogram.clone());
    let labels = |instance: &str, path: &str| Labels {
        instance: instance.to_string(),
        path: path.to_string(),
    };
    data.populate(
        |instance, path, counter, gauge| {
            let labels = labels(instance, path);
            counters.get_or_create(&labels).inc_by(counter);
            gauges.get_or_create(&labels).set(gauge);
        },
        |instance, path| {
            let labels = labels(instance, path);
            counters.remove(&labels);
            gauges.remove(&labels);
        },
    );
    for v in OBSERVATIONS {
        histogram.observe(v);
    }
    let mut out = String::new();
    Subject {
        name: "prometheus-client 0.24",
        run: Box::new(move || {
            out.clear();
            prometheus_client::encoding::text::encode(&mut out, &registry).expect("encode");
            black_box(&out);
            out.len()
        }),
    }
}

/// A copy of `len` bytes from one buffer into another, both allocated once.
fn memcpy(len: usize) -> Subject {
    let src: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let mut dst = vec![0u8; len];
    Subject {
        name: "memcpy (ours text bytes)",
        run: Box::new(move || {
            dst.copy_from_slice(black_box(&src));
            black_box(&dst);
            len
        }),
    }
}

/// Sets an implementation up with the data.
type Constructor = fn(&Data) -> Subject;

struct Measurement {
    name: &'static str,
    bytes: usize,
    /// Median time of one run.
    median: Duration,
    /// Fastest and slowest sample (per run).
    min: Duration,
    max: Duration,
    allocs: u64,
}

/// Warms up, picks a batch size so that one sample lasts at least `sample_target`, then takes
/// `samples` samples and keeps the median time per run.
fn measure(subject: &mut Subject, samples: usize, sample_target: Duration) -> Measurement {
    let run = &mut subject.run;
    let bytes = run();
    let warm_until = Instant::now() + sample_target;
    let mut single = Duration::MAX;
    let mut warmups = 0;
    while warmups < 3 || Instant::now() < warm_until {
        let start = Instant::now();
        black_box(run());
        single = single.min(start.elapsed());
        warmups += 1;
        if warmups >= 1000 {
            break;
        }
    }
    let batch = (sample_target.as_nanos() / single.as_nanos().max(1)).clamp(1, 1_000_000) as u32;
    let mut times: Vec<Duration> = (0..samples)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..batch {
                black_box(run());
            }
            start.elapsed() / batch
        })
        .collect();
    times.sort();
    let allocs = allocations(run);
    Measurement {
        name: subject.name,
        bytes,
        median: times[times.len() / 2],
        min: times[0],
        max: times[times.len() - 1],
        allocs,
    }
}

struct Options {
    sizes: Vec<usize>,
    samples: usize,
    target: Duration,
    /// Only the implementations whose name contains this (memcpy is always run).
    only: Option<String>,
    cases: Vec<Case>,
    /// Series created and removed in the churned case.
    churn: usize,
}

fn parse_args() -> Result<Options, String> {
    let mut sizes = vec![10, 1_000, 100_000];
    let mut only = None;
    let mut cases = vec![Case::Fresh, Case::Churned];
    let mut churn = 1_000_000;
    let mut samples = 9;
    let mut target = Duration::from_millis(20);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--sizes" => {
                sizes = value()?
                    .split(',')
                    .map(|s| s.trim().parse().map_err(|e| format!("--sizes: {e}")))
                    .collect::<Result<_, _>>()?;
            }
            "--samples" => {
                samples = value()?.parse().map_err(|e| format!("--samples: {e}"))?;
            }
            "--sample-ms" => {
                let ms: u64 = value()?.parse().map_err(|e| format!("--sample-ms: {e}"))?;
                target = Duration::from_millis(ms);
            }
            "--only" => only = Some(value()?),
            "--cases" => {
                cases = value()?
                    .split(',')
                    .map(|name| match name.trim() {
                        "fresh" => Ok(Case::Fresh),
                        "churned" => Ok(Case::Churned),
                        "tidy" => Ok(Case::Tidy),
                        other => Err(format!(
                            "--cases: unknown case '{other}': expected fresh, churned or tidy"
                        )),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--churn" => churn = value()?.parse().map_err(|e| format!("--churn: {e}"))?,
            "-h" | "--help" => {
                return Err("usage: encode [--sizes 10,1000,100000] [--samples 9] \
                            [--sample-ms 20] [--only NAME] [--cases fresh,churned,tidy] \
                            [--churn 1000000]"
                    .into())
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if samples == 0 || sizes.is_empty() || cases.is_empty() {
        return Err("--samples, --sizes and --cases must not be empty".into());
    }
    Ok(Options {
        sizes,
        samples,
        target,
        only,
        cases,
        churn,
    })
}

fn main() {
    let Options {
        sizes,
        samples,
        target,
        only,
        cases,
        churn,
    } = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let libc = if cfg!(target_env = "musl") {
        "musl"
    } else {
        "glibc"
    };
    println!(
        "bench_encode ({libc}, {} build): median of {samples} samples of >= {} ms each, \
         after warm-up",
        if cfg!(debug_assertions) {
            "DEBUG"
        } else {
            "release"
        },
        target.as_millis()
    );
    println!(
        "{:<26} {:<8} {:>7} {:>8} {:>10} {:>10} {:>9} {:>14} {:>8} {:>9} {:>8}",
        "implementation",
        "case",
        "N",
        "series",
        "bytes",
        "total ms",
        "ns/series",
        "min..max ms",
        "vs p-c",
        "x memcpy",
        "allocs"
    );
    let runs = cases
        .iter()
        .flat_map(|&case| sizes.iter().map(move |&n| (case, n)));
    for (case, n) in runs {
        let data = Data::new(case, n, churn);
        let series = 2 * n + 1;
        let constructors: [(&str, Constructor); 4] = [
            ("ours text", |data| ours(data, Format::Text)),
            ("ours openmetrics", |data| ours(data, Format::OpenMetrics)),
            ("prometheus-client 0.24", prometheus_client),
            ("prometheus 0.14", prometheus),
        ];
        let mut results: Vec<Measurement> = constructors
            .iter()
            .filter(|(name, _)| only.as_deref().is_none_or(|o| name.contains(o)))
            .map(|(_, make)| {
                let mut subject = make(&data);
                measure(&mut subject, samples, target)
            })
            .collect();
        // As many bytes as our text exposition (or the first implementation measured).
        let len = match results.first() {
            Some(first) => first.bytes,
            None => ours(&data, Format::Text).run.as_mut()(),
        };
        let copy = measure(&mut memcpy(len), samples, target);
        let copy_time = copy.median.as_secs_f64();
        let client = results
            .iter()
            .find(|m| m.name.starts_with("prometheus-client"))
            .map(|m| m.median.as_secs_f64());
        results.push(copy);
        for m in &results {
            let t = m.median.as_secs_f64();
            println!(
                "{:<26} {:<8} {:>7} {:>8} {:>10} {:>10.4} {:>9.1} {:>14} {:>8} {:>9.1} {:>8}",
                m.name,
                case.name(),
                n,
                series,
                m.bytes,
                t * 1e3,
                t * 1e9 / series as f64,
                format!(
                    "{:.3}..{:.3}",
                    m.min.as_secs_f64() * 1e3,
                    m.max.as_secs_f64() * 1e3
                ),
                client.map_or("-".to_string(), |c| format!("{:.2}", c / t)),
                t / copy_time,
                m.allocs,
            );
        }
        println!();
    }
}
