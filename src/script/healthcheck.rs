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

/// How long the whole check may take: connecting, asking and reading the status line.
pub(super) const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Where an exporter listening on `host` and `port` answers: the first address `host` resolves
/// to, with `0.0.0.0` asked on `127.0.0.1` and `::` on `::1` (an empty host, every interface,
/// is `0.0.0.0` first).
pub(super) fn target(host: &str, port: u16) -> io::Result<SocketAddr> {
    let addrs = resolve_listen_addrs(&[host.to_owned()], port)?;
    let Some(&first) = addrs.first() else {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("'{host}' has no address"),
        ));
    };
    let ip = match first.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    Ok(SocketAddr::new(ip, first.port()))
}

/// Asks `GET /-/healthy` of `addr`; `Ok` with the status line if it is a 200 that came within
/// `timeout`, else the reason.
pub(super) fn check(addr: SocketAddr, timeout: Duration) -> Result<String, String> {
    let deadline = Instant::now() + timeout;
    let url = format!("http://{}{HEALTH_PATH}", Addr(addr));
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("{url}: no answer within {} s", timeout.as_secs()))
    };
    let failed = |err: io::Error| match err.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            format!("{url}: no answer within {} s", timeout.as_secs())
        }
        _ => format!("{url}: {err}"),
    };
    let mut stream = TcpStream::connect_timeout(&addr, left()?).map_err(failed)?;
    let request = format!(
        "GET {HEALTH_PATH} HTTP/1.1\r\nHost: {}\r\nUser-Agent: healthcheck\r\nConnection: close\r\n\r\n",
        Addr(addr)
    );
    stream.set_write_timeout(Some(left()?)).map_err(failed)?;
    stream.write_all(request.as_bytes()).map_err(failed)?;
    let mut head = Vec::with_capacity(64);
    let mut chunk = [0u8; 256];
    let line_end = loop {
        if let Some(end) = head.iter().position(|&b| b == b'\n') {
            break end;
        }
        if head.len() > 1024 {
            return Err(format!("{url}: no status line in the first 1024 bytes"));
        }
        stream.set_read_timeout(Some(left()?)).map_err(failed)?;
        let n = stream.read(&mut chunk).map_err(failed)?;
        if n == 0 {
            return Err(format!("{url}: connection closed without an answer"));
        }
        head.extend_from_slice(chunk.get(..n).unwrap_or_default());
    };
    let line = head.get(..line_end).unwrap_or_default();
    let healthy = line.starts_with(b"HTTP/1.1 200 ") || line.starts_with(b"HTTP/1.0 200 ");
    let line = String::from_utf8_lossy(line);
    let line = format!("{url}: {}", line.trim_end());
    if healthy {
        Ok(line)
    } else {
        Err(line)
    }
}
