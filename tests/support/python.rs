//! The official Python client (`prometheus-client` from PyPI, which `.ci/run` installs): the
//! reference for content negotiation (`choose_encoder`) and the strict OpenMetrics parser.
//!
//! Without `python3` or the client a test prints a note and passes, unless the environment
//! variable `CI` is non-empty, in which case it fails (as for promtool, see `tools`).
#![allow(dead_code)]

use std::io::Write as _;
use std::process::{Command, Stdio};

use super::tools::find_on_path;

/// `python3`, if the Python client imports there; otherwise `None` after a note on stderr that
/// `skipping` is skipped. Panics when it is missing and `CI` is non-empty.
pub fn python_client(skipping: &str) -> Option<&'static str> {
    let importable = find_on_path("python3").is_some()
        && Command::new("python3")
            .args(["-c", "import prometheus_client"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !importable {
        if std::env::var_os("CI").is_some_and(|ci| !ci.is_empty()) {
            panic!("python3 with prometheus_client not found: pip install prometheus-client");
        }
        eprintln!(
            "note: python3 with prometheus_client not found, skipping {skipping} \
             (pip install prometheus-client)"
        );
        return None;
    }
    Some("python3")
}

/// Runs `python3 -c script` with `input` on stdin and returns its stdout; panics with its
/// stderr if it fails.
#[track_caller]
pub fn run_python(script: &str, input: Vec<u8>) -> String {
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run python3");
    let mut stdin = child.stdin.take().expect("python's stdin");
    // A separate thread, so a large input cannot deadlock against python's output pipes.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("cannot wait for python3");
    writer
        .join()
        .expect("stdin writer panicked")
        .expect("write to python3");
    assert!(
        output.status.success(),
        "python3 failed: {}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("python3 printed UTF-8")
}

/// A JSON string literal of `s`, for the scripts' stdin.
pub fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The value of the string field `field` in one line of JSON the scripts print (flat objects
/// of strings, with `json.dumps` escapes).
pub fn json_field(line: &str, field: &str) -> String {
    let key = format!("\"{field}\": \"");
    let start = line
        .find(&key)
        .unwrap_or_else(|| panic!("no {field} in {line}"))
        + key.len();
    let mut out = String::new();
    let mut chars = line[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return out,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let n = u32::from_str_radix(&hex, 16).expect("a \\u escape");
                    out.push(char::from_u32(n).unwrap_or('\u{fffd}'));
                }
                Some(c) => out.push(c),
                None => break,
            },
            c => out.push(c),
        }
    }
    panic!("unterminated {field} in {line}")
}

/// Each family the Python client's OpenMetrics parser reads from stdin: name, type, samples.
#[allow(dead_code)]
pub const PARSE_OPENMETRICS: &str = r#"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
for f in sorted(text_string_to_metric_families(sys.stdin.read()), key=lambda f: f.name):
    print(f.name, f.type, len(f.samples))
"#;

/// An exposition's lines sorted, with the values read as numbers: the Python client writes
/// `3.0` where we write `3`, and orders families as it registers them.
#[allow(dead_code)]
pub fn normalise(body: &str) -> Vec<String> {
    let mut lines: Vec<String> = body
        .lines()
        .map(|line| match line.rsplit_once(' ') {
            Some((start, v)) if !line.starts_with('#') => {
                format!("{start} {}", v.parse::<f64>().expect("a number"))
            }
            _ => line.to_string(),
        })
        .collect();
    lines.sort();
    lines
}
