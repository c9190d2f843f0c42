//! The `load serve` exporter (examples/load.rs) written with `prometheus-client` and hyper 1 on
//! a current-thread tokio runtime, as its docs suggest: a `Registry` with a counter family and a
//! gauge family of N children each, labelled `instance="host-{i}"`, `path="/api/v{i%10}"`, plus
//! one histogram with the default buckets. Before every scrape of `/metrics` every counter is
//! incremented and every gauge set (on handles fetched at startup), then the registry is
//! encoded into a fresh `String`. HTTP/1.1 with keep-alive, on 127.0.0.1.
//!
//! ```text
//! peer-prometheus-client --series 10 --port 9102
//! ```

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus_client::encoding::{text::encode, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Labels {
    instance: String,
    path: String,
}

struct State {
    registry: Registry,
    handles: Vec<(Counter<f64, AtomicU64>, Gauge<f64, AtomicU64>)>,
    rng: AtomicU64,
}

impl State {
    fn new(series: usize) -> State {
        let mut registry = Registry::default();
        let counters = Family::<Labels, Counter<f64, AtomicU64>>::default();
        let gauges = Family::<Labels, Gauge<f64, AtomicU64>>::default();
        let buckets = [
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let histogram = Histogram::new(buckets);
        // prometheus-client ends each help text with a period: the same text as `load serve`'s.
        registry.register("bench_requests", "Requests served", counters.clone());
        registry.register("bench_temperature", "A temperature", gauges.clone());
        registry.register(
            "bench_latency_seconds",
            "Request latency",
            histogram.clone(),
        );
        let handles = (0..series)
            .map(|i| {
                let labels = Labels {
                    instance: format!("host-{i}"),
                    path: format!("/api/v{}", i % 10),
                };
                // A child is an `Arc` inside: the clone updates the family's series.
                let counter = counters.get_or_create(&labels).clone();
                let gauge = gauges.get_or_create(&labels).clone();
                counter.inc_by((i * 7) as f64);
                gauge.set(i as f64 * 0.25 + 0.5);
                (counter, gauge)
            })
            .collect();
        for v in [0.003, 0.02, 0.2, 0.7, 3.0, 12.0] {
            histogram.observe(v);
        }
        State {
            registry,
            handles,
            rng: AtomicU64::new(0x9E37_79B9_7F4A_7C15),
        }
    }

    /// What `load serve`'s update handler does before each scrape.
    fn update(&self) {
        let mut state = self.rng.load(Ordering::Relaxed);
        for (counter, gauge) in &self.handles {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            counter.inc();
            gauge.set((state % 400) as f64 * 0.25);
        }
        self.rng.store(state, Ordering::Relaxed);
    }
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() != "/metrics" {
        let mut response = Response::new(Full::new(Bytes::from_static(b"Not Found\n")));
        *response.status_mut() = StatusCode::NOT_FOUND;
        return Ok(response);
    }
    state.update();
    let mut body = String::new();
    encode(&mut body, &state.registry).expect("encoding into a String");
    let mut response = Response::new(Full::new(Bytes::from(body)));
    response.headers_mut().insert(
        CONTENT_TYPE,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
            .parse()
            .unwrap(),
    );
    Ok(response)
}

fn parse_args() -> Result<(usize, u16), String> {
    let (mut series, mut port) = (10, 9102);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--series" => series = value.parse().map_err(|e| format!("{arg}: {e}"))?,
            "--port" => port = value.parse().map_err(|e| format!("{arg}: {e}"))?,
            _ => {
                return Err(format!(
                    "unknown argument {arg}; usage: --series N --port P"
                ))
            }
        }
    }
    Ok((series, port))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (series, port) = parse_args()?;
    let state = Arc::new(State::new(series));
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    eprintln!("peer-prometheus-client: {series} labelled series per family, port {port}");
    loop {
        let (stream, _) = listener.accept().await?;
        // As `load serve` and nginx (`tcp_nodelay on`) do.
        stream.set_nodelay(true)?;
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(req, state.clone()));
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("connection error: {e}");
            }
        });
    }
}
