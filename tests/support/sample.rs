//! The example binaries, run as a user runs them: next to the test's executable
//! (`target/<profile>/examples/`), brought up to date by cargo once per test process, started
//! with arguments and an environment of their own, their output read line by line as it is
//! written.
//!
//! Every child process is killed when its [`Proc`] is dropped, so a failing test leaves nothing
//! running. Readiness is the `INFO listening on http://127.0.0.1:PORT/...` line on stderr, read
//! as it is written; nothing here sleeps to wait for the exporter.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long anything may take: starting, answering, exiting.
pub const BOUND: Duration = Duration::from_secs(20);
/// How long an exporter may take to exit after SIGTERM or SIGINT.
pub const SHUTDOWN_BOUND: Duration = Duration::from_secs(5);
/// What prefixes the readiness line on 127.0.0.1 (after the timestamp).
pub const READY_V4: &str = " INFO listening on http://127.0.0.1:";
/// The usual arguments for a test instance: any free port, loopback only, INFO logging.
pub const TEST_ARGS: [&str; 6] = ["-p", "0", "-H", "127.0.0.1", "-L", "info"];

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

/// Builds the script examples with cargo, once, into the target directory this test runs from.
fn build_examples() -> Result<(), String> {
    let profile_dir = profile_dir();
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev".to_string(),
        Some(other) => other.to_string(),
    };
    // The features this test was built with, so that the examples are built with them too
    // (`cargo test --features gzip` runs examples that compress).
    let features: Vec<&str> = [
        ("script", cfg!(feature = "script")),
        ("server", cfg!(feature = "server")),
        ("process-stats", cfg!(feature = "process-stats")),
        ("gzip", cfg!(feature = "gzip")),
        ("tls", cfg!(feature = "tls")),
        ("basic-auth", cfg!(feature = "basic-auth")),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    let mut command = Command::new(env!("CARGO"));
    command
        .args(["build", "--example", "sample", "--example", "my_exporter"])
        .args(["--example", "textfile", "--no-default-features"])
        .arg(format!("--features={}", features.join(",")))
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
            "cargo build --example sample --example my_exporter --example textfile: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The path of the example `name` (`sample`, `my_exporter` or `textfile`), built by cargo
/// once per test process: `cargo test --test integration` builds only the test, so an example
/// built before a change to `src/` would otherwise run stale. Cargo makes it a no-op when it is
/// fresh.
#[track_caller]
pub fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    if let Err(err) = BUILT.get_or_init(build_examples) {
        panic!("{err}");
    }
    let path = profile_dir()
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
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

/// A running process: its output, read line by line in threads (so its pipes never fill up,
/// whether or not the test looks), and its exit status. Dropping it kills the process if it is
/// still running.
pub struct Proc {
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
    #[track_caller]
    pub fn spawn(name: &str, args: &[&str], env: &[(&str, &str)]) -> Proc {
        let mut command = Command::new(example(name));
        command.args(args).env_clear().envs(env.iter().copied());
        Proc::from_command(command, name)
    }

    /// Starts `command` (called `what` in messages) with stdin from `/dev/null` and its stdout
    /// and stderr read by threads.
    #[track_caller]
    pub fn from_command(mut command: Command, what: &str) -> Proc {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {what}: {err}"));
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

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the process wrote to stderr, as far as the test has waited for it.
    pub fn stderr(&self) -> String {
        self.stderr_lines.concat()
    }

    /// Everything the process has written to stderr so far, without waiting for more.
    pub fn stderr_now(&mut self) -> String {
        while self.pump(Instant::now()) {}
        self.stderr()
    }

    /// Everything seen so far, for failure messages.
    pub fn describe(&self) -> String {
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
    #[track_caller]
    pub fn wait_for_stderr(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.wait_for_stderr_until(self.started + BOUND, what, pred)
    }

    /// Waits until `deadline` for a stderr line matching `pred`, and returns it.
    #[track_caller]
    pub fn wait_for_stderr_until(
        &mut self,
        deadline: Instant,
        what: &str,
        pred: impl Fn(&str) -> bool,
    ) -> String {
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
                    "no {what} on stderr within {:?} of the start\n{}",
                    deadline.saturating_duration_since(self.started),
                    self.describe()
                );
            }
        }
    }

    /// Waits (at most [`BOUND`] after the start) for the readiness line on 127.0.0.1 and
    /// returns its port. The line must be `<timestamp> INFO listening on
    /// http://127.0.0.1:PORT<path>`.
    #[track_caller]
    pub fn ready(&mut self) -> u16 {
        self.ready_until(self.started + BOUND)
    }

    /// [`Proc::ready`], waiting until `deadline`.
    #[track_caller]
    pub fn ready_until(&mut self, deadline: Instant) -> u16 {
        let line = self.wait_for_stderr_until(deadline, "readiness line", |l| l.contains(READY_V4));
        parse_port(&line, READY_V4)
            .unwrap_or_else(|| panic!("cannot parse the port of {line:?}\n{}", self.describe()))
    }

    /// Sends `signal` (e.g. `"TERM"`) with the `kill` command.
    #[track_caller]
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("cannot run kill");
        assert!(status.success(), "kill -{signal} {}: {status}", self.pid());
    }

    /// Waits until the process has exited (both output streams closed, then reaped), at most
    /// `bound` from now, and returns its status.
    #[track_caller]
    pub fn finish(&mut self, bound: Duration) -> ExitStatus {
        let deadline = Instant::now() + bound;
        self.wait_output_closed(bound);
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

impl Proc {
    /// Waits, at most `bound`, until the process has closed its output (it is exiting or has
    /// exited), without reaping it: until it is reaped its PID cannot be reused, so it can still
    /// be signalled safely.
    #[track_caller]
    pub fn wait_output_closed(&mut self, bound: Duration) {
        let deadline = Instant::now() + bound;
        while self.open_streams > 0 {
            if !self.pump(deadline) && self.open_streams > 0 {
                panic!(
                    "the process did not exit within {bound:?}\n{}",
                    self.describe()
                );
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
#[track_caller]
pub fn run(name: &str, args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String, String) {
    let mut proc = Proc::spawn(name, args, env);
    let status = proc.finish(BOUND);
    (status, proc.stdout.clone(), proc.stderr())
}

/// Starts the sample with `args` on a free port of 127.0.0.1 and asserts that startup fails:
/// exit `code`, with `message` on stderr.
#[allow(dead_code)]
#[track_caller]
pub fn assert_startup_fails(args: &[&str], code: i32, message: &str) {
    let mut all = vec!["-p", "0", "-H", "127.0.0.1"];
    all.extend(args);
    let mut proc = Proc::spawn("sample", &all, &[]);
    let status = proc.finish(BOUND);
    assert_eq!(status.code(), Some(code), "{args:?}\n{}", proc.describe());
    assert!(
        proc.stderr().contains(message),
        "{args:?}: no {message:?}\n{}",
        proc.describe()
    );
}

/// The port after `prefix` in `line`.
pub fn parse_port(line: &str, prefix: &str) -> Option<u16> {
    let start = line.find(prefix)? + prefix.len();
    let digits: String = line[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Starts the example `name` with [`TEST_ARGS`], then `extra`, and the environment `env`;
/// returns it once it is ready, with its port.
#[track_caller]
pub fn start(name: &str, extra: &[&str], env: &[(&str, &str)]) -> (Proc, u16) {
    let args: Vec<&str> = TEST_ARGS.iter().chain(extra).copied().collect();
    let mut proc = Proc::spawn(name, &args, env);
    let port = proc.ready();
    (proc, port)
}

/// Stops the process with `signal` and asserts that it exits 0 within [`SHUTDOWN_BOUND`],
/// logging a shutdown line.
#[track_caller]
pub fn stop_cleanly(proc: &mut Proc, signal: &str) {
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
