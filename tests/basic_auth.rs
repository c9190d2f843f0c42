//! Basic auth with the `basic-auth` feature, against real clients: hashes made by Apache's
//! `htpasswd -B` (Debian's apache2-utils), raw requests on real sockets, the sample binary's
//! `--basic-auth-users` and its startup errors, `--healthcheck`, a new scraper let in during a
//! flood of wrong passwords from another address (127.0.0.2: Linux answers on all of
//! 127.0.0.0/8), and a real Prometheus scraping with `basic_auth` (over HTTPS with
//! `tls_config` too when built with `tls`).
//!
//! Without `htpasswd` (or `prometheus`, `openssl`) on `PATH` a test prints a note and passes,
//! unless the environment variable `CI` is non-empty, in which case it fails.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use prometheus_aioexporter::{BasicAuth, Exporter, MetricConfig, RunningExporter};

use crate::support::http::{try_get, Response};
use crate::support::prometheus::Prometheus;
use crate::support::sample::{assert_startup_fails, start, Proc};
use crate::support::tools::{debian_tool, prometheus_tool};

/// The realm of the in-process exporter's 401s: its name.
const CHALLENGE: &str = "Basic realm=\"basic-auth-test\", charset=\"UTF-8\"";

/// A directory for the test's files, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "aioexporter-auth-{test}-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("cannot create the test directory");
        TempDir(dir)
    }

    /// Writes `text` to `name` in the directory; its path.
    fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write a test file");
        path.to_string_lossy().into_owned()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `htpasswd -nb <flags> user password`'s line (without the newline), or `None` without
/// htpasswd.
fn htpasswd(flags: &[&str], user: &str, password: &str) -> Option<String> {
    let binary = debian_tool("htpasswd", "apache2-utils", "the basic auth tests")?;
    let output = Command::new(binary)
        .arg("-nb")
        .args(flags)
        .args([user, password])
        .output()
        .expect("cannot run htpasswd");
    assert!(output.status.success(), "htpasswd: {output:?}");
    let text = String::from_utf8(output.stdout).expect("htpasswd prints ASCII");
    Some(text.trim_end().to_string())
}

/// `alice:wonderland` and `bob:builder` as `htpasswd -B` hashes them ($2y$, cost 4, the cheapest: the tests check many wrong passwords), in a file.
fn users_file(dir: &TempDir) -> Option<String> {
    let alice = htpasswd(&["-B", "-C", "4"], "alice", "wonderland")?;
    let bob = htpasswd(&["-B", "-C", "4"], "bob", "builder")?;
    assert!(alice.starts_with("alice:$2y$04$"), "{alice}");
    Some(dir.write("users", &format!("{alice}\n{bob}\n")))
}

/// RFC 4648 base64 with padding, for `Authorization` headers.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

/// An in-process exporter on 127.0.0.1 asking for the users of `users`, with one counter.
fn exporter(users: &str) -> RunningExporter {
    let mut exporter = Exporter::new("basic-auth-test", "An exporter behind basic auth.");
    exporter
        .set_hosts(["127.0.0.1"])
        .set_port(0)
        .set_basic_auth(Some(
            BasicAuth::from_htpasswd_file(users).expect("htpasswd's file is accepted"),
        ));
    exporter
        .registry_mut()
        .create_metrics([MetricConfig::new("auth_test_items", "Items.", "counter")])
        .expect("the metric registers");
    exporter.spawn().expect("the exporter starts")
}

#[track_caller]
fn get(port: u16, path: &str, authorization: Option<&str>) -> Response {
    let headers: Vec<(&str, &str)> = authorization
        .map(|a| ("Authorization", a))
        .into_iter()
        .collect();
    try_get(port, path, &headers).unwrap_or_else(|err| panic!("{err}"))
}

/// [`get`], asked again while the answer is 503: the server had spent its share of time on
/// failed checks and did not check these credentials (on a loaded machine a few wrong
/// passwords can use it up), which says nothing about them.
#[track_caller]
fn get_checked(port: u16, path: &str, authorization: Option<&str>) -> Response {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = get(port, path, authorization);
        if response.status != 503 || Instant::now() > deadline {
            return response;
        }
        // The budget refills with time: nothing to wait on but the clock.
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[track_caller]
fn assert_unauthorized(response: &Response, why: &str) {
    assert_eq!(response.status, 401, "{why}: {response:?}");
    assert_eq!(
        response.header("WWW-Authenticate"),
        Some(CHALLENGE),
        "{why}"
    );
    assert!(!response.text_lossy().contains("auth_test_items"), "{why}");
}

#[test]
fn every_path_asks_for_credentials_and_only_the_right_ones_pass() {
    let dir = TempDir::new("paths");
    let Some(users) = users_file(&dir) else {
        return;
    };
    let running = exporter(&users);
    let port = running.local_addrs()[0].port();
    for path in ["/metrics", "/", "/-/healthy", "/nowhere"] {
        assert_unauthorized(
            &get_checked(port, path, None),
            &format!("{path} without credentials"),
        );
    }
    let cases = [
        (basic("mallory", "wonderland"), "an unknown user"),
        (basic("alice", "builder"), "another user's password"),
        (basic("alice", "Wonderland"), "a wrong password"),
        (basic("alice", ""), "an empty password"),
        (basic("", ""), "an empty user"),
        (basic("alice", "wonderland\0"), "the password and more"),
    ];
    for (authorization, why) in &cases {
        assert_unauthorized(&get_checked(port, "/metrics", Some(authorization)), why);
    }
    for (user, password) in [("alice", "wonderland"), ("bob", "builder")] {
        let response = get_checked(port, "/metrics", Some(&basic(user, password)));
        assert_eq!(response.status, 200, "{user}: {response:?}");
        assert!(
            response.text().contains("auth_test_items_total 0"),
            "{user}"
        );
        assert_eq!(response.header("WWW-Authenticate"), None);
        // Remembered now, and still only for the right password.
        let again = get_checked(port, "/", Some(&basic(user, password)));
        assert_eq!(again.status, 200, "{user} again");
        assert_unauthorized(
            &get_checked(port, "/metrics", Some(&basic(user, "x"))),
            "after",
        );
    }
    assert_eq!(
        get_checked(port, "/nowhere", Some(&basic("alice", "wonderland"))).status,
        404,
        "with credentials, routes answer as usual"
    );
    running.shutdown().expect("a clean shutdown");
}

#[test]
fn malformed_authorization_headers_are_401_not_a_crash() {
    let dir = TempDir::new("malformed");
    let Some(users) = users_file(&dir) else {
        return;
    };
    let running = exporter(&users);
    let port = running.local_addrs()[0].port();
    let long = format!("Basic {}", "QUFB".repeat(2000));
    for (authorization, why) in [
        ("Bearer YWxpY2U6d29uZGVybGFuZA==", "another scheme"),
        ("Digest username=\"alice\"", "Digest"),
        ("Basic", "no token"),
        ("Basic !!!!", "not base64"),
        ("Basic YWxpY2U6d29uZGVybGFuZA=", "bad padding"),
        ("Basic YWxpY2U=", "no colon (\"alice\")"),
        ("Basic YWxpY2U6d29uZGVybGFu ZA==", "a space inside"),
        ("BasicYWxpY2U6d29uZGVybGFuZA==", "no space after the scheme"),
        ("", "empty"),
        (long.as_str(), "longer than any credentials"),
    ] {
        assert_unauthorized(&get(port, "/metrics", Some(authorization)), why);
    }
    // The scheme is case-insensitive (RFC 7617), and the server still answers.
    let lower = basic("alice", "wonderland").replacen("Basic", "basic", 1);
    assert_eq!(get(port, "/metrics", Some(&lower)).status, 200);
    running.shutdown().expect("a clean shutdown");
}

#[test]
fn the_sample_takes_the_file_from_the_flag_or_the_environment() {
    let dir = TempDir::new("sample");
    let Some(users) = users_file(&dir) else {
        return;
    };
    let by_flag = start("sample", &["--basic-auth-users", &users], &[]);
    let by_env = start(
        "sample",
        &[],
        &[("SAMPLE_BASIC_AUTH_USERS", users.as_str())],
    );
    for (_proc, port) in [&by_flag, &by_env] {
        let denied = get(*port, "/metrics", None);
        assert_eq!(denied.status, 401, "{denied:?}");
        let realm = denied.header("WWW-Authenticate").unwrap_or_default();
        assert_eq!(
            realm,
            "Basic realm=\"prometheus-aioexporter-sample\", charset=\"UTF-8\""
        );
        let allowed = get(*port, "/metrics", Some(&basic("bob", "builder")));
        assert_eq!(allowed.status, 200, "{allowed:?}");
        assert!(allowed.text().contains("sample_value"));
    }
}

#[test]
fn unusable_htpasswd_files_stop_startup_naming_file_and_line() {
    let dir = TempDir::new("bad-files");
    let Some(good) = htpasswd(&["-B", "-C", "5"], "alice", "wonderland") else {
        return;
    };
    let md5 = htpasswd(&["-m"], "md5", "x").expect("htpasswd -m");
    let sha = htpasswd(&["-s"], "sha", "x").expect("htpasswd -s");
    let crypt = htpasswd(&["-d"], "crypt", "x").expect("htpasswd -d");
    let plain = htpasswd(&["-p"], "plain", "x").expect("htpasswd -p");
    let expected = "expected 'user:hash' lines with bcrypt hashes ($2y$, $2b$ or $2a$, cost 04 \
                    to 12), as `htpasswd -B` writes them";
    let cost_13 = good.replace("$2y$05$", "$2y$13$");
    let cost_03 = good.replace("$2y$05$", "$2y$03$");
    let cases = [
        (
            "no-colon",
            format!("{good}\njust-a-name\n"),
            "line 2: no ':' between user and hash",
        ),
        (
            "md5",
            format!("{good}\n{md5}\n"),
            "line 2: MD5 ($apr1$) hash, not bcrypt",
        ),
        (
            "sha",
            format!("{sha}\n"),
            "line 1: SHA-1 ({SHA}) hash, not bcrypt",
        ),
        (
            "crypt",
            format!("# users\n{crypt}\n"),
            "line 2: crypt or plain-text hash, not bcrypt",
        ),
        (
            "plain",
            format!("{plain}\n"),
            "line 1: crypt or plain-text hash, not bcrypt",
        ),
        (
            "cost-13",
            format!("{cost_13}\n"),
            "line 1: bcrypt cost '13' out of range",
        ),
        (
            "cost-03",
            format!("{cost_03}\n"),
            "line 1: bcrypt cost '03' out of range",
        ),
        (
            "twice",
            format!("{good}\n{good}\n"),
            "line 2: user 'alice' is named twice",
        ),
        (
            "cut",
            format!("{}\n", &good[..good.len() - 3]),
            "line 1: malformed bcrypt hash",
        ),
    ];
    for (name, text, reason) in cases {
        let path = dir.write(name, &text);
        assert_startup_fails(
            &["--basic-auth-users", &path],
            1,
            &format!("cannot ask for basic auth: {path}, {reason}"),
        );
        assert_startup_fails(&["--basic-auth-users", &path], 1, expected);
    }
    let empty = dir.write("empty", "\n");
    assert_startup_fails(
        &["--basic-auth-users", &empty],
        1,
        &format!("{empty} names no user; {expected}"),
    );
    let missing = dir.path("missing");
    assert_startup_fails(
        &["--basic-auth-users", &missing],
        1,
        &format!("cannot ask for basic auth: cannot read {missing}: No such file or directory"),
    );
    // A directory cannot be read as a file.
    let here = dir.0.to_string_lossy().into_owned();
    assert_startup_fails(
        &["--basic-auth-users", &here],
        1,
        &format!("cannot read {here}: "),
    );
}

#[test]
fn healthcheck_counts_the_401_of_basic_auth_as_alive() {
    let dir = TempDir::new("healthcheck");
    let Some(users) = users_file(&dir) else {
        return;
    };
    let (_proc, port) = start("sample", &["--basic-auth-users", &users], &[]);
    let port = port.to_string();
    let check = |extra: &[&str]| {
        let mut args = vec!["-p", &port, "-H", "127.0.0.1", "--healthcheck"];
        args.extend(extra);
        let mut proc = Proc::spawn("sample", &args, &[]);
        let status = proc.finish(Duration::from_secs(20));
        (status.code(), proc.stderr())
    };
    // With the exporter's options, as a container's HEALTHCHECK passes them.
    let (code, stderr) = check(&["--basic-auth-users", &users]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("healthy: http://127.0.0.1:")
            && stderr.contains("401 Unauthorized (basic auth on: the server answers)"),
        "{stderr}"
    );
    // Without them, a 401 is not what a healthy exporter without auth says.
    let (code, stderr) = check(&[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("unhealthy: ") && stderr.contains("401"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// A real Prometheus
// ---------------------------------------------------------------------------------------------

/// A scrape job with `basic_auth`, over `scheme`, with `extra` lines (a `tls_config`).
fn job(name: &str, port: u16, scheme: &str, password: &str, extra: &str) -> String {
    format!(
        "  - job_name: {name}\n    scheme: {scheme}\n    basic_auth:\n      username: alice\n      \
         password: {password}\n{extra}    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
    )
}

#[test]
fn prometheus_scrapes_with_basic_auth() {
    let Some(binary) = prometheus_tool("prometheus", "the Prometheus scrape with basic auth")
    else {
        return;
    };
    let dir = TempDir::new("prometheus");
    let Some(users) = users_file(&dir) else {
        return;
    };
    let (_sample, port) = start("sample", &["--basic-auth-users", &users], &[]);
    let jobs = [
        job("auth", port, "http", "wonderland", ""),
        job("wrong", port, "http", "looking-glass", ""),
    ]
    .concat();
    let prometheus = Prometheus::start(&binary, &dir.0, &jobs);
    prometheus.wait_for(&[
        ("up{job=\"auth\"}", "1"),
        ("count(sample_value{job=\"auth\"}) >= bool 1", "1"),
        ("up{job=\"wrong\"}", "0"),
    ]);
}

/// A CA and a server certificate for 127.0.0.1 signed by it, made with `openssl req` in `dir`.
#[cfg(feature = "tls")]
fn make_certificates(dir: &TempDir) -> Option<()> {
    debian_tool(
        "openssl",
        "openssl",
        "the Prometheus scrape over HTTPS with basic auth",
    )?;
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(&dir.0)
            .output()
            .expect("cannot run openssl");
        assert!(output.status.success(), "openssl {args:?}: {output:?}");
    };
    let key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "2",
    ];
    let ca = [
        &["req", "-x509"][..],
        &key,
        &["-subj", "/CN=ca", "-keyout", "ca.key"],
    ]
    .concat();
    openssl(
        &[
            &ca[..],
            &[
                "-out",
                "ca.pem",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
            ],
        ]
        .concat(),
    );
    let server = [
        &["req", "-x509"][..],
        &key,
        &["-subj", "/CN=server", "-keyout", "server.key"],
    ]
    .concat();
    openssl(
        &[
            &server[..],
            &["-out", "server.pem", "-CA", "ca.pem", "-CAkey", "ca.key"],
            &["-addext", "basicConstraints=critical,CA:FALSE"],
            &["-addext", "extendedKeyUsage=serverAuth"],
            &["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        ]
        .concat(),
    );
    Some(())
}

#[cfg(feature = "tls")]
#[test]
fn prometheus_scrapes_over_https_with_basic_auth() {
    const READY_TLS: &str = " INFO listening on https://127.0.0.1:";
    let Some(binary) = prometheus_tool("prometheus", "the Prometheus scrape over HTTPS") else {
        return;
    };
    let dir = TempDir::new("prometheus-tls");
    let Some(users) = users_file(&dir) else {
        return;
    };
    if make_certificates(&dir).is_none() {
        return;
    }
    let (key, cert) = (dir.path("server.key"), dir.path("server.pem"));
    let args = [
        "-p",
        "0",
        "-H",
        "127.0.0.1",
        "-L",
        "info",
        "--basic-auth-users",
        &users,
        "--ssl-private-key",
        &key,
        "--ssl-public-key",
        &cert,
    ];
    let mut sample = Proc::spawn("sample", &args, &[]);
    let line = sample.wait_for_stderr("HTTPS readiness line", |l| l.contains(READY_TLS));
    let port = crate::support::sample::parse_port(&line, READY_TLS).expect("a port");
    let tls = format!("    tls_config:\n      ca_file: {}\n", dir.path("ca.pem"));
    let jobs = [
        job("https_auth", port, "https", "wonderland", &tls),
        job("https_wrong", port, "https", "looking-glass", &tls),
    ]
    .concat();
    let prometheus = Prometheus::start(&binary, &dir.0, &jobs);
    prometheus.wait_for(&[
        ("up{job=\"https_auth\"}", "1"),
        ("count(sample_value{job=\"https_auth\"}) >= bool 1", "1"),
        ("up{job=\"https_wrong\"}", "0"),
    ]);
}

// ---------------------------------------------------------------------------------------------
// Fair check slots under a flood
// ---------------------------------------------------------------------------------------------

/// A connection from `source` (bound before connecting) to `to`: std's `TcpStream` cannot
/// choose its source address, and the gate tells clients apart by it.
#[track_caller]
fn connect_from(source: std::net::Ipv4Addr, to: std::net::SocketAddrV4) -> std::net::TcpStream {
    use std::os::fd::FromRawFd as _;
    let sockaddr = |addr: std::net::SocketAddrV4| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: addr.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*addr.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    let (from, to_raw) = (
        sockaddr(std::net::SocketAddrV4::new(source, 0)),
        sockaddr(to),
    );
    // SAFETY: a new socket, owned by the `TcpStream` at once; the addresses are valid
    // `sockaddr_in`s of `len` bytes that outlive the calls.
    let stream = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let stream = std::net::TcpStream::from_raw_fd(fd);
        let bound = libc::bind(fd, std::ptr::addr_of!(from).cast(), len);
        assert_eq!(
            bound,
            0,
            "bind {source}: {}",
            std::io::Error::last_os_error()
        );
        let connected = libc::connect(fd, std::ptr::addr_of!(to_raw).cast(), len);
        assert_eq!(
            connected,
            0,
            "connect to {to}: {}",
            std::io::Error::last_os_error()
        );
        stream
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    stream
}

/// `GET /metrics` with `authorization` on `stream`, kept alive; the response.
#[track_caller]
fn get_on(stream: &mut std::net::TcpStream, authorization: &str) -> Response {
    use std::io::Write as _;
    let request =
        format!("GET /metrics HTTP/1.1\r\nHost: test\r\nAuthorization: {authorization}\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    crate::support::http::read_response(stream)
}

/// Wrong passwords (each a new one) from 127.0.0.1 on one keep-alive connection, as fast as
/// they are answered, until `stop`; sends `()` on `spent` at the first 503 (failed checks have
/// used their share); the number of 401s and 503s.
fn flood(
    to: std::net::SocketAddrV4,
    stop: &std::sync::atomic::AtomicBool,
    spent: std::sync::mpsc::Sender<()>,
) -> (u64, u64) {
    let mut stream = connect_from(std::net::Ipv4Addr::LOCALHOST, to);
    let (mut checked, mut refused) = (0u64, 0u64);
    let mut n = 0u64;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let response = get_on(&mut stream, &basic("alice", &format!("guess-{n}")));
        match response.status {
            401 => checked += 1,
            503 => {
                if refused == 0 {
                    let _ = spent.send(());
                }
                refused += 1;
            }
            other => panic!("the flood was answered {other}: {response:?}"),
        }
    }
    (checked, refused)
}

#[test]
fn a_new_scraper_from_another_address_is_checked_during_a_flood() {
    let dir = TempDir::new("fair");
    let Some(users) = users_file(&dir) else {
        return;
    };
    let running = exporter(&users);
    let std::net::SocketAddr::V4(addr) = running.local_addrs()[0] else {
        panic!("127.0.0.1 is IPv4");
    };
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (spent, flooding) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        let flooder = scope.spawn(|| flood(addr, &stop, spent));
        // Once the flood is answered 503, its failed checks have used their share: today's
        // slots go to whoever asks first as the share refills, and the flood always asks.
        let ready = flooding.recv_timeout(Duration::from_secs(60));
        let statuses: Vec<u16> = if ready.is_ok() {
            // bob's password, right but never checked yet, from 127.0.0.2, a request per
            // connection as a scraper would send after a restart.
            let scraper = std::net::Ipv4Addr::new(127, 0, 0, 2);
            let mut statuses = Vec::new();
            while statuses.len() < 3 && statuses.last() != Some(&200) {
                let mut stream = connect_from(scraper, addr);
                statuses.push(get_on(&mut stream, &basic("bob", "builder")).status);
            }
            statuses
        } else {
            Vec::new()
        };
        // Remembered now: let in at once, whatever the flood.
        let mut again = connect_from(std::net::Ipv4Addr::new(127, 0, 0, 2), addr);
        let again_status = get_on(&mut again, &basic("bob", "builder")).status;
        stop.store(true, Ordering::SeqCst);
        let (checked, refused) = flooder.join().expect("the flood thread");
        assert!(
            ready.is_ok(),
            "the flood never had a 503 ({checked} checked)"
        );
        eprintln!(
            "the new scraper's answers: {statuses:?}; the flood: {checked} checked (401), \
             {refused} refused (503)"
        );
        assert_eq!(
            statuses.last(),
            Some(&200),
            "the new scraper is let in within 3 attempts: {statuses:?}"
        );
        assert_eq!(again_status, 200, "and then remembered");
        assert!(
            refused > 0 && checked > 0,
            "{checked} checked, {refused} refused"
        );
    });
    running.shutdown().expect("a clean shutdown");
}
