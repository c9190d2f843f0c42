//! A real Prometheus for the end-to-end tests over HTTPS and with basic auth: started with the
//! test's scrape jobs, asked through its HTTP API, and killed (its process group) on drop.
//! `prometheus_e2e` keeps its own, which also reads the ingested series back.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::http::try_get;

/// A running Prometheus and the port of its HTTP API.
pub struct Prometheus {
    child: Child,
    web_port: u16,
    log: PathBuf,
}

impl Prometheus {
    /// Starts `binary` scraping `jobs` (entries of `scrape_configs`, indented by two spaces)
    /// every second; its configuration, data and log go to `dir`.
    pub fn start(binary: &Path, dir: &Path, jobs: &str) -> Prometheus {
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n{jobs}"
        );
        let config_path = dir.join("prometheus.yml");
        std::fs::write(&config_path, config).expect("write prometheus.yml");
        let log = dir.join("prometheus.log");
        let log_file = std::fs::File::create(&log).expect("create the log");
        let web_port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("address").port()
        };
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{web_port}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone the log"))
            .stderr(log_file)
            .process_group(0)
            .spawn()
            .expect("cannot start prometheus");
        Prometheus {
            child,
            web_port,
            log,
        }
    }

    /// Polls the API until every query of `expected` gives its value, for up to 60 s.
    pub fn wait_for(&self, expected: &[(&str, &str)]) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let seen: Vec<Result<String, String>> =
                expected.iter().map(|(q, _)| self.query(q)).collect();
            if seen
                .iter()
                .zip(expected)
                .all(|(got, (_, want))| got.as_deref() == Ok(*want))
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Prometheus did not see {expected:?} within 60 s; last: {seen:?}\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            // Prometheus' API has no readiness signal for "scraped": poll it.
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The value of the one series `promql` gives.
    fn query(&self, promql: &str) -> Result<String, String> {
        let encoded: String = promql
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let target = format!("/api/v1/query?query={encoded}");
        let text = try_get(self.web_port, &target, &[])?.text_lossy();
        // `..."value":[1733150000.123,"1"]}]}}`: one series, its value the last string.
        let values: Vec<&str> = text.split("\"value\":[").skip(1).collect();
        match values.as_slice() {
            [value] => value
                .split(']')
                .next()
                .and_then(|v| v.rsplit(',').next())
                .map(|v| v.trim_matches('"').to_string())
                .ok_or_else(|| text.clone()),
            _ => Err(format!("{promql}: {text}")),
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}
