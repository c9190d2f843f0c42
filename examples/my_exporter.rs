//! The Python library README's `MyExporter`, in Rust: an extra command line option, metrics
//! created in `configure`, and a background job started and stopped by the startup and shutdown
//! hooks.
//!
//! ```text
//! cargo run --example my_exporter -- --custom-option 5 -p 9200 -L info
//! MYEXP_CUSTOM_OPTION=5 cargo run --example my_exporter
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use prometheus_aioexporter::cli::{ArgParser, Args};
use prometheus_aioexporter::{
    BoundExporter, BoxError, Gauge, MetricConfig, PrometheusExporterScript, Registry,
};

/// My Prometheus exporter.
#[derive(Default)]
struct MyExporter {
    step: f64,
    ticks: Option<Gauge>,
    stop: Arc<AtomicBool>,
    job: Option<JoinHandle<()>>,
}

impl PrometheusExporterScript for MyExporter {
    const NAME: &'static str = "my-exporter";
    const DESCRIPTION: &'static str = "My Prometheus exporter.";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DEFAULT_PORT: u16 = 9091;
    const ENV_PREFIX: Option<&'static str> = Some("MYEXP");

    fn configure_argument_parser(&mut self, parser: &mut ArgParser) {
        parser
            .add_argument("--custom-option")
            .default("1")
            .metavar("STEP")
            .help("a custom option: how much the background job adds per tick");
    }

    fn configure(&mut self, args: &Args, registry: &mut Registry) -> Result<(), BoxError> {
        self.step = args.value_of::<f64>("custom-option")?.unwrap_or(1.0);
        let metrics = registry.create_metrics([
            MetricConfig::new("metric1", "a metric", "gauge"),
            MetricConfig::new("metric2", "another metric", "counter").labels(["l1", "l2"]),
            MetricConfig::new("ticks", "what the background job counted", "gauge"),
        ])?;
        self.ticks = Some(metrics.gauge("ticks")?);
        Ok(())
    }

    fn on_application_startup(&mut self, app: &mut BoundExporter) -> Result<(), BoxError> {
        // A background job updating a metric from its own thread.
        let (ticks, step, stop) = (self.ticks.clone(), self.step, Arc::clone(&self.stop));
        self.job = Some(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some(ticks) = &ticks {
                    ticks.add(step);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }));
        app.set_metric_update_handler(|metrics| {
            metrics.gauge("metric1")?.set(1.0);
            metrics
                .counter_family("metric2")?
                .labels(&["a", "b"])?
                .inc();
            Ok(())
        });
        Ok(())
    }

    fn on_application_shutdown(&mut self, _app: &mut BoundExporter) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(job) = self.job.take() {
            let _ = job.join();
        }
    }
}

fn main() {
    MyExporter::default().run()
}
