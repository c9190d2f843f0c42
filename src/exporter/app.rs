//! The running exporter's answers: the routes (landing page, metrics, 404, 405), the scrape
//! (update handler, collectors, encoding, compression) and the access log line.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[cfg(feature = "gzip")]
use super::gzip::Gzip;
use super::scrape::{announced_timeout, BodyPool, ScrapeFailure};
use super::{Scrape, UpdateHandler};
use crate::exposition::{negotiate, Escaping, Format};
use crate::http::{self, Context, Method, Request, Response, ResponseHead, Service, Status};
use crate::log::{log_error, log_warning, Addr};
#[cfg(feature = "process-stats")]
use crate::registry::process::ProcessMetrics;
use crate::registry::Registry;

/// The health check's path, as Prometheus and statsd_exporter name it: 200 while the server
/// answers, without running the update handler (`--healthcheck` asks it).
pub(crate) const HEALTH_PATH: &str = "/-/healthy";

/// How often, at most, refused scrapes are logged.
const BUSY_WARNING_EVERY: Duration = Duration::from_secs(10);

/// The [`Service`] a bound exporter's server asks: what the exporter was built with, fixed,
/// and the state of its scrapes.
pub(super) struct App {
    /// Asks every request for credentials, when basic auth is on.
    #[cfg(feature = "basic-auth")]
    pub(super) gate: Option<super::basic_auth::Gate>,
    pub(super) registry: Registry,
    pub(super) handler: Option<UpdateHandler>,
    #[cfg(feature = "process-stats")]
    pub(super) process: Option<ProcessMetrics>,
    pub(super) metrics_path: String,
    pub(super) openmetrics: bool,
    pub(super) scrape_timeout_offset: Duration,
    pub(super) max_scrape_timeout: Option<Duration>,
    pub(super) max_scrapes_in_flight: usize,
    pub(super) landing_page: Vec<u8>,
    /// Exposition buffers, reused once no connection sends them any more.
    pub(super) bodies: BodyPool,
    /// Compressed exposition buffers, reused likewise.
    #[cfg(feature = "gzip")]
    pub(super) gzip_bodies: BodyPool,
    #[cfg(feature = "gzip")]
    pub(super) gzip: Option<Gzip>,
    /// Scrapes refused for `max_scrapes_in_flight` since the last warning, and when that was:
    /// refusals are logged once per [`BUSY_WARNING_EVERY`], not once each.
    pub(super) busy_refused: u64,
    pub(super) busy_warned_at: Option<Instant>,
}

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Landing,
    Metrics,
    Healthy,
    NotFound,
    MethodNotAllowed,
}

impl App {
    /// What the handler is told about a scrape that had arrived by `arrived`.
    pub(super) fn scrape(
        &self,
        format: Format,
        announced: Option<&[u8]>,
        arrived: Instant,
    ) -> Scrape {
        let timeout = match (announced_timeout(announced), self.max_scrape_timeout) {
            (Some(t), Some(max)) => Some(t.min(max)),
            (t, max) => t.or(max),
        };
        Scrape {
            format,
            deadline: timeout
                .and_then(|t| arrived.checked_add(t.saturating_sub(self.scrape_timeout_offset))),
        }
    }

    /// `collect_escaped` with the default escaping (underscores: legacy names unchanged).
    #[cfg(test)]
    pub(super) fn collect(
        &mut self,
        scrape: &Scrape,
        in_flight: usize,
    ) -> Result<Arc<Vec<u8>>, ScrapeFailure> {
        self.collect_escaped(scrape, Escaping::Underscores, in_flight)
    }

    /// Runs the process-stats refresh and the update handler, then encodes the registry into
    /// a reusable body, with names escaped as the scraper negotiated; or refuses, without
    /// running them, while `in_flight` responses (the server's count) are at the limit.
    fn collect_escaped(
        &mut self,
        scrape: &Scrape,
        escaping: Escaping,
        in_flight: usize,
    ) -> Result<Arc<Vec<u8>>, ScrapeFailure> {
        let max = self.max_scrapes_in_flight;
        if max > 0 && in_flight >= max {
            self.warn_busy(max);
            return Err(ScrapeFailure::Busy);
        }
        if self.busy_refused > 0 {
            // The end of a burst of refusals: its count, which no warning has given yet.
            log_warning!(
                "{} scrape(s) answered 503 since the last warning; scrapes are answered again",
                self.busy_refused
            );
            self.busy_refused = 0;
        }
        let mut body = self.bodies.take();
        #[cfg(feature = "process-stats")]
        if let Some(process) = &self.process {
            process.refresh();
        }
        if let Some(handler) = self.handler.as_mut() {
            let metrics = self.registry.metrics();
            // The error is spelt and dropped inside the catch too: it is the caller's type.
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                handler(metrics, scrape)
                    .map_err(|err| one_line(&format!("metric update handler failed: {err}")))
            }));
            let message = match outcome {
                Ok(Ok(())) => None,
                Ok(Err(message)) => Some(message),
                Err(payload) => {
                    drop_panic(payload);
                    Some("metric update handler panicked".to_string())
                }
            };
            if let Some(message) = message {
                log_error!("{message}");
                self.bodies.put(body);
                return Err(ScrapeFailure::Failed(message));
            }
        }
        // Collectors are the caller's code too: a panic in one fails this scrape, as one in
        // the handler does, and not the server.
        let out = Arc::make_mut(&mut body);
        let encoded = catch_unwind(AssertUnwindSafe(|| {
            self.registry
                .encode_escaped(out, scrape.format, escaping)
                .map_err(|err| one_line(&format!("cannot collect metrics: {err}")))
        }));
        let message = match encoded {
            Ok(Ok(())) => return Ok(self.bodies.put(body)),
            Ok(Err(message)) => message,
            Err(payload) => {
                drop_panic(payload);
                "a collector panicked".to_string()
            }
        };
        self.bodies.put(body);
        log_error!("{message}");
        Err(ScrapeFailure::Failed(message))
    }

    /// Counts a refused scrape, and logs the count at most once per [`BUSY_WARNING_EVERY`]:
    /// clients that flood a busy exporter must not flood its log too.
    fn warn_busy(&mut self, max: usize) {
        self.busy_refused += 1;
        if !crate::log::due(&mut self.busy_warned_at, BUSY_WARNING_EVERY) {
            return;
        }
        log_warning!(
            "{max} scrapes are still being sent: {} scrape(s) answered 503 since the last warning",
            self.busy_refused
        );
        self.busy_refused = 0;
    }

    /// The body compressed, in a reused buffer; `None` if compression failed.
    #[cfg(feature = "gzip")]
    pub(super) fn compress(&mut self, body: &[u8]) -> Option<Arc<Vec<u8>>> {
        // Within the limit `collect` checked: the plain body is free again once compressed.
        let mut out = self.gzip_bodies.take();
        let gzip = self.gzip.get_or_insert_with(Gzip::new);
        let compressed = gzip.compress(body, Arc::make_mut(&mut out));
        let out = self.gzip_bodies.put(out);
        if compressed {
            Some(out)
        } else {
            log_warning!("gzip compression failed; answering uncompressed");
            None
        }
    }

    /// Without the `gzip` feature, bodies are always sent as they are.
    #[cfg(not(feature = "gzip"))]
    pub(super) fn compress(&mut self, _body: &[u8]) -> Option<Arc<Vec<u8>>> {
        None
    }

    fn route(&self, request: &Request<'_>) -> Route {
        let is_metrics = http::path_is(request.path, &self.metrics_path);
        let is_healthy = !is_metrics && http::path_is(request.path, HEALTH_PATH);
        if !is_metrics && !is_healthy && !http::path_is(request.path, "/") {
            Route::NotFound
        } else if request.method == Method::Other {
            Route::MethodNotAllowed
        } else if is_metrics {
            Route::Metrics
        } else if is_healthy {
            Route::Healthy
        } else {
            Route::Landing
        }
    }

    /// The exposition, in the format the scraper prefers, compressed if it allows gzip; or 503
    /// or 500 with the reason.
    fn metrics(
        &mut self,
        request: &Request<'_>,
        context: &Context<'_>,
        response: &mut Response,
    ) -> Status {
        let chosen = negotiate::negotiate_format(request.accept, self.openmetrics);
        let scrape = self.scrape(chosen.format(), request.scrape_timeout, context.arrived);
        let mut body =
            match self.collect_escaped(&scrape, chosen.escaping(), context.responses_in_flight) {
                Ok(body) => body,
                Err(failure) => {
                    let (status, mut text) = match failure {
                        ScrapeFailure::Busy => (
                            Status::SERVICE_UNAVAILABLE,
                            "too many scrapes in flight".to_string(),
                        ),
                        ScrapeFailure::Failed(message) => (Status::INTERNAL_SERVER_ERROR, message),
                    };
                    text.push('\n');
                    return simple(request, context, response, status, &text);
                }
            };
        let mut extra: &[(&str, &str)] = &[];
        if cfg!(feature = "gzip") {
            extra = &[("Vary", "Accept-Encoding")];
            if negotiate::accepts_gzip(request.accept_encoding) {
                if let Some(compressed) = self.compress(&body) {
                    body = compressed;
                    extra = &[("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")];
                }
            }
        }
        write_head(
            request,
            context,
            response,
            chosen.content_type(),
            body.len(),
            extra,
        );
        if request.method != Method::Head {
            response.body = Some(body);
        }
        Status::OK
    }

    /// The landing page: the exporter's name, description and a link to the metrics.
    fn landing(
        &self,
        request: &Request<'_>,
        context: &Context<'_>,
        response: &mut Response,
    ) -> Status {
        let page = &self.landing_page;
        write_head(
            request,
            context,
            response,
            "text/html; charset=utf-8",
            page.len(),
            &[],
        );
        if request.method != Method::Head {
            response.head.extend_from_slice(page);
        }
        Status::OK
    }
}

impl Service for App {
    fn respond(&mut self, request: &Request<'_>, context: &Context<'_>, response: &mut Response) {
        #[cfg(feature = "basic-auth")]
        if let Some(status) = self.refuse_unauthenticated(request, context, response) {
            log_access(request, context, response, status);
            return;
        }
        let status = match self.route(request) {
            Route::Landing => self.landing(request, context, response),
            Route::Metrics => self.metrics(request, context, response),
            // Up and serving, whatever the update handler would say: nothing of it runs.
            Route::Healthy => simple(request, context, response, Status::OK, "OK\n"),
            Route::NotFound => simple(
                request,
                context,
                response,
                Status::NOT_FOUND,
                "404 Not Found\n",
            ),
            Route::MethodNotAllowed => {
                // The body whatever the method: it is not one the route knows.
                let text = "405 Method Not Allowed\n";
                write_text(
                    request,
                    context,
                    response,
                    Status::METHOD_NOT_ALLOWED,
                    text,
                    true,
                    &[],
                );
                Status::METHOD_NOT_ALLOWED
            }
        };
        log_access(request, context, response, status);
    }
}

impl App {
    /// With basic auth on, answers a request without the right credentials (401, or 503 when
    /// failed checks have used their share of the thread) and says with which status.
    #[cfg(feature = "basic-auth")]
    fn refuse_unauthenticated(
        &mut self,
        request: &Request<'_>,
        context: &Context<'_>,
        response: &mut Response,
    ) -> Option<Status> {
        use super::basic_auth::Verdict;
        let gate = self.gate.as_mut()?;
        let (status, text) = match gate.check(request.authorization, context.peer.ip()) {
            Verdict::Allowed => return None,
            Verdict::Denied => (Status::UNAUTHORIZED, "401 Unauthorized\n"),
            Verdict::Busy => (
                Status::SERVICE_UNAVAILABLE,
                "too many failed logins: credentials not checked, try again\n",
            ),
        };
        let challenge = [("WWW-Authenticate", gate.challenge())];
        let retry = [("Retry-After", "1")];
        let extra: &[(&str, &str)] = if status == Status::UNAUTHORIZED {
            &challenge
        } else {
            &retry
        };
        let with_body = request.method != Method::Head;
        write_text(request, context, response, status, text, with_body, extra);
        Some(status)
    }
}

/// A `200 OK` head for a body of `length` bytes.
fn write_head(
    request: &Request<'_>,
    context: &Context<'_>,
    response: &mut Response,
    content_type: &str,
    length: usize,
    extra: &[(&str, &str)],
) {
    http::write_response_head(
        &mut response.head,
        &ResponseHead {
            status: Status::OK,
            content_type,
            content_length: length,
            keep_alive: request.keep_alive,
            minor_version: request.minor_version,
            common: context.common,
            allow: None,
            extra,
        },
    );
}

/// A small plain-text answer, such as an error.
fn simple(
    request: &Request<'_>,
    context: &Context<'_>,
    response: &mut Response,
    status: Status,
    text: &str,
) -> Status {
    let with_body = request.method != Method::Head;
    write_text(request, context, response, status, text, with_body, &[]);
    status
}

/// A `text/plain` answer whose head follows the same `Connection` rule as a 200's (it depends
/// on the request's version, which `http::write_simple_response` does not know), and with
/// `Allow` on a 405, and the `extra` headers.
fn write_text(
    request: &Request<'_>,
    context: &Context<'_>,
    response: &mut Response,
    status: Status,
    text: &str,
    with_body: bool,
    extra: &[(&str, &str)],
) {
    let allow = (status == Status::METHOD_NOT_ALLOWED).then_some("GET, HEAD");
    http::write_response_head(
        &mut response.head,
        &ResponseHead {
            status,
            content_type: "text/plain; charset=utf-8",
            content_length: text.len(),
            keep_alive: request.keep_alive,
            minor_version: request.minor_version,
            common: context.common,
            allow,
            extra,
        },
    );
    if with_body {
        response.head.extend_from_slice(text.as_bytes());
    }
}

/// One debug line per request, in the spirit of a common log format line; as JSON, with the
/// request's parts as fields of their own.
fn log_access(request: &Request<'_>, context: &Context<'_>, response: &Response, status: Status) {
    if !crate::log::enabled(crate::log::Level::Debug) {
        return;
    }
    use crate::log::Value::{Number, Seconds, Text};
    let length = response.head.len() + response.body.as_ref().map_or(0, |b| b.len());
    let agent = request
        .user_agent
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    let address = Addr(context.peer).to_string();
    let version = if request.minor_version == 0 {
        "1.0"
    } else {
        "1.1"
    };
    crate::log::event(
        crate::log::Level::Debug,
        module_path!(),
        format_args!(
            "{address} \"{} {} HTTP/{version}\" {} {length} \"{}\"",
            request.method_str,
            crate::log::Quoted(request.target),
            status.code(),
            crate::log::Quoted(&agent),
        ),
        &[
            ("address", Text(&address)),
            ("method", Text(request.method_str)),
            ("path", Text(request.target)),
            ("version", Text(version)),
            ("status", Number(u64::from(status.code()))),
            ("bytes", Number(length as u64)),
            ("user_agent", Text(&agent)),
            ("duration_seconds", Seconds(context.arrived.elapsed())),
        ],
    );
}

/// Drops what a caught panic carried. It is the caller's value: should its own drop panic,
/// that is caught too and the rest leaked, rather than unwinding out of the server.
fn drop_panic(payload: Box<dyn std::any::Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(|| drop(payload))) {
        std::mem::forget(again);
    }
}

/// Folds a message onto one line, for a response body and a log line.
fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::exporter::Exporter;
    use crate::server::Limits;

    #[test]
    fn landing_page_escapes_what_it_shows() {
        let mut e = Exporter::new("a<b", "x & \"y\"");
        e.set_metrics_path("/m'&").unwrap();
        let page = String::from_utf8(e.into_app().landing_page).unwrap();
        assert!(page.contains("<h1>a&lt;b</h1>"), "{page}");
        assert!(page.contains("<p>x &amp; &quot;y&quot;</p>"), "{page}");
        assert!(page.contains("href=\"./m&#39;&amp;\""), "{page}");
    }

    #[test]
    #[cfg(feature = "process-stats")]
    fn process_stats_are_registered_with_client_golang_names() {
        let mut e = Exporter::new("x", "");
        e.enable_process_stats().unwrap();
        let mut e = e.into_app();
        let body = e
            .collect(&e.scrape(Format::Text, None, Instant::now()), 0)
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        for name in [
            "process_cpu_seconds_total ",
            "process_open_fds ",
            "process_max_fds ",
            "process_virtual_memory_bytes ",
            "process_virtual_memory_max_bytes ",
            "process_resident_memory_bytes ",
            "process_start_time_seconds ",
        ] {
            assert!(
                text.contains(&format!("\n{name}")),
                "{name} missing:\n{text}"
            );
        }
        assert!(
            !text.contains("process_resident_memory_bytes 0\n"),
            "{text}"
        );
    }

    #[test]
    fn handler_errors_and_panics_become_one_line_reasons() {
        let mut e = Exporter::new("x", "").into_app();
        let scrape = e.scrape(Format::Text, None, Instant::now());
        e.handler = Some(Box::new(|_, _| Err("bad\nthing".into())));
        assert_eq!(
            e.collect(&scrape, 0).unwrap_err(),
            ScrapeFailure::Failed("metric update handler failed: bad thing".into())
        );
        e.handler = Some(Box::new(|_, _| panic!("boom")));
        assert_eq!(
            e.collect(&scrape, 0).unwrap_err(),
            ScrapeFailure::Failed("metric update handler panicked".into())
        );
        e.handler = Some(Box::new(|_, _| Ok(())));
        assert!(e.collect(&scrape, 0).is_ok());
    }

    #[test]
    fn scrapes_at_the_limit_of_responses_in_flight_are_busy_without_running_the_handler() {
        let mut e = Exporter::new("x", "");
        e.set_limits(Limits {
            max_scrapes_in_flight: 2,
            ..Limits::default()
        });
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        e.set_metric_update_handler(move |_| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        });
        let mut e = e.into_app();
        let scrape = e.scrape(Format::Text, None, Instant::now());
        assert!(e.collect(&scrape, 0).is_ok());
        assert!(e.collect(&scrape, 1).is_ok());
        for _ in 0..3 {
            assert_eq!(e.collect(&scrape, 2).unwrap_err(), ScrapeFailure::Busy);
        }
        assert_eq!(e.collect(&scrape, 7).unwrap_err(), ScrapeFailure::Busy);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
        // The first refusal was logged at once; the three after it wait for the next line.
        assert_eq!(e.busy_refused, 3);
        assert!(e.collect(&scrape, 1).is_ok());
        assert_eq!(
            e.busy_refused, 0,
            "the burst's count is logged when scrapes resume"
        );
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
        e.max_scrapes_in_flight = 0;
        assert!(e.collect(&scrape, 1000).is_ok(), "0 is no limit");
    }

    /// Bodies being sent are reused only once free: a scrape never writes into one that a
    /// connection still sends, plain or compressed.
    #[test]
    fn bodies_in_flight_are_not_reused() {
        let mut e = Exporter::new("x", "");
        e.registry_mut()
            .create_metrics([crate::registry::MetricConfig::new("g", "G.", "gauge")])
            .unwrap();
        let mut e = e.into_app();
        let scrape = e.scrape(Format::Text, None, Instant::now());
        let first = e.collect(&scrape, 0).unwrap();
        let second = e.collect(&scrape, 0).unwrap();
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(first, second);
        #[cfg(feature = "gzip")]
        {
            let compressed = e.compress(&first).unwrap();
            let again = e.compress(&second).unwrap();
            assert!(!Arc::ptr_eq(&compressed, &again));
            assert_eq!(compressed, again);
        }
        let address = Arc::as_ptr(&first);
        drop(first);
        let third = e.collect(&scrape, 0).unwrap();
        assert_eq!(Arc::as_ptr(&third), address, "a free body is reused");
    }

    #[test]
    fn scrape_deadlines_take_the_offset_and_the_cap() {
        let mut e = Exporter::new("x", "").into_app();
        let before = Instant::now();
        let s = e.scrape(Format::Text, Some(b"10"), before);
        assert_eq!(s.deadline(), Some(before + Duration::from_millis(9500)));
        assert_eq!(
            e.scrape(Format::Text, None, Instant::now()).deadline(),
            None
        );
        e.max_scrape_timeout = Some(Duration::from_secs(2));
        e.scrape_timeout_offset = Duration::ZERO;
        let s = e.scrape(Format::OpenMetrics, Some(b"10"), before);
        assert_eq!(s.deadline(), Some(before + Duration::from_secs(2)));
        assert_eq!(s.format(), Format::OpenMetrics);
        assert!(e
            .scrape(Format::Text, None, Instant::now())
            .deadline()
            .is_some());
    }
}
