//! A batch job exporting its metrics through node_exporter's textfile collector: it does its
//! work, then writes `<dir>/batch_job.prom` atomically. Needs no server, and (with
//! `--no-default-features`) no dependency at all.
//!
//! ```text
//! cargo run --example textfile -- /var/lib/node_exporter/textfile
//! cargo run --no-default-features --example textfile -- /tmp
//! ```

use std::time::Instant;

use prometheus_aioexporter::{MetricConfig, Registry};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".to_string());
    let started = Instant::now();

    let mut registry = Registry::new();
    let metrics = registry.create_metrics([
        MetricConfig::new("batch_job_records", "Records processed.", "counter").labels(["table"]),
        MetricConfig::new(
            "batch_job_duration_seconds",
            "How long the run took.",
            "gauge",
        ),
        MetricConfig::new(
            "batch_job_last_success_seconds",
            "When the job last succeeded.",
            "gauge",
        ),
    ])?;

    // The job's work.
    let records = metrics.counter_family("batch_job_records")?;
    for (table, count) in [("users", 1200.0), ("orders", 5400.0)] {
        records.labels(&[table])?.inc_by(count)?;
    }

    metrics
        .gauge("batch_job_duration_seconds")?
        .set(started.elapsed().as_secs_f64());
    metrics
        .gauge("batch_job_last_success_seconds")?
        .set_to_current_time();
    let path = std::path::Path::new(&dir).join("batch_job.prom");
    registry.write_textfile(&path)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
