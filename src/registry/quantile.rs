//! Summary quantiles over a sliding window: CKMS targeted quantiles (Cormode, Korn,
//! Muthukrishnan, Srivastava, "Effective Computation of Biased Quantiles over Data Streams",
//! ICDE 2005), the algorithm of client_golang's summaries (beorn7/perks), with its window of
//! age buckets.
//!
//! Why CKMS and not a relative-error sketch such as DDSketch: a summary's objectives are
//! client_golang's, `(quantile, error)` with the error in *rank* ("the value reported for 0.9
//! is the true quantile of some φ in 0.9 ± 0.01"), and only a rank-error algorithm keeps that
//! promise whatever the values' range; DDSketch bounds the *value*'s relative error, which
//! would change what the declaration means for users coming from Go. CKMS keeps, for
//! observations sorted by value, tuples `(v, g, Δ)` such that `g + Δ ≤ f(r, n)` for each
//! tuple (`r`: the rank before it, `n`: observations so far), with the targeted invariant
//! `f(r, n) = min over targets (φ, ε) of 2εr/φ if r ≥ φn, else 2ε(n − r)/(1 − φ)`; a query
//! for φ returns the value before the first tuple whose highest possible rank exceeds
//! `⌈φn⌉ + f/2`.
//!
//! The bound, and a correction to the paper (and to perks, which follows it): the returned
//! value's rank is at most `f(t)/2 ≤ εn` above `t = ⌈φn⌉`, but below `t` the invariant allows
//! tuples as large as `f(t − k) ≤ f(t) + Mk`, where `M = max 2ε/(1 − φ)` is the steepest
//! slope of `f` (0.2 for client_golang's example objectives), so the answer can be up to
//! `εn / (1 − M)` low: 1.25 εn with those objectives, which the tests below saw (a 0.99 at
//! 1.22 times its error). So the invariant here uses each ε scaled by `1 / (1 + M)`, which
//! makes both sides at most `εn` (up to the rounding of `⌈φn⌉`); it costs `1 + M` times the
//! tuples. The number of tuples is `O((1/ε) · log(εn))` for the smallest ε, and n is
//! bounded by the window: a stream is emptied every max age.
//!
//! Memory per summary series with quantiles, allocated when the series is created: a buffer of
//! [`BUFFER`] observations (1 KiB), a scratch list of [`SCRATCH`] 24-byte tuples (4.5 KiB)
//! and, per age bucket, a list of [`TUPLES`] tuples (1.5 KiB): 13.5 KiB with 5 buckets
//! (`tests/alloc.rs` measures 14.7 KB of heap per summary with its registration, against
//! 1.0 KB without quantiles).
//!
//! The tuple count is what CKMS bounds, `O((1/ε) · log(εn))`, with n at most the
//! observations of one max age; there is no small constant bound. Measured with client_golang's
//! example objectives: at most 56 tuples per stream over a million observations of a steady
//! distribution (`tests::memory_stays_small`), but about 3 600 (87 KB per stream) for a few
//! thousand observations after the distribution jumped above everything a 3-million
//! observation stream held: tuples inserted among the new maxima carry the largest `Δ` the
//! invariant allows, and cannot merge until n grows. Data that drifts upward through the window
//! is the dearest case found: with noise around a rising trend, a stream held 1 932 tuples
//! after a million observations, 8 797 after 4 million and 15 980 (384 KB) after 12 million,
//! about 1.9 MB for a series' 5 streams if one max age sees that many. The lists grow by doubling and keep their
//! capacity when their bucket is emptied (or shrinks), so once a series has seen its largest
//! count, observations and scrapes do not allocate; before that, a merge (on observe or
//! scrape) may.

use std::time::{Duration, Instant};

/// Observations buffered before they are merged into the streams (client_golang buffers 500;
/// fewer keeps the scratch list, which holds a stream and the buffer merged, small).
pub(crate) const BUFFER: usize = 128;
/// Tuples reserved per stream.
const TUPLES: usize = 64;
/// Tuples reserved for the merge: a stream and the buffer.
const SCRATCH: usize = TUPLES + BUFFER;

/// One target: the quantile φ and its allowed rank error ε, both in (0, 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Objective {
    pub(crate) quantile: f64,
    pub(crate) error: f64,
}

/// One tuple of a stream: a value, `g` (its rank minus the previous tuple's lowest rank) and
/// `Δ` (the uncertainty of its rank).
#[derive(Debug, Clone, Copy)]
struct Tuple {
    v: f64,
    g: u64,
    delta: u64,
}

/// One CKMS stream: its tuples sorted by value, and the observations they stand for.
#[derive(Debug)]
struct Stream {
    tuples: Vec<Tuple>,
    n: u64,
}

/// Sorts `v` by `f64::total_cmp`: a heapsort, a few hundred bytes of code where the standard
/// library's sorts, instantiated for `f64`, added kilobytes to a static binary (its size
/// budget is tight), for 128 values at a time.
fn heapsort(v: &mut [f64]) {
    fn sift_down(v: &mut [f64], mut root: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= v.len() {
                return;
            }
            if child + 1 < v.len() && v[child].total_cmp(&v[child + 1]).is_lt() {
                child += 1;
            }
            if v[root].total_cmp(&v[child]).is_ge() {
                return;
            }
            v.swap(root, child);
            root = child;
        }
    }
    for i in (0..v.len() / 2).rev() {
        sift_down(v, i);
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        sift_down(&mut v[..end], 0);
    }
}

/// One target's part of the invariant, its slopes computed once: `above · r` for `r ≥ φn`,
/// `below · (n − r)` under it.
#[derive(Debug, Clone, Copy)]
struct Slopes {
    quantile: f64,
    above: f64,
    below: f64,
}

/// The targeted invariant: the largest `g + Δ` a tuple at rank `r` may have when `n`
/// observations were seen.
fn allowed(targets: &[Slopes], r: f64, n: f64) -> f64 {
    targets.iter().fold(f64::MAX, |m, t| {
        let f = if r >= t.quantile * n {
            t.above * r
        } else {
            t.below * (n - r)
        };
        m.min(f)
    })
}

/// Merges each tuple into the next where the invariant allows, from the top down; the
/// minimum is kept.
fn compress(tuples: &mut Vec<Tuple>, n: u64, targets: &[Slopes]) {
    let len = tuples.len();
    if len < 3 {
        return;
    }
    let mut x = len - 1;
    let mut r = n - tuples[x].g;
    for i in (1..len - 1).rev() {
        let c = tuples[i];
        r -= c.g;
        let xt = tuples[x];
        if (c.g + xt.g + xt.delta) as f64 <= allowed(targets, r as f64, n as f64) {
            tuples[x].g += c.g;
            tuples[i].g = 0;
        } else {
            x = i;
        }
    }
    tuples.retain(|t| t.g > 0);
}

impl Stream {
    /// Merges `sorted` (sorted by value, without NaN) into the stream through `scratch`, then
    /// compresses.
    fn merge(&mut self, sorted: &[f64], scratch: &mut Vec<Tuple>, targets: &[Slopes]) {
        if sorted.is_empty() {
            return;
        }
        scratch.clear();
        let old = self.tuples.len();
        let mut i = 0;
        let mut r = 0u64;
        for &v in sorted {
            while let Some(t) = self.tuples.get(i).filter(|t| t.v <= v) {
                scratch.push(*t);
                r += t.g;
                i += 1;
            }
            // A new minimum or maximum knows its rank exactly; one between two tuples is as
            // uncertain as the invariant allows there.
            let delta = if i == 0 || i == old {
                0
            } else {
                // `as` rounds the non-negative bound down, as `floor` would.
                (allowed(targets, r as f64, self.n as f64) as u64).saturating_sub(1)
            };
            scratch.push(Tuple { v, g: 1, delta });
            self.n += 1;
            r += 1;
        }
        scratch.extend_from_slice(self.tuples.get(i..).unwrap_or_default());
        compress(scratch, self.n, targets);
        // Copied back rather than swapped, so that each list keeps its own capacity.
        self.tuples.clear();
        self.tuples.extend_from_slice(scratch);
    }

    /// The value at quantile `q`, within the target's error; NaN when empty.
    fn query(&self, q: f64, targets: &[Slopes]) -> f64 {
        let Some(first) = self.tuples.first() else {
            return f64::NAN;
        };
        let n = self.n as f64;
        // The paper's query: the last tuple before the first whose highest possible rank
        // exceeds ⌈φn⌉ + f/2 (perks rounds f/2 up, which lets small streams answer one rank
        // too high: the 0.5 of three values came out as the largest).
        // ⌈φn⌉, without libm's `ceil` (not inlined on the baseline x86-64 target).
        let t = q * n;
        let t = match t as u64 as f64 {
            whole if whole < t => whole + 1.0,
            whole => whole,
        };
        let bound = t + allowed(targets, t, n) / 2.0;
        let mut previous = first;
        let mut r = 0u64;
        for c in self.tuples.iter().skip(1) {
            r += previous.g;
            if (r + c.g + c.delta) as f64 > bound {
                return previous.v;
            }
            previous = c;
        }
        previous.v
    }

    fn clear(&mut self) {
        self.tuples.clear();
        self.n = 0;
    }
}

/// `at + d`, or `None` (never) past what an `Instant` holds: a `max_age` of `Duration::MAX`
/// is "never expire", not "expire at once" (which emptied the window on every observation).
fn later(at: Instant, d: Duration) -> Option<Instant> {
    at.checked_add(d)
}

/// The quantiles of a summary over a sliding window, as client_golang keeps them: every
/// observation goes into each of `age_buckets` streams; queries read the oldest (the head),
/// which has seen between `max_age · (1 − 1/age_buckets)` and `max_age` of observations; every
/// `max_age / age_buckets` the head is emptied and the next stream becomes the head.
#[derive(Debug)]
pub(crate) struct Window {
    /// The same with each error scaled by `1 / (1 + M)`: what the invariant uses.
    invariant: Box<[Slopes]>,
    streams: Box<[Stream]>,
    head: usize,
    /// When the head is emptied; `None`: never (further than an `Instant` reaches).
    head_expires: Option<Instant>,
    stream_duration: Duration,
    buffer: Vec<f64>,
    scratch: Vec<Tuple>,
}

impl Window {
    /// A window over `max_age` in `age_buckets` buckets (both checked at declaration: > 0,
    /// ≥ 1), starting at `now`.
    pub(crate) fn new(
        targets: &[Objective],
        max_age: Duration,
        age_buckets: usize,
        now: Instant,
    ) -> Window {
        let age_buckets = age_buckets.max(1);
        let stream_duration = max_age
            .checked_div(age_buckets as u32)
            .unwrap_or(max_age)
            .max(Duration::from_nanos(1));
        let steepest = targets
            .iter()
            .fold(0.0f64, |m, t| m.max(2.0 * t.error / (1.0 - t.quantile)));
        let invariant = targets
            .iter()
            .map(|t| {
                let error = t.error / (1.0 + steepest);
                Slopes {
                    quantile: t.quantile,
                    above: 2.0 * error / t.quantile,
                    below: 2.0 * error / (1.0 - t.quantile),
                }
            })
            .collect();
        Window {
            invariant,
            streams: (0..age_buckets)
                .map(|_| Stream {
                    tuples: Vec::with_capacity(TUPLES),
                    n: 0,
                })
                .collect(),
            head: 0,
            head_expires: later(now, stream_duration),
            stream_duration,
            buffer: Vec::with_capacity(BUFFER),
            scratch: Vec::with_capacity(SCRATCH),
        }
    }

    /// Records `v` observed at `now`. NaN has no rank: it is left out of the quantiles (it
    /// still counts in the summary's `_count` and `_sum`).
    pub(crate) fn observe(&mut self, v: f64, now: Instant) {
        if self.expired(now) {
            self.rotate(now);
        }
        if v.is_nan() {
            return;
        }
        self.buffer.push(v);
        if self.buffer.len() >= BUFFER {
            self.flush();
        }
    }

    /// Brings the window to `now` and merges what is buffered: before a query.
    pub(crate) fn refresh(&mut self, now: Instant) {
        if self.expired(now) {
            self.rotate(now);
        }
        self.flush();
    }

    /// The value at quantile `q` (one of the targets) over the window, as of the last
    /// [`Window::refresh`]; NaN with no observations.
    pub(crate) fn quantile(&self, q: f64) -> f64 {
        match self.streams.get(self.head) {
            Some(head) => head.query(q, &self.invariant),
            None => f64::NAN,
        }
    }

    fn expired(&self, now: Instant) -> bool {
        self.head_expires.is_some_and(|at| now >= at)
    }

    /// Forgets every observation.
    pub(crate) fn clear(&mut self) {
        self.buffer.clear();
        self.streams.iter_mut().for_each(Stream::clear);
    }

    /// Merges the buffer into every stream (the buffer's observations are older than the
    /// head's expiry), then empties the heads that expired by `now`.
    fn rotate(&mut self, now: Instant) {
        self.flush();
        let buckets = self.streams.len();
        let mut cleared = 0;
        while self.expired(now) {
            if cleared == buckets {
                // A whole window without observations or scrapes: every stream is empty, and
                // the periods start again from now (their phase was arbitrary anyway).
                self.head_expires = later(now, self.stream_duration);
                return;
            }
            cleared += 1;
            if let Some(head) = self.streams.get_mut(self.head) {
                head.clear();
            }
            self.head = (self.head + 1) % self.streams.len();
            self.head_expires = self
                .head_expires
                .and_then(|at| later(at, self.stream_duration));
        }
    }

    fn flush(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        heapsort(&mut self.buffer);
        for stream in self.streams.iter_mut() {
            stream.merge(&self.buffer, &mut self.scratch, &self.invariant);
        }
        self.buffer.clear();
    }

    /// The most tuples a stream holds.
    #[cfg(test)]
    fn tuples(&self) -> usize {
        self.streams
            .iter()
            .map(|s| s.tuples.len())
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: [Objective; 3] = [
        Objective {
            quantile: 0.5,
            error: 0.05,
        },
        Objective {
            quantile: 0.9,
            error: 0.01,
        },
        Objective {
            quantile: 0.99,
            error: 0.001,
        },
    ];

    /// A window longer than an `Instant` reaches never expires (it expired at once, and every
    /// observation was dropped: the quantiles read NaN for good).
    #[test]
    fn a_window_longer_than_time_keeps_its_observations() {
        let start = Instant::now();
        for buckets in [1, 2, 5] {
            let mut w = Window::new(&DEFAULT, Duration::MAX, buckets, start);
            w.observe(1.0, start);
            w.refresh(start + Duration::from_secs(3600));
            assert_eq!(w.quantile(0.5), 1.0, "{buckets} buckets");
        }
    }

    /// xorshift64*, as the integration tests' generator.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// The rank error of `reported` as an answer for `q` over `data`, as a fraction of its
    /// length: 0 if some rank that `reported` takes in the sorted data is within reach of
    /// `q·n`, else how far the nearest is.
    fn rank_error(sorted: &[f64], q: f64, reported: f64) -> f64 {
        let n = sorted.len() as f64;
        let below = sorted.partition_point(|&x| x < reported) as f64;
        let at_most = sorted.partition_point(|&x| x <= reported) as f64;
        // `reported` stands at ranks below+1 ..= at_most (1-based).
        let target = (q * n).ceil().max(1.0);
        let miss = if target < below + 1.0 {
            below + 1.0 - target
        } else if target > at_most {
            target - at_most
        } else {
            0.0
        };
        miss / n
    }

    /// The data sets: shapes that stress a rank sketch differently.
    fn data_sets() -> Vec<(&'static str, Vec<f64>)> {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let n = 100_000;
        let uniform: Vec<f64> = (0..n).map(|_| rng.unit()).collect();
        let lognormal: Vec<f64> = (0..n)
            .map(|_| (rng.unit() * 12.0 - 9.0).exp() * (1.0 + rng.unit()))
            .collect();
        let ascending: Vec<f64> = (0..n).map(f64::from).collect();
        let descending: Vec<f64> = (0..n).rev().map(f64::from).collect();
        let few_values: Vec<f64> = (0..n).map(|_| (rng.next() % 7) as f64).collect();
        let mixed_sign: Vec<f64> = (0..n).map(|_| rng.unit() * 2e6 - 1e6).collect();
        vec![
            ("uniform", uniform),
            ("lognormal", lognormal),
            ("ascending", ascending),
            ("descending", descending),
            ("seven values", few_values),
            ("mixed signs", mixed_sign),
            ("three", vec![3.0, 1.0, 2.0]),
            ("one", vec![42.0]),
        ]
    }

    /// Every reported quantile is within its stated rank error of the exact quantile of the
    /// same data; returns the largest error seen per target, as a fraction of the bound.
    #[test]
    fn quantiles_are_within_the_stated_rank_error() {
        let start = Instant::now();
        let mut worst = [0.0f64; 3];
        for (name, data) in data_sets() {
            let mut window = Window::new(&DEFAULT, Duration::from_secs(600), 5, start);
            let mut sorted = Vec::new();
            for (i, &v) in data.iter().enumerate() {
                window.observe(v, start);
                sorted.push(v);
                // Check along the way too, not only at the end.
                if i + 1 == data.len() || (i + 1) % 9_973 == 0 {
                    let mut exact = sorted.clone();
                    exact.sort_by(f64::total_cmp);
                    window.refresh(start);
                    for (k, t) in DEFAULT.iter().enumerate() {
                        let got = window.quantile(t.quantile);
                        let err = rank_error(&exact, t.quantile, got);
                        assert!(
                            err <= t.error,
                            "{name}: q{} = {got} after {} values: rank error {err} > {}",
                            t.quantile,
                            i + 1,
                            t.error
                        );
                        worst[k] = worst[k].max(err / t.error);
                    }
                }
            }
        }
        eprintln!("worst rank error / bound per target (0.5, 0.9, 0.99): {worst:?}");
    }

    /// After the window slides, the quantiles are those of the observations of the last
    /// `max_age · (1 − 1/buckets)` to `max_age`, within the error; time is driven by hand.
    #[test]
    fn quantiles_follow_the_sliding_window() {
        let start = Instant::now();
        let second = Duration::from_secs(1);
        // 10 minutes in 5 buckets: the head is emptied every 2 minutes.
        let mut window = Window::new(&DEFAULT, Duration::from_secs(600), 5, start);
        let mut rng = Rng(7);
        // One observation per second for 20 minutes; the level changes every 4 minutes, so
        // that stale observations would move the quantiles far.
        let mut seen: Vec<(u64, f64)> = Vec::new();
        for s in 0..1200u64 {
            let level = (s / 240) as f64 * 1000.0;
            let v = level + rng.unit() * 100.0;
            let now = start + second * s as u32;
            window.observe(v, now);
            seen.push((s, v));
            if s % 37 == 0 || s == 1199 {
                window.refresh(now);
                // The head was last emptied at the last multiple of 120 s, 480 s before the
                // start of the current period: it holds what came since then.
                let period_start = (s / 120) * 120;
                let from = period_start.saturating_sub(480);
                let mut exact: Vec<f64> = seen
                    .iter()
                    .filter(|&&(t, _)| t >= from)
                    .map(|&(_, v)| v)
                    .collect();
                exact.sort_by(f64::total_cmp);
                for t in &DEFAULT {
                    let got = window.quantile(t.quantile);
                    let err = rank_error(&exact, t.quantile, got);
                    assert!(
                        err <= t.error,
                        "at {s} s: q{} = {got}, rank error {err} over {} values",
                        t.quantile,
                        exact.len()
                    );
                }
            }
        }
        // Ten quiet minutes: everything has aged out.
        let later = start + Duration::from_secs(1200 + 600);
        window.refresh(later);
        assert!(window.quantile(0.5).is_nan());
        window.observe(5.0, later);
        window.refresh(later);
        assert_eq!(window.quantile(0.99), 5.0);
    }

    #[test]
    fn heapsort_sorts_as_total_cmp() {
        let mut rng = Rng(3);
        for len in [0, 1, 2, 3, 7, 128] {
            let mut v: Vec<f64> = (0..len)
                .map(|i| match i % 9 {
                    0 => f64::NAN,
                    1 => -0.0,
                    2 => f64::NEG_INFINITY,
                    _ => rng.unit() - 0.5,
                })
                .collect();
            let mut want = v.clone();
            want.sort_by(f64::total_cmp);
            heapsort(&mut v);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&v), bits(&want), "{len}");
        }
    }

    #[test]
    fn empty_windows_and_nan() {
        let start = Instant::now();
        let mut window = Window::new(&DEFAULT, Duration::from_secs(60), 1, start);
        window.refresh(start);
        assert!(window.quantile(0.5).is_nan());
        window.observe(f64::NAN, start);
        window.refresh(start);
        assert!(window.quantile(0.5).is_nan(), "NaN is left out");
        for v in [f64::NEG_INFINITY, 1.0, f64::INFINITY] {
            window.observe(v, start);
        }
        window.refresh(start);
        assert_eq!(window.quantile(0.5), 1.0);
        assert_eq!(window.quantile(0.99), f64::INFINITY);
        window.clear();
        window.refresh(start);
        assert!(window.quantile(0.9).is_nan());
        // One bucket: emptied every max age.
        window.observe(1.0, start);
        window.refresh(start + Duration::from_secs(60));
        assert!(window.quantile(0.5).is_nan());
    }

    /// The tuples kept stay few: for a million observations in one window, with the default
    /// objectives.
    #[test]
    fn memory_stays_small() {
        let start = Instant::now();
        let mut window = Window::new(&DEFAULT, Duration::from_secs(600), 5, start);
        let mut rng = Rng(11);
        let mut most = 0;
        for i in 0..1_000_000 {
            window.observe((rng.unit() * 10.0).exp(), start);
            if i % 1_000 == 0 {
                window.refresh(start);
                most = most.max(window.tuples());
            }
        }
        window.refresh(start);
        most = most.max(window.tuples());
        eprintln!("most tuples in a stream over 1e6 observations: {most}");
        assert!(most <= TUPLES, "{most}");
    }
}
