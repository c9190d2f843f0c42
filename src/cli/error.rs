//! [`CliError`]: why parsing failed, and its message.
//!
//! Messages are part of the interface (scripts print them, tests compare them), so every variant's
//! wording lives here, in one `Display`.

use std::fmt;

/// Why the command line, the environment or the declarations could not be parsed.
///
/// Messages are lowercase and name the culprit; `Debug` shows the same message, so
/// `fn main() -> Result<(), CliError>` prints it readably.
///
/// ```
/// use prometheus_aioexporter::cli::{ArgParser, CliError};
///
/// let mut parser = ArgParser::new("my-exporter", "");
/// parser.add_argument("--port");
/// let err = parser.parse_from(["--prot", "9100"], |_| None).unwrap_err();
/// assert_eq!(err, CliError::UnknownOption("--prot".into()));
/// assert_eq!(err.to_string(), "unrecognized option '--prot'");
/// ```
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
    /// A value that is not valid UTF-8, or that [`Args::value_of`](super::Args::value_of) could not parse.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant's message, in full: the parse tables reach most of them, this pins all.
    #[test]
    fn messages() {
        let s = String::from;
        let cases = [
            (
                CliError::UnknownOption(s("--frob")),
                "unrecognized option '--frob'",
            ),
            (
                CliError::MissingValue(s("-p")),
                "missing value for option '-p'",
            ),
            (
                CliError::UnexpectedValue {
                    option: s("--q"),
                    value: s("1"),
                },
                "unexpected value '1' for option '--q': it takes no value",
            ),
            (
                CliError::UnexpectedArgument(s("y")),
                "unexpected argument 'y': no more positional arguments expected",
            ),
            (
                CliError::AmbiguousOption {
                    option: s("--p"),
                    matches: vec![s("--port"), s("--pid")],
                },
                "ambiguous option '--p': it could be --port, --pid",
            ),
            (
                CliError::AmbiguousArgument {
                    value: s("d"),
                    option: s("-H"),
                },
                "ambiguous argument 'd': a value of '-H' or a positional argument? \
                 Give positional arguments first, or '-H' once per value",
            ),
            (
                CliError::MissingArgument(s("target")),
                "missing required argument 'target'",
            ),
            (
                CliError::InvalidChoice {
                    option: s("-L"),
                    value: s("x"),
                    choices: vec![s("a"), s("b")],
                },
                "invalid value 'x' for '-L': expected one of a, b",
            ),
            (
                CliError::InvalidValue {
                    option: s("--port"),
                    value: s("x"),
                    reason: s("bad"),
                },
                "invalid value 'x' for '--port': bad",
            ),
            (
                CliError::InvalidEnv {
                    var: s("V"),
                    reason: s("bad"),
                },
                "invalid environment variable 'V': bad",
            ),
            (
                CliError::InvalidDeclaration {
                    arg: s("--x"),
                    reason: s("bad"),
                },
                "invalid declaration of '--x': bad",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
            assert_eq!(format!("{:?}", err), want, "Debug shows the message");
        }
    }
}
