//! The exporter inside a program whose main loop is already mio: it registers its sockets in
//! the program's `Poll` under a token range the program chooses, and no thread is created.
//! The program serves its own protocol (here: a line echo service) and metrics side by side.
//!
//! ```text
//! cargo run --example own_loop -- 127.0.0.1:9100 127.0.0.1:7000
//! curl 127.0.0.1:9100/metrics        # metrics
//! nc 127.0.0.1 7000                  # the program's own service: echoes lines
//! ```

use std::collections::HashMap;
use std::io::{self, Read, Write};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use prometheus_aioexporter::{Exporter, MetricConfig};

/// The program's own tokens: 0 for its listener, 1.. for its connections.
const ECHO_LISTENER: Token = Token(0);
/// The exporter gets tokens 1 000 000 and up.
const EXPORTER_TOKENS: std::ops::Range<usize> = 1_000_000..2_000_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let metrics_address: std::net::SocketAddr =
        args.next().as_deref().unwrap_or("127.0.0.1:9100").parse()?;
    let echo_address = args.next().as_deref().unwrap_or("127.0.0.1:7000").parse()?;

    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(256);

    let mut exporter = Exporter::new("own-loop-example", "A mio program with metrics.");
    exporter
        .set_hosts([metrics_address.ip().to_string()])
        .set_port(metrics_address.port());
    let metrics = exporter.registry_mut().create_metrics([
        MetricConfig::new("echo_lines", "Lines echoed.", "counter"),
        MetricConfig::new("echo_connections", "Open echo connections.", "gauge"),
    ])?;
    let (lines, open) = (
        metrics.counter("echo_lines")?,
        metrics.gauge("echo_connections")?,
    );
    let mut exporter = exporter.bind_in(poll.registry(), EXPORTER_TOKENS)?;
    eprintln!("metrics on http://{}/metrics", exporter.local_addrs()[0]);

    let mut echo = TcpListener::bind(echo_address)?;
    poll.registry()
        .register(&mut echo, ECHO_LISTENER, Interest::READABLE)?;
    eprintln!("echo service on {}", echo.local_addr()?);
    let mut clients: HashMap<Token, TcpStream> = HashMap::new();
    let mut next_client = 1;

    loop {
        // The exporter's timers bound the wait; the program could add its own.
        if let Err(err) = poll.poll(&mut events, exporter.timeout()) {
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err.into());
        }
        for event in events.iter() {
            if exporter.owns(event.token()) {
                exporter.handle_event(event);
                continue;
            }
            if event.token() == ECHO_LISTENER {
                while let Ok((mut stream, _)) = echo.accept() {
                    let token = Token(next_client);
                    next_client += 1;
                    poll.registry()
                        .register(&mut stream, token, Interest::READABLE)?;
                    clients.insert(token, stream);
                    open.inc();
                }
                continue;
            }
            let Some(stream) = clients.get_mut(&event.token()) else {
                continue;
            };
            let mut buf = [0u8; 4096];
            let closed = loop {
                match stream.read(&mut buf) {
                    Ok(0) => break true,
                    Ok(n) => {
                        lines.inc_by(buf[..n].iter().filter(|&&b| b == b'\n').count() as f64)?;
                        // A real service would buffer what the socket does not take.
                        let _ = stream.write_all(&buf[..n]);
                    }
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => break false,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break true,
                }
            };
            if closed {
                if let Some(mut stream) = clients.remove(&event.token()) {
                    poll.registry().deregister(&mut stream)?;
                    open.dec();
                }
            }
        }
        exporter.tick();
        if exporter.is_shut_down() {
            return Ok(());
        }
    }
}
