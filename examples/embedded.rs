//! The exporter inside another program: it serves on a background thread while the program's
//! own work goes on in `main`, updating metrics as it goes.
//!
//! ```text
//! cargo run --example embedded -- 127.0.0.1:9100 10   # serve for 10 seconds
//! curl 127.0.0.1:9100/metrics
//! ```

use std::time::{Duration, Instant};

use prometheus_aioexporter::{Exporter, MetricConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let address: std::net::SocketAddr =
        args.next().as_deref().unwrap_or("127.0.0.1:9100").parse()?;
    let seconds: u64 = args.next().as_deref().unwrap_or("10").parse()?;

    let mut exporter = Exporter::new("embedded-example", "A program with an exporter inside.");
    exporter
        .set_hosts([address.ip().to_string()])
        .set_port(address.port());
    let metrics = exporter.registry_mut().create_metrics([
        MetricConfig::new("work_items", "Items of work done.", "counter"),
        MetricConfig::new("work_duration_seconds", "Time per item.", "histogram")
            .buckets([0.001, 0.01, 0.1]),
    ])?;
    let items = metrics.counter("work_items")?;
    let durations = metrics.histogram("work_duration_seconds")?;

    let running = exporter.spawn()?;
    eprintln!("metrics on http://{}/metrics", running.local_addrs()[0]);

    // The program's own work, on its own thread, updating the metrics as it goes.
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        let started = Instant::now();
        std::thread::sleep(Duration::from_millis(50)); // the work
        items.inc();
        durations.observe(started.elapsed().as_secs_f64());
    }

    running.shutdown()?;
    Ok(())
}
