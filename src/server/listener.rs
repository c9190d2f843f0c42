//! Listening sockets for the server's addresses, IPv6 ones made IPv6-only.
//!
//! An IPv6 socket on Linux is dual-stack by default (`net.ipv6.bindv6only = 0`): bound to `::`,
//! it also takes the IPv4 port on every interface, so `-H 0.0.0.0 -H ::` failed with "address
//! in use" and `-H 127.0.0.1 -H ::` exposed IPv4 on every interface. Python's asyncio, and so the
//! Python prometheus-aioexporter, sets `IPV6_V6ONLY` on every IPv6 listener; this module does
//! the same, so each address means what it says: `::` is IPv6 only, and `0.0.0.0` plus `::`
//! are both families.
//!
//! std and mio cannot set the option, which only works before `bind`, so the IPv6 socket is made
//! here with `libc`: this module and [`crate::signal`] are the only ones with `unsafe`, each
//! block with its `// SAFETY:` reason. IPv4 addresses are bound by mio as usual.
//!
//! Two more questions only the OS answers live here, both about room for connections: whether
//! a listener has a connection waiting (Linux's `accept` fails for want of a descriptor even
//! when none is), and the limit on open descriptors, which a daemon raises as Go's runtime does.
#![allow(unsafe_code)]

use std::io;
use std::mem::size_of;
use std::net::{SocketAddr, SocketAddrV6};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use mio::net::TcpListener;

/// The accept queue's length, as mio's own `TcpListener::bind` asks for.
const BACKLOG: libc::c_int = 1024;

/// A non-blocking listener on `addr`, with `SO_REUSEADDR` (as mio sets it) and, for IPv6,
/// `IPV6_V6ONLY`.
pub(crate) fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    match addr {
        SocketAddr::V4(_) => TcpListener::bind(addr),
        SocketAddr::V6(addr) => bind_v6_only(addr).map(TcpListener::from_std),
    }
}

fn bind_v6_only(addr: SocketAddrV6) -> io::Result<std::net::TcpListener> {
    let flags = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: `socket` takes no pointers; a negative result is an error, checked below.
    let fd = unsafe { libc::socket(libc::AF_INET6, flags, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a descriptor just returned by `socket`, owned by nothing else; the
    // `OwnedFd` closes it on every path from here.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    set_option(&fd, libc::SOL_SOCKET, libc::SO_REUSEADDR)?;
    set_option(&fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY)?;
    let sockaddr = libc::sockaddr_in6 {
        sin6_family: libc::AF_INET6 as libc::sa_family_t,
        sin6_port: addr.port().to_be(),
        sin6_flowinfo: addr.flowinfo(),
        sin6_addr: libc::in6_addr {
            s6_addr: addr.ip().octets(),
        },
        sin6_scope_id: addr.scope_id(),
    };
    // SAFETY: the pointer is to a live, initialised `sockaddr_in6`, and the length is its size.
    let bound = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sockaddr as *const libc::sockaddr_in6).cast::<libc::sockaddr>(),
            size_of::<libc::sockaddr_in6>() as libc::socklen_t,
        )
    };
    if bound != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `listen` takes no pointers; `fd` is a live socket.
    if unsafe { libc::listen(fd.as_raw_fd(), BACKLOG) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(std::net::TcpListener::from(fd))
}

/// Turns a boolean socket option on.
fn set_option(fd: &OwnedFd, level: libc::c_int, name: libc::c_int) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: the pointer is to a live `c_int`, and the length is its size; `fd` is a live
    // socket.
    let set = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&on as *const libc::c_int).cast::<libc::c_void>(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if set == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `true` if a connection is waiting in `listener`'s accept queue.
///
/// Linux's `accept` takes a descriptor before it looks at the queue, so with every descriptor
/// in use it fails with `EMFILE` even when nobody is waiting: the error alone is no reason to
/// close a connection to make room.
pub(crate) fn has_pending_connection(listener: &TcpListener) -> bool {
    is_readable(listener)
}

/// `true` if `socket` has input waiting (bytes, a connection to accept, or the end of the
/// stream), asked without reading it: a zero-timeout `poll`.
pub(crate) fn is_readable(socket: &impl AsRawFd) -> bool {
    let mut entry = libc::pollfd {
        fd: socket.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: the pointer is to one live, initialised `pollfd`, and the count says one; a zero
    // timeout returns at once.
    let ready = unsafe { libc::poll(&mut entry, 1, 0) };
    ready > 0 && entry.revents & libc::POLLIN != 0
}

/// Raises the soft limit on open descriptors (`ulimit -n`) to the hard limit, as Go's runtime
/// does when a program starts (since Go 1.19): the soft limit is often 1024 while the server may
/// hold [`crate::Limits::max_connections`] connections. Returns the soft limit now in force.
///
/// # Errors
/// The OS error of `getrlimit` or `setrlimit`.
#[cfg(feature = "script")]
pub(crate) fn raise_open_files_limit() -> io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: the pointer is to a live `rlimit`, which `getrlimit` fills.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: the pointer is to a live, initialised `rlimit`.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(io::Error::last_os_error());
        }
        limit = raised;
    }
    #[allow(clippy::unnecessary_cast)] // `rlim_t` is narrower on some 32-bit targets
    Ok(limit.rlim_cur as u64)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr, TcpStream};

    /// `true` when this host can bind IPv6 at all (a container may have it off).
    fn has_ipv6() -> bool {
        std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok()
    }

    /// Accepts the connection just made to the non-blocking `listener`, which a loaded
    /// machine may queue a moment after `connect` returned.
    fn accept_one(listener: &TcpListener, what: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match listener.accept() {
                Ok(_) => return,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    assert!(std::time::Instant::now() < deadline, "nothing on {what}");
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(err) => panic!("{what}: {err}"),
            }
        }
    }

    #[test]
    fn ipv6_wildcard_leaves_the_ipv4_port_free() {
        if !has_ipv6() {
            eprintln!("no IPv6 here: skipped");
            return;
        }
        // The port the kernel picks for `[::]` may be some other test's IPv4 port: try again.
        for _ in 0..20 {
            let v6 = bind((Ipv6Addr::UNSPECIFIED, 0).into()).unwrap();
            let port = v6.local_addr().unwrap().port();
            let v4 = match bind((Ipv4Addr::UNSPECIFIED, port).into()) {
                Ok(v4) => v4,
                Err(err) if err.kind() == io::ErrorKind::AddrInUse => continue,
                Err(err) => panic!("{err}"),
            };
            // A dual-stack `[::]` would have made that bind fail; each family reaches its own.
            let _to_v4 = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
            accept_one(&v4, "the IPv4 listener");
            assert_eq!(
                v6.accept().unwrap_err().kind(),
                io::ErrorKind::WouldBlock,
                "the IPv6 listener took an IPv4 connection"
            );
            let _to_v6 = TcpStream::connect((Ipv6Addr::LOCALHOST, port)).unwrap();
            accept_one(&v6, "the IPv6 listener");
            return;
        }
        panic!("no port free in both families after 20 tries");
    }

    #[test]
    fn ipv6_bind_errors_are_reported() {
        if !has_ipv6() {
            eprintln!("no IPv6 here: skipped");
            return;
        }
        let first = bind((Ipv6Addr::LOCALHOST, 0).into()).unwrap();
        let taken = first.local_addr().unwrap();
        let err = bind(taken).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
        // An address this host does not have.
        let err = bind("[2001:db8::1]:0".parse().unwrap()).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EADDRNOTAVAIL), "{err}");
    }
}
