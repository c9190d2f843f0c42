//! Listen addresses: hosts resolved to socket addresses, and the listeners bound on them.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use mio::net::TcpListener;

use super::listener;
use crate::log::{log_warning, Addr};

/// How many times [`bind_listeners`] tries to give every address the same free port.
const SHARED_PORT_ATTEMPTS: usize = 8;

/// Binds every address. Port 0 means one free port, the same on every address that asks for
/// it: the port the kernel picks for the first is asked for on the others, so `localhost` with
/// port 0 listens on one port on `127.0.0.1` and `::1`. If that port is taken on a later
/// address, all are closed and bound again. Should that keep failing (addresses that overlap,
/// such as `127.0.0.1` and `0.0.0.0`), the last attempt lets each address take its own port.
pub(super) fn bind_listeners(addrs: &[SocketAddr]) -> io::Result<Vec<(TcpListener, SocketAddr)>> {
    let mut attempt = 0;
    'attempt: loop {
        attempt += 1;
        let share = attempt < SHARED_PORT_ATTEMPTS;
        let mut bound: Vec<(TcpListener, SocketAddr)> = Vec::with_capacity(addrs.len());
        let mut chosen_port = None;
        for &addr in addrs {
            let mut asked = addr;
            if let (0, Some(port), true) = (addr.port(), chosen_port, share) {
                asked.set_port(port);
            }
            let listener = match listener::bind(asked) {
                Ok(listener) => listener,
                Err(err) if asked != addr && err.kind() == io::ErrorKind::AddrInUse => {
                    continue 'attempt;
                }
                Err(err) => {
                    // `0.0.0.0` and `127.0.0.1` on one port: the clash is our own.
                    let covered_by = bound.iter().map(|(_, local)| *local).find(|local| {
                        local.port() == asked.port()
                            && local.is_ipv4() == asked.is_ipv4()
                            && (local.ip().is_unspecified() || asked.ip().is_unspecified())
                    });
                    let why = match covered_by {
                        Some(other) if err.kind() == io::ErrorKind::AddrInUse => {
                            format!("it overlaps {}, listened on already", Addr(other))
                        }
                        _ => err.to_string(),
                    };
                    return Err(io::Error::new(
                        err.kind(),
                        format!("cannot listen on {}: {why}", Addr(asked)),
                    ));
                }
            };
            let local = listener.local_addr()?;
            if addr.port() == 0 {
                chosen_port.get_or_insert(local.port());
            }
            bound.push((listener, local));
        }
        return Ok(bound);
    }
}

/// The socket addresses to listen on for `hosts` and `port`.
///
/// `localhost` means the loopback addresses, `127.0.0.1` and `::1`, without asking a resolver,
/// so it works in a `FROM scratch` image with no `/etc/hosts`. IP literals (IPv6 with or
/// without brackets) are used as they are; an empty host means every interface, `0.0.0.0` and
/// `::` (as in Python's asyncio). Other names are resolved by the system. Duplicates are
/// dropped.
///
/// # Errors
/// A name that does not resolve, with the name in the message.
pub(crate) fn resolve_listen_addrs(hosts: &[String], port: u16) -> io::Result<Vec<SocketAddr>> {
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for host in hosts {
        let host = host.trim();
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let found: Vec<SocketAddr> = if bare.is_empty() {
            vec![
                SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
            ]
        } else if bare.eq_ignore_ascii_case("localhost") || bare.eq_ignore_ascii_case("localhost.")
        {
            vec![
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
            ]
        } else if let Ok(ip) = bare.parse::<IpAddr>() {
            // An IPv4-mapped address (`::ffff:127.0.0.1`) is its IPv4 address: an IPv6-only
            // listener cannot bind it.
            let ip = match ip {
                IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
                v4 => v4,
            };
            vec![SocketAddr::new(ip, port)]
        } else {
            (bare, port)
                .to_socket_addrs()
                .map_err(|err| {
                    io::Error::new(err.kind(), format!("cannot resolve host '{host}': {err}"))
                })?
                .collect()
        };
        for addr in found {
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
    }
    Ok(addrs)
}

/// The addresses of `addrs` this host can listen on: an IPv6 address is dropped with a warning
/// when the host has IPv6 disabled, as long as another address remains (so `localhost` works
/// on IPv4-only hosts).
///
/// # Errors
/// `InvalidInput` if no address remains.
pub(crate) fn usable_addrs(addrs: &[SocketAddr]) -> io::Result<Vec<SocketAddr>> {
    let mut usable = Vec::with_capacity(addrs.len());
    for &addr in addrs {
        if addr.is_ipv6() && addrs.len() > 1 {
            // Probe: does this host do IPv6 at all?
            match std::net::TcpListener::bind(SocketAddr::new(addr.ip(), 0)) {
                Err(err)
                    if matches!(
                        err.raw_os_error(),
                        Some(libc::EADDRNOTAVAIL | libc::EAFNOSUPPORT)
                    ) =>
                {
                    log_warning!("skipping {}: {err}", Addr(addr));
                    continue;
                }
                _ => {}
            }
        }
        usable.push(addr);
    }
    if usable.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no address to listen on",
        ));
    }
    Ok(usable)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn localhost_needs_no_resolver() {
        let addrs = resolve_listen_addrs(&["localhost".into()], 9090).unwrap();
        assert_eq!(
            addrs,
            vec![
                "127.0.0.1:9090".parse().unwrap(),
                "[::1]:9090".parse().unwrap()
            ]
        );
    }

    #[test]
    fn literals_brackets_and_duplicates() {
        let hosts: Vec<String> = ["127.0.0.1", "[::1]", "::1", "", "::ffff:127.0.0.1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let addrs = resolve_listen_addrs(&hosts, 80).unwrap();
        assert_eq!(
            addrs,
            vec![
                "127.0.0.1:80".parse().unwrap(),
                "[::1]:80".parse().unwrap(),
                "0.0.0.0:80".parse().unwrap(),
                "[::]:80".parse().unwrap(),
            ]
        );
    }

    fn ports(bound: &[(TcpListener, SocketAddr)]) -> Vec<u16> {
        bound.iter().map(|(_, local)| local.port()).collect()
    }

    #[test]
    fn port_0_is_one_free_port_on_every_address() {
        let addrs: Vec<SocketAddr> = ["127.0.0.1:0", "127.0.0.2:0", "127.0.0.3:0"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        let bound = bind_listeners(&addrs).unwrap();
        let ports = ports(&bound);
        assert_ne!(ports[0], 0);
        assert_eq!(ports, [ports[0]; 3]);
        // Every listener accepts on that port.
        for (_, local) in &bound {
            std::net::TcpStream::connect(local).unwrap();
        }
    }

    #[test]
    fn port_0_on_overlapping_addresses_falls_back_to_a_port_each() {
        // 0.0.0.0 cannot take a port 127.0.0.1 listens on, whatever the attempt.
        let addrs: Vec<SocketAddr> = ["127.0.0.1:0", "0.0.0.0:0"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        let bound = bind_listeners(&addrs).unwrap();
        let ports = ports(&bound);
        assert!(
            ports[0] != 0 && ports[1] != 0 && ports[0] != ports[1],
            "{ports:?}"
        );
    }

    #[test]
    fn overlapping_addresses_on_a_fixed_port_say_so() {
        // A port free now; another process may take it before us, so a few tries.
        for _ in 0..5 {
            let free = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
            let port = free.local_addr().unwrap().port();
            drop(free);
            let addrs: Vec<SocketAddr> = [format!("0.0.0.0:{port}"), format!("127.0.0.1:{port}")]
                .iter()
                .map(|a| a.parse().unwrap())
                .collect();
            let err = bind_listeners(&addrs).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
            if err.to_string().contains(&format!("0.0.0.0:{port}:")) {
                continue; // taken by someone else meanwhile
            }
            let want = format!("127.0.0.1:{port}: it overlaps 0.0.0.0:{port}");
            assert!(err.to_string().contains(&want), "{err}");
            return;
        }
        panic!("no free port in 5 tries");
    }

    #[test]
    fn a_fixed_port_in_use_is_an_error_naming_the_address() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let err = bind_listeners(&["127.0.0.2:0".parse().unwrap(), addr]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    }

    #[test]
    fn unresolvable_names_are_errors_naming_the_host() {
        let err = resolve_listen_addrs(&["no-such-host.invalid".into()], 80).unwrap_err();
        assert!(err.to_string().contains("'no-such-host.invalid'"), "{err}");
    }
}
