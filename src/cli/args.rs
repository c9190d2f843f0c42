//! The results of a parse: [`Parsed`], the [`Args`] it runs with and their typed getters, and
//! [`Keyed`], the small map both the parse and [`Args`] keep values in.

use std::fmt;

use super::CliError;

/// The outcome of a successful parse.
///
/// ```
/// use prometheus_aioexporter::cli::{ArgParser, Parsed};
///
/// let mut parser = ArgParser::new("my-exporter", "My exporter.");
/// parser.version("1.0.0");
/// match parser.parse_from(["--version"], |_| None)? {
///     Parsed::Run(_args) => unreachable!("-V was given"),
///     Parsed::Help(text) | Parsed::Version(text) => assert_eq!(text, "my-exporter 1.0.0\n"),
/// }
/// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// The arguments to run with.
    Run(Args),
    /// `-h`/`--help` was given: the text of [`ArgParser::help`](super::ArgParser::help), to print before exiting 0.
    Help(String),
    /// `-V`/`--version` was given: `"<prog> <version>\n"`, to print before exiting 0.
    Version(String),
}

/// The values of parsed arguments, by key (`"log-level"` for `--log-level`).
///
/// Each argument's values come from the command line if it gave any, else from the
/// environment, else from the default.
///
/// ```
/// use prometheus_aioexporter::cli::{ArgParser, Parsed};
///
/// let mut parser = ArgParser::new("my-exporter", "");
/// parser.add_argument("--port").default("9090");
/// parser.add_argument("--verbose").flag();
/// let env = |key: &str| (key == "MY_EXPORTER_PORT").then(|| "9100".into());
/// let Parsed::Run(args) = parser.parse_from(["--verbose"], env)? else { unreachable!() };
/// assert_eq!(args.value_of::<u16>("port")?, Some(9100)); // from the environment
/// assert!(args.flag("verbose"));
/// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    values: Keyed<Values>,
    /// Keys of the flags that are set.
    flags: Keyed<()>,
}

/// Values by key, in the order they were inserted. A command line has a handful of
/// arguments, so a linear search costs less than a map, in time and in code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Keyed<V>(Vec<(String, V)>);

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

    pub(super) fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets the value of `key`, replacing any it had.
    pub(super) fn insert(&mut self, key: &str, value: V) {
        match self.position(key) {
            Some(i) => self.0[i].1 = value,
            None => self.0.push((key.to_owned(), value)),
        }
    }

    pub(super) fn remove(&mut self, key: &str) -> Option<V> {
        Some(self.0.remove(self.position(key)?).1)
    }

    /// The value of `key`, a default one inserted first if it has none.
    pub(super) fn entry(&mut self, key: &str) -> &mut V
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
    /// `true` if they came from an environment variable.
    from_env: bool,
}

impl Args {
    /// Sets the values of `key`, which came from `origin` (named in [`value_of`](Args::value_of)'s
    /// errors).
    pub(super) fn insert(&mut self, key: &str, values: Vec<String>, origin: String) {
        let from_env = false;
        self.values.insert(
            key,
            Values {
                values,
                origin,
                from_env,
            },
        );
    }

    /// Sets the values of `key`, read from the environment variable `var`.
    pub(super) fn insert_from_env(&mut self, key: &str, values: Vec<String>, var: String) {
        let from_env = true;
        let origin = var;
        self.values.insert(
            key,
            Values {
                values,
                origin,
                from_env,
            },
        );
    }

    /// Sets the flag `key`.
    pub(super) fn set_flag(&mut self, key: &str) {
        self.flags.insert(key, ());
    }

    /// Returns the value of `key` (the last one of a multiple argument), or `None` if it has no
    /// value. Always `None` for flags.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::{ArgParser, Parsed};
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("target");
    /// let Parsed::Run(args) = parser.parse_from(["db:5432"], |_| None)? else { unreachable!() };
    /// assert_eq!(args.get("target"), Some("db:5432"));
    /// assert_eq!(args.get("tagret"), None);
    /// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .and_then(|v| v.values.last())
            .map(String::as_str)
    }

    /// Returns all values of `key`: those of the command line if it gave any, else those of the
    /// environment, else the default. Empty if it has none.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::{ArgParser, Parsed};
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--label").multiple();
    /// let Parsed::Run(args) = parser.parse_from(["--label", "a=1", "--label", "b=2"], |_| None)?
    /// else { unreachable!() };
    /// assert_eq!(args.get_all("label"), ["a=1", "b=2"]);
    /// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
    /// ```
    pub fn get_all(&self, key: &str) -> &[String] {
        self.values.get(key).map_or(&[], |v| v.values.as_slice())
    }

    /// Returns `true` if the flag `key` was given on the command line or set to a true value in
    /// the environment.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::{ArgParser, Parsed};
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--dry-run").flag();
    /// let env = |key: &str| (key == "MY_EXPORTER_DRY_RUN").then(|| "true".into());
    /// let Parsed::Run(args) = parser.parse_from::<[&str; 0], _>([], env)? else { unreachable!() };
    /// assert!(args.flag("dry-run"));
    /// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
    /// ```
    pub fn flag(&self, key: &str) -> bool {
        self.flags.contains_key(key)
    }

    /// Parses the value of `key` (as [`get`](Args::get)); `Ok(None)` if it has no value.
    ///
    /// ```
    /// use std::time::Duration;
    /// use prometheus_aioexporter::cli::{ArgParser, Parsed};
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--timeout").default("2.5");
    /// let Parsed::Run(args) = parser.parse_from::<[&str; 0], _>([], |_| None)? else { unreachable!() };
    /// let timeout = Duration::from_secs_f64(args.value_of::<f64>("timeout")?.unwrap_or(5.0));
    /// assert_eq!(timeout, Duration::from_millis(2500));
    /// let Parsed::Run(bad) = parser.parse_from(["--timeout", "soon"], |_| None)? else { unreachable!() };
    /// assert!(bad.value_of::<f64>("timeout").unwrap_err().to_string().contains("'soon'"));
    /// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
    /// ```
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
    /// ```
    /// use prometheus_aioexporter::cli::{ArgParser, Parsed};
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--port").multiple();
    /// let Parsed::Run(args) = parser.parse_from(["--port", "80", "443"], |_| None)? else { unreachable!() };
    /// assert_eq!(args.values_of::<u16>("port")?, [80, 443]);
    /// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
    /// ```
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

    /// Returns `true` if the values of `key` came from its environment variable (not from the
    /// command line or the default): for an argument whose one environment value may hold
    /// several, as click splits `EXP_HOST="127.0.0.1 ::1"` where a command-line value stays
    /// one.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::{ArgParser, Parsed};
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--target").multiple();
    /// let env = |key: &str| (key == "MY_EXPORTER_TARGET").then(|| "a b".into());
    /// let Parsed::Run(args) = parser.parse_from::<[&str; 0], _>([], env)? else { unreachable!() };
    /// assert!(args.is_from_env("target"));
    /// // One environment value may hold several, split on white space here:
    /// let targets: Vec<&str> = args.get_all("target").iter().flat_map(|v| v.split_whitespace()).collect();
    /// assert_eq!(targets, ["a", "b"]);
    /// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
    /// ```
    pub fn is_from_env(&self, key: &str) -> bool {
        self.values.get(key).is_some_and(|v| v.from_env)
    }

    /// Returns `true` if `key` has a value from any source (command line, environment or
    /// default), or is a flag that is set.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::{ArgParser, Parsed};
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--config");
    /// let Parsed::Run(args) = parser.parse_from::<[&str; 0], _>([], |_| None)? else { unreachable!() };
    /// assert!(!args.is_present("config")); // no value from any source: use the built-in settings
    /// # Ok::<(), prometheus_aioexporter::cli::CliError>(())
    /// ```
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

#[cfg(test)]
impl Args {
    /// Every key with values, and its values.
    pub(super) fn all_values(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.values
            .0
            .iter()
            .map(|(key, v)| (key.as_str(), v.values.as_slice()))
    }

    /// The keys of the flags that are set.
    pub(super) fn set_flags(&self) -> impl Iterator<Item = &str> {
        self.flags.0.iter().map(|(key, ())| key.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use crate::cli::testing::exporter;
    use crate::cli::Parsed;

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
}
