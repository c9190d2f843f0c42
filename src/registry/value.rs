//! The values behind the handles users update: one type per metric kind, each an `Arc` around
//! its label pairs and atomics.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::config::{check_declared_label, label_forms};
use super::quantile::Window;
use super::{write_name, Desc, Family, Metric, MetricError, MetricType, Scheme};
use crate::wire::escape::write_escaped;

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
    /// What a scrape would show of the series, hashed: series expiry notices an update by a
    /// change of it (see `registry/expiry.rs`).
    #[doc(hidden)]
    fn fingerprint(&self) -> u64;
    /// A word of the series' allocation where its labels' address is, and one of its value
    /// (the two can be on different cache lines): what a scrape reads of a series ahead of
    /// encoding it (see `registry/family.rs`).
    #[doc(hidden)]
    fn read_ahead(&self) -> u64;
}

/// The first word of a value, read as cheaply as it can be (one relaxed load).
trait FirstWord {
    fn first_word(&self) -> u64;
}

impl FirstWord for CounterValue {
    fn first_word(&self) -> u64 {
        self.whole.load(AtomicOrdering::Relaxed)
    }
}

impl FirstWord for AtomicF64 {
    fn first_word(&self) -> u64 {
        self.0.load(AtomicOrdering::Relaxed)
    }
}

impl FirstWord for HistogramValue {
    fn first_word(&self) -> u64 {
        self.observations.count.load(AtomicOrdering::Relaxed)
    }
}

impl FirstWord for SummaryValue {
    fn first_word(&self) -> u64 {
        self.observations.count.load(AtomicOrdering::Relaxed)
    }
}

impl FirstWord for InfoValue {
    fn first_word(&self) -> u64 {
        Arc::as_ptr(&self.desc) as u64
    }
}

impl FirstWord for EnumValue {
    fn first_word(&self) -> u64 {
        self.state.load(AtomicOrdering::Relaxed) as u64
    }
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
            fn fingerprint(&self) -> u64 {
                self.state_print()
            }
            fn read_ahead(&self) -> u64 {
                self.0.labels.len() as u64 ^ self.0.value.first_word()
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

/// When the integer part reaches this, it is moved to the `f64` part, long before it could
/// reach [`SETTING`] (less than 2^32 per add, so 2^30 adds in flight would be needed).
const WHOLE_SPILL: u64 = 1 << 62;

/// The integer part's top bit, set while [`CounterValue::set`] replaces the value: a read waits
/// for the set to end, so that it never pairs the integer part of one value with the `f64`
/// part of another. Increments go on meanwhile, and count.
const SETTING: u64 = 1 << 63;

/// A counter's value: whole increments counted exactly in an integer, with one atomic add as
/// the peers' integer counters do, and any other increment added to an `f64`; a read sums the
/// two. So `inc()` never loops on a compare-and-swap, and an `f64` increment is as exact as
/// adding it to an `f64` (more, when whole and fractional increments mix: the integer part
/// loses nothing until it is converted at read).
///
/// It holds no pointer to the metric's descriptor, unlike the other types: a counter series
/// is the commonest, and 8 bytes more each would take a labelled one past 100 bytes of heap.
/// So its errors name the series by its labels, not the metric by its name.
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

    /// The sum of the two parts, read from one value: the integer part before and after the
    /// `f64` part, again while a set is under way or a set came between (the integer part went
    /// down). Increments alone never make it read again.
    pub(crate) fn get(&self) -> f64 {
        let mut tries = 0u32;
        loop {
            let first = self.whole.load(AtomicOrdering::Acquire);
            let fraction = f64::from_bits(self.fraction.0.load(AtomicOrdering::Acquire));
            let second = self.whole.load(AtomicOrdering::Relaxed);
            if (first | second) & SETTING == 0 && second >= first {
                return match first {
                    // The f64 part as it is: `0.0 + -0.0` would give `0.0` for `-0.0`.
                    0 => fraction,
                    whole => whole as f64 + fraction,
                };
            }
            // A set is two stores long, unless its thread was preempted between them.
            tries += 1;
            if tries < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }

    /// Replaces the value: the integer part becomes 0 with [`SETTING`], the `f64` part `v`
    /// (released, so a read that sees it sees the flag or what came after), then the flag goes,
    /// keeping the increments made meanwhile.
    fn set(&self, v: f64) {
        self.whole.store(SETTING, AtomicOrdering::Relaxed);
        self.fraction.0.store(v.to_bits(), AtomicOrdering::Release);
        self.whole.fetch_and(!SETTING, AtomicOrdering::Release);
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
            return Err(self.refused(v, false));
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
    /// let read = registry.counter("disk_read_bytes", "Bytes read.")?;
    /// read.set(4096.0)?;
    /// assert!(read.set(-1.0).is_err());
    /// assert_eq!(read.get(), 4096.0);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    ///
    /// # Errors
    /// [`MetricError::InvalidCounterValue`] if `v` is negative, NaN or `-Inf`, which no
    /// counter can be (OpenMetrics forbids them); the counter is unchanged.
    pub fn set(&self, v: f64) -> Result<(), MetricError> {
        // `-0.0 >= 0.0`: minus zero is accepted, and stored as zero (`-0.0 + 0.0` is `0.0`),
        // so that a counter never reads `-0`.
        if v >= 0.0 {
            self.0.value.set(v + 0.0);
            Ok(())
        } else {
            Err(self.refused(v, true))
        }
    }

    /// The error for a refused value: `set` to it, or an increment by it.
    #[cold]
    fn refused(&self, value: f64, set: bool) -> MetricError {
        let labels = self.0.labels.to_string();
        if set {
            MetricError::InvalidCounterValue { labels, value }
        } else {
            MetricError::NegativeIncrement { labels, value }
        }
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

/// The counts and sum of a histogram's or a summary's observations, read as of one moment
/// while other threads observe: they sit behind a spin lock. An observation takes it with one
/// compare-and-swap, updates the counts and the sum with plain loads and stores, and releases
/// it with a plain store: one locked instruction, where client_golang's hot and cold halves
/// take three (and atomic adds alone, inconsistent when read, two). Observers of one series
/// contend on one cache line either way; one descheduled while holding the lock delays the
/// others (they yield after a few spins).
///
/// A reader takes the same lock while it writes one series' lines: the observers of that
/// series wait that long (a few hundred nanoseconds for the default buckets).
#[derive(Debug)]
pub(crate) struct Observations {
    /// `true` while a thread updates or reads.
    held: AtomicBool,
    /// The number of observations of a summary; a histogram's is what its buckets add up to.
    count: AtomicU64,
    sum: AtomicF64,
    /// A count per bucket (not cumulative); none for a summary.
    buckets: Box<[AtomicU64]>,
}

/// The observations as of one moment, while [`Observations::read`] holds them still.
#[derive(Debug)]
pub(crate) struct Snapshot<'a> {
    buckets: &'a [AtomicU64],
    /// The sum of the observations.
    pub(crate) sum: f64,
    /// The number of observations: what the bucket counts add up to.
    pub(crate) count: u64,
}

impl Snapshot<'_> {
    /// The count per bucket (not cumulative), in the order of the bounds.
    pub(crate) fn counts(&self) -> impl Iterator<Item = u64> + '_ {
        self.buckets.iter().map(|c| c.load(AtomicOrdering::Relaxed))
    }
}

/// Adds one to an atomic that only the lock's holder writes: a plain load and store.
#[inline]
fn bump(n: &AtomicU64) {
    n.store(
        n.load(AtomicOrdering::Relaxed).wrapping_add(1),
        AtomicOrdering::Relaxed,
    );
}

impl Observations {
    fn new(buckets: usize) -> Observations {
        Observations {
            held: AtomicBool::new(false),
            count: AtomicU64::new(0),
            sum: AtomicF64::new(0.0),
            buckets: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// `Acquire`: the previous holder's stores are seen, as its `Release` published them.
    #[inline]
    fn try_lock(&self) -> bool {
        self.held
            .compare_exchange_weak(
                false,
                true,
                AtomicOrdering::Acquire,
                AtomicOrdering::Relaxed,
            )
            .is_ok()
    }

    #[inline]
    fn lock(&self) {
        if !self.try_lock() {
            self.lock_contended();
        }
    }

    #[cold]
    #[inline(never)]
    fn lock_contended(&self) {
        let mut spins = 0u32;
        while self.held.load(AtomicOrdering::Relaxed) || !self.try_lock() {
            // The holder runs a few instructions; if it was descheduled, let it run.
            if spins < 64 {
                std::hint::spin_loop();
                spins += 1;
            } else {
                std::thread::yield_now();
            }
        }
    }

    #[inline]
    fn unlock(&self) {
        self.held.store(false, AtomicOrdering::Release);
    }

    /// Counts `v` in `bucket` (in `count` when there are no buckets) and adds it to the sum.
    #[inline]
    fn observe(&self, bucket: usize, v: f64) {
        self.lock();
        match self.buckets.get(bucket) {
            Some(n) => bump(n),
            None => bump(&self.count),
        }
        self.sum.set(self.sum.get() + v);
        self.unlock();
    }

    /// Runs `f` on the observations as of one moment, however many threads observe meanwhile.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Snapshot<'_>) -> R) -> R {
        /// Unlocks when dropped, so that a panic in `f` does not leave the series locked.
        struct Held<'a>(&'a Observations);
        impl Drop for Held<'_> {
            fn drop(&mut self) {
                self.0.unlock();
            }
        }
        self.lock();
        let _held = Held(self);
        let buckets = self.buckets.iter().map(|n| n.load(AtomicOrdering::Relaxed));
        let count = match self.buckets.is_empty() {
            true => self.count.load(AtomicOrdering::Relaxed),
            false => buckets.fold(0, u64::wrapping_add),
        };
        f(&Snapshot {
            buckets: &self.buckets,
            sum: self.sum.get(),
            count,
        })
    }

    /// Forgets every observation.
    fn reset(&self) {
        self.lock();
        for n in self.buckets.iter().chain([&self.count]) {
            n.store(0, AtomicOrdering::Relaxed);
        }
        self.sum.set(0.0);
        self.unlock();
    }
}

/// How many of `bounds` are below `v`, counted without a branch per bound (arbitrary values
/// would mispredict a search), four bounds a step: a quarter of the loop's own instructions.
#[inline]
fn bounds_below(bounds: &[f64], v: f64) -> usize {
    let mut quads = bounds.chunks_exact(4);
    let mut below = 0;
    for quad in &mut quads {
        if let [a, b, c, d] = *quad {
            below +=
                usize::from(v > a) + usize::from(v > b) + usize::from(v > c) + usize::from(v > d);
        }
    }
    quads
        .remainder()
        .iter()
        .fold(below, |n, &b| n + usize::from(v > b))
}

/// The values of a histogram series: a count per bucket (not cumulative; the encoder sums),
/// and the sum of observations.
#[derive(Debug)]
pub(crate) struct HistogramValue {
    /// The bucket bounds live in the family's descriptor.
    pub(crate) desc: Arc<Desc>,
    pub(crate) observations: Observations,
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
        observations: Observations::new(d.buckets.len()),
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
            bounds_below(bounds, v)
        };
        value.observations.observe(i, v);
    }

    /// Forgets every observation (client_golang's `Reset`): counts and sum back to zero. An
    /// `observe` racing with it comes wholly before or wholly after.
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
        self.0.value.observations.reset();
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
        self.0.value.observations.read(|s| s.count)
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
        self.0.value.observations.read(|s| s.sum)
    }

    /// The count per bucket (not cumulative), as of one moment.
    #[cfg(test)]
    pub(crate) fn bucket_counts(&self) -> Vec<u64> {
        self.0.value.observations.read(|s| s.counts().collect())
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
    /// Count and sum (no buckets), read as of one moment.
    pub(crate) observations: Observations,
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
        observations: Observations::new(0),
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
    /// Records one observation: a spin lock taken with one compare-and-swap and released
    /// with a store, and with quantiles, a lock, a clock read and a buffer push (every 128 observations, a merge into the window's streams). NaN counts in `_count`
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
        value.observations.observe(0, v);
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
        self.0.value.observations.read(|s| s.count)
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
        self.0.value.observations.reset();
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
        self.0.value.observations.read(|s| s.sum)
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
    pairs: Mutex::new(Default::default()),
});

/// The value of an info series: its key-value pairs, rendered.
#[derive(Debug)]
pub(crate) struct InfoValue {
    /// The metric's name and label names, to check keys against.
    desc: Arc<Desc>,
    /// The pairs as each [`Scheme`] writes them, indexed by the scheme.
    pub(crate) pairs: Mutex<[String; 4]>,
}

impl Info {
    /// Replaces the key-value pairs. A key may be any non-empty UTF-8 name, as label names
    /// may (`build.version`); a scrape writes it as the scraper's escaping asks.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let build = registry.info("build", "Build facts.")?;
    /// build.set([("build.version", "1.2.3"), ("commit", "abc")])?;
    /// assert!(build.set([("a.b", "1"), ("a_b", "2")]).is_err(), "one name once escaped");
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let build = registry.info("build", "Build facts.")?;
    /// build.set([("version", "1.2.3"), ("commit", "abc123")])?;
    /// assert!(build.set([("__reserved", "x")]).is_err(), "the `__` prefix is Prometheus'");
    ///
    /// let mut body = Vec::new();
    /// registry.encode(&mut body).unwrap();
    /// assert!(body.ends_with(b"build_info{version=\"1.2.3\",commit=\"abc123\"} 1\n"));
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    ///
    /// # Errors
    /// [`MetricError::InvalidLabelName`] if a key is empty, starts with `__`, or is written
    /// as another key or one of the metric's labels once escaped for a scraper (`a.b` and
    /// `a_b` with underscores); [`MetricError::DuplicateLabelName`] if a key repeats or is
    /// one of the metric's own labels. The pairs are unchanged then.
    pub fn set<I, K, V>(&self, pairs: I) -> Result<(), MetricError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let rendered = render_info_pairs(&self.0.value.desc, pairs)?;
        *lock(&self.0.value.pairs) = rendered;
        Ok(())
    }
}

/// Checks an info's keys against each other and the metric's labels, and renders the pairs
/// as each [`Scheme`] writes them (indexed by the scheme): also what a collected info uses.
pub(crate) fn render_info_pairs<I, K, V>(desc: &Desc, pairs: I) -> Result<[String; 4], MetricError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let pairs: Vec<(K, V)> = pairs.into_iter().collect();
    let mut keys: Vec<String> = Vec::with_capacity(pairs.len());
    for (k, _) in &pairs {
        let k = k.as_ref();
        check_declared_label(&desc.name, k, &[])?;
        if keys.iter().chain(&desc.label_names).any(|seen| seen == k) {
            return Err(MetricError::DuplicateLabelName {
                metric: desc.name.clone(),
                label: k.to_string(),
            });
        }
        keys.push(k.to_string());
    }
    // Distinct however escaped, from each other and from the metric's labels.
    let labels: Vec<&str> = desc.label_names.iter().map(String::as_str).collect();
    label_forms(&desc.name, &keys, &labels)?;
    Ok(Scheme::ALL.map(|scheme| {
        let mut out = Vec::new();
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_name(&mut out, &[k.as_ref()], scheme, false);
            out.extend_from_slice(b"=\"");
            write_escaped(&mut out, v.as_ref(), true);
            out.push(b'"');
        }
        // Names and values are `str`, and escaping keeps UTF-8 whole.
        String::from_utf8(out).unwrap_or_default()
    }))
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
                states: desc.states.clone(),
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
    fn bounds_below_counts_the_bounds_under_a_value_at_every_length() {
        // Lengths around the step of four, values on, between and beyond the bounds.
        for len in 0..=13 {
            let bounds: Vec<f64> = (0..len).map(|i| f64::from(i) * 0.5).collect();
            for v in [
                -1.0,
                0.0,
                0.25,
                0.5,
                1.7,
                3.0,
                5.5,
                6.0,
                100.0,
                f64::INFINITY,
            ] {
                let expected = bounds.iter().filter(|&&b| v > b).count();
                assert_eq!(bounds_below(&bounds, v), expected, "{len} bounds, {v}");
            }
        }
    }

    fn counter() -> Counter {
        let desc = super::super::MetricConfig::new("c", "", MetricType::Counter).into_desc();
        Counter::new_series(&Arc::new(desc.unwrap()), Box::from(""))
    }

    #[test]
    fn counters_keep_whole_and_fractional_increments_exact() {
        let c = counter();
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
        let c = counter();
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
        c.set(7.0).unwrap();
        assert_eq!(c.get(), 7.0);
        c.set(-0.0).unwrap();
        assert!(c.get().is_sign_positive(), "minus zero is stored as zero");
        c.inc_by(0.0).unwrap();
        assert!(c.get().is_sign_positive(), "a counter never reads -0");
        for bad in [-1.0, -f64::MIN_POSITIVE, f64::NAN, f64::NEG_INFINITY] {
            let e = c.set(bad).unwrap_err();
            assert!(e.to_string().starts_with("counter refused value "), "{e}");
        }
        c.set(f64::INFINITY).unwrap();
        assert_eq!(c.get(), f64::INFINITY);
    }

    /// A read racing with `set` sees one value, never the integer part of one and the `f64`
    /// part of another: a counter that a thread sets and increments only upward never reads
    /// lower. (Before, a read between `set`'s two stores read `0 + old`, within 0.1 s.)
    #[test]
    fn a_read_racing_with_set_sees_one_value() {
        let c = counter();
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (c, stop) = (c.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut k = 1u64;
                while !stop.load(AtomicOrdering::Relaxed) {
                    c.set((2 * k) as f64).unwrap();
                    c.inc();
                    k += 1;
                }
            })
        };
        let started = Instant::now();
        let mut last = 0.0;
        let mut lower = None;
        while lower.is_none() && started.elapsed().as_millis() < 1000 {
            let v = c.get();
            if v < last {
                lower = Some((last, v));
            }
            last = v;
        }
        stop.store(true, AtomicOrdering::Relaxed);
        writer.join().unwrap();
        assert_eq!(
            lower, None,
            "(before, after): a counter only set upward read lower"
        );
        assert!(last > 0.0, "the reader saw no update");
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
