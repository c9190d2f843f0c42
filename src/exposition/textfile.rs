//! Metrics without a server: the exposition written to any `io::Write`, or to a file that
//! node_exporter's textfile collector reads.
//!
//! Batch and cron jobs, which are gone before a scraper would come, export their metrics this
//! way: the job writes `/var/lib/node_exporter/textfile/my_job.prom` when it ends, and
//! node_exporter exposes it with its own metrics. The file is replaced atomically (written to a
//! temporary file in the same directory, synced, then renamed over the target), so the
//! collector never reads half a file. The file is made readable by all (`0644`) whatever the
//! umask, as client_golang's `WriteToTextfile` does, since node_exporter often runs as another
//! user.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::Format;
use crate::registry::{CollectError, Registry};

/// Why the exposition could not be written.
///
/// ```
/// use prometheus_aioexporter::{Registry, WriteError};
///
/// let mut registry = Registry::new();
/// registry.gauge("rows", "Rows.")?.set(1.0);
/// let err = registry.write_textfile("/nonexistent/dir/rows.prom").unwrap_err();
/// assert!(matches!(err, WriteError::Io { .. }));
/// assert!(err.to_string().starts_with("cannot write /nonexistent/dir/rows.prom"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum WriteError {
    /// A collector failed or yielded invalid data; nothing was written.
    Collect(CollectError),
    /// Writing failed; for a file, `path` names the file that could not be written.
    Io {
        /// The file, when writing one.
        path: Option<PathBuf>,
        /// The error.
        source: io::Error,
    },
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Collect(err) => write!(f, "{err}"),
            WriteError::Io {
                path: Some(path),
                source,
            } => write!(f, "cannot write {}: {source}", path.display()),
            WriteError::Io { path: None, source } => write!(f, "cannot write metrics: {source}"),
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WriteError::Collect(err) => Some(err),
            WriteError::Io { source, .. } => Some(source),
        }
    }
}

impl Registry {
    /// Writes the exposition in `format` to `out`.
    ///
    /// ```
    /// use prometheus_aioexporter::{Format, MetricConfig, Registry};
    ///
    /// let mut registry = Registry::new();
    /// let metrics = registry.create_metrics([MetricConfig::new("rows", "Rows.", "gauge")])?;
    /// metrics.gauge("rows")?.set(42.0);
    /// registry.write_to(std::io::stdout().lock(), Format::Text)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`WriteError::Collect`] before anything is written, or [`WriteError::Io`].
    pub fn write_to(&mut self, mut out: impl Write, format: Format) -> Result<(), WriteError> {
        let mut body = Vec::new();
        self.encode_format(&mut body, format)
            .map_err(WriteError::Collect)?;
        out.write_all(&body)
            .and_then(|()| out.flush())
            .map_err(|source| WriteError::Io { path: None, source })
    }

    /// Replaces `path` atomically with the text-format exposition, for node_exporter's
    /// textfile collector (name it `*.prom` in the collector's directory).
    ///
    /// ```
    /// use prometheus_aioexporter::{MetricConfig, Registry};
    ///
    /// let mut registry = Registry::new();
    /// let metrics = registry.create_metrics([
    ///     MetricConfig::new("backup_last_success_seconds", "When the backup last succeeded.", "gauge"),
    /// ])?;
    /// metrics.gauge("backup_last_success_seconds")?.set_to_current_time();
    /// let path = std::env::temp_dir().join("doc_backup.prom");
    /// registry.write_textfile(&path)?;
    /// assert!(std::fs::read_to_string(&path)?.contains("backup_last_success_seconds "));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`WriteError::Collect`] before anything is written, or [`WriteError::Io`] naming the
    /// file; the target is then unchanged and the temporary file removed.
    pub fn write_textfile(&mut self, path: impl AsRef<Path>) -> Result<(), WriteError> {
        let path = path.as_ref();
        let mut body = Vec::new();
        self.encode_format(&mut body, Format::Text)
            .map_err(WriteError::Collect)?;
        let io_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| WriteError::Io {
                path: Some(path),
                source,
            }
        };
        let (temporary, mut file) =
            create_temporary(path, || WRITES.fetch_add(1, Ordering::Relaxed))
                .map_err(io_error(path))?;
        let written = file.write_all(&body).and_then(|()| {
            // Readable by a node_exporter running as another user whatever the umask, as
            // client_golang's `WriteToTextfile` makes it.
            #[cfg(unix)]
            file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
            file.sync_all()
        });
        drop(file);
        if let Err(err) = written {
            let _ = fs::remove_file(&temporary);
            // The target, as the user named it: the temporary file is ours, and gone.
            return Err(io_error(path)(err));
        }
        if let Err(err) = fs::rename(&temporary, path) {
            let _ = fs::remove_file(&temporary);
            return Err(io_error(path)(err));
        }
        Ok(())
    }
}

/// Numbers for temporary files, one per write in this process.
static WRITES: AtomicU64 = AtomicU64::new(0);

/// Creates a new temporary file beside `path`: in the same directory, so the rename stays on one
/// filesystem; not `*.prom`, so the collector never picks it up; a name of its own per call
/// (`<file>.<pid>.<n>.tmp`, created only if it does not exist), so that writers of one file in
/// several threads or processes never write into, rename away or remove each other's. A name
/// left by a writer that died is skipped.
fn create_temporary(
    path: &Path,
    mut next_number: impl FnMut() -> u64,
) -> io::Result<(PathBuf, fs::File)> {
    let mut attempts = 0;
    loop {
        let write = next_number();
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".{}.{write}.tmp", std::process::id()));
        let temporary = path.with_file_name(name);
        match fs::File::options()
            .write(true)
            .create_new(true)
            .open(&temporary)
        {
            Ok(file) => return Ok((temporary, file)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists && attempts < 16 => {
                attempts += 1;
            }
            Err(err) => return Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::MetricConfig;

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "aioexporter-textfile-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn textfile_is_replaced_whole_and_leaves_no_temporary() {
        let dir = scratch_dir("replace");
        let path = dir.join("job.prom");
        fs::write(&path, "old contents\n").unwrap();
        let mut registry = Registry::new();
        let metrics = registry
            .create_metrics([MetricConfig::new("done", "Done.", "counter")])
            .unwrap();
        metrics.counter("done").unwrap().inc();
        registry.write_textfile(&path).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "# HELP done_total Done.\n# TYPE done_total counter\ndone_total 1\n"
        );
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("job.prom")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn writers_of_one_file_in_several_threads_do_not_collide() {
        let dir = scratch_dir("threads");
        let path = dir.join("job.prom");
        let writers: Vec<_> = (0..4)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let mut registry = Registry::new();
                    let metrics = registry
                        .create_metrics([MetricConfig::new("writer", "Which wrote.", "gauge")])
                        .unwrap();
                    metrics.gauge("writer").unwrap().set(f64::from(i));
                    (0..100)
                        .map(|_| registry.write_textfile(&path))
                        .filter(Result::is_err)
                        .count()
                })
            })
            .collect();
        let failures: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
        assert_eq!(failures, 0);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# HELP writer Which wrote.\n"), "{text}");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "temporaries left");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temporaries_left_by_a_dead_writer_are_skipped_and_kept() {
        let dir = scratch_dir("leftover");
        let path = dir.join("job.prom");
        let leftover = |n: u64| dir.join(format!("job.prom.{}.{n}.tmp", std::process::id()));
        fs::write(leftover(0), "a dead writer's").unwrap();
        fs::write(leftover(1), "another's").unwrap();
        let mut numbers = 0..;
        let (temporary, _file) = create_temporary(&path, || numbers.next().unwrap()).unwrap();
        assert_eq!(temporary, leftover(2));
        assert_eq!(fs::read_to_string(leftover(0)).unwrap(), "a dead writer's");
        assert_eq!(fs::read_to_string(leftover(1)).unwrap(), "another's");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unwritable_targets_are_errors_naming_the_file() {
        let dir = scratch_dir("missing");
        let path = dir.join("no-such-dir").join("job.prom");
        let err = Registry::new().write_textfile(&path).unwrap_err();
        // The target as given, not the temporary file beside it.
        let want = format!("cannot write {}: ", path.display());
        assert!(err.to_string().starts_with(&want), "{err}");
        assert!(!err.to_string().contains(".tmp"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn write_to_reports_writer_errors() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::Other, "disk on fire"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut registry = Registry::new();
        registry
            .create_metrics([MetricConfig::new("x", "", "gauge")])
            .unwrap();
        let err = registry.write_to(Broken, Format::Text).unwrap_err();
        assert_eq!(err.to_string(), "cannot write metrics: disk on fire");
        let mut out = Vec::new();
        registry.write_to(&mut out, Format::OpenMetrics).unwrap();
        assert!(out.ends_with(b"# EOF\n"));
    }
}
