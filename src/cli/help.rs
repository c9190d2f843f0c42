//! The help text, the usage line and the version text, laid out as Python's argparse does.

use super::{Arg, ArgParser};

/// Column at which help text starts in [`ArgParser::help`], as in Python's argparse.
const HELP_COLUMN: usize = 24;

/// Indentation of every entry in the help text.
const HELP_INDENT: usize = 2;

impl ArgParser {
    /// Returns the full help text: usage line, description, then positionals and options with
    /// their help, default, choices and environment variable. Ends with a newline.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::ArgParser;
    ///
    /// let mut parser = ArgParser::new("my-exporter", "My exporter.");
    /// parser.add_argument("--port").short('p').default("9090").help("port to listen on");
    /// let help = parser.help();
    /// assert!(help.starts_with("usage: my-exporter [-h] [-p PORT]\n\nMy exporter.\n"));
    /// assert!(help.contains("-p PORT, --port PORT  port to listen on (default: 9090)"));
    /// ```
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
                    let values = option_values(arg);
                    format!("-{} {}, {} {}", c, values, long, values)
                }
                (None, false) => format!("{} {}", long, option_values(arg)),
            };
            help_entry(&mut out, &invocation, &self.help_text(arg));
        }
        out
    }

    /// Returns the usage line, e.g. `usage: my-exporter [-h] [-H HOST [HOST ...]] [--process-stats] target`,
    /// without a trailing newline. Optional arguments are bracketed.
    ///
    /// ```
    /// use prometheus_aioexporter::cli::ArgParser;
    ///
    /// let mut parser = ArgParser::new("my-exporter", "");
    /// parser.add_argument("--port").short('p');
    /// parser.add_argument("target");
    /// assert_eq!(parser.usage(), "usage: my-exporter [-h] [-p PORT] target");
    /// ```
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
                part.push_str(&option_values(arg));
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

    /// The text of [`Parsed::Version`](super::Parsed::Version).
    pub(super) fn version_text(&self) -> String {
        format!(
            "{} {}\n",
            self.prog,
            self.version.as_deref().unwrap_or_default()
        )
    }
}

/// What an option takes, in the help: `HOST`, or `HOST [HOST ...]` for a multiple one.
fn option_values(arg: &Arg) -> String {
    let name = arg.value_name();
    if arg.multiple {
        format!("{} [{} ...]", name, name)
    } else {
        name
    }
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
    use crate::cli::ArgParser;

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
}
