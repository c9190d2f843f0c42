//! The environment-variable fallback: which variable an argument reads, and how its text
//! becomes values (split on `,` for multiple arguments, a boolean word for flags).

use std::ffi::OsString;

use super::arg::EnvSetting;
use super::{Arg, ArgParser, Args, CliError};

/// How the parse looks up an environment variable; `dyn` so the parse is compiled once whatever
/// closure the caller passes.
pub(super) type Env<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// Values accepted as "true" for a flag read from the environment (compared case-insensitively):
/// click's, which the Python library's 3.x versions read their environment with.
const TRUE_WORDS: [&str; 6] = ["1", "true", "t", "yes", "y", "on"];

/// Values accepted as "false" for a flag read from the environment (compared case-insensitively).
const FALSE_WORDS: [&str; 6] = ["0", "false", "f", "no", "n", "off"];

impl ArgParser {
    /// The environment variable `arg` falls back to, if it reads one.
    pub(super) fn env_var_of(&self, arg: &Arg) -> Option<String> {
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
    pub(super) fn env_gives(&self, arg: &Arg, env: Env<'_>) -> bool {
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
    pub(super) fn read_env(
        &self,
        arg: &Arg,
        var: &str,
        env: Env<'_>,
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
                parsed.set_flag(&arg.key);
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
        parsed.insert_from_env(&arg.key, values, var.to_owned());
        Ok(true)
    }
}

/// Uppercases `text` and replaces every character but ASCII letters and digits by `_`.
pub(super) fn env_name(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use crate::cli::testing::{case, run, with, Case, Expect};
    use crate::cli::ArgParser;

    #[rustfmt::skip]
    fn cases() -> Vec<Case> {
        use Expect::*;
        vec![
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
            case("missing positional, empty env", &["-p", "1"], &[("MY_EXPORTER_TARGET", "")], Err("missing required argument 'target'")),
            with(|p| { p.env_prefix(""); p.add_argument("--port").env("PORT").default("9090"); },
                case("env_prefix(\"\") disables env", &["x"], &[("MY_EXPORTER_PORT", "7"), ("PORT", "6")], Run("host=localhost log-level=info metrics-path=/metrics port=9090 target=x"))),
            with(|p| { p.env_prefix("EXP"); },
                case("custom prefix", &["x"], &[("EXP_PORT", "6"), ("MY_EXPORTER_PORT", "7")], Run("host=localhost log-level=info metrics-path=/metrics port=6 target=x"))),
            with(|p| { p.add_argument("--port").env("PORT").default("9090"); p.add_argument("target").no_env().default(""); },
                case("env name override and no_env", &[], &[("PORT", "6"), ("MY_EXPORTER_TARGET", "t")], Run("host=localhost log-level=info metrics-path=/metrics port=6 target="))),
            with(|p| { p.add_argument("--config").required(); },
                case("required option from env", &["x"], &[("MY_EXPORTER_CONFIG", "c.toml")], Run("config=c.toml host=localhost log-level=info metrics-path=/metrics port=9090 target=x"))),
            with(|p| { p.add_argument("target").multiple(); },
                case("multiple positional from env", &[], &[("MY_EXPORTER_TARGET", "a,b")], Run("host=localhost log-level=info metrics-path=/metrics port=9090 target=a,b"))),
        ]
    }

    /// Values, flags and errors from the environment, and which variable each argument reads.
    #[test]
    fn environment_fallback() {
        run(&cases(), 20);
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
}
