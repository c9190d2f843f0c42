//! The registry layer: what a metric is and the values behind it, every metric an exporter
//! exposes by name, and the collectors that add families at scrape time.
//!
//! [`Registry::create_metrics`] is the analogue of Python's `create_metrics`; it returns
//! [`Metrics`], the metrics by name, which is also what the update handler is given.
//! [`Collector`] is the analogue of `register_additional_collector`. Handles are cheap to
//! clone (one `Arc`), `Send + Sync`, and updated with atomics: an unlabelled metric is never
//! behind a lock. Each series keeps its label pairs escaped for the wire, rendered once when
//! it is created, so a scrape only copies them.
//!
//! It uses only the `wire` layer; how a registry is written out is the exposition layer's
//! (which adds [`Registry::encode`]), so the arrows run one way.

use std::fmt;

mod collector;
mod config;
mod error;
mod expiry;
mod family;
#[cfg(feature = "process-stats")]
pub(crate) mod process;
mod quantile;
mod typed;
mod value;

pub(crate) use collector::Rendered;
pub use collector::{CollectError, CollectedFamily, CollectedValue, Collector};
pub(crate) use config::{describe_exposed, exposed_names, write_name, Desc, NameForms, Scheme};
pub use config::{
    exponential_buckets, is_valid_label_name, is_valid_metric_name, linear_buckets, IntoMetricType,
    MetricConfig, MetricType, DEFAULT_AGE_BUCKETS, DEFAULT_BUCKETS, DEFAULT_MAX_AGE,
};
pub use error::MetricError;
pub use family::Family;
pub use typed::{
    CounterFamily, EnumFamily, GaugeFamily, HistogramFamily, InfoFamily, SummaryFamily, TypedFamily,
};
pub(crate) use value::lock;
pub use value::{Counter, Enum, Gauge, Histogram, Info, Series, Summary};

/// The error type of user hooks: any error, boxed.
///
/// ```
/// use prometheus_aioexporter::BoxError;
///
/// fn read_temperature() -> Result<f64, BoxError> {
///     let text = "21.5"; // e.g. std::fs::read_to_string("/sys/class/thermal/…")?
///     Ok(text.trim().parse::<f64>()?)
/// }
/// assert_eq!(read_temperature().unwrap(), 21.5);
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One registered metric, of any type.
///
/// ```
/// use prometheus_aioexporter::{Metric, Registry};
///
/// let mut registry = Registry::new();
/// registry.histogram("latency_seconds", "Latency.", [0.1, 1.0])?;
/// match registry.metrics().get("latency_seconds") {
///     Some(Metric::Histogram(family)) => family.labels(&[] as &[&str])?.observe(0.05),
///     _ => unreachable!("declared above"),
/// }
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Metric {
    /// A counter family.
    Counter(Family<Counter>),
    /// A gauge family.
    Gauge(Family<Gauge>),
    /// A histogram family.
    Histogram(Family<Histogram>),
    /// A summary family.
    Summary(Family<Summary>),
    /// An info family.
    Info(Family<Info>),
    /// An enum family.
    Enum(Family<Enum>),
}

impl Metric {
    /// The metric's type.
    ///
    /// ```
    /// # use prometheus_aioexporter::{MetricType, Registry};
    /// # let mut registry = Registry::new();
    /// registry.gauge("temp", "Temperature.")?;
    /// let metric = registry.metrics().get("temp").unwrap();
    /// assert_eq!(metric.metric_type(), MetricType::Gauge);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn metric_type(&self) -> MetricType {
        match self {
            Metric::Counter(_) => MetricType::Counter,
            Metric::Gauge(_) => MetricType::Gauge,
            Metric::Histogram(_) => MetricType::Histogram,
            Metric::Summary(_) => MetricType::Summary,
            Metric::Info(_) => MetricType::Info,
            Metric::Enum(_) => MetricType::Enum,
        }
    }

    /// Removes every series of a labelled metric (see [`Family::clear`]).
    ///
    /// ```
    /// # use prometheus_aioexporter::Registry;
    /// # let mut registry = Registry::new();
    /// let up = registry.gauge_family("target_up", "Whether a target answers.", ["target"])?;
    /// up.labels(&["a"]).set(1.0);
    /// // Before each scrape, drop every labelled series of every metric to rebuild them.
    /// for (_, metric) in registry.metrics().iter() {
    ///     metric.clear();
    /// }
    /// assert!(up.is_empty());
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn clear(&self) {
        match self {
            Metric::Counter(f) => f.clear(),
            Metric::Gauge(f) => f.clear(),
            Metric::Histogram(f) => f.clear(),
            Metric::Summary(f) => f.clear(),
            Metric::Info(f) => f.clear(),
            Metric::Enum(f) => f.clear(),
        }
    }
}

/// Names in a sorted vector, found by binary search: a registry declares a few dozen.
#[derive(Debug, Default)]
struct SortedNames(Vec<String>);

impl SortedNames {
    fn contains(&self, name: &str) -> bool {
        self.0.binary_search_by(|n| n.as_str().cmp(name)).is_ok()
    }

    /// Adds `name`; `false` if it was there already.
    fn insert(&mut self, name: String) -> bool {
        match self.0.binary_search(&name) {
            Ok(_) => false,
            Err(i) => {
                self.0.insert(i, name);
                true
            }
        }
    }
}

/// Metrics by name: what [`Registry::create_metrics`] returns and the update handler is given.
///
/// Typed accessors return the handle of an unlabelled metric (`gauge`, `counter`, …) or the
/// family of a labelled one (`gauge_family`, …); asking for the wrong type, an unknown name, or
/// the single value of a labelled metric is an `Err`, never a panic.
///
/// ```
/// use prometheus_aioexporter::{MetricConfig, Registry};
///
/// let mut registry = Registry::new();
/// let metrics = registry.create_metrics([
///     MetricConfig::new("temp", "Temperature.", "gauge"),
///     MetricConfig::new("requests", "Requests.", "counter").labels(["code"]),
/// ])?;
/// metrics.gauge("temp")?.set(21.0);
/// metrics.counter_family("requests")?.labels(&["200"])?.inc();
/// assert!(metrics.counter("temp").is_err()); // a gauge, not a counter
/// assert!(metrics.gauge("tmep").is_err()); // no such metric
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    /// Sorted by name: found by binary search, encoded in order.
    by_name: Vec<(String, Metric)>,
}

macro_rules! accessors {
    ($($single:ident, $family:ident, $series:ident, $variant:ident;)*) => {$(
        #[doc = concat!("The family of the ", stringify!($variant), " called `name`.")]
        ///
        /// ```
        /// # use prometheus_aioexporter::Registry;
        /// # let mut registry = Registry::new();
        /// # registry.counter_family("counter_family", "", ["kind"])?;
        /// # registry.gauge_family("gauge_family", "", ["kind"])?;
        /// # registry.histogram_family("histogram_family", "", ["kind"], [1.0])?;
        /// # registry.summary_family("summary_family", "", ["kind"])?;
        /// # registry.info_family("info_family", "", ["kind"])?;
        /// # registry.enumeration_family("enumeration_family", "", ["kind"], ["on"])?;
        /// let metrics = registry.metrics();
        #[doc = concat!("let family = metrics.", stringify!($family), "(\"", stringify!($family), "\")?;")]
        /// let series = family.labels(&["a"])?; // one value per label name
        /// assert_eq!(family.len(), 1);
        /// # let _ = series;
        /// # Ok::<(), prometheus_aioexporter::MetricError>(())
        /// ```
        ///
        /// # Errors
        /// [`MetricError::UnknownMetric`] or [`MetricError::WrongType`].
        pub fn $family(&self, name: &str) -> Result<Family<$series>, MetricError> {
            match self.get(name) {
                Some(Metric::$variant(f)) => Ok(f.clone()),
                Some(other) => Err(MetricError::WrongType {
                    metric: name.to_string(),
                    actual: other.metric_type(),
                    requested: MetricType::$variant,
                }),
                None => Err(MetricError::UnknownMetric(name.to_string())),
            }
        }

        #[doc = concat!("The unlabelled ", stringify!($variant), " called `name`.")]
        ///
        /// ```
        /// # use prometheus_aioexporter::Registry;
        /// # let mut registry = Registry::new();
        /// # registry.counter("counter", "")?;
        /// # registry.gauge("gauge", "")?;
        /// # registry.histogram("histogram", "", [1.0])?;
        /// # registry.summary("summary", "")?;
        /// # registry.info("info", "")?;
        /// # registry.enumeration("enumeration", "", ["on"])?;
        /// # registry.gauge_family("labelled", "", ["kind"])?;
        /// let metrics = registry.metrics();
        #[doc = concat!("let handle = metrics.", stringify!($single), "(\"", stringify!($single), "\")?;")]
        #[doc = concat!("assert!(metrics.", stringify!($single), "(\"labelled\").is_err()); // has labels, or another type")]
        /// # let _ = handle;
        /// # Ok::<(), prometheus_aioexporter::MetricError>(())
        /// ```
        ///
        /// # Errors
        /// [`MetricError::UnknownMetric`], [`MetricError::WrongType`], or
        /// [`MetricError::LabelsRequired`] if it has labels.
        pub fn $single(&self, name: &str) -> Result<$series, MetricError> {
            self.$family(name)?.single()
        }
    )*};
}

impl Metrics {
    /// The metric called `name`. Counters and infos are named without `_total` / `_info`, and
    /// also answer to the name with it, as they may have been declared
    /// (`MetricConfig::new("requests_total", …, "counter")` is `requests` and `requests_total`).
    ///
    /// ```
    /// # use prometheus_aioexporter::{Metric, MetricConfig, Registry};
    /// # let mut registry = Registry::new();
    /// let metrics = registry.create_metrics([MetricConfig::new("requests", "Requests.", "counter")])?;
    /// assert!(matches!(metrics.get("requests"), Some(Metric::Counter(_))));
    /// assert!(metrics.get("requests_total").is_some()); // the name with its suffix works too
    /// assert!(metrics.get("request").is_none());
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn get(&self, name: &str) -> Option<&Metric> {
        let at = |name: &str| {
            let i = self.position(name).ok()?;
            self.by_name.get(i).map(|(_, metric)| metric)
        };
        at(name).or_else(|| {
            let (base, kind) = match (name.strip_suffix("_total"), name.strip_suffix("_info")) {
                (Some(base), _) => (base, MetricType::Counter),
                (_, Some(base)) => (base, MetricType::Info),
                _ => return None,
            };
            at(base).filter(|metric| metric.metric_type() == kind)
        })
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.by_name.binary_search_by(|(n, _)| n.as_str().cmp(name))
    }

    /// Adds `metric`, or replaces the one called `name`.
    fn insert(&mut self, name: String, metric: Metric) {
        match self.position(&name) {
            Ok(i) => {
                if let Some(slot) = self.by_name.get_mut(i) {
                    slot.1 = metric;
                }
            }
            Err(i) => self.by_name.insert(i, (name, metric)),
        }
    }

    /// Every metric, ordered by name.
    ///
    /// ```
    /// # use prometheus_aioexporter::{MetricConfig, Registry};
    /// # let mut registry = Registry::new();
    /// let metrics = registry.create_metrics([
    ///     MetricConfig::new("b", "B.", "gauge"),
    ///     MetricConfig::new("a", "A.", "counter"),
    /// ])?;
    /// let names: Vec<&str> = metrics.iter().map(|(name, _)| name).collect();
    /// assert_eq!(names, ["a", "b"]); // sorted by name
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Metric)> {
        self.by_name
            .iter()
            .map(|(name, metric)| (name.as_str(), metric))
    }

    /// The number of metrics.
    ///
    /// ```
    /// # use prometheus_aioexporter::{MetricConfig, Registry};
    /// # let mut registry = Registry::new();
    /// let metrics = registry.create_metrics([
    ///     MetricConfig::new("a", "A.", "gauge"),
    ///     MetricConfig::new("b", "B.", "gauge"),
    /// ])?;
    /// assert_eq!(metrics.len(), 2);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// `true` if there are none.
    ///
    /// ```
    /// # use prometheus_aioexporter::Registry;
    /// let registry = Registry::new();
    /// assert!(registry.metrics().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    accessors! {
        counter, counter_family, Counter, Counter;
        gauge, gauge_family, Gauge, Gauge;
        histogram, histogram_family, Histogram, Histogram;
        summary, summary_family, Summary, Summary;
        info, info_family, Info, Info;
        enumeration, enumeration_family, Enum, Enum;
    }
}

/// Every metric of an exporter, and its collectors.
///
/// ```
/// use prometheus_aioexporter::{MetricConfig, Registry};
///
/// let mut registry = Registry::new();
/// let metrics = registry.create_metrics([
///     MetricConfig::new("requests", "Requests served.", "counter").labels(["code"]),
/// ])?;
/// metrics.counter_family("requests")?.labels(&["200"])?.inc();
///
/// let mut body = Vec::new();
/// registry.encode(&mut body)?;
/// let expected = "# HELP requests_total Requests served.\n# TYPE requests_total counter\n\
///                 requests_total{code=\"200\"} 1\n";
/// assert_eq!(String::from_utf8(body)?, expected);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Default)]
pub struct Registry {
    metrics: Metrics,
    /// Every name the registered metrics put on the wire (see `exposed_names`).
    exposed: SortedNames,
    collectors: Vec<Box<dyn Collector>>,
    /// This scrape's collected families, and after each collector's, where its own end.
    collected: Vec<CollectedFamily>,
    collected_ends: Vec<usize>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("metrics", &self.metrics)
            .field("collectors", &self.collectors.len())
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    ///
    /// ```
    /// use prometheus_aioexporter::Registry;
    ///
    /// let mut registry = Registry::new();
    /// let mut body = Vec::new();
    /// registry.encode(&mut body)?;
    /// assert!(body.is_empty()); // nothing declared, nothing exposed
    /// # Ok::<(), prometheus_aioexporter::CollectError>(())
    /// ```
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Declares metrics and returns them by name. All or nothing: if one declaration is
    /// invalid, none is registered.
    ///
    /// ```
    /// use prometheus_aioexporter::{MetricConfig, Registry};
    ///
    /// let mut registry = Registry::new();
    /// let metrics = registry.create_metrics([
    ///     MetricConfig::new("metric1", "a metric", "gauge"),
    ///     MetricConfig::new("metric2", "another metric", "counter").labels(["l1", "l2"]),
    /// ])?;
    /// metrics.gauge("metric1")?.set(1.0);
    /// metrics.counter_family("metric2")?.labels(&["a", "b"])?.inc();
    ///
    /// // All or nothing: `metric1` is taken, so `metric3` is not registered either.
    /// let err = registry
    ///     .create_metrics([
    ///         MetricConfig::new("metric3", "a third", "gauge"),
    ///         MetricConfig::new("metric1", "again", "gauge"),
    ///     ])
    ///     .unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "metric 'metric1' is already registered: expected a name no other metric has"
    /// );
    /// assert!(registry.metrics().get("metric3").is_none());
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    ///
    /// # Errors
    /// The first invalid declaration's [`MetricError`]: [`MetricError::DuplicateMetric`] for a
    /// name taken, [`MetricError::SeriesNameTaken`] if a name it would put on the wire is
    /// another metric's (a counter `requests` is exposed as `requests_total`, so it clashes
    /// with a gauge `requests_total`; a histogram `h` with a gauge `h_count`).
    pub fn create_metrics<I>(&mut self, configs: I) -> Result<Metrics, MetricError>
    where
        I: IntoIterator<Item = MetricConfig>,
    {
        self.create_from(&mut configs.into_iter().map(MetricConfig::into_desc))
    }

    /// Registers checked declarations, all or none: what [`Registry::create_metrics`] and the
    /// typed constructors ([`Registry::counter`], …) share, compiled once.
    fn create_from(
        &mut self,
        descs: &mut dyn Iterator<Item = Result<Desc, MetricError>>,
    ) -> Result<Metrics, MetricError> {
        let mut created = Metrics::default();
        let mut exposed = SortedNames::default();
        for desc in descs {
            let desc = desc?;
            let name = desc.name.clone();
            for exposed_name in exposed_names(&name, desc.kind) {
                if self.exposed.contains(&exposed_name) || exposed.contains(&exposed_name) {
                    let same_name =
                        self.metrics.position(&name).is_ok() || created.position(&name).is_ok();
                    if same_name {
                        return Err(MetricError::DuplicateMetric(name));
                    }
                    let owner =
                        self.metrics.iter().chain(created.iter()).find(|(n, m)| {
                            exposed_names(n, m.metric_type()).contains(&exposed_name)
                        });
                    return Err(MetricError::SeriesNameTaken {
                        metric: name,
                        series: describe_exposed(&exposed_name),
                        owner: owner.map(|(n, _)| n.to_string()).unwrap_or_default(),
                    });
                }
                exposed.insert(exposed_name);
            }
            let metric = match desc.kind {
                MetricType::Counter => Metric::Counter(Family::new(desc)),
                MetricType::Gauge => Metric::Gauge(Family::new(desc)),
                MetricType::Histogram => Metric::Histogram(Family::new(desc)),
                MetricType::Summary => Metric::Summary(Family::new(desc)),
                MetricType::Info => Metric::Info(Family::new(desc)),
                MetricType::Enum => Metric::Enum(Family::new(desc)),
            };
            created.insert(name, metric);
        }
        for (name, metric) in &created.by_name {
            self.metrics.insert(name.clone(), metric.clone());
        }
        for name in exposed.0 {
            self.exposed.insert(name);
        }
        Ok(created)
    }

    /// Adds a collector whose families are appended to every scrape.
    ///
    /// ```
    /// use prometheus_aioexporter::{BoxError, CollectedFamily, Collector, Registry};
    ///
    /// /// Reads the load average once per scrape.
    /// struct LoadAverage;
    /// impl Collector for LoadAverage {
    ///     fn collect(&mut self, out: &mut Vec<CollectedFamily>) -> Result<(), BoxError> {
    ///         let mut load = CollectedFamily::gauge("load1", "1-minute load average.");
    ///         load.add_sample(&[] as &[&str], 0.42)?;
    ///         out.push(load);
    ///         Ok(())
    ///     }
    /// }
    /// let mut registry = Registry::new();
    /// registry.register_collector(LoadAverage);
    /// let mut body = Vec::new();
    /// registry.encode(&mut body)?;
    /// assert!(body.ends_with(b"load1 0.42\n"));
    /// # Ok::<(), BoxError>(())
    /// ```
    pub fn register_collector(&mut self, collector: impl Collector + 'static) {
        self.collectors.push(Box::new(collector));
    }

    /// Every registered metric by name.
    ///
    /// ```
    /// # use prometheus_aioexporter::Registry;
    /// let mut registry = Registry::new();
    /// registry.gauge("temp", "Temperature.")?;
    /// // Typed metrics are found by name too, as an update handler does.
    /// registry.metrics().gauge("temp")?.set(20.0);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The families the collectors yielded at the last [`Registry::collect`].
    pub(crate) fn collected(&self) -> &[CollectedFamily] {
        &self.collected
    }

    /// Runs every collector and checks all they yield, before anything is written: valid
    /// families, and no name on the wire twice (between collected families, or with a
    /// registered metric).
    pub(crate) fn collect(&mut self) -> Result<(), CollectError> {
        self.collected.clear();
        self.collected_ends.clear();
        for (i, collector) in self.collectors.iter_mut().enumerate() {
            let start = self.collected.len();
            let result = collector.collect(&mut self.collected).and_then(|()| {
                for family in self.collected.get_mut(start..).unwrap_or_default() {
                    family.validate()?;
                }
                Ok(())
            });
            result.map_err(|source| CollectError {
                collector: i,
                source,
            })?;
            self.collected_ends.push(self.collected.len());
        }
        if self.collected.is_empty() {
            return Ok(());
        }
        let mut seen = SortedNames::default();
        for (index, family) in self.collected.iter().enumerate() {
            for name in exposed_names(&family.name, family.kind) {
                if self.exposed.contains(&name) || !seen.insert(name) {
                    let collector = self
                        .collected_ends
                        .iter()
                        .filter(|&&end| end <= index)
                        .count();
                    return Err(CollectError {
                        collector,
                        source: MetricError::DuplicateMetric(family.name.clone()).into(),
                    });
                }
            }
        }
        Ok(())
    }
}
