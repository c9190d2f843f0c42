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

use std::ffi::OsString;
use std::fmt;

/// Column at which help text starts in [`ArgParser::help`], as in Python's argparse.
const HELP_COLUMN: usize = 24;

/// `true` if `arg` is a value to argparse rather than an option: it does not start with `-`, is
/// `-` alone, or is a negative number (`-5`, `-0.5`, `-.5`).
fn is_value(arg: &std::ffi::OsStr) -> bool {
    let Some(text) = arg.to_str() else {
        return true; // not UTF-8: an error later, where it is named
    };
    let Some(after_dash) = text.strip_prefix('-') else {
        return true;
    };
    let digits = after_dash.strip_prefix('.').unwrap_or(after_dash);
    after_dash.is_empty() || digits.starts_with(|c: char| c.is_ascii_digit())
}

/// Indentation of every entry in the help text.
const HELP_INDENT: usize = 2;

/// Values accepted as "true" for a flag read from the environment (compared case-insensitively):
/// click's, which the Python library's 3.x versions read their environment with.
const TRUE_WORDS: [&str; 6] = ["1", "true", "t", "yes", "y", "on"];

/// Values accepted as "false" for a flag read from the environment (compared case-insensitively).
const FALSE_WORDS: [&str; 6] = ["0", "false", "f", "no", "n", "off"];

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
#[derive(Debug)]
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
    pub fn new(prog: &str, description: &str) -> ArgParser {
        ArgParser {
            prog: prog.to_owned(),
            description: description.to_owned(),
            version: None,
            env_prefix: env_name(prog),
            args: Vec::new(),
        }
    }

    /// Sets the version, and so enables `-V`/`--version`, which yields
    /// [`Parsed::Version`] holding `"<prog> <version>\n"`.
    pub fn version(&mut self, version: &str) -> &mut Self {
        self.version = Some(version.to_owned());
        self
    }

    /// Sets the prefix of the environment variables arguments fall back to (`<PREFIX>_<KEY>`).
    /// The prefix is used as given. An empty prefix disables environment variables entirely,
    /// including names set with [`Arg::env`].
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
    pub fn prog(&self) -> &str {
        &self.prog
    }

    /// Returns the declared argument with this key, if any.
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

    /// Returns the name of the environment variable the argument `key` falls back to, or `None`
    /// if there is no such argument or it does not read the environment.
    pub fn env_var(&self, key: &str) -> Option<String> {
        self.argument(key).and_then(|arg| self.env_var_of(arg))
    }

    /// Parses the process's command line (without `argv[0]`) and environment.
    ///
    /// # Errors
    ///
    /// As [`parse_from`](ArgParser::parse_from).
    pub fn parse(&self) -> Result<Parsed, CliError> {
        self.parse_from(std::env::args_os().skip(1), |key| std::env::var_os(key))
    }

    /// Parses `args` (without `argv[0]`), looking up environment variables with `env`
    /// (the process environment is `|key| std::env::var_os(key)`).
    ///
    /// `-h`/`--help` anywhere returns [`Parsed::Help`] at once, as does `-V`/`--version`
    /// [`Parsed::Version`], even after a malformed argument (but not when they are the value of
    /// an option, as in `--metrics-path -h`, nor after `--`). Otherwise the first error wins.
    ///
    /// # Errors
    ///
    /// Returns the first problem found: a bad declaration, then command-line errors in argument
    /// order, then environment errors in declaration order, then missing required arguments.
    pub fn parse_from<I, S>(
        &self,
        args: I,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Parsed, CliError>
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.check_declarations()?;

        let mut first_error: Option<CliError> = None;
        let mut cli: Keyed<Vec<String>> = Keyed::default();
        let mut flags: Keyed<()> = Keyed::default();
        // Values not taken by an option, in order. Those that followed a multiple option's
        // value (`-H a b`) hold a place among its values too; see below who gets them.
        let mut positionals: Vec<(OsString, Option<Tentative<'_>>)> = Vec::new();
        // Options that were followed by more than one value: each such run is a chain.
        let mut chains = 0usize;

        let mut parser = lexopt::Parser::from_args(args);
        loop {
            let (typed, option) = match parser.next() {
                Ok(None) => break,
                Ok(Some(lexopt::Arg::Value(value))) => {
                    positionals.push((value, None));
                    continue;
                }
                Ok(Some(lexopt::Arg::Short(c))) => (format!("-{}", c), self.short_option(c)),
                Ok(Some(lexopt::Arg::Long(name))) => {
                    (format!("--{}", name), self.long_option(name))
                }
                Err(err) => {
                    note(&mut first_error, from_lexopt(err));
                    continue;
                }
            };
            // A value attached to a flag: `--flag=x`, and `--help=x` or `--version=x` alike. A
            // short flag's cluster continues with more options ("-ab"), and lexopt reports
            // "-a=x" itself; only a long flag can carry "=value" here.
            let takes_no_value = match option {
                Lookup::Help | Lookup::Version => true,
                Lookup::Declared(arg) => arg.flag,
                Lookup::Unknown | Lookup::Ambiguous(_) => false,
            };
            if takes_no_value && typed.starts_with("--") {
                if let Some(value) = parser.optional_value() {
                    note(
                        &mut first_error,
                        CliError::UnexpectedValue {
                            option: typed,
                            value: lossy(value),
                        },
                    );
                    continue;
                }
            }
            let arg = match option {
                Lookup::Help => return Ok(Parsed::Help(self.help())),
                Lookup::Version => return Ok(Parsed::Version(self.version_text())),
                Lookup::Unknown => {
                    // Drop an attached value ("--frob=x") or the rest of a cluster ("-xyz"):
                    // we cannot tell whether they were meant as a value.
                    let _ = parser.optional_value();
                    note(&mut first_error, CliError::UnknownOption(typed));
                    continue;
                }
                Lookup::Ambiguous(matches) => {
                    let _ = parser.optional_value();
                    note(
                        &mut first_error,
                        CliError::AmbiguousOption {
                            option: typed,
                            matches,
                        },
                    );
                    continue;
                }
                Lookup::Declared(arg) => arg,
            };
            if arg.flag {
                flags.insert(&arg.key, ());
                continue;
            }
            // A multiple option takes the values up to the next option, as argparse's
            // `nargs="+"` does (`-H a b`); `--host=a` takes one. The values after the first are
            // set aside with the positionals, which get first claim on them.
            let mut extra: Vec<OsString> = Vec::new();
            let value = if !arg.multiple {
                parser.value().ok()
            } else if let Some(attached) = parser.optional_value() {
                Some(attached) // `-Ha`, `--host=a`: one value, as in argparse
            } else {
                // As in argparse, the values up to the next option: what does not start with
                // `-`, and negative numbers (`--offset -5 -6`).
                let next_is_value = |parser: &mut lexopt::Parser| {
                    parser
                        .try_raw_args()
                        .and_then(|raw| raw.peek().map(is_value))
                        .unwrap_or(false)
                };
                let first = if next_is_value(&mut parser) {
                    parser.value().ok()
                } else {
                    None
                };
                while first.is_some() && next_is_value(&mut parser) {
                    extra.extend(parser.value().ok());
                }
                first
            };
            let Some(value) = value else {
                note(&mut first_error, CliError::MissingValue(typed));
                continue;
            };
            let value = match value.into_string() {
                Ok(value) => value,
                Err(value) => {
                    note(&mut first_error, non_utf8(&typed, value));
                    continue;
                }
            };
            match arg.canonical(&value, &typed) {
                Ok(value) => {
                    let values = cli.entry(&arg.key);
                    if !arg.multiple {
                        values.clear();
                    }
                    values.push(value);
                }
                Err(err) => note(&mut first_error, err),
            }
            if !extra.is_empty() {
                chains += 1;
            }
            for value in extra {
                let values = cli.entry(&arg.key);
                let index = values.len();
                values.push(String::new());
                let typed = typed.clone();
                let chain = chains;
                positionals.push((
                    value,
                    Some(Tentative {
                        arg,
                        typed,
                        index,
                        chain,
                    }),
                ));
            }
        }
        if let Some(err) = first_error {
            return Err(err);
        }

        // The values after a multiple option's are its own, but for those the positionals still
        // need: positionals with no default and no environment value that the other values do
        // not fill. Those are the last ones: `-H a b x` with a positional `target` is `-H a -H b`
        // and target `x`.
        let needed = self
            .args
            .iter()
            .filter(|a| a.positional && a.default.is_none() && !self.env_gives(a, &env))
            .count();
        let untagged = positionals.iter().filter(|(_, t)| t.is_none()).count();
        let tentative_count = positionals.len() - untagged;
        let given_back_count = needed.saturating_sub(untagged).min(tentative_count);
        let mut surplus = tentative_count - given_back_count;
        // Split between options and positionals, values after two options are ambiguous
        // (`-H a x -l b y` with one positional: is the target `x` or `y`?).
        let tentative: Vec<&Tentative<'_>> =
            positionals.iter().filter_map(|(_, t)| t.as_ref()).collect();
        if (1..tentative.len()).contains(&surplus) {
            let chain_of = |t: Option<&&Tentative<'_>>| t.map_or(0, |t| t.chain);
            if chain_of(tentative.first()) != chain_of(tentative.last()) {
                let (value, option) = positionals
                    .iter()
                    .filter_map(|(value, t)| Some((value, &t.as_ref()?.typed)))
                    .nth(surplus)
                    .map(|(value, typed)| (lossy(value.clone()), typed.clone()))
                    .unwrap_or_default();
                return Err(CliError::AmbiguousArgument { value, option });
            }
        }
        let mut left = Vec::with_capacity(positionals.len());
        let mut given_back = Vec::new();
        for (value, tentative) in positionals {
            match tentative {
                Some(Tentative {
                    arg, typed, index, ..
                }) if surplus > 0 => {
                    surplus -= 1;
                    let value = value.into_string().map_err(|v| non_utf8(&typed, v))?;
                    let value = arg.canonical(&value, &typed)?;
                    if let Some(place) = cli.entry(&arg.key).get_mut(index) {
                        *place = value;
                    }
                }
                Some(tentative) => {
                    given_back.push(tentative);
                    left.push(value);
                }
                None => left.push(value),
            }
        }
        // Later places first, so the earlier indices stay right.
        for Tentative { arg, index, .. } in given_back.into_iter().rev() {
            let values = cli.entry(&arg.key);
            if index < values.len() {
                values.remove(index);
            }
        }

        // Positionals take command-line values in declaration order; a multiple one takes
        // the rest.
        let mut given = left.into_iter();
        for arg in self.args.iter().filter(|a| a.positional) {
            let taken: Vec<OsString> = if arg.multiple {
                given.by_ref().collect()
            } else {
                given.next().into_iter().collect()
            };
            let name = arg.name();
            for value in taken {
                let value = value.into_string().map_err(|v| non_utf8(&name, v))?;
                let value = arg.canonical(&value, &name)?;
                cli.entry(&arg.key).push(value);
            }
        }
        if let Some(extra) = given.next() {
            return Err(CliError::UnexpectedArgument(lossy(extra)));
        }

        let mut parsed = Args::default();
        for arg in &self.args {
            if let Some(values) = cli.remove(&arg.key) {
                parsed.insert(&arg.key, values, arg.name());
                continue;
            }
            if flags.contains_key(&arg.key) {
                parsed.flags.insert(&arg.key, ());
                continue;
            }
            if let Some(var) = self.env_var_of(arg) {
                if self.read_env(arg, &var, &env, &mut parsed)? {
                    continue;
                }
            }
            if let Some(default) = &arg.default {
                let name = arg.name();
                let values = arg
                    .split(default)
                    .iter()
                    .map(|v| arg.canonical(v, &name))
                    .collect::<Result<Vec<_>, _>>()?;
                if !values.is_empty() {
                    parsed.insert(&arg.key, values, name);
                }
                continue;
            }
            if (arg.positional || arg.required) && !parsed.is_present(&arg.key) {
                return Err(CliError::MissingArgument(arg.name()));
            }
        }
        Ok(Parsed::Run(parsed))
    }

    /// Returns the full help text: usage line, description, then positionals and options with
    /// their help, default, choices and environment variable. Ends with a newline.
    pub fn help(&self) -> String {
        let mut out = self.usage();
        out.push_str("\n\n");
        if !self.description.is_empty() {
            out.push_str(&self.description);
            out.push_str("\n\n");
        }
        let positionals: Vec<&Arg> = self.args.iter().filter(|a| a.positional).collect();
        if !positionals.is_empty() {
            out.push_str("positional arguments:\n");
            for arg in positionals {
                help_entry(&mut out, &arg.value_name(), &self.help_text(arg));
            }
            out.push('\n');
        }
        out.push_str("options:\n");
        help_entry(&mut out, "-h, --help", "show this help message and exit");
        if self.version.is_some() {
            help_entry(&mut out, "-V, --version", "show the version and exit");
        }
        for arg in self.args.iter().filter(|a| !a.positional) {
            let long = format!("--{}", arg.key);
            let invocation = match (arg.short, arg.flag) {
                (Some(c), true) => format!("-{}, {}", c, long),
                (None, true) => long,
                (Some(c), false) => {
                    let values = arg.option_values();
                    format!("-{} {}, {} {}", c, values, long, values)
                }
                (None, false) => format!("{} {}", long, arg.option_values()),
            };
            help_entry(&mut out, &invocation, &self.help_text(arg));
        }
        out
    }

    /// Returns the usage line, e.g. `usage: my-exporter [-h] [-H HOST [HOST ...]] [--process-stats] target`,
    /// without a trailing newline. Optional arguments are bracketed.
    pub fn usage(&self) -> String {
        let mut out = format!("usage: {} [-h]", self.prog);
        if self.version.is_some() {
            out.push_str(" [-V]");
        }
        for arg in self.args.iter().filter(|a| !a.positional) {
            let mut part = match arg.short {
                Some(c) => format!("-{}", c),
                None => format!("--{}", arg.key),
            };
            if !arg.flag {
                part.push(' ');
                part.push_str(&arg.option_values());
            }
            if arg.required {
                out.push_str(&format!(" {}", part));
            } else {
                out.push_str(&format!(" [{}]", part));
            }
        }
        for arg in self.args.iter().filter(|a| a.positional) {
            let name = arg.value_name();
            let part = match (arg.multiple, arg.default.is_some()) {
                (false, false) => name,
                (false, true) => format!("[{}]", name),
                (true, false) => format!("{} [{} ...]", name, name),
                (true, true) => format!("[{} ...]", name),
            };
            out.push(' ');
            out.push_str(&part);
        }
        out
    }

    /// The help text of one argument: its help, then default, choices and environment variable.
    fn help_text(&self, arg: &Arg) -> String {
        let mut parts: Vec<String> = Vec::new();
        if !arg.help.is_empty() {
            parts.push(arg.help.clone());
        }
        if let Some(default) = &arg.default {
            parts.push(format!("(default: {})", default));
        }
        // Without a metavar, the choices already show as "{a,b}" in the invocation.
        if !arg.choices.is_empty() && arg.metavar.is_some() {
            parts.push(format!("(choices: {})", arg.choices.join(", ")));
        }
        if let Some(var) = self.env_var_of(arg) {
            parts.push(format!("(env: {})", var));
        }
        parts.join(" ")
    }

    fn version_text(&self) -> String {
        format!(
            "{} {}\n",
            self.prog,
            self.version.as_deref().unwrap_or_default()
        )
    }

    fn env_var_of(&self, arg: &Arg) -> Option<String> {
        if self.env_prefix.is_empty() {
            return None;
        }
        match &arg.env {
            EnvSetting::Derived => Some(format!("{}_{}", self.env_prefix, env_name(&arg.key))),
            EnvSetting::Named(name) => Some(name.clone()),
            EnvSetting::Disabled => None,
        }
    }

    /// `true` if the environment gives `arg` a value (an error in it counts: it is reported
    /// later).
    fn env_gives(&self, arg: &Arg, env: &impl Fn(&str) -> Option<OsString>) -> bool {
        let Some(raw) = self.env_var_of(arg).and_then(|var| env(&var)) else {
            return false;
        };
        if raw.is_empty() {
            return false; // unset, as `read_env` takes it
        }
        match raw.to_str() {
            Some(text) => !arg.split(text).is_empty(),
            None => true,
        }
    }

    /// Reads `var` for `arg` into `parsed`. Returns whether the variable supplied a value.
    fn read_env(
        &self,
        arg: &Arg,
        var: &str,
        env: &impl Fn(&str) -> Option<OsString>,
        parsed: &mut Args,
    ) -> Result<bool, CliError> {
        let raw = match env(var) {
            Some(raw) if !raw.is_empty() => raw,
            _ => return Ok(false),
        };
        let text = raw.into_string().map_err(|raw| CliError::InvalidEnv {
            var: var.to_owned(),
            reason: format!("'{}' is not valid UTF-8", raw.to_string_lossy()),
        })?;
        if arg.flag {
            let word = text.trim();
            if TRUE_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word)) {
                parsed.flags.insert(&arg.key, ());
            } else if !FALSE_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word)) {
                return Err(CliError::InvalidEnv {
                    var: var.to_owned(),
                    reason: format!(
                        "'{}' is not a boolean: expected one of {}, {}",
                        text,
                        TRUE_WORDS.join(", "),
                        FALSE_WORDS.join(", ")
                    ),
                });
            }
            return Ok(true);
        }
        let values = arg
            .split(&text)
            .iter()
            .map(|v| arg.canonical(v, var))
            .collect::<Result<Vec<_>, _>>()?;
        if values.is_empty() {
            return Ok(false);
        }
        parsed.insert(&arg.key, values, var.to_owned());
        Ok(true)
    }

    fn short_option(&self, c: char) -> Lookup<'_> {
        if c == 'h' {
            return Lookup::Help;
        }
        if c == 'V' && self.version.is_some() {
            return Lookup::Version;
        }
        match self
            .args
            .iter()
            .find(|a| !a.positional && a.short == Some(c))
        {
            Some(arg) => Lookup::Declared(arg),
            None => Lookup::Unknown,
        }
    }

    /// The option `--name`, or the one option `name` begins (`--log` for `--log-level`), as
    /// argparse allows.
    fn long_option(&self, name: &str) -> Lookup<'_> {
        let builtins = [("help", Lookup::Help), ("version", Lookup::Version)];
        let builtins = builtins
            .into_iter()
            .filter(|(key, _)| *key == "help" || self.version.is_some());
        let declared = self
            .args
            .iter()
            .filter(|a| !a.positional)
            .map(|a| (a.key.as_str(), Lookup::Declared(a)));
        let options = builtins.chain(declared);
        let mut found = Lookup::Unknown;
        let mut matches: Vec<&str> = Vec::new();
        for (key, lookup) in options {
            if key == name {
                return lookup;
            }
            if !name.is_empty() && key.starts_with(name) {
                matches.push(key);
                found = lookup;
            }
        }
        if matches.len() > 1 {
            return Lookup::Ambiguous(matches.iter().map(|key| format!("--{key}")).collect());
        }
        found
    }

    /// Checks what the builder cannot check call by call.
    fn check_declarations(&self) -> Result<(), CliError> {
        let mut shorts: Vec<(char, &str)> = Vec::new();
        let mut after_multiple: Option<&Arg> = None;
        for arg in &self.args {
            // One formatting call for every reason, literal or not.
            let bad = |reason: fmt::Arguments<'_>| CliError::InvalidDeclaration {
                arg: arg.declared_name(),
                reason: reason.to_string(),
            };
            if arg.key.is_empty()
                || arg.key.starts_with('-')
                || arg
                    .key
                    .contains(|c: char| c == '=' || c.is_whitespace() || c.is_control())
            {
                return Err(bad(format_args!("expected a name like '--an-option' or 'a-positional', without '=', spaces or a leading '-' after the dashes")));
            }
            if arg.key == "help" || (arg.key == "version" && self.version.is_some()) {
                return Err(bad(format_args!("'--{}' is built in", arg.key)));
            }
            if arg.positional {
                if arg.short.is_some() {
                    return Err(bad(format_args!("a positional cannot have a short option")));
                }
                if arg.flag {
                    return Err(bad(format_args!("a positional cannot be a flag")));
                }
                if let Some(multiple) = after_multiple {
                    return Err(bad(format_args!(
                        "a positional cannot follow the multiple positional '{}'",
                        multiple.key
                    )));
                }
                if arg.multiple {
                    after_multiple = Some(arg);
                }
            }
            if let Some(c) = arg.short {
                if c == '-' || c == '=' || c.is_whitespace() || c.is_control() {
                    return Err(bad(format_args!("invalid short option '-{}'", c)));
                }
                if c == 'h' || (c == 'V' && self.version.is_some()) {
                    return Err(bad(format_args!("'-{}' is built in", c)));
                }
                if let Some((_, other)) = shorts.iter().find(|(short, _)| *short == c) {
                    return Err(bad(format_args!(
                        "'-{}' is already used by '--{}'",
                        c, other
                    )));
                }
                shorts.push((c, &arg.key));
            }
            if arg.flag {
                let extra = [
                    (arg.multiple, "multiple"),
                    (arg.required, "required"),
                    (arg.default.is_some(), "a default"),
                    (!arg.choices.is_empty(), "choices"),
                ];
                if let Some((_, what)) = extra.iter().find(|(set, _)| *set) {
                    return Err(bad(format_args!("a flag cannot have {}", what)));
                }
            }
            if arg.required && arg.default.is_some() {
                return Err(bad(format_args!(
                    "a required argument cannot have a default"
                )));
            }
            if let Some(default) = &arg.default {
                for value in arg.split(default) {
                    arg.canonical(&value, "default")
                        .map_err(|err| bad(format_args!("bad default: {}", err)))?;
                }
            }
            if let Some(var) = self.env_var_of(arg) {
                if var.is_empty() || var.contains(&['=', '\0'][..]) {
                    return Err(bad(format_args!(
                        "invalid environment variable name '{}': expected no '=' or NUL",
                        var
                    )));
                }
            }
        }
        Ok(())
    }
}

/// How an option seen on the command line resolved.
enum Lookup<'a> {
    Help,
    Version,
    Unknown,
    /// A prefix of several options: these.
    Ambiguous(Vec<String>),
    Declared(&'a Arg),
}

/// Where an argument falls back to in the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
enum EnvSetting {
    /// `<PREFIX>_<KEY>`.
    Derived,
    /// A name set with [`Arg::env`].
    Named(String),
    /// Set with [`Arg::no_env`].
    Disabled,
}

/// A value after a multiple option's value (`b` in `-H a b`): the option's unless the
/// positionals need it; it holds place `index` among the option's values meanwhile.
struct Tentative<'a> {
    arg: &'a Arg,
    /// The option as typed (`-H`), for errors.
    typed: String,
    index: usize,
    /// Which run of values after an option it belongs to.
    chain: usize,
}

/// The declaration of one option or positional, configured with chained builder calls on the
/// `&mut Arg` that [`ArgParser::add_argument`] returns.
#[derive(Debug, Clone)]
pub struct Arg {
    key: String,
    positional: bool,
    short: Option<char>,
    help: String,
    flag: bool,
    default: Option<String>,
    metavar: Option<String>,
    choices: Vec<String>,
    multiple: bool,
    required: bool,
    env: EnvSetting,
}

impl Arg {
    fn new(name: &str) -> Arg {
        let (key, positional) = match name.strip_prefix("--") {
            Some(key) => (key, false),
            None => (name, true),
        };
        Arg {
            key: key.to_owned(),
            positional,
            short: None,
            help: String::new(),
            flag: false,
            default: None,
            metavar: None,
            choices: Vec::new(),
            multiple: false,
            required: false,
            env: EnvSetting::Derived,
        }
    }

    /// Adds a short form `-c` (options only).
    pub fn short(&mut self, c: char) -> &mut Self {
        self.short = Some(c);
        self
    }

    /// Sets the help text.
    pub fn help(&mut self, text: &str) -> &mut Self {
        self.help = text.to_owned();
        self
    }

    /// Makes the option a flag that takes no value; [`Args::flag`] says whether it was given.
    pub fn flag(&mut self) -> &mut Self {
        self.flag = true;
        self
    }

    /// Sets the value used when neither the command line nor the environment gives one; shown
    /// in the help. For a [`multiple`](Arg::multiple) argument it is split on `,` like an
    /// environment variable. A positional with a default is optional.
    pub fn default(&mut self, value: &str) -> &mut Self {
        self.default = Some(value.to_owned());
        self
    }

    /// Sets the name of the value in the help (default: an option's key uppercased with `-`
    /// replaced by `_`, or its choices as `{a,b}`; a positional's key).
    pub fn metavar(&mut self, m: &str) -> &mut Self {
        self.metavar = Some(m.to_owned());
        self
    }

    /// Restricts the values to these choices, matched case-insensitively; the value stored is
    /// the declared spelling.
    pub fn choices<I: IntoIterator<Item = S>, S: AsRef<str>>(&mut self, c: I) -> &mut Self {
        self.choices = c.into_iter().map(|s| s.as_ref().to_owned()).collect();
        self
    }

    /// Lets an option take several values, each appended ([`Args::get_all`]): repeated
    /// (`-H a -H b`) or, as with argparse's `nargs="+"`, followed by more values up to the next
    /// option (`-H a b`; an attached value, `-Ha` or `--host=a`, is one). A positional with no
    /// default and no environment value that no other value fills takes the last of them:
    /// with such a positional `target`, `-H a b` is `-H a` and target `b`, and `-H a b c` is
    /// `-H a -H b` and target `c`. When values after two options would be split between them
    /// and the positionals (`-H a x -H b y`), parsing fails with
    /// [`CliError::AmbiguousArgument`]. As in argparse, the values may not start with `-`,
    /// except negative numbers (`--offset -5 -6`).
    ///
    /// Lets a positional take all remaining values (one or more; it must be the last
    /// positional). From the environment, values are split on `,`.
    pub fn multiple(&mut self) -> &mut Self {
        self.multiple = true;
        self
    }

    /// Makes an option required: parsing fails unless the command line or the environment gives
    /// it. Positionals without a default are always required.
    pub fn required(&mut self) -> &mut Self {
        self.required = true;
        self
    }

    /// Reads the environment variable `var` (the whole name, no prefix added) instead of
    /// `<PREFIX>_<KEY>`.
    pub fn env(&mut self, var: &str) -> &mut Self {
        self.env = EnvSetting::Named(var.to_owned());
        self
    }

    /// Never reads the environment for this argument.
    pub fn no_env(&mut self) -> &mut Self {
        self.env = EnvSetting::Disabled;
        self
    }

    /// Returns the key: the name without leading `--`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Returns `true` if this is a positional, `false` if an option.
    pub fn is_positional(&self) -> bool {
        self.positional
    }

    /// The name as declared: `--key` or `key`.
    fn declared_name(&self) -> String {
        if self.positional {
            self.key.clone()
        } else {
            format!("--{}", self.key)
        }
    }

    /// The name in errors: `--key` for options; the metavar (or key) for positionals.
    fn name(&self) -> String {
        if self.positional {
            self.value_name()
        } else {
            format!("--{}", self.key)
        }
    }

    /// The name of the value in the help: the metavar; else a positional's key, an option's
    /// choices as `{a,b}` or its key uppercased with `-` replaced by `_`.
    fn value_name(&self) -> String {
        if self.positional {
            return self.metavar.clone().unwrap_or_else(|| self.key.clone());
        }
        if let Some(metavar) = &self.metavar {
            return metavar.clone();
        }
        if !self.choices.is_empty() {
            return format!("{{{}}}", self.choices.join(","));
        }
        self.key.to_ascii_uppercase().replace('-', "_")
    }

    /// What an option takes, in the help: `HOST`, or `HOST [HOST ...]` for a multiple one.
    fn option_values(&self) -> String {
        let name = self.value_name();
        if self.multiple {
            format!("{} [{} ...]", name, name)
        } else {
            name
        }
    }

    /// Splits a value from the environment or a default: on `,` for multiple arguments.
    fn split(&self, text: &str) -> Vec<String> {
        if !self.multiple {
            return vec![text.to_owned()];
        }
        text.split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Checks `value` against the choices, returning the declared spelling; `source` names
    /// where the value came from in the error.
    fn canonical(&self, value: &str, source: &str) -> Result<String, CliError> {
        if self.choices.is_empty() {
            return Ok(value.to_owned());
        }
        // ASCII case only: choices are option words, and this keeps Unicode tables out of
        // small binaries.
        match self.choices.iter().find(|c| c.eq_ignore_ascii_case(value)) {
            Some(choice) => Ok(choice.clone()),
            None => Err(CliError::InvalidChoice {
                option: source.to_owned(),
                value: value.to_owned(),
                choices: self.choices.clone(),
            }),
        }
    }
}

/// The outcome of a successful parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// The arguments to run with.
    Run(Args),
    /// `-h`/`--help` was given: the text of [`ArgParser::help`], to print before exiting 0.
    Help(String),
    /// `-V`/`--version` was given: `"<prog> <version>\n"`, to print before exiting 0.
    Version(String),
}

/// The values of parsed arguments, by key (`"log-level"` for `--log-level`).
///
/// Each argument's values come from the command line if it gave any, else from the
/// environment, else from the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    values: Keyed<Values>,
    /// Keys of the flags that are set.
    flags: Keyed<()>,
}

/// Values by key, in the order they were inserted. A command line has a handful of
/// arguments, so a linear search costs less than a map, in time and in code.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Keyed<V>(Vec<(String, V)>);

impl<V> Default for Keyed<V> {
    fn default() -> Self {
        Keyed(Vec::new())
    }
}

impl<V> Keyed<V> {
    fn position(&self, key: &str) -> Option<usize> {
        self.0.iter().position(|(k, _)| k == key)
    }

    fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets the value of `key`, replacing any it had.
    fn insert(&mut self, key: &str, value: V) {
        match self.position(key) {
            Some(i) => self.0[i].1 = value,
            None => self.0.push((key.to_owned(), value)),
        }
    }

    fn remove(&mut self, key: &str) -> Option<V> {
        Some(self.0.remove(self.position(key)?).1)
    }

    /// The value of `key`, a default one inserted first if it has none.
    fn entry(&mut self, key: &str) -> &mut V
    where
        V: Default,
    {
        let i = match self.position(key) {
            Some(i) => i,
            None => {
                self.0.push((key.to_owned(), V::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }
}

/// The values of one argument and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Values {
    values: Vec<String>,
    /// The option (`--port`), positional or environment variable, named in parse errors.
    origin: String,
}

impl Args {
    fn insert(&mut self, key: &str, values: Vec<String>, origin: String) {
        self.values.insert(key, Values { values, origin });
    }

    /// Returns the value of `key` (the last one of a multiple argument), or `None` if it has no
    /// value. Always `None` for flags.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .and_then(|v| v.values.last())
            .map(String::as_str)
    }

    /// Returns all values of `key`: those of the command line if it gave any, else those of the
    /// environment, else the default. Empty if it has none.
    pub fn get_all(&self, key: &str) -> &[String] {
        self.values.get(key).map_or(&[], |v| v.values.as_slice())
    }

    /// Returns `true` if the flag `key` was given on the command line or set to a true value in
    /// the environment.
    pub fn flag(&self, key: &str) -> bool {
        self.flags.contains_key(key)
    }

    /// Parses the value of `key` (as [`get`](Args::get)); `Ok(None)` if it has no value.
    ///
    /// # Errors
    ///
    /// [`CliError::InvalidValue`] naming the option or environment variable it came from.
    pub fn value_of<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>, CliError>
    where
        T::Err: fmt::Display,
    {
        match self.values.get(key) {
            Some(entry) => match entry.values.last() {
                Some(value) => entry.parse(value).map(Some),
                None => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// Parses every value of `key` (as [`get_all`](Args::get_all)).
    ///
    /// # Errors
    ///
    /// [`CliError::InvalidValue`] for the first value that does not parse.
    pub fn values_of<T: std::str::FromStr>(&self, key: &str) -> Result<Vec<T>, CliError>
    where
        T::Err: fmt::Display,
    {
        match self.values.get(key) {
            Some(entry) => entry.values.iter().map(|v| entry.parse(v)).collect(),
            None => Ok(Vec::new()),
        }
    }

    /// Returns `true` if `key` has a value from any source (command line, environment or
    /// default), or is a flag that is set.
    pub fn is_present(&self, key: &str) -> bool {
        self.values.contains_key(key) || self.flags.contains_key(key)
    }
}

impl Values {
    fn parse<T: std::str::FromStr>(&self, value: &str) -> Result<T, CliError>
    where
        T::Err: fmt::Display,
    {
        value.parse().map_err(|err: T::Err| CliError::InvalidValue {
            option: self.origin.clone(),
            value: value.to_owned(),
            reason: err.to_string(),
        })
    }
}

/// Why the command line, the environment or the declarations could not be parsed.
///
/// Messages are lowercase and name the culprit; `Debug` shows the same message, so
/// `fn main() -> Result<(), CliError>` prints it readably.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CliError {
    /// An option that is not declared, as given (`--frob`, `-x`).
    UnknownOption(String),
    /// An option that takes a value came last, as given (`--port`, `-p`).
    MissingValue(String),
    /// A flag was given a value (`--process-stats=1`).
    UnexpectedValue {
        /// The flag as given.
        option: String,
        /// The value attached to it.
        value: String,
    },
    /// A positional value beyond those declared.
    UnexpectedArgument(String),
    /// A prefix of several long options (`--p` for `--port` and `--process-stats`).
    AmbiguousOption {
        /// The option as given.
        option: String,
        /// The options it begins.
        matches: Vec<String>,
    },
    /// A value that could belong to the multiple option before it or to a positional, with
    /// values after two such options (`-H a x -l b y` and one positional).
    AmbiguousArgument {
        /// The value.
        value: String,
        /// The option it follows, as given.
        option: String,
    },
    /// A required positional or option got no value from any source (`target`, `--config`).
    MissingArgument(String),
    /// A value that is not among the declared choices.
    InvalidChoice {
        /// The option, positional or environment variable that gave the value.
        option: String,
        /// The value given.
        value: String,
        /// The declared choices.
        choices: Vec<String>,
    },
    /// A value that is not valid UTF-8, or that [`Args::value_of`] could not parse.
    InvalidValue {
        /// The option, positional or environment variable that gave the value.
        option: String,
        /// The value (lossily converted if not UTF-8).
        value: String,
        /// Why it is invalid.
        reason: String,
    },
    /// An environment variable that cannot be used (a flag's variable that is not a boolean,
    /// a value that is not valid UTF-8).
    InvalidEnv {
        /// The variable's name.
        var: String,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// A declaration that cannot work (a program error, not a user error): an empty key, a
    /// short option on a positional, a short option used twice, a default outside the choices...
    InvalidDeclaration {
        /// The argument as declared (`--port`, `target`).
        arg: String,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::UnknownOption(option) => write!(f, "unrecognized option '{}'", option),
            CliError::MissingValue(option) => write!(f, "missing value for option '{}'", option),
            CliError::UnexpectedValue { option, value } => write!(
                f,
                "unexpected value '{}' for option '{}': it takes no value",
                value, option
            ),
            CliError::UnexpectedArgument(value) => write!(
                f,
                "unexpected argument '{}': no more positional arguments expected",
                value
            ),
            CliError::AmbiguousOption { option, matches } => write!(
                f,
                "ambiguous option '{}': it could be {}",
                option,
                matches.join(", ")
            ),
            CliError::AmbiguousArgument { value, option } => write!(
                f,
                "ambiguous argument '{}': a value of '{}' or a positional argument? \
                 Give positional arguments first, or '{}' once per value",
                value, option, option
            ),
            CliError::MissingArgument(name) => {
                write!(f, "missing required argument '{}'", name)
            }
            CliError::InvalidChoice {
                option,
                value,
                choices,
            } => write!(
                f,
                "invalid value '{}' for '{}': expected one of {}",
                value,
                option,
                choices.join(", ")
            ),
            CliError::InvalidValue {
                option,
                value,
                reason,
            } => write!(f, "invalid value '{}' for '{}': {}", value, option, reason),
            CliError::InvalidEnv { var, reason } => {
                write!(f, "invalid environment variable '{}': {}", var, reason)
            }
            CliError::InvalidDeclaration { arg, reason } => {
                write!(f, "invalid declaration of '{}': {}", arg, reason)
            }
        }
    }
}

impl fmt::Debug for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for CliError {}

/// Keeps the first error of a parse.
fn note(first: &mut Option<CliError>, err: CliError) {
    if first.is_none() {
        *first = Some(err);
    }
}

/// Converts the errors `lexopt::Parser::next` can return.
fn from_lexopt(err: lexopt::Error) -> CliError {
    match err {
        lexopt::Error::UnexpectedValue { option, value } => CliError::UnexpectedValue {
            option,
            value: lossy(value),
        },
        lexopt::Error::MissingValue { option } => {
            CliError::MissingValue(option.unwrap_or_default())
        }
        lexopt::Error::UnexpectedOption(option) => CliError::UnknownOption(option),
        lexopt::Error::UnexpectedArgument(value) => CliError::UnexpectedArgument(lossy(value)),
        other => CliError::InvalidValue {
            option: String::new(),
            value: String::new(),
            reason: other.to_string(),
        },
    }
}

fn non_utf8(option: &str, value: OsString) -> CliError {
    CliError::InvalidValue {
        option: option.to_owned(),
        value: lossy(value),
        reason: "expected valid UTF-8".to_owned(),
    }
}

fn lossy(value: OsString) -> String {
    value
        .into_string()
        .unwrap_or_else(|v| v.to_string_lossy().into_owned())
}

/// Uppercases `text` and replaces every character but ASCII letters and digits by `_`.
fn env_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Appends one help entry: `invocation` indented, `text` at [`HELP_COLUMN`] (on the next line
/// if the invocation reaches it).
fn help_entry(out: &mut String, invocation: &str, text: &str) {
    let width = HELP_COLUMN - HELP_INDENT - 2;
    out.push_str(&" ".repeat(HELP_INDENT));
    out.push_str(invocation);
    if !text.is_empty() {
        let used = invocation.chars().count();
        if used <= width {
            out.push_str(&" ".repeat(width - used + 2));
        } else {
            out.push('\n');
            out.push_str(&" ".repeat(HELP_COLUMN));
        }
        out.push_str(text);
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parser most cases run against: the shape of a real exporter's command line.
    fn exporter() -> ArgParser {
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
    enum Expect {
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
    struct Case {
        name: &'static str,
        setup: fn(&mut ArgParser),
        argv: Vec<OsString>,
        env: &'static [(&'static str, &'static str)],
        expect: Expect,
    }

    fn case(
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

    /// All values and set flags as "key=v1,v2 flag key=v", sorted by key.
    fn render(args: &Args) -> String {
        let mut parts: Vec<(&str, String)> = Vec::new();
        for (key, values) in &args.values.0 {
            parts.push((key, format!("{}={}", key, values.values.join(","))));
        }
        for (key, ()) in &args.flags.0 {
            parts.push((key, key.clone()));
        }
        parts.sort();
        let parts: Vec<String> = parts.into_iter().map(|(_, part)| part).collect();
        parts.join(" ")
    }

    /// An argument that is not valid UTF-8: `prefix` followed by a stray byte.
    #[cfg(unix)]
    fn non_utf8_arg(prefix: &str) -> OsString {
        use std::os::unix::ffi::OsStringExt;
        let mut bytes = prefix.as_bytes().to_vec();
        bytes.push(0xff);
        OsString::from_vec(bytes)
    }

    /// Runs `setup` on the parser before the case.
    fn with(setup: fn(&mut ArgParser), case: Case) -> Case {
        Case { setup, ..case }
    }

    /// Replaces the case's argv (for arguments that are not valid UTF-8).
    #[cfg(unix)]
    fn argv(argv: Vec<OsString>, case: Case) -> Case {
        Case { argv, ..case }
    }

    #[rustfmt::skip]
    fn cases() -> Vec<Case> {
        use Expect::*;
        #[allow(unused_mut)]
        let mut cases = vec![
            case("defaults", &["x"], &[], Run("host=localhost log-level=info metrics-path=/metrics port=9090 target=x")),
            case("long space value", &["--port", "1", "x"], &[], Run("host=localhost log-level=info metrics-path=/metrics port=1 target=x")),
            case("long equals value", &["--port=2", "x"], &[], Run("host=localhost log-level=info metrics-path=/metrics port=2 target=x")),
            case("empty value after equals", &["--port=", "x"], &[], Run("host=localhost log-level=info metrics-path=/metrics port= target=x")),
            case("short attached value", &["-p3", "x"], &[], Run("host=localhost log-level=info metrics-path=/metrics port=3 target=x")),
            case("short separate value", &["-p", "4", "x"], &[], Run("host=localhost log-level=info metrics-path=/metrics port=4 target=x")),
            case("short equals value", &["-p=5", "x"], &[], Run("host=localhost log-level=info metrics-path=/metrics port=5 target=x")),
            case("value starting with a dash", &["--metrics-path", "-h", "x"], &[], Run("host=localhost log-level=info metrics-path=-h port=9090 target=x")),
            case("repeated single option: last wins", &["-p", "1", "-p", "2", "x"], &[], Run("host=localhost log-level=info metrics-path=/metrics port=2 target=x")),
            case("repeated multiple option", &["-H", "a", "--host=b", "-Hc", "x"], &[], Run("host=a,b,c log-level=info metrics-path=/metrics port=9090 target=x")),
            case("flag", &["--process-stats", "x"], &[], Run("host=localhost log-level=info metrics-path=/metrics port=9090 process-stats target=x")),
            case("several values after a multiple option, as argparse's nargs=+", &["-H", "a", "b", "c", "x"], &[], Run("host=a,b,c log-level=info metrics-path=/metrics port=9090 target=x")),
            case("positionals get first claim on them", &["-H", "a", "x"], &[], Run("host=a log-level=info metrics-path=/metrics port=9090 target=x")),
            case("so a required positional is not swallowed", &["-H", "a", "b"], &[], Run("host=a log-level=info metrics-path=/metrics port=9090 target=b")),
            case("values stay in order", &["-H", "a", "b", "-H", "c", "d", "-p", "1", "x"], &[], Run("host=a,b,c,d log-level=info metrics-path=/metrics port=1 target=x")),
            case("a value given back keeps the others in order", &["-H", "a", "x", "-p", "1", "-Hc"], &[], Run("host=a,c log-level=info metrics-path=/metrics port=1 target=x")),
            case("values after two options, split: ambiguous", &["-H", "a", "x", "-H", "c", "d"], &[], Err("ambiguous argument 'd': a value of '-H' or a positional argument? Give positional arguments first, or '-H' once per value")),
            case("values after two options, split within the last: ambiguous too", &["-H", "a", "b", "-H", "c", "d", "x"], &[], Err("ambiguous argument 'x': a value of '-H' or a positional argument? Give positional arguments first, or '-H' once per value")),
            with(|p| p.args.retain(|a| !a.positional),
                case("values after two options, no positional", &["-H", "a", "b", "-H", "c", "d"], &[], Run("host=a,b,c,d log-level=info metrics-path=/metrics port=9090"))),
            with(|p| { p.add_argument("--label").short('l').multiple(); },
                case("values after two different options, split: ambiguous", &["-H", "a", "x", "-l", "l1", "l2"], &[], Err("ambiguous argument 'l2': a value of '-l' or a positional argument? Give positional arguments first, or '-l' once per value"))),
            case("positional first, then several values", &["x", "--host", "a", "b"], &[], Run("host=a,b log-level=info metrics-path=/metrics port=9090 target=x")),
            case("= takes one value", &["--host=a", "b", "x"], &[], Err("unexpected argument 'x': no more positional arguments expected")),
            case("-- ends the values", &["-H", "a", "--", "x"], &[], Run("host=a log-level=info metrics-path=/metrics port=9090 target=x")),
            case("a multiple option's value may not look like an option, as in argparse", &["-H", "-p", "1", "x"], &[], Err("missing value for option '-H'")),
            with(|p| { p.add_argument("--offset").multiple(); },
                case("but may be a negative number", &["--offset", "-.5", "-6", "x"], &[], Run("host=localhost log-level=info metrics-path=/metrics offset=-.5,-6 port=9090 target=x"))),
            case("an attached value is one value, as in argparse", &["-Ha", "b"], &[], Run("host=a log-level=info metrics-path=/metrics port=9090 target=b")),
            case("so is one after =", &["--host=a", "b"], &[], Run("host=a log-level=info metrics-path=/metrics port=9090 target=b")),
            case("a positional with an environment value needs none", &["-H", "a", "b"], &[("MY_EXPORTER_TARGET", "t")], Run("host=a,b log-level=info metrics-path=/metrics port=9090 target=t")),
            with(|p| { p.add_argument("target").default("all"); },
                case("nor does one with a default", &["-H", "a", "b"], &[], Run("host=a,b log-level=info metrics-path=/metrics port=9090 target=all"))),
            with(|p| { p.add_argument("target").default("all"); },
                case("but takes a value given before the option", &["x", "-H", "a", "b"], &[], Run("host=a,b log-level=info metrics-path=/metrics port=9090 target=x"))),
            case("its further values may not", &["-H", "a", "-x", "t"], &[], Err("unrecognized option '-x'")),
            with(|p| p.args.retain(|a| !a.positional),
                case("no positionals: every value is the option's", &["-H", "127.0.0.1", "::1", "-p", "1"], &[], Run("host=127.0.0.1,::1 log-level=info metrics-path=/metrics port=1"))),
            with(|p| p.args.retain(|a| !a.positional),
                case("no positionals: a surplus value after a single option", &["-p", "1", "2"], &[], Err("unexpected argument '2': no more positional arguments expected"))),
            with(|p| { p.add_argument("target").multiple(); },
                case("a multiple positional needs one value: the last", &["-H", "a", "b", "c"], &[], Run("host=a,b log-level=info metrics-path=/metrics port=9090 target=c"))),
            case("positional before options", &["x", "-Hy"], &[], Run("host=y log-level=info metrics-path=/metrics port=9090 target=x")),
            case("env fallback", &[], &[("MY_EXPORTER_PORT", "7"), ("MY_EXPORTER_TARGET", "t")], Run("host=localhost log-level=info metrics-path=/metrics port=7 target=t")),
            case("env multiple split on commas", &["x"], &[("MY_EXPORTER_HOST", " a, b,,c ")], Run("host=a,b,c log-level=info metrics-path=/metrics port=9090 target=x")),
            case("env multiple of only commas is unset", &["x"], &[("MY_EXPORTER_HOST", " , ")], Run("host=localhost log-level=info metrics-path=/metrics port=9090 target=x")),
            case("cli beats env", &["-p", "8", "x"], &[("MY_EXPORTER_PORT", "7")], Run("host=localhost log-level=info metrics-path=/metrics port=8 target=x")),
            case("cli multiple replaces env", &["-H", "a", "x"], &[("MY_EXPORTER_HOST", "b,c")], Run("host=a log-level=info metrics-path=/metrics port=9090 target=x")),
            case("cli positional beats env", &["x"], &[("MY_EXPORTER_TARGET", "t")], Run("host=localhost log-level=info metrics-path=/metrics port=9090 target=x")),
            case("env flag true", &["x"], &[("MY_EXPORTER_PROCESS_STATS", "Yes")], Run("host=localhost log-level=info metrics-path=/metrics port=9090 process-stats target=x")),
            case("env flag one", &["x"], &[("MY_EXPORTER_PROCESS_STATS", "1")], Run("host=localhost log-level=info metrics-path=/metrics port=9090 process-stats target=x")),
            case("env flag y, as click", &["x"], &[("MY_EXPORTER_PROCESS_STATS", "Y")], Run("host=localhost log-level=info metrics-path=/metrics port=9090 process-stats target=x")),
            case("env flag f, as click", &["x"], &[("MY_EXPORTER_PROCESS_STATS", "f")], Run("host=localhost log-level=info metrics-path=/metrics port=9090 target=x")),
            case("env flag false", &["x"], &[("MY_EXPORTER_PROCESS_STATS", "OFF")], Run("host=localhost log-level=info metrics-path=/metrics port=9090 target=x")),
            case("cli flag beats false env", &["--process-stats", "x"], &[("MY_EXPORTER_PROCESS_STATS", "0")], Run("host=localhost log-level=info metrics-path=/metrics port=9090 process-stats target=x")),
            case("env flag garbage", &["x"], &[("MY_EXPORTER_PROCESS_STATS", "maybe")], Err("invalid environment variable 'MY_EXPORTER_PROCESS_STATS': 'maybe' is not a boolean: expected one of 1, true, t, yes, y, on, 0, false, f, no, n, off")),
            case("empty env var ignored", &["x"], &[("MY_EXPORTER_PORT", ""), ("MY_EXPORTER_PROCESS_STATS", "")], Run("host=localhost log-level=info metrics-path=/metrics port=9090 target=x")),
            case("choice case-insensitive, canonical spelling", &["-L", "DeBuG", "x"], &[], Run("host=localhost log-level=debug metrics-path=/metrics port=9090 target=x")),
            case("env choice canonicalised", &["x"], &[("MY_EXPORTER_LOG_LEVEL", "ERROR")], Run("host=localhost log-level=error metrics-path=/metrics port=9090 target=x")),
            case("invalid choice", &["--log-level", "loud", "x"], &[], Err("invalid value 'loud' for '--log-level': expected one of critical, error, warning, info, debug")),
            case("invalid choice, short", &["-Lloud", "x"], &[], Err("invalid value 'loud' for '-L': expected one of critical, error, warning, info, debug")),
            case("invalid choice from env", &["x"], &[("MY_EXPORTER_LOG_LEVEL", "loud")], Err("invalid value 'loud' for 'MY_EXPORTER_LOG_LEVEL': expected one of critical, error, warning, info, debug")),
            case("missing value, long", &["x", "--port"], &[], Err("missing value for option '--port'")),
            case("missing value, short", &["x", "-L"], &[], Err("missing value for option '-L'")),
            case("a prefix of one option is that option, as in argparse", &["--po", "1", "--log", "DEBUG", "--metrics=/m", "--process", "x"], &[], Run("host=localhost log-level=debug metrics-path=/m port=1 process-stats target=x")),
            case("a prefix of several options is ambiguous", &["--p", "1", "x"], &[], Err("ambiguous option '--p': it could be --port, --process-stats")),
            case("--help and --host share --h", &["--h"], &[], Err("ambiguous option '--h': it could be --help, --host")),
            case("a prefix of --help", &["--he"], &[], Help),
            case("a prefix of --version", &["--vers"], &[], Version("my-exporter 1.2.3\n")),
            case("a value on a prefix of a flag", &["--process=1", "x"], &[], Err("unexpected value '1' for option '--process': it takes no value")),
            case("unknown long option", &["--frob", "x"], &[], Err("unrecognized option '--frob'")),
            case("unknown long option with value", &["--frob=1", "x"], &[], Err("unrecognized option '--frob'")),
            case("unknown short option", &["-x", "x"], &[], Err("unrecognized option '-x'")),
            case("first error wins", &["--frob", "--port"], &[], Err("unrecognized option '--frob'")),
            case("value on a long flag", &["--process-stats=1", "x"], &[], Err("unexpected value '1' for option '--process-stats': it takes no value")),
            case("value on --help", &["--help=foo", "x"], &[], Err("unexpected value 'foo' for option '--help': it takes no value")),
            case("value on --version", &["--version=1", "x"], &[], Err("unexpected value '1' for option '--version': it takes no value")),
            case("unexpected positional", &["x", "y"], &[], Err("unexpected argument 'y': no more positional arguments expected")),
            case("missing required positional", &[], &[], Err("missing required argument 'target'")),
            case("missing positional, empty env", &["-p", "1"], &[("MY_EXPORTER_TARGET", "")], Err("missing required argument 'target'")),
            case("-- then dash-leading positional", &["--", "-x"], &[], Run("host=localhost log-level=info metrics-path=/metrics port=9090 target=-x")),
            case("-- then -h is a positional", &["--", "-h"], &[], Run("host=localhost log-level=info metrics-path=/metrics port=9090 target=-h")),
            case("lone dash is a positional", &["-"], &[], Run("host=localhost log-level=info metrics-path=/metrics port=9090 target=-")),
            case("-h alone", &["-h"], &[], Help),
            case("--help last", &["x", "-p", "1", "--help"], &[], Help),
            case("-h after an error", &["--frob", "-h"], &[], Help),
            case("h inside a short value is the value", &["-Lh"], &[], Err("invalid value 'h' for '-L': expected one of critical, error, warning, info, debug")),
            with(|p| { p.add_argument("--quiet").short('q').flag(); },
                case("-h in a cluster of flags", &["-qh"], &[], Help)),
            case("-h despite a bad env", &["-h"], &[("MY_EXPORTER_PROCESS_STATS", "maybe")], Help),
            case("rest of a cluster after an unknown short is dropped", &["-xh"], &[], Err("unrecognized option '-x'")),
            case("--version", &["--version"], &[], Version("my-exporter 1.2.3\n")),
            case("-V after values", &["x", "-V"], &[], Version("my-exporter 1.2.3\n")),
            case("version first in a cluster", &["-Vh"], &[], Version("my-exporter 1.2.3\n")),
            with(|p| p.version = None,
                case("-V unknown without a version", &["-V"], &[], Err("unrecognized option '-V'"))),
            with(|p| { p.env_prefix(""); p.add_argument("--port").env("PORT").default("9090"); },
                case("env_prefix(\"\") disables env", &["x"], &[("MY_EXPORTER_PORT", "7"), ("PORT", "6")], Run("host=localhost log-level=info metrics-path=/metrics port=9090 target=x"))),
            with(|p| { p.env_prefix("EXP"); },
                case("custom prefix", &["x"], &[("EXP_PORT", "6"), ("MY_EXPORTER_PORT", "7")], Run("host=localhost log-level=info metrics-path=/metrics port=6 target=x"))),
            with(|p| { p.add_argument("--port").env("PORT").default("9090"); p.add_argument("target").no_env().default(""); },
                case("env name override and no_env", &[], &[("PORT", "6"), ("MY_EXPORTER_TARGET", "t")], Run("host=localhost log-level=info metrics-path=/metrics port=6 target="))),
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
            with(|p| { p.add_argument("--config").required(); },
                case("missing required option", &["x"], &[], Err("missing required argument '--config'"))),
            with(|p| { p.add_argument("--config").required(); },
                case("required option from env", &["x"], &[("MY_EXPORTER_CONFIG", "c.toml")], Run("config=c.toml host=localhost log-level=info metrics-path=/metrics port=9090 target=x"))),
            with(|p| { p.add_argument("target").multiple(); },
                case("multiple positional", &["a", "b", "c"], &[], Run("host=localhost log-level=info metrics-path=/metrics port=9090 target=a,b,c"))),
            with(|p| { p.add_argument("target").multiple(); },
                case("multiple positional from env", &[], &[("MY_EXPORTER_TARGET", "a,b")], Run("host=localhost log-level=info metrics-path=/metrics port=9090 target=a,b"))),
            with(|p| { p.add_argument("target").default("all"); },
                case("optional positional with default", &[], &[], Run("host=localhost log-level=info metrics-path=/metrics port=9090 target=all"))),
            with(|p| { p.add_argument("--quiet").short('q').flag(); p.add_argument("--verbose").short('v').flag(); },
                case("combined short flags", &["-qvp1", "x"], &[], Run("host=localhost log-level=info metrics-path=/metrics port=1 quiet target=x verbose"))),
            with(|p| { p.add_argument("--quiet").short('q').flag(); },
                case("value on a short flag", &["-q=1", "x"], &[], Err("unexpected value '1' for option '-q': it takes no value"))),
            with(|p| { p.add_argument("--peer").short('p'); },
                case("declaration: short used twice", &["x"], &[], Err("invalid declaration of '--peer': '-p' is already used by '--port'"))),
            with(|p| { p.add_argument("--log-level").choices(["info", "debug"]).default("loud"); },
                case("declaration: default outside choices", &["x"], &[], Err("invalid declaration of '--log-level': bad default: invalid value 'loud' for 'default': expected one of info, debug"))),
            with(|p| { p.add_argument("target").multiple(); p.add_argument("extra"); },
                case("declaration: positional after multiple", &["x"], &[], Err("invalid declaration of 'extra': a positional cannot follow the multiple positional 'target'"))),
            with(|p| { p.add_argument("--hosts").short('h'); },
                case("declaration: -h is built in", &["-h"], &[], Err("invalid declaration of '--hosts': '-h' is built in"))),
            with(|p| { p.add_argument("--"); },
                case("declaration: empty key", &[], &[], Err("invalid declaration of '--': expected a name like '--an-option' or 'a-positional', without '=', spaces or a leading '-' after the dashes"))),
            with(|p| { p.add_argument("--process-stats").flag().default("1"); },
                case("declaration: flag with default", &[], &[], Err("invalid declaration of '--process-stats': a flag cannot have a default"))),
            with(|p| { p.add_argument("target").short('t'); },
                case("declaration: short on a positional", &[], &[], Err("invalid declaration of 'target': a positional cannot have a short option"))),
        ];
        #[cfg(unix)]
        cases.extend([
            argv(vec!["-p".into(), non_utf8_arg("8"), "x".into()],
                case("non-UTF-8 option value", &[], &[], Err("invalid value '8\u{fffd}' for '-p': expected valid UTF-8"))),
            argv(vec![non_utf8_arg("t")],
                case("non-UTF-8 positional", &[], &[], Err("invalid value 't\u{fffd}' for 'target': expected valid UTF-8"))),
            argv(vec![non_utf8_arg("--po")],
                case("non-UTF-8 option name", &[], &[], Err("unrecognized option '--po\u{fffd}'"))),
            argv(vec!["x".into(), non_utf8_arg("y")],
                case("non-UTF-8 extra positional", &[], &[], Err("unexpected argument 'y\u{fffd}': no more positional arguments expected"))),
        ]);
        cases
    }

    #[test]
    fn table() {
        let cases = cases();
        for case in &cases {
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
        assert!(cases.len() > 60, "{} cases", cases.len());
    }

    #[test]
    fn getters() {
        let parser = exporter();
        let env = |key: &str| match key {
            "MY_EXPORTER_PORT" => Some(OsString::from("http")),
            _ => None,
        };
        let args = match parser.parse_from(["-H", "a", "-H", "b", "x"], env) {
            Ok(Parsed::Run(args)) => args,
            other => panic!("expected Run, got {:?}", other),
        };
        assert_eq!(args.get("host"), Some("b"));
        assert_eq!(args.get_all("host"), ["a", "b"]);
        assert_eq!(args.get_all("nothing"), [] as [String; 0]);
        assert_eq!(args.get("nothing"), None);
        assert!(args.is_present("metrics-path"));
        assert!(!args.is_present("process-stats"));
        assert!(!args.flag("process-stats"));
        assert_eq!(args.value_of::<u16>("nothing"), Ok(None));
        assert_eq!(args.value_of::<String>("target"), Ok(Some("x".to_owned())));
        let err = args.value_of::<u16>("port").map(|_| ()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value 'http' for 'MY_EXPORTER_PORT': invalid digit found in string"
        );
        assert_eq!(format!("{:?}", err), err.to_string());
        let err = args.values_of::<u8>("host").map(|_| ()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value 'a' for '--host': invalid digit found in string"
        );
        assert_eq!(
            parser.env_var("log-level").as_deref(),
            Some("MY_EXPORTER_LOG_LEVEL")
        );
        assert_eq!(parser.env_var("nothing"), None);
    }

    #[test]
    fn default_env_prefix() {
        let cases = [
            ("my-exporter", "MY_EXPORTER"),
            ("exporter", "EXPORTER"),
            ("a.b c", "A_B_C"),
            ("été", "_T_"),
        ];
        for (prog, want) in cases {
            let mut parser = ArgParser::new(prog, "");
            parser.add_argument("--log-level");
            let want = format!("{}_LOG_LEVEL", want);
            assert_eq!(parser.env_var("log-level"), Some(want), "prog {:?}", prog);
        }
    }

    #[test]
    fn help_text() {
        let mut p = ArgParser::new("my-exporter", "My Prometheus exporter.");
        p.version("1.0");
        p.add_argument("--host")
            .short('H')
            .multiple()
            .default("localhost")
            .help("host addresses to bind, may be repeated");
        p.add_argument("--log-level")
            .short('L')
            .choices(["error", "info"])
            .default("info")
            .help("minimum log level");
        p.add_argument("--format")
            .metavar("FMT")
            .choices(["text", "json"])
            .no_env();
        p.add_argument("--process-stats")
            .flag()
            .help("include process stats");
        p.add_argument("--config").required().env("CONFIG_FILE");
        p.add_argument("target").help("what to scrape");
        p.add_argument("extra").multiple().default("").no_env();
        let want = "\
usage: my-exporter [-h] [-V] [-H HOST [HOST ...]] [-L {error,info}] [--format FMT] [--process-stats] --config CONFIG target [extra ...]

My Prometheus exporter.

positional arguments:
  target                what to scrape (env: MY_EXPORTER_TARGET)
  extra                 (default: )

options:
  -h, --help            show this help message and exit
  -V, --version         show the version and exit
  -H HOST [HOST ...], --host HOST [HOST ...]
                        host addresses to bind, may be repeated (default: localhost) (env: MY_EXPORTER_HOST)
  -L {error,info}, --log-level {error,info}
                        minimum log level (default: info) (env: MY_EXPORTER_LOG_LEVEL)
  --format FMT          (choices: text, json)
  --process-stats       include process stats (env: MY_EXPORTER_PROCESS_STATS)
  --config CONFIG       (env: CONFIG_FILE)
";
        assert_eq!(p.help(), want);
        assert_eq!(p.usage(), want.lines().next().unwrap_or_default());

        let mut bare = ArgParser::new("bare", "");
        bare.add_argument("--quiet").flag().no_env();
        assert_eq!(
            bare.help(),
            "usage: bare [-h] [--quiet]\n\noptions:\n  -h, --help            show this help message and exit\n  --quiet\n"
        );
    }

    #[test]
    fn awkward_sequences_never_panic() {
        const AWKWARD: [&str; 10] = [
            "-",
            "--",
            "-p",
            "--port=",
            "-Hx",
            "--process-stats=1",
            "x",
            "-L",
            "=",
            "",
        ];
        let envs: [&[(&str, &str)]; 2] = [
            &[],
            &[
                ("MY_EXPORTER_PROCESS_STATS", "="),
                ("MY_EXPORTER_HOST", ","),
                ("MY_EXPORTER_LOG_LEVEL", "-"),
            ],
        ];
        let parser = exporter();
        let mut sequences: Vec<Vec<&str>> = vec![vec![]];
        let mut start = 0;
        for _ in 0..3 {
            let end = sequences.len();
            for i in start..end {
                for a in AWKWARD {
                    let mut longer = sequences[i].clone();
                    longer.push(a);
                    sequences.push(longer);
                }
            }
            start = end;
        }
        assert_eq!(sequences.len(), 1 + 10 + 100 + 1000);
        for env in envs {
            let lookup = |key: &str| {
                env.iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| OsString::from(v))
            };
            for argv in &sequences {
                match parser.parse_from(argv, lookup) {
                    Ok(Parsed::Run(args)) => {
                        // A successful parse always has a target and a single port.
                        assert!(args.get("target").is_some(), "{:?}", argv);
                        assert_eq!(args.get_all("port").len(), 1, "{:?}", argv);
                    }
                    Ok(other) => panic!("{:?} gave {:?}", argv, other),
                    Err(err) => {
                        let message = err.to_string();
                        let first = message.chars().next();
                        assert!(first.is_some_and(|c| c.is_lowercase()), "{:?}", argv);
                    }
                }
            }
        }
    }
}
