//! What operators meet (issue 18), over the real sample binary and real sockets: JSON log
//! lines, the `.env` file, `/-/healthy` and `--healthcheck`, and the rough edges found by
//! testing (`-H` values, the `Connection` header, the startup line, a failed textfile, serving
//! a shut-down server).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use prometheus_aioexporter::{Exporter, MetricConfig, Registry};

use crate::support::http::{connect, get, read_response};
use crate::support::sample::{
    example, parse_port, run, start, stop_cleanly, Proc, BOUND, TEST_ARGS,
};

// ---------------------------------------------------------------------------------------------
// A strict JSON checker (RFC 8259), so that the tests need no JSON crate and no Python
// ---------------------------------------------------------------------------------------------

/// A parsed JSON value; objects keep their last value per key.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

impl Json {
    fn text(&self) -> Option<&str> {
        match self {
            Json::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// Parses one JSON document that must fill `input` (white space around allowed).
fn parse_json(input: &str) -> Result<Json, String> {
    let mut p = JsonParser {
        bytes: input.as_bytes(),
        at: 0,
    };
    let value = p.value()?;
    p.space();
    if p.at != p.bytes.len() {
        return Err(format!("trailing bytes at {}", p.at));
    }
    Ok(value)
}

struct JsonParser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl JsonParser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), String> {
        if self.peek() == Some(b) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at {}", b as char, self.at))
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(format!("bad literal at {}", self.at))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.space();
        match self.peek() {
            Some(b'{') => {
                self.at += 1;
                let mut map = BTreeMap::new();
                self.space();
                if self.peek() == Some(b'}') {
                    self.at += 1;
                    return Ok(Json::Object(map));
                }
                loop {
                    self.space();
                    let key = self.string()?;
                    self.space();
                    self.expect(b':')?;
                    let value = self.value()?;
                    map.insert(key, value);
                    self.space();
                    match self.peek() {
                        Some(b',') => self.at += 1,
                        Some(b'}') => {
                            self.at += 1;
                            return Ok(Json::Object(map));
                        }
                        _ => return Err(format!("expected , or }} at {}", self.at)),
                    }
                }
            }
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                self.space();
                if self.peek() == Some(b']') {
                    self.at += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    self.space();
                    match self.peek() {
                        Some(b',') => self.at += 1,
                        Some(b']') => {
                            self.at += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return Err(format!("expected , or ] at {}", self.at)),
                    }
                }
            }
            Some(b'"') => self.string().map(Json::Text),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(format!("unexpected byte at {}", self.at)),
        }
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.at;
        let digits = |p: &mut Self| {
            let from = p.at;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.at += 1;
            }
            p.at - from
        };
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        if self.peek() == Some(b'0') {
            self.at += 1;
        } else if digits(self) == 0 {
            return Err(format!("bad number at {start}"));
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if digits(self) == 0 {
                return Err(format!("bad fraction at {start}"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if digits(self) == 0 {
                return Err(format!("bad exponent at {start}"));
            }
        }
        let text = std::str::from_utf8(&self.bytes[start..self.at]).map_err(|e| e.to_string())?;
        text.parse().map(Json::Number).map_err(|e| format!("{e}"))
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let rest = std::str::from_utf8(&self.bytes[self.at..]).map_err(|e| e.to_string())?;
            let mut chars = rest.chars();
            let c = chars.next().ok_or("unterminated string")?;
            self.at += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let e = self.peek().ok_or("unterminated escape")?;
                    self.at += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hex = self.bytes.get(self.at..self.at + 4).ok_or("short \\u")?;
                            let hex = std::str::from_utf8(hex).map_err(|e| e.to_string())?;
                            let code = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                            self.at += 4;
                            // Surrogates do not occur in what the crate writes.
                            out.push(char::from_u32(code).ok_or("surrogate \\u")?);
                        }
                        _ => return Err(format!("bad escape at {}", self.at)),
                    }
                }
                c if c < ' ' => return Err(format!("raw control character at {}", self.at)),
                c => out.push(c),
            }
        }
    }
}

/// Every line of `stderr` as a JSON object; fails the test on any other line.
#[track_caller]
fn json_lines(stderr: &str) -> Vec<BTreeMap<String, Json>> {
    stderr
        .lines()
        .map(|line| match parse_json(line) {
            Ok(Json::Object(map)) => map,
            Ok(other) => panic!("not an object: {other:?} in {line:?}"),
            Err(err) => panic!("not JSON ({err}): {line:?}"),
        })
        .collect()
}

/// Python's `json` module agrees that every line is one object (skipped without python3).
#[track_caller]
fn python_agrees(stderr: &str) {
    let Some(python) = crate::support::tools::find_on_path("python3") else {
        eprintln!("note: python3 not found, only the in-test JSON check ran");
        return;
    };
    let script = "import json, sys\n\
                  for line in sys.stdin.buffer.read().decode('utf-8').splitlines():\n\
                  \x20   assert isinstance(json.loads(line), dict), line\n";
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("python3 starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stderr.as_bytes())
        .expect("write to python3");
    assert!(child.wait().expect("python3 ends").success(), "{stderr}");
}

/// Starts the sample logging JSON at debug; returns it once the readiness object is seen, with
/// its port.
fn start_json(extra_env: &[(&str, &str)]) -> (Proc, u16) {
    let args = [
        "-p",
        "0",
        "-H",
        "127.0.0.1",
        "-L",
        "debug",
        "--log-format",
        "json",
    ];
    let mut proc = Proc::spawn("sample", &args, extra_env);
    const READY: &str = "\"message\":\"listening on http://127.0.0.1:";
    let line = proc.wait_for_stderr("a JSON readiness line", |l| l.contains(READY));
    let port = parse_port(&line, READY).expect("a port in the readiness line");
    (proc, port)
}

/// Sends `request` as it is on a new connection and reads one response.
fn exchange(port: u16, request: &[u8]) -> crate::support::http::Response {
    let mut stream = connect(port);
    stream.write_all(request).expect("send");
    read_response(&mut stream)
}

// ---------------------------------------------------------------------------------------------
// Part 1: --log-format json
// ---------------------------------------------------------------------------------------------

#[test]
fn json_log_lines_are_valid_json_whatever_the_client_sends() {
    let (mut proc, port) = start_json(&[]);
    // A path with quotes, a backslash, an escape and bytes that are not UTF-8, and a user agent
    // with a tab, quotes and invalid UTF-8.
    let nasty: &[u8] =
        b"GET /metrics?q=\"a\\b\"&e=%1b\xff\xfe HTTP/1.1\r\nHost: x\r\nUser-Agent: \"ag\tent\" \xc3\x28\r\nConnection: close\r\n\r\n";
    let _ = exchange(port, nasty);
    let plain = exchange(port, b"GET /nope HTTP/1.0\r\n\r\n");
    assert_eq!(plain.status, 404);
    proc.wait_for_stderr("the 404's access line", |l| l.contains("\"status\":404"));
    stop_cleanly(&mut proc, "TERM");

    let stderr = proc.stderr();
    let lines = json_lines(&stderr);
    python_agrees(&stderr);
    for line in &lines {
        for key in ["time", "level", "target", "message"] {
            assert!(
                line.get(key).and_then(Json::text).is_some(),
                "{key} in {line:?}"
            );
        }
        let time = line["time"].text().unwrap_or_default();
        assert!(time.len() == 24 && time.ends_with('Z'), "{time}");
    }
    let started = lines
        .iter()
        .filter(|l| {
            l["message"]
                .text()
                .is_some_and(|m| m.starts_with("starting "))
        })
        .count();
    assert_eq!(started, 1, "{stderr}");
    let access: Vec<_> = lines.iter().filter(|l| l.contains_key("status")).collect();
    assert!(!access.is_empty(), "no access lines in\n{stderr}");
    for line in &access {
        assert_eq!(line["level"], Json::Text("debug".into()));
        assert_eq!(
            line["target"],
            Json::Text("prometheus_aioexporter::exporter::app".into())
        );
        assert!(matches!(line["status"], Json::Number(_)), "{line:?}");
        assert!(
            matches!(line["bytes"], Json::Number(n) if n > 0.0),
            "{line:?}"
        );
        assert!(
            matches!(line["duration_seconds"], Json::Number(n) if n >= 0.0),
            "{line:?}"
        );
        let address = line["address"].text().unwrap_or_default();
        assert!(address.starts_with("127.0.0.1:"), "{line:?}");
        for key in ["method", "path", "version", "user_agent"] {
            assert!(
                line.get(key).and_then(Json::text).is_some(),
                "{key} in {line:?}"
            );
        }
    }
    let not_found = access
        .iter()
        .find(|l| l["path"] == Json::Text("/nope".into()))
        .unwrap_or_else(|| panic!("no access line for /nope in\n{stderr}"));
    assert_eq!(not_found["status"], Json::Number(404.0));
    assert_eq!(not_found["version"], Json::Text("1.0".into()));
    // If the nasty request was read at all, its path and agent came through whole.
    if let Some(nasty) = access.iter().find(|l| {
        l["method"] == Json::Text("GET".into())
            && l["path"]
                .text()
                .is_some_and(|p| p.starts_with("/metrics?q="))
    }) {
        let path = nasty["path"].text().unwrap_or_default();
        assert!(path.starts_with("/metrics?q=\"a\\b\"&e=%1b"), "{path:?}");
        let agent = nasty["user_agent"].text().unwrap_or_default();
        assert!(agent.starts_with("\"ag\tent\" "), "{agent:?}");
    }
}

#[test]
fn log_format_reads_its_environment_variable_and_refuses_others() {
    let args = ["-p", "0", "-H", "127.0.0.1", "-L", "info"];
    let mut proc = Proc::spawn("sample", &args, &[("SAMPLE_LOG_FORMAT", "JSON")]);
    let line = proc.wait_for_stderr("a JSON line", |l| l.starts_with("{\"time\":"));
    assert!(parse_json(line.trim_end()).is_ok(), "{line}");
    stop_cleanly(&mut proc, "TERM");
    json_lines(&proc.stderr());

    let (status, stdout, stderr) = run("sample", &["--log-format", "xml"], &[]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("invalid value 'xml' for '--log-format': expected one of plain, json"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// Part 2: the .env file
// ---------------------------------------------------------------------------------------------

/// A new empty directory for one test.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "prometheus-aioexporter-ops-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// The sample, started in `dir` with `args` and only the environment `env`.
fn spawn_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Proc {
    let mut command = Command::new(example("sample"));
    command
        .current_dir(dir)
        .args(args)
        .env_clear()
        .envs(env.iter().copied());
    Proc::from_command(command, "sample")
}

#[test]
fn dotenv_configures_below_the_environment_and_the_command_line() {
    let dir = scratch_dir("dotenv");
    std::fs::write(
        dir.join(".env"),
        "# the sample's settings\n\
         export SAMPLE_PORT=0\n\
         SAMPLE_HOST = '127.0.0.1'   # loopback only\n\
         SAMPLE_LOG_LEVEL=\"info\"\n\
         SAMPLE_METRICS_PATH=/from-file\n",
    )
    .expect("write .env");
    // The file alone.
    let mut proc = spawn_in(&dir, &[], &[]);
    let port = proc.ready();
    assert_eq!(get(port, "/from-file").status, 200);
    stop_cleanly(&mut proc, "TERM");
    // The environment beats the file; the command line beats both.
    let env = [("SAMPLE_METRICS_PATH", "/from-env")];
    let mut proc = spawn_in(&dir, &[], &env);
    let port = proc.ready();
    assert_eq!(get(port, "/from-env").status, 200);
    assert_eq!(get(port, "/from-file").status, 404);
    stop_cleanly(&mut proc, "TERM");
    let mut proc = spawn_in(&dir, &["--metrics-path", "/from-cli"], &env);
    let port = proc.ready();
    assert_eq!(get(port, "/from-cli").status, 200);
    stop_cleanly(&mut proc, "TERM");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dotenv_path_comes_from_its_variable() {
    let dir = scratch_dir("dotenv-named");
    std::fs::write(dir.join(".env"), "SAMPLE_METRICS_PATH=/default-file\n").expect("write");
    let named = dir.join("other.env");
    std::fs::write(&named, "SAMPLE_METRICS_PATH=/named-file\n").expect("write");
    let named = named.to_str().expect("a UTF-8 path");
    let args = ["-p", "0", "-H", "127.0.0.1", "-L", "info"];
    let mut proc = spawn_in(&dir, &args, &[("SAMPLE_DOTENV", named)]);
    let port = proc.ready();
    assert_eq!(get(port, "/named-file").status, 200);
    stop_cleanly(&mut proc, "TERM");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dotenv_errors_name_the_file_and_line_and_exit_1() {
    let dir = scratch_dir("dotenv-bad");
    std::fs::write(dir.join(".env"), "SAMPLE_PORT=0\nnot a setting\n").expect("write");
    let mut proc = spawn_in(&dir, &TEST_ARGS, &[]);
    let status = proc.finish(BOUND);
    let stderr = proc.stderr();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(".env, line 2: expected KEY=value, found 'not a setting'"),
        "{stderr}"
    );

    // A file named on purpose must exist; the default one need not.
    let missing = dir.join("missing.env");
    let missing = missing.to_str().expect("a UTF-8 path");
    let mut proc = spawn_in(&dir, &TEST_ARGS, &[("SAMPLE_DOTENV", missing)]);
    let status = proc.finish(BOUND);
    let stderr = proc.stderr();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot read {missing}: ")),
        "{stderr}"
    );

    // `--help` and `--version` still answer: the file's error waits for a run.
    std::fs::write(dir.join(".env"), "not a setting\n").expect("write");
    for flag in ["--help", "-V"] {
        let mut proc = spawn_in(&dir, &[flag], &[]);
        let status = proc.finish(BOUND);
        assert_eq!(status.code(), Some(0), "{flag}: {}", proc.describe());
    }

    std::fs::remove_file(dir.join(".env")).expect("remove .env");
    let mut proc = spawn_in(&dir, &TEST_ARGS, &[]);
    proc.ready();
    stop_cleanly(&mut proc, "TERM");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// Part 4: /-/healthy and --healthcheck
// ---------------------------------------------------------------------------------------------

#[test]
fn healthy_answers_200_without_running_the_update_handler() {
    let mut exporter = Exporter::new("health", "");
    exporter.set_hosts(["127.0.0.1"]).set_port(0);
    exporter
        .registry_mut()
        .create_metrics([MetricConfig::new("up", "Up.", "gauge")])
        .expect("a metric");
    let updates = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&updates);
    exporter.set_metric_update_handler(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    let running = exporter.spawn().expect("spawn");
    let addr = running.local_addrs()[0];

    let healthy = get(addr, "/-/healthy");
    assert_eq!((healthy.status, healthy.text()), (200, "OK\n"));
    assert_eq!(
        healthy.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    // HEAD: the head alone, read to the end of the connection.
    let mut stream = connect(addr);
    stream
        .write_all(b"HEAD /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut head = String::new();
    stream.read_to_string(&mut head).expect("read to the end");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("\r\nContent-Length: 3\r\n"), "{head}");
    assert!(head.ends_with("\r\n\r\n"), "no body: {head:?}");
    let post = exchange(addr.port(), b"POST /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(post.status, 405);
    assert_eq!(
        updates.load(Ordering::SeqCst),
        0,
        "the handler ran for /-/healthy"
    );

    assert_eq!(get(addr, "/metrics").status, 200);
    assert_eq!(updates.load(Ordering::SeqCst), 1);
    running.shutdown().expect("shutdown");
}

#[test]
fn healthcheck_exits_0_when_the_exporter_answers() {
    let (mut proc, port) = start("sample", &[], &[]);
    let port_text = port.to_string();
    // From the command line, and from the environment with a wildcard host, which is asked on
    // its loopback address.
    let (status, stdout, stderr) = run("sample", &["--healthcheck", "-p", &port_text], &[]);
    assert_eq!(status.code(), Some(0), "{stdout}{stderr}");
    assert!(stderr.contains(": healthy: http://127.0.0.1:"), "{stderr}");
    assert!(stderr.contains("/-/healthy: HTTP/1.1 200 OK"), "{stderr}");
    let env = [
        ("SAMPLE_PORT", port_text.as_str()),
        ("SAMPLE_HOST", "0.0.0.0"),
    ];
    let (status, stdout, stderr) = run("sample", &["--healthcheck"], &env);
    assert_eq!(status.code(), Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("http://127.0.0.1:"), "{stderr}");
    stop_cleanly(&mut proc, "TERM");

    // Nothing listens there any more.
    let (status, _, stderr) = run("sample", &["--healthcheck", "-p", &port_text], &[]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("unhealthy: http://127.0.0.1:"), "{stderr}");
}

#[test]
fn healthcheck_gives_up_after_2_seconds() {
    // A listener that accepts (the kernel does) but never answers.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    // The examples are built (once per test process) before the clock starts.
    example("sample");
    let started = Instant::now();
    let (status, _, stderr) = run(
        "sample",
        &["--healthcheck", "-H", "127.0.0.1", "-p", &port],
        &[],
    );
    let took = started.elapsed();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no answer within 2 s"), "{stderr}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "{took:?}"
    );
    drop(listener);
}

#[test]
fn healthcheck_is_never_read_from_the_environment() {
    // Set for a check, it must not turn the exporter itself into one.
    let (mut proc, port) = start("sample", &[], &[("SAMPLE_HEALTHCHECK", "1")]);
    assert_eq!(get(port, "/-/healthy").status, 200);
    stop_cleanly(&mut proc, "TERM");
}

// ---------------------------------------------------------------------------------------------
// Part 5: rough edges
// ---------------------------------------------------------------------------------------------

#[test]
fn a_host_from_the_command_line_is_one_value() {
    let (status, _, stderr) = run("sample", &["-H", "not a host!", "-p", "0"], &[]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("'not a host!'"),
        "the whole value is named: {stderr}"
    );
    // The environment variable still holds several.
    let mut proc = Proc::spawn(
        "sample",
        &["-p", "0", "-L", "info"],
        &[("SAMPLE_HOST", "127.0.0.1 127.0.0.2")],
    );
    proc.ready();
    proc.wait_for_stderr("the second host", |l| l.contains("http://127.0.0.2:"));
    stop_cleanly(&mut proc, "TERM");
}

#[test]
fn every_status_follows_one_connection_rule() {
    let (mut proc, port) = start("sample", &[], &[]);
    // (request line and headers, the Connection header expected on 200, 404 and 405 alike)
    let cases: &[(&str, Option<&str>)] = &[
        ("HTTP/1.1\r\nHost: x", None),
        ("HTTP/1.1\r\nHost: x\r\nConnection: close", Some("close")),
        ("HTTP/1.0\r\nConnection: keep-alive", Some("keep-alive")),
        ("HTTP/1.0", Some("close")),
    ];
    for (rest, want) in cases {
        for (method, path, status) in [
            ("GET", "/", 200),
            ("GET", "/-/healthy", 200),
            ("GET", "/nope", 404),
            ("POST", "/", 405),
            ("GET", "/metrics", 200),
        ] {
            let request = format!("{method} {path} {rest}\r\n\r\n");
            let response = exchange(port, request.as_bytes());
            assert_eq!(response.status, status, "{request:?}");
            assert_eq!(response.header("Connection"), *want, "{request:?}");
        }
    }
    stop_cleanly(&mut proc, "TERM");
}

#[test]
fn info_names_the_exporter_and_its_version_once() {
    let (mut proc, _) = start("sample", &[], &[]);
    stop_cleanly(&mut proc, "TERM");
    let stderr = proc.stderr();
    let want = format!(
        " INFO starting prometheus-aioexporter-sample {0} (prometheus-aioexporter {0})\n",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(stderr.matches(&want).count(), 1, "{stderr}");
    let starting = stderr.find(&want).unwrap_or_default();
    let listening = stderr.find(" INFO listening on ").unwrap_or_default();
    assert!(starting < listening, "the name comes first: {stderr}");
}

#[test]
fn a_failed_textfile_names_the_target() {
    let dir = scratch_dir("textfile");
    let target = dir.join("missing-dir").join("job.prom");
    let err = Registry::new().write_textfile(&target).unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("cannot write {}: ", target.display())),
        "{message}"
    );
    assert!(!message.contains(".tmp"), "{message}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serving_a_shut_down_exporter_returns_at_once() {
    let mut exporter = Exporter::new("done", "");
    exporter.set_hosts(["127.0.0.1"]).set_port(0);
    let mut bound = exporter.bind().expect("bind");
    bound.shutdown();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let first = bound.serve(None).map_err(|e| e.to_string());
        let second = bound.serve(None).map_err(|e| e.to_string());
        let _ = tx.send((first, second));
    });
    let (first, second) = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("serve returned within 5 s");
    assert_eq!((first, second), (Ok(()), Ok(())));
}
