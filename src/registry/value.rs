//! The values behind the handles users update: one type per metric kind, each an `Arc` around
//! its label pairs and atomics.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::config::check_label_name;
use super::quantile::Window;
use super::{Desc, Family, Metric, MetricError, MetricType};
use crate::wire::escape::write_label_pair;

/// An `f64` updated atomically through its bit pattern.
#[derive(Debug, Default)]
pub(crate) struct AtomicF64(AtomicU64);

impl AtomicF64 {
    fn new(v: f64) -> AtomicF64 {
        AtomicF64(AtomicU64::new(v.to_bits()))
    }

    pub(crate) fn get(&self) -> f64 {
        f64::from_bits(self.0.load(AtomicOrdering::Relaxed))
    }

    fn set(&self, v: f64) {
        self.0.store(v.to_bits(), AtomicOrdering::Relaxed);
    }

    #[inline]
    fn add(&self, delta: f64) {
        let mut current = self.0.load(AtomicOrdering::Relaxed);
        loop {
            let new = (f64::from_bits(current) + delta).to_bits();
            match self.0.compare_exchange_weak(
                current,
                new,
                AtomicOrdering::Relaxed,
                AtomicOrdering::Relaxed,
            ) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }
}

/// A series' value type: what [`Family`](super::Family) creates for each label set. Series are ordered and
/// found by their rendered label pairs.
///
/// ```
/// use prometheus_aioexporter::{Counter, Family, MetricConfig, Registry, Series};
///
/// // Code generic over the type of a family's series.
/// fn series_count<S: Series>(family: &Family<S>) -> usize {
///     family.len()
/// }
/// let mut registry = Registry::new();
/// registry.create_metrics([MetricConfig::new("hits", "Hits.", "counter").labels(["page"])])?;
/// let hits = registry.metrics().counter_family("hits")?;
/// hits.labels(&["/"])?.inc();
/// assert_eq!(series_count(&hits), 1);
/// assert_eq!(Counter::TYPE.as_str(), "counter");
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
pub trait Series:
    Clone + Send + Sync + fmt::Debug + Ord + Borrow<str> + sealed::Sealed + 'static
{
    /// The type a family of this series has.
    ///
    /// ```
    /// use prometheus_aioexporter::{Histogram, MetricType, Series};
    ///
    /// assert_eq!(Histogram::TYPE, MetricType::Histogram);
    /// ```
    const TYPE: MetricType;
    #[doc(hidden)]
    fn new_series(desc: &Arc<Desc>, labels: Box<str>) -> Self;
    #[doc(hidden)]
    fn labels_rendered(&self) -> &str;
    #[doc(hidden)]
    fn family_of(metric: &Metric) -> Option<&Family<Self>>;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! series {
    ($ty:ident, $core:ty, $kind:expr, |$desc:ident| $init:expr) => {
        impl sealed::Sealed for $ty {}
        impl Series for $ty {
            const TYPE: MetricType = $kind;
            fn new_series($desc: &Arc<Desc>, labels: Box<str>) -> Self {
                $ty(Arc::new(SeriesInner {
                    labels,
                    value: $init,
                }))
            }
            fn labels_rendered(&self) -> &str {
                &self.0.labels
            }
            fn family_of(metric: &Metric) -> Option<&Family<Self>> {
                match metric {
                    Metric::$ty(f) => Some(f),
                    _ => None,
                }
            }
        }
        impl Borrow<str> for $ty {
            fn borrow(&self) -> &str {
                &self.0.labels
            }
        }
        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                self.0.labels == other.0.labels
            }
        }
        impl Eq for $ty {}
        impl PartialOrd for $ty {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $ty {
            fn cmp(&self, other: &Self) -> Ordering {
                self.0.labels.cmp(&other.0.labels)
            }
        }
        impl $ty {
            #[allow(dead_code)]
            pub(crate) fn inner(&self) -> &SeriesInner<$core> {
                &self.0
            }
        }
    };
}

/// One series: its label pairs rendered for the wire (also its key in the family), and its
/// value. Kept small: it is what a family holds per label set.
#[derive(Debug)]
pub(crate) struct SeriesInner<V> {
    /// `a="x",b="y"`, escaped, without braces; empty without labels.
    pub(crate) labels: Box<str>,
    pub(crate) value: V,
}

/// A counter: a value that only goes up. Exposed as `<name>_total`.
///
/// ```
/// use prometheus_aioexporter::{MetricConfig, Registry};
///
/// let mut registry = Registry::new();
/// let metrics = registry.create_metrics([MetricConfig::new("jobs", "Jobs done.", "counter")])?;
/// let jobs = metrics.counter("jobs")?;
/// jobs.inc();
/// jobs.inc_by(2.5)?;
/// assert_eq!(jobs.get(), 3.5);
/// assert!(jobs.inc_by(-1.0).is_err());
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Counter(Arc<SeriesInner<CounterValue>>);
series!(Counter, CounterValue, MetricType::Counter, |_d| {
    CounterValue::default()
});

/// When the integer part reaches this, it is moved to the `f64` part, long before it could wrap
/// (less than 2^32 per add, so 2^31 adds in flight would be needed to reach 2^64).
const WHOLE_SPILL: u64 = 1 << 63;

/// A counter's value: whole increments counted exactly in an integer, with one atomic add as
/// the peers' integer counters do, and any other increment added to an `f64`; a read sums the
/// two. So `inc()` never loops on a compare-and-swap, and an `f64` increment is as exact as
/// adding it to an `f64` (more, when whole and fractional increments mix: the integer part
/// loses nothing until it is converted at read).
#[derive(Debug, Default)]
pub(crate) struct CounterValue {
    whole: AtomicU64,
    fraction: AtomicF64,
}

impl CounterValue {
    #[inline]
    fn add_whole(&self, n: u64) {
        let before = self.whole.fetch_add(n, AtomicOrdering::Relaxed);
        if before < WHOLE_SPILL && before + n >= WHOLE_SPILL {
            self.spill();
        }
    }

    /// Moves 2^63 from the integer part to the `f64` part; only the add that crossed it calls
    /// this. A read racing with it (once per 2^63 of increments) can be off by 2^63.
    #[cold]
    fn spill(&self) {
        self.fraction.add(WHOLE_SPILL as f64);
        self.whole.fetch_sub(WHOLE_SPILL, AtomicOrdering::Relaxed);
    }

    pub(crate) fn get(&self) -> f64 {
        match self.whole.load(AtomicOrdering::Relaxed) {
            // The f64 part as it is: `0.0 + -0.0` would lose the sign of a counter set to -0.
            0 => self.fraction.get(),
            whole => whole as f64 + self.fraction.get(),
        }
    }

    fn set(&self, v: f64) {
        self.whole.store(0, AtomicOrdering::Relaxed);
        self.fraction.set(v);
    }
}

impl Counter {
    /// Adds one: a single atomic add.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let requests = registry.counter("requests", "Requests served.")?;
    /// requests.inc();
    /// assert_eq!(requests.get(), 1.0);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    #[inline]
    pub fn inc(&self) {
        self.0.value.add_whole(1);
    }

    /// Adds `v`. A whole `v` below 2^32 is a single atomic add, like [`Counter::inc`]; any
    /// other is added to the counter's `f64` part, exactly as `f64` addition does.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let cpu = registry.counter("cpu_seconds", "CPU time used.")?;
    /// cpu.inc_by(0.25)?;
    /// cpu.inc_by(2.0)?;
    /// assert_eq!(cpu.get(), 2.25);
    /// assert!(cpu.inc_by(-1.0).is_err()); // counters only go up
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    ///
    /// # Errors
    /// [`MetricError::NegativeIncrement`] if `v` is negative or NaN; the counter is unchanged.
    #[inline]
    pub fn inc_by(&self, v: f64) -> Result<(), MetricError> {
        let value = &self.0.value;
        // Whole increments below 2^32 go to the integer part: `v` is one if converting it to
        // a `u32` (which saturates, and takes NaN to 0) and back gives it again. This test
        // comes first, so the common case costs one comparison; -0 passes it as 0.
        let n = v as u32;
        if f64::from(n) == v {
            value.add_whole(u64::from(n));
        } else if v >= 0.0 {
            value.fraction.add(v);
        } else {
            // Negative or NaN.
            return Err(MetricError::NegativeIncrement { value: v });
        }
        Ok(())
    }

    /// Adds `n`, an integer: the peers' integer `inc_by`, without the check an `f64` needs.
    /// Below 2^32 it is a single atomic add; above, it is added as an `f64` (exact up to 2^53).
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let bytes = registry.counter("sent_bytes", "Bytes sent.")?;
    /// bytes.inc_by_u64(1500);
    /// bytes.inc_by(0.5)?;
    /// assert_eq!(bytes.get(), 1500.5);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    #[inline]
    pub fn inc_by_u64(&self, n: u64) {
        match u32::try_from(n) {
            Ok(n) => self.0.value.add_whole(u64::from(n)),
            Err(_) => self.0.value.fraction.add(n as f64),
        }
    }

    /// Sets the counter to `v`: for exporters that mirror a total kept elsewhere (a kernel
    /// counter, another service's statistics). The caller keeps it monotonic; an increment
    /// racing with `set` may be lost, as it would be if it came just before.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let rx = registry.counter("rx_bytes", "Bytes the kernel received.")?;
    /// let from_kernel = 123_456.0; // e.g. read from /proc/net/dev
    /// rx.set(from_kernel);
    /// assert_eq!(rx.get(), 123_456.0);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn set(&self, v: f64) {
        self.0.value.set(v);
    }

    /// The current value.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let jobs = registry.counter("jobs", "Jobs done.")?;
    /// jobs.inc_by_u64(3);
    /// assert_eq!(jobs.get(), 3.0);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn get(&self) -> f64 {
        self.0.value.get()
    }

    /// Sets the counter back to zero (client_golang's `Reset`), for a counter that mirrors
    /// one that restarted. Prometheus reads the drop as a counter reset.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let errors = registry.counter("upstream_errors", "Errors the upstream reported.")?;
    /// errors.set(40.0);
    /// errors.reset(); // the upstream restarted
    /// assert_eq!(errors.get(), 0.0);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn reset(&self) {
        self.0.value.set(0.0);
    }
}

/// A gauge: a value that goes up and down.
///
/// ```
/// use prometheus_aioexporter::{MetricConfig, Registry};
///
/// let mut registry = Registry::new();
/// let metrics = registry.create_metrics([MetricConfig::new("temp", "Temperature.", "gauge")])?;
/// let temp = metrics.gauge("temp")?;
/// temp.set(20.5);
/// temp.dec();
/// assert_eq!(temp.get(), 19.5);
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Gauge(Arc<SeriesInner<AtomicF64>>);
series!(Gauge, AtomicF64, MetricType::Gauge, |_d| AtomicF64::new(
    0.0
));

impl Gauge {
    /// Sets the value.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let temp = registry.gauge("temperature_celsius", "Temperature.")?;
    /// temp.set(21.5);
    /// assert_eq!(temp.get(), 21.5);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn set(&self, v: f64) {
        self.0.value.set(v);
    }

    /// Adds one.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let in_flight = registry.gauge("requests_in_flight", "Requests being served.")?;
    /// in_flight.inc();
    /// assert_eq!(in_flight.get(), 1.0);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn inc(&self) {
        self.0.value.add(1.0);
    }

    /// Subtracts one.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let in_flight = registry.gauge("requests_in_flight", "Requests being served.")?;
    /// in_flight.inc();
    /// in_flight.dec(); // the request is done
    /// assert_eq!(in_flight.get(), 0.0);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn dec(&self) {
        self.0.value.add(-1.0);
    }

    /// Adds `v` (which may be negative).
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let queued = registry.gauge("queued_bytes", "Bytes waiting to be sent.")?;
    /// queued.add(1500.0);
    /// queued.add(-500.0);
    /// assert_eq!(queued.get(), 1000.0);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn add(&self, v: f64) {
        self.0.value.add(v);
    }

    /// Subtracts `v`.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let queued = registry.gauge("queued_bytes", "Bytes waiting to be sent.")?;
    /// queued.set(1500.0);
    /// queued.sub(1000.0);
    /// assert_eq!(queued.get(), 500.0);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn sub(&self, v: f64) {
        self.0.value.add(-v);
    }

    /// Sets the value to the current Unix time in seconds.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let last_success = registry.gauge("last_success_timestamp_seconds", "When the job last succeeded.")?;
    /// last_success.set_to_current_time();
    /// assert!(last_success.get() > 1.6e9); // seconds since 1970
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn set_to_current_time(&self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        self.set(now);
    }

    /// The current value.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let workers = registry.gauge("workers", "Worker threads.")?;
    /// workers.set(4.0);
    /// assert_eq!(workers.get(), 4.0);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn get(&self) -> f64 {
        self.0.value.get()
    }
}

/// The values of a histogram series: a count per bucket (not cumulative; the encoder sums),
/// and the sum of observations.
#[derive(Debug)]
pub(crate) struct HistogramValue {
    /// The bucket bounds live in the family's descriptor.
    pub(crate) desc: Arc<Desc>,
    pub(crate) counts: Box<[AtomicU64]>,
    pub(crate) sum: AtomicF64,
}

/// A histogram: observations counted into buckets, with their sum and count.
///
/// ```
/// use prometheus_aioexporter::{MetricConfig, Registry};
///
/// let mut registry = Registry::new();
/// let metrics = registry.create_metrics([
///     MetricConfig::new("latency_seconds", "Latency.", "histogram").buckets([0.1, 1.0]),
/// ])?;
/// let latency = metrics.histogram("latency_seconds")?;
/// latency.observe(0.05);
/// latency.observe(0.5);
/// assert_eq!(latency.count(), 2);
/// assert_eq!(latency.sum(), 0.55);
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Histogram(Arc<SeriesInner<HistogramValue>>);
series!(Histogram, HistogramValue, MetricType::Histogram, |d| {
    HistogramValue {
        desc: Arc::clone(d),
        counts: d.buckets.iter().map(|_| AtomicU64::new(0)).collect(),
        sum: AtomicF64::new(0.0),
    }
});

impl Histogram {
    /// Records one observation. NaN counts only in the `+Inf` bucket (and makes the sum NaN).
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let latency = registry.histogram("latency_seconds", "Latency.", [0.01, 0.1, 1.0])?;
    /// latency.observe(0.042);
    /// assert_eq!((latency.count(), latency.sum()), (1, 0.042));
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn observe(&self, v: f64) {
        let value = &self.0.value;
        let bounds = &value.desc.buckets;
        // The first bound >= v, counted without a branch per bound: arbitrary values would
        // mispredict a search. NaN is above no bound, so it goes to the last (+Inf).
        let i = if v.is_nan() {
            bounds.len() - 1
        } else {
            bounds.iter().fold(0, |i, &b| i + usize::from(v > b))
        };
        if let Some(count) = value.counts.get(i) {
            count.fetch_add(1, AtomicOrdering::Relaxed);
        }
        value.sum.add(v);
    }

    /// Forgets every observation (client_golang's `Reset`): counts and sum back to zero. An
    /// `observe` racing with it may be kept in part (its bucket but not its sum, or the
    /// reverse).
    ///
    /// ```
    /// # use prometheus_aioexporter::Registry;
    /// # let mut registry = Registry::new();
    /// let h = registry.histogram("wait_seconds", "Wait.", [0.1, 1.0])?;
    /// h.observe(0.5);
    /// h.reset();
    /// assert_eq!((h.count(), h.sum()), (0, 0.0));
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn reset(&self) {
        for count in self.0.value.counts.iter() {
            count.store(0, AtomicOrdering::Relaxed);
        }
        self.0.value.sum.set(0.0);
    }

    /// Runs `f` and observes how long it took, in seconds, as Python's `Histogram.time()`
    /// does; returns what `f` returns. A panic in `f` is observed too, when panics unwind.
    ///
    /// ```
    /// # use prometheus_aioexporter::{MetricConfig, Registry};
    /// # let mut registry = Registry::new();
    /// # let metrics = registry.create_metrics([MetricConfig::new("query_seconds", "", "histogram")])?;
    /// let query = metrics.histogram("query_seconds")?;
    /// let rows = query.time(|| 42);
    /// assert_eq!((rows, query.count()), (42, 1));
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        timed(f, |seconds| self.observe(seconds))
    }

    /// The number of observations.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let latency = registry.histogram("latency_seconds", "Latency.", [0.1, 1.0])?;
    /// latency.observe(0.05);
    /// latency.observe(5.0); // above every bound: counted in +Inf
    /// assert_eq!(latency.count(), 2);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn count(&self) -> u64 {
        self.0
            .value
            .counts
            .iter()
            .map(|c| c.load(AtomicOrdering::Relaxed))
            .sum()
    }

    /// The sum of observations.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let size = registry.histogram("response_bytes", "Response sizes.", [1e3, 1e6])?;
    /// size.observe(512.0);
    /// size.observe(2048.0);
    /// assert_eq!(size.sum(), 2560.0);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn sum(&self) -> f64 {
        self.0.value.sum.get()
    }
}

/// Runs `f`, then gives `observe` the seconds it took, also when `f` panics (as Python's
/// `.time()` records a call that raised).
fn timed<T, O: FnOnce(f64)>(f: impl FnOnce() -> T, observe: O) -> T {
    /// Observes on drop, so that an unwinding panic is timed too.
    struct Timer<O: FnOnce(f64)> {
        started: Instant,
        observe: Option<O>,
    }
    impl<O: FnOnce(f64)> Drop for Timer<O> {
        fn drop(&mut self) {
            if let Some(observe) = self.observe.take() {
                observe(self.started.elapsed().as_secs_f64());
            }
        }
    }
    let _timer = Timer {
        started: Instant::now(),
        observe: Some(observe),
    };
    f()
}

/// The values of a summary series: count and sum, and the quantiles' window when the
/// summary was declared with [`MetricConfig::quantiles`](super::MetricConfig::quantiles).
#[derive(Debug)]
pub(crate) struct SummaryValue {
    pub(crate) count: AtomicU64,
    pub(crate) sum: AtomicF64,
    /// `None` without quantiles: one pointer more per series, and one predicted branch.
    pub(crate) window: Option<Box<Mutex<Window>>>,
}

/// A summary: observations summed and counted (`_sum`, `_count`), and, when declared with
/// [`MetricConfig::quantiles`](super::MetricConfig::quantiles), quantiles over a sliding
/// window (`name{quantile="0.9"}`), as client_golang's summaries.
///
/// ```
/// use prometheus_aioexporter::Registry;
///
/// let mut registry = Registry::new();
/// let size = registry.summary("request_bytes", "Request sizes.")?;
/// size.observe(512.0);
/// size.observe(1024.0);
/// assert_eq!((size.count(), size.sum()), (2, 1536.0));
///
/// let mut body = Vec::new();
/// registry.encode(&mut body).unwrap();
/// assert!(body.ends_with(b"request_bytes_sum 1536\nrequest_bytes_count 2\n"));
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Summary(Arc<SeriesInner<SummaryValue>>);
series!(Summary, SummaryValue, MetricType::Summary, |d| {
    SummaryValue {
        count: AtomicU64::new(0),
        sum: AtomicF64::new(0.0),
        window: d.quantiles.as_ref().map(|q| {
            Box::new(Mutex::new(Window::new(
                &q.objectives,
                q.max_age,
                q.age_buckets,
                Instant::now(),
            )))
        }),
    }
});

impl SummaryValue {
    /// Runs `f` on the quantiles' window brought up to now (rotated, its buffer merged), if
    /// the summary has quantiles: what a scrape reads.
    pub(crate) fn with_window(&self, f: impl FnOnce(&Window)) {
        if let Some(window) = &self.window {
            let mut window = lock(window);
            window.refresh(Instant::now());
            f(&window);
        }
    }
}

/// Adds `v` to a summary's quantiles; out of line, so that a summary without them pays only
/// the test that skips this.
#[inline(never)]
fn observe_quantiles(window: &Mutex<Window>, v: f64) {
    lock(window).observe(v, Instant::now());
}

impl Summary {
    /// Records one observation: two atomic adds, and with quantiles, a lock, a clock read and
    /// a buffer push (every 128 observations, a merge into the window's streams). NaN counts in `_count`
    /// and makes `_sum` NaN, but has no rank: the quantiles leave it out.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let size = registry.summary("request_bytes", "Request sizes.")?;
    /// size.observe(512.0);
    /// assert_eq!((size.count(), size.sum()), (1, 512.0));
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn observe(&self, v: f64) {
        let value = &self.0.value;
        value.sum.add(v);
        value.count.fetch_add(1, AtomicOrdering::Relaxed);
        if let Some(window) = &value.window {
            observe_quantiles(window, v);
        }
    }

    /// Runs `f` and observes how long it took, in seconds, as [`Histogram::time`] does.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let query = registry.summary("query_seconds", "Query time.")?;
    /// let rows = query.time(|| 42); // run the query
    /// assert_eq!((rows, query.count()), (42, 1));
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        timed(f, |seconds| self.observe(seconds))
    }

    /// The number of observations.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let size = registry.summary("request_bytes", "Request sizes.")?;
    /// size.observe(100.0);
    /// size.observe(200.0);
    /// assert_eq!(size.count(), 2);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn count(&self) -> u64 {
        self.0.value.count.load(AtomicOrdering::Relaxed)
    }

    /// Forgets every observation (client_golang's `Reset`): count and sum back to zero, and
    /// the quantiles' window emptied.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let rpc = registry.summary_with_quantiles("rpc_seconds", "RPC time.", [(0.5, 0.05)])?;
    /// rpc.observe(0.2);
    /// rpc.reset();
    /// assert_eq!((rpc.count(), rpc.sum()), (0, 0.0));
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn reset(&self) {
        self.0.value.count.store(0, AtomicOrdering::Relaxed);
        self.0.value.sum.set(0.0);
        if let Some(window) = &self.0.value.window {
            lock(window).clear();
        }
    }

    /// The sum of observations.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let size = registry.summary("request_bytes", "Request sizes.")?;
    /// size.observe(100.0);
    /// size.observe(200.0);
    /// assert_eq!(size.sum(), 300.0);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn sum(&self) -> f64 {
        self.0.value.sum.get()
    }
}

/// An info metric: key-value pairs exposed as the labels of a `<name>_info` sample of value 1.
///
/// ```
/// use prometheus_aioexporter::{MetricConfig, Registry};
///
/// let mut registry = Registry::new();
/// let metrics = registry.create_metrics([MetricConfig::new("build", "Build facts.", "info")])?;
/// metrics.info("build")?.set([("version", "1.2.3"), ("commit", "abc")])?;
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Info(Arc<SeriesInner<InfoValue>>);
series!(Info, InfoValue, MetricType::Info, |d| InfoValue {
    desc: Arc::clone(d),
    pairs: Mutex::new(String::new()),
});

/// The value of an info series: its key-value pairs, rendered.
#[derive(Debug)]
pub(crate) struct InfoValue {
    /// The metric's name and label names, to check keys against.
    desc: Arc<Desc>,
    pub(crate) pairs: Mutex<String>,
}

impl Info {
    /// Replaces the key-value pairs.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let build = registry.info("build", "Build facts.")?;
    /// build.set([("version", "1.2.3"), ("commit", "abc123")])?;
    /// assert!(build.set([("not a label", "x")]).is_err());
    ///
    /// let mut body = Vec::new();
    /// registry.encode(&mut body).unwrap();
    /// assert!(body.ends_with(b"build_info{version=\"1.2.3\",commit=\"abc123\"} 1\n"));
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    ///
    /// # Errors
    /// [`MetricError::InvalidLabelName`] if a key is not a valid label name;
    /// [`MetricError::DuplicateLabelName`] if a key repeats or is one of the metric's own
    /// labels.
    pub fn set<I, K, V>(&self, pairs: I) -> Result<(), MetricError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let desc = &self.0.value.desc;
        let mut keys: Vec<String> = Vec::new();
        let mut rendered = Vec::new();
        for (k, v) in pairs {
            let (k, v) = (k.as_ref(), v.as_ref());
            check_label_name(&desc.name, k, &[])?;
            if keys.iter().chain(&desc.label_names).any(|seen| seen == k) {
                return Err(MetricError::DuplicateLabelName {
                    metric: desc.name.clone(),
                    label: k.to_string(),
                });
            }
            keys.push(k.to_string());
            if !rendered.is_empty() {
                rendered.push(b',');
            }
            write_label_pair(&mut rendered, k, v);
        }
        *lock(&self.0.value.pairs) = String::from_utf8(rendered).unwrap_or_default();
        Ok(())
    }
}

/// An enum metric: one of a fixed set of states.
///
/// ```
/// use prometheus_aioexporter::{MetricConfig, Registry};
///
/// let mut registry = Registry::new();
/// let metrics = registry.create_metrics([
///     MetricConfig::new("state", "Service state.", "enum").states(["starting", "running"]),
/// ])?;
/// let state = metrics.enumeration("state")?;
/// assert_eq!(state.state(), "starting");
/// state.set("running")?;
/// assert!(state.set("exploded").is_err());
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Enum(Arc<SeriesInner<EnumValue>>);
series!(Enum, EnumValue, MetricType::Enum, |d| EnumValue {
    desc: Arc::clone(d),
    state: AtomicUsize::new(0),
});

/// The value of an enum series: the index of its state.
#[derive(Debug)]
pub(crate) struct EnumValue {
    /// The states live in the family's descriptor.
    desc: Arc<Desc>,
    pub(crate) state: AtomicUsize,
}

impl Enum {
    /// Sets the current state.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let state = registry.enumeration("state", "Service state.", ["starting", "running", "stopped"])?;
    /// state.set("running")?;
    /// assert_eq!(state.state(), "running");
    /// assert!(state.set("exploded").is_err()); // not a declared state
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    ///
    /// # Errors
    /// [`MetricError::UnknownState`] if `state` is not one of the declared states.
    pub fn set(&self, state: &str) -> Result<(), MetricError> {
        let desc = &self.0.value.desc;
        let i = desc.states.iter().position(|s| s == state).ok_or_else(|| {
            MetricError::UnknownState {
                metric: desc.name.clone(),
                state: state.to_string(),
            }
        })?;
        self.0.value.state.store(i, AtomicOrdering::Relaxed);
        Ok(())
    }

    /// The current state.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let state = registry.enumeration("state", "Service state.", ["starting", "running"])?;
    /// assert_eq!(state.state(), "starting"); // the first state is the initial one
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn state(&self) -> &str {
        let desc = &self.0.value.desc;
        let i = self.0.value.state.load(AtomicOrdering::Relaxed);
        desc.states.get(i).map(String::as_str).unwrap_or("")
    }
}

/// Locks a mutex, recovering the data if another thread panicked while holding it: metric
/// values stay meaningful after a panic elsewhere, and a scrape must not fail because of one.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_keep_whole_and_fractional_increments_exact() {
        let c = Counter(Arc::new(SeriesInner {
            labels: Box::from(""),
            value: CounterValue::default(),
        }));
        let parts = |c: &Counter| {
            (
                c.0.value.whole.load(AtomicOrdering::Relaxed),
                c.0.value.fraction.get(),
            )
        };
        for _ in 0..3 {
            c.inc_by(0.1).unwrap();
        }
        c.inc_by(1.0).unwrap();
        c.inc();
        c.inc_by_u64(1);
        assert_eq!(c.get(), 3.0 + (0.1 + 0.1 + 0.1));
        assert_eq!(parts(&c), (3, 0.1 + 0.1 + 0.1));
        // Not whole, or too large for the integer part: the f64 part; -0 and 0: nothing.
        let c = Counter(Arc::new(SeriesInner {
            labels: Box::from(""),
            value: CounterValue::default(),
        }));
        for v in [2.5, 1e10, 4294967296.0, f64::INFINITY] {
            c.inc_by(v).unwrap();
            assert_eq!(parts(&c).0, 0, "{v}");
        }
        c.inc_by(f64::from(u32::MAX)).unwrap();
        c.inc_by(-0.0).unwrap();
        c.inc_by(0.0).unwrap();
        c.inc_by_u64(1 << 40);
        assert_eq!(parts(&c), (u64::from(u32::MAX), f64::INFINITY));
        for bad in [-1.0, -0.5, f64::NAN, f64::NEG_INFINITY] {
            assert!(c.inc_by(bad).is_err(), "{bad}");
        }
        assert_eq!(parts(&c), (u64::from(u32::MAX), f64::INFINITY));
        c.set(7.0);
        assert_eq!(c.get(), 7.0);
        c.set(-0.0);
        assert!(c.get().is_sign_negative(), "set keeps the value's bits");
    }

    /// The integer part moves to the f64 part at 2^63, long before it could wrap.
    #[test]
    fn counters_spill_the_integer_part_before_it_wraps() {
        let c = CounterValue::default();
        c.whole.store(WHOLE_SPILL - 2, AtomicOrdering::Relaxed);
        c.add_whole(5);
        assert_eq!(c.whole.load(AtomicOrdering::Relaxed), 3);
        assert_eq!(c.fraction.get(), WHOLE_SPILL as f64);
        assert_eq!(c.get(), WHOLE_SPILL as f64 + 3.0);
        for _ in 0..3 {
            c.add_whole(u64::from(u32::MAX));
        }
        assert!(c.get() > WHOLE_SPILL as f64);
    }
}
