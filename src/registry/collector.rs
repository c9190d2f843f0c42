//! Collectors: families added at scrape time, checked before anything is written.

use std::fmt;

use super::config::{check_declared_label, label_forms};
use super::{is_valid_label_name, BoxError, MetricError, MetricType};

/// Adds metric families at scrape time: the analogue of Python's
/// `register_additional_collector`, for values that are cheaper to read all at once than to
/// keep updated (another service's statistics, a kernel table).
///
/// ```
/// use prometheus_aioexporter::{BoxError, CollectedFamily, Collector, Registry};
///
/// struct Uptime;
/// impl Collector for Uptime {
///     fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
///         let mut family = CollectedFamily::gauge("uptime_seconds", "Uptime.");
///         family.add_sample(&[] as &[&str], 12.5)?;
///         out.push(family);
///         Ok(())
///     }
/// }
///
/// let mut registry = Registry::new();
/// registry.register_collector(Uptime);
/// let mut body = Vec::new();
/// registry.encode(&mut body)?;
/// assert!(String::from_utf8(body)?.contains("uptime_seconds 12.5\n"));
/// # Ok::<(), BoxError>(())
/// ```
pub trait Collector: Send {
    /// Appends this scrape's families to `out`. An `Err` fails the scrape (HTTP 500), as
    /// client_golang's promhttp does by default, rather than exposing half the data.
    ///
    /// ```
    /// use prometheus_aioexporter::{BoxError, CollectedFamily, Collector};
    ///
    /// struct Queues(Vec<(String, usize)>);
    /// impl Collector for Queues {
    ///     fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
    ///         let mut family = CollectedFamily::gauge("queue_length", "Jobs waiting.").labels(["queue"]);
    ///         for (queue, length) in &self.0 {
    ///             family.add_sample(&[queue], *length as f64)?;
    ///         }
    ///         out.push(family);
    ///         Ok(())
    ///     }
    /// }
    /// let mut out = Vec::new();
    /// Queues(vec![("mail".into(), 3)]).collect(&mut out)?;
    /// assert_eq!(out.len(), 1);
    /// # Ok::<(), BoxError>(())
    /// ```
    fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError>;
}

/// A family yielded by a [`Collector`]: counter or gauge samples with label values.
///
/// ```
/// use prometheus_aioexporter::{CollectedFamily, MetricType};
///
/// let mut requests = CollectedFamily::new("requests", "Requests.", MetricType::Counter)
///     .labels(["code"]);
/// requests.add_sample(&["200"], 1027.0)?;
/// requests.add_sample(&["500"], 3.0)?;
/// assert_eq!(requests, {
///     let mut same = CollectedFamily::counter("requests", "Requests.").labels(["code"]);
///     same.add_sample(&["200"], 1027.0)?;
///     same.add_sample(&["500"], 3.0)?;
///     same
/// });
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CollectedFamily {
    pub(crate) name: String,
    pub(crate) help: String,
    pub(crate) kind: MetricType,
    pub(crate) label_names: Vec<String>,
    pub(crate) samples: Vec<(Vec<String>, f64)>,
}

impl CollectedFamily {
    /// A gauge family.
    ///
    /// ```
    /// use prometheus_aioexporter::CollectedFamily;
    ///
    /// let mut temp = CollectedFamily::gauge("temperature_celsius", "Temperature.").labels(["sensor"]);
    /// temp.add_sample(&["cpu"], 54.0)?;
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn gauge(name: impl Into<String>, help: impl Into<String>) -> Self {
        CollectedFamily::new(name, help, MetricType::Gauge)
    }

    /// A counter family, exposed as `name_total`.
    ///
    /// ```
    /// use prometheus_aioexporter::{BoxError, CollectedFamily, Collector, Registry};
    ///
    /// struct Rx(f64);
    /// impl Collector for Rx {
    ///     fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
    ///         let mut rx = CollectedFamily::counter("rx_bytes", "Bytes received.");
    ///         rx.add_sample(&[] as &[&str], self.0)?;
    ///         out.push(rx);
    ///         Ok(())
    ///     }
    /// }
    /// let mut registry = Registry::new();
    /// registry.register_collector(Rx(1500.0));
    /// let mut body = Vec::new();
    /// registry.encode(&mut body)?;
    /// assert!(body.ends_with(b"# TYPE rx_bytes_total counter\nrx_bytes_total 1500\n"));
    /// # Ok::<(), BoxError>(())
    /// ```
    pub fn counter(name: impl Into<String>, help: impl Into<String>) -> Self {
        CollectedFamily::new(name, help, MetricType::Counter)
    }

    /// A family of `kind` [`MetricType::Counter`] (exposed as `name_total`) or
    /// [`MetricType::Gauge`]; other types fail the scrape when it validates the family
    /// ([`CollectedFamily::gauge`] and [`CollectedFamily::counter`] cannot go wrong).
    ///
    /// ```
    /// use prometheus_aioexporter::{CollectedFamily, MetricType};
    ///
    /// let kind = MetricType::Gauge; // e.g. chosen from what an upstream API says
    /// let mut family = CollectedFamily::new("upstream_value", "A value read upstream.", kind);
    /// family.add_sample(&[] as &[&str], 7.0)?;
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn new(name: impl Into<String>, help: impl Into<String>, kind: MetricType) -> Self {
        CollectedFamily {
            name: name.into(),
            help: help.into(),
            kind,
            label_names: Vec::new(),
            samples: Vec::new(),
        }
    }

    /// Label names of the family's samples.
    ///
    /// ```
    /// use prometheus_aioexporter::CollectedFamily;
    ///
    /// let mut usage = CollectedFamily::gauge("disk_used_bytes", "Used space.").labels(["device", "mount"]);
    /// usage.add_sample(&["sda1", "/"], 1.2e10)?;
    /// assert!(usage.add_sample(&["sda1"], 0.0).is_err()); // two labels, one value
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn labels<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.label_names = names.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a sample with these label values.
    ///
    /// ```
    /// use prometheus_aioexporter::CollectedFamily;
    ///
    /// let mut up = CollectedFamily::gauge("backend_up", "Whether a backend answers.").labels(["backend"]);
    /// let backend = String::from("db-1");
    /// up.add_sample(&[&backend], 1.0)?;
    /// up.add_sample(&["db-2"], 0.0)?;
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    ///
    /// # Errors
    /// [`MetricError::LabelCount`] if the number of values differs from the label names.
    pub fn add_sample<V: AsRef<str>>(
        &mut self,
        values: &[V],
        value: f64,
    ) -> Result<(), MetricError> {
        if values.len() != self.label_names.len() {
            return Err(MetricError::LabelCount {
                metric: self.name.clone(),
                expected: self.label_names.len(),
                got: values.len(),
            });
        }
        let values = values.iter().map(|v| v.as_ref().to_string()).collect();
        self.samples.push((values, value));
        Ok(())
    }

    /// Checks what the encoder relies on: names, type, label names, unique label sets.
    pub(super) fn validate(&mut self) -> Result<(), MetricError> {
        if self.kind == MetricType::Counter {
            if let Some(base) = self.name.strip_suffix("_total").filter(|b| !b.is_empty()) {
                self.name = base.to_string();
            }
        }
        if self.name.is_empty() {
            return Err(MetricError::InvalidMetricName(self.name.clone()));
        }
        if !matches!(self.kind, MetricType::Counter | MetricType::Gauge) {
            return Err(MetricError::InvalidOption {
                metric: self.name.clone(),
                option: "collected type (collectors yield counters and gauges)",
                kind: self.kind,
            });
        }
        for (i, label) in self.label_names.iter().enumerate() {
            check_declared_label(&self.name, label, &[])?;
            if self.label_names[..i].contains(label) {
                return Err(MetricError::DuplicateLabelName {
                    metric: self.name.clone(),
                    label: label.clone(),
                });
            }
        }
        if !self.label_names.iter().all(|l| is_valid_label_name(l)) {
            // Names outside the legacy set: distinct once escaped, too (the legacy ones are).
            label_forms(&self.name, &self.label_names, &[])?;
        }
        sort_samples(&mut self.samples);
        if self.samples.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(MetricError::DuplicateMetric(format!(
                "{} (two samples with the same label values)",
                self.name
            )));
        }
        Ok(())
    }
}

/// Sorts samples by their label values. A heapsort of a few lines instead of the standard
/// library's sort, whose generic code would be linked for this one use; input already in order, as collectors usually yield it, is seen in one pass.
/// Unstable, like the sort it replaces: `validate` refuses equal label values anyway.
pub(super) fn sort_samples(samples: &mut [(Vec<String>, f64)]) {
    if samples.windows(2).all(|w| w[0].0 <= w[1].0) {
        return;
    }
    // Moves the element at `root` down the max-heap `heap`.
    fn sift_down(heap: &mut [(Vec<String>, f64)], mut root: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= heap.len() {
                return;
            }
            if child + 1 < heap.len() && heap[child].0 < heap[child + 1].0 {
                child += 1;
            }
            if heap[root].0 >= heap[child].0 {
                return;
            }
            heap.swap(root, child);
            root = child;
        }
    }
    for root in (0..samples.len() / 2).rev() {
        sift_down(samples, root);
    }
    for end in (1..samples.len()).rev() {
        samples.swap(0, end);
        sift_down(&mut samples[..end], 0);
    }
}

/// Why a scrape could not be encoded: a collector failed or yielded invalid data.
///
/// ```
/// use prometheus_aioexporter::{BoxError, CollectedFamily, Collector, Registry};
///
/// struct Failing;
/// impl Collector for Failing {
///     fn collect(&mut self, _: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
///         Err("upstream timed out".into())
///     }
/// }
/// let mut registry = Registry::new();
/// registry.register_collector(Failing);
/// let err = registry.encode(&mut Vec::new()).unwrap_err();
/// assert_eq!(err.to_string(), "collector #1 failed: upstream timed out");
/// ```
#[derive(Debug)]
pub struct CollectError {
    pub(super) collector: usize,
    pub(super) source: BoxError,
}

impl fmt::Display for CollectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "collector #{} failed: {}",
            self.collector + 1,
            self.source
        )
    }
}

impl std::error::Error for CollectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_samples_orders_as_the_standard_sort() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in 0..40 {
            for round in 0..20 {
                let samples: Vec<(Vec<String>, f64)> = (0..len)
                    .map(|i| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        let key = if round % 4 == 0 {
                            i as u64
                        } else {
                            state % 1000
                        };
                        (vec![format!("k{}", key % 7), format!("{key}")], i as f64)
                    })
                    .collect();
                let mut ours = samples.clone();
                sort_samples(&mut ours);
                let mut want = samples;
                want.sort_by(|a, b| a.0.cmp(&b.0));
                let keys =
                    |v: &[(Vec<String>, f64)]| v.iter().map(|s| s.0.clone()).collect::<Vec<_>>();
                assert_eq!(keys(&ours), keys(&want), "len {len} round {round}");
            }
        }
    }
}
