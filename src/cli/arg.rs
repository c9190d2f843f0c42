//! [`Arg`]: the declaration of one option or positional, its builder methods, its names, and
//! how its values are split and checked against its choices.

use super::CliError;

/// The declaration of one option or positional, configured with chained builder calls on the
/// `&mut Arg` that [`ArgParser::add_argument`](super::ArgParser::add_argument) returns.
///
/// ```
/// use prometheus_aioexporter::cli::ArgParser;
///
/// let mut parser = ArgParser::new("my-exporter", "My exporter.");
/// let arg = parser.add_argument("--timeout").short('t').default("5").help("seconds to wait");
/// assert_eq!(arg.key(), "timeout");
/// assert!(parser.help().contains("-t TIMEOUT, --timeout TIMEOUT"));
/// ```
#[derive(Debug, Clone)]
pub struct Arg {
    pub(super) key: String,
    pub(super) positional: bool,
    pub(super) short: Option<char>,
    pub(super) help: String,
    pub(super) flag: bool,
    pub(super) default: Option<String>,
    pub(super) metavar: Option<String>,
    pub(super) choices: Vec<String>,
    pub(super) multiple: bool,
    pub(super) required: bool,
    pub(super) env: EnvSetting,
}

impl Arg {
    /// The declaration `name` (`--key` or `key`) with nothing else set.
    pub(super) fn new(name: &str) -> Arg {
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
    ///
    /// ```
    /// use prometheus_aioexporter::cli::{ArgParser, Parsed};
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--timeout").short('t');
    /// let Parsed::Run(args) = parser.parse_from(["-t", "3"], |_| None)? else { unreachable!() };
    /// assert_eq!(args.get("timeout"), Some("3"));
    /// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
    /// ```
    pub fn short(&mut self, c: char) -> &mut Self {
        self.short = Some(c);
        self
    }

    /// Sets the help text.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::ArgParser;
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--timeout").help("seconds to wait for the backend");
    /// assert!(parser.help().contains("seconds to wait for the backend"));
    /// ```
    pub fn help(&mut self, text: &str) -> &mut Self {
        self.help = text.to_owned();
        self
    }

    /// Makes the option a flag that takes no value; [`Args::flag`](super::Args::flag) says whether it was given.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::{ArgParser, Parsed};
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--dry-run").flag().help("read, but change nothing");
    /// let Parsed::Run(args) = parser.parse_from(["--dry-run"], |_| None)? else { unreachable!() };
    /// assert!(args.flag("dry-run"));
    /// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
    /// ```
    pub fn flag(&mut self) -> &mut Self {
        self.flag = true;
        self
    }

    /// Sets the value used when neither the command line nor the environment gives one; shown
    /// in the help. For a [`multiple`](Arg::multiple) argument it is split on `,` like an
    /// environment variable. A positional with a default is optional.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::{ArgParser, Parsed};
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--timeout").default("5");
    /// let Parsed::Run(args) = parser.parse_from::<[&str; 0], _>([], |_| None)? else { unreachable!() };
    /// assert_eq!(args.value_of::<u64>("timeout")?, Some(5));
    /// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
    /// ```
    pub fn default(&mut self, value: &str) -> &mut Self {
        self.default = Some(value.to_owned());
        self
    }

    /// Sets the name of the value in the help (default: an option's key uppercased with `-`
    /// replaced by `_`, or its choices as `{a,b}`; a positional's key).
    ///
    /// ```
    /// use prometheus_aioexporter::cli::ArgParser;
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--config").metavar("FILE");
    /// assert!(parser.usage().contains("[--config FILE]"));
    /// ```
    pub fn metavar(&mut self, m: &str) -> &mut Self {
        self.metavar = Some(m.to_owned());
        self
    }

    /// Restricts the values to these choices, matched case-insensitively; the value stored is
    /// the declared spelling.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::{ArgParser, Parsed};
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--mode").choices(["fast", "full"]).default("fast");
    /// let Parsed::Run(args) = parser.parse_from(["--mode", "FULL"], |_| None)? else { unreachable!() };
    /// assert_eq!(args.get("mode"), Some("full")); // the declared spelling
    /// assert!(parser.parse_from(["--mode", "slow"], |_| None).is_err());
    /// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
    /// ```
    pub fn choices<I: IntoIterator<Item = S>, S: AsRef<str>>(&mut self, c: I) -> &mut Self {
        self.choices = c.into_iter().map(|s| s.as_ref().to_owned()).collect();
        self
    }

    /// Lets an option take several values, each appended ([`Args::get_all`](super::Args::get_all)): repeated
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
    ///
    /// ```
    /// use prometheus_aioexporter::cli::{ArgParser, Parsed};
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--target").multiple();
    /// let Parsed::Run(args) = parser.parse_from(["--target", "a", "b", "--target", "c"], |_| None)?
    /// else { unreachable!() };
    /// assert_eq!(args.get_all("target"), ["a", "b", "c"]);
    /// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
    /// ```
    pub fn multiple(&mut self) -> &mut Self {
        self.multiple = true;
        self
    }

    /// Makes an option required: parsing fails unless the command line or the environment gives
    /// it. Positionals without a default are always required.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::ArgParser;
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--config").required();
    /// let err = parser.parse_from::<[&str; 0], _>([], |_| None).unwrap_err();
    /// assert_eq!(err.to_string(), "missing required argument '--config'");
    /// ```
    pub fn required(&mut self) -> &mut Self {
        self.required = true;
        self
    }

    /// Reads the environment variable `var` (the whole name, no prefix added) instead of
    /// `<PREFIX>_<KEY>`.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::{ArgParser, Parsed};
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--password").env("DB_PASSWORD"); // not MY_EXPORTER_PASSWORD
    /// let env = |key: &str| (key == "DB_PASSWORD").then(|| "s3cret".into());
    /// let Parsed::Run(args) = parser.parse_from::<[&str; 0], _>([], env)? else { unreachable!() };
    /// assert_eq!(args.get("password"), Some("s3cret"));
    /// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
    /// ```
    pub fn env(&mut self, var: &str) -> &mut Self {
        self.env = EnvSetting::Named(var.to_owned());
        self
    }

    /// Never reads the environment for this argument.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::ArgParser;
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--once").flag().no_env();
    /// assert_eq!(parser.env_var("once"), None);
    /// ```
    pub fn no_env(&mut self) -> &mut Self {
        self.env = EnvSetting::Disabled;
        self
    }

    /// Returns the key: the name without leading `--`.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::ArgParser;
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// assert_eq!(parser.add_argument("--log-file").key(), "log-file");
    /// assert_eq!(parser.add_argument("target").key(), "target");
    /// ```
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Returns `true` if this is a positional, `false` if an option.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::ArgParser;
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// assert!(parser.add_argument("target").is_positional());
    /// assert!(!parser.add_argument("--port").is_positional());
    /// ```
    pub fn is_positional(&self) -> bool {
        self.positional
    }

    /// The name as declared: `--key` or `key`.
    pub(super) fn declared_name(&self) -> String {
        if self.positional {
            self.key.clone()
        } else {
            format!("--{}", self.key)
        }
    }

    /// The name in errors: `--key` for options; the metavar (or key) for positionals.
    pub(super) fn name(&self) -> String {
        if self.positional {
            self.value_name()
        } else {
            format!("--{}", self.key)
        }
    }

    /// The name of the value in the help: the metavar; else a positional's key, an option's
    /// choices as `{a,b}` or its key uppercased with `-` replaced by `_`.
    pub(super) fn value_name(&self) -> String {
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

    /// Splits a value from the environment or a default: on `,` for multiple arguments.
    pub(super) fn split(&self, text: &str) -> Vec<String> {
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
    pub(super) fn canonical(&self, value: &str, source: &str) -> Result<String, CliError> {
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

/// Where an argument falls back to in the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum EnvSetting {
    /// `<PREFIX>_<KEY>`.
    Derived,
    /// A name set with [`Arg::env`].
    Named(String),
    /// Set with [`Arg::no_env`].
    Disabled,
}

#[cfg(test)]
mod tests {
    use crate::cli::testing::{case, run, Case, Expect};

    #[rustfmt::skip]
    fn cases() -> Vec<Case> {
        use Expect::*;
        vec![
            case("choice case-insensitive, canonical spelling", &["-L", "DeBuG", "x"], &[], Run("host=localhost log-level=debug metrics-path=/metrics port=9090 target=x")),
            case("env choice canonicalised", &["x"], &[("MY_EXPORTER_LOG_LEVEL", "ERROR")], Run("host=localhost log-level=error metrics-path=/metrics port=9090 target=x")),
            case("invalid choice", &["--log-level", "loud", "x"], &[], Err("invalid value 'loud' for '--log-level': expected one of critical, error, warning, info, debug")),
            case("invalid choice, short", &["-Lloud", "x"], &[], Err("invalid value 'loud' for '-L': expected one of critical, error, warning, info, debug")),
            case("invalid choice from env", &["x"], &[("MY_EXPORTER_LOG_LEVEL", "loud")], Err("invalid value 'loud' for 'MY_EXPORTER_LOG_LEVEL': expected one of critical, error, warning, info, debug")),
        ]
    }

    /// Choices match case-insensitively, keep their declared spelling, and name the value's source when none matches.
    #[test]
    fn choices() {
        run(&cases(), 5);
    }
}
