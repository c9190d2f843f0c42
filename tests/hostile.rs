//! Hostile clients in numbers, and running out of descriptors: a normal scrape on another
//! connection is still answered promptly, and the server neither dies nor spins.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use prometheus_aioexporter::{Exporter, MetricConfig, ShutdownHandle};

/// An in-process exporter with one gauge, shut down on drop.
struct TestServer {
    addr: SocketAddr,
    handle: ShutdownHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    fn start() -> TestServer {
        let mut exporter = Exporter::new("hostile", "Under attack.");
        exporter.set_hosts(["127.0.0.1"]).set_port(0);
        exporter
            .registry_mut()
            .create_metrics([MetricConfig::new("up", "Up.", "gauge")])
            .unwrap();
        let mut server = exporter.bind().unwrap();
        let addr = server.local_addrs()[0];
        let handle = server.shutdown_handle();
        let thread = std::thread::spawn(move || exporter.serve(&mut server, None).unwrap());
        TestServer {
            addr,
            handle,
            thread: Some(thread),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.handle.shutdown();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A scrape on a fresh connection; returns how long it took.
#[track_caller]
fn scrape(addr: SocketAddr) -> Duration {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("a response");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response:?}");
    assert!(response.ends_with("up 0\n"), "{response:?}");
    started.elapsed()
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
    let server = TestServer::start();
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
    let server = TestServer::start();
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

/// The sample binary, started under a descriptor limit.
struct Sample {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Sample {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sample_path() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug = exe.parent().and_then(|d| d.parent()).unwrap();
    let path = debug.join("examples").join("sample");
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--example", "sample"])
            .status()
            .unwrap();
        assert!(status.success());
    }
    path
}

fn start_sample_with_nofile(limit: u32) -> Option<Sample> {
    if Command::new("prlimit").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").map_or(true, |v| v.is_empty()),
            "prlimit not found: install Debian's util-linux"
        );
        eprintln!("prlimit not found: skipped");
        return None;
    }
    let child = Command::new("prlimit")
        .arg(format!("--nofile={limit}:{limit}"))
        .arg(sample_path())
        .args(["-H", "127.0.0.1", "-p", "0", "-L", "info"])
        .env_clear()
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Killed and waited for on drop, whatever happens below.
    let mut sample = Sample {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
    };
    let stderr = sample.child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if let Some(rest) = line.split("listening on http://").nth(1) {
            sample.addr = rest.trim_end_matches("/metrics").parse().unwrap();
            std::thread::spawn(move || while rx.recv().is_ok() {});
            return Some(sample);
        }
    }
    panic!("the sample did not start");
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

/// The sample's own pid (prlimit execs it, so the child is the sample itself).
fn pid_of(sample: &Sample) -> u32 {
    sample.child.id()
}

#[test]
fn running_out_of_descriptors_neither_kills_nor_spins_the_server() {
    let Some(sample) = start_sample_with_nofile(24) else {
        return;
    };
    // Far more connections than descriptors: accept fails with EMFILE.
    let clients: Vec<TcpStream> = (0..60)
        .filter_map(|_| TcpStream::connect(sample.addr).ok())
        .collect();
    assert!(clients.len() > 24, "{} connected", clients.len());
    let pid = pid_of(&sample);
    let before = cpu_seconds(pid);
    let window = Instant::now();
    // A scrape still gets through: idle connections make room for it.
    let took = scrape_sample(sample.addr);
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
    scrape_sample(sample.addr);
    assert!(
        sample_alive(&sample),
        "the server must survive descriptor exhaustion"
    );
}

fn sample_alive(sample: &Sample) -> bool {
    std::fs::metadata(format!("/proc/{}", pid_of(sample))).is_ok()
}

#[track_caller]
fn scrape_sample(addr: SocketAddr) -> Duration {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("a response");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response:?}");
    started.elapsed()
}
