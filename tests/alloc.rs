//! Heap use of the exporter, measured by a counting global allocator.
//!
//! - A scrape in steady state allocates nothing: an in-process exporter with labelled counter
//!   and gauge families of 1000 series each, a histogram, two summaries (one with quantiles,
//!   observed 300 times per scrape), an info and an enum, and
//!   an update handler that sets values on handles fetched beforehand, is scraped over one
//!   keep-alive connection until warm, then 100 more times while the server thread's
//!   allocations are counted; for the text format and for OpenMetrics.
//! - What a labelled series costs: live heap bytes before and after creating 100 000 series,
//!   printed (run with `--nocapture` to see them), asserted on nothing.
//!
//! The allocator is the global one of the whole test binary (tests/tests.rs), but only the
//! threads that opt in are counted (the server's thread, or the test's own thread for the
//! per-series figures), so neither the test harness's threads nor the other tests, running
//! beside these, disturb the counts; for them it only forwards to the system allocator. These
//! tests run one at a time among themselves ([`serial`]). With `ALLOC_BACKTRACE=1` the first
//! allocations counted are printed with a backtrace, to find what allocates:
//!
//! ```text
//! ALLOC_BACKTRACE=1 cargo test --release --test integration alloc:: -- --nocapture --test-threads 1
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use prometheus_aioexporter::{MetricConfig, Registry};

// ---------------------------------------------------------------------------------------------
// The counting allocator

struct Counting;

/// Whether allocations of tracked threads are counted now.
static COUNTING: AtomicBool = AtomicBool::new(false);
/// Allocations (including reallocations) counted.
static ALLOCS: AtomicU64 = AtomicU64::new(0);
/// Bytes requested by the allocations counted.
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);
/// Live bytes and live blocks allocated by tracked threads (freed by any thread), counted
/// whether `COUNTING` is set or not.
static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
static LIVE_BLOCKS: AtomicI64 = AtomicI64::new(0);
/// How many counted allocations still get a backtrace printed (set from `ALLOC_BACKTRACE`).
static BACKTRACES_LEFT: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's allocations are counted.
    static TRACKED: Cell<bool> = const { Cell::new(false) };
    /// Inside the allocator's own bookkeeping (a backtrace allocates): do not count.
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

fn tracked() -> bool {
    TRACKED.try_with(Cell::get).unwrap_or(false) && !BUSY.try_with(Cell::get).unwrap_or(true)
}

fn track_this_thread(on: bool) {
    TRACKED.with(|t| t.set(on));
}

fn on_alloc(size: usize, freed: usize) {
    if !tracked() {
        return;
    }
    LIVE_BYTES.fetch_add(size as i64 - freed as i64, Ordering::Relaxed);
    if freed == 0 {
        LIVE_BLOCKS.fetch_add(1, Ordering::Relaxed);
    }
    if !COUNTING.load(Ordering::Relaxed) {
        return;
    }
    ALLOCS.fetch_add(1, Ordering::Relaxed);
    ALLOC_BYTES.fetch_add(size as u64, Ordering::Relaxed);
    let take =
        BACKTRACES_LEFT.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    if take.is_ok() {
        BUSY.with(|b| b.set(true));
        let trace = std::backtrace::Backtrace::force_capture();
        eprintln!("allocation of {size} bytes (freeing {freed}) during a counted scrape:\n{trace}");
        BUSY.with(|b| b.set(false));
    }
}

fn on_dealloc(size: usize) {
    if tracked() {
        LIVE_BYTES.fetch_sub(size as i64, Ordering::Relaxed);
        LIVE_BLOCKS.fetch_sub(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the bookkeeping around it
// only touches atomics and thread-locals with const initialisers (no allocation).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size(), 0);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size(), 0);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        on_alloc(new_size, layout.size());
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        on_dealloc(layout.size());
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The tests share the counters: one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Counts the tracked threads' allocations while `f` runs: (allocations, bytes requested).
#[cfg_attr(not(feature = "server"), allow(dead_code))]
fn count_allocations(f: impl FnOnce()) -> (u64, u64) {
    let backtraces = std::env::var("ALLOC_BACKTRACE")
        .ok()
        .map(|v| v.parse().unwrap_or(5))
        .unwrap_or(0);
    ALLOCS.store(0, Ordering::SeqCst);
    ALLOC_BYTES.store(0, Ordering::SeqCst);
    BACKTRACES_LEFT.store(backtraces, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    f();
    COUNTING.store(false, Ordering::SeqCst);
    BACKTRACES_LEFT.store(0, Ordering::SeqCst);
    (
        ALLOCS.load(Ordering::SeqCst),
        ALLOC_BYTES.load(Ordering::SeqCst),
    )
}

// ---------------------------------------------------------------------------------------------
// The exporter under test (the scrape tests need the `server` feature)

#[cfg(feature = "server")]
mod scrape {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::thread::JoinHandle;
    use std::time::Duration;

    use prometheus_aioexporter::{
        Counter, Exporter, ExporterError, Gauge, MetricConfig, ShutdownHandle,
    };

    use super::{count_allocations, serial, track_this_thread};

    /// Series per labelled family.
    const SERIES: usize = 1000;
    const WARM_UP_SCRAPES: usize = 10;
    const COUNTED_SCRAPES: usize = 100;
    const IO_TIMEOUT: Duration = Duration::from_secs(10);

    struct Running {
        addr: SocketAddr,
        handle: ShutdownHandle,
        thread: Option<JoinHandle<Result<(), ExporterError>>>,
    }

    impl Drop for Running {
        fn drop(&mut self) {
            self.handle.shutdown();
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
    }

    /// An exporter with every metric type and `series` series in each labelled family, serving
    /// on a thread whose allocations are tracked.
    fn start_exporter(series: usize) -> Running {
        let mut exporter = Exporter::new("alloc-test", "Counts allocations.");
        exporter.set_hosts(["127.0.0.1"]).set_port(0);
        let metrics = exporter
            .registry_mut()
            .create_metrics([
                MetricConfig::new("alloc_requests", "Requests.", "counter")
                    .labels(["instance", "path"]),
                MetricConfig::new("alloc_temperature", "Temperature.", "gauge")
                    .labels(["instance", "path"]),
                MetricConfig::new("alloc_latency_seconds", "Latency.", "histogram"),
                MetricConfig::new("alloc_size_bytes", "Sizes.", "summary"),
                MetricConfig::new("alloc_rpc_seconds", "RPC time.", "summary").quantiles([
                    (0.5, 0.05),
                    (0.9, 0.01),
                    (0.99, 0.001),
                ]),
                MetricConfig::new("alloc_build", "Build facts.", "info"),
                MetricConfig::new("alloc_state", "State.", "enum").states(["starting", "running"]),
                // UTF-8 names: label names written per scrape as the escaping asks.
                MetricConfig::new("alloc.utf8", "UTF-8.", "gauge").labels(["host.name", "path"]),
                MetricConfig::new("alloc.utf8_state", "State.", "enum").states(["a", "b"]),
            ])
            .expect("valid metrics");
        let utf8 = metrics.gauge_family("alloc.utf8").expect("gauge");
        let utf8: Vec<Gauge> = (0..10)
            .map(|i| {
                utf8.labels(&[format!("h.{i}"), "/x".into()])
                    .expect("labels")
            })
            .collect();
        let counters = metrics.counter_family("alloc_requests").expect("counter");
        let gauges = metrics.gauge_family("alloc_temperature").expect("gauge");
        let mut handles: Vec<(Counter, Gauge)> = (0..series)
            .map(|i| {
                let labels = [format!("host-{i}"), format!("/api/v{}", i % 10)];
                (
                    counters.labels(&labels).expect("labels"),
                    gauges.labels(&labels).expect("labels"),
                )
            })
            .collect();
        handles.shrink_to_fit();
        let histogram = metrics
            .histogram("alloc_latency_seconds")
            .expect("histogram");
        let summary = metrics.summary("alloc_size_bytes").expect("summary");
        let quantiles = metrics.summary("alloc_rpc_seconds").expect("summary");
        // Steady state for the quantiles too: their lists grow to their largest (by doubling)
        // over the first few thousand observations of this pattern.
        for round in 0..200u32 {
            for i in 0..300 {
                quantiles.observe(f64::from(i) * 0.001 + f64::from(round % 7));
            }
        }
        metrics
            .info("alloc_build")
            .expect("info")
            .set([("version", "1.2.3"), ("commit", "abcdef")])
            .expect("info pairs");
        let state = metrics.enumeration("alloc_state").expect("enum");
        let mut round = 0u64;
        exporter.set_metric_update_handler(move |_| {
            round += 1;
            for (i, (counter, gauge)) in handles.iter().enumerate() {
                counter.inc();
                gauge.set(round as f64 * 0.5 + i as f64 * 0.25);
            }
            for gauge in &utf8 {
                gauge.set(round as f64);
            }
            histogram.observe(round as f64 * 0.01);
            summary.observe(round as f64);
            // Enough that the quantiles' buffer is merged during scrapes, and on observe.
            for i in 0..300 {
                quantiles.observe(f64::from(i) * 0.001 + round as f64 % 7.0);
            }
            state.set(if round % 2 == 0 {
                "running"
            } else {
                "starting"
            })?;
            Ok(())
        });
        let mut server = exporter.bind().expect("bind");
        let addr = server.local_addrs()[0];
        let handle = server.shutdown_handle();
        let thread = std::thread::spawn(move || {
            track_this_thread(true);
            server.serve(None)
        });
        Running {
            addr,
            handle,
            thread: Some(thread),
        }
    }

    /// A keep-alive client that reads responses into one buffer allocated up front.
    struct Client {
        stream: TcpStream,
        request: Vec<u8>,
        buf: Vec<u8>,
    }

    impl Client {
        fn connect(addr: SocketAddr, accept: Option<&str>, buffer: usize) -> Client {
            let stream = TcpStream::connect(addr).expect("connect");
            stream.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
            stream.set_write_timeout(Some(IO_TIMEOUT)).expect("timeout");
            stream.set_nodelay(true).expect("nodelay");
            let mut request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n").into_bytes();
            if let Some(accept) = accept {
                request.extend_from_slice(format!("Accept: {accept}\r\n").as_bytes());
            }
            request.extend_from_slice(b"\r\n");
            Client {
                stream,
                request,
                buf: vec![0; buffer],
            }
        }

        /// Sends one request and reads its response; returns (head length, body length) and
        /// leaves the response in `buf`. Allocates nothing.
        fn scrape(&mut self) -> (usize, usize) {
            self.send();
            self.receive()
        }

        fn send(&mut self) {
            self.stream.write_all(&self.request).expect("send request");
        }

        /// Reads one response, as [`Client::scrape`].
        fn receive(&mut self) -> (usize, usize) {
            let mut filled = 0;
            let (head_len, body_len) = loop {
                let n = self
                    .stream
                    .read(&mut self.buf[filled..])
                    .expect("read response");
                assert!(n > 0, "server closed the connection");
                filled += n;
                let got = &self.buf[..filled];
                if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = std::str::from_utf8(&got[..end]).expect("utf-8 head");
                    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
                    let length = head
                        .split("\r\n")
                        .find_map(|line| {
                            let (name, value) = line.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse::<usize>().ok())?
                        })
                        .expect("Content-Length");
                    break (end + 4, length);
                }
            };
            assert!(head_len + body_len <= self.buf.len(), "response too large");
            while filled < head_len + body_len {
                let n = self
                    .stream
                    .read(&mut self.buf[filled..head_len + body_len])
                    .expect("read body");
                assert!(n > 0, "server closed the connection mid-body");
                filled += n;
            }
            assert_eq!(filled, head_len + body_len, "more than one response");
            (head_len, body_len)
        }

        fn head(&self, head_len: usize) -> &str {
            std::str::from_utf8(&self.buf[..head_len]).expect("utf-8")
        }

        fn body(&self, head_len: usize, body_len: usize) -> &[u8] {
            &self.buf[head_len..head_len + body_len]
        }
    }

    /// Warms a connection up, then counts the server's allocations over `COUNTED_SCRAPES` more
    /// scrapes; returns (allocations, bytes).
    fn scrape_allocations(
        accept: Option<&str>,
        content_type: &str,
        contains: &[u8],
        ending: &[u8],
    ) -> (u64, u64) {
        let _serial = serial();
        let running = start_exporter(SERIES);
        let mut client = Client::connect(running.addr, accept, 4 << 20);
        for _ in 0..WARM_UP_SCRAPES {
            let (head, body) = client.scrape();
            assert!(
                client.head(head).contains(content_type),
                "{}",
                client.head(head)
            );
            let text = client.body(head, body);
            assert!(text.ends_with(ending));
            assert!(text.windows(contains.len()).any(|w| w == contains));
            assert!(body > SERIES * 2 * 40, "body of {body} bytes");
        }
        let counted = count_allocations(|| {
            for _ in 0..COUNTED_SCRAPES {
                client.scrape();
            }
        });
        println!(
        "{content_type}: {} allocations ({} bytes) on the server thread over {COUNTED_SCRAPES} \
         scrapes of {} series",
        counted.0,
        counted.1,
        2 * SERIES + 4
    );
        drop(running);
        counted
    }

    #[test]
    fn a_text_scrape_allocates_nothing_in_steady_state() {
        let (allocs, _) = scrape_allocations(
            None,
            "text/plain; version=0.0.4",
            b"\nalloc_temperature{instance=\"host-999\",path=\"/api/v9\"} ",
            b"\n",
        );
        assert_eq!(allocs, 0, "allocations per {COUNTED_SCRAPES} scrapes");
    }

    #[test]
    fn an_openmetrics_scrape_allocates_nothing_in_steady_state() {
        let (allocs, _) = scrape_allocations(
            Some("application/openmetrics-text;version=1.0.0"),
            "application/openmetrics-text; version=1.0.0",
            b"\n# TYPE alloc_state stateset\n",
            b"\n# EOF\n",
        );
        assert_eq!(allocs, 0, "allocations per {COUNTED_SCRAPES} scrapes");
    }

    #[test]
    fn scrapes_with_utf8_names_allocate_nothing_in_steady_state() {
        let cases = [
            (
                "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8",
                &b"\n{\"alloc.utf8\",\"host.name\"=\"h.9\",path=\"/x\"} "[..],
                &b"\n# EOF\n"[..],
            ),
            (
                "text/plain;version=1.0.0;escaping=dots",
                &b"\nalloc_dot_utf8{host_dot_name=\"h.9\",path=\"/x\"} "[..],
                &b"\n"[..],
            ),
            (
                "text/plain;version=1.0.0;escaping=values",
                &b"\nU__alloc_2e_utf8__state{U__alloc_2e_utf8__state=\"a\"} "[..],
                &b"\n"[..],
            ),
        ];
        for (accept, contains, ending) in cases {
            let escaping = &accept[accept.find("escaping=").unwrap_or(0)..];
            let (allocs, _) = scrape_allocations(Some(accept), escaping, contains, ending);
            assert_eq!(
                allocs, 0,
                "{accept}: allocations per {COUNTED_SCRAPES} scrapes"
            );
        }
    }

    /// Two scrapers whose scrapes overlap: the second request arrives while the first
    /// response (larger than the socket buffers hold) is still being sent.
    #[test]
    fn overlapping_scrapes_allocate_nothing_in_steady_state() {
        // 13 MB bodies: more than loopback socket buffers take at once.
        const BIG: usize = 100_000;
        const ROUNDS: usize = 10;
        let _serial = serial();
        let running = start_exporter(BIG);
        let mut a = Client::connect(running.addr, None, 32 << 20);
        let mut b = Client::connect(running.addr, None, 32 << 20);
        let mut round = || {
            a.send();
            // Let the server encode for `a` and fill the socket buffers before `b` asks.
            std::thread::sleep(Duration::from_millis(50));
            b.send();
            let (_, body_a) = a.receive();
            let (_, body_b) = b.receive();
            assert!(body_a > 10 << 20 && body_b > 10 << 20, "{body_a} {body_b}");
        };
        for _ in 0..3 {
            round();
        }
        let (allocs, bytes) = count_allocations(|| {
            for _ in 0..ROUNDS {
                round();
            }
        });
        println!(
            "overlapping scrapes: {allocs} allocations ({bytes} bytes) on the server thread \
             over {ROUNDS} rounds of two scrapes of {} series",
            2 * BIG + 4
        );
        drop(running);
        assert_eq!(allocs, 0, "allocations per {ROUNDS} rounds");
    }
}

/// Live heap bytes and blocks of the tracked (current) thread around `f`.
fn live_growth<T>(f: impl FnOnce() -> T) -> (T, i64, i64) {
    let (bytes, blocks) = (
        LIVE_BYTES.load(Ordering::SeqCst),
        LIVE_BLOCKS.load(Ordering::SeqCst),
    );
    let value = f();
    (
        value,
        LIVE_BYTES.load(Ordering::SeqCst) - bytes,
        LIVE_BLOCKS.load(Ordering::SeqCst) - blocks,
    )
}

/// What a summary with quantiles costs on the heap: when created, and after a million
/// observations (printed; asserted only against the bound its module states).
#[test]
fn heap_bytes_of_a_summary_with_quantiles() {
    let _serial = serial();
    track_this_thread(true);
    let mut registry = Registry::new();
    let (plain, plain_bytes, _) = live_growth(|| registry.summary("mem_plain", "P.").unwrap());
    let (summary, created, _) = live_growth(|| {
        registry
            .summary_with_quantiles(
                "mem_rpc_seconds",
                "R.",
                [(0.5, 0.05), (0.9, 0.01), (0.99, 0.001)],
            )
            .unwrap()
    });
    let ((), grown, _) = live_growth(|| {
        for i in 0..1_000_000u32 {
            summary.observe(f64::from(i.wrapping_mul(2_654_435_761)) * 1e-6);
        }
        let mut body = Vec::new();
        registry.encode(&mut body).unwrap();
    });
    track_this_thread(false);
    println!(
        "a summary: {plain_bytes} bytes of heap without quantiles (with its registration), \
         {created} with the three default objectives, {grown} more after 1e6 observations"
    );
    // `grown`: the first scrape's sorted copies, not the quantiles' lists (see above).
    assert!(created < 20_000 && grown <= 64, "{created} {grown}");
    drop(plain);
}

#[test]
fn heap_bytes_per_labelled_series() {
    const N: usize = 100_000;
    let _serial = serial();
    track_this_thread(true);
    let mut registry = Registry::new();
    let metrics = registry
        .create_metrics([
            MetricConfig::new("mem_requests", "Requests.", "counter").labels(["instance", "path"]),
            MetricConfig::new("mem_temperature", "Temperature.", "gauge")
                .labels(["instance", "path"]),
        ])
        .expect("valid metrics");
    let counters = metrics.counter_family("mem_requests").expect("counter");
    let gauges = metrics.gauge_family("mem_temperature").expect("gauge");
    // The label values as a caller would have them; not counted.
    let values: Vec<[String; 2]> = (0..N)
        .map(|i| [format!("host-{i}"), format!("/api/v{}", i % 10)])
        .collect();
    let label_bytes: usize = values.iter().map(|[a, b]| a.len() + b.len()).sum();
    let ((), counter_bytes, counter_blocks) = live_growth(|| {
        for v in &values {
            counters.labels(v).expect("labels").inc();
        }
    });
    let ((), gauge_bytes, gauge_blocks) = live_growth(|| {
        for v in &values {
            gauges.labels(v).expect("labels").set(1.0);
        }
    });
    // The buffer a scrape encodes into, for scale. The first scrape also keeps, per family, a
    // copy of its handles in label order (what later scrapes walk): the heap it adds beyond
    // the body is printed too.
    let mut body = Vec::new();
    let ((), scrape_bytes, _) = live_growth(|| registry.encode(&mut body).expect("encode"));
    let kept_by_scrape = scrape_bytes - body.capacity() as i64;
    let per = |bytes: i64| bytes as f64 / N as f64;
    println!(
        "heap per labelled series at N={N} (two labels, {:.1} bytes of label values each):\n\
         \x20 counter: {:.1} bytes in {:.2} blocks (requested sizes; malloc adds ~8-16 B/block)\n\
         \x20 gauge:   {:.1} bytes in {:.2} blocks\n\
         \x20 kept by the first scrape (the sorted copies): {:.1} bytes per series\n\
         \x20 text exposition: {:.1} bytes per series",
        label_bytes as f64 / N as f64,
        per(counter_bytes),
        counter_blocks as f64 / N as f64,
        per(gauge_bytes),
        gauge_blocks as f64 / N as f64,
        kept_by_scrape as f64 / (2 * N) as f64,
        body.len() as f64 / (2 * N) as f64,
    );
    track_this_thread(false);
    assert_eq!(counters.len(), N);
    assert_eq!(gauges.len(), N);
}
