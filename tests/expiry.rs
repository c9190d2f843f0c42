//! Series expiry (`MetricConfig::expire_after`) through the public API and a real clock:
//! what a scrape shows while one series is updated and another is left alone, labelled and
//! unlabelled, declared through `create_metrics` and through the typed `register`, and beside
//! `remove` and `reset`. The exact timing is tested in the crate's unit tests with a clock they
//! set (`registry/family.rs`); here the only timed check is the one the design guarantees, a
//! lower bound: a series never leaves before its duration has passed since its last update.

use std::time::{Duration, Instant};

use prometheus_aioexporter::{Counter, Gauge, MetricConfig, Registry};

/// Short enough for a quick test, long enough that a loop iteration is well within it.
const AFTER: Duration = Duration::from_millis(150);
/// The bound on waiting for an expiry, far above `AFTER` on any machine.
const PATIENCE: Duration = Duration::from_secs(20);

fn scrape(registry: &mut Registry) -> String {
    let mut body = Vec::new();
    registry.encode(&mut body).expect("encode");
    String::from_utf8(body).expect("UTF-8")
}

/// Scrapes until `gone` is no longer in the body, calling `tick` before each scrape; returns
/// the last body that still had it and the first without it.
#[track_caller]
fn scrape_until_gone(
    registry: &mut Registry,
    gone: &str,
    mut tick: impl FnMut(),
) -> (String, String) {
    let start = Instant::now();
    // Whatever the caller scraped before still had it, if the first scrape here has not.
    let mut last_with = format!("(the caller's last scrape, with {gone})");
    loop {
        tick();
        let body = scrape(registry);
        if !body.contains(gone) {
            return (last_with, body);
        }
        last_with = body;
        assert!(
            start.elapsed() < PATIENCE,
            "{gone} still there after {PATIENCE:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_labelled_series_left_alone_leaves_the_scrape_and_is_freed() {
    let mut registry = Registry::new();
    let metrics = registry
        .create_metrics([MetricConfig::new("exp_rows", "Rows.", "gauge")
            .labels(["table"])
            .expire_after(AFTER)])
        .unwrap();
    let rows = metrics.gauge_family("exp_rows").unwrap();
    let kept = rows.labels(&["kept"]).unwrap();
    rows.labels(&["alone"]).unwrap().set(5.0);
    let alone_updated = Instant::now();
    let body = scrape(&mut registry);
    assert!(body.contains("exp_rows{table=\"alone\"} 5\n"), "{body}");
    let mut value = 0.0;
    let (before, after) = scrape_until_gone(&mut registry, "table=\"alone\"", || {
        value += 1.0;
        kept.set(value);
    });
    assert!(
        alone_updated.elapsed() >= AFTER,
        "gone after {:?}, before its duration",
        alone_updated.elapsed()
    );
    assert!(before.contains("table=\"alone\""));
    assert!(after.contains("exp_rows{table=\"kept\"}"), "{after}");
    assert_eq!(
        rows.len(),
        1,
        "the expired series is removed from the family"
    );
    // The same label values again: a new series.
    assert_eq!(rows.labels(&["alone"]).unwrap().get(), 0.0);
    assert!(scrape(&mut registry).contains("exp_rows{table=\"alone\"} 0\n"));
}

/// A lookup through the family counts as an update, even when the value stays the same: an
/// exporter that sets every series it still sees on each run keeps them all.
#[test]
fn lookups_with_the_same_value_keep_a_series() {
    let mut registry = Registry::new();
    let config = MetricConfig::new("exp_seen", "Seen.", "counter")
        .labels(["id"])
        .expire_after(AFTER);
    let seen = registry.register::<Counter, 1>(config).unwrap();
    assert_eq!(seen.expire_after(), Some(AFTER));
    seen.labels(&["a"]).set(7.0).unwrap();
    seen.labels(&["b"]).set(7.0).unwrap();
    let (_, after) = scrape_until_gone(&mut registry, "id=\"b\"", || {
        seen.labels(&["a"]).set(7.0).unwrap();
    });
    assert!(after.contains("exp_seen_total{id=\"a\"} 7\n"), "{after}");
    assert_eq!(seen.len(), 1);
}

#[test]
fn an_unlabelled_series_is_hidden_then_shown_again_when_updated() {
    let mut registry = Registry::new();
    let config = MetricConfig::new("exp_last_backup_bytes", "Size.", "gauge").expire_after(AFTER);
    let size = registry
        .register::<Gauge, 0>(config)
        .unwrap()
        .labels::<&str>(&[]);
    size.set(42.0);
    let (before, _) = scrape_until_gone(&mut registry, "exp_last_backup_bytes 42", || {});
    assert!(before.contains("exp_last_backup_bytes 42\n"));
    size.set(43.0);
    let body = scrape(&mut registry);
    assert!(body.contains("exp_last_backup_bytes 43\n"), "{body}");
}

/// `remove` and `reset` act at once, whatever the expiry; series created after them expire
/// as the others.
#[test]
fn remove_and_reset_beside_expiry() {
    let mut registry = Registry::new();
    let config = MetricConfig::new("exp_jobs", "Jobs.", "counter")
        .labels(["job"])
        .expire_after(AFTER);
    let jobs = registry.register::<Counter, 1>(config).unwrap();
    for job in ["a", "b", "c"] {
        jobs.labels(&[job]).inc();
    }
    assert!(jobs.remove(&["a"]));
    let body = scrape(&mut registry);
    assert!(
        !body.contains("job=\"a\"") && body.contains("job=\"b\""),
        "{body}"
    );
    jobs.reset();
    assert!(!scrape(&mut registry).contains("exp_jobs_total{"));
    jobs.labels(&["d"]).inc();
    assert!(scrape(&mut registry).contains("exp_jobs_total{job=\"d\"} 1\n"));
    scrape_until_gone(&mut registry, "job=\"d\"", || {});
    assert!(jobs.is_empty());
}

/// With a zero duration, a scrape shows what was updated since the previous one.
#[test]
fn a_zero_duration_exposes_what_changed_since_the_last_scrape() {
    let mut registry = Registry::new();
    let config = MetricConfig::new("exp_events", "Events.", "counter")
        .labels(["kind"])
        .expire_after(Duration::ZERO);
    let events = registry.register::<Counter, 1>(config).unwrap();
    let a = events.labels(&["a"]);
    events.labels(&["b"]).inc();
    let body = scrape(&mut registry);
    assert!(
        body.contains("kind=\"a\"") && body.contains("kind=\"b\""),
        "{body}"
    );
    a.inc();
    let body = scrape(&mut registry);
    assert!(
        body.contains("kind=\"a\"} 1") && !body.contains("kind=\"b\""),
        "{body}"
    );
    assert_eq!(events.len(), 1);
}
