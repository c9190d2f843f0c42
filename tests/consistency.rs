//! A histogram's and a summary's samples in a scrape come from one moment, however many
//! threads observe meanwhile (issue 15, part 3): read through the public encoder, as a scrape
//! reads them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use prometheus_aioexporter::Registry;

/// The value of the sample line starting with `key ` in a text exposition.
#[track_caller]
fn sample(text: &str, key: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {key} in\n{text}"))
        .parse()
        .expect("a number")
}

/// Checks one scrape: cumulative buckets never decrease, `+Inf` is `_count`, and `_sum` is
/// what the buckets say was observed (0.5 in the first bucket, 3 in the third: sums of such
/// values are exact in any order); the summary's `_sum` is twice its `_count`. Returns the
/// histogram's count.
#[track_caller]
fn check(text: &str) -> f64 {
    let bounds = ["1", "2", "4", "+Inf"];
    let buckets: Vec<f64> = bounds
        .iter()
        .map(|le| sample(text, &format!("h_bucket{{le=\"{le}\"}}")))
        .collect();
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{text}");
    let (small, large) = (buckets[0], buckets[2] - buckets[1]);
    assert_eq!(buckets[1], buckets[0], "nothing lands in (1, 2]:\n{text}");
    assert_eq!(buckets[3], buckets[2], "nothing lands above 4:\n{text}");
    assert_eq!(buckets[3], sample(text, "h_count"), "{text}");
    assert_eq!(sample(text, "h_sum"), 0.5 * small + 3.0 * large, "{text}");
    assert_eq!(
        sample(text, "s_sum"),
        2.0 * sample(text, "s_count"),
        "{text}"
    );
    buckets[3]
}

#[test]
fn histograms_and_summaries_read_during_concurrent_observes_are_consistent() {
    let mut registry = Registry::new();
    let h = registry.histogram("h", "H.", [1.0, 2.0, 4.0]).unwrap();
    let s = registry.summary("s", "S.").unwrap();
    let per_thread = 300_000;
    let stop = Arc::new(AtomicBool::new(false));
    // Each thread its own value and bucket; both observe the summary with 2.
    let threads: Vec<_> = [0.5, 3.0]
        .into_iter()
        .map(|v| {
            let (h, s, stop) = (h.clone(), s.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                for _ in 0..per_thread {
                    h.observe(v);
                    s.observe(2.0);
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
            })
        })
        .collect();
    let (mut scrapes, mut moving) = (0, 0);
    let mut body = Vec::new();
    while !threads.iter().all(|t| t.is_finished()) {
        body.clear();
        registry.encode(&mut body).unwrap();
        let count = check(std::str::from_utf8(&body).unwrap());
        moving += usize::from(count > 0.0 && count < 2.0 * per_thread as f64);
        scrapes += 1;
        // Bounded, should the threads be starved: enough scrapes have run.
        if scrapes == 20_000 {
            stop.store(true, Ordering::Relaxed);
        }
    }
    for t in threads {
        t.join().unwrap();
    }
    assert!(moving > 0, "no scrape ran while the threads observed");
    body.clear();
    registry.encode(&mut body).unwrap();
    let count = check(std::str::from_utf8(&body).unwrap());
    assert_eq!(count, h.count() as f64);
    assert_eq!(s.count(), h.count());
}
