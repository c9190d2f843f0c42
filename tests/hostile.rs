//! Hostile clients in numbers, and running out of descriptors: a normal scrape on another
//! connection is still answered promptly, and the server neither dies nor spins.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use prometheus_aioexporter::MetricConfig;

use crate::support::http;
use crate::support::sample::{self, Proc, TEST_ARGS};
use crate::support::test_server::TestServer;

/// An in-process exporter with one gauge, shut down on drop.
#[track_caller]
fn start_server() -> TestServer {
    TestServer::start_named("hostile", "Under attack.", |exporter| {
        exporter
            .registry_mut()
            .create_metrics([MetricConfig::new("up", "Up.", "gauge")])
            .unwrap();
    })
}

/// A scrape on a fresh connection, answered 200; returns how long it took and the response.
#[track_caller]
fn timed_scrape(addr: SocketAddr) -> (Duration, String) {
    let started = Instant::now();
    let response = http::get_raw(addr, "/metrics");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response:?}");
    (started.elapsed(), response)
}

/// A scrape of the in-process exporter on a fresh connection; returns how long it took.
#[track_caller]
fn scrape(addr: SocketAddr) -> Duration {
    let (took, response) = timed_scrape(addr);
    assert!(response.ends_with("up 0\n"), "{response:?}");
    took
}

/// How many more descriptors this process may open.
fn descriptor_headroom() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft: usize = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let open = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
    soft.saturating_sub(open)
}

#[test]
fn a_thousand_idle_connections_do_not_keep_a_scrape_out() {
    let server = start_server();
    // Client ends here and up to 512 server ends: stay inside the descriptor limit.
    let count = 1000
        .min(descriptor_headroom().saturating_sub(600) / 2)
        .max(100);
    let idle: Vec<TcpStream> = (0..count)
        .map(|_| TcpStream::connect(server.addr).expect("connect an idle client"))
        .collect();
    let took = scrape(server.addr);
    assert!(took < Duration::from_secs(5), "scrape took {took:?}");
    drop(idle);
    scrape(server.addr);
}

#[test]
fn slowloris_clients_do_not_keep_a_scrape_out() {
    let server = start_server();
    let count = 300.min(descriptor_headroom().saturating_sub(100) / 2);
    let mut slow: Vec<TcpStream> = (0..count)
        .map(|_| {
            let mut s = TcpStream::connect(server.addr).expect("connect a slow client");
            s.write_all(b"GET /metrics HTTP/1.1\r\n").unwrap();
            s
        })
        .collect();
    // A header line from each, every 300 ms, while scrapes go on beside them.
    for round in 0..5 {
        for s in &mut slow {
            // A client the server closed (evicted) fails here; that is allowed.
            let _ = writeln!(s, "X-Slow-{round}: {}\r", "x".repeat(20));
        }
        let took = scrape(server.addr);
        assert!(took < Duration::from_secs(5), "scrape took {took:?}");
        std::thread::sleep(Duration::from_millis(300)); // pacing the slow clients, not syncing
    }
}

/// The sample binary, started under a descriptor limit, and its address once it is ready.
fn start_sample_with_nofile(limit: u32) -> Option<(Proc, SocketAddr)> {
    if Command::new("prlimit").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").map_or(true, |v| v.is_empty()),
            "prlimit not found: install Debian's util-linux"
        );
        eprintln!("prlimit not found: skipped");
        return None;
    }
    let mut command = Command::new("prlimit");
    command
        .arg(format!("--nofile={limit}:{limit}"))
        .arg(sample::example("sample"))
        .args(TEST_ARGS)
        .env_clear();
    // Killed and waited for on drop, whatever happens below.
    let mut sample = Proc::from_command(command, "prlimit sample");
    let port = sample.ready();
    Some((sample, SocketAddr::from(([127, 0, 0, 1], port))))
}

/// CPU seconds (user + system) the process has used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

#[test]
fn running_out_of_descriptors_neither_kills_nor_spins_the_server() {
    let Some((sample, addr)) = start_sample_with_nofile(24) else {
        return;
    };
    // Far more connections than descriptors: accept fails with EMFILE.
    let clients: Vec<TcpStream> = (0..60)
        .filter_map(|_| TcpStream::connect(addr).ok())
        .collect();
    assert!(clients.len() > 24, "{} connected", clients.len());
    // prlimit execs the sample, so the child is the sample itself.
    let pid = sample.pid();
    let before = cpu_seconds(pid);
    let window = Instant::now();
    // A scrape still gets through: idle connections make room for it.
    let (took, _) = timed_scrape(addr);
    assert!(took < Duration::from_secs(5), "scrape took {took:?}");
    while window.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(100)); // measuring a window, not syncing
    }
    let used = cpu_seconds(pid) - before;
    assert!(
        used < 0.5,
        "the server used {used} s of CPU in one second: spinning"
    );
    drop(clients);
    timed_scrape(addr);
    assert!(
        sample_alive(&sample),
        "the server must survive descriptor exhaustion"
    );
}

fn sample_alive(sample: &Proc) -> bool {
    std::fs::metadata(format!("/proc/{}", sample.pid())).is_ok()
}
