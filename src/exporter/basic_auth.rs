//! Basic auth (`basic-auth` feature): the users of an htpasswd file of bcrypt hashes
//! ([`BasicAuth`]), and the check every request passes before it is routed (`Gate`).
//!
//! bcrypt is slow on purpose, and the server has one thread, so the gate spends bcrypt time
//! sparingly: credentials that verified once are remembered as a keyed 128-bit digest per user
//! (SipHash under two random keys of this process, not the password) and then cost a hash and a
//! constant-time comparison; the last [`REMEMBERED_FAILURES`] credentials that failed are
//! remembered likewise and answered 401 at once (a scraper with a wrong password in its
//! configuration retries every scrape); failed checks may take at most [`FAILURE_SHARE`] of the
//! thread's time, in bursts of at most [`FAILURE_BURST`] (plus the check that ends each), and
//! credentials that would need a check beyond that are answered 503 without one. So a flood of
//! wrong passwords delays a scrape whose credentials are remembered by at most one burst plus
//! two checks.
//!
//! That share is split in two budgets, so that a flood cannot take every check from a scraper
//! whose credentials are not remembered yet (after a restart, or a new password): the clients
//! (by IP address, IPv6 by /64) that failed a check in the last [`OFFENDER_MEMORY`], the last
//! [`REMEMBERED_OFFENDERS`] of them, share the larger one ([`OFFENDERS_SHARE`]); any other
//! client may also use the smaller one ([`NEWCOMERS_SHARE`]) when the first is spent. A flood
//! from one address thus leaves the second budget to others, and a new scraper elsewhere is
//! checked at its first request. A flood from more addresses than the second budget's checks
//! (one per `NEWCOMERS_SHARE` × check time, 10 s at cost 10) can spend it too: the share of the
//! thread stays bounded, but new scrapers get 503s again.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use super::bcrypt::{constant_time_eq, Hash};
use crate::http::{basic_credentials, MAX_CREDENTIALS_BYTES};
use crate::log::log_warning;

/// The share of the server thread's time that failed bcrypt checks may take: 1/20, the two
/// budgets' together.
const FAILURE_SHARE: u32 = 20;
/// The most bcrypt time failed checks may take at once, after a quiet spell (the two budgets'
/// together, each running over by the check that spends it).
const FAILURE_BURST: Duration = Duration::from_millis(50);
/// The share of the thread that checks for any client may take: 1/25.
const OFFENDERS_SHARE: u32 = 25;
const OFFENDERS_BURST: Duration = Duration::from_millis(40);
/// The share of the thread that checks for clients with no failed check in the last
/// [`OFFENDER_MEMORY`] may also take, once the first budget is spent: 1/100.
const NEWCOMERS_SHARE: u32 = 100;
const NEWCOMERS_BURST: Duration = Duration::from_millis(10);
// The two budgets add up to the whole: 1/25 + 1/100 = 1/20, and 40 + 10 = 50 ms.
const _: () = assert!(
    FAILURE_SHARE * (OFFENDERS_SHARE + NEWCOMERS_SHARE) == OFFENDERS_SHARE * NEWCOMERS_SHARE
        && OFFENDERS_BURST.as_millis() + NEWCOMERS_BURST.as_millis() == FAILURE_BURST.as_millis()
);
/// How long a client that failed a check counts as an offender.
const OFFENDER_MEMORY: Duration = Duration::from_secs(60);
/// How many offenders are remembered, the one whose last failure is oldest forgotten first.
const REMEMBERED_OFFENDERS: usize = 64;
/// How many credentials that failed are remembered, so that a scraper configured with a wrong
/// password costs one bcrypt check, not one per scrape.
const REMEMBERED_FAILURES: usize = 64;
/// How often, at most, refused checks are logged.
const REFUSED_WARNING_EVERY: Duration = Duration::from_secs(10);

/// What an htpasswd line must look like, for error messages.
const EXPECTED: &str = "expected 'user:hash' lines with bcrypt hashes ($2y$, $2b$ or $2a$, \
                        cost 04 to 12), as `htpasswd -B` writes them";

/// Why an htpasswd file cannot be used.
///
/// ```
/// use prometheus_aioexporter::{BasicAuth, BasicAuthError};
///
/// let err = BasicAuth::from_htpasswd("prometheus:$apr1$abc$def\n", "users").unwrap_err();
/// assert!(matches!(err, BasicAuthError::Line { line: 1, .. }));
/// assert!(err.to_string().starts_with("users, line 1: "), "{err}");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum BasicAuthError {
    /// The file cannot be read (missing, unreadable, or not UTF-8).
    Read {
        /// The file.
        path: String,
        /// What reading it said.
        source: io::Error,
    },
    /// A line is not `user:bcrypt-hash`, or names a user again.
    Line {
        /// The file (or what the text was called).
        path: String,
        /// The line's number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The file names no user, which would lock every client out.
    NoUsers {
        /// The file.
        path: String,
    },
}

impl fmt::Display for BasicAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BasicAuthError::Read { path, source } => write!(f, "cannot read {path}: {source}"),
            BasicAuthError::Line { path, line, reason } => {
                write!(f, "{path}, line {line}: {reason}; {EXPECTED}")
            }
            BasicAuthError::NoUsers { path } => write!(f, "{path} names no user; {EXPECTED}"),
        }
    }
}

impl std::error::Error for BasicAuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BasicAuthError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The users an exporter lets in, each with a bcrypt hash of their password: what
/// [`Exporter::set_basic_auth`](crate::Exporter::set_basic_auth) takes.
///
/// ```
/// use prometheus_aioexporter::{BasicAuth, Exporter};
///
/// // As `htpasswd -nbB prometheus secret` prints it.
/// let users = "prometheus:$2y$05$0wp89dMeAoYGPugHlYPKq.dzuaOIQ25eEfnT2EBWvGMqkF.kMbqAG\n";
/// let mut exporter = Exporter::new("my-exporter", "My exporter.");
/// exporter.set_basic_auth(Some(BasicAuth::from_htpasswd(users, "users")?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct BasicAuth {
    users: Vec<User>,
}

#[derive(Clone)]
struct User {
    name: Vec<u8>,
    hash: Hash,
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: the hashes are for checking, not for logs.
        let names: Vec<_> = self
            .users
            .iter()
            .map(|u| String::from_utf8_lossy(&u.name))
            .collect();
        f.debug_struct("BasicAuth").field("users", &names).finish()
    }
}

impl BasicAuth {
    /// Reads an htpasswd file: one `user:hash` per line, bcrypt hashes only (`htpasswd -B`);
    /// empty lines and lines starting with `#` are skipped.
    ///
    /// # Errors
    /// [`BasicAuthError::Read`] naming the file; [`BasicAuthError::Line`] naming the file and
    /// line that is not `user:bcrypt-hash` (an MD5, SHA-1 or crypt hash, a cost outside 4–12,
    /// a user named twice); [`BasicAuthError::NoUsers`].
    ///
    /// ```
    /// use prometheus_aioexporter::BasicAuth;
    ///
    /// let path = std::env::temp_dir().join(format!("users-{}.htpasswd", std::process::id()));
    /// std::fs::write(
    ///     &path,
    ///     "# made by htpasswd -cB\n\
    ///      prometheus:$2y$05$0wp89dMeAoYGPugHlYPKq.dzuaOIQ25eEfnT2EBWvGMqkF.kMbqAG\n",
    /// )?;
    /// let users = BasicAuth::from_htpasswd_file(&path)?;
    /// assert_eq!(users.len(), 1);
    /// std::fs::remove_file(&path)?;
    ///
    /// let missing = BasicAuth::from_htpasswd_file("/nonexistent/users").unwrap_err();
    /// assert!(missing.to_string().starts_with("cannot read /nonexistent/users: "));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_htpasswd_file(path: impl AsRef<Path>) -> Result<BasicAuth, BasicAuthError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BasicAuthError::Read {
            path: shown.clone(),
            source,
        })?;
        BasicAuth::from_htpasswd(&text, &shown)
    }

    /// Parses htpasswd lines as [`from_htpasswd_file`](Self::from_htpasswd_file) does; `source`
    /// names the text in errors.
    ///
    /// ```
    /// use prometheus_aioexporter::BasicAuth;
    ///
    /// let text = "prometheus:$2y$05$0wp89dMeAoYGPugHlYPKq.dzuaOIQ25eEfnT2EBWvGMqkF.kMbqAG\n";
    /// assert_eq!(BasicAuth::from_htpasswd(text, "users")?.len(), 1);
    /// let twice = format!("{text}{text}");
    /// assert!(BasicAuth::from_htpasswd(&twice, "users").is_err(), "a user named twice");
    /// # Ok::<(), prometheus_aioexporter::BasicAuthError>(())
    /// ```
    ///
    /// # Errors
    /// As [`from_htpasswd_file`](Self::from_htpasswd_file), except reading.
    pub fn from_htpasswd(text: &str, source: &str) -> Result<BasicAuth, BasicAuthError> {
        let mut users: Vec<User> = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let refused = |reason: String| BasicAuthError::Line {
                path: source.to_string(),
                line: number + 1,
                reason,
            };
            let Some((name, hash)) = line.split_once(':') else {
                return Err(refused("no ':' between user and hash".to_string()));
            };
            if name.is_empty() {
                return Err(refused("empty user name".to_string()));
            }
            if users.iter().any(|u| u.name == name.as_bytes()) {
                return Err(refused(format!("user '{name}' is named twice")));
            }
            let hash = Hash::parse(hash).map_err(|err| refused(err.to_string()))?;
            users.push(User {
                name: name.as_bytes().to_vec(),
                hash,
            });
        }
        if users.is_empty() {
            return Err(BasicAuthError::NoUsers {
                path: source.to_string(),
            });
        }
        Ok(BasicAuth { users })
    }

    /// How many users the file names.
    ///
    /// ```
    /// use prometheus_aioexporter::BasicAuth;
    ///
    /// let text = "a:$2y$05$0wp89dMeAoYGPugHlYPKq.dzuaOIQ25eEfnT2EBWvGMqkF.kMbqAG\n\
    ///             b:$2y$05$0wp89dMeAoYGPugHlYPKq.dzuaOIQ25eEfnT2EBWvGMqkF.kMbqAG\n";
    /// assert_eq!(BasicAuth::from_htpasswd(text, "users")?.len(), 2);
    /// # Ok::<(), prometheus_aioexporter::BasicAuthError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Always `false`: a `BasicAuth` names at least one user.
    ///
    /// ```
    /// use prometheus_aioexporter::BasicAuth;
    ///
    /// let text = "a:$2y$05$0wp89dMeAoYGPugHlYPKq.dzuaOIQ25eEfnT2EBWvGMqkF.kMbqAG\n";
    /// assert!(!BasicAuth::from_htpasswd(text, "users")?.is_empty());
    /// assert!(BasicAuth::from_htpasswd("# nobody\n", "users").is_err());
    /// # Ok::<(), prometheus_aioexporter::BasicAuthError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

/// What the gate says of a request's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// A user's, with the right password.
    Allowed,
    /// None, malformed, an unknown user or a wrong password: 401.
    Denied,
    /// Not checked: failed checks have used their share of the thread. 503.
    Busy,
}

/// A share of the thread's time for failed checks: a check may start while the bcrypt time
/// of failed checks so far, at `share`, is paid off by `burst` × `share` from now.
struct Budget {
    share: u32,
    burst: Duration,
    /// When the failed checks charged so far are paid off.
    paid_at: Option<Instant>,
}

impl Budget {
    const fn new(share: u32, burst: Duration) -> Budget {
        Budget {
            share,
            burst,
            paid_at: None,
        }
    }

    /// `true` if a check may start at `now`.
    fn has_room(&self, now: Instant) -> bool {
        self.paid_at.map_or(true, |paid| {
            paid.saturating_duration_since(now) <= self.burst * self.share
        })
    }

    /// Charges a failed check that started at `now` and took `spent`.
    fn charge(&mut self, now: Instant, spent: Duration) {
        let start = self.paid_at.map_or(now, |paid| paid.max(now));
        self.paid_at = Some(start + spent * self.share);
    }
}

/// The clients that failed a check lately, by address: a fixed table, the entry whose last
/// failure is oldest reused first.
struct Offenders {
    /// A client's key ([`Offenders::key`]) and when its last check failed; `None` is free.
    entries: [Option<(u128, Instant)>; REMEMBERED_OFFENDERS],
}

impl Offenders {
    /// What tells clients apart: an IPv4 address (also IPv4-mapped IPv6), or the /64 an IPv6
    /// address belongs to, as a client usually holds a whole /64.
    fn key(peer: IpAddr) -> u128 {
        match peer {
            IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => u128::from(v6),
            IpAddr::V6(v6) => u128::from(v6) & !u128::from(u64::MAX),
        }
    }

    /// `true` if `peer` failed a check in the [`OFFENDER_MEMORY`] before `now`.
    fn failed_lately(&self, peer: IpAddr, now: Instant) -> bool {
        let key = Offenders::key(peer);
        self.entries
            .iter()
            .flatten()
            .any(|&(k, at)| k == key && now.saturating_duration_since(at) < OFFENDER_MEMORY)
    }

    /// Remembers that `peer` failed a check at `now`.
    fn failed(&mut self, peer: IpAddr, now: Instant) {
        let key = Offenders::key(peer);
        let index = self
            .entries
            .iter()
            .position(|e| e.is_some_and(|(k, _)| k == key))
            .or_else(|| {
                // The free entry, or the one whose last failure is oldest.
                (0..REMEMBERED_OFFENDERS)
                    .min_by_key(|&i| self.entries.get(i).copied().flatten().map(|(_, at)| at))
            });
        if let Some(entry) = index.and_then(|i| self.entries.get_mut(i)) {
            *entry = Some((key, now));
        }
    }
}

/// The check every request passes, with what it remembers between requests.
pub(super) struct Gate {
    users: Vec<User>,
    /// Per user, the keyed digest of the password that last verified.
    verified: Vec<Option<u128>>,
    /// Keyed digests of credentials that failed, the oldest overwritten first.
    failed: [u128; REMEMBERED_FAILURES],
    next_failed: usize,
    keys: [RandomState; 2],
    challenge: String,
    /// The budget of checks for any client.
    offenders_budget: Budget,
    /// The budget of checks for clients that are not [`offenders`](Gate::offenders), once the
    /// first is spent.
    newcomers_budget: Budget,
    offenders: Offenders,
    refused: u64,
    refused_warned_at: Option<Instant>,
}

impl Gate {
    /// A gate for `auth`'s users, whose 401s name `realm` (made quotable if it is not).
    pub(super) fn new(auth: BasicAuth, realm: &str) -> Gate {
        let realm: String = realm
            .chars()
            .map(|c| match c {
                ' ' | '!' | '#'..='[' | ']'..='~' => c,
                _ => '_',
            })
            .collect();
        Gate {
            verified: vec![None; auth.users.len()],
            users: auth.users,
            failed: [0; REMEMBERED_FAILURES],
            next_failed: 0,
            keys: [RandomState::new(), RandomState::new()],
            challenge: format!("Basic realm=\"{realm}\", charset=\"UTF-8\""),
            offenders_budget: Budget::new(OFFENDERS_SHARE, OFFENDERS_BURST),
            newcomers_budget: Budget::new(NEWCOMERS_SHARE, NEWCOMERS_BURST),
            offenders: Offenders {
                entries: [None; REMEMBERED_OFFENDERS],
            },
            refused: 0,
            refused_warned_at: None,
        }
    }

    /// The `WWW-Authenticate` value of a 401.
    pub(super) fn challenge(&self) -> &str {
        &self.challenge
    }

    /// Checks an `Authorization` header value (`None` if the request had none) that `peer`
    /// sent.
    pub(super) fn check(&mut self, authorization: Option<&[u8]>, peer: IpAddr) -> Verdict {
        self.check_at(authorization, peer, Instant::now())
    }

    /// [`check`](Gate::check) as of `now`, for the budgets and the offenders.
    fn check_at(&mut self, authorization: Option<&[u8]>, peer: IpAddr, now: Instant) -> Verdict {
        let mut buf = [0u8; MAX_CREDENTIALS_BYTES];
        let Some(credentials) = authorization.and_then(|v| basic_credentials(v, &mut buf)) else {
            return Verdict::Denied;
        };
        let user = self.find_user(credentials.user);
        let digest = self.keyed_digest(user, credentials.password);
        let remembered = user.and_then(|i| self.verified.get(i).copied().flatten());
        if remembered.is_some_and(|r| constant_time_eq(&r.to_le_bytes(), &digest.to_le_bytes())) {
            return Verdict::Allowed;
        }
        // Zero is the empty slot: a digest of zero is merely never remembered.
        if digest != 0 && self.failed.contains(&digest) {
            return Verdict::Denied;
        }
        let newcomer = !self.offenders.failed_lately(peer, now);
        let budget = if self.offenders_budget.has_room(now) {
            &mut self.offenders_budget
        } else if newcomer && self.newcomers_budget.has_room(now) {
            &mut self.newcomers_budget
        } else {
            self.warn_refused();
            return Verdict::Busy;
        };
        // An unknown user costs a check too, against the first user's hash, so that the time
        // of the answer does not tell which users exist.
        let (hash, known) = match user.and_then(|i| self.users.get(i)) {
            Some(found) => (&found.hash, true),
            None => match self.users.first() {
                Some(first) => (&first.hash, false),
                None => return Verdict::Denied,
            },
        };
        let started = Instant::now();
        let right = hash.verify(credentials.password) && known;
        if let (true, Some(slot)) = (right, user.and_then(|i| self.verified.get_mut(i))) {
            *slot = Some(digest);
            return Verdict::Allowed;
        }
        budget.charge(now, started.elapsed());
        self.offenders.failed(peer, now);
        if let Some(slot) = self.failed.get_mut(self.next_failed) {
            *slot = digest;
        }
        self.next_failed = (self.next_failed + 1) % REMEMBERED_FAILURES;
        Verdict::Denied
    }

    /// The index of the user named `name`, comparing it with every user's name in constant
    /// time, so that the time taken says nothing of which names exist.
    fn find_user(&self, name: &[u8]) -> Option<usize> {
        let mut found = None;
        for (i, user) in self.users.iter().enumerate() {
            if constant_time_eq(&user.name, name) {
                found = Some(i);
            }
        }
        found
    }

    /// A digest of `password` for `user` under this process's random keys: what is remembered
    /// of credentials that verified, in place of the password.
    fn keyed_digest(&self, user: Option<usize>, password: &[u8]) -> u128 {
        let [first, second] = &self.keys;
        let half = |keys: &RandomState| {
            let mut hasher = keys.build_hasher();
            hasher.write_usize(user.unwrap_or(usize::MAX));
            hasher.write(password);
            hasher.finish()
        };
        (u128::from(half(first)) << 64) | u128::from(half(second))
    }

    /// Counts a check refused for the failure budget, and logs the count at most once per
    /// [`REFUSED_WARNING_EVERY`].
    fn warn_refused(&mut self) {
        self.refused += 1;
        if crate::log::due(&mut self.refused_warned_at, REFUSED_WARNING_EVERY) {
            log_warning!(
                "{} credential check(s) answered 503: failed checks (wrong passwords) used their \
                 share of the server's time; remembered credentials are still let in",
                self.refused
            );
            self.refused = 0;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));

    /// `htpasswd -nbB -C 5 alice secret`.
    const ALICE: &str = "alice:$2y$05$0wp89dMeAoYGPugHlYPKq.dzuaOIQ25eEfnT2EBWvGMqkF.kMbqAG";

    fn header(user: &str, password: &str) -> Vec<u8> {
        let raw = format!("{user}:{password}");
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = b"Basic ".to_vec();
        for chunk in raw.as_bytes().chunks(3) {
            let n =
                chunk.iter().fold(0u32, |n, &b| n << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
            for i in 0..4 {
                out.push(if i <= chunk.len() {
                    ALPHABET[(n >> (18 - 6 * i) & 63) as usize]
                } else {
                    b'='
                });
            }
        }
        out
    }

    fn gate(text: &str) -> Gate {
        Gate::new(
            BasicAuth::from_htpasswd(text, "users").unwrap(),
            "my \"exporter\"",
        )
    }

    #[test]
    fn right_credentials_pass_and_are_remembered() {
        let mut gate = gate(ALICE);
        assert_eq!(
            gate.check(Some(&header("alice", "secret")), PEER),
            Verdict::Allowed
        );
        assert!(gate.verified[0].is_some());
        assert_eq!(
            gate.check(Some(&header("alice", "secret")), PEER),
            Verdict::Allowed
        );
        assert_eq!(
            gate.check(Some(&header("alice", "Secret")), PEER),
            Verdict::Denied
        );
        assert_eq!(
            gate.check(Some(&header("bob", "secret")), PEER),
            Verdict::Denied
        );
        assert_eq!(gate.check(None, PEER), Verdict::Denied);
        assert_eq!(gate.check(Some(b"Bearer x"), PEER), Verdict::Denied);
        assert_eq!(
            gate.challenge(),
            "Basic realm=\"my _exporter_\", charset=\"UTF-8\""
        );
    }

    #[test]
    fn failed_checks_beyond_their_share_are_refused_but_remembered_users_pass() {
        let mut gate = gate(ALICE);
        assert_eq!(
            gate.check(Some(&header("alice", "secret")), PEER),
            Verdict::Allowed
        );
        let mut verdicts = Vec::new();
        let started = Instant::now();
        // A cost-5 check takes about 2 ms: the burst allows a few dozen, then refusals come.
        // Each guess is new: one tried before would be answered from memory.
        while verdicts.last() != Some(&Verdict::Busy) && started.elapsed() < Duration::from_secs(5)
        {
            let guess = format!("guess-{}", verdicts.len());
            verdicts.push(gate.check(Some(&header("alice", &guess)), PEER));
        }
        assert_eq!(
            verdicts.last(),
            Some(&Verdict::Busy),
            "after {} guesses",
            verdicts.len()
        );
        assert!(verdicts.len() > 1, "at least one wrong password is checked");
        assert_eq!(
            gate.check(Some(&header("alice", "secret")), PEER),
            Verdict::Allowed
        );
        assert_eq!(
            gate.check(Some(&header("nobody", "x")), PEER),
            Verdict::Busy
        );
    }

    #[test]
    fn a_wrong_password_tried_again_costs_no_check() {
        let mut gate = gate(ALICE);
        assert_eq!(
            gate.check(Some(&header("alice", "typo")), PEER),
            Verdict::Denied
        );
        let paid_at = gate.offenders_budget.paid_at;
        assert!(paid_at.is_some());
        for _ in 0..100 {
            assert_eq!(
                gate.check(Some(&header("alice", "typo")), PEER),
                Verdict::Denied
            );
        }
        assert_eq!(
            gate.offenders_budget.paid_at, paid_at,
            "no check ran, nothing was charged"
        );
        assert_eq!(
            gate.check(Some(&header("alice", "secret")), PEER),
            Verdict::Allowed
        );
    }

    /// A peer's wrong passwords, each new, until one is answered 503 as of `now` (or 5 s
    /// pass); how many were checked.
    fn flood_until_busy(gate: &mut Gate, peer: IpAddr, now: Instant) -> usize {
        let started = Instant::now();
        let mut checked = 0;
        loop {
            let guess = format!("{peer}-guess-{checked}");
            let verdict = gate.check_at(Some(&header("alice", &guess)), peer, now);
            assert_ne!(verdict, Verdict::Allowed, "{guess}");
            if verdict == Verdict::Busy {
                return checked;
            }
            checked += 1;
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "no 503 after {checked}"
            );
        }
    }

    /// `user:password` from `peer`, as of `now`.
    fn at(gate: &mut Gate, user: &str, password: &str, peer: IpAddr, now: Instant) -> Verdict {
        gate.check_at(Some(&header(user, password)), peer, now)
    }

    fn v4(last: u8) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, last))
    }

    #[test]
    fn a_client_that_never_failed_is_checked_when_offenders_spent_their_budget() {
        let mut gate = gate(ALICE);
        // One instant throughout, so that the budgets do not refill while the test runs.
        let now = Instant::now();
        assert!(flood_until_busy(&mut gate, PEER, now) > 1);
        assert!(!gate.offenders_budget.has_room(now));
        // The flood's address gets 503s, for wrong and right passwords alike.
        assert_eq!(at(&mut gate, "alice", "new", PEER, now), Verdict::Busy);
        assert_eq!(at(&mut gate, "alice", "secret", PEER, now), Verdict::Busy);
        // Another address is checked, from the newcomers' budget, and remembered.
        assert_eq!(
            at(&mut gate, "alice", "secret", v4(1), now),
            Verdict::Allowed
        );
        assert_eq!(
            gate.newcomers_budget.paid_at, None,
            "a right password costs no budget"
        );
        assert_eq!(
            at(&mut gate, "alice", "secret", PEER, now),
            Verdict::Allowed
        );
        // A newcomer's wrong password is checked once, then that address is an offender.
        assert_eq!(at(&mut gate, "alice", "x", v4(2), now), Verdict::Denied);
        assert!(gate.newcomers_budget.paid_at.is_some());
        assert_eq!(at(&mut gate, "alice", "y", v4(2), now), Verdict::Busy);
        // A flood from many addresses spends the newcomers' budget too; remembered
        // credentials still pass.
        let mut refused_at = None;
        for last in 3..=255 {
            let guess = format!("guess-{last}");
            if at(&mut gate, "alice", &guess, v4(last), now) == Verdict::Busy {
                refused_at = Some(last);
                break;
            }
        }
        assert!(refused_at.is_some(), "the newcomers' budget is bounded");
        assert_eq!(at(&mut gate, "bob", "z", v4(1), now), Verdict::Busy);
        assert_eq!(
            at(&mut gate, "alice", "secret", v4(1), now),
            Verdict::Allowed
        );
    }

    #[test]
    fn budgets_allow_a_burst_then_their_share() {
        let now = Instant::now();
        let ms = Duration::from_millis;
        let mut budget = Budget::new(25, ms(40));
        assert!(budget.has_room(now));
        // 40 ms of checks at a share of 1/25 is 1 s of debt: room until it is over 1 s.
        for _ in 0..4 {
            budget.charge(now, ms(10));
            assert!(budget.has_room(now));
        }
        budget.charge(now, ms(10));
        assert_eq!(budget.paid_at, Some(now + ms(1250)));
        assert!(!budget.has_room(now));
        assert!(!budget.has_room(now + ms(249)));
        assert!(budget.has_room(now + ms(250)));
        // Paid off long ago: a charge counts from now, not from then.
        budget.charge(now + ms(10_000), ms(10));
        assert_eq!(budget.paid_at, Some(now + ms(10_250)));
    }

    #[test]
    fn offenders_are_told_apart_by_address_and_forgotten() {
        let mut offenders = Offenders {
            entries: [None; REMEMBERED_OFFENDERS],
        };
        let at = Instant::now();
        let v6 = |s: &str| IpAddr::V6(s.parse().unwrap());
        offenders.failed(v4(1), at);
        offenders.failed(v6("2001:db8:0:1::1"), at);
        let cases = [
            (v4(1), at, true, "the address that failed"),
            (v4(2), at, false, "its neighbour"),
            (v6("::ffff:198.51.100.1"), at, true, "as IPv4-mapped IPv6"),
            (v6("2001:db8:0:1:ffff::9"), at, true, "the same /64"),
            (v6("2001:db8:0:2::1"), at, false, "the next /64"),
            (
                v4(1),
                at + OFFENDER_MEMORY - Duration::from_millis(1),
                true,
                "still",
            ),
            (
                v4(1),
                at + OFFENDER_MEMORY,
                false,
                "forgotten after OFFENDER_MEMORY",
            ),
        ];
        for (peer, now, expected, why) in cases {
            assert_eq!(offenders.failed_lately(peer, now), expected, "{why}");
        }
        // A full table forgets the address whose last failure is oldest; the table never grows.
        let later = at + Duration::from_secs(1);
        offenders.failed(v4(1), later);
        for last in 2..=(REMEMBERED_OFFENDERS as u8) {
            offenders.failed(v4(last), later + Duration::from_millis(u64::from(last)));
        }
        assert!(offenders.failed_lately(v4(1), later), "refreshed, so kept");
        assert!(
            !offenders.failed_lately(v6("2001:db8:0:1::1"), later),
            "the oldest: gone"
        );
        assert_eq!(offenders.entries.len(), REMEMBERED_OFFENDERS);
    }

    #[test]
    fn htpasswd_errors_name_the_line() {
        let err = |text: &str| {
            BasicAuth::from_htpasswd(text, "users.htpasswd")
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("# comment\n\nalice"),
            format!("users.htpasswd, line 3: no ':' between user and hash; {EXPECTED}")
        );
        assert!(err(&format!("{ALICE}\nbob:$apr1$x$y"))
            .starts_with("users.htpasswd, line 2: MD5 ($apr1$) hash, not bcrypt; expected"));
        assert!(err(&format!("{ALICE}\n{ALICE}"))
            .starts_with("users.htpasswd, line 2: user 'alice' is named twice"));
        assert!(err(":$2y$05$x").starts_with("users.htpasswd, line 1: empty user name"));
        assert!(
            err("alice:$2y$13$0wp89dMeAoYGPugHlYPKq.dzuaOIQ25eEfnT2EBWvGMqkF.kMbqAG")
                .contains("bcrypt cost '13' out of range")
        );
        assert_eq!(
            err("\n# none\n"),
            format!("users.htpasswd names no user; {EXPECTED}")
        );
        assert!(
            BasicAuth::from_htpasswd(&format!("{ALICE}\r\n"), "x").is_ok(),
            "CRLF lines"
        );
    }

    #[test]
    fn debug_shows_no_hash() {
        let auth = BasicAuth::from_htpasswd(ALICE, "x").unwrap();
        assert_eq!(format!("{auth:?}"), "BasicAuth { users: [\"alice\"] }");
    }
}
