//! Typed handles, declared once: the registry's constructors that return a metric's handle
//! (or its family) directly, and [`TypedFamily`], a family whose label count is part of its
//! type, so that a misspelt metric or a wrong number of label values does not compile.

use std::iter;
use std::time::Duration;

use super::{
    Counter, Enum, Family, Gauge, Histogram, Info, MetricConfig, MetricError, MetricType, Registry,
    Series, Summary,
};

/// A [`Family`] of `S` with `N` labels: [`TypedFamily::labels`] takes exactly `N` values, so
/// it cannot fail, and a wrong count is a compile error.
///
/// ```
/// use prometheus_aioexporter::Registry;
///
/// let mut registry = Registry::new();
/// let requests = registry.counter_family("requests", "Requests.", ["method", "code"])?;
/// requests.labels(&["GET", "200"]).inc();
/// let code = String::from("404");
/// requests.labels(&["GET", code.as_str()]).inc();
/// assert_eq!(requests.len(), 2);
/// assert!(requests.remove(&["GET", "404"]));
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
///
/// The wrong number of values is rejected by the compiler:
///
/// ```compile_fail
/// # use prometheus_aioexporter::Registry;
/// # let mut registry = Registry::new();
/// let requests = registry.counter_family("requests", "Requests.", ["method", "code"])?;
/// requests.labels(&["GET"]).inc(); // expected `&[_; 2]`, found `&[&str; 1]`
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
///
/// So is a counter family used as a histogram, at the caller's line:
///
/// ```compile_fail
/// # use prometheus_aioexporter::Registry;
/// # let mut registry = Registry::new();
/// let requests = registry.counter_family("requests", "Requests.", ["method", "code"])?;
/// requests.labels(&["GET", "200"]).observe(0.5); // no method named `observe` for `Counter`
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Debug)]
pub struct TypedFamily<S: Series, const N: usize> {
    family: Family<S>,
}

impl<S: Series, const N: usize> Clone for TypedFamily<S, N> {
    fn clone(&self) -> Self {
        TypedFamily {
            family: self.family.clone(),
        }
    }
}

/// A counter family with `N` labels.
///
/// ```
/// use prometheus_aioexporter::{CounterFamily, Registry};
///
/// struct Metrics {
///     requests: CounterFamily<2>,
/// }
/// let mut registry = Registry::new();
/// let m = Metrics {
///     requests: registry.counter_family("requests", "Requests.", ["method", "code"])?,
/// };
/// m.requests.labels(&["GET", "200"]).inc();
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
pub type CounterFamily<const N: usize> = TypedFamily<Counter, N>;
/// A gauge family with `N` labels.
///
/// ```
/// use prometheus_aioexporter::{GaugeFamily, Registry};
///
/// let mut registry = Registry::new();
/// let free: GaugeFamily<1> = registry.gauge_family("disk_free_bytes", "Free space.", ["mount"])?;
/// free.labels(&["/"]).set(5e9);
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
pub type GaugeFamily<const N: usize> = TypedFamily<Gauge, N>;
/// A histogram family with `N` labels.
///
/// ```
/// use prometheus_aioexporter::{HistogramFamily, Registry, DEFAULT_BUCKETS};
///
/// let mut registry = Registry::new();
/// let latency: HistogramFamily<1> =
///     registry.histogram_family("latency_seconds", "Latency.", ["route"], DEFAULT_BUCKETS)?;
/// latency.labels(&["/login"]).observe(0.03);
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
pub type HistogramFamily<const N: usize> = TypedFamily<Histogram, N>;
/// A summary family with `N` labels.
///
/// ```
/// use prometheus_aioexporter::{Registry, SummaryFamily};
///
/// let mut registry = Registry::new();
/// let sizes: SummaryFamily<1> = registry.summary_family("body_bytes", "Body sizes.", ["route"])?;
/// sizes.labels(&["/upload"]).observe(4096.0);
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
pub type SummaryFamily<const N: usize> = TypedFamily<Summary, N>;
/// An info family with `N` labels.
///
/// ```
/// use prometheus_aioexporter::{InfoFamily, Registry};
///
/// let mut registry = Registry::new();
/// let disks: InfoFamily<1> = registry.info_family("disk", "Disk facts.", ["device"])?;
/// disks.labels(&["sda"]).set([("model", "XYZ-1000")])?;
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
pub type InfoFamily<const N: usize> = TypedFamily<Info, N>;
/// An enum family with `N` labels.
///
/// ```
/// use prometheus_aioexporter::{EnumFamily, Registry};
///
/// let mut registry = Registry::new();
/// let links: EnumFamily<1> = registry.enumeration_family("link", "Link state.", ["nic"], ["down", "up"])?;
/// links.labels(&["eth0"]).set("up")?;
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
pub type EnumFamily<const N: usize> = TypedFamily<Enum, N>;

impl<S: Series, const N: usize> TypedFamily<S, N> {
    /// The series for these label values (in the order of the label names), created on first
    /// use. Values are borrowed; finding a series that exists allocates nothing.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let requests = registry.counter_family("requests", "Requests.", ["method", "code"])?;
    /// // Keep the handle where the same series is updated again and again.
    /// let get_ok = requests.labels(&["GET", "200"]);
    /// get_ok.inc();
    /// let code = String::from("503");
    /// requests.labels(&["GET", code.as_str()]).inc();
    /// assert_eq!(requests.len(), 2);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    #[inline]
    pub fn labels<V: AsRef<str>>(&self, values: &[V; N]) -> S {
        self.family.find_or_create(values)
    }

    /// Removes the series with these label values; `true` if it existed (see
    /// [`Family::remove`]).
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let up = registry.gauge_family("backend_up", "Whether a backend answers.", ["backend"])?;
    /// up.labels(&["db-1"]).set(1.0);
    /// assert!(up.remove(&["db-1"])); // the backend was decommissioned
    /// assert!(up.is_empty());
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn remove<V: AsRef<str>>(&self, values: &[V; N]) -> bool {
        self.family.remove_checked(values)
    }

    /// Removes every series (client_golang's `Reset` of a vector), as [`Family::clear`].
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let sessions = registry.gauge_family("sessions", "Open sessions.", ["user"])?;
    /// sessions.labels(&["ann"]).set(2.0);
    /// sessions.reset();
    /// assert_eq!(sessions.len(), 0);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn reset(&self) {
        self.family.clear();
    }

    /// The number of series.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let latency = registry.histogram_family("latency_seconds", "Latency.", ["route"], [0.1, 1.0])?;
    /// latency.labels(&["/"]).observe(0.02);
    /// latency.labels(&["/login"]).observe(0.3);
    /// assert_eq!(latency.len(), 2);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.family.len()
    }

    /// `true` if the family has no series.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let errors = registry.counter_family("errors", "Errors.", ["kind"])?;
    /// assert!(errors.is_empty()); // series appear on first use
    /// errors.labels(&["timeout"]).inc();
    /// assert!(!errors.is_empty());
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.family.is_empty()
    }

    /// How long a series may go without an update before it expires, if the family was
    /// declared with [`MetricConfig::expire_after`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use prometheus_aioexporter::{Gauge, MetricConfig, Registry};
    ///
    /// let mut registry = Registry::new();
    /// let config = MetricConfig::new("queue_depth", "Jobs queued.", "gauge")
    ///     .labels(["queue"])
    ///     .expire_after(Duration::from_secs(300));
    /// let depth = registry.register::<Gauge, 1>(config)?;
    /// // Look the series up on each update: a lookup counts as one, even with the same value.
    /// depth.labels(&["mail"]).set(4.0);
    /// assert_eq!(depth.expire_after(), Some(Duration::from_secs(300)));
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn expire_after(&self) -> Option<Duration> {
        self.family.desc().expire_after
    }

    /// The family with its label count checked at run time, as [`Metrics`](crate::Metrics)
    /// gives it.
    ///
    /// ```
    /// # let mut registry = prometheus_aioexporter::Registry::new();
    /// let requests = registry.counter_family("requests", "Requests.", ["code"])?;
    /// let untyped = requests.family();
    /// untyped.labels(&["200"])?.inc(); // label count checked at run time
    /// assert_eq!(requests.labels(&["200"]).get(), 1.0);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn family(&self) -> &Family<S> {
        &self.family
    }
}

macro_rules! constructors {
    ($(
        $(#[$doc:meta])*
        $single:ident, $family:ident, $series:ident, $kind:ident
        $(, $extra:ident: $extra_ty:ty => $apply:ident)?;
    )*) => {$(
        $(#[$doc])*
        ///
        /// # Errors
        /// As [`Registry::create_metrics`]: an invalid declaration, or a name taken.
        pub fn $single(
            &mut self,
            name: &str,
            help: &str,
            $($extra: $extra_ty,)?
        ) -> Result<$series, MetricError> {
            let config = MetricConfig::new(name, help, MetricType::$kind);
            $(let config = config.$apply($extra);)?
            self.register::<$series, 0>(config)?.family.single()
        }

        #[doc = concat!("Declares a ", stringify!($kind), " with labels and returns its family, ")]
        #[doc = concat!("as [`Registry::", stringify!($single), "`] does its handle.")]
        ///
        /// ```
        /// # use prometheus_aioexporter::Registry;
        /// # let (buckets, quantiles, states) = ([0.1, 1.0], [(0.5, 0.05)], ["off", "on"]);
        /// let mut registry = Registry::new();
        #[doc = concat!(
            "let family = registry.", stringify!($family), "(\"things\", \"Things.\", [\"kind\"]",
            $(", ", stringify!($extra),)? ")?;"
        )]
        /// let series = family.labels(&["a"]); // created on first use
        /// assert_eq!(family.len(), 1);
        /// # let _ = series;
        /// # Ok::<(), prometheus_aioexporter::MetricError>(())
        /// ```
        ///
        /// # Errors
        /// As [`Registry::create_metrics`]: an invalid declaration, or a name taken.
        pub fn $family<const N: usize>(
            &mut self,
            name: &str,
            help: &str,
            labels: [&str; N],
            $($extra: $extra_ty,)?
        ) -> Result<TypedFamily<$series, N>, MetricError> {
            let config = MetricConfig::new(name, help, MetricType::$kind).labels(labels);
            $(let config = config.$apply($extra);)?
            self.register(config)
        }
    )*};
}

impl Registry {
    /// Declares a metric of type `S` with `N` labels and returns its family: the typed way in
    /// for any declaration [`MetricConfig`] can make.
    ///
    /// ```
    /// use prometheus_aioexporter::{Histogram, MetricConfig, Registry};
    ///
    /// let mut registry = Registry::new();
    /// let config = MetricConfig::new("rpc_seconds", "RPC time.", "histogram")
    ///     .labels(["service"])
    ///     .buckets([0.01, 0.1, 1.0]);
    /// let rpc = registry.register::<Histogram, 1>(config)?;
    /// rpc.labels(&["auth"]).observe(0.02);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Registry::create_metrics`]; also [`MetricError::WrongType`] if the declaration is
    /// not of type `S`, and [`MetricError::LabelCount`] if it does not declare `N` labels.
    /// Nothing is registered then.
    pub fn register<S: Series, const N: usize>(
        &mut self,
        config: MetricConfig,
    ) -> Result<TypedFamily<S, N>, MetricError> {
        let desc = config.into_desc()?;
        if desc.kind != S::TYPE {
            return Err(MetricError::WrongType {
                metric: desc.name,
                actual: desc.kind,
                requested: S::TYPE,
            });
        }
        if desc.label_names.len() != N {
            return Err(MetricError::LabelCount {
                metric: desc.name,
                expected: desc.label_names.len(),
                got: N,
            });
        }
        let created = self.create_from(&mut iter::once(Ok(desc)))?;
        let family = created
            .iter()
            .find_map(|(_, metric)| S::family_of(metric))
            .cloned()
            .ok_or_else(|| MetricError::UnknownMetric(String::new()))?;
        Ok(TypedFamily { family })
    }

    constructors! {
        /// Declares a counter without labels and returns its handle.
        ///
        /// ```
        /// use prometheus_aioexporter::Registry;
        ///
        /// let mut registry = Registry::new();
        /// let jobs = registry.counter("jobs", "Jobs done.")?;
        /// jobs.inc();
        /// assert_eq!(jobs.get(), 1.0);
        /// # Ok::<(), prometheus_aioexporter::MetricError>(())
        /// ```
        counter, counter_family, Counter, Counter;
        /// Declares a gauge without labels and returns its handle.
        ///
        /// ```
        /// # let mut registry = prometheus_aioexporter::Registry::new();
        /// let queue = registry.gauge("queue_length", "Jobs waiting.")?;
        /// queue.set(3.0);
        /// # Ok::<(), prometheus_aioexporter::MetricError>(())
        /// ```
        gauge, gauge_family, Gauge, Gauge;
        /// Declares a histogram without labels, with these bucket bounds (`+Inf` is added),
        /// and returns its handle.
        ///
        /// ```
        /// # let mut registry = prometheus_aioexporter::Registry::new();
        /// use prometheus_aioexporter::DEFAULT_BUCKETS;
        ///
        /// let latency = registry.histogram("latency_seconds", "Latency.", DEFAULT_BUCKETS)?;
        /// latency.observe(0.042);
        /// # Ok::<(), prometheus_aioexporter::MetricError>(())
        /// ```
        histogram, histogram_family, Histogram, Histogram, buckets: impl IntoIterator<Item = f64> => buckets;
        /// Declares a summary without labels and returns its handle.
        ///
        /// ```
        /// # let mut registry = prometheus_aioexporter::Registry::new();
        /// let size = registry.summary("request_bytes", "Request sizes.")?;
        /// size.observe(512.0);
        /// # Ok::<(), prometheus_aioexporter::MetricError>(())
        /// ```
        summary, summary_family, Summary, Summary;
        /// Declares a summary without labels that also reports quantiles, each given with its
        /// allowed rank error (as [`MetricConfig::quantiles`]), over client_golang's default
        /// window (10 minutes in 5 age buckets; [`Registry::register`] with a
        /// [`MetricConfig`] sets another), and returns its handle.
        ///
        /// ```
        /// # let mut registry = prometheus_aioexporter::Registry::new();
        /// let rpc = registry.summary_with_quantiles(
        ///     "rpc_seconds",
        ///     "RPC time.",
        ///     [(0.5, 0.05), (0.9, 0.01), (0.99, 0.001)],
        /// )?;
        /// rpc.observe(0.012);
        /// # Ok::<(), prometheus_aioexporter::MetricError>(())
        /// ```
        summary_with_quantiles, summary_family_with_quantiles, Summary, Summary, quantiles: impl IntoIterator<Item = (f64, f64)> => quantiles;
        /// Declares an info metric without labels and returns its handle.
        ///
        /// ```
        /// # let mut registry = prometheus_aioexporter::Registry::new();
        /// registry.info("build", "Build facts.")?.set([("version", "1.2.3")])?;
        /// # Ok::<(), prometheus_aioexporter::MetricError>(())
        /// ```
        info, info_family, Info, Info;
        /// Declares an enum metric without labels, with its states (the first is the
        /// initial one), and returns its handle.
        ///
        /// ```
        /// # let mut registry = prometheus_aioexporter::Registry::new();
        /// let state = registry.enumeration("state", "Service state.", ["starting", "running"])?;
        /// state.set("running")?;
        /// # Ok::<(), prometheus_aioexporter::MetricError>(())
        /// ```
        enumeration, enumeration_family, Enum, Enum, states: impl IntoIterator<Item = impl Into<String>> => states;
    }
}
