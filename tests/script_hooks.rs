//! The script's hooks in a process of their own: this test binary runs itself again as a script
//! (the `child` test, which does nothing unless [`CHILD`] is set), so that `run_script` owns the
//! process, its signal handlers and its exit status, as a real exporter's `main` does.

use std::ffi::OsString;
use std::process::Command;

use prometheus_aioexporter::cli::{ArgParser, Args, CliError};
use prometheus_aioexporter::{
    run_script, BoundExporter, BoxError, Exporter, PrometheusExporterScript, Registry,
};

use crate::support::http::try_get;
use crate::support::sample::{stop_cleanly, Proc, BOUND};

/// Which script the child runs (`limits`, `bad-declaration`, `fails-usage`, `fails-other`); its
/// arguments follow, after spaces.
const CHILD: &str = "SCRIPT_HOOKS_CHILD";
/// The request head limit the `limits` script sets in `configure_exporter`.
const HEAD_LIMIT: usize = 256;

/// Sets limits before binding, and reports its bound addresses at startup.
struct LimitsScript;

impl PrometheusExporterScript for LimitsScript {
    const NAME: &'static str = "limits";
    const DESCRIPTION: &'static str = "Sets limits in configure_exporter.";
    const ENV_PREFIX: Option<&'static str> = Some("");

    fn configure_exporter(&mut self, exporter: &mut Exporter) -> Result<(), BoxError> {
        let mut limits = *exporter.limits();
        limits.max_request_head_bytes = HEAD_LIMIT;
        exporter.set_limits(limits);
        Ok(())
    }

    fn on_application_startup(&mut self, app: &mut BoundExporter) -> Result<(), BoxError> {
        eprintln!("startup sees {:?}", app.local_addrs());
        Ok(())
    }
}

/// Declares an option whose short name the built-in `--port` has.
struct BadDeclarationScript;

impl PrometheusExporterScript for BadDeclarationScript {
    const NAME: &'static str = "bad-declaration";
    const DESCRIPTION: &'static str = "Declares -p twice.";
    const ENV_PREFIX: Option<&'static str> = Some("");

    fn configure_argument_parser(&mut self, parser: &mut ArgParser) {
        parser.add_argument("--path").short('p');
    }
}

/// Fails in `configure_exporter`: with a usage error (its `--size` does not parse), or with
/// another error.
struct FailingScript {
    usage: bool,
    size: Result<Option<usize>, CliError>,
}

impl PrometheusExporterScript for FailingScript {
    const NAME: &'static str = "failing";
    const DESCRIPTION: &'static str = "Fails in configure_exporter.";
    const ENV_PREFIX: Option<&'static str> = Some("");

    fn configure_argument_parser(&mut self, parser: &mut ArgParser) {
        parser.add_argument("--size").default("ten");
    }

    fn configure(&mut self, args: &Args, _: &mut Registry) -> Result<(), BoxError> {
        self.size = args.value_of::<usize>("size");
        Ok(())
    }

    fn configure_exporter(&mut self, _: &mut Exporter) -> Result<(), BoxError> {
        if self.usage {
            std::mem::replace(&mut self.size, Ok(None))?;
        }
        Err("the backend is not configured".into())
    }
}

/// Has a required positional and a required option, as many exporters do.
struct RequiredScript;

impl PrometheusExporterScript for RequiredScript {
    const NAME: &'static str = "required";
    const DESCRIPTION: &'static str = "Needs a config file and a token.";
    const ENV_PREFIX: Option<&'static str> = Some("");

    fn configure_argument_parser(&mut self, parser: &mut ArgParser) {
        parser.add_argument("config").choices(["a.yaml"]);
        parser.add_argument("--token").required();
    }
}

#[test]
fn child() {
    let Some(spec) = std::env::var_os(CHILD) else {
        return;
    };
    let spec = spec.into_string().expect("a UTF-8 child spec");
    let mut words = spec.split(' ');
    let script = words.next().unwrap_or_default();
    let args: Vec<&str> = words.collect();
    let no_env = |_: &str| None::<OsString>;
    let code = match script {
        "limits" => run_script(LimitsScript, args, no_env),
        "bad-declaration" => run_script(BadDeclarationScript, args, no_env),
        "required" => run_script(RequiredScript, args, no_env),
        "fails-usage" | "fails-other" => {
            let usage = script == "fails-usage";
            run_script(
                FailingScript {
                    usage,
                    size: Ok(None),
                },
                args,
                no_env,
            )
        }
        other => panic!("no child script {other:?}"),
    };
    std::process::exit(code);
}

/// The [`child`] test's name as the test harness knows it: its path in the test binary without
/// the crate's name (`script_hooks::child` in tests/tests.rs).
fn child_test_name() -> String {
    match module_path!().split_once("::") {
        Some((_crate, module)) => format!("{module}::child"),
        None => "child".to_string(),
    }
}

/// Starts this test binary as the script `spec` names: it runs the [`child`] test alone.
fn start_child(spec: &str) -> Proc {
    let mut command = Command::new(std::env::current_exe().expect("the test's own path"));
    command
        .args([
            "--exact",
            &child_test_name(),
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, spec);
    Proc::from_command(command, spec)
}

#[test]
fn configure_exporter_sets_limits_before_binding() {
    let mut proc = start_child("limits -p 0 -H 127.0.0.1 -L info");
    let port = proc.ready();
    let startup = proc.wait_for_stderr("the startup line", |l| l.contains("startup sees"));
    assert!(
        startup.contains(&format!("[127.0.0.1:{port}]")),
        "local_addrs at startup: {startup}"
    );

    let small = try_get(port, "/metrics", &[]).expect("a small request");
    assert_eq!(small.status, 200, "{}", proc.describe());
    let padding = "x".repeat(HEAD_LIMIT);
    let large = try_get(port, "/metrics", &[("X-Padding", &padding)]).expect("a large request");
    assert_eq!(
        large.status, 431,
        "the limit set in configure_exporter applies"
    );
    stop_cleanly(&mut proc, "TERM");
}

#[test]
fn an_invalid_declaration_is_the_exporter_s_error_not_a_usage_error() {
    for args in ["", " --help"] {
        let mut proc = start_child(&format!("bad-declaration{args}"));
        let status = proc.finish(BOUND);
        let stderr = proc.stderr();
        assert_eq!(status.code(), Some(1), "{args:?}: {}", proc.describe());
        assert!(
            stderr.contains(
                "invalid declaration of '--path': '-p' is already used by '--port' \
                 (a bug in the exporter, not in its command line)"
            ),
            "{stderr}"
        );
        assert!(!stderr.contains("usage:"), "no usage line: {stderr}");
    }
}

#[test]
fn configure_exporter_errors_exit_2_for_usage_and_1_for_the_rest() {
    let mut usage = start_child("fails-usage");
    assert_eq!(usage.finish(BOUND).code(), Some(2), "{}", usage.describe());
    let stderr = usage.stderr();
    assert!(stderr.contains("usage: failing"), "{stderr}");
    assert!(
        stderr.contains("error: invalid value 'ten' for '--size'"),
        "{stderr}"
    );

    let mut other = start_child("fails-other");
    assert_eq!(other.finish(BOUND).code(), Some(1), "{}", other.describe());
    let stderr = other.stderr();
    assert!(
        stderr.contains("CRITICAL configuration failed: the backend is not configured"),
        "{stderr}"
    );
    assert!(!stderr.contains("usage:"), "{stderr}");
}

/// `--healthcheck` reads the built-in options only: the script's own required arguments, which
/// a container's `HEALTHCHECK` does not repeat, are not asked for.
#[test]
fn healthcheck_skips_the_script_s_required_arguments() {
    let (mut exporter, port) = crate::support::sample::start("sample", &[], &[]);
    let mut check = start_child(&format!("required --healthcheck -H 127.0.0.1 -p {port}"));
    let status = check.finish(BOUND);
    assert_eq!(status.code(), Some(0), "{}", check.describe());

    // Without it they are required; so they are when the word is only an option's value or
    // comes after `--` (it asks for no health check there).
    for args in [
        "",
        " --token --healthcheck",
        " --token=--healthcheck",
        " -- --healthcheck",
    ] {
        let mut run = start_child(&format!("required -H 127.0.0.1 -p {port}{args}"));
        let status = run.finish(BOUND);
        assert_eq!(status.code(), Some(2), "{args:?}: {}", run.describe());
        let stderr = run.stderr();
        assert!(
            stderr.contains("missing required argument") || stderr.contains("invalid value"),
            "{args:?}: {}",
            run.describe()
        );
    }
    stop_cleanly(&mut exporter, "TERM");
}
