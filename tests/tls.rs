//! HTTPS with the `tls` feature, against real clients: `curl` and `openssl s_client` on the
//! sample binary and on in-process exporters.
//!
//! Every key and certificate is made by the test with `openssl req` (a CA, a server certificate
//! for `localhost` and `127.0.0.1` signed by it, a client certificate, and a second CA that
//! signed nothing we trust), in a temporary directory removed on drop; no private key is in the
//! repository. Without `curl` or `openssl` on `PATH` a test prints a note and passes, unless the
//! environment variable `CI` is non-empty, in which case it fails.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use prometheus_aioexporter::{Exporter, Limits, MetricConfig, RunningExporter, TlsConfig};

use crate::support::prometheus::Prometheus;
use crate::support::sample::{assert_startup_fails, parse_port, Proc, SHUTDOWN_BOUND};
use crate::support::tools::{debian_tool, prometheus_tool};

/// The readiness line of an exporter serving HTTPS on 127.0.0.1.
const READY_TLS: &str = " INFO listening on https://127.0.0.1:";

/// The test's keys and certificates, in a directory removed on drop.
struct Pki {
    dir: PathBuf,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[track_caller]
fn openssl(args: &[&str], dir: &Path) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("cannot run openssl");
    assert!(
        output.status.success(),
        "openssl {}: {}\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `openssl req` arguments for a new P-256 key `name.key` and its certificate `name.pem`.
fn req<'a>(name: &str, subject: &'a str, extra: &[&'a str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "2",
        "-subj",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(subject.to_string());
    args.extend(["-keyout".to_string(), format!("{name}.key")]);
    args.extend(["-out".to_string(), format!("{name}.pem")]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

impl Pki {
    /// Makes `ca`, `server` (signed by `ca`, for localhost and 127.0.0.1), `client` (signed by
    /// `ca`), `rogue-ca`, and `rogue-client` and `rogue-server` (signed by `rogue-ca`). `None`
    /// without openssl.
    fn new(test: &str) -> Option<Pki> {
        debian_tool("openssl", "openssl", test)?;
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "aioexporter-tls-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("cannot create the PKI directory");
        let pki = Pki { dir };
        let ca = [
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ];
        for name in ["ca", "rogue-ca"] {
            let args = req(name, &format!("/CN={name}"), &ca);
            openssl(
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
                &pki.dir,
            );
        }
        let leaf = |name: &str, issuer: &str, usage: &str, san: Option<&str>| {
            let (ca_pem, ca_key) = (format!("{issuer}.pem"), format!("{issuer}.key"));
            let usage = format!("extendedKeyUsage={usage}");
            let mut extra = vec![
                "-CA",
                &ca_pem,
                "-CAkey",
                &ca_key,
                "-addext",
                "basicConstraints=critical,CA:FALSE",
                "-addext",
                &usage,
            ];
            if let Some(san) = san {
                extra.extend(["-addext", san]);
            }
            let args = req(name, &format!("/CN={name}"), &extra);
            openssl(
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
                &pki.dir,
            );
        };
        let san = "subjectAltName=DNS:localhost,IP:127.0.0.1";
        leaf("server", "ca", "serverAuth", Some(san));
        leaf("client", "ca", "clientAuth", None);
        leaf("rogue-client", "rogue-ca", "clientAuth", None);
        leaf("rogue-server", "rogue-ca", "serverAuth", Some(san));
        Some(pki)
    }

    fn path(&self, file: &str) -> String {
        self.dir.join(file).to_string_lossy().into_owned()
    }

    /// The server's configuration; for mutual TLS with `client_ca`.
    fn config(&self, client_ca: Option<&str>) -> TlsConfig {
        let ca = client_ca.map(|f| self.dir.join(f));
        TlsConfig::from_pem_files(
            self.dir.join("server.key"),
            self.dir.join("server.pem"),
            ca.as_deref(),
        )
        .expect("the test's certificates serve")
    }
}

/// An in-process exporter serving HTTPS on 127.0.0.1 with one counter.
fn exporter(tls: TlsConfig, limits: Limits) -> RunningExporter {
    let mut exporter = Exporter::new("tls-test", "An exporter over TLS.");
    exporter
        .set_hosts(["127.0.0.1"])
        .set_port(0)
        .set_limits(limits)
        .set_tls(Some(tls));
    exporter
        .registry_mut()
        .create_metrics([MetricConfig::new("tls_test_items", "Items.", "counter")])
        .expect("the metric registers");
    exporter.spawn().expect("the exporter starts")
}

/// What `curl -sS <args> https://127.0.0.1:PORT/metrics` did.
fn curl(port: u16, args: &[&str]) -> Output {
    Command::new("curl")
        .args(["-sS", "--max-time", "10", "-v"])
        .args(args)
        .arg(format!("https://127.0.0.1:{port}/metrics"))
        .output()
        .expect("cannot run curl")
}

#[track_caller]
fn assert_scraped(output: &Output, metric: &str, protocol: &str) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains(metric),
        "curl: {}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stderr.contains(&format!("SSL connection using {protocol}")),
        "not {protocol}:\n{stderr}"
    );
}

#[track_caller]
fn assert_refused(output: &Output, why: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "curl succeeded where {why}:\n{stderr}"
    );
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("# TYPE"),
        "metrics were sent where {why}"
    );
}

/// The sample binary serving HTTPS with the test's server pair (and more `args`), and its
/// port.
fn sample(pki: &Pki, args: &[&str], env: &[(&str, &str)]) -> (Proc, u16) {
    let (key, cert) = (pki.path("server.key"), pki.path("server.pem"));
    let mut all = vec!["-p", "0", "-H", "127.0.0.1", "-L", "info"];
    all.extend(["--ssl-private-key", &key, "--ssl-public-key", &cert]);
    all.extend(args);
    let mut proc = Proc::spawn("sample", &all, env);
    let line = proc.wait_for_stderr("HTTPS readiness line", |l| l.contains(READY_TLS));
    let port = parse_port(&line, READY_TLS).expect("a port in the readiness line");
    (proc, port)
}

#[test]
fn curl_scrapes_the_sample_over_tls_1_2_and_1_3() {
    let Some(pki) = Pki::new("the HTTPS scrape") else {
        return;
    };
    if debian_tool("curl", "curl", "the HTTPS scrape").is_none() {
        return;
    }
    let (mut proc, port) = sample(&pki, &[], &[]);
    let ca = pki.path("ca.pem");
    let tls13 = curl(port, &["--cacert", &ca, "--tlsv1.3"]);
    assert_scraped(&tls13, "sample_value", "TLSv1.3");
    let tls12 = curl(port, &["--cacert", &ca, "--tlsv1.2", "--tls-max", "1.2"]);
    assert_scraped(&tls12, "sample_value", "TLSv1.2");
    // A client that does not trust the certificate's issuer refuses it.
    let untrusted = curl(port, &["--cacert", &pki.path("rogue-ca.pem")]);
    assert_refused(&untrusted, "the server's certificate is not trusted");
    // And the server goes on serving.
    assert_scraped(&curl(port, &["--cacert", &ca]), "sample_value", "TLSv1.3");
    proc.signal("TERM");
    assert!(proc.finish(SHUTDOWN_BOUND).success(), "{}", proc.describe());
}

#[test]
fn the_environment_gives_the_files_too() {
    let Some(pki) = Pki::new("the environment variables") else {
        return;
    };
    let (key, cert) = (pki.path("server.key"), pki.path("server.pem"));
    let env = [
        ("SAMPLE_SSL_PRIVATE_KEY", key.as_str()),
        ("SAMPLE_SSL_PUBLIC_KEY", cert.as_str()),
    ];
    let mut proc = Proc::spawn(
        "sample",
        &["-p", "0", "-H", "127.0.0.1", "-L", "info"],
        &env,
    );
    proc.wait_for_stderr("HTTPS readiness line", |l| l.contains(READY_TLS));
}

#[test]
fn tls_1_1_is_refused() {
    let Some(pki) = Pki::new("the TLS 1.1 refusal") else {
        return;
    };
    let running = exporter(pki.config(None), Limits::default());
    let addr = running.local_addrs()[0].to_string();
    let s_client = |version: &str| {
        // SECLEVEL=0 lets OpenSSL itself offer TLS 1.1, so the refusal is the server's.
        Command::new("openssl")
            .args(["s_client", "-connect", &addr, version])
            .args(["-cipher", "DEFAULT:@SECLEVEL=0"])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("cannot run openssl s_client")
    };
    let old = s_client("-tls1_1");
    let text = String::from_utf8_lossy(&old.stdout) + String::from_utf8_lossy(&old.stderr);
    assert!(!old.status.success(), "TLS 1.1 was accepted:\n{text}");
    assert!(text.contains("Cipher is (NONE)"), "{text}");
    assert!(text.contains("alert"), "no alert from the server:\n{text}");
    let current = s_client("-tls1_2");
    let text = String::from_utf8_lossy(&current.stdout);
    assert!(current.status.success(), "TLS 1.2 refused:\n{text}");
    assert!(text.contains("Protocol  : TLSv1.2"), "{text}");
    running.shutdown().expect("a clean shutdown");
}

#[test]
fn mutual_tls_requires_a_client_certificate_signed_by_the_ca() {
    let Some(pki) = Pki::new("the mutual TLS test") else {
        return;
    };
    if debian_tool("curl", "curl", "the mutual TLS test").is_none() {
        return;
    }
    let (mut proc, port) = sample(&pki, &["--ssl-ca", &pki.path("ca.pem")], &[]);
    let ca = pki.path("ca.pem");
    let (cert, key) = (pki.path("client.pem"), pki.path("client.key"));
    let with_cert = curl(port, &["--cacert", &ca, "--cert", &cert, "--key", &key]);
    assert_scraped(&with_cert, "sample_value", "TLSv1.3");
    let with_cert_12 = curl(
        port,
        &[
            "--cacert",
            &ca,
            "--cert",
            &cert,
            "--key",
            &key,
            "--tls-max",
            "1.2",
        ],
    );
    assert_scraped(&with_cert_12, "sample_value", "TLSv1.2");
    assert_refused(
        &curl(port, &["--cacert", &ca]),
        "no client certificate was given",
    );
    let (rogue, rogue_key) = (pki.path("rogue-client.pem"), pki.path("rogue-client.key"));
    assert_refused(
        &curl(
            port,
            &["--cacert", &ca, "--cert", &rogue, "--key", &rogue_key],
        ),
        "the client certificate is signed by another CA",
    );
    proc.signal("TERM");
    assert!(proc.finish(SHUTDOWN_BOUND).success(), "{}", proc.describe());
}

/// Reads until the end of the stream, at most `bound`; what was read and whether the end came.
fn read_to_close(stream: &mut TcpStream, bound: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + bound;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (got, false);
        }
        stream.set_read_timeout(Some(left)).expect("a read timeout");
        match stream.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => return (got, true),
            Err(_) => return (got, false),
        }
    }
}

#[test]
fn plain_http_to_the_tls_port_gets_a_400_and_a_close() {
    let Some(pki) = Pki::new("the plain HTTP test") else {
        return;
    };
    let running = exporter(pki.config(None), Limits::default());
    let addr = running.local_addrs()[0];
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .expect("send");
    let (answer, closed) = read_to_close(&mut stream, Duration::from_secs(5));
    let answer = String::from_utf8_lossy(&answer);
    assert!(closed, "not closed: {answer}");
    assert!(
        answer.starts_with("HTTP/1.0 400 Bad Request\r\n")
            && answer.ends_with("Client sent an HTTP request to an HTTPS server.\n"),
        "{answer:?}"
    );
    running.shutdown().expect("a clean shutdown");
}

#[test]
fn a_stalled_handshake_is_timed_out_like_a_slow_request_head() {
    let Some(pki) = Pki::new("the stalled handshake test") else {
        return;
    };
    let mut limits = Limits::default();
    limits.request_head_timeout = Duration::from_millis(300);
    limits.idle_timeout = Duration::from_secs(60);
    let running = exporter(pki.config(None), limits);
    let addr: SocketAddr = running.local_addrs()[0];
    // Silent from the start; the first bytes of a record; garbage instead of a ClientHello.
    let cases: [(&str, &[u8]); 3] = [
        ("nothing", b""),
        ("half a record header", b"\x16\x03\x01"),
        ("garbage", b"\x16\x03\x01\x00\x05hello"),
    ];
    for (what, bytes) in cases {
        let started = Instant::now();
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.write_all(bytes).expect("send");
        let (_, closed) = read_to_close(&mut stream, Duration::from_secs(5));
        let took = started.elapsed();
        assert!(closed, "{what}: not closed within 5 s");
        if what != "garbage" {
            // Closed by the timeout, not before it (nor at the 60 s idle timeout).
            assert!(
                took >= Duration::from_millis(250),
                "{what}: closed after {took:?}"
            );
        }
        assert!(
            took < Duration::from_secs(3),
            "{what}: closed after {took:?}"
        );
    }
    // A client stalled mid-handshake does not hold up another's scrape.
    let mut stalled = TcpStream::connect(addr).expect("connect");
    stalled.write_all(b"\x16\x03\x01").expect("send");
    if debian_tool("curl", "curl", "the scrape beside a stalled handshake").is_some() {
        let port = addr.port();
        let ca = pki.path("ca.pem");
        assert_scraped(&curl(port, &["--cacert", &ca]), "tls_test_items", "TLSv1.3");
    }
    running.shutdown().expect("a clean shutdown");
}

/// A real client's ClientHello record: what `curl` sends first, caught by a listener that
/// answers nothing. `None` without curl.
fn client_hello() -> Option<Vec<u8>> {
    debian_tool("curl", "curl", "the handshake flood")?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let mut curl = Command::new("curl")
        .args(["-sk", "--max-time", "10"])
        .arg(format!("https://127.0.0.1:{port}/"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("cannot run curl");
    let (mut stream, _) = listener.accept().expect("curl connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    let mut record = vec![0u8; 5];
    stream.read_exact(&mut record).expect("a record header");
    assert_eq!(record[0], 0x16, "not a handshake record: {record:?}");
    let len = usize::from(u16::from_be_bytes([record[3], record[4]]));
    record.resize(5 + len, 0);
    stream
        .read_exact(&mut record[5..])
        .expect("the ClientHello");
    drop(stream);
    let _ = curl.wait();
    Some(record)
}

/// A connection that sent a ClientHello and stalls, once the server has answered it (so it
/// holds one of the server's connections).
#[track_caller]
fn stalled_after_hello(addr: SocketAddr, hello: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.write_all(hello).expect("send the ClientHello");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("a read timeout");
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).expect("the server's answer");
    // A handshake record: the ServerHello.
    assert_eq!(first[0], 0x16, "no ServerHello");
    stream
}

/// Bytes that are not a ClientHello, each of which the server can tell at once.
const NOT_A_CLIENT_HELLO: [(&str, &[u8]); 6] = [
    (
        "a handshake record that is no ClientHello",
        b"\x16\x03\x01\x00\x05hello",
    ),
    ("application data first", b"\x17\x03\x03\x00\x05hello"),
    ("a record longer than TLS allows", b"\x16\x03\x01\xff\xff"),
    (
        "an SSLv2 hello",
        b"\x80\x2e\x01\x03\x01\x00\x15\x00\x00\x00\x10",
    ),
    ("binary noise", b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"),
    ("lowercase text", b"get / http/1.1\r\n\r\n"),
];

/// What a client sent garbage got: a close, with nothing or an alert before it.
#[track_caller]
fn assert_closed_with_an_alert(stream: &mut TcpStream, what: &str) {
    // A bound against a hang only: the server closes at once.
    let (got, closed) = read_to_close(stream, Duration::from_secs(20));
    assert!(closed, "{what}: not closed, got {got:?}");
    assert!(
        got.is_empty() || got[0] == 0x15,
        "{what}: not an alert: {got:?}"
    );
}

#[test]
fn garbage_instead_of_a_client_hello_gets_a_close() {
    let Some(pki) = Pki::new("the garbage handshake test") else {
        return;
    };
    let mut limits = Limits::default();
    // Were the server to wait for more, the test would see the hang, not a timeout.
    limits.request_head_timeout = Duration::from_secs(600);
    let running = exporter(pki.config(None), limits);
    let addr = running.local_addrs()[0];
    for (what, bytes) in NOT_A_CLIENT_HELLO {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.write_all(bytes).expect("send");
        assert_closed_with_an_alert(&mut stream, what);
    }
    running.shutdown().expect("a clean shutdown");
}

#[test]
fn a_late_client_hello_does_not_extend_the_handshake_timeout() {
    let Some(pki) = Pki::new("the late ClientHello test") else {
        return;
    };
    let Some(hello) = client_hello() else {
        return;
    };
    let mut limits = Limits::default();
    limits.request_head_timeout = Duration::from_secs(2);
    limits.idle_timeout = Duration::from_secs(60);
    let running = exporter(pki.config(None), limits);
    let started = Instant::now();
    let mut stream = TcpStream::connect(running.local_addrs()[0]).expect("connect");
    // The client is slow to say hello, then stalls after the server's answer. The server's
    // handshake records do not restart the timeout: it counts from connecting, as a request
    // head's from its first byte (before, it restarted, and this closed after 3.5 s).
    std::thread::sleep(Duration::from_millis(1500));
    // Closed already (a machine so loaded the sleep overran) is closed all the same.
    let _ = stream.write_all(&hello);
    let (_, closed) = read_to_close(&mut stream, Duration::from_secs(10));
    let took = started.elapsed();
    assert!(closed, "not closed within 10 s");
    assert!(took < Duration::from_millis(3200), "closed after {took:?}");
    running.shutdown().expect("a clean shutdown");
}

#[test]
fn a_stalled_handshake_counts_as_a_connection() {
    let Some(pki) = Pki::new("the connection count of handshakes") else {
        return;
    };
    let Some(hello) = client_hello() else {
        return;
    };
    let mut limits = Limits::default();
    limits.max_connections = 4;
    limits.request_head_timeout = Duration::from_secs(600);
    let running = exporter(pki.config(None), limits);
    let addr = running.local_addrs()[0];
    let mut stalled: Vec<TcpStream> = (0..4).map(|_| stalled_after_hello(addr, &hello)).collect();
    // A fifth is answered only once a slot is free: the least recently active handshake is
    // closed for it, and no other.
    stalled.push(stalled_after_hello(addr, &hello));
    let (_, closed) = read_to_close(&mut stalled[0], Duration::from_secs(20));
    assert!(closed, "the oldest stalled handshake is still open");
    for (i, stream) in stalled.iter_mut().enumerate().skip(1) {
        stream.set_nonblocking(true).expect("non-blocking");
        let mut rest = [0u8; 4096];
        // Its ServerHello flight, or nothing yet; not the end of the stream.
        let open = loop {
            match stream.read(&mut rest) {
                Ok(0) => break false,
                Ok(_) => continue,
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => break true,
                Err(_) => break false,
            }
        };
        assert!(open, "stalled handshake {i} was closed too");
    }
    running.shutdown().expect("a clean shutdown");
}

#[test]
fn a_handshake_flood_past_the_connection_limit_does_not_stop_a_scrape() {
    let Some(pki) = Pki::new("the handshake flood") else {
        return;
    };
    let Some(hello) = client_hello() else {
        return;
    };
    const LIMIT: usize = 16;
    let mut limits = Limits::default();
    limits.max_connections = LIMIT;
    // Only eviction makes room: the flood holds its connections for the whole test.
    limits.request_head_timeout = Duration::from_secs(600);
    limits.idle_timeout = Duration::from_secs(600);
    let running = exporter(pki.config(None), limits);
    let addr = running.local_addrs()[0];
    // Every connection is taken by a stalled handshake ...
    let holding: Vec<TcpStream> = (0..LIMIT)
        .map(|_| stalled_after_hello(addr, &hello))
        .collect();
    // ... and as many again wait in the listen queue with a ClientHello, and more with garbage.
    let mut queued = Vec::new();
    for _ in 0..LIMIT {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.write_all(&hello).expect("send");
        queued.push(stream);
    }
    let mut garbage = Vec::new();
    for i in 0..LIMIT {
        let (what, bytes) = NOT_A_CLIENT_HELLO[i % NOT_A_CLIENT_HELLO.len()];
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.write_all(bytes).expect("send");
        garbage.push((what, stream));
    }
    let ca = pki.path("ca.pem");
    for protocol in ["1.3", "1.2"] {
        let scraped = curl(addr.port(), &["--cacert", &ca, "--tls-max", protocol]);
        assert_scraped(&scraped, "tls_test_items", &format!("TLSv{protocol}"));
    }
    for (what, stream) in &mut garbage {
        assert_closed_with_an_alert(stream, what);
    }
    drop((holding, queued));
    running.shutdown().expect("a clean shutdown");
}

#[test]
fn unusable_key_or_certificate_files_stop_startup_naming_the_file() {
    let Some(pki) = Pki::new("the startup error tests") else {
        return;
    };
    let (key, cert) = (pki.path("server.key"), pki.path("server.pem"));
    let other_key = pki.path("client.key");
    let missing = pki.path("missing.pem");
    let garbage = pki.path("garbage.pem");
    std::fs::write(&garbage, "not a PEM file\n").expect("write");
    let flags = |k: &str, c: &str| {
        vec![
            "--ssl-private-key".to_string(),
            k.to_string(),
            "--ssl-public-key".to_string(),
            c.to_string(),
        ]
    };
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            flags(&missing, &cert),
            format!("{missing}: cannot read it:"),
        ),
        (flags(&key, &missing), format!("{missing}: cannot read it:")),
        (
            flags(&garbage, &cert),
            format!("{garbage}: no usable private key in it"),
        ),
        (
            flags(&key, &garbage),
            format!("{garbage}: no certificate in it"),
        ),
        (
            flags(&other_key, &cert),
            format!("{other_key}: its key does not match the certificate in {cert}"),
        ),
        (
            [flags(&key, &cert), vec!["--ssl-ca".into(), missing.clone()]].concat(),
            format!("{missing}: cannot read it:"),
        ),
    ];
    for (args, message) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_startup_fails(&args, 1, &message);
    }
    // One without the other is a usage error, not plain HTTP.
    assert_startup_fails(
        &["--ssl-private-key", &key],
        2,
        "--ssl-public-key (the certificate chain) is needed too",
    );
    assert_startup_fails(
        &["--ssl-public-key", &cert],
        2,
        "--ssl-private-key (the key) is needed too",
    );
    assert_startup_fails(
        &["--ssl-ca", &cert],
        2,
        "mutual TLS needs --ssl-private-key and --ssl-public-key too",
    );
}

#[test]
fn prometheus_scrapes_over_tls_and_mutual_tls() {
    let Some(binary) = prometheus_tool("prometheus", "the Prometheus scrape over TLS") else {
        return;
    };
    let Some(pki) = Pki::new("the Prometheus scrape over TLS") else {
        return;
    };
    let (_tls, tls_port) = sample(&pki, &[], &[]);
    let (_mtls, mtls_port) = sample(&pki, &["--ssl-ca", &pki.path("ca.pem")], &[]);
    let ca = pki.path("ca.pem");
    let (cert, key) = (pki.path("client.pem"), pki.path("client.key"));
    let job = |name: &str, port: u16, tls: &str| {
        format!(
            "  - job_name: {name}\n    scheme: https\n    tls_config:\n      ca_file: {ca}\n{tls}    \
             static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        )
    };
    let client = format!("      cert_file: {cert}\n      key_file: {key}\n");
    let jobs = [
        job("tls", tls_port, ""),
        job("mtls", mtls_port, &client),
        // Without a client certificate, the mutual TLS exporter is down.
        job("mtls_no_cert", mtls_port, ""),
    ]
    .concat();
    let prometheus = Prometheus::start(&binary, &pki.dir, &jobs);
    prometheus.wait_for(&[
        ("up{job=\"tls\"}", "1"),
        ("up{job=\"mtls\"}", "1"),
        ("up{job=\"mtls_no_cert\"}", "0"),
        ("count(sample_value{job=\"tls\"}) >= bool 1", "1"),
        ("count(sample_value{job=\"mtls\"}) >= bool 1", "1"),
    ]);
}

#[test]
fn a_renewed_pair_serves_new_connections_and_a_broken_one_keeps_the_old() {
    let Some(pki) = Pki::new("the renewal test") else {
        return;
    };
    if debian_tool("curl", "curl", "the renewal test").is_none() {
        return;
    }
    let copy = |from: &str, to: &str| {
        std::fs::copy(pki.dir.join(from), pki.dir.join(to)).expect("copy");
    };
    copy("server.key", "live.key");
    copy("server.pem", "live.pem");
    let mut config =
        TlsConfig::from_pem_files(pki.dir.join("live.key"), pki.dir.join("live.pem"), None)
            .expect("the test's certificates serve");
    config.set_reload_interval(Some(Duration::from_millis(100)));
    let running = exporter(config, Limits::default());
    let port = running.local_addrs()[0].port();
    let (ca, rogue_ca) = (pki.path("ca.pem"), pki.path("rogue-ca.pem"));
    assert_scraped(&curl(port, &["--cacert", &ca]), "tls_test_items", "TLSv1.3");
    let after_a_check = || std::thread::sleep(Duration::from_millis(250));

    // Broken renewals: a key that is not PEM, then a new key beside the old certificate. The
    // old pair goes on serving.
    std::fs::write(pki.dir.join("live.key"), "half a key").expect("write");
    after_a_check();
    assert_scraped(&curl(port, &["--cacert", &ca]), "tls_test_items", "TLSv1.3");
    copy("rogue-server.key", "live.key");
    after_a_check();
    assert_scraped(&curl(port, &["--cacert", &ca]), "tls_test_items", "TLSv1.3");

    // The certificate follows: the renewed pair serves new connections, within the interval.
    copy("rogue-server.pem", "live.pem");
    after_a_check();
    assert_scraped(
        &curl(port, &["--cacert", &rogue_ca]),
        "tls_test_items",
        "TLSv1.3",
    );
    assert_refused(
        &curl(port, &["--cacert", &ca]),
        "the certificate was renewed by another CA",
    );
    running.shutdown().expect("a clean shutdown");
}

#[test]
fn healthcheck_speaks_tls_with_the_exporters_options() {
    let Some(pki) = Pki::new("the healthcheck over TLS") else {
        return;
    };
    let (_proc, port) = sample(&pki, &[], &[]);
    let port = port.to_string();
    let (key, cert) = (pki.path("server.key"), pki.path("server.pem"));
    let check = |tls: &[&str]| {
        let mut args = vec!["-p", &port, "-H", "127.0.0.1", "--healthcheck"];
        args.extend(tls);
        let mut proc = Proc::spawn("sample", &args, &[]);
        let status = proc.finish(Duration::from_secs(20));
        (status.code(), proc.stderr())
    };
    let (code, stderr) = check(&["--ssl-private-key", &key, "--ssl-public-key", &cert]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("healthy: https://127.0.0.1:"), "{stderr}");
    // Without the options it asks in plain HTTP, and gets the 400 of a TLS port.
    let (code, stderr) = check(&[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("HTTP/1.0 400 Bad Request"), "{stderr}");
    // A certificate other than the one served is not the exporter's.
    let (other_key, other_cert) = (pki.path("rogue-server.key"), pki.path("rogue-server.pem"));
    let (code, stderr) = check(&[
        "--ssl-private-key",
        &other_key,
        "--ssl-public-key",
        &other_cert,
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("another certificate"), "{stderr}");
}
