//! `--healthcheck`: the exporter's binary as a client of itself, for a container's
//! `HEALTHCHECK` in a `FROM scratch` image, which has no `curl`.
//!
//! It asks `GET /-/healthy` of the first configured host (a wildcard as its loopback address)
//! on the configured port, and succeeds on a `200` within [`HEALTHCHECK_TIMEOUT`]; with basic
//! auth on, also on a `401` that asks for Basic credentials (the server answered; the check
//! has no password to send, as the htpasswd file holds only hashes).

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

/// Asks `GET /-/healthy` of `addr`; `Ok` if a 200 (or, with `basic_auth_on`, a 401 asking
/// for Basic credentials) came within `timeout`, else the reason. In both cases the text starts
/// with the URL asked.
pub(super) fn check(
    addr: SocketAddr,
    timeout: Duration,
    tls: Tls,
    basic_auth_on: bool,
) -> Result<String, String> {
    let scheme = if tls.is_some() { "https://" } else { "http://" };
    let url = [scheme, &Addr(addr).to_string(), HEALTH_PATH].concat();
    match ask(addr, timeout, tls) {
        Ok(Some(answer)) if answer.status == 200 => Ok([&url, ": ", &answer.line].concat()),
        Ok(Some(answer)) if basic_auth_on && answer.status == 401 && answer.asks_basic => Ok([
            &url,
            ": ",
            &answer.line,
            " (basic auth on: the server answers)",
        ]
        .concat()),
        Ok(Some(answer)) => Err([&url, ": ", &answer.line].concat()),
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

/// What the check read of an answer.
struct Answer {
    /// The status line.
    line: String,
    /// Its code, 0 if it is not `HTTP/1.x NNN …`.
    status: u16,
    /// `true` if a `WWW-Authenticate` header of the head read asks for Basic credentials.
    asks_basic: bool,
}

/// The answer `addr` gives, if any, within `timeout`.
fn ask(addr: SocketAddr, timeout: Duration, tls: Tls) -> io::Result<Option<Answer>> {
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

/// Sends the request on `stream` and reads the head (its first 2 KiB), each read within what
/// `left` says of the time; `tcp` is the socket under the stream.
fn exchange<S: Read + Write>(
    mut stream: S,
    tcp: impl Fn(&S) -> &TcpStream,
    left: impl Fn() -> io::Result<Duration>,
) -> io::Result<Option<Answer>> {
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
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() <= 2048 {
        tcp(&stream).set_read_timeout(Some(left()?))?;
        match stream.read(&mut chunk)? {
            0 => break,
            n => head.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
    let Some(end) = head.iter().position(|&b| b == b'\n') else {
        return Ok(None);
    };
    let line = String::from_utf8_lossy(head.get(..end).unwrap_or_default())
        .trim_end()
        .to_owned();
    let status = line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| line.strip_prefix("HTTP/1.0 "))
        .and_then(|rest| rest.get(..3))
        .filter(|code| code.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    // Only basic auth needs the headers' content.
    let asks_basic = cfg!(feature = "basic-auth")
        && String::from_utf8_lossy(&head).lines().any(|field| {
            let field = field.to_ascii_lowercase();
            field.starts_with("www-authenticate:") && field.contains("basic")
        });
    Ok(Some(Answer {
        line,
        status,
        asks_basic,
    }))
}
