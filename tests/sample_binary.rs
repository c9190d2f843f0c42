//! The example binaries, run as a user runs them: command line, environment, exit codes,
//! scrapes over a real TCP socket, and signals.
//!
//! `cargo test` builds the examples before integration tests, next to this test's executable
//! (`target/<profile>/examples/`); if they are missing, they are built once with cargo.
//! Every child process is killed when its handle is dropped, so a failing test leaves nothing
//! running. Readiness is the `INFO listening on http://127.0.0.1:PORT/...` line on stderr, read
//! as it is written; nothing here sleeps to wait for the exporter.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long anything may take: starting, answering, exiting.
const BOUND: Duration = Duration::from_secs(20);
/// How long an exporter may take to exit after SIGTERM or SIGINT.
const SHUTDOWN_BOUND: Duration = Duration::from_secs(5);
/// The sample's program name, as in its usage line.
const SAMPLE: &str = "prometheus-aioexporter-sample";
/// What prefixes the readiness line (after the timestamp).
const READY_V4: &str = " INFO listening on http://127.0.0.1:";

// ---------------------------------------------------------------------------------------------
// Finding and building the examples
// ---------------------------------------------------------------------------------------------

/// `target/<profile>`: the parent of the `deps` directory holding this test's executable.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    exe.parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("unexpected test executable path {}", exe.display()))
        .to_path_buf()
}

/// Builds both examples with cargo, once, into the target directory this test runs from.
fn build_examples() -> Result<(), String> {
    let profile_dir = profile_dir();
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev".to_string(),
        Some(other) => other.to_string(),
    };
    let mut command = Command::new(env!("CARGO"));
    command
        .args(["build", "--example", "sample", "--example", "my_exporter"])
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .args(["--profile", &profile]);
    if let Some(target_dir) = profile_dir.parent() {
        command.arg("--target-dir").arg(target_dir);
    }
    let output = command
        .output()
        .map_err(|err| format!("cannot run cargo: {err}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cargo build --example sample --example my_exporter: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The path of the example `name`, built if missing.
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let path = profile_dir()
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        if let Err(err) = BUILT.get_or_init(build_examples) {
            panic!("{err}");
        }
    }
    assert!(path.is_file(), "example not found at {}", path.display());
    path
}

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stream {
    Stdout,
    Stderr,
}

enum Event {
    Line(Stream, String),
    Closed,
}

/// A running example: its output, read line by line in threads, and its exit status.
/// Dropping it kills the process if it is still running.
struct Proc {
    child: Child,
    events: Receiver<Event>,
    stdout: String,
    stderr_lines: Vec<String>,
    open_streams: usize,
    status: Option<ExitStatus>,
    started: Instant,
}

fn forward(stream: impl Read + Send + 'static, which: Stream, tx: mpsc::Sender<Event>) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line).into_owned();
                    if tx.send(Event::Line(which, text)).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(Event::Closed);
    });
}

impl Proc {
    /// Starts the example `name` with `args` and only the environment variables in `env`.
    fn spawn(name: &str, args: &[&str], env: &[(&str, &str)]) -> Proc {
        let mut child = Command::new(example(name))
            .args(args)
            .env_clear()
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {name}: {err}"));
        let (tx, events) = mpsc::channel();
        forward(
            child.stdout.take().expect("stdout"),
            Stream::Stdout,
            tx.clone(),
        );
        forward(child.stderr.take().expect("stderr"), Stream::Stderr, tx);
        Proc {
            child,
            events,
            stdout: String::new(),
            stderr_lines: Vec::new(),
            open_streams: 2,
            status: None,
            started: Instant::now(),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stderr(&self) -> String {
        self.stderr_lines.concat()
    }

    /// Everything seen so far, for failure messages.
    fn describe(&self) -> String {
        format!(
            "exit status: {:?}\n--- stdout ---\n{}--- stderr ---\n{}--- end ---",
            self.status,
            self.stdout,
            self.stderr()
        )
    }

    /// Takes the next output event, waiting until `deadline`; `false` on timeout or when both
    /// streams are closed.
    fn pump(&mut self, deadline: Instant) -> bool {
        if self.open_streams == 0 {
            return false;
        }
        let timeout = deadline.saturating_duration_since(Instant::now());
        match self.events.recv_timeout(timeout) {
            Ok(Event::Line(Stream::Stdout, line)) => self.stdout.push_str(&line),
            Ok(Event::Line(Stream::Stderr, line)) => self.stderr_lines.push(line),
            Ok(Event::Closed) => self.open_streams -= 1,
            Err(RecvTimeoutError::Timeout) => return false,
            Err(RecvTimeoutError::Disconnected) => self.open_streams = 0,
        }
        true
    }

    /// Waits (at most [`BOUND`] after the start) for a stderr line matching `pred`, and
    /// returns it.
    fn wait_for_stderr(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = self.started + BOUND;
        let mut seen = 0;
        loop {
            if let Some(line) = self.stderr_lines[seen..].iter().find(|l| pred(l)) {
                return line.clone();
            }
            seen = self.stderr_lines.len();
            if !self.pump(deadline) {
                if self.open_streams == 0 {
                    self.status = self.child.try_wait().ok().flatten();
                }
                panic!(
                    "no {what} on stderr within {BOUND:?} of the start\n{}",
                    self.describe()
                );
            }
        }
    }

    /// Waits for the readiness line on 127.0.0.1 and returns its port. The line must be
    /// `<timestamp> INFO listening on http://127.0.0.1:PORT<path>`.
    fn ready(&mut self) -> u16 {
        let line = self.wait_for_stderr("readiness line", |l| l.contains(READY_V4));
        parse_port(&line, READY_V4)
            .unwrap_or_else(|| panic!("cannot parse the port of {line:?}\n{}", self.describe()))
    }

    /// Sends `signal` (e.g. `"TERM"`) with the `kill` command.
    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("cannot run kill");
        assert!(status.success(), "kill -{signal} {}: {status}", self.pid());
    }

    /// Waits until the process has exited (both output streams closed, then reaped), at most
    /// `bound` from now, and returns its status.
    fn finish(&mut self, bound: Duration) -> ExitStatus {
        let deadline = Instant::now() + bound;
        while self.open_streams > 0 {
            if !self.pump(deadline) && self.open_streams > 0 {
                panic!(
                    "the process did not exit within {bound:?}\n{}",
                    self.describe()
                );
            }
        }
        // Its output is closed, so it is exiting: reap it.
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.status = Some(status);
                    return status;
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Ok(None) => panic!(
                    "the process closed its output but did not exit within {bound:?}\n{}",
                    self.describe()
                ),
                Err(err) => panic!("cannot wait for the process: {err}"),
            }
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs the example to completion and returns its status, stdout and stderr.
fn run(name: &str, args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String, String) {
    let mut proc = Proc::spawn(name, args, env);
    let status = proc.finish(BOUND);
    (status, proc.stdout.clone(), proc.stderr())
}

fn parse_port(line: &str, prefix: &str) -> Option<u16> {
    let start = line.find(prefix)? + prefix.len();
    let digits: String = line[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The usual arguments for a test instance: any free port, loopback only, INFO logging.
const TEST_ARGS: [&str; 6] = ["-p", "0", "-H", "127.0.0.1", "-L", "info"];

fn start(name: &str, extra: &[&str], env: &[(&str, &str)]) -> (Proc, u16) {
    let args: Vec<&str> = TEST_ARGS.iter().chain(extra).copied().collect();
    let mut proc = Proc::spawn(name, &args, env);
    let port = proc.ready();
    (proc, port)
}

/// Stops the process with `signal` and asserts that it exits 0 within [`SHUTDOWN_BOUND`],
/// logging a shutdown line.
fn stop_cleanly(proc: &mut Proc, signal: &str) {
    proc.signal(signal);
    let status = proc.finish(SHUTDOWN_BOUND);
    assert_eq!(
        status.code(),
        Some(0),
        "after SIG{signal}\n{}",
        proc.describe()
    );
    let stderr = proc.stderr();
    assert!(
        stderr.contains(&format!("SIG{signal}: shutting down")),
        "no shutdown line\n{}",
        proc.describe()
    );
}

// ---------------------------------------------------------------------------------------------
// HTTP over a raw socket
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("the body is UTF-8")
    }
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(BOUND)).expect("timeout");
    stream.set_write_timeout(Some(BOUND)).expect("timeout");
    stream
}

/// Reads one response whose body length is given by `Content-Length`.
fn read_response(stream: &mut TcpStream) -> Response {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).expect("read the response head");
        assert!(
            n > 0,
            "connection closed before the end of the head: {:?}",
            String::from_utf8_lossy(&buffer)
        );
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buffer[..head_end].to_vec()).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    assert_eq!(
        parts.next(),
        Some("HTTP/1.1"),
        "status line {status_line:?}"
    );
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (k, v) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("header line {line:?}"));
            (k.to_string(), v.trim().to_string())
        })
        .collect();
    let mut response = Response {
        status,
        headers,
        body: buffer[head_end + 4..].to_vec(),
    };
    let length: usize = response
        .header("Content-Length")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Content-Length in {head:?}"));
    while response.body.len() < length {
        let n = stream.read(&mut chunk).expect("read the body");
        assert!(n > 0, "connection closed in the body of {head:?}");
        response.body.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(response.body.len(), length, "more than Content-Length");
    response
}

/// `GET path` on a new connection, with `Connection: close`.
fn get(port: u16, path: &str) -> Response {
    let mut stream = connect(port);
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    read_response(&mut stream)
}

// ---------------------------------------------------------------------------------------------
// Checking bodies
// ---------------------------------------------------------------------------------------------

fn promtool() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("promtool"))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        if std::env::var_os("CI").is_some_and(|ci| !ci.is_empty()) {
            panic!("promtool not found: install Debian's prometheus package");
        }
        eprintln!("note: promtool not found on PATH, skipping the check (install Debian's prometheus package)");
    }
    found
}

/// Asserts that `promtool check metrics` exits 0 and prints nothing for `body`.
fn assert_promtool_clean(body: &[u8]) {
    let Some(promtool) = promtool() else {
        return;
    };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run promtool");
    let mut stdin = child.stdin.take().expect("promtool's stdin");
    let input = body.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("wait for promtool");
    let written = writer.join().expect("stdin writer");
    let clean = output.status.success()
        && output.stdout.is_empty()
        && output.stderr.is_empty()
        && written.is_ok();
    assert!(
        clean,
        "promtool check metrics: {} (stdin: {written:?})\n--- stdout ---\n{}--- stderr ---\n{}--- body ---\n{}--- end ---",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(body)
    );
}

/// The samples of a text-format body, `name{labels}` to value; panics on a malformed line.
fn samples(body: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for line in body.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("malformed line {line:?} in\n{body}"));
        let value = match value {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("malformed value in {line:?} in\n{body}")),
        };
        assert!(
            out.insert(series.to_string(), value).is_none(),
            "duplicate series {series} in\n{body}"
        );
    }
    out
}

fn assert_metrics_response(response: &Response) {
    assert_eq!(response.status, 200, "{response:?}");
    let content_type = response.header("Content-Type").unwrap_or_default();
    assert!(
        content_type.starts_with("text/plain") && content_type.contains("version=0.0.4"),
        "Content-Type {content_type:?}"
    );
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

#[test]
fn help_lists_every_option_and_environment_variable() {
    for flag in ["--help", "-h"] {
        let (status, stdout, stderr) = run("sample", &[flag], &[]);
        assert_eq!(status.code(), Some(0), "{flag}: {stderr}");
        assert_eq!(stderr, "", "{flag}");
        let usage = format!(
            "usage: {SAMPLE} [-h] [-V] [-H HOST] [-p PORT] [-L LEVEL] [--process-stats] [--metrics-path PATH]\n"
        );
        assert!(stdout.starts_with(&usage), "{flag}: {stdout}");
        for expected in [
            "\nA sample exporter.\n",
            "-h, --help",
            "-V, --version",
            "-H HOST, --host HOST",
            "-p PORT, --port PORT",
            "-L LEVEL, --log-level LEVEL",
            "(choices: critical, error, warning, info, debug)",
            "--process-stats",
            "--metrics-path PATH",
            "(default: localhost)",
            "(default: 9090)",
            "(default: warning)",
            "(default: /metrics)",
            "(env: SAMPLE_HOST)",
            "(env: SAMPLE_PORT)",
            "(env: SAMPLE_LOG_LEVEL)",
            "(env: SAMPLE_PROCESS_STATS)",
            "(env: SAMPLE_METRICS_PATH)",
        ] {
            assert!(
                stdout.contains(expected),
                "{flag}: no {expected:?} in\n{stdout}"
            );
        }
    }
}

#[test]
fn version_prints_name_and_version() {
    let expected = format!("{SAMPLE} {}\n", env!("CARGO_PKG_VERSION"));
    for flag in ["--version", "-V"] {
        let (status, stdout, stderr) = run("sample", &[flag], &[]);
        assert_eq!(status.code(), Some(0), "{flag}: {stderr}");
        assert_eq!((stdout.as_str(), stderr.as_str()), (expected.as_str(), ""));
    }
}

#[test]
fn usage_errors_exit_2_with_message_and_usage() {
    let cases: [(&[&str], &str); 8] = [
        (
            &["--frob", "-p", "0", "-H", "127.0.0.1"],
            "unrecognized option '--frob'",
        ),
        (
            &["-p", "notaport", "-H", "127.0.0.1"],
            "invalid value 'notaport' for",
        ),
        (
            &["-p", "70000", "-H", "127.0.0.1"],
            "invalid value '70000' for",
        ),
        (
            &["-p", "0", "-H", "127.0.0.1", "-L", "loud"],
            "invalid value 'loud' for '-L'",
        ),
        (
            &["-p", "0", "-H", "127.0.0.1", "--metrics-path", "metrics"],
            "invalid value 'metrics' for '--metrics-path'",
        ),
        (&["-H", "127.0.0.1", "-p"], "missing value for option '-p'"),
        (
            &["-p", "0", "-H", "127.0.0.1", "extra"],
            "unexpected argument 'extra'",
        ),
        (
            &["-p", "0", "-H", "127.0.0.1", "--process-stats=yes"],
            "--process-stats",
        ),
    ];
    for (args, message) in cases {
        let (status, stdout, stderr) = run("sample", args, &[]);
        assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stdout, "", "{args:?}: nothing on stdout");
        assert!(
            stderr.contains(&format!("{SAMPLE}: error: ")) && stderr.contains(message),
            "{args:?}: no {message:?} in {stderr:?}"
        );
        assert!(
            stderr.contains(&format!("usage: {SAMPLE} [-h]")),
            "{args:?}: no usage line in {stderr:?}"
        );
    }
}

#[test]
fn usage_error_puts_usage_and_message_on_separate_lines() {
    let (_, help, _) = run("sample", &["--help"], &[]);
    let usage = help.lines().next().expect("a usage line");
    let (status, _, stderr) = run("sample", &["--frob"], &[]);
    assert_eq!(status.code(), Some(2));
    assert_eq!(
        stderr,
        format!("{usage}\n{SAMPLE}: error: unrecognized option '--frob'\n"),
        "as argparse prints it: the usage line, then `prog: error: message`"
    );
}

#[test]
fn bad_environment_variable_is_a_usage_error() {
    let env = [("SAMPLE_PORT", "notaport")];
    let (status, stdout, stderr) = run("sample", &["-H", "127.0.0.1"], &env);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("invalid value 'notaport' for 'SAMPLE_PORT'"),
        "{stderr}"
    );
}

#[test]
fn log_level_is_case_insensitive() {
    let mut proc = Proc::spawn(
        "sample",
        &["-p", "0", "-H", "127.0.0.1", "-L", "DEBUG"],
        &[],
    );
    let port = proc.ready();
    // DEBUG means debug: the bind is logged at that level.
    proc.wait_for_stderr("debug line", |l| {
        l.contains(&format!(" DEBUG bound 127.0.0.1:{port}"))
    });
    stop_cleanly(&mut proc, "TERM");
}

#[test]
fn environment_variables_configure_without_flags() {
    let env = [
        ("SAMPLE_PORT", "0"),
        ("SAMPLE_LOG_LEVEL", "info"),
        ("SAMPLE_HOST", "127.0.0.1"),
    ];
    let mut proc = Proc::spawn("sample", &[], &env);
    let port = proc.ready();
    assert_metrics_response(&get(port, "/metrics"));
    stop_cleanly(&mut proc, "TERM");
}

#[test]
fn command_line_beats_environment() {
    let env = [
        ("SAMPLE_PORT", "notaport"),
        ("SAMPLE_LOG_LEVEL", "critical"),
    ];
    // `-L info` beats `critical`, or the INFO readiness line would never appear.
    let (mut proc, port) = start("sample", &[], &env);
    assert_metrics_response(&get(port, "/metrics"));
    stop_cleanly(&mut proc, "TERM");
}

// ---------------------------------------------------------------------------------------------
// Runtime failures
// ---------------------------------------------------------------------------------------------

#[test]
fn port_in_use_exits_1_naming_the_address() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = taken.local_addr().expect("local address").port();
    let port_arg = port.to_string();
    let args = ["-p", &port_arg, "-H", "127.0.0.1", "-L", "info"];
    let (status, stdout, stderr) = run("sample", &args, &[]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains(&format!("127.0.0.1:{port}")) && stderr.contains("CRITICAL"),
        "the address is not named: {stderr}"
    );
    assert!(!stderr.contains("listening on"), "{stderr}");
    drop(taken);
}

// ---------------------------------------------------------------------------------------------
// Scrapes
// ---------------------------------------------------------------------------------------------

#[test]
fn scrapes_over_tcp_are_valid_and_promtool_clean() {
    let (mut proc, port) = start("sample", &[], &[]);
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let response = get(port, "/metrics");
        assert_metrics_response(&response);
        let server = format!("{SAMPLE}/{}", env!("CARGO_PKG_VERSION"));
        assert_eq!(response.header("Server"), Some(server.as_str()));
        let text = response.text();
        assert!(text.contains("# TYPE sample_value gauge\n"), "{text}");
        assert!(
            text.contains("# TYPE sample_events_total counter\n"),
            "{text}"
        );
        assert!(text.contains("\nsample_value{foo="), "{text}");
        assert!(text.contains("\nsample_events_total{baz="), "{text}");
        assert_promtool_clean(&response.body);
        bodies.push(samples(&text));
    }
    // Counters never go down between scrapes; gauges stay within [0, 100).
    for pair in bodies.windows(2) {
        for (series, value) in &pair[0] {
            if series.starts_with("sample_events_total") {
                let later = pair[1].get(series).copied().unwrap_or(f64::NAN);
                assert!(later >= *value, "{series}: {value} then {later}");
            }
        }
    }
    for body in &bodies {
        for (series, value) in body {
            if series.starts_with("sample_value") {
                assert!((0.0..100.0).contains(value), "{series} {value}");
            }
        }
    }
    stop_cleanly(&mut proc, "TERM");
}

#[test]
fn process_stats_are_client_golang_s_seven_metrics() {
    let (mut proc, port) = start("sample", &["--process-stats"], &[]);
    let response = get(port, "/metrics");
    assert_metrics_response(&response);
    let text = response.text();
    let values = samples(&text);
    for name in [
        "process_cpu_seconds_total",
        "process_open_fds",
        "process_max_fds",
        "process_virtual_memory_bytes",
        "process_virtual_memory_max_bytes",
        "process_resident_memory_bytes",
        "process_start_time_seconds",
    ] {
        assert!(values.contains_key(name), "no {name} in\n{text}");
    }
    assert!(values["process_resident_memory_bytes"] > 0.0, "{text}");
    assert!(values["process_open_fds"] >= 3.0, "{text}");
    assert!(
        values["process_max_fds"] >= values["process_open_fds"],
        "{text}"
    );
    let start_time = values["process_start_time_seconds"];
    let now = unix_now();
    assert!(
        start_time > now - 3600.0 && start_time < now + 5.0,
        "start time {start_time}, now {now}\n{text}"
    );
    assert_promtool_clean(&response.body);
    stop_cleanly(&mut proc, "TERM");
}

#[test]
fn custom_metrics_path_moves_the_metrics_and_the_landing_link() {
    let (mut proc, port) = start("sample", &["--metrics-path", "/custom"], &[]);
    let ready = proc.wait_for_stderr("readiness line", |l| l.contains(READY_V4));
    assert!(
        ready
            .trim_end()
            .ends_with(&format!("127.0.0.1:{port}/custom")),
        "{ready:?}"
    );
    let metrics = get(port, "/custom");
    assert_metrics_response(&metrics);
    assert!(metrics.text().contains("sample_value{"), "{metrics:?}");
    assert_eq!(get(port, "/metrics").status, 404);
    let landing = get(port, "/");
    assert_eq!(landing.status, 200);
    assert!(
        landing
            .header("Content-Type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{landing:?}"
    );
    let html = landing.text();
    assert!(html.contains("href=\"/custom\""), "{html}");
    assert!(html.contains("A sample exporter."), "{html}");
    stop_cleanly(&mut proc, "TERM");
}

#[test]
fn metrics_path_is_refused_or_reachable() {
    // The option's value, and the request target an HTTP client (curl, Prometheus, a browser
    // following the landing page's link) sends for the URL the exporter advertises.
    let cases = [
        ("/a?b", "/a?b"),
        ("/a#b", "/a"),
        ("/a b", "/a%20b"),
        ("/métriques", "/m%C3%A9triques"),
        ("/100%", "/100%25"),
    ];
    let mut problems = Vec::new();
    for (path, target) in cases {
        let args = [
            "-p",
            "0",
            "-H",
            "127.0.0.1",
            "-L",
            "info",
            "--metrics-path",
            path,
        ];
        let mut proc = Proc::spawn("sample", &args, &[]);
        let line = proc.wait_for_stderr("readiness line or error", |l| {
            l.contains(READY_V4) || l.contains(": error: ")
        });
        if line.contains(": error: ") {
            let status = proc.finish(BOUND);
            assert_eq!(status.code(), Some(2), "{}", proc.describe());
            continue;
        }
        let port = parse_port(&line, READY_V4).expect("a port");
        let mut stream = connect(port);
        let request =
            format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).expect("send");
        let response = read_response(&mut stream);
        if response.status != 200 {
            problems.push(format!(
                "--metrics-path {path:?} was accepted, but GET {target} gives {}",
                response.status
            ));
        }
        stop_cleanly(&mut proc, "TERM");
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

// ---------------------------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------------------------

#[test]
fn sigterm_exits_0_with_a_shutdown_line() {
    let (mut proc, port) = start("sample", &[], &[]);
    assert_metrics_response(&get(port, "/metrics"));
    stop_cleanly(&mut proc, "TERM");
}

#[test]
fn sigint_exits_0_with_a_shutdown_line() {
    let (mut proc, port) = start("sample", &[], &[]);
    assert_metrics_response(&get(port, "/metrics"));
    stop_cleanly(&mut proc, "INT");
}

#[test]
fn sigterm_with_an_idle_keep_alive_connection_exits_promptly() {
    let (mut proc, port) = start("sample", &[], &[]);
    let mut stream = connect(port);
    let request = format!("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let response = read_response(&mut stream);
    assert_metrics_response(&response);
    assert!(
        !response
            .header("Connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close")),
        "the connection should stay open: {response:?}"
    );
    // The connection is open and idle. Shutting down must not wait for it (the shutdown
    // deadline is 5 s; closing idle connections is immediate).
    let signalled = Instant::now();
    proc.signal("TERM");
    let status = proc.finish(SHUTDOWN_BOUND);
    let elapsed = signalled.elapsed();
    assert_eq!(status.code(), Some(0), "{}", proc.describe());
    assert!(
        elapsed < Duration::from_secs(4),
        "took {elapsed:?}\n{}",
        proc.describe()
    );
    assert!(
        proc.stderr().contains("SIGTERM: shutting down"),
        "{}",
        proc.describe()
    );
    assert!(
        !proc.stderr().contains("still in flight"),
        "the idle connection was treated as in flight\n{}",
        proc.describe()
    );
    // And the server closed it.
    let mut rest = Vec::new();
    match stream.read_to_end(&mut rest) {
        Ok(_) => assert!(rest.is_empty(), "unexpected bytes {rest:?}"),
        Err(err) => assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}"),
    }
    let _ = stream.shutdown(Shutdown::Both);
}

// ---------------------------------------------------------------------------------------------
// my_exporter
// ---------------------------------------------------------------------------------------------

#[test]
fn my_exporter_help_shows_the_custom_option() {
    let (status, stdout, stderr) = run("my_exporter", &["--help"], &[]);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(
        stdout.starts_with("usage: my-exporter [-h] [-V]"),
        "{stdout}"
    );
    assert!(stdout.contains("[--custom-option STEP]"), "{stdout}");
    assert!(stdout.contains("--custom-option STEP"), "{stdout}");
    assert!(stdout.contains("(default: 9091)"), "{stdout}");
    assert!(stdout.contains("(env: MYEXP_CUSTOM_OPTION)"), "{stdout}");
    assert!(stdout.contains("(env: MYEXP_PORT)"), "{stdout}");
}

#[test]
fn my_exporter_bad_custom_option_exits_1() {
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 2] = [
        (
            &["-p", "0", "-H", "127.0.0.1"],
            &[("MYEXP_CUSTOM_OPTION", "x")],
            "MYEXP_CUSTOM_OPTION",
        ),
        (
            &["-p", "0", "-H", "127.0.0.1", "--custom-option", "x"],
            &[],
            "--custom-option",
        ),
    ];
    for (args, env, named) in cases {
        let (status, stdout, stderr) = run("my_exporter", args, env);
        assert_eq!(status.code(), Some(1), "{args:?} {env:?}: {stderr}");
        assert_eq!(stdout, "");
        assert!(stderr.contains("configuration failed"), "{stderr}");
        assert!(stderr.contains(named), "{named} not named in {stderr}");
        assert!(
            stderr
                .to_lowercase()
                .replace('_', "-")
                .contains("custom-option"),
            "{stderr}"
        );
    }
}

#[test]
fn my_exporter_scrape_has_its_metrics_and_the_custom_step() {
    let (mut proc, port) = start("my_exporter", &["--custom-option", "5"], &[]);
    let first = get(port, "/metrics");
    assert_metrics_response(&first);
    let text = first.text();
    assert!(text.contains("\nmetric1 1\n"), "{text}");
    assert!(
        text.contains("\nmetric2_total{l1=\"a\",l2=\"b\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("# TYPE ticks gauge\n"), "{text}");
    assert_promtool_clean(&first.body);
    // The background job adds the custom step (5) every 100 ms: wait for it to show.
    let deadline = Instant::now() + BOUND;
    let mut scrapes = 1.0;
    let ticks = loop {
        let response = get(port, "/metrics");
        scrapes += 1.0;
        let values = samples(&response.text());
        assert_eq!(
            values.get("metric2_total{l1=\"a\",l2=\"b\"}"),
            Some(&scrapes),
            "the update handler runs once per scrape"
        );
        let ticks = values.get("ticks").copied().expect("a ticks sample");
        if ticks >= 10.0 || Instant::now() > deadline {
            break ticks;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(ticks >= 10.0, "ticks {ticks}\n{}", proc.describe());
    assert_eq!(
        ticks % 5.0,
        0.0,
        "ticks {ticks} is not a multiple of the step"
    );
    stop_cleanly(&mut proc, "TERM");
}

#[test]
fn my_exporter_sigterm_joins_its_thread_and_exits_0() {
    let (mut proc, port) = start("my_exporter", &["--custom-option", "5"], &[]);
    assert_metrics_response(&get(port, "/metrics"));
    stop_cleanly(&mut proc, "TERM");
}

// ---------------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------------

#[test]
fn localhost_binds_the_loopback_addresses() {
    let has_ipv6_loopback = TcpListener::bind("[::1]:0").is_ok();
    let mut proc = Proc::spawn("sample", &["-H", "localhost", "-p", "0", "-L", "info"], &[]);
    let port = proc.ready();
    assert_metrics_response(&get(port, "/metrics"));
    if has_ipv6_loopback {
        const READY_V6: &str = " INFO listening on http://[::1]:";
        let line = proc.wait_for_stderr("IPv6 readiness line", |l| l.contains(READY_V6));
        let port6 = parse_port(&line, READY_V6).expect("an IPv6 port");
        let mut stream = TcpStream::connect(("::1", port6)).expect("connect to [::1]");
        stream.set_read_timeout(Some(BOUND)).expect("timeout");
        let request = "GET /metrics HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n";
        stream.write_all(request.as_bytes()).expect("send");
        assert_metrics_response(&read_response(&mut stream));
    } else {
        eprintln!("note: no IPv6 loopback here, only 127.0.0.1 checked");
    }
    assert!(
        !proc.stderr().contains("0.0.0.0"),
        "localhost must not bind every interface\n{}",
        proc.describe()
    );
    stop_cleanly(&mut proc, "TERM");
}
