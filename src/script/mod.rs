//! The script: an exporter written as one type with a few hooks, run by one line of `main`.
//! The top layer: it uses the command line (`cli`), the exporter, the server's signals and the
//! log.
//!
//! This is the Rust shape of Python's `PrometheusExporterScript`. [`PrometheusExporterScript`]
//! declares the name, description and default port, and hooks for the command line, the
//! configuration, startup and shutdown; [`PrometheusExporterScript::run`] does the rest: it
//! parses the command line (built-in options plus the script's), sets the log level, installs
//! the SIGTERM/SIGINT handlers, calls the hooks in order, serves, and exits with the right code
//! (0 after a clean shutdown, 2 for a usage error, 1 for any other failure).

mod healthcheck;

use std::ffi::OsString;
use std::io::Write;

use crate::cli::{parse_dotenv, ArgParser, Args, CliError, Parsed};
use crate::exporter::{BoundExporter, Exporter};
use crate::log::{self, log_critical, log_debug, log_warning, Level, LogFormat};
use crate::registry::{BoxError, Registry};
use crate::server::{raise_open_files_limit, ShutdownSignals};

/// Exit code after a clean shutdown, `--help` or `--version`.
///
/// ```
/// use prometheus_aioexporter::{run_script, PrometheusExporterScript, EXIT_OK};
///
/// struct MyExporter;
/// impl PrometheusExporterScript for MyExporter {
///     const NAME: &'static str = "my-exporter";
///     const DESCRIPTION: &'static str = "My exporter.";
/// }
/// assert_eq!(run_script(MyExporter, ["--help"], |_| None), EXIT_OK);
/// ```
pub const EXIT_OK: i32 = 0;
/// Exit code when configuration, startup or serving fails.
///
/// ```
/// use prometheus_aioexporter::cli::Args;
/// use prometheus_aioexporter::{run_script, BoxError, PrometheusExporterScript, Registry, EXIT_FAILURE};
///
/// struct Broken;
/// impl PrometheusExporterScript for Broken {
///     const NAME: &'static str = "broken";
///     const DESCRIPTION: &'static str = "Cannot reach its backend.";
///     fn configure(&mut self, _args: &Args, _registry: &mut Registry) -> Result<(), BoxError> {
///         Err("cannot connect to the database".into())
///     }
/// }
/// assert_eq!(run_script(Broken, ["-p", "0"], |_| None), EXIT_FAILURE);
/// ```
pub const EXIT_FAILURE: i32 = 1;
/// Exit code for a command line error (as argparse and BSD's `sysexits` usage convention).
///
/// ```
/// use prometheus_aioexporter::{run_script, PrometheusExporterScript, EXIT_USAGE};
///
/// struct MyExporter;
/// impl PrometheusExporterScript for MyExporter {
///     const NAME: &'static str = "my-exporter";
///     const DESCRIPTION: &'static str = "My exporter.";
/// }
/// assert_eq!(run_script(MyExporter, ["--port", "http"], |_| None), EXIT_USAGE);
/// ```
pub const EXIT_USAGE: i32 = 2;

/// An exporter written as a script: the analogue of Python's `PrometheusExporterScript`.
///
/// Implement the constants and whichever hooks you need, then call [`run`](Self::run) from
/// `main`. The hooks run in this order: [`configure_argument_parser`](Self::configure_argument_parser),
/// (command line parsed), [`configure`](Self::configure), (the built-in options applied),
/// [`configure_exporter`](Self::configure_exporter), (addresses bound),
/// [`on_application_startup`](Self::on_application_startup), (serving until SIGTERM or
/// SIGINT), [`on_application_shutdown`](Self::on_application_shutdown).
///
/// ```no_run
/// use prometheus_aioexporter::cli::{ArgParser, Args};
/// use prometheus_aioexporter::{
///     BoundExporter, BoxError, MetricConfig, PrometheusExporterScript, Registry,
/// };
///
/// #[derive(Default)]
/// struct MyExporter {
///     greeting: String,
/// }
///
/// impl PrometheusExporterScript for MyExporter {
///     const NAME: &'static str = "my-exporter";
///     const DESCRIPTION: &'static str = "My Prometheus exporter.";
///     const VERSION: &'static str = env!("CARGO_PKG_VERSION");
///     const DEFAULT_PORT: u16 = 9200;
///
///     fn configure_argument_parser(&mut self, parser: &mut ArgParser) {
///         parser.add_argument("--greeting").default("hello").help("what to say");
///     }
///
///     fn configure(&mut self, args: &Args, registry: &mut Registry) -> Result<(), BoxError> {
///         self.greeting = args.get("greeting").unwrap_or_default().to_string();
///         registry.create_metrics([MetricConfig::new("greetings", "Greetings said.", "counter")])?;
///         Ok(())
///     }
///
///     fn on_application_startup(&mut self, app: &mut BoundExporter) -> Result<(), BoxError> {
///         app.set_metric_update_handler(|metrics| {
///             metrics.counter("greetings")?.inc();
///             Ok(())
///         });
///         Ok(())
///     }
/// }
///
/// fn main() {
///     MyExporter::default().run()
/// }
/// ```
pub trait PrometheusExporterScript: Sized {
    /// The exporter's name: shown in `--help`, the landing page, the `Server` header, and the
    /// default prefix of environment variables (`my-exporter` reads `MY_EXPORTER_PORT`).
    ///
    /// ```
    /// use prometheus_aioexporter::{script_parser, PrometheusExporterScript};
    ///
    /// struct MyExporter;
    /// impl PrometheusExporterScript for MyExporter {
    ///     const NAME: &'static str = "my-exporter";
    ///     const DESCRIPTION: &'static str = "My exporter.";
    /// }
    /// let parser = script_parser(&mut MyExporter);
    /// assert!(parser.usage().starts_with("usage: my-exporter "));
    /// assert_eq!(parser.env_var("port").as_deref(), Some("MY_EXPORTER_PORT"));
    /// ```
    const NAME: &'static str;
    /// One paragraph: shown in `--help` and on the landing page.
    ///
    /// ```
    /// use prometheus_aioexporter::{script_parser, PrometheusExporterScript};
    ///
    /// struct MyExporter;
    /// impl PrometheusExporterScript for MyExporter {
    ///     const NAME: &'static str = "my-exporter";
    ///     const DESCRIPTION: &'static str = "Exports the queue lengths of my service.";
    /// }
    /// assert!(script_parser(&mut MyExporter).help().contains("Exports the queue lengths"));
    /// ```
    const DESCRIPTION: &'static str;
    /// The version printed by `--version` and sent in the `Server` header; usually
    /// `env!("CARGO_PKG_VERSION")`. Empty: `--version` prints the library's version instead.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::Parsed;
    /// use prometheus_aioexporter::{script_parser, PrometheusExporterScript};
    ///
    /// struct MyExporter;
    /// impl PrometheusExporterScript for MyExporter {
    ///     const NAME: &'static str = "my-exporter";
    ///     const DESCRIPTION: &'static str = "My exporter.";
    ///     const VERSION: &'static str = "1.2.3"; // usually env!("CARGO_PKG_VERSION")
    /// }
    /// let parsed = script_parser(&mut MyExporter).parse_from(["--version"], |_| None)?;
    /// assert_eq!(parsed, Parsed::Version("my-exporter 1.2.3\n".into()));
    /// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
    /// ```
    const VERSION: &'static str = "";
    /// The port used when `-p/--port` is not given.
    ///
    /// ```
    /// use prometheus_aioexporter::{script_parser, PrometheusExporterScript};
    ///
    /// struct MyExporter;
    /// impl PrometheusExporterScript for MyExporter {
    ///     const NAME: &'static str = "my-exporter";
    ///     const DESCRIPTION: &'static str = "My exporter.";
    ///     const DEFAULT_PORT: u16 = 9456; // pick one from the exporters' port list
    /// }
    /// assert!(script_parser(&mut MyExporter).help().contains("(default: 9456)"));
    /// ```
    const DEFAULT_PORT: u16 = 9090;
    /// The prefix of environment variables, instead of one derived from [`Self::NAME`];
    /// `Some("")` turns environment variables off.
    ///
    /// ```
    /// use prometheus_aioexporter::{script_parser, PrometheusExporterScript};
    ///
    /// struct MyExporter;
    /// impl PrometheusExporterScript for MyExporter {
    ///     const NAME: &'static str = "my-exporter";
    ///     const DESCRIPTION: &'static str = "My exporter.";
    ///     const ENV_PREFIX: Option<&'static str> = Some("MYEXP");
    /// }
    /// let parser = script_parser(&mut MyExporter);
    /// assert_eq!(parser.env_var("port").as_deref(), Some("MYEXP_PORT"));
    /// ```
    const ENV_PREFIX: Option<&'static str> = None;

    /// Adds the script's own options and positional arguments to the parser (the analogue of
    /// `configure_argument_parser`).
    ///
    /// ```
    /// use prometheus_aioexporter::cli::ArgParser;
    /// use prometheus_aioexporter::{script_parser, PrometheusExporterScript};
    ///
    /// struct MyExporter;
    /// impl PrometheusExporterScript for MyExporter {
    ///     const NAME: &'static str = "my-exporter";
    ///     const DESCRIPTION: &'static str = "My exporter.";
    ///     fn configure_argument_parser(&mut self, parser: &mut ArgParser) {
    ///         parser.add_argument("--custom-option").default("1").help("a custom option");
    ///         parser.argument_mut("port").map(|port| port.default("9100")); // a built-in's default
    ///     }
    /// }
    /// let help = script_parser(&mut MyExporter).help();
    /// assert!(help.contains("--custom-option CUSTOM_OPTION"));
    /// ```
    fn configure_argument_parser(&mut self, parser: &mut ArgParser) {
        let _ = parser;
    }

    /// Called with the parsed arguments, to configure the script and create its metrics.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::{ArgParser, Args};
    /// use prometheus_aioexporter::{
    ///     run_script, BoundExporter, BoxError, Gauge, PrometheusExporterScript, Registry, EXIT_OK,
    /// };
    ///
    /// #[derive(Default)]
    /// struct MyExporter {
    ///     step: f64,
    ///     queue: Option<Gauge>,
    /// }
    /// impl PrometheusExporterScript for MyExporter {
    ///     const NAME: &'static str = "my-exporter";
    ///     const DESCRIPTION: &'static str = "My exporter.";
    ///     fn configure_argument_parser(&mut self, parser: &mut ArgParser) {
    ///         parser.add_argument("--step").default("1");
    ///     }
    ///     fn configure(&mut self, args: &Args, registry: &mut Registry) -> Result<(), BoxError> {
    ///         self.step = args.value_of::<f64>("step")?.unwrap_or(1.0); // bad value: exit 2
    ///         self.queue = Some(registry.gauge("queue_length", "Jobs waiting.")?);
    ///         Ok(())
    ///     }
    ///     fn on_application_startup(&mut self, app: &mut BoundExporter) -> Result<(), BoxError> {
    ///         app.shutdown(); // so that this example stops at once
    ///         Ok(())
    ///     }
    /// }
    /// assert_eq!(run_script(MyExporter::default(), ["-H", "127.0.0.1", "-p", "0", "--step", "2"], |_| None), EXIT_OK);
    /// assert_eq!(run_script(MyExporter::default(), ["--step", "two"], |_| None), 2);
    /// ```
    ///
    /// # Errors
    /// A [`CliError`], as `args.value_of::<T>(..)?` returns for a value that does not parse, is
    /// a usage error: the message and the usage line on stderr, exit status 2, as argparse's
    /// `type=` gives. Any other error is logged and the exporter exits with status 1.
    fn configure(&mut self, args: &Args, registry: &mut Registry) -> Result<(), BoxError> {
        let _ = (args, registry);
        Ok(())
    }

    /// Called after [`configure`](Self::configure), with the built-in options (`-H`, `-p`,
    /// `--metrics-path`, `--process-stats`) already applied to `exporter`, before it binds:
    /// the place for what must be set before binding, such as
    /// [`set_limits`](Exporter::set_limits), and for overriding a built-in option.
    ///
    /// ```
    /// # use prometheus_aioexporter::{BoxError, Exporter, PrometheusExporterScript};
    /// # struct Quiet;
    /// # impl PrometheusExporterScript for Quiet {
    /// #     const NAME: &'static str = "quiet";
    /// #     const DESCRIPTION: &'static str = "";
    /// fn configure_exporter(&mut self, exporter: &mut Exporter) -> Result<(), BoxError> {
    ///     let mut limits = *exporter.limits();
    ///     limits.max_connections = 64;
    ///     exporter.set_limits(limits);
    ///     Ok(())
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`configure`](Self::configure): a [`CliError`] is a usage error (exit 2), any other
    /// error is logged and the exporter exits with status 1.
    fn configure_exporter(&mut self, exporter: &mut Exporter) -> Result<(), BoxError> {
        let _ = exporter;
        Ok(())
    }

    /// Called once the addresses are bound, before serving: set the update handler here, and
    /// start whatever the exporter needs. [`BoundExporter::local_addrs`] gives the bound
    /// addresses (with the port chosen for `-p 0`).
    ///
    /// ```
    /// use prometheus_aioexporter::{run_script, BoundExporter, BoxError, PrometheusExporterScript, EXIT_OK};
    ///
    /// struct MyExporter;
    /// impl PrometheusExporterScript for MyExporter {
    ///     const NAME: &'static str = "my-exporter";
    ///     const DESCRIPTION: &'static str = "My exporter.";
    ///     fn on_application_startup(&mut self, app: &mut BoundExporter) -> Result<(), BoxError> {
    ///         let up = app.registry_mut().gauge("up_seconds", "Uptime.")?;
    ///         let started = std::time::Instant::now();
    ///         app.set_metric_update_handler(move |_| {
    ///             up.set(started.elapsed().as_secs_f64());
    ///             Ok(())
    ///         });
    ///         println!("serving on {:?}", app.local_addrs());
    ///         app.shutdown(); // so that this example stops at once
    ///         Ok(())
    ///     }
    /// }
    /// assert_eq!(run_script(MyExporter, ["-H", "127.0.0.1", "-p", "0"], |_| None), EXIT_OK);
    /// ```
    ///
    /// # Errors
    /// An error is logged and the exporter exits with status 1.
    fn on_application_startup(&mut self, app: &mut BoundExporter) -> Result<(), BoxError> {
        let _ = app;
        Ok(())
    }

    /// Called after serving stops: stop what startup began.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use prometheus_aioexporter::{run_script, BoundExporter, BoxError, PrometheusExporterScript};
    ///
    /// #[derive(Default)]
    /// struct MyExporter {
    ///     poller: Option<std::thread::JoinHandle<()>>,
    ///     stop: Arc<AtomicBool>,
    /// }
    /// impl PrometheusExporterScript for MyExporter {
    ///     const NAME: &'static str = "my-exporter";
    ///     const DESCRIPTION: &'static str = "My exporter.";
    ///     fn on_application_startup(&mut self, app: &mut BoundExporter) -> Result<(), BoxError> {
    ///         let stop = Arc::clone(&self.stop);
    ///         self.poller = Some(std::thread::spawn(move || {
    ///             while !stop.load(Ordering::Relaxed) {
    ///                 std::thread::yield_now(); // poll the backend, update metrics
    ///             }
    ///         }));
    ///         app.shutdown(); // so that this example stops at once
    ///         Ok(())
    ///     }
    ///     fn on_application_shutdown(&mut self, _app: &mut BoundExporter) {
    ///         self.stop.store(true, Ordering::Relaxed);
    ///         if let Some(poller) = self.poller.take() {
    ///             poller.join().unwrap();
    ///         }
    ///     }
    /// }
    /// assert_eq!(run_script(MyExporter::default(), ["-H", "127.0.0.1", "-p", "0"], |_| None), 0);
    /// ```
    fn on_application_shutdown(&mut self, app: &mut BoundExporter) {
        let _ = app;
    }

    /// Parses the process's command line and environment, serves until SIGTERM or SIGINT, and
    /// exits the process with the status [`run_script`] returns.
    ///
    /// Before binding, it raises the soft limit on open files to the hard limit, as Go's
    /// runtime does, so that [`Limits::max_connections`](crate::Limits) fit; processes the
    /// hooks start inherit the raised limit.
    ///
    /// ```no_run
    /// use prometheus_aioexporter::PrometheusExporterScript;
    ///
    /// #[derive(Default)]
    /// struct MyExporter;
    /// impl PrometheusExporterScript for MyExporter {
    ///     const NAME: &'static str = "my-exporter";
    ///     const DESCRIPTION: &'static str = "My exporter.";
    /// }
    ///
    /// fn main() {
    ///     MyExporter.run() // parses argv, serves until SIGTERM, exits 0, 1 or 2
    /// }
    /// ```
    fn run(self) -> ! {
        let (code, signals) =
            run_script_keeping_signals(self, std::env::args_os().skip(1), |key| {
                std::env::var_os(key)
            });
        // The handlers stay installed until the process is gone: restoring the default
        // dispositions first would let a second SIGTERM, sent while the exporter exits, kill it
        // with status 143 instead of the 0 it is about to return.
        let _keep = signals;
        std::process::exit(code)
    }
}

/// The built-in command line of every script: `-H`, `-p`, `-L`, `--log-format`,
/// `--process-stats`, `--metrics-path`, `--healthcheck`, plus `-h` and `-V`, which the parser
/// provides.
///
/// ```
/// use prometheus_aioexporter::{script_parser, PrometheusExporterScript};
///
/// struct MyExporter;
/// impl PrometheusExporterScript for MyExporter {
///     const NAME: &'static str = "my-exporter";
///     const DESCRIPTION: &'static str = "My exporter.";
/// }
/// // The whole command line, to print it (a man page, a README) without running anything.
/// let help = script_parser(&mut MyExporter).help();
/// assert!(help.contains("--metrics-path"));
/// assert!(help.contains("--healthcheck"));
/// ```
pub fn script_parser<S: PrometheusExporterScript>(script: &mut S) -> ArgParser {
    let mut parser = ArgParser::new(S::NAME, S::DESCRIPTION);
    let version = if S::VERSION.is_empty() {
        format!("(prometheus-aioexporter {})", env!("CARGO_PKG_VERSION"))
    } else {
        S::VERSION.to_string()
    };
    parser.version(&version);
    if let Some(prefix) = S::ENV_PREFIX {
        parser.env_prefix(prefix);
    }
    parser
        .add_argument("--host")
        .short('H')
        .multiple()
        .default("localhost")
        .help("host addresses to bind, may be repeated");
    parser
        .add_argument("--port")
        .short('p')
        .default(&S::DEFAULT_PORT.to_string())
        .help("port to run the webserver on");
    parser
        .add_argument("--log-level")
        .short('L')
        .choices(Level::NAMES)
        .default("warning")
        .metavar("LEVEL")
        .help("minimum level for log messages");
    parser
        .add_argument("--log-format")
        .choices(LogFormat::NAMES)
        .default("plain")
        .metavar("FORMAT")
        .help("log line format");
    #[cfg(feature = "process-stats")]
    parser
        .add_argument("--process-stats")
        .flag()
        .help("include process stats in metrics");
    parser
        .add_argument("--metrics-path")
        .default("/metrics")
        .metavar("PATH")
        .help("path under which metrics are exposed");
    #[cfg(feature = "tls")]
    {
        parser
            .add_argument("--ssl-private-key")
            .metavar("FILE")
            .help("serve HTTPS with this private key (PEM), with --ssl-public-key");
        parser
            .add_argument("--ssl-public-key")
            .metavar("FILE")
            .help("the certificate chain (PEM) of --ssl-private-key, the server's first");
        parser
            .add_argument("--ssl-ca")
            .metavar("FILE")
            .help("require client certificates signed by these CA certificates (PEM)");
    }
    #[cfg(feature = "basic-auth")]
    parser
        .add_argument("--basic-auth-users")
        .metavar("FILE")
        .help(
            "ask every request for a user and password of this htpasswd file (bcrypt, htpasswd -B)",
        );
    // Never from the environment: a variable meant for the check would turn the exporter
    // itself into one.
    parser
        .add_argument("--healthcheck")
        .flag()
        .no_env()
        .help("check the exporter: exit 0 if /-/healthy answers 200, else 1");
    script.configure_argument_parser(&mut parser);
    parser
}

/// The built-in options' values, checked.
struct BuiltinOptions {
    hosts: Vec<String>,
    port: u16,
    level: Level,
    log_format: LogFormat,
    #[cfg(feature = "process-stats")]
    process_stats: bool,
    metrics_path: String,
    #[cfg(feature = "tls")]
    tls: Option<TlsFiles>,
    #[cfg(feature = "basic-auth")]
    basic_auth_users: Option<String>,
}

/// The key and certificate files of `--ssl-private-key`, `--ssl-public-key` and `--ssl-ca`.
#[cfg(feature = "tls")]
struct TlsFiles {
    private_key: String,
    certificate_chain: String,
    client_ca: Option<String>,
}

/// The TLS files, all or none of the key and its certificates: one without the other is a
/// usage error (the Python library would serve plain HTTP then, which is not what was asked).
#[cfg(feature = "tls")]
fn tls_files(args: &Args) -> Result<Option<TlsFiles>, CliError> {
    let needs = |option: &str, value: &str, reason: &str| CliError::InvalidValue {
        option: option.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    };
    let key = args.get("ssl-private-key").filter(|v| !v.is_empty());
    let chain = args.get("ssl-public-key").filter(|v| !v.is_empty());
    let ca = args.get("ssl-ca").filter(|v| !v.is_empty());
    match (key, chain) {
        (Some(key), Some(chain)) => Ok(Some(TlsFiles {
            private_key: key.to_string(),
            certificate_chain: chain.to_string(),
            client_ca: ca.map(str::to_string),
        })),
        (Some(key), None) => Err(needs(
            "--ssl-private-key",
            key,
            "--ssl-public-key (the certificate chain) is needed too",
        )),
        (None, Some(chain)) => Err(needs(
            "--ssl-public-key",
            chain,
            "--ssl-private-key (the key) is needed too",
        )),
        (None, None) => match ca {
            Some(ca) => Err(needs(
                "--ssl-ca",
                ca,
                "mutual TLS needs --ssl-private-key and --ssl-public-key too",
            )),
            None => Ok(None),
        },
    }
}

/// The htpasswd file of `--basic-auth-users`, if one is named (an empty value names none, as
/// an empty environment variable does for the other options).
#[cfg(feature = "basic-auth")]
fn basic_auth_users(args: &Args) -> Option<&str> {
    args.get("basic-auth-users").filter(|v| !v.is_empty())
}

/// A TCP port as the command line spells it: decimal digits only (`u16`'s parser would also
/// take `+80`, and explain `70000` in Rust's words).
struct Port(u16);

impl std::str::FromStr for Port {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Port, Self::Err> {
        Some(s)
            .filter(|s| !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
            .map(Port)
            .ok_or("expected a port number from 0 to 65535")
    }
}

/// A metrics path as [`Exporter::set_metrics_path`] takes it, checked where it is parsed so
/// that an error names the option or environment variable it came from.
struct MetricsPath(String);

impl std::str::FromStr for MetricsPath {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<MetricsPath, Self::Err> {
        if crate::exporter::is_reachable_path(s) {
            Ok(MetricsPath(s.to_string()))
        } else {
            Err(crate::exporter::METRICS_PATH_EXPECTED)
        }
    }
}

fn builtin_options(args: &Args, default_port: u16) -> Result<BuiltinOptions, CliError> {
    let invalid = |option: &str, value: &str, reason: &str| CliError::InvalidValue {
        option: option.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    };
    let level_name = args.get("log-level").unwrap_or("warning");
    let level = level_name
        .parse::<Level>()
        .map_err(|err| invalid("--log-level", level_name, &err.to_string()))?;
    // The parser has checked the choice and spelled it as declared.
    let log_format = match args.get("log-format") {
        Some("json") => LogFormat::Json,
        _ => LogFormat::Plain,
    };
    let metrics_path = args
        .value_of::<MetricsPath>("metrics-path")?
        .map_or_else(|| "/metrics".to_string(), |p| p.0);
    let (hosts, port) = listen_options(args, default_port)?;
    Ok(BuiltinOptions {
        hosts,
        port,
        level,
        log_format,
        #[cfg(feature = "process-stats")]
        process_stats: args.flag("process-stats"),
        metrics_path,
        #[cfg(feature = "tls")]
        tls: tls_files(args)?,
        #[cfg(feature = "basic-auth")]
        basic_auth_users: basic_auth_users(args).map(str::to_string),
    })
}

/// The hosts and the port to listen on: all `--healthcheck` needs.
fn listen_options(args: &Args, default_port: u16) -> Result<(Vec<String>, u16), CliError> {
    let hosts = match args.get_all("host") {
        // Only if a script redeclared `--host` without a default.
        [] => vec!["localhost".to_string()],
        // One environment value may hold several hosts; a command-line value is one host, as
        // argparse and click keep it (`-H 'not a host!'` is refused whole).
        hosts if args.is_from_env("host") => {
            hosts.iter().flat_map(|host| split_hosts(host)).collect()
        }
        hosts => hosts.to_vec(),
    };
    let port = args.value_of::<Port>("port")?.map_or(default_port, |p| p.0);
    Ok((hosts, port))
}

/// The hosts in one `--host` value from the environment: several, separated by white space, as
/// the Python library's 3.x versions (click) read `EXP_HOST="127.0.0.1 ::1"`.
/// A value with nothing else (`''`, every interface) stays as it is.
fn split_hosts(value: &str) -> Vec<String> {
    let hosts: Vec<String> = value.split_ascii_whitespace().map(str::to_owned).collect();
    if hosts.is_empty() {
        vec![value.to_owned()]
    } else {
        hosts
    }
}

/// Runs a script with explicit arguments (without the program name) and environment, and
/// returns the exit status instead of exiting: 0 after a clean shutdown or for `--help` and
/// `--version`, 2 for a usage error (message and usage on stderr), 1 for any other failure.
///
/// The SIGTERM and SIGINT handlers are installed first and the previous dispositions restored
/// before it returns.
///
/// ```
/// use prometheus_aioexporter::{run_script, BoundExporter, BoxError, PrometheusExporterScript, EXIT_OK};
///
/// struct MyExporter;
/// impl PrometheusExporterScript for MyExporter {
///     const NAME: &'static str = "my-exporter";
///     const DESCRIPTION: &'static str = "My exporter.";
///     fn on_application_startup(&mut self, app: &mut BoundExporter) -> Result<(), BoxError> {
///         app.shutdown(); // so that this example stops at once
///         Ok(())
///     }
/// }
/// // In a test, with its own arguments and environment:
/// let env = |key: &str| (key == "MY_EXPORTER_HOST").then(|| "127.0.0.1".into());
/// assert_eq!(run_script(MyExporter, ["-p", "0", "-L", "error"], env), EXIT_OK);
/// ```
pub fn run_script<S, I, A>(script: S, args: I, env: impl Fn(&str) -> Option<OsString>) -> i32
where
    S: PrometheusExporterScript,
    I: IntoIterator<Item = A>,
    A: Into<OsString>,
{
    run_script_keeping_signals(script, args, env).0
}

/// [`run_script`], returning the installed signal handlers with the status, for a caller that
/// exits at once and wants them kept until then.
fn run_script_keeping_signals<S, I, A>(
    script: S,
    args: I,
    env: impl Fn(&str) -> Option<OsString>,
) -> (i32, Option<ShutdownSignals>)
where
    S: PrometheusExporterScript,
    I: IntoIterator<Item = A>,
    A: Into<OsString>,
{
    // Installed before anything else, so that a SIGTERM during parsing or the hooks is not
    // lost: as PID 1, the kernel discards a signal that has no handler yet.
    let mut signals = match ShutdownSignals::install() {
        Ok(signals) => Some(signals),
        Err(err) => {
            log_warning!("cannot install signal handlers, SIGTERM will not stop gracefully: {err}");
            None
        }
    };
    let code = run_with_signals(script, args, env, signals.as_mut());
    (code, signals)
}

/// Descriptors a daemon needs besides its connections: stdio, listeners, epoll, the waker,
/// files read for process stats, and what the script's own hooks open.
const SPARE_DESCRIPTORS: u64 = 32;

/// Raises the open files limit to its hard limit, as a Go daemon's runtime does, and warns when
/// it is still too low for `max_connections`: past it, new connections wait in the listen
/// queue. Processes the script's hooks start inherit the raised limit.
fn make_room_for_connections(max_connections: usize) {
    match raise_open_files_limit() {
        Ok(limit) => {
            let needed = (max_connections as u64).saturating_add(SPARE_DESCRIPTORS);
            if limit < needed {
                log_warning!(
                    "the open files limit (ulimit -n) is {limit}, below the {needed} descriptors \
                     {max_connections} connections need: past it, idle connections are closed \
                     to make room and new ones may wait"
                );
            } else {
                log_debug!("open files limit: {limit}");
            }
        }
        Err(err) => log_debug!("cannot raise the open files limit: {err}"),
    }
}

fn run_with_signals<S, I, A>(
    mut script: S,
    args: I,
    env: impl Fn(&str) -> Option<OsString>,
    signals: Option<&mut ShutdownSignals>,
) -> i32
where
    S: PrometheusExporterScript,
    I: IntoIterator<Item = A>,
    A: Into<OsString>,
{
    let parser = script_parser(&mut script);
    // A `.env` that cannot be read fails the run, but not `--help` or `--version`: its error
    // waits until the command line asks for a run.
    let (dotenv, dotenv_error) = match read_dotenv(&parser, &env) {
        Ok(pairs) => (pairs, None),
        Err(message) => (Vec::new(), Some(message)),
    };
    let dotenv_failed = || match &dotenv_error {
        Some(message) => {
            log_critical!("{message}");
            true
        }
        None => false,
    };
    // The real environment first, then the file: what is set wins over what is written.
    let env = |key: &str| {
        env(key).or_else(|| {
            let (_, value) = dotenv.iter().rev().find(|(name, _)| name == key)?;
            Some(OsString::from(value))
        })
    };
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    // A container's HEALTHCHECK does not repeat the script's own arguments: a command line
    // that asks for `--healthcheck` needs none (the check uses the built-in options only).
    // The parse says whether it asks: the word as an option's value or after `--` does not.
    if let Ok(Parsed::Run(parsed)) = parser.relaxed().parse_from(args.clone(), env) {
        if parsed.flag("healthcheck") {
            if dotenv_failed() {
                return EXIT_FAILURE;
            }
            return run_healthcheck(&parser, &parsed, S::DEFAULT_PORT);
        }
    }
    let args = match parse_command_line(&parser, args, env) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if dotenv_failed() {
        return EXIT_FAILURE;
    }
    let exporter = match configure(&mut script, &parser, &args) {
        Ok(exporter) => exporter,
        Err(code) => return code,
    };
    serve(&mut script, exporter, signals)
}

/// The file the environment variables' fallback reads: `.env` in the working directory, or
/// what `<PREFIX>_DOTENV` names (`MY_EXPORTER_DOTENV`); none if environment variables are off.
/// The boolean says whether it was named, and so must exist.
fn dotenv_path(
    parser: &ArgParser,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Option<(OsString, bool)> {
    let var = parser.prefixed_env_var("DOTENV")?;
    match env(&var) {
        Some(path) if !path.is_empty() => Some((path, true)),
        _ => Some((OsString::from(".env"), false)),
    }
}

/// The `(name, value)` pairs of the `.env` file, as python-dotenv reads one (see
/// [`parse_dotenv`]); none if there is no such file and none was named. An error names the
/// file, and the line if one is malformed.
fn read_dotenv(
    parser: &ArgParser,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Vec<(String, String)>, String> {
    let Some((path, named)) = dotenv_path(parser, env) else {
        return Ok(Vec::new());
    };
    let shown = path.to_string_lossy();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && !named => return Ok(Vec::new()),
        // Not found, not readable, or not UTF-8 (`InvalidData`).
        Err(err) => return Err(["cannot read ", &shown, ": ", &err.to_string()].concat()),
    };
    let pairs = parse_dotenv(&text).map_err(|err| [&shown, ", ", &err.to_string()].concat())?;
    Ok(pairs)
}

/// `--healthcheck`: checks the exporter the built-in options describe and returns the exit
/// status. The script's own arguments are not used.
fn run_healthcheck(parser: &ArgParser, args: &Args, default_port: u16) -> i32 {
    let (hosts, port) = match listen_options(args, default_port) {
        Ok(listen) => listen,
        Err(err) => return usage_error(parser, &err),
    };
    let host = hosts.first().map_or("localhost", String::as_str);
    // With TLS options the exporter serves HTTPS: check it so, trusting its own certificate.
    #[cfg(feature = "tls")]
    let tls = match tls_files(args) {
        Ok(None) => Ok(None),
        Ok(Some(files)) => crate::server::self_check_client(
            std::path::Path::new(&files.private_key),
            std::path::Path::new(&files.certificate_chain),
            files.client_ca.is_some(),
        )
        .map(Some)
        .map_err(|err| err.to_string()),
        Err(err) => return usage_error(parser, &err),
    };
    #[cfg(not(feature = "tls"))]
    let tls: Result<healthcheck::Tls, String> = Ok(None);
    // With basic auth on, a 401 asking for Basic credentials shows the exporter answering: the
    // htpasswd file holds hashes, so the check has no password to send.
    #[cfg(feature = "basic-auth")]
    let basic_auth_on = basic_auth_users(args).is_some();
    #[cfg(not(feature = "basic-auth"))]
    let basic_auth_on = false;
    let checked = tls.and_then(|tls| {
        healthcheck::target(host, port)
            .map_err(|err| ["cannot check '", host, "': ", &err.to_string()].concat())
            .and_then(|addr| {
                healthcheck::check(addr, healthcheck::HEALTHCHECK_TIMEOUT, tls, basic_auth_on)
            })
    });
    // On stderr either way, as the rest of what the exporter says.
    let (code, verdict, text) = match &checked {
        Ok(line) => (EXIT_OK, ": healthy: ", line),
        Err(why) => (EXIT_FAILURE, ": unhealthy: ", why),
    };
    let line = [parser.prog(), verdict, text, "\n"].concat();
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    code
}

/// Prints `err` after the usage line, as argparse does, and gives the usage error's status.
fn usage_error(parser: &ArgParser, err: &dyn std::fmt::Display) -> i32 {
    let mut stderr = std::io::stderr().lock();
    let usage = parser.usage();
    let _ = writeln!(
        stderr,
        "{}\n{}: error: {err}",
        usage.trim_end(),
        parser.prog()
    );
    EXIT_USAGE
}

/// The arguments to run with; or the exit status after help, the version, or an error.
fn parse_command_line<I, A>(
    parser: &ArgParser,
    args: I,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Args, i32>
where
    I: IntoIterator<Item = A>,
    A: Into<OsString>,
{
    match parser.parse_from(args, env) {
        Ok(Parsed::Run(args)) => Ok(args),
        Ok(Parsed::Help(text)) | Ok(Parsed::Version(text)) => {
            let mut stdout = std::io::stdout().lock();
            Err(
                match stdout
                    .write_all(text.as_bytes())
                    .and_then(|()| stdout.flush())
                {
                    Ok(()) => EXIT_OK,
                    Err(err) => {
                        log_critical!("cannot write to standard output: {err}");
                        EXIT_FAILURE
                    }
                },
            )
        }
        // A declaration that cannot work is the exporter's bug, not its user's: argparse raises
        // at `add_argument`, so no usage line and no exit 2 that would blame the command line.
        Err(err @ CliError::InvalidDeclaration { .. }) => {
            log_critical!("{err} (a bug in the exporter, not in its command line)");
            Err(EXIT_FAILURE)
        }
        Err(err) => Err(usage_error(parser, &err)),
    }
}

/// The exporter the built-in options and the script's `configure` hooks describe, not yet
/// bound; or the exit status of what failed.
fn configure<S: PrometheusExporterScript>(
    script: &mut S,
    parser: &ArgParser,
    args: &Args,
) -> Result<Exporter, i32> {
    let options =
        builtin_options(args, S::DEFAULT_PORT).map_err(|err| usage_error(parser, &err))?;
    log::set_level(options.level);
    log::set_format(options.log_format);

    // A bad value of the script's own option (`args.value_of(..)?`) is a usage error, as
    // argparse's `type=` makes it.
    let configuration_failed = |err: BoxError| match err.downcast_ref::<CliError>() {
        Some(usage) => usage_error(parser, usage),
        None => {
            log_critical!("configuration failed: {err}");
            EXIT_FAILURE
        }
    };
    let mut exporter = Exporter::new(S::NAME, S::DESCRIPTION);
    script
        .configure(args, exporter.registry_mut())
        .map_err(configuration_failed)?;
    if !S::VERSION.is_empty() {
        exporter.set_version(S::VERSION);
    }
    exporter.set_hosts(options.hosts).set_port(options.port);
    exporter
        .set_metrics_path(&options.metrics_path)
        .map_err(|err| usage_error(parser, &err))?;
    #[cfg(feature = "process-stats")]
    if options.process_stats {
        exporter.enable_process_stats().map_err(|err| {
            log_critical!("{err}");
            EXIT_FAILURE
        })?;
    }
    #[cfg(feature = "tls")]
    if let Some(files) = &options.tls {
        let tls = crate::server::TlsConfig::from_pem_files(
            &files.private_key,
            &files.certificate_chain,
            files.client_ca.as_deref().map(std::path::Path::new),
        )
        .map_err(|err| {
            log_critical!("cannot serve HTTPS: {err}");
            EXIT_FAILURE
        })?;
        exporter.set_tls(Some(tls));
    }
    #[cfg(feature = "basic-auth")]
    if let Some(path) = &options.basic_auth_users {
        let users = crate::exporter::BasicAuth::from_htpasswd_file(path).map_err(|err| {
            log_critical!("cannot ask for basic auth: {err}");
            EXIT_FAILURE
        })?;
        exporter.set_basic_auth(Some(users));
    }
    script
        .configure_exporter(&mut exporter)
        .map_err(configuration_failed)?;
    Ok(exporter)
}

/// Binds, runs the startup hook, serves until a signal, runs the shutdown hook; the exit
/// status.
fn serve<S: PrometheusExporterScript>(
    script: &mut S,
    exporter: Exporter,
    signals: Option<&mut ShutdownSignals>,
) -> i32 {
    make_room_for_connections(exporter.limits().max_connections);
    let mut app = match exporter.bind() {
        Ok(app) => app,
        Err(err) => {
            log_critical!("{err}");
            return EXIT_FAILURE;
        }
    };
    if let Err(err) = script.on_application_startup(&mut app) {
        log_critical!("startup failed: {err}");
        return EXIT_FAILURE;
    }
    let served = app.serve(signals);
    script.on_application_shutdown(&mut app);
    match served {
        Ok(()) => EXIT_OK,
        Err(err) => {
            log_critical!("{err}");
            EXIT_FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--basic-auth-users` exists only with the `basic-auth` feature: without it, the flag is
    /// refused rather than taken and ignored, which would serve without the asked-for auth.
    #[test]
    fn basic_auth_users_is_an_option_only_with_its_feature() {
        struct Script;
        impl PrometheusExporterScript for Script {
            const NAME: &'static str = "t";
            const DESCRIPTION: &'static str = "";
            const ENV_PREFIX: Option<&'static str> = Some("T");
        }
        let parser = script_parser(&mut Script);
        let parsed = parser.parse_from(["--basic-auth-users", "users"], |_| None);
        if cfg!(feature = "basic-auth") {
            let Ok(Parsed::Run(args)) = parsed else {
                panic!("{parsed:?}");
            };
            assert_eq!(args.get("basic-auth-users"), Some("users"));
            let from_env = parser.parse_from(std::iter::empty::<&str>(), |key| {
                (key == "T_BASIC_AUTH_USERS").then(|| OsString::from("env-users"))
            });
            let Ok(Parsed::Run(args)) = from_env else {
                panic!("{from_env:?}");
            };
            assert_eq!(args.get("basic-auth-users"), Some("env-users"));
        } else {
            assert_eq!(
                parsed.map(|_| ()).map_err(|e| e.to_string()),
                Err("unrecognized option '--basic-auth-users'".to_string())
            );
        }
    }

    #[test]
    fn hosts_split_on_commas_and_white_space_in_the_environment_only() {
        let mut parser = ArgParser::new("t", "");
        parser
            .add_argument("--host")
            .short('H')
            .multiple()
            .default("localhost");
        let cases: [(&[&str], Option<&str>, &[&str]); 8] = [
            (&[], Some("127.0.0.1 ::1"), &["127.0.0.1", "::1"]),
            (&[], Some("a,b"), &["a", "b"]),
            (&[], Some(" a\tb , c "), &["a", "b", "c"]),
            (&[], None, &["localhost"]),
            (&["-H", ""], None, &[""]),
            (&["-H", "a b", "c"], None, &["a b", "c"]),
            (&["-H", "not a host!"], None, &["not a host!"]),
            (&["-H", "x"], Some("a b"), &["x"]),
        ];
        for (argv, env, want) in cases {
            let Ok(Parsed::Run(args)) =
                parser.parse_from(argv.iter().copied(), |_| env.map(OsString::from))
            else {
                panic!("{argv:?} {env:?} does not parse");
            };
            let options = builtin_options(&args, 9090).unwrap();
            assert_eq!(options.hosts, want, "{argv:?} {env:?}");
        }
    }

    /// A script that redeclares `--port` and `--host` without defaults still listens on its
    /// `DEFAULT_PORT` and on `localhost`, not on a random port or nowhere.
    #[test]
    fn redeclared_builtins_without_defaults_fall_back() {
        let mut parser = ArgParser::new("t", "");
        parser.add_argument("--port").help("redeclared");
        parser.add_argument("--host").multiple().help("redeclared");
        let Ok(Parsed::Run(args)) = parser.parse_from(Vec::<OsString>::new(), |_| None) else {
            panic!("no arguments parse");
        };
        let options = builtin_options(&args, 19555).unwrap();
        assert_eq!(options.port, 19555);
        assert_eq!(options.hosts, ["localhost"]);
    }
}
