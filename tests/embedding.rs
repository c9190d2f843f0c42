//! The three ways into the crate without the script, over real sockets and real files: an
//! exporter on a background thread, an exporter in the caller's own mio loop, and a textfile.

mod support;

use std::io::Read;
use std::net::TcpStream;
use std::time::Duration;

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use prometheus_aioexporter::{Exporter, MetricConfig, Registry};
use support::http::get;

#[test]
fn spawned_exporter_serves_while_other_threads_update_metrics() {
    let mut exporter = Exporter::new("spawned", "On a thread of its own.");
    exporter.set_hosts(["127.0.0.1"]).set_port(0);
    let metrics = exporter
        .registry_mut()
        .create_metrics([MetricConfig::new("jobs", "Jobs.", "counter").labels(["kind"])])
        .unwrap();
    let running = exporter.spawn().unwrap();
    let addr = running.local_addrs()[0];
    assert_ne!(addr.port(), 0, "port 0 gives a real port");

    let jobs = metrics.counter_family("jobs").unwrap();
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let jobs = jobs.clone();
            std::thread::spawn(move || {
                let kind = if i % 2 == 0 { "even" } else { "odd" };
                for _ in 0..1000 {
                    jobs.labels(&[kind]).unwrap().inc();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let response = get(addr, "/metrics");
    assert_eq!(response.status, 200);
    let body = response.text();
    assert!(body.contains("jobs_total{kind=\"even\"} 2000\n"), "{body}");
    assert!(body.contains("jobs_total{kind=\"odd\"} 2000\n"), "{body}");

    let exporter = running.shutdown().unwrap();
    assert_eq!(exporter.metrics().len(), 1, "the exporter comes back");
    assert!(
        TcpStream::connect(addr).is_err(),
        "nothing listens after shutdown"
    );
}

#[test]
fn spawned_exporter_stops_through_a_handle_from_another_thread() {
    let mut exporter = Exporter::new("spawned", "");
    exporter.set_hosts(["127.0.0.1"]).set_port(0);
    let running = exporter.spawn().unwrap();
    let handle = running.shutdown_handle();
    std::thread::spawn(move || handle.shutdown())
        .join()
        .unwrap();
    running.join().unwrap();
}

#[test]
fn exporter_in_the_callers_mio_loop_serves_beside_the_callers_own_sockets() {
    let mut poll = Poll::new().unwrap();
    let mut exporter = Exporter::new("own-loop", "In the caller's loop.");
    exporter.set_hosts(["127.0.0.1"]).set_port(0);
    let metrics = exporter
        .registry_mut()
        .create_metrics([MetricConfig::new("pings", "Pings.", "counter")])
        .unwrap();
    let tokens = 100..10_000;
    let mut server = exporter.bind_in(poll.registry(), tokens.clone()).unwrap();
    let metrics_addr = server.local_addrs()[0];
    let handle = server.shutdown_handle();

    // The caller's own socket, under a token outside the exporter's range.
    let mut own = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let own_addr = own.local_addr().unwrap();
    poll.registry()
        .register(&mut own, Token(7), Interest::READABLE)
        .unwrap();

    let pings = metrics.counter("pings").unwrap();
    let thread_id = std::thread::current().id();
    let loop_thread = std::thread::spawn(move || {
        let mut events = Events::with_capacity(64);
        let mut own_accepted = 0;
        let mut foreign_tokens = 0;
        while !server.is_shut_down() {
            poll.poll(&mut events, server.timeout()).unwrap();
            for event in events.iter() {
                if server.owns(event.token()) {
                    assert!(tokens.contains(&event.token().0));
                    server.handle_event(event, &mut exporter);
                } else {
                    foreign_tokens += 1;
                    assert_eq!(event.token(), Token(7));
                    while let Ok((mut stream, _)) = own.accept() {
                        own_accepted += 1;
                        pings.inc();
                        let _ = std::io::Write::write_all(&mut stream, b"pong\n");
                    }
                }
            }
            server.tick(&mut exporter);
        }
        (own_accepted, foreign_tokens)
    });
    assert_ne!(thread_id, loop_thread.thread().id());

    let mut reply = String::new();
    let mut own_client = TcpStream::connect(own_addr).unwrap();
    own_client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    own_client.read_to_string(&mut reply).unwrap();
    assert_eq!(reply, "pong\n");

    let response = get(metrics_addr, "/metrics");
    assert_eq!(response.status, 200);
    let body = response.text();
    assert!(body.contains("pings_total 1\n"), "{body}");
    assert_eq!(get(metrics_addr, "/").status, 200);

    handle.shutdown();
    let (own_accepted, foreign_tokens) = loop_thread.join().unwrap();
    assert_eq!(own_accepted, 1);
    assert!(foreign_tokens >= 1);
}

#[test]
fn a_token_range_too_small_is_refused() {
    let poll = Poll::new().unwrap();
    let mut exporter = Exporter::new("own-loop", "");
    exporter.set_hosts(["127.0.0.1"]).set_port(0);
    let err = exporter.bind_in(poll.registry(), 10..20).unwrap_err();
    assert!(err.to_string().contains("too small"), "{err}");
}

#[test]
fn textfile_is_written_for_node_exporter() {
    let dir = std::env::temp_dir().join(format!("embedding-textfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("job.prom");
    let mut registry = Registry::new();
    let metrics = registry
        .create_metrics([
            MetricConfig::new("rows", "Rows \"copied\".", "counter").labels(["table"]),
            MetricConfig::new("last_run_seconds", "Last run.", "gauge"),
        ])
        .unwrap();
    metrics
        .counter_family("rows")
        .unwrap()
        .labels(&["a\\b"])
        .unwrap()
        .inc_by(3.0)
        .unwrap();
    metrics.gauge("last_run_seconds").unwrap().set(1.5e9);
    registry.write_textfile(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        "# HELP last_run_seconds Last run.\n# TYPE last_run_seconds gauge\nlast_run_seconds 1500000000\n\
         # HELP rows_total Rows \"copied\".\n# TYPE rows_total counter\nrows_total{table=\"a\\\\b\"} 3\n"
    );
    // Rewriting replaces the file; nothing else is left in the directory.
    metrics.gauge("last_run_seconds").unwrap().set(2.0);
    registry.write_textfile(&path).unwrap();
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("last_run_seconds 2\n"));
    let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(entries.len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}
