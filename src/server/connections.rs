//! The connection slab: one slot per connection, found by its token, reused last.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Instant;

use mio::net::TcpStream;
use mio::Token;

use super::{later, Limits, EVICTION_GRACE, LINGER};
use crate::http::{Session, Wait};

pub(super) struct Connection {
    pub(super) stream: TcpStream,
    pub(super) session: Session,
    /// What the connection waited for when its deadline was set.
    pub(super) wait: Wait,
    /// When the connection is closed unless something happens first.
    pub(super) deadline: Instant,
    /// When `deadline` was set.
    pub(super) armed_at: Instant,
    /// The last time bytes moved, for choosing whom to evict when full.
    pub(super) last_active: Instant,
    /// When the connection was accepted.
    pub(super) accepted_at: Instant,
    /// A read from it has returned bytes or the end of the stream: its request, if any, is
    /// being dealt with. (A stale event of a token's previous connection does not count.)
    pub(super) driven: bool,
    /// The last time bytes were written.
    pub(super) last_write: Instant,
    /// `WRITABLE` is among the registered interests.
    pub(super) wants_writable: bool,
    /// An event said the peer closed its side or the socket failed: read on until the read
    /// says so, even after a short read (the one edge for both may already have come).
    pub(super) peer_closed: bool,
    /// The TLS state of a connection to a TLS listener.
    #[cfg(feature = "tls")]
    pub(super) tls: Option<Box<super::tls::TlsConnection>>,
}

/// The open connections, in slots: slot `i` holds the connection of token `first + i`, so a
/// token finds its connection by indexing. Slots are added only when none is free, so there
/// are never more than [`Limits::max_connections`]; a freed slot is reused after the others
/// (counting up and wrapping), which keeps a late event of a closed connection from reaching
/// its successor at once (and one that does only finds the socket would block).
pub(super) struct Connections {
    slots: Vec<Option<Connection>>,
    /// The token of slot 0.
    first: usize,
    /// Where the search for a free slot starts.
    next: usize,
    open: usize,
    /// Connections whose `wait` is [`Wait::Response`]: responses being sent, which
    /// [`Limits::max_scrapes_in_flight`] bounds.
    responding: usize,
}

impl Connections {
    pub(super) fn new(first: usize) -> Connections {
        Connections {
            slots: Vec::new(),
            first,
            next: 0,
            open: 0,
            responding: 0,
        }
    }

    /// How many connections are sending a response.
    pub(super) fn responding(&self) -> usize {
        self.responding
    }

    /// [`Connection::rearm`]s the connection of `token`, keeping count of those responding.
    pub(super) fn rearm(&mut self, token: Token, limits: &Limits) {
        let Some(conn) = self.get_mut(token) else {
            return;
        };
        let was = conn.wait == Wait::Response;
        conn.rearm(limits);
        let is = conn.wait == Wait::Response;
        self.responding = self.responding + usize::from(is) - usize::from(was);
    }

    pub(super) fn len(&self) -> usize {
        self.open
    }

    pub(super) fn is_empty(&self) -> bool {
        self.open == 0
    }

    pub(super) fn slot(&self, token: Token) -> Option<usize> {
        token.0.checked_sub(self.first)
    }

    pub(super) fn get(&self, token: Token) -> Option<&Connection> {
        self.slots.get(self.slot(token)?)?.as_ref()
    }

    pub(super) fn get_mut(&mut self, token: Token) -> Option<&mut Connection> {
        let slot = self.slot(token)?;
        self.slots.get_mut(slot)?.as_mut()
    }

    /// A token whose slot is free, adding a slot if none is and fewer than `max` exist.
    pub(super) fn free_token(&mut self, max: usize) -> Option<Token> {
        let count = self.slots.len();
        for i in 0..count {
            let slot = (self.next + i) % count;
            if self.slots.get(slot).is_some_and(Option::is_none) {
                self.next = slot + 1;
                return Some(Token(self.first + slot));
            }
        }
        if count < max {
            self.slots.push(None);
            self.next = count + 1;
            return Some(Token(self.first + count));
        }
        None
    }

    /// Puts `conn` in the free slot of `token`, from [`Connections::free_token`].
    pub(super) fn fill(&mut self, token: Token, conn: Connection) {
        let Some(slot) = self.slot(token).and_then(|s| self.slots.get_mut(s)) else {
            return;
        };
        if slot.replace(conn).is_none() {
            self.open += 1;
        }
    }

    pub(super) fn remove(&mut self, token: Token) -> Option<Connection> {
        let slot = self.slot(token)?;
        let conn = self.slots.get_mut(slot)?.take()?;
        self.open -= 1;
        self.responding -= usize::from(conn.wait == Wait::Response);
        Some(conn)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (Token, &Connection)> {
        let first = self.first;
        self.slots
            .iter()
            .enumerate()
            .filter_map(move |(i, c)| Some((Token(first + i), c.as_ref()?)))
    }

    pub(super) fn for_each_mut(&mut self, f: impl FnMut(&mut Connection)) {
        self.slots.iter_mut().flatten().for_each(f);
    }

    /// The tokens of the connections `keep` selects (no allocation when it selects none).
    pub(super) fn tokens_where(&self, mut keep: impl FnMut(&Connection) -> bool) -> Vec<Token> {
        self.iter()
            .filter(|(_, c)| keep(c))
            .map(|(t, _)| t)
            .collect()
    }
}

impl Connection {
    /// A connection may make room for another once the loop has read from it, or once it has
    /// been open for [`EVICTION_GRACE`] without sending anything: never one accepted a moment
    /// ago whose request is waiting to be read.
    pub(super) fn may_be_evicted(&self, now: Instant) -> bool {
        self.driven || later(self.accepted_at, EVICTION_GRACE) <= now
    }

    /// `true` while bytes wait to be written: the session's response, or TLS records.
    pub(super) fn has_output(&self) -> bool {
        #[cfg(feature = "tls")]
        if self.tls.as_ref().is_some_and(|tls| tls.wants_write()) {
            return true;
        }
        self.session.has_output()
    }

    /// What the connection waits for now: its session's wait, or a TLS handshake's.
    pub(super) fn wait_now(&self) -> Wait {
        let wait = self.session.wait();
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return tls.wait(wait);
        }
        wait
    }

    /// Whether a TLS handshake is under way (never, without TLS).
    fn handshaking(&self) -> bool {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return tls.is_handshaking();
        }
        false
    }

    /// The deadline, shortened to [`Limits::busy_write_timeout`] from the last progress for a
    /// response while the server is `busy`.
    pub(super) fn deadline_when(&self, busy: bool, limits: &Limits) -> Instant {
        if busy && self.wait == Wait::Response {
            self.deadline
                .min(later(self.armed_at, limits.busy_write_timeout))
        } else {
            self.deadline
        }
    }

    /// Sets the deadline for what the connection now waits for: from the first byte of a
    /// request head (however slowly the rest comes), from the end of the last response when
    /// idle, from the last progress of a response being sent.
    fn rearm(&mut self, limits: &Limits) {
        let wait = self.wait_now();
        // Bytes written since the deadline was set: a response went out (the idle time and a
        // next head's time count from it) or a slow one progressed. Bytes read never extend
        // a deadline, so a head that trickles in cannot outlive its timeout; nor do the
        // server's own handshake records (a TLS handshake waits as a request head does), so
        // a client that sends its hello late still has one head timeout from connecting.
        let progressed =
            wait != Wait::Linger && !self.handshaking() && self.last_write > self.armed_at;
        if wait != self.wait || progressed {
            let timeout = match wait {
                Wait::Idle => limits.idle_timeout,
                Wait::RequestHead => limits.request_head_timeout,
                Wait::Response => limits.write_timeout,
                Wait::Linger => LINGER,
            };
            let now = Instant::now();
            self.wait = wait;
            self.armed_at = now;
            self.deadline = later(now, timeout);
        }
    }
}
