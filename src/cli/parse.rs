//! [`ArgParser::parse_from`] and its steps, in the order they run:
//!
//! 1. `check_declarations` (in `check.rs`): the declarations themselves.
//! 2. [`read_command_line`](ArgParser::read_command_line): argv through [`lexopt`], into option
//!    values, flags and the values left over; `-h` and `-V` end the parse here.
//! 3. [`share_tentative_values`](ArgParser::share_tentative_values): the values after a multiple
//!    option's first go to the option or to the positionals that need them.
//! 4. [`assign_positionals`](ArgParser::assign_positionals): the values left, to the positionals
//!    in declaration order.
//! 5. [`resolve_arguments`](ArgParser::resolve_arguments): each argument from the command line,
//!    else the environment, else its default; a required one with none is an error.
//!
//! Only this file reads argv, and so only it uses [`lexopt`].

use std::ffi::{OsStr, OsString};

use super::args::Keyed;
use super::env::Env;
use super::{Arg, ArgParser, Args, CliError, Parsed};

impl ArgParser {
    /// Parses the process's command line (without `argv[0]`) and environment.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::{ArgParser, Parsed};
    ///
    /// let mut parser = ArgParser::new("my-exporter", "My exporter.");
    /// parser.add_argument("--port").default("9090");
    /// match parser.parse() {
    ///     Ok(Parsed::Run(args)) => println!("port {}", args.get("port").unwrap_or_default()),
    ///     Ok(Parsed::Help(text) | Parsed::Version(text)) => print!("{text}"),
    ///     Err(err) => {
    ///         eprintln!("{}\n{err}", parser.usage());
    ///         std::process::exit(2);
    ///     }
    /// }
    /// ```
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
    /// ```
    /// use prometheus_aioexporter::cli::{ArgParser, CliError, Parsed};
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--port").short('p');
    /// let env = |key: &str| std::env::var_os(key); // or a map, in tests
    /// assert!(matches!(parser.parse_from(["-p", "9100"], env)?, Parsed::Run(_)));
    /// assert!(matches!(parser.parse_from(["--help"], env)?, Parsed::Help(_)));
    /// assert!(matches!(parser.parse_from(["-p"], env), Err(CliError::MissingValue(_))));
    /// # Ok::<(), CliError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Returns the first problem found: a bad declaration; then an error in an option or its
    /// value, in argument order; then an error in the values shared out after reading, a
    /// positional's or one after a multiple option's first (ambiguous, one too many, not UTF-8,
    /// not a choice); then, argument by argument in declaration order, an error in its
    /// environment variable or a missing required argument.
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
        self.parse_checked(lexopt::Parser::from_args(args), &env)
    }

    /// The steps after the declarations' check. Not generic, so that one copy serves every
    /// caller of [`parse_from`](ArgParser::parse_from).
    fn parse_checked(&self, mut argv: lexopt::Parser, env: Env<'_>) -> Result<Parsed, CliError> {
        let mut line = match self.read_command_line(&mut argv)? {
            Reading::Done(line) => line,
            Reading::Builtin(parsed) => return Ok(parsed),
        };
        let left = self.share_tentative_values(&mut line, env)?;
        self.assign_positionals(&mut line.values, left)?;
        self.resolve_arguments(line, env).map(Parsed::Run)
    }

    /// Reads argv to the end, or to the first `-h` or `-V`. An error does not stop the reading,
    /// so that a later `-h` still gets the help; the first one is returned at the end.
    fn read_command_line<'a>(&'a self, argv: &mut lexopt::Parser) -> Result<Reading<'a>, CliError> {
        let mut line = CommandLine::default();
        let mut first_error: Option<CliError> = None;
        loop {
            let (typed, option) = match argv.next() {
                Ok(None) => break,
                Ok(Some(lexopt::Arg::Value(value))) => {
                    line.loose.push((value, None));
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
            match self.read_option(typed, option, argv, &mut line) {
                Ok(None) => {}
                Ok(Some(parsed)) => return Ok(Reading::Builtin(parsed)),
                Err(err) => note(&mut first_error, err),
            }
        }
        match first_error {
            Some(err) => Err(err),
            None => Ok(Reading::Done(line)),
        }
    }

    /// Reads the option `typed` (as given: `-p`, `--po`), which resolved to `option`, and what
    /// follows it into `line`. Returns the help or version text if it asks for one.
    fn read_option<'a>(
        &'a self,
        typed: String,
        option: Lookup<'a>,
        argv: &mut lexopt::Parser,
        line: &mut CommandLine<'a>,
    ) -> Result<Option<Parsed>, CliError> {
        // A value attached to a flag: `--flag=x`, and `--help=x` or `--version=x` alike. A
        // short flag's cluster continues with more options ("-ab"), and lexopt reports
        // "-a=x" itself; only a long flag can carry "=value" here.
        let takes_no_value = match option {
            Lookup::Help | Lookup::Version => true,
            Lookup::Declared(arg) => arg.flag,
            Lookup::Unknown | Lookup::Ambiguous(_) => false,
        };
        if takes_no_value && typed.starts_with("--") {
            if let Some(value) = argv.optional_value() {
                return Err(CliError::UnexpectedValue {
                    option: typed,
                    value: lossy(value),
                });
            }
        }
        let arg = match option {
            Lookup::Help => return Ok(Some(Parsed::Help(self.help()))),
            Lookup::Version => return Ok(Some(Parsed::Version(self.version_text()))),
            Lookup::Unknown => {
                // Drop an attached value ("--frob=x") or the rest of a cluster ("-xyz"):
                // we cannot tell whether they were meant as a value.
                let _ = argv.optional_value();
                return Err(CliError::UnknownOption(typed));
            }
            Lookup::Ambiguous(matches) => {
                let _ = argv.optional_value();
                return Err(CliError::AmbiguousOption {
                    option: typed,
                    matches,
                });
            }
            Lookup::Declared(arg) => arg,
        };
        if arg.flag {
            line.flags.insert(&arg.key, ());
        } else {
            read_option_values(arg, typed, argv, line)?;
        }
        Ok(None)
    }

    /// The option `-c`.
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

    /// Gives each tentative value to its option or to the positionals, and returns the values
    /// left for the positionals, in order.
    ///
    /// The values after a multiple option's are its own, but for those the positionals still
    /// need: positionals with no default and no environment value that the other values do
    /// not fill. Those are the last ones: `-H a b x` with a positional `target` is `-H a -H b`
    /// and target `x`.
    fn share_tentative_values(
        &self,
        line: &mut CommandLine<'_>,
        env: Env<'_>,
    ) -> Result<Vec<OsString>, CliError> {
        let mut kept = self.kept_by_options(&line.loose, env);
        check_unambiguous(&line.loose, kept)?;
        let mut left = Vec::with_capacity(line.loose.len());
        let mut given_back = Vec::new();
        for (value, tentative) in std::mem::take(&mut line.loose) {
            match tentative {
                Some(Tentative {
                    arg, typed, index, ..
                }) if kept > 0 => {
                    kept -= 1;
                    let value = value.into_string().map_err(|v| non_utf8(&typed, v))?;
                    let value = arg.canonical(&value, &typed)?;
                    if let Some(place) = line.values.entry(&arg.key).get_mut(index) {
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
            let values = line.values.entry(&arg.key);
            if index < values.len() {
                values.remove(index);
            }
        }
        Ok(left)
    }

    /// How many of the tentative values in `loose` their options keep: all but those the
    /// positionals need and the untagged values do not fill.
    fn kept_by_options(&self, loose: &[(OsString, Option<Tentative<'_>>)], env: Env<'_>) -> usize {
        let needed = self
            .args
            .iter()
            .filter(|a| a.positional && a.default.is_none() && !self.env_gives(a, env))
            .count();
        let untagged = loose.iter().filter(|(_, t)| t.is_none()).count();
        let tentative = loose.len() - untagged;
        let given_back = needed.saturating_sub(untagged).min(tentative);
        tentative - given_back
    }

    /// Gives the values left, in order, to the positionals in declaration order; a multiple
    /// positional takes the rest. A value beyond them is an error.
    fn assign_positionals(
        &self,
        values: &mut Keyed<Vec<String>>,
        left: Vec<OsString>,
    ) -> Result<(), CliError> {
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
                values.entry(&arg.key).push(value);
            }
        }
        match given.next() {
            Some(extra) => Err(CliError::UnexpectedArgument(lossy(extra))),
            None => Ok(()),
        }
    }

    /// Takes each argument's values, in declaration order, from the first source that has any:
    /// the command line, the environment, the default. A positional or required option with
    /// none is an error.
    fn resolve_arguments(&self, line: CommandLine<'_>, env: Env<'_>) -> Result<Args, CliError> {
        let CommandLine {
            mut values, flags, ..
        } = line;
        let mut parsed = Args::default();
        for arg in &self.args {
            if let Some(values) = values.remove(&arg.key) {
                parsed.insert(&arg.key, values, arg.name());
                continue;
            }
            if flags.contains_key(&arg.key) {
                parsed.set_flag(&arg.key);
                continue;
            }
            if let Some(var) = self.env_var_of(arg) {
                if self.read_env(arg, &var, env, &mut parsed)? {
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
        Ok(parsed)
    }
}

/// What the command line gave, before the environment and the defaults.
#[derive(Default)]
struct CommandLine<'a> {
    /// The values of options and, once assigned, of positionals.
    values: Keyed<Vec<String>>,
    /// The flags given.
    flags: Keyed<()>,
    /// Values not taken by an option, in order. Those that followed a multiple option's value
    /// (`-H a b`) hold a place among its values too, until
    /// [`share_tentative_values`](ArgParser::share_tentative_values) decides who gets them.
    loose: Vec<(OsString, Option<Tentative<'a>>)>,
    /// How many options so far were followed by more than one value: each such run is a chain.
    chains: usize,
}

/// How reading the command line ended.
enum Reading<'a> {
    /// At the end of argv.
    Done(CommandLine<'a>),
    /// At `-h` or `-V`: the parse ends with their text.
    Builtin(Parsed),
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

/// Reads the value of the option `arg`, typed as `typed`, into `line`. A multiple option takes
/// the values up to the next option, as argparse's `nargs="+"` does (`-H a b`); `--host=a` takes
/// one. The values after the first are tentative: set aside with the positionals, which get
/// first claim on them.
fn read_option_values<'a>(
    arg: &'a Arg,
    typed: String,
    argv: &mut lexopt::Parser,
    line: &mut CommandLine<'a>,
) -> Result<(), CliError> {
    let mut extra: Vec<OsString> = Vec::new();
    let value = if !arg.multiple {
        argv.value().ok()
    } else if let Some(attached) = argv.optional_value() {
        Some(attached) // `-Ha`, `--host=a`: one value, as in argparse
    } else {
        read_run(argv, &mut extra)
    };
    let Some(value) = value else {
        return Err(CliError::MissingValue(typed));
    };
    let value = value.into_string().map_err(|v| non_utf8(&typed, v))?;
    let value = arg.canonical(&value, &typed)?;
    let values = line.values.entry(&arg.key);
    if !arg.multiple {
        values.clear();
    }
    values.push(value);
    if !extra.is_empty() {
        line.chains += 1;
    }
    for value in extra {
        let values = line.values.entry(&arg.key);
        let index = values.len();
        values.push(String::new());
        let tentative = Tentative {
            arg,
            typed: typed.clone(),
            index,
            chain: line.chains,
        };
        line.loose.push((value, Some(tentative)));
    }
    Ok(())
}

/// Reads the values up to the next option, as argparse does: what does not start with `-`, and
/// negative numbers (`--offset -5 -6`). Returns the first; the others go to `extra`.
fn read_run(argv: &mut lexopt::Parser, extra: &mut Vec<OsString>) -> Option<OsString> {
    let next_is_value = |argv: &mut lexopt::Parser| {
        argv.try_raw_args()
            .and_then(|raw| raw.peek().map(is_value))
            .unwrap_or(false)
    };
    let first = if next_is_value(argv) {
        argv.value().ok()
    } else {
        None
    };
    while first.is_some() && next_is_value(argv) {
        extra.extend(argv.value().ok());
    }
    first
}

/// `true` if `arg` is a value to argparse rather than an option: it does not start with `-`, is
/// `-` alone, or is a negative number (`-5`, `-0.5`, `-.5`).
fn is_value(arg: &OsStr) -> bool {
    let Some(text) = arg.to_str() else {
        return true; // not UTF-8: an error later, where it is named
    };
    let Some(after_dash) = text.strip_prefix('-') else {
        return true;
    };
    let digits = after_dash.strip_prefix('.').unwrap_or(after_dash);
    after_dash.is_empty() || digits.starts_with(|c: char| c.is_ascii_digit())
}

/// Fails if the tentative values are split between options and positionals (`kept` of them
/// kept) across runs after different options: in `-H a x -l b y` with one positional, is the
/// target `x` or `y`?
fn check_unambiguous(
    loose: &[(OsString, Option<Tentative<'_>>)],
    kept: usize,
) -> Result<(), CliError> {
    let tentative: Vec<&Tentative<'_>> = loose.iter().filter_map(|(_, t)| t.as_ref()).collect();
    if !(1..tentative.len()).contains(&kept) {
        return Ok(());
    }
    let chain_of = |t: Option<&&Tentative<'_>>| t.map_or(0, |t| t.chain);
    if chain_of(tentative.first()) == chain_of(tentative.last()) {
        return Ok(());
    }
    let (value, option) = loose
        .iter()
        .filter_map(|(value, t)| Some((value, &t.as_ref()?.typed)))
        .nth(kept)
        .map(|(value, typed)| (lossy(value.clone()), typed.clone()))
        .unwrap_or_default();
    Err(CliError::AmbiguousArgument { value, option })
}

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

/// The error for a value of `option` that is not UTF-8.
fn non_utf8(option: &str, value: OsString) -> CliError {
    CliError::InvalidValue {
        option: option.to_owned(),
        value: lossy(value),
        reason: "expected valid UTF-8".to_owned(),
    }
}

/// `value` as text, with U+FFFD for what is not UTF-8.
fn lossy(value: OsString) -> String {
    value
        .into_string()
        .unwrap_or_else(|v| v.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    #[cfg(unix)]
    use crate::cli::testing::{argv, non_utf8_arg};
    use crate::cli::testing::{case, exporter, run, with, Case, Expect};
    use crate::cli::Parsed;

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
            with(|p| { p.add_argument("--config").required(); },
                case("missing required option", &["x"], &[], Err("missing required argument '--config'"))),
            with(|p| { p.add_argument("target").multiple(); },
                case("multiple positional", &["a", "b", "c"], &[], Run("host=localhost log-level=info metrics-path=/metrics port=9090 target=a,b,c"))),
            with(|p| { p.add_argument("target").default("all"); },
                case("optional positional with default", &[], &[], Run("host=localhost log-level=info metrics-path=/metrics port=9090 target=all"))),
            with(|p| { p.add_argument("--quiet").short('q').flag(); p.add_argument("--verbose").short('v').flag(); },
                case("combined short flags", &["-qvp1", "x"], &[], Run("host=localhost log-level=info metrics-path=/metrics port=1 quiet target=x verbose"))),
            with(|p| { p.add_argument("--quiet").short('q').flag(); },
                case("value on a short flag", &["-q=1", "x"], &[], Err("unexpected value '1' for option '-q': it takes no value"))),
            with(|p| { p.add_argument("target").choices(["a", "b"]); },
                case("errors: an option's before a positional value's", &["zz", "--frob"], &[], Err("unrecognized option '--frob'"))),
            with(|p| { p.add_argument("--level").choices(["a", "b"]); },
                case("errors: a missing argument's before a later argument's environment", &[], &[("MY_EXPORTER_LEVEL", "zz")], Err("missing required argument 'target'"))),
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

    /// The command line: values, options, prefixes, tentative values, `-h` and `-V`, and errors.
    #[test]
    fn command_line() {
        run(&cases(), 77);
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
