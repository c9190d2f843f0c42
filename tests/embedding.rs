//! The three ways into the crate without the script, over real sockets and real files: an
//! exporter on a background thread, an exporter in the caller's own mio loop, and a textfile.

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use prometheus_aioexporter::{Exporter, MetricConfig, Registry};

use crate::support;
use crate::support::http::get;

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
fn any_name_spawns() {
    let mut exporter = Exporter::new("with\0nul", "");
    exporter.set_hosts(["127.0.0.1"]).set_port(0);
    let running = exporter.spawn().unwrap();
    running.shutdown_handle().shutdown();
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
                    server.handle_event(event);
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
            server.tick();
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

/// A shutdown requested while the loop is busy (here: inside the update handler of one
/// scrape) is noticed before the next connection's turn, not after every request already
/// waiting has been rendered: with one large scrape per connection, that was seconds or more.
#[test]
fn a_shutdown_during_a_scrape_renders_none_of_the_requests_waiting_behind_it() {
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{mpsc, Arc};

    let mut exporter = Exporter::new("busy", "");
    exporter.set_hosts(["127.0.0.1"]).set_port(0);
    let scrapes = Arc::new(AtomicUsize::new(0));
    let (entered_tx, entered_rx) = mpsc::channel::<()>();
    let (handle_tx, handle_rx) = mpsc::channel::<prometheus_aioexporter::ShutdownHandle>();
    let counted = Arc::clone(&scrapes);
    exporter.set_metric_update_handler(move |_| {
        if counted.fetch_add(1, Ordering::SeqCst) == 0 {
            // Hold the loop in this scrape until every other request is waiting, then ask
            // for the shutdown from here, as a signal arriving mid-scrape would.
            let _ = entered_tx.send(());
            if let Ok(handle) = handle_rx.recv_timeout(Duration::from_secs(30)) {
                handle.shutdown();
            }
        }
        Ok(())
    });
    let running = exporter.spawn().unwrap();
    let addr = running.local_addrs()[0];
    let mut streams: Vec<TcpStream> = (0..20).map(|_| support::http::connect(addr)).collect();
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    streams[0].write_all(request.as_bytes()).unwrap();
    entered_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the first scrape starts");
    for stream in &mut streams[1..] {
        stream.write_all(request.as_bytes()).unwrap();
    }
    handle_tx.send(running.shutdown_handle()).unwrap();

    let first = support::http::read_response(&mut streams[0]);
    assert_eq!(first.status, 200, "the scrape in flight is finished");
    for (i, stream) in streams.iter_mut().enumerate().skip(1) {
        let mut rest = Vec::new();
        match stream.read_to_end(&mut rest) {
            Ok(_) => assert!(
                rest.is_empty(),
                "connection {i} got {:?}",
                String::from_utf8_lossy(&rest)
            ),
            Err(err) => assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}"),
        }
    }
    running.join().unwrap();
    assert_eq!(
        scrapes.load(Ordering::SeqCst),
        1,
        "requests waiting behind the shutdown were rendered"
    );
}

/// Scrapes count their deadline from the start of the loop's turn that answers them, not from
/// when the one thread got round to each: the second of two scrapes waiting at the start of a
/// turn, behind the first one's slow handler, has that much less time left, as its scraper has.
#[test]
fn scrapes_count_their_deadline_from_the_start_of_their_turn() {
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    /// How long the first scrape's handler holds the loop.
    const HOLD: Duration = Duration::from_millis(300);
    let request = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                   X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n";
    // Both requests are in the kernel's buffers before the loop starts, so (as a rule) one
    // turn answers both; a run where they fall in different turns shows nothing, and is tried
    // again.
    for _attempt in 0..5 {
        let mut poll = Poll::new().unwrap();
        let mut exporter = Exporter::new("queued", "Two scrapes in one turn.");
        exporter
            .set_hosts(["127.0.0.1"])
            .set_port(0)
            .set_scrape_timeout_offset(Duration::ZERO);
        // The loop's turn number and when its poll returned, and per scrape: its deadline,
        // its turn, and when its handler began.
        let turn = Arc::new(AtomicUsize::new(0));
        let scrapes = Arc::new(Mutex::new(Vec::new()));
        let (seen, turn_of_scrape) = (Arc::clone(&scrapes), Arc::clone(&turn));
        exporter.set_metric_update_handler_with_scrape(move |_, scrape| {
            let mut scrapes = seen.lock().unwrap();
            scrapes.push((
                scrape.deadline(),
                turn_of_scrape.load(Ordering::SeqCst),
                Instant::now(),
            ));
            if scrapes.len() == 1 {
                std::thread::sleep(HOLD);
            }
            Ok(())
        });
        let mut bound = exporter.bind_in(poll.registry(), 100..1_000).unwrap();
        let addr = bound.local_addrs()[0];
        let _clients: Vec<TcpStream> = (0..2)
            .map(|_| {
                let mut client = TcpStream::connect(addr).unwrap();
                client.write_all(request.as_bytes()).unwrap();
                client
            })
            .collect();

        let mut polled = Vec::new();
        let mut events = Events::with_capacity(64);
        while scrapes.lock().unwrap().len() < 2 && polled.len() < 100 {
            poll.poll(&mut events, Some(Duration::from_secs(5)))
                .unwrap();
            turn.store(polled.len(), Ordering::SeqCst);
            polled.push(Instant::now());
            for event in events.iter() {
                if bound.owns(event.token()) {
                    bound.handle_event(event);
                }
            }
            bound.tick();
        }
        let scrapes = scrapes.lock().unwrap();
        assert_eq!(scrapes.len(), 2, "both scrapes answered");
        for &(deadline, turn, began) in scrapes.iter() {
            let arrived =
                deadline.expect("the request announces a timeout") - Duration::from_secs(10);
            assert!(
                polled[turn] <= arrived && arrived <= began,
                "arrival is the start of the scrape's turn"
            );
        }
        let ((first, first_turn, _), (second, second_turn, second_began)) =
            (scrapes[0], scrapes[1]);
        if first_turn != second_turn {
            continue;
        }
        assert_eq!(first, second, "one turn, one arrival");
        let arrived = second.unwrap() - Duration::from_secs(10);
        assert!(
            second_began - arrived >= HOLD,
            "the second scrape's time waiting behind the first counts against its deadline"
        );
        return;
    }
    panic!("in 5 attempts, the two scrapes never shared a turn");
}
