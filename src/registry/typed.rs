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
pub type CounterFamily<const N: usize> = TypedFamily<Counter, N>;
/// A gauge family with `N` labels.
pub type GaugeFamily<const N: usize> = TypedFamily<Gauge, N>;
/// A histogram family with `N` labels.
pub type HistogramFamily<const N: usize> = TypedFamily<Histogram, N>;
/// A summary family with `N` labels.
pub type SummaryFamily<const N: usize> = TypedFamily<Summary, N>;
/// An info family with `N` labels.
pub type InfoFamily<const N: usize> = TypedFamily<Info, N>;
/// An enum family with `N` labels.
pub type EnumFamily<const N: usize> = TypedFamily<Enum, N>;

impl<S: Series, const N: usize> TypedFamily<S, N> {
    /// The series for these label values (in the order of the label names), created on first
    /// use. Values are borrowed; finding a series that exists allocates nothing.
    #[inline]
    pub fn labels<V: AsRef<str>>(&self, values: &[V; N]) -> S {
        self.family.find_or_create(values)
    }

    /// Removes the series with these label values; `true` if it existed (see
    /// [`Family::remove`]).
    pub fn remove<V: AsRef<str>>(&self, values: &[V; N]) -> bool {
        self.family.remove_checked(values)
    }

    /// Removes every series (client_golang's `Reset` of a vector), as [`Family::clear`].
    pub fn reset(&self) {
        self.family.clear();
    }

    /// The number of series.
    pub fn len(&self) -> usize {
        self.family.len()
    }

    /// `true` if the family has no series.
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
