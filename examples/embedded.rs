//! The exporter inside another program: it serves on a background thread while the program's
//! own work goes on in `main`, updating metrics as it goes.
//!
//! ```text
//! cargo run --example embedded -- 127.0.0.1:9100 10   # serve for 10 seconds
//! curl 127.0.0.1:9100/metrics
//! ```

use std::time::{Duration, Instant};

use prometheus_aioexporter::{CounterFamily, Exporter, Histogram};

/// The program's metrics, declared once and kept: a misspelt name or a wrong number of label
/// values does not compile.
struct Metrics {
    items: CounterFamily<1>,
    durations: Histogram,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let address: std::net::SocketAddr =
        args.next().as_deref().unwrap_or("127.0.0.1:9100").parse()?;
    let seconds: u64 = args.next().as_deref().unwrap_or("10").parse()?;

    let mut exporter = Exporter::new("embedded-example", "A program with an exporter inside.");
    exporter
        .set_hosts([address.ip().to_string()])
        .set_port(address.port());
    let registry = exporter.registry_mut();
    let metrics = Metrics {
        items: registry.counter_family("work_items", "Items of work done.", ["outcome"])?,
        durations: registry.histogram(
            "work_duration_seconds",
            "Time per item.",
            [0.001, 0.01, 0.1],
        )?,
    };
    // A series updated on every item: its handle, looked up once.
    let done = metrics.items.labels(&["done"]);

    let running = exporter.spawn()?;
    eprintln!("metrics on http://{}/metrics", running.local_addrs()[0]);

    // The program's own work, on its own thread, updating the metrics as it goes.
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        let started = Instant::now();
        std::thread::sleep(Duration::from_millis(50)); // the work
        let took = started.elapsed().as_secs_f64();
        if took < 0.1 {
            done.inc();
        } else {
            metrics.items.labels(&["slow"]).inc();
        }
        metrics.durations.observe(took);
    }

    running.shutdown()?;
    Ok(())
}
