//! What the table tests of every file share: the parser most cases run against, the case type
//! and the runner.

use std::ffi::OsString;

use super::{ArgParser, Args, Parsed};

/// The parser most cases run against: the shape of a real exporter's command line.
pub(super) fn exporter() -> ArgParser {
    let mut p = ArgParser::new("my-exporter", "My Prometheus exporter.");
    p.version("1.2.3");
    p.add_argument("--host")
        .short('H')
        .multiple()
        .default("localhost")
        .help("host addresses to bind, may be repeated");
    p.add_argument("--port")
        .short('p')
        .default("9090")
        .help("port to listen on");
    p.add_argument("--log-level")
        .short('L')
        .choices(["critical", "error", "warning", "info", "debug"])
        .default("info")
        .help("minimum level of log messages");
    p.add_argument("--process-stats")
        .flag()
        .help("include process stats in metrics");
    p.add_argument("--metrics-path")
        .metavar("PATH")
        .default("/metrics")
        .help("path under which metrics are exposed");
    p.add_argument("target").help("what to scrape");
    p
}

/// What a case expects.
pub(super) enum Expect {
    /// Parsed arguments, rendered by [`render`].
    Run(&'static str),
    /// The exact error message.
    Err(&'static str),
    /// The help text.
    Help,
    /// The version text.
    Version(&'static str),
}

/// One case: a name, a change to [`exporter`], argv, environment, expected outcome.
pub(super) struct Case {
    name: &'static str,
    setup: fn(&mut ArgParser),
    argv: Vec<OsString>,
    env: &'static [(&'static str, &'static str)],
    expect: Expect,
}

pub(super) fn case(
    name: &'static str,
    argv: &[&str],
    env: &'static [(&'static str, &'static str)],
    expect: Expect,
) -> Case {
    Case {
        name,
        setup: |_| {},
        argv: argv.iter().map(OsString::from).collect(),
        env,
        expect,
    }
}

/// Runs `setup` on the parser before the case.
pub(super) fn with(setup: fn(&mut ArgParser), case: Case) -> Case {
    Case { setup, ..case }
}

/// Replaces the case's argv (for arguments that are not valid UTF-8).
#[cfg(unix)]
pub(super) fn argv(argv: Vec<OsString>, case: Case) -> Case {
    Case { argv, ..case }
}

/// An argument that is not valid UTF-8: `prefix` followed by a stray byte.
#[cfg(unix)]
pub(super) fn non_utf8_arg(prefix: &str) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    let mut bytes = prefix.as_bytes().to_vec();
    bytes.push(0xff);
    OsString::from_vec(bytes)
}

/// All values and set flags as "key=v1,v2 flag key=v", sorted by key.
pub(super) fn render(args: &Args) -> String {
    let mut parts: Vec<(&str, String)> = Vec::new();
    for (key, values) in args.all_values() {
        parts.push((key, format!("{}={}", key, values.join(","))));
    }
    for key in args.set_flags() {
        parts.push((key, key.to_owned()));
    }
    parts.sort();
    let parts: Vec<String> = parts.into_iter().map(|(_, part)| part).collect();
    parts.join(" ")
}

/// Runs every case against [`exporter`] changed by its setup, and checks that there are at least
/// `at_least` of them, so that none is lost to a `cfg` or an edit.
pub(super) fn run(cases: &[Case], at_least: usize) {
    for case in cases {
        let mut parser = exporter();
        (case.setup)(&mut parser);
        let env = |key: &str| {
            case.env
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| OsString::from(v))
        };
        let got = parser.parse_from(case.argv.clone(), env);
        let ok = match (&got, &case.expect) {
            (Ok(Parsed::Run(args)), Expect::Run(want)) => render(args) == *want,
            (Err(err), Expect::Err(want)) => err.to_string() == *want,
            (Ok(Parsed::Help(text)), Expect::Help) => *text == parser.help(),
            (Ok(Parsed::Version(text)), Expect::Version(want)) => text == want,
            _ => false,
        };
        let rendered = match &got {
            Ok(Parsed::Run(args)) => format!("Run({:?})", render(args)),
            other => format!("{:?}", other),
        };
        assert!(ok, "case {:?}: got {}", case.name, rendered);
    }
    assert!(cases.len() >= at_least, "{} cases", cases.len());
}
