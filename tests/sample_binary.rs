//! The example binaries, run as a user runs them: command line, environment, exit codes,
//! scrapes over a real TCP socket, and signals.
//!
//! `cargo test` builds the examples before integration tests, next to this test's executable
//! (`target/<profile>/examples/`); if they are missing, they are built once with cargo.
//! Every child process is killed when its handle is dropped, so a failing test leaves nothing
//! running. Readiness is the `INFO listening on http://127.0.0.1:PORT/...` line on stderr, read
//! as it is written; nothing here sleeps to wait for the exporter.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Ipv6Addr, Shutdown, SocketAddr, TcpListener};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::support;
use crate::support::http::{self, get, Response};
use crate::support::sample::{
    parse_port, run, start, stop_cleanly, Proc, BOUND, READY_V4, SHUTDOWN_BOUND,
};
use crate::support::tools::assert_promtool_clean;

/// The sample's program name, as in its usage line.
const SAMPLE: &str = "prometheus-aioexporter-sample";

// ---------------------------------------------------------------------------------------------
// Checking bodies
// ---------------------------------------------------------------------------------------------

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
        // The `tls` feature adds its three options before `--healthcheck`.
        let tls = if cfg!(feature = "tls") {
            "[--ssl-private-key FILE] [--ssl-public-key FILE] [--ssl-ca FILE] "
        } else {
            ""
        };
        // And `basic-auth` its one after them.
        let auth = if cfg!(feature = "basic-auth") {
            "[--basic-auth-users FILE] "
        } else {
            ""
        };
        let usage = format!(
            "usage: {SAMPLE} [-h] [-V] [-H HOST [HOST ...]] [-p PORT] [-L LEVEL] [--log-format FORMAT] [--process-stats] [--metrics-path PATH] {tls}{auth}[--healthcheck]\n"
        );
        assert!(stdout.starts_with(&usage), "{flag}: {stdout}");
        for expected in [
            "\nA sample exporter.\n",
            "-h, --help",
            "-V, --version",
            "-H HOST [HOST ...], --host HOST [HOST ...]",
            "-p PORT, --port PORT",
            "-L LEVEL, --log-level LEVEL",
            "(choices: critical, error, warning, info, debug)",
            "--process-stats",
            "--metrics-path PATH",
            "--log-format FORMAT",
            "(choices: plain, json)",
            "(default: plain)",
            "(env: SAMPLE_LOG_FORMAT)",
            "--healthcheck ",
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
        assert!(!stdout.contains("SAMPLE_HEALTHCHECK"), "{flag}: {stdout}");
    }
}

/// Help that cannot be written is a failure, not a silent success.
#[test]
fn help_to_a_full_device_exits_1() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("note: no /dev/full here: skipped");
        return;
    };
    for flag in ["--help", "--version"] {
        let output = std::process::Command::new(support::sample::example("sample"))
            .arg(flag)
            .stdout(full.try_clone().unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{flag}: {stderr}");
        assert!(stderr.contains("cannot write"), "{flag}: {stderr}");
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
    let cases: [(&[&str], &str); 11] = [
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
            "invalid value '70000' for '--port': expected a port number from 0 to 65535",
        ),
        (
            &["-p", "+80", "-H", "127.0.0.1"],
            "invalid value '+80' for '--port': expected a port number from 0 to 65535",
        ),
        (
            &["-p", "0", "-H", "127.0.0.1", "--metrics-path", "//x"],
            "invalid value '//x' for '--metrics-path'",
        ),
        (
            &[
                "-p",
                "0",
                "-H",
                "127.0.0.1",
                "--metrics-path",
                "/x/../metrics",
            ],
            "invalid value '/x/../metrics' for '--metrics-path'",
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
            &["-H", "127.0.0.1", "-p", "0", "extra"],
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
fn bad_environment_variable_is_a_usage_error_naming_it() {
    for (var, value) in [
        ("SAMPLE_PORT", "notaport"),
        ("SAMPLE_LOG_LEVEL", "loud"),
        ("SAMPLE_METRICS_PATH", "metrics"),
    ] {
        let (status, stdout, stderr) = run("sample", &["-H", "127.0.0.1"], &[(var, value)]);
        assert_eq!(status.code(), Some(2), "{stderr}");
        assert_eq!(stdout, "");
        assert!(
            stderr.contains(&format!("invalid value '{value}' for '{var}'")),
            "{stderr}"
        );
    }
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
fn debug_logs_an_access_line_per_request_and_info_does_not() {
    let mut proc = Proc::spawn(
        "sample",
        &["-p", "0", "-H", "127.0.0.1", "-L", "debug"],
        &[],
    );
    let port = proc.ready();
    assert_eq!(get(port, "/metrics?x=1").status, 200);
    let line = proc.wait_for_stderr("an access line", |l| {
        l.contains(" DEBUG 127.0.0.1:") && l.contains("\"GET /metrics?x=1 HTTP/1.1\" 200 ")
    });
    assert!(
        line.contains("Z DEBUG "),
        "a UTC timestamp and the level: {line}"
    );
    stop_cleanly(&mut proc, "TERM");

    let mut quiet = Proc::spawn("sample", &["-p", "0", "-H", "127.0.0.1", "-L", "info"], &[]);
    let port = quiet.ready();
    assert_eq!(get(port, "/metrics").status, 200);
    stop_cleanly(&mut quiet, "TERM");
    assert!(
        !quiet.stderr().contains("\"GET /metrics"),
        "no access lines at info: {}",
        quiet.stderr()
    );
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
        bodies.push(samples(text));
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
    let values = samples(text);
    for name in support::PROCESS_METRICS {
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
    assert!(html.contains("href=\"./custom\""), "{html}");
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
        let response = get(port, target);
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
    let mut stream = http::connect(port);
    let request = format!("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let response = http::read_response(&mut stream);
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

/// SIGTERM sent again and again, as an impatient supervisor or a `kill` loop does, while the
/// exporter shuts down: every one lands in the exporter's handler, up to the exit, so the status
/// stays 0 (not death by the signal, 143).
#[test]
fn sigterm_repeated_until_the_exit_still_exits_0() {
    for round in 0..10 {
        let (mut proc, port) = start("sample", &[], &[]);
        assert_metrics_response(&get(port, "/metrics"));
        // `kill` is a shell builtin: signals follow each other microseconds apart. The sample
        // is reaped only after the flood stops, so its PID is never reused under it.
        let mut flood = std::process::Command::new("sh")
            .arg("-c")
            .arg("while kill -TERM \"$1\" 2>/dev/null; do :; done")
            .arg("sh")
            .arg(proc.pid().to_string())
            .spawn()
            .expect("cannot run sh");
        // The flood keeps a core busy: the bound is the generous one, since what is tested is
        // the exit status, not how fast it comes.
        proc.wait_output_closed(BOUND);
        let _ = flood.kill();
        let _ = flood.wait();
        let status = proc.finish(BOUND);
        assert_eq!(status.code(), Some(0), "round {round}: {}", proc.describe());
    }
}

/// The set of signals in a `/proc/PID/status` mask line (`SigIgn:` or `SigCgt:`).
fn signal_mask(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap_or_else(|| panic!("no {field} in {status}"));
    u64::from_str_radix(line.trim(), 16).expect("a hex mask")
}

/// Started with SIGINT ignored (`cmd &` in a script, `nohup`), the exporter leaves it so, as
/// shells and Python do; SIGTERM still stops it.
#[test]
fn sigint_ignored_at_start_stays_ignored() {
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg("trap '' INT; exec \"$0\" \"$@\"")
        .arg(support::sample::example("sample"))
        .args(support::sample::TEST_ARGS)
        .env_clear();
    let mut proc = Proc::from_command(command, "sample under sh with SIGINT ignored");
    proc.ready();
    let (sigint, sigterm) = (1u64 << (2 - 1), 1u64 << (15 - 1));
    let ignored = signal_mask(proc.pid(), "SigIgn:");
    let caught = signal_mask(proc.pid(), "SigCgt:");
    assert!(
        ignored & sigint != 0,
        "SIGINT no longer ignored: SigIgn {ignored:x}"
    );
    assert!(caught & sigint == 0, "SIGINT caught: SigCgt {caught:x}");
    assert!(
        caught & sigterm != 0,
        "SIGTERM not caught: SigCgt {caught:x}"
    );
    stop_cleanly(&mut proc, "TERM");
}

/// With its last descriptor in use, the exporter's next `accept` fails with EMFILE although
/// nobody waits (Linux takes the descriptor before looking at the queue): that must not close a
/// connection to make room. It also warns at start that the limit is too low.
#[test]
fn the_last_descriptor_in_use_closes_no_connection() {
    const LIMIT: usize = 32;
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -n {LIMIT} && exec \"$0\" \"$@\""))
        .arg(support::sample::example("sample"))
        .args(support::sample::TEST_ARGS)
        .env_clear();
    let mut proc = Proc::from_command(command, "sample under sh with ulimit -n 32");
    let port = proc.ready();
    let warning = format!("the open files limit (ulimit -n) is {LIMIT}, below");
    assert!(proc.stderr_now().contains(&warning), "{}", proc.describe());
    // Descriptors numbered below the limit (one inherited above it takes no room).
    let in_use = std::fs::read_dir(format!("/proc/{}/fd", proc.pid()))
        .expect("the exporter's descriptors")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<usize>().ok())
        .filter(|&fd| fd < LIMIT)
        .count();
    assert!(in_use < LIMIT, "{in_use} descriptors at rest");
    let request = format!("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    // As many keep-alive connections as there are free descriptors: the last takes the last.
    let mut clients: Vec<std::net::TcpStream> = (in_use..LIMIT)
        .map(|_| {
            let mut client = http::connect(port);
            client.write_all(request.as_bytes()).expect("send");
            assert_eq!(http::read_response(&mut client).status, 200);
            client
        })
        .collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client.write_all(request.as_bytes()).expect("send again");
        let mut byte = [0u8; 1];
        match client.peek(&mut byte) {
            Ok(1) => assert_eq!(http::read_response(client).status, 200),
            other => panic!(
                "connection {i} of {} was closed: {other:?}\n{}",
                LIMIT - in_use,
                proc.describe()
            ),
        }
    }
    stop_cleanly(&mut proc, "TERM");
}

/// node_exporter often runs as another user: the textfile is readable by all (0644) even when
/// the job runs with a umask that would make it private, as client_golang's `WriteToTextfile`.
#[test]
fn textfile_is_readable_by_all_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("textfile-umask-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 077 && exec \"$0\" \"$1\"")
        .arg(support::sample::example("textfile"))
        .arg(&dir)
        .status()
        .expect("run the textfile example");
    assert!(status.success(), "{status}");
    let mode = std::fs::metadata(dir.join("batch_job.prom"))
        .expect("the textfile")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644, "mode {:o}", mode & 0o777);
    std::fs::remove_dir_all(&dir).expect("clean up");
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
fn my_exporter_bad_custom_option_is_a_usage_error() {
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
        assert_eq!(status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert_eq!(stdout, "");
        assert!(stderr.starts_with("usage: "), "{stderr}");
        assert!(stderr.contains(": error: invalid value 'x'"), "{stderr}");
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
        let values = samples(response.text());
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
        let addr6 = SocketAddr::from((Ipv6Addr::LOCALHOST, port6));
        assert_metrics_response(&get(addr6, "/metrics"));
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

/// `-H a b`, as the Python library's `-H HOST [HOST ...]` takes it: both addresses, one port.
#[test]
fn several_hosts_after_one_dash_h() {
    let args = ["-H", "127.0.0.1", "127.0.0.2", "-p", "0", "-L", "info"];
    let mut proc = Proc::spawn("sample", &args, &[]);
    let port = proc.ready();
    const READY_2: &str = " INFO listening on http://127.0.0.2:";
    let line = proc.wait_for_stderr("second readiness line", |l| l.contains(READY_2));
    assert_eq!(
        parse_port(&line, READY_2),
        Some(port),
        "{}",
        proc.describe()
    );
    assert_metrics_response(&get(port, "/metrics"));
    assert_metrics_response(&get(SocketAddr::from(([127, 0, 0, 2], port)), "/metrics"));
    stop_cleanly(&mut proc, "TERM");
}

/// `-H 0.0.0.0 -H ::` on one port listens on both families, as in Python (whose asyncio makes
/// IPv6 listeners IPv6-only); a dual-stack `::` would take the IPv4 port and fail to start.
#[test]
fn ipv4_and_ipv6_wildcards_share_a_port() {
    if TcpListener::bind("[::]:0").is_err() {
        eprintln!("note: no IPv6 here: skipped");
        return;
    }
    // A port free in both families now; another process may take it before the sample does,
    // so a few tries.
    for _ in 0..5 {
        let port = TcpListener::bind("[::]:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        if TcpListener::bind(("0.0.0.0", port)).is_err() {
            continue;
        }
        let port_arg = port.to_string();
        let args = ["-H", "0.0.0.0", "-H", "::", "-p", &port_arg, "-L", "info"];
        let mut proc = Proc::spawn("sample", &args, &[]);
        let line = proc.wait_for_stderr("readiness or failure", |l| {
            l.contains("listening on http://[::]:") || l.contains("CRITICAL")
        });
        if line.contains("Address already in use") && !line.contains("[::]") {
            continue; // Someone else took the IPv4 port meanwhile.
        }
        assert!(line.contains("listening"), "{}", proc.describe());
        assert_metrics_response(&get(port, "/metrics"));
        assert_metrics_response(&get(
            SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
            "/metrics",
        ));
        stop_cleanly(&mut proc, "TERM");
        return;
    }
    panic!("no port free in both families after 5 tries");
}
