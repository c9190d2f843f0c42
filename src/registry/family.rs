//! [`Family`]: a labelled metric, one series per set of label values.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use super::value::{lock, Series};
use super::{Desc, MetricError};
use crate::wire::escape::write_label_pair;

/// A metric with labels: one series of `S` per set of label values.
///
/// `labels(...)` finds or creates a series; `remove(...)` and `clear()` drop series, so an
/// exporter that rebuilds its series on every scrape does not expose stale ones. Series are
/// exposed ordered by label values.
///
/// ```
/// use prometheus_aioexporter::{MetricConfig, Registry};
///
/// let mut registry = Registry::new();
/// let metrics = registry.create_metrics([
///     MetricConfig::new("disk_free_bytes", "Free space.", "gauge").labels(["mount"]),
/// ])?;
/// let free = metrics.gauge_family("disk_free_bytes")?;
/// free.labels(&["/"])?.set(1e9);
/// free.labels(&["/home"])?.set(5e9);
/// assert!(free.labels(&["/", "extra"]).is_err());
/// assert!(free.remove(&["/home"])?);
/// free.clear();
/// assert!(free.is_empty());
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Debug)]
pub struct Family<S: Series> {
    inner: Arc<FamilyInner<S>>,
}

impl<S: Series> Clone for Family<S> {
    fn clone(&self) -> Self {
        Family {
            inner: Arc::clone(&self.inner),
        }
    }
}

#[derive(Debug)]
pub(crate) struct FamilyInner<S> {
    pub(crate) desc: Arc<Desc>,
    /// The one series of an unlabelled metric, reached without the lock.
    single: Option<S>,
    series: Mutex<SeriesSet<S>>,
}

/// A family's series, ordered by their rendered label pairs, and a buffer to render the key of
/// a lookup into, so finding an existing series allocates nothing.
#[derive(Debug)]
struct SeriesSet<S> {
    set: BTreeSet<S>,
    key: Vec<u8>,
}

/// Renders `values` (as many as `names`) into `key`, as the wire shows them.
fn render_key<'k, V: AsRef<str>>(key: &'k mut Vec<u8>, names: &[String], values: &[V]) -> &'k str {
    key.clear();
    for (i, (name, value)) in names.iter().zip(values).enumerate() {
        if i > 0 {
            key.push(b',');
        }
        write_label_pair(key, name, value.as_ref());
    }
    // Label names and values are `str`, and escaping keeps UTF-8 whole.
    std::str::from_utf8(key).unwrap_or_default()
}

impl<S: Series> Family<S> {
    pub(crate) fn new(desc: Desc) -> Family<S> {
        let desc = Arc::new(desc);
        let mut set = BTreeSet::new();
        let mut single = None;
        if desc.label_names.is_empty() {
            // An unlabelled metric has its single series from the start, as in Python.
            let s = S::new_series(&desc, Box::from(""));
            set.insert(s.clone());
            single = Some(s);
        }
        Family {
            inner: Arc::new(FamilyInner {
                desc,
                single,
                series: Mutex::new(SeriesSet {
                    set,
                    key: Vec::new(),
                }),
            }),
        }
    }

    /// The metric's name (for counters and infos, without the `_total` / `_info` suffix).
    pub fn name(&self) -> &str {
        &self.inner.desc.name
    }

    /// The metric's help text.
    pub fn help(&self) -> &str {
        &self.inner.desc.help
    }

    /// The declared label names.
    pub fn label_names(&self) -> &[String] {
        &self.inner.desc.label_names
    }

    fn check_count(&self, got: usize) -> Result<(), MetricError> {
        let expected = self.inner.desc.label_names.len();
        if got == expected {
            Ok(())
        } else {
            Err(MetricError::LabelCount {
                metric: self.inner.desc.name.clone(),
                expected,
                got,
            })
        }
    }

    /// The series for these label values (in the order of the label names), created on first
    /// use. Keep the returned handle to update it without a lookup.
    ///
    /// # Errors
    /// [`MetricError::LabelCount`] if the number of values differs from the label names.
    pub fn labels<V: AsRef<str>>(&self, values: &[V]) -> Result<S, MetricError> {
        self.check_count(values.len())?;
        let mut series = lock(&self.inner.series);
        let series = &mut *series;
        let key = render_key(&mut series.key, &self.inner.desc.label_names, values);
        if let Some(found) = series.set.get(key) {
            return Ok(found.clone());
        }
        let created = S::new_series(&self.inner.desc, Box::from(key));
        series.set.insert(created.clone());
        Ok(created)
    }

    /// Removes the series with these label values; `Ok(true)` if it existed. Handles to it
    /// still work but are no longer exposed. An unlabelled metric keeps its single series.
    ///
    /// # Errors
    /// [`MetricError::LabelCount`] if the number of values differs from the label names.
    pub fn remove<V: AsRef<str>>(&self, values: &[V]) -> Result<bool, MetricError> {
        self.check_count(values.len())?;
        if self.inner.single.is_some() {
            return Ok(false);
        }
        let mut series = lock(&self.inner.series);
        let series = &mut *series;
        let key = render_key(&mut series.key, &self.inner.desc.label_names, values);
        Ok(series.set.remove(key))
    }

    /// Removes every series (of a labelled metric; an unlabelled one keeps its single series).
    pub fn clear(&self) {
        if !self.inner.desc.label_names.is_empty() {
            lock(&self.inner.series).set.clear();
        }
    }

    /// The number of series.
    pub fn len(&self) -> usize {
        lock(&self.inner.series).set.len()
    }

    /// `true` if the family has no series.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The single series of a metric without labels.
    pub(crate) fn single(&self) -> Result<S, MetricError> {
        self.inner
            .single
            .clone()
            .ok_or_else(|| MetricError::LabelsRequired {
                metric: self.inner.desc.name.clone(),
                labels: self.inner.desc.label_names.clone(),
            })
    }

    /// Calls `f` for every series, in label order, under the family's lock.
    pub(crate) fn for_each_series(&self, mut f: impl FnMut(&S)) {
        for s in &lock(&self.inner.series).set {
            f(s);
        }
    }

    pub(crate) fn desc(&self) -> &Desc {
        &self.inner.desc
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering as AtomicOrdering;

    use super::*;
    use crate::registry::*;

    fn desc(config: MetricConfig) -> Result<Desc, MetricError> {
        config.into_desc()
    }

    #[test]
    fn metric_names_follow_the_exposition_format() {
        for (name, valid) in [
            ("a", true),
            ("_a", true),
            (":a", true),
            ("a1:b_c", true),
            ("", false),
            ("1a", false),
            ("a-b", false),
            ("a b", false),
            ("é", false),
        ] {
            assert_eq!(is_valid_metric_name(name), valid, "{name:?}");
        }
    }

    #[test]
    fn label_names_follow_the_exposition_format() {
        for (name, valid) in [
            ("a", true),
            ("_a1", true),
            ("", false),
            ("a:b", false),
            ("1a", false),
        ] {
            assert_eq!(is_valid_label_name(name), valid, "{name:?}");
        }
    }

    #[test]
    fn declarations_are_checked_with_messages_that_say_what_was_expected() {
        let cases: Vec<(MetricConfig, &str)> = vec![
            (
                MetricConfig::new("a-b", "", "gauge"),
                "invalid metric name 'a-b': expected [a-zA-Z_:][a-zA-Z0-9_:]*",
            ),
            (
                MetricConfig::new("a", "", "gauges"),
                "invalid metric type 'gauges': expected one of counter, gauge, histogram, summary, info, enum",
            ),
            (
                MetricConfig::new("a", "", "gauge").labels(["__x"]),
                "invalid label name '__x' for metric 'a': names starting with '__' are reserved for Prometheus",
            ),
            (
                MetricConfig::new("a", "", "gauge").labels(["x-y"]),
                "invalid label name 'x-y' for metric 'a': expected [a-zA-Z_][a-zA-Z0-9_]*",
            ),
            (
                MetricConfig::new("a", "", "gauge").labels(["x", "x"]),
                "duplicate label name 'x' for metric 'a'",
            ),
            (
                MetricConfig::new("a", "", "histogram").labels(["le"]),
                "invalid label name 'le' for metric 'a': reserved by the metric's type",
            ),
            (
                MetricConfig::new("a", "", "summary").labels(["quantile"]),
                "invalid label name 'quantile' for metric 'a': reserved by the metric's type",
            ),
            (
                MetricConfig::new("a", "", "histogram").buckets([1.0, 1.0]),
                "invalid buckets for histogram 'a': bounds must be strictly increasing",
            ),
            (
                MetricConfig::new("a", "", "histogram").buckets([f64::NAN]),
                "invalid buckets for histogram 'a': NaN is not a bucket bound",
            ),
            (
                MetricConfig::new("a", "", "histogram").buckets([]),
                "invalid buckets for histogram 'a': a histogram needs a bound below +Inf",
            ),
            (
                MetricConfig::new("a", "", "histogram").buckets([f64::INFINITY]),
                "invalid buckets for histogram 'a': a histogram needs a bound below +Inf",
            ),
            (
                MetricConfig::new("a", "", "gauge").buckets([1.0]),
                "option 'buckets' does not apply to gauge 'a'",
            ),
            (
                MetricConfig::new("a", "", "enum"),
                "invalid states for enum 'a': an enum needs at least one state",
            ),
            (
                MetricConfig::new("a", "", "enum").states(["x", ""]),
                "invalid states for enum 'a': a state must not be empty (it would read as no label)",
            ),
            (
                MetricConfig::new("a", "", "enum").states(["x", "x"]),
                "invalid states for enum 'a': states must be unique",
            ),
            (
                MetricConfig::new("a", "", "enum").states(["x"]).labels(["a"]),
                "invalid label name 'a' for metric 'a': reserved by the metric's type",
            ),
        ];
        for (config, message) in cases {
            let err = desc(config).unwrap_err();
            assert_eq!(err.to_string(), message);
        }
    }

    #[test]
    fn counter_and_info_suffixes_are_not_doubled() {
        assert_eq!(
            desc(MetricConfig::new("x_total", "", "counter"))
                .unwrap()
                .name,
            "x"
        );
        assert_eq!(
            desc(MetricConfig::new("x_info", "", "info")).unwrap().name,
            "x"
        );
        assert_eq!(
            desc(MetricConfig::new("_total", "", "counter"))
                .unwrap()
                .name,
            "_total"
        );
        assert_eq!(
            desc(MetricConfig::new("x_total", "", "gauge"))
                .unwrap()
                .name,
            "x_total"
        );
    }

    #[test]
    fn histogram_buckets_default_and_end_with_inf() {
        let d = desc(MetricConfig::new("h", "", "histogram")).unwrap();
        assert_eq!(d.buckets.len(), DEFAULT_BUCKETS.len() + 1);
        assert_eq!(d.buckets.last(), Some(&f64::INFINITY));
        assert_eq!(d.bucket_labels[0].last().map(String::as_str), Some("+Inf"));
        assert_eq!(d.bucket_labels[1][7], "1.0");
        let d =
            desc(MetricConfig::new("h", "", "histogram").buckets([1.0, f64::INFINITY])).unwrap();
        assert_eq!(d.buckets, vec![1.0, f64::INFINITY]);
    }

    #[test]
    fn time_observes_the_seconds_a_closure_took() {
        let h: Family<Histogram> =
            Family::new(desc(MetricConfig::new("h", "", "histogram").buckets([0.001])).unwrap());
        let s: Family<Summary> = Family::new(desc(MetricConfig::new("s", "", "summary")).unwrap());
        let (h, s) = (h.single().unwrap(), s.single().unwrap());
        let pause = std::time::Duration::from_millis(5);
        assert_eq!(h.time(|| std::thread::sleep(pause)), ());
        assert_eq!(s.time(|| "result"), "result");
        assert_eq!((h.count(), s.count()), (1, 1));
        // At least the pause: above the 1 ms bucket, so counted only in +Inf.
        assert!(h.sum() >= 0.005, "{}", h.sum());
        assert_eq!(h.inner().value.counts[0].load(AtomicOrdering::Relaxed), 0);
        let panicked = std::panic::catch_unwind(|| s.time(|| panic!("deliberate, in a test")));
        assert!(panicked.is_err());
        assert_eq!(s.count(), 2, "a call that panicked is timed too");
    }

    #[test]
    fn wrong_label_counts_are_errors() {
        let f: Family<Gauge> =
            Family::new(desc(MetricConfig::new("g", "", "gauge").labels(["a", "b"])).unwrap());
        let err = f.labels(&["x"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "metric 'g' takes 2 label value(s), 1 given"
        );
        assert!(f.remove(&["x", "y", "z"]).is_err());
        assert!(matches!(
            f.single(),
            Err(MetricError::LabelsRequired { .. })
        ));
    }

    #[test]
    fn labels_find_the_same_series_and_keep_order() {
        let f: Family<Counter> =
            Family::new(desc(MetricConfig::new("c", "", "counter").labels(["a"])).unwrap());
        f.labels(&["b"]).unwrap().inc();
        f.labels(&["a"]).unwrap().inc();
        f.labels(&[String::from("b")]).unwrap().inc();
        let mut seen = Vec::new();
        f.for_each_series(|s| seen.push((s.labels_rendered().to_string(), s.get())));
        assert_eq!(
            seen,
            vec![("a=\"a\"".to_string(), 1.0), ("a=\"b\"".to_string(), 2.0)]
        );
        assert!(f.remove(&["a"]).unwrap());
        assert!(!f.remove(&["a"]).unwrap());
        assert_eq!(f.len(), 1);
        f.clear();
        assert!(f.is_empty());
    }

    #[test]
    fn series_are_ordered_by_their_rendered_label_pairs() {
        let f: Family<Gauge> =
            Family::new(desc(MetricConfig::new("g", "", "gauge").labels(["a", "b"])).unwrap());
        f.labels(&["ab", ""]).unwrap();
        f.labels(&["a", "b"]).unwrap();
        f.labels(&["a", ""]).unwrap();
        assert_eq!(f.len(), 3);
        let mut seen = Vec::new();
        f.for_each_series(|s| seen.push(s.labels_rendered().to_string()));
        assert_eq!(
            seen,
            vec!["a=\"a\",b=\"\"", "a=\"a\",b=\"b\"", "a=\"ab\",b=\"\""]
        );
    }

    #[test]
    fn histogram_counts_into_the_first_bucket_that_fits() {
        let f: Family<Histogram> =
            Family::new(desc(MetricConfig::new("h", "", "histogram").buckets([1.0, 2.0])).unwrap());
        let h = f.single().unwrap();
        for v in [0.5, 1.0, 1.5, 3.0, f64::NAN] {
            h.observe(v);
        }
        let counts: Vec<u64> = h
            .inner()
            .value
            .counts
            .iter()
            .map(|c| c.load(AtomicOrdering::Relaxed))
            .collect();
        assert_eq!(counts, vec![2, 1, 2]);
        assert_eq!(h.count(), 5);
        assert!(h.sum().is_nan());
    }

    #[test]
    fn counters_refuse_to_go_down() {
        let f: Family<Counter> = Family::new(desc(MetricConfig::new("c", "", "counter")).unwrap());
        let c = f.single().unwrap();
        assert!(c.inc_by(-0.5).is_err());
        assert!(c.inc_by(f64::NAN).is_err());
        c.inc_by(0.0).unwrap();
        assert_eq!(c.get(), 0.0);
    }

    #[test]
    fn info_keys_are_checked() {
        let f: Family<Info> =
            Family::new(desc(MetricConfig::new("i", "", "info").labels(["host"])).unwrap());
        let i = f.labels(&["h1"]).unwrap();
        assert_eq!(
            i.set([("host", "x")]).unwrap_err().to_string(),
            "duplicate label name 'host' for metric 'i'",
            "a key that is one of the family's labels"
        );
        assert!(i.set([("a", "x"), ("a", "y")]).is_err());
        assert!(i.set([("bad-key", "x")]).is_err());
        i.set([("version", "1\"2")]).unwrap();
        assert_eq!(*lock(&i.inner().value.pairs), "version=\"1\\\"2\"");
    }

    #[test]
    fn handles_are_send_and_sync() {
        fn check<T: Send + Sync + Clone>() {}
        check::<Counter>();
        check::<Gauge>();
        check::<Histogram>();
        check::<Summary>();
        check::<Info>();
        check::<Enum>();
        check::<Family<Gauge>>();
    }

    #[test]
    fn updates_from_many_threads_are_not_lost() {
        let f: Family<Counter> = Family::new(desc(MetricConfig::new("c", "", "counter")).unwrap());
        let c = f.single().unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        c.inc();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(c.get(), 40_000.0);
    }
}
