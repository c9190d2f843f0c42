//! Process metrics (`process_*`) read from Linux `/proc`.
//!
//! This module owns reading and parsing the few `/proc` files behind client_golang's standard
//! process metrics, so an exporter written with this crate exposes the same series as a Go one
//! and dashboards keep working. It only reads files (no `unsafe`, no libc), and every path is
//! built from a root directory given by the caller, so tests run against fixture files.
//!
//! Files read, for a process directory `<root>/<pid>`:
//! - `<root>/<pid>/stat`: `utime`, `stime`, `starttime` and `vsize`;
//! - `<root>/<pid>/status`: `VmRSS`;
//! - `<root>/<pid>/limits`: the soft limits "Max open files" and "Max address space";
//! - `<root>/<pid>/fd`: one entry per open file descriptor;
//! - `<root>/stat`: `btime`, the boot time in seconds since the Unix epoch.

use super::{Counter, Gauge, MetricConfig, MetricError, MetricType, Registry};
use std::error::Error;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Clock ticks per second used by `/proc/<pid>/stat` times (`USER_HZ`).
///
/// It is 100 on every Linux architecture exposed to user space; Go's `procfs` hardcodes it too.
const USER_HZ: f64 = 100.0;

/// A snapshot of the current process, in the units of client_golang's process collector.
///
/// Every field is an `f64` because that is what the exposition format carries.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ProcessStats {
    /// User plus system CPU time, in seconds (`utime + stime` of `/proc/<pid>/stat`, divided by
    /// `USER_HZ`).
    pub cpu_seconds_total: f64,
    /// Number of entries in `/proc/<pid>/fd`.
    pub open_fds: f64,
    /// Soft "Max open files" limit; "unlimited" becomes `u64::MAX as f64`.
    pub max_fds: f64,
    /// Virtual memory size in bytes (`vsize` of `/proc/<pid>/stat`, as client_golang uses).
    pub virtual_memory_bytes: f64,
    /// Soft "Max address space" limit in bytes; "unlimited" becomes `u64::MAX as f64`
    /// (`1.8446744073709552e19`, as client_golang reports it).
    pub virtual_memory_max_bytes: f64,
    /// Resident set size in bytes (`VmRSS` of `/proc/<pid>/status`, kB × 1024).
    pub resident_memory_bytes: f64,
    /// Process start time in seconds since the Unix epoch (`btime` of `/proc/stat` plus
    /// `starttime` of `/proc/<pid>/stat` divided by `USER_HZ`).
    pub start_time_seconds: f64,
}

/// Whether a process metric is a counter or a gauge, for its `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessMetricKind {
    /// A monotonically increasing value; its exposition name ends in `_total`.
    Counter,
    /// A value that can go up and down.
    Gauge,
}

impl ProcessStats {
    /// Returns `(name, help, kind, value)` for each metric, with client_golang's names and help
    /// texts, in client_golang's order.
    ///
    /// Names are the full text-format sample names: the counter is
    /// `process_cpu_seconds_total` (an OpenMetrics encoder drops the `_total` for the family name).
    pub fn rows(&self) -> [(&'static str, &'static str, ProcessMetricKind, f64); 7] {
        use ProcessMetricKind::{Counter, Gauge};
        [
            (
                "process_cpu_seconds_total",
                "Total user and system CPU time spent in seconds.",
                Counter,
                self.cpu_seconds_total,
            ),
            (
                "process_open_fds",
                "Number of open file descriptors.",
                Gauge,
                self.open_fds,
            ),
            (
                "process_max_fds",
                "Maximum number of open file descriptors.",
                Gauge,
                self.max_fds,
            ),
            (
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
                Gauge,
                self.virtual_memory_bytes,
            ),
            (
                "process_virtual_memory_max_bytes",
                "Maximum amount of virtual memory available in bytes.",
                Gauge,
                self.virtual_memory_max_bytes,
            ),
            (
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                Gauge,
                self.resident_memory_bytes,
            ),
            (
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                Gauge,
                self.start_time_seconds,
            ),
        ]
    }
}

/// A `/proc` file could not be read or did not have the expected content.
///
/// `Display` names the file: "cannot read /proc/self/stat: No such file or directory (os error 2)"
/// or "cannot parse /proc/self/stat: expected ...". `source()` is the underlying `io::Error` when
/// reading failed.
///
#[cfg_attr(feature = "server", doc = "```")]
#[cfg_attr(not(feature = "server"), doc = "```ignore")]
/// use prometheus_aioexporter::{Exporter, ExporterError};
///
/// let mut exporter = Exporter::new("my-exporter", "My exporter.");
/// match exporter.enable_process_stats() {
///     Err(ExporterError::ProcessStatsUnreadable(err)) => {
///         eprintln!("{err}"); // e.g. "cannot read /proc/self/stat: …" in an empty chroot
///         eprintln!("the file at fault: {}", err.path().display());
///     }
///     Err(other) => panic!("{other}"),
///     Ok(_) => {} // /proc is readable here
/// }
/// ```
#[derive(Debug)]
pub struct ProcessStatsError {
    path: PathBuf,
    problem: Problem,
}

#[derive(Debug)]
enum Problem {
    Io(io::Error),
    Parse(&'static str),
}

impl ProcessStatsError {
    /// The file or directory that could not be read or parsed.
    ///
    /// ```
    /// use prometheus_aioexporter::ProcessStatsError;
    ///
    /// /// What an exporter logs when process metrics cannot be read.
    /// fn report(err: &ProcessStatsError) -> String {
    ///     format!("{err} (check that {} is readable)", err.path().display())
    /// }
    /// # let _ = report;
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(path: &Path, err: io::Error) -> Self {
        ProcessStatsError {
            path: path.to_path_buf(),
            problem: Problem::Io(err),
        }
    }

    fn parse(path: &Path, expected: &'static str) -> Self {
        ProcessStatsError {
            path: path.to_path_buf(),
            problem: Problem::Parse(expected),
        }
    }
}

impl fmt::Display for ProcessStatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::Io(err) => write!(f, "cannot read {}: {}", self.path.display(), err),
            Problem::Parse(expected) => {
                write!(f, "cannot parse {}: {}", self.path.display(), expected)
            }
        }
    }
}

impl Error for ProcessStatsError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.problem {
            Problem::Io(err) => Some(err),
            Problem::Parse(_) => None,
        }
    }
}

/// Reads the current process's metrics from `/proc/self`.
///
/// # Errors
///
/// Returns an error naming the file when a `/proc` file is missing (e.g. `/proc` not mounted)
/// or its content is not as expected.
pub fn collect() -> Result<ProcessStats, ProcessStatsError> {
    collect_from(Path::new("/proc"), "self")
}

/// Reads process metrics from `<proc_root>/<pid_dir>/…` and the boot time from
/// `<proc_root>/stat`.
///
/// `collect_from(Path::new("/proc"), "self")` is [`collect`]; tests pass a fixture directory.
///
/// # Errors
///
/// Returns an error naming the file when a file is missing or its content is not as expected.
pub fn collect_from(proc_root: &Path, pid_dir: &str) -> Result<ProcessStats, ProcessStatsError> {
    let pid_path = proc_root.join(pid_dir);

    let stat_path = pid_path.join("stat");
    let stat = parse_pid_stat(&read(&stat_path)?)
        .ok_or_else(|| ProcessStatsError::parse(&stat_path, STAT_EXPECTED))?;

    let status_path = pid_path.join("status");
    let rss_kib = parse_status_kib(&read(&status_path)?, "VmRSS:").ok_or_else(|| {
        ProcessStatsError::parse(&status_path, "expected a line 'VmRSS: <number> kB'")
    })?;

    let limits_path = pid_path.join("limits");
    let limits = read(&limits_path)?;
    let max_fds = parse_soft_limit(&limits, "Max open files").ok_or_else(|| {
        ProcessStatsError::parse(
            &limits_path,
            "expected a line 'Max open files <soft> <hard> files'",
        )
    })?;
    let max_address_space = parse_soft_limit(&limits, "Max address space").ok_or_else(|| {
        ProcessStatsError::parse(
            &limits_path,
            "expected a line 'Max address space <soft> <hard> bytes'",
        )
    })?;

    let fd_path = pid_path.join("fd");
    let open_fds = count_entries(&fd_path)?;

    let boot_stat_path = proc_root.join("stat");
    let btime = parse_btime(&read(&boot_stat_path)?).ok_or_else(|| {
        ProcessStatsError::parse(&boot_stat_path, "expected a line 'btime <seconds>'")
    })?;

    Ok(ProcessStats {
        cpu_seconds_total: (stat.utime + stat.stime) as f64 / USER_HZ,
        open_fds: open_fds as f64,
        max_fds: max_fds as f64,
        virtual_memory_bytes: stat.vsize as f64,
        virtual_memory_max_bytes: max_address_space as f64,
        resident_memory_bytes: rss_kib as f64 * 1024.0,
        start_time_seconds: btime as f64 + stat.starttime as f64 / USER_HZ,
    })
}

/// The file as text. The kernel writes a process's name into `stat` and `status` as the raw
/// bytes it was given, which need not be UTF-8: they are replaced, and only the fields after
/// it are read.
fn read(path: &Path) -> Result<String, ProcessStatsError> {
    let bytes = fs::read(path).map_err(|err| ProcessStatsError::io(path, err))?;
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned()))
}

fn count_entries(dir: &Path) -> Result<usize, ProcessStatsError> {
    let mut count = 0;
    for entry in fs::read_dir(dir).map_err(|err| ProcessStatsError::io(dir, err))? {
        entry.map_err(|err| ProcessStatsError::io(dir, err))?;
        count += 1;
    }
    Ok(count)
}

const STAT_EXPECTED: &str =
    "expected 'pid (comm) state' followed by at least 21 numeric fields (utime, stime, starttime, vsize)";

/// The fields of `/proc/<pid>/stat` this module uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PidStat {
    utime: u64,
    stime: u64,
    starttime: u64,
    vsize: u64,
}

/// Parses `/proc/<pid>/stat`: `pid (comm) state ppid …`.
///
/// `comm` may contain spaces and parentheses, so the fields start after the *last* `)`.
fn parse_pid_stat(text: &str) -> Option<PidStat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    if close < open {
        return None;
    }
    // The first word is field 3 (state) in proc(5)'s 1-based numbering. Fields are taken in
    // increasing order, each `nth` skipping the fields before it: no vector of all of them.
    let mut fields = text[close + 1..].split_whitespace();
    let mut next = 3;
    let mut field = |n: usize| {
        let word = fields.nth(n - next)?;
        next = n + 1;
        word.parse::<u64>().ok()
    };
    Some(PidStat {
        utime: field(14)?,
        stime: field(15)?,
        starttime: field(22)?,
        vsize: field(23)?,
    })
}

/// Finds `key <number> kB` in `/proc/<pid>/status` and returns the number.
fn parse_status_kib(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|line| line.starts_with(key))?;
    let mut words = line[key.len()..].split_whitespace();
    let value = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => Some(value),
        _ => None,
    }
}

/// Finds the soft limit of `name` in `/proc/<pid>/limits`; "unlimited" is `u64::MAX`.
///
/// Lines look like `Max open files            1024                 1048576              files`.
fn parse_soft_limit(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|line| {
        line.strip_prefix(name)
            .is_some_and(|rest| rest.starts_with(' '))
    })?;
    match line[name.len()..].split_whitespace().next()? {
        "unlimited" => Some(u64::MAX),
        number => number.parse().ok(),
    }
}

/// Finds `btime <seconds>` in `/proc/stat`.
fn parse_btime(text: &str) -> Option<u64> {
    let line = text.lines().find(|line| line.starts_with("btime "))?;
    line["btime ".len()..].trim().parse().ok()
}

/// The process metrics as registered metrics, refreshed from `/proc` on demand: what the
/// exporter's `--process-stats` does before each scrape, and what a batch job writing a
/// textfile can do before writing it.
///
/// ```
/// use prometheus_aioexporter::{ProcessMetrics, Registry};
///
/// let mut registry = Registry::new();
/// let process = ProcessMetrics::register(&mut registry)?;
/// process.refresh();
/// assert!(registry.metrics().gauge("process_open_fds")?.get() > 0.0);
/// # Ok::<(), prometheus_aioexporter::MetricError>(())
/// ```
#[derive(Debug)]
pub struct ProcessMetrics {
    cpu: Counter,
    /// The gauges, in the order of [`ProcessStats::rows`].
    gauges: Vec<Gauge>,
}

impl ProcessMetrics {
    /// Registers the seven metrics in `registry`.
    ///
    /// ```
    /// use prometheus_aioexporter::{ProcessMetrics, Registry};
    ///
    /// let mut registry = Registry::new();
    /// let process = ProcessMetrics::register(&mut registry)?;
    /// process.refresh(); // before each scrape, or before writing a textfile
    /// assert!(registry.metrics().counter("process_cpu_seconds").is_ok());
    /// assert!(ProcessMetrics::register(&mut registry).is_err()); // names taken
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    ///
    /// # Errors
    /// [`MetricError::DuplicateMetric`] or [`MetricError::SeriesNameTaken`] if metrics of those
    /// names exist already.
    pub fn register(registry: &mut Registry) -> Result<ProcessMetrics, MetricError> {
        let rows = ProcessStats::default().rows();
        let configs = rows.iter().map(|(name, help, kind, _)| {
            let kind = match kind {
                ProcessMetricKind::Counter => MetricType::Counter,
                ProcessMetricKind::Gauge => MetricType::Gauge,
            };
            MetricConfig::new(*name, *help, kind)
        });
        let created = registry.create_metrics(configs)?;
        let mut cpu = None;
        let mut gauges = Vec::new();
        for (name, _, kind, _) in rows {
            match kind {
                ProcessMetricKind::Counter => {
                    cpu = Some(created.counter(name.strip_suffix("_total").unwrap_or(name))?);
                }
                ProcessMetricKind::Gauge => gauges.push(created.gauge(name)?),
            }
        }
        let cpu = cpu.ok_or_else(|| MetricError::UnknownMetric("process_cpu_seconds".into()))?;
        Ok(ProcessMetrics { cpu, gauges })
    }

    /// Reads `/proc/self` and sets the metrics; a failure is logged and the old values stay.
    ///
    /// ```
    /// use prometheus_aioexporter::{ProcessMetrics, Registry};
    ///
    /// let mut registry = Registry::new();
    /// let process = ProcessMetrics::register(&mut registry)?;
    /// process.refresh();
    /// let rss = registry.metrics().gauge("process_resident_memory_bytes")?.get();
    /// assert!(rss > 0.0);
    /// # Ok::<(), prometheus_aioexporter::MetricError>(())
    /// ```
    pub fn refresh(&self) {
        match collect() {
            Ok(stats) => {
                let mut gauges = self.gauges.iter();
                for (_, _, kind, value) in stats.rows() {
                    match kind {
                        ProcessMetricKind::Counter => {
                            // CPU seconds are never negative; one that were keeps the old value.
                            let _ = self.cpu.set(value);
                        }
                        ProcessMetricKind::Gauge => {
                            if let Some(gauge) = gauges.next() {
                                gauge.set(value);
                            }
                        }
                    }
                }
            }
            Err(err) => crate::log::log_warning!("cannot read process stats: {err}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    /// A `stat` line as the kernel writes it, with `comm` given and fields 14, 15, 22, 23 set.
    fn stat_line(comm: &str, utime: u64, stime: u64, starttime: u64, vsize: u64) -> String {
        format!(
            "4242 ({comm}) S 1 4242 4242 0 -1 4194560 1041 0 0 0 {utime} {stime} 0 0 20 0 1 0 \
             {starttime} {vsize} 871 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 3 0 0 0 0 0\n"
        )
    }

    #[test]
    fn stat_fields_are_counted_after_the_last_paren() {
        let cases: &[(&str, &str)] = &[
            ("plain", "sleep"),
            ("spaces", "my exporter"),
            ("parens and spaces", "a) (b"),
            (
                "close paren then digits",
                ") 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15",
            ),
            ("empty", ""),
        ];
        for (what, comm) in cases {
            let parsed = parse_pid_stat(&stat_line(comm, 150, 50, 12345, 4096 * 1000));
            assert_eq!(
                parsed,
                Some(PidStat {
                    utime: 150,
                    stime: 50,
                    starttime: 12345,
                    vsize: 4096 * 1000
                }),
                "{what}: comm {comm:?}"
            );
        }
    }

    #[test]
    fn malformed_stat_lines_are_rejected() {
        let cases: &[(&str, &str)] = &[
            ("empty", ""),
            ("no parens", "4242 sleep S 1 2 3"),
            ("close before open", "4242 )sleep( S 1 2 3"),
            (
                "truncated",
                "4242 (sleep) S 1 4242 4242 0 -1 4194560 1041 0 0 0 150 50",
            ),
            (
                "non-numeric utime",
                "4242 (x) S 1 4242 4242 0 -1 4194560 1041 0 0 0 abc 50 0 0 20 0 1 0 5 6 7",
            ),
        ];
        for (what, text) in cases {
            assert_eq!(parse_pid_stat(text), None, "{what}");
        }
    }

    #[test]
    fn soft_limits_and_unlimited() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max cpu time              unlimited            unlimited            seconds   \n\
                      Max open files            1024                 1048576              files     \n\
                      Max address space         unlimited            unlimited            bytes     \n";
        assert_eq!(parse_soft_limit(limits, "Max open files"), Some(1024));
        assert_eq!(
            parse_soft_limit(limits, "Max address space"),
            Some(u64::MAX)
        );
        assert_eq!(parse_soft_limit(limits, "Max processes"), None);
        // A name that is a prefix of another must not match it.
        assert_eq!(parse_soft_limit(limits, "Max open"), None);
        assert_eq!(
            parse_soft_limit("Max open files  lots  9  files\n", "Max open files"),
            None
        );
    }

    #[test]
    fn status_kib_and_btime() {
        let status = "Name:\tsleep\nVmSize:\t    8000 kB\nVmRSS:\t     908 kB\n";
        assert_eq!(parse_status_kib(status, "VmRSS:"), Some(908));
        assert_eq!(parse_status_kib(status, "VmSwap:"), None);
        assert_eq!(parse_status_kib("VmRSS:\t908\n", "VmRSS:"), None);
        assert_eq!(
            parse_btime("cpu  1 2 3\nbtime 1700000000\nprocesses 9\n"),
            Some(1700000000)
        );
        assert_eq!(parse_btime("cpu  1 2 3\n"), None);
    }

    #[test]
    fn rows_have_client_golang_names_in_order() {
        let stats = ProcessStats {
            cpu_seconds_total: 1.0,
            open_fds: 2.0,
            max_fds: 3.0,
            virtual_memory_bytes: 4.0,
            virtual_memory_max_bytes: 5.0,
            resident_memory_bytes: 6.0,
            start_time_seconds: 7.0,
        };
        let rows = stats.rows();
        let names: Vec<&str> = rows.iter().map(|row| row.0).collect();
        assert_eq!(
            names,
            [
                "process_cpu_seconds_total",
                "process_open_fds",
                "process_max_fds",
                "process_virtual_memory_bytes",
                "process_virtual_memory_max_bytes",
                "process_resident_memory_bytes",
                "process_start_time_seconds",
            ]
        );
        let values: Vec<f64> = rows.iter().map(|row| row.3).collect();
        assert_eq!(values, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        assert_eq!(rows[0].2, ProcessMetricKind::Counter);
        assert!(rows[1..]
            .iter()
            .all(|row| row.2 == ProcessMetricKind::Gauge));
        for (name, help, _, _) in rows {
            assert!(
                help.ends_with('.') && !help.contains('\n'),
                "{name}: {help:?}"
            );
        }
        assert_eq!(
            rows[0].1,
            "Total user and system CPU time spent in seconds."
        );
        assert_eq!(
            rows[6].1,
            "Start time of the process since unix epoch in seconds."
        );
    }

    #[test]
    fn real_proc_self_is_plausible() {
        let stats = collect().expect("reading /proc/self");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        // stdin, stdout, stderr, plus the directory being listed.
        assert!(stats.open_fds >= 3.0, "{stats:?}");
        assert!(stats.max_fds >= stats.open_fds, "{stats:?}");
        assert!(stats.resident_memory_bytes > 0.0, "{stats:?}");
        assert!(
            stats.virtual_memory_bytes >= stats.resident_memory_bytes,
            "{stats:?}"
        );
        assert!(stats.virtual_memory_max_bytes > 0.0, "{stats:?}");
        assert!(stats.cpu_seconds_total >= 0.0, "{stats:?}");
        assert!(
            stats.start_time_seconds >= now - 3600.0 && stats.start_time_seconds <= now + 1.0,
            "start time {} not within the last hour of {now}",
            stats.start_time_seconds
        );
    }

    /// A fresh, empty directory under the system temporary directory, removed on drop.
    struct Fixture {
        root: PathBuf,
    }

    impl Fixture {
        fn new() -> Fixture {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let root = std::env::temp_dir().join(format!(
                "prometheus-aioexporter-process-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&root);
            fs::create_dir_all(root.join("42").join("fd")).unwrap();
            Fixture { root }
        }

        fn write(&self, relative: &str, text: &str) {
            fs::write(self.root.join(relative), text).unwrap();
        }

        /// Writes a complete, valid process directory `42` with five open fds.
        fn valid(comm: &str) -> Fixture {
            let fixture = Fixture::new();
            fixture.write(
                "42/stat",
                &stat_line(comm, 1234, 766, 250_000, 1_234_567_890),
            );
            fixture.write(
                "42/status",
                "Name:\tx\nVmPeak:\t   10000 kB\nVmSize:\t    9000 kB\nVmRSS:\t    2048 kB\n",
            );
            fixture.write(
                "42/limits",
                "Limit                     Soft Limit           Hard Limit           Units     \n\
                 Max open files            65536                65536                files     \n\
                 Max address space         unlimited            unlimited            bytes     \n",
            );
            fixture.write("stat", "cpu  1 2 3 4\nintr 5\nctxt 6\nbtime 1700000000\n");
            for fd in 0..5 {
                fixture.write(&format!("42/fd/{fd}"), "");
            }
            fixture
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.root);
        }
    }

    #[test]
    fn fixture_values_are_converted_to_client_golang_units() {
        let fixture = Fixture::valid("exporter) (main");
        let stats = collect_from(&fixture.root, "42").unwrap();
        assert_eq!(
            stats,
            ProcessStats {
                cpu_seconds_total: 20.0,
                open_fds: 5.0,
                max_fds: 65536.0,
                virtual_memory_bytes: 1_234_567_890.0,
                virtual_memory_max_bytes: 1.8446744073709552e19,
                resident_memory_bytes: 2048.0 * 1024.0,
                start_time_seconds: 1_700_002_500.0,
            }
        );
    }

    /// The kernel writes a process's name as the bytes it was given: one that is not UTF-8
    /// (a file name in Latin-1, `prctl(PR_SET_NAME)`) is read, not an error for every metric.
    #[test]
    fn a_process_name_that_is_not_utf8_is_read() {
        let fixture = Fixture::valid("x");
        let stat = stat_line("caf\u{e9}", 1234, 766, 250_000, 1_234_567_890)
            .replace("caf\u{e9}", "caf\u{fffd}");
        let mut bytes = stat.into_bytes();
        // U+FFFD's three bytes become one Latin-1 byte, as the kernel would write `café`.
        let at = bytes
            .windows(3)
            .position(|w| w == [0xef, 0xbf, 0xbd])
            .unwrap();
        bytes.splice(at..at + 3, [0xe9]);
        fs::write(fixture.root.join("42/stat"), &bytes).unwrap();
        fs::write(
            fixture.root.join("42/status"),
            b"Name:\tcaf\xe9\nVmRSS:\t 2048 kB\n",
        )
        .unwrap();
        let stats = collect_from(&fixture.root, "42").unwrap();
        assert_eq!(stats.cpu_seconds_total, 20.0);
        assert_eq!(stats.resident_memory_bytes, 2048.0 * 1024.0);
    }

    #[test]
    fn malformed_stat_is_an_error_naming_the_file() {
        let fixture = Fixture::valid("x");
        fixture.write("42/stat", "42 (x) S 1 2 3\n");
        let err = collect_from(&fixture.root, "42").unwrap_err();
        let path = fixture.root.join("42").join("stat");
        assert_eq!(err.path(), path);
        assert_eq!(
            err.to_string(),
            format!("cannot parse {}: {STAT_EXPECTED}", path.display())
        );
        assert!(err.source().is_none());
    }

    #[test]
    fn missing_file_is_an_io_error_naming_the_file() {
        let fixture = Fixture::valid("x");
        fs::remove_file(fixture.root.join("42").join("status")).unwrap();
        let err = collect_from(&fixture.root, "42").unwrap_err();
        let path = fixture.root.join("42").join("status");
        assert_eq!(err.path(), path);
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("cannot read {}: ", path.display())),
            "{message}"
        );
        let source = err.source().expect("an io::Error source");
        let io = source.downcast_ref::<io::Error>().expect("an io::Error");
        assert_eq!(io.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn each_missing_line_names_its_file() {
        let cases: &[(&str, &str, &str)] = &[
            ("42/status", "Name:\tx\n", "VmRSS"),
            (
                "42/limits",
                "Max address space unlimited unlimited bytes\n",
                "Max open files",
            ),
            (
                "42/limits",
                "Max open files 1024 4096 files\n",
                "Max address space",
            ),
            ("stat", "cpu 1 2 3\n", "btime"),
        ];
        for (file, text, expected) in cases {
            let fixture = Fixture::valid("x");
            fixture.write(file, text);
            let err = collect_from(&fixture.root, "42").unwrap_err();
            assert_eq!(err.path(), fixture.root.join(file), "{file}");
            let message = err.to_string();
            assert!(
                message.starts_with("cannot parse ") && message.contains(expected),
                "{file}: {message}"
            );
        }
    }

    #[test]
    fn missing_fd_dir_is_an_error() {
        let fixture = Fixture::valid("x");
        fs::remove_dir_all(fixture.root.join("42").join("fd")).unwrap();
        let err = collect_from(&fixture.root, "42").unwrap_err();
        assert_eq!(err.path(), fixture.root.join("42").join("fd"));
    }
}
