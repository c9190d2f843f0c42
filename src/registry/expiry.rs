//! Series expiry ([`MetricConfig::expire_after`](super::MetricConfig::expire_after)): what a
//! family with expiry keeps per series, the clock it reads, and what counts as an update.
//!
//! Everything lives on the family's side, in a mark per table slot that only a family with
//! expiry allocates: a handle's update path is the same code for every family, so a family
//! without expiry pays neither memory nor an instruction for it. The price is that an update
//! is noticed, not recorded: a lookup through the family marks its series, and a sweep (before
//! each scrape of the family, and now and then at a creation) compares each series' state with
//! the fingerprint the previous sweep took. A write through a kept handle that leaves the state
//! as it was is therefore not seen; a write that changes it is, at the next sweep.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::value::lock;
use super::{Counter, Enum, Gauge, Histogram, Info, Summary};

/// A slot's mark while its series was found, created, or never swept since.
pub(super) const DIRTY: u64 = 0;

/// The expiry state of one table slot.
#[derive(Debug)]
pub(super) struct Mark {
    /// The series' fingerprint at the last sweep.
    pub(super) print: u64,
    /// When a sweep last saw the series updated ([`now_ms`]), or [`DIRTY`]: written by lookups
    /// under the shard's read lock, hence atomic.
    pub(super) at: AtomicU64,
}

impl Default for Mark {
    fn default() -> Mark {
        Mark {
            print: 0,
            at: AtomicU64::new(DIRTY),
        }
    }
}

/// What a sweep does with a series.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Updated since the last sweep, or not for long enough yet.
    Keep,
    /// Not updated for the family's duration.
    Expired,
}

impl Mark {
    /// Brings the mark up to `now` with the series' current fingerprint, and says whether the
    /// series went without an update for `after` milliseconds. Without `stamp`, an update is
    /// seen (the series is kept) but left for the next sweep to see again.
    pub(super) fn sweep(&mut self, print: u64, now: u64, after: u64, stamp: bool) -> Verdict {
        let at = self.at.get_mut();
        if *at == DIRTY || print != self.print {
            if stamp {
                self.print = print;
                *at = now;
            }
            Verdict::Keep
        } else if now.saturating_sub(*at) >= after {
            Verdict::Expired
        } else {
            Verdict::Keep
        }
    }
}

/// A family's expiry settings and sweep state.
#[derive(Debug)]
pub(super) struct Expiry {
    /// The declared duration in ticks of [`now_ms`]: whole milliseconds rounded up, plus one
    /// unless zero. Two readings of a millisecond clock differ by up to one more than the time
    /// between them, so a series must be one tick past the duration to surely have gone
    /// without an update for that long.
    pub(super) after: u64,
    /// When the family was last swept ([`now_ms`]).
    pub(super) last_sweep: AtomicU64,
    /// An unlabelled family's series is hidden (it cannot be removed) while expired.
    pub(super) single_hidden: AtomicBool,
}

/// The least time between two sweeps that a creation starts: a family whose series are
/// created faster than they expire is swept at most this often besides its scrapes.
const MIN_CREATION_SWEEP_GAP_MS: u64 = 1000;

impl Expiry {
    pub(super) fn new(after: Duration) -> Expiry {
        Expiry {
            after: match after.as_nanos() {
                0 => 0,
                nanos => u64::try_from((nanos + 999_999) / 1_000_000 + 1).unwrap_or(u64::MAX),
            },
            last_sweep: AtomicU64::new(now_ms()),
            single_hidden: AtomicBool::new(false),
        }
    }

    /// How a sweep judges: after how many ticks without an update a series expires, and
    /// whether the sweep dates the updates it sees. A scrape's sweep (`by_scrape`) uses the
    /// family's duration. So does a creation's, unless the duration is zero: then it leaves the
    /// updates it sees for the next scrape (dated now, they would read as "not updated since"
    /// at that scrape, which shows what was updated since the one before), and removes only
    /// series that no update reached for a second, never one that a scrape under way has just
    /// kept.
    pub(super) fn rule(&self, by_scrape: bool) -> (u64, bool) {
        if by_scrape || self.after > 0 {
            (self.after, true)
        } else {
            (MIN_CREATION_SWEEP_GAP_MS, false)
        }
    }

    /// `true` if a creation at `now` should sweep the family (and claims that sweep): the
    /// last one is `after` (at least a second) old. Bounds a family's memory when nobody
    /// scrapes it: series last updated more than about twice `after` ago are gone.
    pub(super) fn creation_sweep_due(&self, now: u64) -> bool {
        let last = self.last_sweep.load(Ordering::Relaxed);
        now.saturating_sub(last) >= self.after.max(MIN_CREATION_SWEEP_GAP_MS)
            && self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// Milliseconds since the first call in this process, plus one (so never [`DIRTY`]): the
/// monotonic clock, read only by sweeps, never on an update.
pub(super) fn now_ms() -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    let origin = *ORIGIN.get_or_init(Instant::now);
    u64::try_from(origin.elapsed().as_millis())
        .unwrap_or(u64::MAX - 1)
        .saturating_add(1)
}

/// Two words mixed into one fingerprint.
fn mix(a: u64, b: u64) -> u64 {
    (a ^ b.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl Counter {
    pub(super) fn state_print(&self) -> u64 {
        self.get().to_bits()
    }
}

impl Gauge {
    pub(super) fn state_print(&self) -> u64 {
        self.get().to_bits()
    }
}

impl Histogram {
    pub(super) fn state_print(&self) -> u64 {
        mix(self.count(), self.sum().to_bits())
    }
}

impl Summary {
    pub(super) fn state_print(&self) -> u64 {
        mix(self.count(), self.sum().to_bits())
    }
}

impl Info {
    /// FNV-1a of the pairs as one scheme renders them (all schemes change together).
    pub(super) fn state_print(&self) -> u64 {
        lock(&self.inner().value.pairs)[0]
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            })
    }
}

impl Enum {
    pub(super) fn state_print(&self) -> u64 {
        self.inner().value.state.load(Ordering::Relaxed) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_expires_only_after_its_duration_without_change() {
        let mut m = Mark::default();
        assert_eq!(m.sweep(7, 100, 50, true), Verdict::Keep, "dirty: seen now");
        assert_eq!(m.sweep(7, 149, 50, true), Verdict::Keep);
        assert_eq!(
            m.sweep(8, 160, 50, true),
            Verdict::Keep,
            "changed: seen now"
        );
        assert_eq!(m.sweep(8, 209, 50, true), Verdict::Keep);
        m.at.store(DIRTY, Ordering::Relaxed);
        assert_eq!(m.sweep(8, 300, 50, true), Verdict::Keep, "looked up");
        assert_eq!(m.sweep(8, 350, 50, true), Verdict::Expired);
        let mut zero = Mark::default();
        assert_eq!(zero.sweep(1, 10, 0, true), Verdict::Keep);
        assert_eq!(zero.sweep(1, 10, 0, true), Verdict::Expired);
    }

    #[test]
    fn the_clock_is_never_the_dirty_mark_and_does_not_go_back() {
        let a = now_ms();
        assert!(a > DIRTY);
        assert!(now_ms() >= a);
    }
}
