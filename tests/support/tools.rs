//! Programs the tests run beside the crate: found on `PATH`, and `promtool check metrics`.
//!
//! `promtool` and `prometheus` come with Debian's `prometheus` package. Without them, a test
//! prints a note and passes, unless the environment variable `CI` is non-empty, in which case it
//! fails.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// `name` on `PATH`, if there is such an executable file.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The program `name` of Debian's `prometheus` package, or `None` after a note on stderr that
/// `skipping` is skipped. Panics when it is missing and `CI` is non-empty.
pub fn prometheus_tool(name: &str, skipping: &str) -> Option<PathBuf> {
    debian_tool(name, "prometheus", skipping)
}

/// The program `name` of Debian's `package`, or `None` after a note on stderr that `skipping`
/// is skipped. Panics when it is missing and `CI` is non-empty: CI installs every tool.
#[allow(dead_code)]
pub fn debian_tool(name: &str, package: &str, skipping: &str) -> Option<PathBuf> {
    let found = find_on_path(name);
    if found.is_none() {
        if std::env::var_os("CI").is_some_and(|ci| !ci.is_empty()) {
            panic!("{name} not found: install Debian's {package} package");
        }
        eprintln!(
            "note: {name} not found on PATH, skipping {skipping} (install Debian's {package} \
             package)"
        );
    }
    found
}

/// Runs `promtool check metrics` on `body`: `Ok` if it exits 0 and prints nothing, otherwise
/// `Err` with its exit status and output. `None` when promtool is not installed.
pub fn promtool_check(body: &[u8]) -> Option<Result<(), String>> {
    let promtool = prometheus_tool("promtool", "the check")?;
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run promtool");
    let mut stdin = child.stdin.take().expect("promtool's stdin");
    let input = body.to_vec();
    // A separate thread, so a large body cannot deadlock against promtool's output pipes.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("cannot wait for promtool");
    let written = writer.join().expect("stdin writer panicked");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() && stdout.is_empty() && stderr.is_empty() && written.is_ok() {
        Some(Ok(()))
    } else {
        Some(Err(format!(
            "promtool check metrics: {} (stdin: {:?})\n--- stdout ---\n{stdout}--- stderr ---\n{stderr}",
            output.status, written
        )))
    }
}

/// Asserts that promtool finds nothing wrong with `body` (skipped without promtool).
#[track_caller]
pub fn assert_promtool_clean(body: &[u8]) {
    if let Some(Err(problem)) = promtool_check(body) {
        panic!(
            "{problem}--- body ---\n{}--- end ---",
            String::from_utf8_lossy(body)
        );
    }
}
