//! The sample exporter: a gauge with labels `foo` and `bar`, and a counter with label `baz`,
//! set to random values before every scrape (the Python library's sample script, in Rust).
//!
//! ```text
//! cargo run --example sample -- -L info
//! curl localhost:9090/metrics
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_aioexporter::cli::Args;
use prometheus_aioexporter::{
    BoundExporter, BoxError, MetricConfig, PrometheusExporterScript, Registry,
};

/// A sample exporter.
#[derive(Default)]
struct SampleScript;

impl PrometheusExporterScript for SampleScript {
    const NAME: &'static str = "prometheus-aioexporter-sample";
    const DESCRIPTION: &'static str = "A sample exporter.";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const ENV_PREFIX: Option<&'static str> = Some("SAMPLE");

    fn configure(&mut self, _args: &Args, registry: &mut Registry) -> Result<(), BoxError> {
        registry.create_metrics([
            MetricConfig::new("sample_value", "a random value", "gauge").labels(["foo", "bar"]),
            MetricConfig::new("sample_events", "random events", "counter").labels(["baz"]),
        ])?;
        Ok(())
    }

    fn on_application_startup(&mut self, app: &mut BoundExporter) -> Result<(), BoxError> {
        let mut random = XorShift::seeded();
        app.set_metric_update_handler(move |metrics| {
            let foo_value = random.choose(&["this-foo", "that-foo"]);
            let bar_value = random.choose(&["this-bar", "that-bar"]);
            let value = random.uniform(0.0, 100.0);
            metrics
                .gauge_family("sample_value")?
                .labels(&[foo_value, bar_value])?
                .set(value);
            let baz_value = random.choose(&["this-baz", "that-baz"]);
            let step = random.below(10) as f64;
            metrics
                .counter_family("sample_events")?
                .labels(&[baz_value])?
                .inc_by(step)?;
            Ok(())
        });
        Ok(())
    }
}

/// A small xorshift generator: random enough for sample values, and no `rand` dependency.
struct XorShift(u64);

impl XorShift {
    fn seeded() -> XorShift {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        XorShift(nanos | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn uniform(&mut self, low: f64, high: f64) -> f64 {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        low + unit * (high - low)
    }

    fn choose<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn main() {
    SampleScript.run()
}
