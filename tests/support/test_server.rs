//! An exporter of this crate serving on `127.0.0.1:<free port>` in a thread of the test, shut
//! down and joined on drop. Needs the `server` feature.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use prometheus_aioexporter::{Exporter, ExporterError, Limits, ShutdownHandle};

/// How long `serve` may take to return after a shutdown request.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// An exporter serving in a thread; shut down and joined on drop, which fails the test if
/// `serve` failed or panicked.
pub struct TestServer {
    pub addr: SocketAddr,
    /// Asks the server to shut down, without waiting.
    pub handle: ShutdownHandle,
    /// Receives once when `serve` has returned.
    done: mpsc::Receiver<()>,
    thread: Option<JoinHandle<Result<(), ExporterError>>>,
}

impl TestServer {
    /// Starts an exporter named `test-exporter`, after `configure` has set it up. The socket is
    /// bound before the thread starts, so clients may connect as soon as this returns.
    #[track_caller]
    pub fn start(configure: impl FnOnce(&mut Exporter)) -> TestServer {
        TestServer::start_named("test-exporter", "A test exporter.", configure)
    }

    /// [`TestServer::start`] with the exporter's name and description.
    #[track_caller]
    pub fn start_named(
        name: &str,
        description: &str,
        configure: impl FnOnce(&mut Exporter),
    ) -> TestServer {
        let mut exporter = Exporter::new(name, description);
        exporter.set_hosts(["127.0.0.1"]).set_port(0);
        configure(&mut exporter);
        let mut bound = exporter.bind().expect("bind the test server");
        let addr = bound.local_addrs()[0];
        let handle = bound.shutdown_handle();
        let (tx, done) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let result = bound.serve(None);
            let _ = tx.send(());
            result
        });
        TestServer {
            addr,
            handle,
            done,
            thread: Some(thread),
        }
    }

    /// A server with `limits` and otherwise defaults.
    #[track_caller]
    pub fn with_limits(limits: Limits) -> TestServer {
        TestServer::start(|e| {
            e.set_limits(limits);
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Asks the server to shut down and waits (at most [`STOP_TIMEOUT`]) for `serve` to return.
    #[track_caller]
    pub fn stop(&mut self) -> Result<(), ExporterError> {
        let thread = self.thread.take().expect("the server is running");
        self.handle.shutdown();
        // Disconnected: the thread panicked without sending; joining tells how.
        if let Err(mpsc::RecvTimeoutError::Timeout) = self.done.recv_timeout(STOP_TIMEOUT) {
            panic!("serve did not return within {STOP_TIMEOUT:?} of the shutdown request");
        }
        match thread.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if self.thread.is_none() {
            return;
        }
        if std::thread::panicking() {
            // Do not turn one failure into an abort; leave the thread if it does not stop.
            self.handle.shutdown();
            if let Err(mpsc::RecvTimeoutError::Timeout) = self.done.recv_timeout(STOP_TIMEOUT) {
                return;
            }
            let _ = self.thread.take().map(JoinHandle::join);
            return;
        }
        if let Err(err) = self.stop() {
            panic!("serve failed: {err}");
        }
    }
}
