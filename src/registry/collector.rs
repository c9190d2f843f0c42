//! Collectors: families added at scrape time, of every type, checked before anything is
//! written.

use std::fmt;
use std::sync::Arc;

use super::value::render_info_pairs;
use super::{BoxError, Desc, MetricConfig, MetricError, MetricType};
use crate::wire::escape::write_label_pair;

/// Adds metric families at scrape time: the analogue of Python's
/// `register_additional_collector`, for values that are cheaper to read all at once than to
/// keep updated (another service's statistics, a kernel table).
///
/// ```
/// use prometheus_aioexporter::{BoxError, CollectedFamily, CollectedValue, Collector, Registry};
///
/// struct Backend;
/// impl Collector for Backend {
///     fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
///         out.push(CollectedFamily::gauge("uptime_seconds", "Uptime.").sample(12.5));
///         let mut queries = CollectedFamily::counter("queries", "Queries.").labels(["db"]);
///         queries.add_sample(&["users"], 42.0)?;
///         out.push(queries);
///         // Cumulative counts for the bounds 0.1 and 1, then +Inf (the count); the sum.
///         let latency = CollectedValue::histogram([3, 7, 8], 2.5);
///         out.push(CollectedFamily::histogram("query_seconds", "Time.", [0.1, 1.0]).sample(latency));
///         out.push(CollectedFamily::stateset("mode", "Mode.", ["primary", "replica"]).sample(
///             CollectedValue::state("replica"),
///         ));
///         Ok(())
///     }
/// }
///
/// let mut registry = Registry::new();
/// registry.register_collector(Backend);
/// let mut body = Vec::new();
/// registry.encode(&mut body)?;
/// let body = String::from_utf8(body)?;
/// assert!(body.contains("uptime_seconds 12.5\n"));
/// assert!(body.contains("queries_total{db=\"users\"} 42\n"));
/// assert!(body.contains("query_seconds_bucket{le=\"+Inf\"} 8\nquery_seconds_sum 2.5\n"));
/// assert!(body.contains("mode{mode=\"replica\"} 1\n"));
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

/// The value of one collected sample: what its family's type takes.
///
/// ```
/// use prometheus_aioexporter::CollectedValue;
///
/// assert_eq!(CollectedValue::from(1.5), CollectedValue::Number(1.5));
/// assert_eq!(
///     CollectedValue::summary(4, 1.25),
///     CollectedValue::Summary { count: 4, sum: 1.25, quantiles: Vec::new() }
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CollectedValue {
    /// A counter's or a gauge's value (`From<f64>`).
    Number(f64),
    /// A histogram's cumulative counts, one per bound of the family and a last one for
    /// `+Inf` (which is also the `_count`), and the sum of the observations.
    Histogram {
        /// Cumulative counts, `+Inf` last.
        cumulative: Vec<u64>,
        /// The sum of the observations.
        sum: f64,
    },
    /// A summary's count and sum, and `(quantile, value)` pairs, if any.
    Summary {
        /// The number of observations.
        count: u64,
        /// Their sum.
        sum: f64,
        /// `(quantile, value)` pairs, quantiles in [0, 1].
        quantiles: Vec<(f64, f64)>,
    },
    /// An info's key-value pairs.
    Info(Vec<(String, String)>),
    /// A stateset's current state: one of the family's states.
    State(String),
}

impl From<f64> for CollectedValue {
    fn from(v: f64) -> CollectedValue {
        CollectedValue::Number(v)
    }
}

impl CollectedValue {
    /// A histogram's value: cumulative counts (the family's bounds, then `+Inf`) and the sum.
    ///
    /// ```
    /// # use prometheus_aioexporter::{BoxError, CollectedFamily, CollectedValue, Collector, Registry};
    /// # struct Yield(CollectedFamily);
    /// # impl Collector for Yield {
    /// #     fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
    /// #         out.push(self.0.clone());
    /// #         Ok(())
    /// #     }
    /// # }
    /// # fn scrape(family: CollectedFamily) -> String {
    /// #     let mut registry = Registry::new();
    /// #     registry.register_collector(Yield(family));
    /// #     let mut body = Vec::new();
    /// #     registry.encode(&mut body).unwrap();
    /// #     String::from_utf8(body).unwrap()
    /// # }
    /// // 3 at most 0.1, 7 at most 1, 8 in all (+Inf); they add up to 2.5.
    /// let value = CollectedValue::histogram([3, 7, 8], 2.5);
    /// let family = CollectedFamily::histogram("query_seconds", "Time.", [0.1, 1.0]).sample(value);
    /// assert!(scrape(family).contains("query_seconds_bucket{le=\"1\"} 7\n"));
    /// ```
    pub fn histogram(cumulative: impl IntoIterator<Item = u64>, sum: f64) -> CollectedValue {
        CollectedValue::Histogram {
            cumulative: cumulative.into_iter().collect(),
            sum,
        }
    }

    /// A summary's value without quantiles: its count and sum.
    ///
    /// ```
    /// # use prometheus_aioexporter::{BoxError, CollectedFamily, CollectedValue, Collector, Registry};
    /// # struct Yield(CollectedFamily);
    /// # impl Collector for Yield {
    /// #     fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
    /// #         out.push(self.0.clone());
    /// #         Ok(())
    /// #     }
    /// # }
    /// # fn scrape(family: CollectedFamily) -> String {
    /// #     let mut registry = Registry::new();
    /// #     registry.register_collector(Yield(family));
    /// #     let mut body = Vec::new();
    /// #     registry.encode(&mut body).unwrap();
    /// #     String::from_utf8(body).unwrap()
    /// # }
    /// let family = CollectedFamily::summary("rpc_seconds", "RPC time.")
    ///     .sample(CollectedValue::summary(4, 1.25));
    /// let body = scrape(family);
    /// assert!(body.contains("rpc_seconds_sum 1.25\nrpc_seconds_count 4\n"), "{body}");
    /// ```
    pub fn summary(count: u64, sum: f64) -> CollectedValue {
        CollectedValue::Summary {
            count,
            sum,
            quantiles: Vec::new(),
        }
    }

    /// A summary's value with `(quantile, value)` pairs.
    ///
    /// ```
    /// # use prometheus_aioexporter::{BoxError, CollectedFamily, CollectedValue, Collector, Registry};
    /// # struct Yield(CollectedFamily);
    /// # impl Collector for Yield {
    /// #     fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
    /// #         out.push(self.0.clone());
    /// #         Ok(())
    /// #     }
    /// # }
    /// # fn scrape(family: CollectedFamily) -> String {
    /// #     let mut registry = Registry::new();
    /// #     registry.register_collector(Yield(family));
    /// #     let mut body = Vec::new();
    /// #     registry.encode(&mut body).unwrap();
    /// #     String::from_utf8(body).unwrap()
    /// # }
    /// let value = CollectedValue::summary_with_quantiles(100, 42.0, [(0.5, 0.3), (0.99, 1.2)]);
    /// let body = scrape(CollectedFamily::summary("rpc_seconds", "RPC time.").sample(value));
    /// assert!(body.contains("rpc_seconds{quantile=\"0.99\"} 1.2\n"), "{body}");
    /// ```
    pub fn summary_with_quantiles(
        count: u64,
        sum: f64,
        quantiles: impl IntoIterator<Item = (f64, f64)>,
    ) -> CollectedValue {
        CollectedValue::Summary {
            count,
            sum,
            quantiles: quantiles.into_iter().collect(),
        }
    }

    /// An info's value: key-value pairs, exposed as labels of `name_info`.
    ///
    /// ```
    /// # use prometheus_aioexporter::{BoxError, CollectedFamily, CollectedValue, Collector, Registry};
    /// # struct Yield(CollectedFamily);
    /// # impl Collector for Yield {
    /// #     fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
    /// #         out.push(self.0.clone());
    /// #         Ok(())
    /// #     }
    /// # }
    /// # fn scrape(family: CollectedFamily) -> String {
    /// #     let mut registry = Registry::new();
    /// #     registry.register_collector(Yield(family));
    /// #     let mut body = Vec::new();
    /// #     registry.encode(&mut body).unwrap();
    /// #     String::from_utf8(body).unwrap()
    /// # }
    /// let value = CollectedValue::info([("version", "2.4.1"), ("os", "linux")]);
    /// let body = scrape(CollectedFamily::info("upstream", "Upstream build.").sample(value));
    /// assert!(body.contains("upstream_info{version=\"2.4.1\",os=\"linux\"} 1\n"), "{body}");
    /// ```
    pub fn info<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> CollectedValue {
        CollectedValue::Info(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// A stateset's value: the state that is on (the others are off).
    ///
    /// ```
    /// # use prometheus_aioexporter::{BoxError, CollectedFamily, CollectedValue, Collector, Registry};
    /// # struct Yield(CollectedFamily);
    /// # impl Collector for Yield {
    /// #     fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
    /// #         out.push(self.0.clone());
    /// #         Ok(())
    /// #     }
    /// # }
    /// # fn scrape(family: CollectedFamily) -> String {
    /// #     let mut registry = Registry::new();
    /// #     registry.register_collector(Yield(family));
    /// #     let mut body = Vec::new();
    /// #     registry.encode(&mut body).unwrap();
    /// #     String::from_utf8(body).unwrap()
    /// # }
    /// let family = CollectedFamily::stateset("mode", "Mode.", ["primary", "replica"])
    ///     .sample(CollectedValue::state("replica"));
    /// let body = scrape(family);
    /// assert!(body.contains("mode{mode=\"primary\"} 0\nmode{mode=\"replica\"} 1\n"), "{body}");
    /// ```
    pub fn state(state: impl Into<String>) -> CollectedValue {
        CollectedValue::State(state.into())
    }
}

/// A family yielded by a [`Collector`]: a counter, gauge, histogram, summary, info or
/// stateset, and its samples, each with label values (none for an unlabelled family:
/// [`CollectedFamily::sample`]). Checked when the scrape collects it, as a declaration is.
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
#[derive(Debug, Clone)]
pub struct CollectedFamily {
    pub(crate) name: String,
    help: String,
    pub(crate) kind: MetricType,
    label_names: Vec<String>,
    buckets: Option<Vec<f64>>,
    states: Vec<String>,
    samples: Vec<(Vec<String>, CollectedValue)>,
    /// Set by `validate`: the family as a declaration, and each sample's labels rendered.
    checked: Option<Checked>,
}

#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub(crate) desc: Arc<Desc>,
    /// Per sample, in order.
    pub(crate) rendered: Vec<Rendered>,
}

/// A collected sample's labels as a series renders them, and an info's pairs per scheme.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    pub(crate) labels: Box<str>,
    pub(crate) info: Option<Box<[String; 4]>>,
}

/// Families compare by what their collector gave them.
impl PartialEq for CollectedFamily {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, &self.help, self.kind, &self.label_names)
            == (&other.name, &other.help, other.kind, &other.label_names)
            && (&self.buckets, &self.states, &self.samples)
                == (&other.buckets, &other.states, &other.samples)
    }
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

    /// A histogram family with these bucket bounds (`+Inf` is added); its samples are
    /// [`CollectedValue::histogram`].
    ///
    /// ```
    /// # use prometheus_aioexporter::{BoxError, CollectedFamily, CollectedValue, Collector, Registry};
    /// # struct Yield(CollectedFamily);
    /// # impl Collector for Yield {
    /// #     fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
    /// #         out.push(self.0.clone());
    /// #         Ok(())
    /// #     }
    /// # }
    /// # fn scrape(family: CollectedFamily) -> String {
    /// #     let mut registry = Registry::new();
    /// #     registry.register_collector(Yield(family));
    /// #     let mut body = Vec::new();
    /// #     registry.encode(&mut body).unwrap();
    /// #     String::from_utf8(body).unwrap()
    /// # }
    /// let mut latency = CollectedFamily::histogram("query_seconds", "Time.", [0.1, 1.0])
    ///     .labels(["db"]);
    /// latency.add_sample(&["users"], CollectedValue::histogram([3, 7, 8], 2.5))?;
    /// let body = scrape(latency);
    /// assert!(body.contains("query_seconds_bucket{db=\"users\",le=\"0.1\"} 3\n"), "{body}");
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn histogram(
        name: impl Into<String>,
        help: impl Into<String>,
        bounds: impl IntoIterator<Item = f64>,
    ) -> Self {
        let mut family = CollectedFamily::new(name, help, MetricType::Histogram);
        family.buckets = Some(bounds.into_iter().collect());
        family
    }

    /// A summary family; its samples are [`CollectedValue::summary`].
    ///
    /// ```
    /// # use prometheus_aioexporter::{BoxError, CollectedFamily, CollectedValue, Collector, Registry};
    /// # struct Yield(CollectedFamily);
    /// # impl Collector for Yield {
    /// #     fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
    /// #         out.push(self.0.clone());
    /// #         Ok(())
    /// #     }
    /// # }
    /// # fn scrape(family: CollectedFamily) -> String {
    /// #     let mut registry = Registry::new();
    /// #     registry.register_collector(Yield(family));
    /// #     let mut body = Vec::new();
    /// #     registry.encode(&mut body).unwrap();
    /// #     String::from_utf8(body).unwrap()
    /// # }
    /// let mut rpc = CollectedFamily::summary("rpc_seconds", "RPC time.").labels(["method"]);
    /// rpc.add_sample(&["get"], CollectedValue::summary(10, 0.75))?;
    /// assert!(scrape(rpc).contains("rpc_seconds_count{method=\"get\"} 10\n"));
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn summary(name: impl Into<String>, help: impl Into<String>) -> Self {
        CollectedFamily::new(name, help, MetricType::Summary)
    }

    /// An info family, exposed as `name_info`; its samples are [`CollectedValue::info`].
    ///
    /// ```
    /// # use prometheus_aioexporter::{BoxError, CollectedFamily, CollectedValue, Collector, Registry};
    /// # struct Yield(CollectedFamily);
    /// # impl Collector for Yield {
    /// #     fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
    /// #         out.push(self.0.clone());
    /// #         Ok(())
    /// #     }
    /// # }
    /// # fn scrape(family: CollectedFamily) -> String {
    /// #     let mut registry = Registry::new();
    /// #     registry.register_collector(Yield(family));
    /// #     let mut body = Vec::new();
    /// #     registry.encode(&mut body).unwrap();
    /// #     String::from_utf8(body).unwrap()
    /// # }
    /// let build = CollectedFamily::info("upstream", "Upstream build.")
    ///     .sample(CollectedValue::info([("version", "2.4.1")]));
    /// assert!(scrape(build).contains("upstream_info{version=\"2.4.1\"} 1\n"));
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn info(name: impl Into<String>, help: impl Into<String>) -> Self {
        CollectedFamily::new(name, help, MetricType::Info)
    }

    /// A stateset family (an enum: one state on at a time), whose states are exposed in a
    /// label named like the family; its samples are [`CollectedValue::state`].
    ///
    /// ```
    /// # use prometheus_aioexporter::{BoxError, CollectedFamily, CollectedValue, Collector, Registry};
    /// # struct Yield(CollectedFamily);
    /// # impl Collector for Yield {
    /// #     fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
    /// #         out.push(self.0.clone());
    /// #         Ok(())
    /// #     }
    /// # }
    /// # fn scrape(family: CollectedFamily) -> String {
    /// #     let mut registry = Registry::new();
    /// #     registry.register_collector(Yield(family));
    /// #     let mut body = Vec::new();
    /// #     registry.encode(&mut body).unwrap();
    /// #     String::from_utf8(body).unwrap()
    /// # }
    /// let mut mode = CollectedFamily::stateset("mode", "Mode.", ["primary", "replica"]).labels(["db"]);
    /// mode.add_sample(&["users"], CollectedValue::state("primary"))?;
    /// assert!(scrape(mode).contains("mode{db=\"users\",mode=\"primary\"} 1\n"));
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn stateset<S: Into<String>>(
        name: impl Into<String>,
        help: impl Into<String>,
        states: impl IntoIterator<Item = S>,
    ) -> Self {
        let mut family = CollectedFamily::new(name, help, MetricType::Enum);
        family.states = states.into_iter().map(Into::into).collect();
        family
    }

    /// A family of `kind`: a histogram made so has the [default
    /// buckets](super::DEFAULT_BUCKETS), an enum no states (which the scrape refuses: use
    /// [`CollectedFamily::stateset`]).
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
            buckets: None,
            states: Vec::new(),
            samples: Vec::new(),
            checked: None,
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

    /// Adds the sample of an unlabelled family: `CollectedFamily::gauge("x", "X.").sample(1.5)`.
    /// On a family with labels, the scrape fails with [`MetricError::LabelCount`].
    ///
    /// ```
    /// # use prometheus_aioexporter::{BoxError, CollectedFamily, CollectedValue, Collector, Registry};
    /// # struct Yield(CollectedFamily);
    /// # impl Collector for Yield {
    /// #     fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
    /// #         out.push(self.0.clone());
    /// #         Ok(())
    /// #     }
    /// # }
    /// # fn scrape(family: CollectedFamily) -> String {
    /// #     let mut registry = Registry::new();
    /// #     registry.register_collector(Yield(family));
    /// #     let mut body = Vec::new();
    /// #     registry.encode(&mut body).unwrap();
    /// #     String::from_utf8(body).unwrap()
    /// # }
    /// let uptime = CollectedFamily::gauge("uptime_seconds", "Uptime.").sample(12.5);
    /// assert!(scrape(uptime).contains("uptime_seconds 12.5\n"));
    /// ```
    pub fn sample(mut self, value: impl Into<CollectedValue>) -> Self {
        self.samples.push((Vec::new(), value.into()));
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
    /// A value that does not fit the family's type fails the scrape when it checks the
    /// family ([`MetricError::InvalidSample`]).
    pub fn add_sample<V: AsRef<str>>(
        &mut self,
        values: &[V],
        value: impl Into<CollectedValue>,
    ) -> Result<(), MetricError> {
        self.check_count(values.len())?;
        let values = values.iter().map(|v| v.as_ref().to_string()).collect();
        self.samples.push((values, value.into()));
        Ok(())
    }

    fn check_count(&self, got: usize) -> Result<(), MetricError> {
        if got == self.label_names.len() {
            return Ok(());
        }
        Err(MetricError::LabelCount {
            metric: self.name.clone(),
            expected: self.label_names.len(),
            got,
        })
    }

    /// The family as checked by `validate`, with each sample's value and rendered labels.
    pub(crate) fn checked(
        &self,
    ) -> Option<(&Desc, impl Iterator<Item = (&CollectedValue, &Rendered)>)> {
        let checked = self.checked.as_ref()?;
        let values = self.samples.iter().map(|(_, v)| v);
        Some((&*checked.desc, values.zip(&checked.rendered)))
    }

    /// Checks what the encoder relies on, as a declaration of the same family would be
    /// checked (names, labels, buckets, states), then each sample against the type, and
    /// that no two have the same label values.
    pub(super) fn validate(&mut self) -> Result<(), MetricError> {
        let mut config = MetricConfig::new(self.name.as_str(), self.help.as_str(), self.kind)
            .labels(self.label_names.iter().map(String::as_str));
        if let Some(bounds) = &self.buckets {
            config = config.buckets(bounds.iter().copied());
        }
        if self.kind == MetricType::Enum {
            config = config.states(self.states.iter().map(String::as_str));
        }
        let desc = config.into_desc()?;
        // `jobs_total` for a counter is `jobs`, as for a declaration.
        self.name.clone_from(&desc.name);
        sort_samples(&mut self.samples);
        if let Some(w) = self.samples.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(MetricError::DuplicateSeries {
                metric: self.name.clone(),
                values: w[0].0.clone(),
            });
        }
        let mut rendered = Vec::with_capacity(self.samples.len());
        for (values, value) in &self.samples {
            self.check_count(values.len())?;
            let info = check_value(&desc, value)?;
            rendered.push(Rendered {
                labels: render(desc.rendered_names(), values),
                info,
            });
        }
        self.checked = Some(Checked {
            desc: Arc::new(desc),
            rendered,
        });
        Ok(())
    }
}

/// Checks a sample's value against its family; returns an info's pairs rendered per scheme.
fn check_value(
    desc: &Desc,
    value: &CollectedValue,
) -> Result<Option<Box<[String; 4]>>, MetricError> {
    let invalid = |reason| MetricError::InvalidSample {
        metric: desc.name.clone(),
        reason,
    };
    match (desc.kind, value) {
        (MetricType::Counter | MetricType::Gauge, CollectedValue::Number(_)) => Ok(None),
        (MetricType::Histogram, CollectedValue::Histogram { cumulative, .. }) => {
            if cumulative.len() != desc.buckets.len() {
                return Err(invalid(
                    "expected one cumulative count per bucket bound, then one for +Inf",
                ));
            }
            if cumulative.windows(2).any(|w| w[0] > w[1]) {
                return Err(invalid("expected cumulative counts that never decrease"));
            }
            Ok(None)
        }
        (MetricType::Summary, CollectedValue::Summary { quantiles, .. }) => {
            if quantiles.iter().any(|&(q, _)| !(0.0..=1.0).contains(&q)) {
                return Err(invalid("expected quantiles between 0 and 1"));
            }
            // `==`, so that 0 and -0 (both written `0`) are one quantile too.
            let repeated = quantiles
                .iter()
                .enumerate()
                .any(|(i, &(q, _))| quantiles.iter().skip(i + 1).any(|&(r, _)| r == q));
            if repeated {
                return Err(invalid("expected each quantile once"));
            }
            Ok(None)
        }
        (MetricType::Info, CollectedValue::Info(pairs)) => {
            let pairs = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            Ok(Some(Box::new(render_info_pairs(desc, pairs)?)))
        }
        (MetricType::Enum, CollectedValue::State(state)) => {
            if !desc.states.contains(state) {
                return Err(MetricError::UnknownState {
                    metric: desc.name.clone(),
                    state: state.clone(),
                    states: desc.states.clone(),
                });
            }
            Ok(None)
        }
        (MetricType::Counter | MetricType::Gauge, _) => Err(invalid(
            "a counter or a gauge takes a number (CollectedValue::Number)",
        )),
        (MetricType::Histogram, _) => Err(invalid(
            "a histogram takes CollectedValue::histogram(cumulative counts, sum)",
        )),
        (MetricType::Summary, _) => Err(invalid(
            "a summary takes CollectedValue::summary(count, sum)",
        )),
        (MetricType::Info, _) => Err(invalid("an info takes CollectedValue::info(pairs)")),
        (MetricType::Enum, _) => Err(invalid("a stateset takes CollectedValue::state(state)")),
    }
}

/// Renders label values as a registered series renders them (see `Desc::rendered_names`).
fn render(names: &[String], values: &[String]) -> Box<str> {
    let mut out = Vec::new();
    for (i, (name, value)) in names.iter().zip(values).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_label_pair(&mut out, name, value);
    }
    // Names and values are `str`, and escaping keeps UTF-8 whole.
    String::from_utf8(out).unwrap_or_default().into_boxed_str()
}

/// Sorts samples by their label values. A heapsort of a few lines instead of the standard
/// library's sort, whose generic code would be linked for this one use; input already in order, as collectors usually yield it, is seen in one pass.
/// Unstable, like the sort it replaces: `validate` refuses equal label values anyway.
pub(super) fn sort_samples<T>(samples: &mut [(Vec<String>, T)]) {
    if samples.windows(2).all(|w| w[0].0 <= w[1].0) {
        return;
    }
    // Moves the element at `root` down the max-heap `heap`.
    fn sift_down<T>(heap: &mut [(Vec<String>, T)], mut root: usize) {
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
