//! `--healthcheck`: the exporter's binary as a client of itself, for a container's
//! `HEALTHCHECK` in a `FROM scratch` image, which has no `curl`.
//!
//! It asks `GET /-/healthy` of the first configured host (a wildcard as its loopback address)
//! on the configured port, and succeeds on a `200` within [`HEALTHCHECK_TIMEOUT`].

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::exporter::HEALTH_PATH;
use crate::log::Addr;
use crate::server::resolve_listen_addrs;

/// How long the whole check may take: connecting, asking and reading the status line (the
/// messages say 2 s).
pub(super) const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Where an exporter listening on `host` and `port` answers: the first address `host` resolves
/// to, with `0.0.0.0` asked on `127.0.0.1` and `::` on `::1` (an empty host, every interface,
/// is `0.0.0.0` first).
pub(super) fn target(host: &str, port: u16) -> io::Result<SocketAddr> {
    let addrs = resolve_listen_addrs(&[host.to_owned()], port)?;
    let Some(&first) = addrs.first() else {
        return Err(io::Error::from(io::ErrorKind::NotFound));
    };
    let ip = match first.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    Ok(SocketAddr::new(ip, first.port()))
}

/// How the check speaks to the exporter: plain HTTP, or TLS with this client (`tls` feature).
#[cfg(feature = "tls")]
pub(super) type Tls = Option<std::sync::Arc<rustls::ClientConfig>>;
#[cfg(not(feature = "tls"))]
pub(super) type Tls = Option<std::convert::Infallible>;

/// Asks `GET /-/healthy` of `addr`; `Ok` if a 200 came within `timeout`, else the reason. In
/// both cases the text starts with the URL asked.
pub(super) fn check(addr: SocketAddr, timeout: Duration, tls: Tls) -> Result<String, String> {
    let scheme = if tls.is_some() { "https://" } else { "http://" };
    let url = [scheme, &Addr(addr).to_string(), HEALTH_PATH].concat();
    match ask(addr, timeout, tls) {
        Ok(Some(line))
            if line.starts_with("HTTP/1.1 200 ") || line.starts_with("HTTP/1.0 200 ") =>
        {
            Ok([&url, ": ", &line].concat())
        }
        Ok(Some(line)) => Err([&url, ": ", &line].concat()),
        Ok(None) => Err([&url, ": closed without an answer"].concat()),
        Err(err)
            if matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Err([&url, ": no answer within 2 s"].concat())
        }
        Err(err) => Err([&url, ": ", &err.to_string()].concat()),
    }
}

/// The status line `addr` answers with, if any, within `timeout`.
fn ask(addr: SocketAddr, timeout: Duration, tls: Tls) -> io::Result<Option<String>> {
    let deadline = Instant::now() + timeout;
    let left = || {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(io::Error::from(io::ErrorKind::TimedOut))
        } else {
            Ok(left)
        }
    };
    let stream = TcpStream::connect_timeout(&addr, left()?)?;
    stream.set_write_timeout(Some(left()?))?;
    match tls {
        None => exchange(stream, |s| s, left),
        #[cfg(feature = "tls")]
        Some(config) => {
            let name = rustls_pki_types::ServerName::try_from("localhost")
                .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))?;
            let conn = rustls::ClientConnection::new(config, name)
                .map_err(|err| io::Error::new(io::ErrorKind::Other, err))?;
            exchange(rustls::StreamOwned::new(conn, stream), |s| &s.sock, left)
        }
        #[cfg(not(feature = "tls"))]
        Some(never) => match never {},
    }
}

/// Sends the request on `stream` and reads the status line, each read within what `left`
/// says of the time; `tcp` is the socket under the stream.
fn exchange<S: Read + Write>(
    mut stream: S,
    tcp: impl Fn(&S) -> &TcpStream,
    left: impl Fn() -> io::Result<Duration>,
) -> io::Result<Option<String>> {
    stream.write_all(
        [
            "GET ",
            HEALTH_PATH,
            " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        ]
        .concat()
        .as_bytes(),
    )?;
    let mut head = Vec::with_capacity(256);
    let mut chunk = [0u8; 256];
    while !head.contains(&b'\n') && head.len() <= 1024 {
        tcp(&stream).set_read_timeout(Some(left()?))?;
        match stream.read(&mut chunk)? {
            0 => break,
            n => head.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
    let Some(end) = head.iter().position(|&b| b == b'\n') else {
        return Ok(None);
    };
    let line = head.get(..end).unwrap_or_default();
    Ok(Some(String::from_utf8_lossy(line).trim_end().to_owned()))
}
