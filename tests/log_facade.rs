//! With the `log` feature, the crate's events and those of its `log_*!` macros go to the
//! program's logger (env_logger, tracing's bridge, journald...), each with the module that
//! logged as its target, and nothing is written to stderr by the crate.

use std::sync::{Mutex, OnceLock};

use prometheus_aioexporter::log::{log_warning, Level};
use prometheus_aioexporter::Exporter;

use crate::support::http::get;

/// What a program's logger received: (level, target, message).
static RECORDS: Mutex<Vec<(log::Level, String, String)>> = Mutex::new(Vec::new());

struct Recorder;

impl log::Log for Recorder {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let entry = (
            record.level(),
            record.target().to_string(),
            record.args().to_string(),
        );
        RECORDS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(entry);
    }

    fn flush(&self) {}
}

/// Installs the recorder once for the test binary, as a program installs its logger in `main`.
fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        log::set_logger(&Recorder).expect("no other logger in this test binary");
        log::set_max_level(log::LevelFilter::Trace);
    });
}

/// The records whose message contains `text`.
fn records_with(text: &str) -> Vec<(log::Level, String, String)> {
    let records = RECORDS.lock().unwrap_or_else(|e| e.into_inner());
    records
        .iter()
        .filter(|r| r.2.contains(text))
        .cloned()
        .collect()
}

#[test]
fn events_go_to_the_program_s_logger_with_their_module_as_target() {
    install();
    // The crate's macros, called from here: this module is the target.
    log_warning!("disk {} is {}% full", "sda", 93);
    let mine = records_with("disk sda is 93% full");
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0].0, log::Level::Warn);
    assert_eq!(mine[0].1, module_path!());
    // The function: the crate is the target, and critical is the facade's error.
    prometheus_aioexporter::log::log(Level::Critical, format_args!("cannot go on"));
    let critical = records_with("cannot go on");
    assert_eq!(critical[0].0, log::Level::Error);
    assert_eq!(critical[0].1, "prometheus_aioexporter");

    // The crate's own line, from the server thread: a failed update handler.
    let mut exporter = Exporter::new("facade", "");
    exporter.set_hosts(["127.0.0.1"]).set_port(0);
    exporter.set_metric_update_handler(|_| Err("the backend is down (facade test)".into()));
    let running = exporter.spawn().expect("spawn");
    assert_eq!(get(running.local_addrs()[0], "/metrics").status, 500);
    running.shutdown().expect("shutdown");
    let failed = records_with("the backend is down (facade test)");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, log::Level::Error);
    assert_eq!(failed[0].1, "prometheus_aioexporter::exporter::app");
}
