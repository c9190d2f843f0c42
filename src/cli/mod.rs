//! The command line: declarations of options and positionals (argparse-like), parsing argv with
//! [`lexopt`], environment-variable fallback and generated help text.
//!
//! Nothing here prints or exits: [`ArgParser::parse_from`] returns [`Parsed`] (arguments to run
//! with, or the help or version text to print) or a [`CliError`], and the caller decides what to
//! do with it. The environment is read through a lookup function, so tests never touch the real
//! process environment.
//!
//! Long options may be shortened to a unique prefix (`--po` for `--port`), as argparse allows.
//! What it does not do: options with optional values, counted flags (`-vvv`), subcommands, line
//! wrapping of the help text.
//!
//! It uses std and [`lexopt`] only, nothing else of this crate, so that it can be read, tested
//! and reused on its own.
//!
//! ```
//! use prometheus_aioexporter::cli::{ArgParser, Parsed};
//!
//! let mut parser = ArgParser::new("my-exporter", "My Prometheus exporter.");
//! parser.add_argument("--port").short('p').default("9090").help("port to listen on");
//! let env = |key: &str| (key == "MY_EXPORTER_PORT").then(|| "9100".into());
//! match parser.parse_from(std::iter::empty::<&str>(), env)? {
//!     Parsed::Run(args) => assert_eq!(args.value_of::<u16>("port")?, Some(9100)),
//!     Parsed::Help(text) | Parsed::Version(text) => print!("{text}"),
//! }
//! # Ok::<(), prometheus_aioexporter::cli::CliError>(())
//! ```

// One concept per file:
// - `arg.rs`: `Arg`, one declaration: builder methods, names, splitting and choices.
// - `check.rs`: the check of all declarations that starts every parse.
// - `parse.rs`: `parse_from` and its steps; the only reader of argv, and of lexopt.
// - `env.rs`: the environment-variable fallback.
// - `dotenv.rs`: the `.env` file's syntax.
// - `args.rs`: the results: `Parsed`, `Args` and its getters.
// - `help.rs`: help, usage and version text.
// - `error.rs`: `CliError` and its messages.
mod arg;
mod args;
mod check;
mod dotenv;
mod env;
mod error;
mod help;
mod parse;
#[cfg(test)]
mod testing;

pub use arg::Arg;
pub use args::{Args, Parsed};
pub use dotenv::{parse_dotenv, DotenvError};
pub use error::CliError;

/// A command line declaration: the program's options and positionals, and how to parse them.
///
/// Declare arguments with [`add_argument`](ArgParser::add_argument), then parse with
/// [`parse`](ArgParser::parse) (the process's own arguments and environment) or
/// [`parse_from`](ArgParser::parse_from) (explicit arguments and environment lookup).
///
/// Every argument is looked up, in order, on the command line, then in an environment variable
/// (`<PREFIX>_<KEY>`, e.g. `MY_EXPORTER_LOG_LEVEL`), then in its default. `-h`/`--help` is always
/// recognised; `-V`/`--version` once a [`version`](ArgParser::version) is set. As with argparse,
/// a long option may be shortened to any prefix that no other long option has (`--log` for
/// `--log-level`); a prefix of several is [`CliError::AmbiguousOption`].
///
/// # Example
///
/// ```
/// use prometheus_aioexporter::cli::{ArgParser, Parsed};
///
/// let mut parser = ArgParser::new("my-exporter", "My Prometheus exporter.");
/// parser.version("1.0.0");
/// parser.add_argument("--port").short('p').default("9090").help("port to listen on");
/// parser
///     .add_argument("--log-level")
///     .choices(["error", "info", "debug"])
///     .default("info")
///     .help("minimum level of log messages");
/// parser.add_argument("target").help("what to scrape");
///
/// // The caller would pass `|k| std::env::var_os(k)`, or just call `parser.parse()`.
/// let env = |key: &str| match key {
///     "MY_EXPORTER_LOG_LEVEL" => Some("DEBUG".into()),
///     _ => None,
/// };
/// match parser.parse_from(["-p", "8000", "localhost:1234"], env)? {
///     Parsed::Run(args) => {
///         assert_eq!(args.value_of::<u16>("port")?, Some(8000));
///         assert_eq!(args.get("log-level"), Some("debug"));
///         assert_eq!(args.get("target"), Some("localhost:1234"));
///     }
///     Parsed::Help(text) | Parsed::Version(text) => print!("{}", text),
/// }
/// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ArgParser {
    prog: String,
    description: String,
    version: Option<String>,
    env_prefix: String,
    /// Declared arguments, options and positionals mixed, in declaration order.
    args: Vec<Arg>,
}

impl ArgParser {
    /// Creates a parser for the program `prog` (e.g. `"my-exporter"`), whose help text shows
    /// `description` (one paragraph) under the usage line.
    ///
    /// The environment-variable prefix defaults to `prog` uppercased, with every character that
    /// is not an ASCII letter or digit replaced by `_` (`"my-exporter"` gives `MY_EXPORTER`).
    ///
    /// ```
    /// use prometheus_aioexporter::cli::ArgParser;
    ///
    /// let mut parser = ArgParser::new("my-exporter", "My Prometheus exporter.");
    /// parser.add_argument("--port");
    /// assert_eq!(parser.env_var("port").as_deref(), Some("MY_EXPORTER_PORT"));
    /// assert!(parser.help().contains("My Prometheus exporter."));
    /// ```
    pub fn new(prog: &str, description: &str) -> ArgParser {
        ArgParser {
            prog: prog.to_owned(),
            description: description.to_owned(),
            version: None,
            env_prefix: env::env_name(prog),
            args: Vec::new(),
        }
    }

    /// Sets the version, and so enables `-V`/`--version`, which yields
    /// [`Parsed::Version`] holding `"<prog> <version>\n"`.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::{ArgParser, Parsed};
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.version(env!("CARGO_PKG_VERSION"));
    /// let parsed = parser.parse_from(["-V"], |_| None)?;
    /// assert_eq!(parsed, Parsed::Version(format!("my-exporter {}\n", env!("CARGO_PKG_VERSION"))));
    /// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
    /// ```
    pub fn version(&mut self, version: &str) -> &mut Self {
        self.version = Some(version.to_owned());
        self
    }

    /// Sets the prefix of the environment variables arguments fall back to (`<PREFIX>_<KEY>`).
    /// The prefix is used as given. An empty prefix disables environment variables entirely,
    /// including names set with [`Arg::env`].
    ///
    /// ```
    /// use prometheus_aioexporter::cli::ArgParser;
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.env_prefix("MYEXP");
    /// parser.add_argument("--port");
    /// assert_eq!(parser.env_var("port").as_deref(), Some("MYEXP_PORT"));
    /// ```
    pub fn env_prefix(&mut self, prefix: &str) -> &mut Self {
        self.env_prefix = prefix.to_owned();
        self
    }

    /// Declares an argument and returns it for chained builder calls.
    ///
    /// A `name` starting with `--` declares an option (`"--an-option"`, key `"an-option"`);
    /// anything else a positional (`"target"`, key `"target"`). Positionals receive command-line
    /// values in declaration order. Declaring a key again replaces the earlier declaration in its
    /// place, as argparse's `conflict_handler="resolve"` does: the new one starts empty (no
    /// short option, default or help). To change a declaration and keep the rest of it, as a
    /// built-in's default, use [`argument_mut`](ArgParser::argument_mut).
    ///
    /// Declarations are checked when parsing: a bad one (an empty key, a short option on a
    /// positional, a default outside the choices...) makes parsing fail with
    /// [`CliError::InvalidDeclaration`].
    ///
    /// ```
    /// use prometheus_aioexporter::cli::{ArgParser, Parsed};
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--custom-option").default("1").help("a custom option"); // an option
    /// parser.add_argument("target").help("what to export"); // a positional
    /// let Parsed::Run(args) = parser.parse_from(["db:5432"], |_| None)? else { unreachable!() };
    /// assert_eq!((args.get("custom-option"), args.get("target")), (Some("1"), Some("db:5432")));
    /// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
    /// ```
    pub fn add_argument(&mut self, name: &str) -> &mut Arg {
        let arg = Arg::new(name);
        let index = match self.args.iter().position(|a| a.key == arg.key) {
            Some(index) => {
                self.args[index] = arg;
                index
            }
            None => {
                self.args.push(arg);
                self.args.len() - 1
            }
        };
        &mut self.args[index]
    }

    /// Returns the program name given to [`ArgParser::new`].
    ///
    /// ```
    /// use prometheus_aioexporter::cli::ArgParser;
    ///
    /// let parser = ArgParser::new("my-exporter", "");
    /// assert_eq!(parser.prog(), "my-exporter");
    /// ```
    pub fn prog(&self) -> &str {
        &self.prog
    }

    /// Returns the declared argument with this key, if any.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::ArgParser;
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("target");
    /// assert!(parser.argument("target").is_some_and(|arg| arg.is_positional()));
    /// assert!(parser.argument("--target").is_none()); // by key, without dashes
    /// ```
    pub fn argument(&self, key: &str) -> Option<&Arg> {
        self.args.iter().find(|a| a.key == key)
    }

    /// Returns the declared argument with this key, to change some of it and keep the rest.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::ArgParser;
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--port").short('p').default("9090").help("port to listen on");
    /// if let Some(port) = parser.argument_mut("port") {
    ///     port.default("9100");
    /// }
    /// assert!(parser.help().contains("-p PORT, --port PORT  port to listen on (default: 9100)"));
    /// ```
    pub fn argument_mut(&mut self, key: &str) -> Option<&mut Arg> {
        self.args.iter_mut().find(|a| a.key == key)
    }

    /// This parser with no argument required and every positional optional: for a run that
    /// reads the built-in options only (`--healthcheck`) and must not fail for want of the
    /// program's own arguments.
    pub(crate) fn relaxed(&self) -> ArgParser {
        let mut relaxed = self.clone();
        for arg in &mut relaxed.args {
            arg.required = false;
            if arg.positional && arg.default.is_none() {
                arg.default = Some(String::new());
                arg.choices.clear();
            }
        }
        relaxed
    }

    /// `<PREFIX>_<name>` (`MY_EXPORTER_DOTENV`), or `None` if environment variables are off.
    pub(crate) fn prefixed_env_var(&self, name: &str) -> Option<String> {
        (!self.env_prefix.is_empty()).then(|| format!("{}_{name}", self.env_prefix))
    }

    /// Returns the name of the environment variable the argument `key` falls back to, or `None`
    /// if there is no such argument or it does not read the environment.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::ArgParser;
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--log-level");
    /// assert_eq!(parser.env_var("log-level").as_deref(), Some("MY_EXPORTER_LOG_LEVEL"));
    /// ```
    pub fn env_var(&self, key: &str) -> Option<String> {
        self.argument(key).and_then(|arg| self.env_var_of(arg))
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::testing::{case, run, with, Case, Expect};

    #[rustfmt::skip]
    fn cases() -> Vec<Case> {
        use Expect::*;
        vec![
            with(|p| { p.add_argument("--port").short('p').default("8000").no_env(); },
                case("redeclared key replaces the first", &["x"], &[("MY_EXPORTER_PORT", "7")], Run("host=localhost log-level=info metrics-path=/metrics port=8000 target=x"))),
            with(|p| { p.add_argument("--port").help("no short any more"); },
                case("redeclared key drops the old short", &["-p", "1", "x"], &[], Err("unrecognized option '-p'"))),
            with(|p| { p.add_argument("--port").required(); },
                case("redeclared key drops the old default", &["x"], &[], Err("missing required argument '--port'"))),
            with(|p| { p.argument_mut("port").unwrap().default("8000").help("changed"); },
                case("argument_mut keeps what it does not change", &["x"], &[], Run("host=localhost log-level=info metrics-path=/metrics port=8000 target=x"))),
            with(|p| { p.argument_mut("port").unwrap().help("changed"); },
                case("argument_mut keeps the short", &["-p", "1", "x"], &[], Run("host=localhost log-level=info metrics-path=/metrics port=1 target=x"))),
        ]
    }

    /// Declaring a key again replaces the declaration; `argument_mut` changes it in place.
    #[test]
    fn redeclaring() {
        run(&cases(), 5);
    }
}
