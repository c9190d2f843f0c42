//! [`Arg`]: the declaration of one option or positional, its builder methods, its names, and
//! how its values are split and checked against its choices.

use super::CliError;

/// The declaration of one option or positional, configured with chained builder calls on the
/// `&mut Arg` that [`ArgParser::add_argument`](super::ArgParser::add_argument) returns.
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
    pub fn short(&mut self, c: char) -> &mut Self {
        self.short = Some(c);
        self
    }

    /// Sets the help text.
    pub fn help(&mut self, text: &str) -> &mut Self {
        self.help = text.to_owned();
        self
    }

    /// Makes the option a flag that takes no value; [`Args::flag`](super::Args::flag) says whether it was given.
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
