//! SIGTERM and SIGINT as a readable event in a mio `Poll`, so the event loop can stop gracefully.
//!
//! This module owns the crate's signal handling and holds most of its `unsafe` code
//! (`sigaction`, and the handler's `send`; the other module with `unsafe` is the listener's
//! `setsockopt`). Signal handling is needed even when the default action would do:
//! as PID 1 in a container the kernel ignores signals that have no handler, so without one
//! `docker stop` waits ten seconds and then kills the exporter.
//!
//! The handler uses the self-pipe trick: it only sends one byte, the signal number, into a
//! non-blocking socket whose other end is registered with mio. The event loop sees that end
//! become readable, calls [`ShutdownSignals::take`], and finishes on its own terms. A Unix
//! socket pair stands in for a pipe because `send(…, MSG_NOSIGNAL)` cannot raise SIGPIPE even if
//! the read end is already closed, and because `mio::net::UnixStream` registers it without mio's
//! `os-ext` feature.
//!
//! Note that `Poll::poll` returns `ErrorKind::Interrupted` when a signal arrives during the wait
//! (`SA_RESTART` does not restart `epoll_wait`); retry it, and the event is then reported.
#![allow(unsafe_code)]

use std::fmt;
use std::io::{self, Read};
use std::mem;
use std::os::unix::io::AsRawFd;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::sync::atomic::{AtomicI32, Ordering};

use mio::net::UnixStream;
use mio::{Interest, Registry, Token};

/// The signals that request a shutdown.
const SIGNALS: [libc::c_int; 2] = [libc::SIGTERM, libc::SIGINT];

/// The write end of the live instance's socket pair, or -1 when none is installed.
///
/// It is both the handler's only input and the "one instance at a time" flag.
static WRITE_FD: AtomicI32 = AtomicI32::new(-1);

/// The last signal received and not yet taken, or 0: what [`ShutdownSignals::pending`] reads,
/// so a busy event loop can notice a signal between two pieces of work, long before its next
/// `poll` reports the socket.
static PENDING: AtomicI32 = AtomicI32::new(0);

/// The signal handler: sends the signal number as one byte to [`WRITE_FD`].
///
/// Everything here is async-signal-safe: lock-free atomics, `send` (listed in
/// signal-safety(7)) and reading/writing `errno`, which it preserves so the interrupted code sees
/// its own value. A full socket (`EAGAIN`) drops the byte; one pending byte is enough to wake the
/// loop.
extern "C" fn on_signal(signal: libc::c_int) {
    let fd = WRITE_FD.load(Ordering::SeqCst);
    if fd < 0 {
        return;
    }
    PENDING.store(signal, Ordering::SeqCst);
    // SAFETY: `__errno_location` returns a valid pointer to the calling thread's errno.
    let saved_errno = unsafe { *libc::__errno_location() };
    let byte = signal as u8;
    // SAFETY: `send` reads one byte from a live local. `fd` is the write end owned by the live
    // `ShutdownSignals`, which clears `WRITE_FD` before closing it; at worst (a handler already
    // running on another thread during `drop`) the call fails with EBADF, and MSG_NOSIGNAL means a
    // closed peer gives EPIPE rather than SIGPIPE. MSG_DONTWAIT keeps the handler from blocking.
    unsafe {
        libc::send(
            fd,
            (&byte as *const u8).cast::<libc::c_void>(),
            1,
            libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
        );
    }
    // SAFETY: as above; restores the value read on entry.
    unsafe { *libc::__errno_location() = saved_errno };
}

/// A signal disposition saved by `sigaction`, restored on drop.
struct SavedAction(libc::sigaction);

impl fmt::Debug for SavedAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let handler = match self.0.sa_sigaction {
            libc::SIG_DFL => "SIG_DFL".to_owned(),
            libc::SIG_IGN => "SIG_IGN".to_owned(),
            address => format!("{address:#x}"),
        };
        f.debug_struct("SavedAction")
            .field("handler", &handler)
            .field("flags", &format_args!("{:#x}", self.0.sa_flags))
            .finish()
    }
}

/// Replaces the disposition of `signal` with `action` and returns the previous one.
fn replace_action(signal: libc::c_int, action: &libc::sigaction) -> io::Result<libc::sigaction> {
    // SAFETY: an all-zero `sigaction` is a valid value (SIG_DFL, empty mask, no flags); it is
    // only an output buffer here.
    let mut previous: libc::sigaction = unsafe { mem::zeroed() };
    // SAFETY: both pointers are to live, properly aligned `sigaction` values; `action` installs
    // either a saved disposition or `on_signal`, which is async-signal-safe.
    if unsafe { libc::sigaction(signal, action, &mut previous) } == 0 {
        Ok(previous)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The current disposition of `signal`, unchanged.
fn current_disposition(signal: libc::c_int) -> io::Result<libc::sigaction> {
    // SAFETY: an all-zero `sigaction` is a valid value, used only as an output buffer.
    let mut current: libc::sigaction = unsafe { mem::zeroed() };
    // SAFETY: a null `act` only queries; `current` is a live, aligned `sigaction`.
    if unsafe { libc::sigaction(signal, std::ptr::null(), &mut current) } == 0 {
        Ok(current)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The handler disposition: `on_signal`, with `SA_RESTART` so that interrupted blocking calls
/// elsewhere in the program are restarted rather than failing with `EINTR`.
fn handler_action() -> libc::sigaction {
    // SAFETY: an all-zero `sigaction` is a valid value (SIG_DFL, empty mask, no flags).
    let mut action: libc::sigaction = unsafe { mem::zeroed() };
    action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa_mask` is a valid `sigset_t` owned by `action`. `sigemptyset` cannot fail for a
    // valid pointer, and the zeroed mask is already empty on Linux.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    action
}

/// Installed handlers for SIGTERM and SIGINT that write one byte into a non-blocking socket,
/// whose read end can be registered with a mio `Poll`.
///
/// Only one instance may exist at a time. Dropping it restores the dispositions SIGTERM and
/// SIGINT had before [`ShutdownSignals::install`]. SIGPIPE is left alone.
///
/// ```
/// use mio::{Events, Poll, Token};
/// use prometheus_aioexporter::ShutdownSignals;
///
/// const SIGNALS: Token = Token(1);
/// let mut poll = Poll::new()?;
/// let mut signals = ShutdownSignals::install()?;
/// signals.register(poll.registry(), SIGNALS)?;
/// # std::process::Command::new("kill").args(["-TERM", &std::process::id().to_string()]).status()?;
/// let mut events = Events::with_capacity(64);
/// 'run: loop {
///     match poll.poll(&mut events, None) {
///         Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
///         result => result?,
///     }
///     for event in &events {
///         if event.token() == SIGNALS {
///             if let Some(signal) = signals.take() {
///                 eprintln!("received signal {signal}, stopping");
///                 break 'run;
///             }
///         }
///     }
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct ShutdownSignals {
    /// Dispositions of [`SIGNALS`] before installation, in the same order.
    previous: [SavedAction; 2],
    /// Write end; its fd is in [`WRITE_FD`]. Declared before `read_end` so it is closed first.
    write_end: StdUnixStream,
    /// Read end, registered with mio by the user.
    read_end: UnixStream,
}

impl fmt::Debug for ShutdownSignals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShutdownSignals")
            .field("read_fd", &self.read_end.as_raw_fd())
            .field("write_fd", &self.write_end.as_raw_fd())
            .field("previous_sigterm", &self.previous[0])
            .field("previous_sigint", &self.previous[1])
            .finish()
    }
}

impl ShutdownSignals {
    /// Creates a non-blocking, close-on-exec socket pair and installs handlers for SIGTERM and
    /// SIGINT (`sigaction` with `SA_RESTART`) that send the signal number as one byte to it.
    /// A SIGINT that the process started with ignored stays ignored.
    ///
    /// Install as early as `main` can: as PID 1, a SIGTERM that arrives before a handler
    /// exists is discarded by the kernel, not deferred. (What comes before `main` cannot be
    /// covered; `docker run --init` can.)
    ///
    /// ```
    /// use prometheus_aioexporter::ShutdownSignals;
    ///
    /// let signals = ShutdownSignals::install()?; // first thing in main
    /// // Handlers are process-wide: a second one is refused while this one lives.
    /// let again = ShutdownSignals::install().unwrap_err();
    /// assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
    /// drop(signals); // restores the previous handlers
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// - `io::ErrorKind::AlreadyExists` if another `ShutdownSignals` is live (handlers are
    ///   process-wide);
    /// - the OS error if the socket pair cannot be created or `sigaction` fails; nothing stays
    ///   installed then.
    pub fn install() -> io::Result<ShutdownSignals> {
        let (read_end, write_end) = StdUnixStream::pair()?;
        read_end.set_nonblocking(true)?;
        write_end.set_nonblocking(true)?;
        let read_end = UnixStream::from_std(read_end);

        if WRITE_FD
            .compare_exchange(
                -1,
                write_end.as_raw_fd(),
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_err()
        {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "shutdown signal handlers are already installed",
            ));
        }

        // Cleared once this is the live instance and before its handlers can run, never after:
        // a signal that comes during the installation keeps its flag (and its byte).
        PENDING.store(0, Ordering::SeqCst);
        let handler = handler_action();
        let previous_sigterm = match replace_action(SIGNALS[0], &handler) {
            Ok(previous) => previous,
            Err(err) => {
                WRITE_FD.store(-1, Ordering::SeqCst);
                return Err(err);
            }
        };
        // Started with SIGINT ignored (`nohup`, or `cmd &` in a script): keep it so, as shells
        // and Python do, so that Ctrl-C meant for the foreground does not stop it.
        let sigint = current_disposition(SIGNALS[1]).and_then(|current| {
            if current.sa_sigaction == libc::SIG_IGN {
                Ok(current)
            } else {
                replace_action(SIGNALS[1], &handler)
            }
        });
        let previous_sigint = match sigint {
            Ok(previous) => previous,
            Err(err) => {
                // Best effort: this restores a disposition `sigaction` just returned.
                let _ = replace_action(SIGNALS[0], &previous_sigterm);
                WRITE_FD.store(-1, Ordering::SeqCst);
                return Err(err);
            }
        };

        Ok(ShutdownSignals {
            previous: [SavedAction(previous_sigterm), SavedAction(previous_sigint)],
            write_end,
            read_end,
        })
    }

    /// Registers the read end with `registry` for `Interest::READABLE` under `token`.
    ///
    /// The event is edge-triggered: call [`ShutdownSignals::take`] on each event, since it
    /// drains everything pending.
    ///
    /// ```
    /// use mio::{Events, Poll, Token};
    /// use prometheus_aioexporter::ShutdownSignals;
    ///
    /// let mut signals = ShutdownSignals::install()?;
    /// let mut poll = Poll::new()?;
    /// signals.register(poll.registry(), Token(0))?;
    /// # std::process::Command::new("kill").args(["-TERM", &std::process::id().to_string()]).status()?;
    /// let mut events = Events::with_capacity(8);
    /// poll.poll(&mut events, None)?; // wakes on SIGTERM or SIGINT
    /// assert_eq!(signals.take(), Some(15)); // SIGTERM
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Returns the error from `Registry::register`, e.g. if it is already registered.
    pub fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.register(&mut self.read_end, token, Interest::READABLE)
    }

    /// Removes the read end from the mio registry it was registered with.
    ///
    /// ```
    /// use mio::{Poll, Token};
    /// use prometheus_aioexporter::ShutdownSignals;
    ///
    /// let mut signals = ShutdownSignals::install()?;
    /// let poll = Poll::new()?;
    /// signals.register(poll.registry(), Token(0))?;
    /// signals.deregister(poll.registry())?;
    /// let other = Poll::new()?; // e.g. the loop moves to another thread
    /// signals.register(other.registry(), Token(0))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        registry.deregister(&mut self.read_end)
    }

    /// `true` if a signal arrived that [`ShutdownSignals::take`] has not taken yet: an atomic
    /// load, cheap enough to check between any two pieces of work.
    ///
    /// ```
    /// use prometheus_aioexporter::ShutdownSignals;
    ///
    /// let signals = ShutdownSignals::install()?;
    /// for _batch in 0..3 {
    ///     if signals.pending() {
    ///         break; // SIGTERM or SIGINT: stop between two batches
    ///     }
    ///     // … work on a batch …
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn pending(&self) -> bool {
        PENDING.load(Ordering::SeqCst) != 0
    }

    /// Blocks until SIGTERM or SIGINT arrives, or returns at once if one arrived that
    /// [`ShutdownSignals::take`] has not taken, and returns it: for a program whose main
    /// thread has nothing else to do while an exporter serves on its own thread.
    ///
    /// ```
    /// use prometheus_aioexporter::ShutdownSignals;
    /// use prometheus_aioexporter::Exporter;
    ///
    /// let mut signals = ShutdownSignals::install()?;
    /// let mut exporter = Exporter::new("agent", "An agent.");
    /// # exporter.set_hosts(["127.0.0.1"]).set_port(0);
    /// let running = exporter.spawn()?;
    /// # std::process::Command::new("kill").args(["-TERM", &std::process::id().to_string()]).status()?;
    /// let signal = signals.wait()?; // blocks until SIGTERM or SIGINT
    /// # assert_eq!(signal, 15);
    /// running.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The error from creating or polling a mio `Poll`, or from registering the socket, which
    /// fails while it is registered with another `Poll` (use that one's events instead).
    pub fn wait(&mut self) -> io::Result<i32> {
        if let Some(signal) = self.take() {
            return Ok(signal);
        }
        let mut poll = mio::Poll::new()?;
        let mut events = mio::Events::with_capacity(1);
        self.register(poll.registry(), Token(0))?;
        // A signal between `take` and `register` left its byte in the socket, which the
        // registration reports as readable.
        let signal = loop {
            match poll.poll(&mut events, None) {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => break Err(err),
                Ok(()) => {}
            }
            if let Some(signal) = self.take() {
                break Ok(signal);
            }
        };
        let _ = self.deregister(poll.registry());
        signal
    }

    /// Reads everything pending without blocking and returns the last signal received
    /// (`libc::SIGTERM` or `libc::SIGINT`), or `None` if none arrived since the last call.
    ///
    /// ```
    /// use prometheus_aioexporter::ShutdownSignals;
    ///
    /// let mut signals = ShutdownSignals::install()?;
    /// assert_eq!(signals.take(), None);
    /// std::process::Command::new("kill").args(["-INT", &std::process::id().to_string()]).status()?;
    /// while !signals.pending() {
    ///     std::thread::yield_now(); // the handler runs when the signal is delivered
    /// }
    /// assert_eq!(signals.take(), Some(2)); // SIGINT
    /// assert_eq!(signals.take(), None); // taken
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn take(&mut self) -> Option<i32> {
        let flagged = PENDING.swap(0, Ordering::SeqCst);
        let mut last = (flagged != 0).then_some(flagged);
        let mut buffer = [0_u8; 64];
        loop {
            match self.read_end.read(&mut buffer) {
                // Cannot happen while `write_end` is open; stop rather than spin.
                Ok(0) => break,
                Ok(read) => {
                    if let Some(&byte) = buffer
                        .get(..read)
                        .unwrap_or_default()
                        .iter()
                        .rev()
                        .find(|&&byte| byte != 0)
                    {
                        last = Some(i32::from(byte));
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                // WouldBlock: drained. Any other error: nothing more can be read.
                Err(_) => break,
            }
        }
        last
    }
}

impl Drop for ShutdownSignals {
    /// Restores the previous dispositions, then clears the handler's fd, then closes the sockets
    /// (in that order, so a late signal never reaches a closed or reused fd).
    fn drop(&mut self) {
        for (signal, previous) in SIGNALS.iter().zip(&self.previous) {
            // Nothing useful can be done on failure, which `sigaction` only reports for invalid
            // arguments; these were valid at install.
            let _ = replace_action(*signal, &previous.0);
        }
        WRITE_FD.store(-1, Ordering::SeqCst);
    }
}

/// The name of a shutdown signal for log messages: `"SIGTERM"`, `"SIGINT"`, else `"signal"`.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        _ => "signal",
    }
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
    use mio::{Events, Poll};
    use std::io::Write;
    use std::sync::{Mutex, MutexGuard};
    use std::time::{Duration, Instant};

    /// Signal dispositions are process-wide: these tests run one at a time.
    static SIGNAL_LOCK: Mutex<()> = Mutex::new(());

    /// Takes the lock, and gives SIGINT its default disposition: the test process may have
    /// started with it ignored (as a background job of a script), which `install` keeps.
    fn serialize() -> MutexGuard<'static, ()> {
        let guard = SIGNAL_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // SAFETY: an all-zero `sigaction` is SIG_DFL with an empty mask and no flags.
        let default: libc::sigaction = unsafe { mem::zeroed() };
        replace_action(libc::SIGINT, &default).expect("sigaction");
        guard
    }

    /// Returns the current disposition of `signal` without changing it.
    fn current_action(signal: libc::c_int) -> libc::sigaction {
        current_disposition(signal).unwrap_or_else(|err| panic!("sigaction query: {err}"))
    }

    fn raise(signal: libc::c_int) {
        // SAFETY: `raise` has no memory-safety preconditions. The tests only raise signals whose
        // handler is `on_signal` (the caller holds a live `ShutdownSignals`), which is sound to
        // run at any point; it runs on this thread before `raise` returns.
        let result = unsafe { libc::raise(signal) };
        assert_eq!(result, 0, "raise({signal})");
    }

    /// Polls until an event for `token` arrives, for up to five seconds.
    #[track_caller]
    fn wait_for(poll: &mut Poll, token: Token) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut events = Events::with_capacity(8);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no event for {token:?} within 5 s");
            match poll.poll(&mut events, Some(left)) {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                result => result.expect("poll"),
            }
            if events
                .iter()
                .any(|event| event.token() == token && event.is_readable())
            {
                return;
            }
        }
    }

    #[test]
    fn sigterm_becomes_a_readable_event() {
        let _guard = serialize();
        let mut poll = Poll::new().unwrap();
        let mut signals = ShutdownSignals::install().unwrap();
        signals.register(poll.registry(), Token(7)).unwrap();
        assert_eq!(signals.take(), None);

        raise(libc::SIGTERM);
        wait_for(&mut poll, Token(7));
        assert_eq!(signals.take(), Some(libc::SIGTERM));
        assert_eq!(signals.take(), None, "take drains");
    }

    #[test]
    fn wait_returns_a_pending_signal_or_blocks_until_one_comes() {
        let _guard = serialize();
        let mut signals = ShutdownSignals::install().unwrap();
        raise(libc::SIGINT);
        assert_eq!(signals.wait().unwrap(), libc::SIGINT, "one already pending");

        // On another thread, so that a `wait` that never returns fails the test, not hangs it.
        // The signal comes once the waiter is about to wait: before, in or after its `poll`,
        // every case must return it.
        let (tx, rx) = std::sync::mpsc::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let _ = ready_tx.send(());
            let _ = tx.send(signals.wait().map_err(|err| err.to_string()));
            signals
        });
        ready_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        raise(libc::SIGTERM);
        let got = rx.recv_timeout(Duration::from_secs(5));
        assert_eq!(got, Ok(Ok(libc::SIGTERM)));
        let mut signals = waiter.join().unwrap();
        assert_eq!(signals.take(), None, "wait took it");
    }

    #[test]
    fn take_returns_the_last_of_several_signals() {
        let _guard = serialize();
        let mut poll = Poll::new().unwrap();
        let mut signals = ShutdownSignals::install().unwrap();
        signals.register(poll.registry(), Token(1)).unwrap();

        raise(libc::SIGTERM);
        raise(libc::SIGINT);
        wait_for(&mut poll, Token(1));
        assert_eq!(signals.take(), Some(libc::SIGINT));

        // Edge-triggered: after draining, a new signal produces a new event.
        raise(libc::SIGTERM);
        wait_for(&mut poll, Token(1));
        assert_eq!(signals.take(), Some(libc::SIGTERM));
    }

    #[test]
    fn only_one_instance_at_a_time() {
        let _guard = serialize();
        let first = ShutdownSignals::install().unwrap();
        let err = ShutdownSignals::install().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(
            err.to_string(),
            "shutdown signal handlers are already installed"
        );
        // The failed install must not have disturbed the first one.
        assert_eq!(
            current_action(libc::SIGTERM).sa_sigaction,
            handler_action().sa_sigaction
        );
        drop(first);

        let mut poll = Poll::new().unwrap();
        let mut second = ShutdownSignals::install().expect("install after drop");
        second.register(poll.registry(), Token(2)).unwrap();
        raise(libc::SIGINT);
        wait_for(&mut poll, Token(2));
        assert_eq!(second.take(), Some(libc::SIGINT));
    }

    #[test]
    fn drop_restores_previous_dispositions() {
        let _guard = serialize();
        let original_term = current_action(libc::SIGTERM);
        // Give SIGTERM a disposition that differs from the default, to tell restore from reset.
        // SAFETY: all-zero is a valid `sigaction`; SIG_IGN needs no handler code.
        let mut ignore: libc::sigaction = unsafe { mem::zeroed() };
        ignore.sa_sigaction = libc::SIG_IGN;
        replace_action(libc::SIGTERM, &ignore).unwrap();
        let before_int = current_action(libc::SIGINT).sa_sigaction;

        let signals = ShutdownSignals::install().unwrap();
        let ours = handler_action().sa_sigaction;
        assert_eq!(current_action(libc::SIGTERM).sa_sigaction, ours);
        assert_eq!(current_action(libc::SIGINT).sa_sigaction, ours);
        assert_ne!(
            current_action(libc::SIGTERM).sa_flags & libc::SA_RESTART,
            0,
            "SA_RESTART"
        );
        assert!(format!("{signals:?}").contains("SIG_IGN"), "{signals:?}");
        drop(signals);

        assert_eq!(current_action(libc::SIGTERM).sa_sigaction, libc::SIG_IGN);
        assert_eq!(current_action(libc::SIGINT).sa_sigaction, before_int);
        assert_eq!(WRITE_FD.load(Ordering::SeqCst), -1);
        replace_action(libc::SIGTERM, &original_term).unwrap();
    }

    #[test]
    fn an_ignored_sigint_stays_ignored() {
        let _guard = serialize();
        // SAFETY: all-zero is a valid `sigaction`; SIG_IGN needs no handler code.
        let mut ignore: libc::sigaction = unsafe { mem::zeroed() };
        ignore.sa_sigaction = libc::SIG_IGN;
        replace_action(libc::SIGINT, &ignore).unwrap();
        let signals = ShutdownSignals::install().unwrap();
        assert_eq!(current_action(libc::SIGINT).sa_sigaction, libc::SIG_IGN);
        assert_eq!(
            current_action(libc::SIGTERM).sa_sigaction,
            handler_action().sa_sigaction
        );
        drop(signals);
        assert_eq!(current_action(libc::SIGINT).sa_sigaction, libc::SIG_IGN);
    }

    #[test]
    fn handler_preserves_errno_when_send_fails() {
        let _guard = serialize();
        let mut signals = ShutdownSignals::install().unwrap();
        // Fill the socket so the handler's send fails with EAGAIN and would set errno.
        let chunk = [0_u8; 4096];
        for size in [chunk.len(), 1] {
            loop {
                match (&signals.write_end).write(&chunk[..size]) {
                    Ok(_) => {}
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                    Err(err) => panic!("filling the socket: {err}"),
                }
            }
        }
        const SENTINEL: i32 = 12345;
        // SAFETY: `__errno_location` returns a valid pointer to this thread's errno.
        unsafe { *libc::__errno_location() = SENTINEL };
        on_signal(libc::SIGTERM);
        assert_eq!(io::Error::last_os_error().raw_os_error(), Some(SENTINEL));
        // Zero bytes are not signals; the SIGTERM whose byte was dropped is still taken, from
        // the pending flag.
        assert!(signals.pending());
        assert_eq!(signals.take(), Some(libc::SIGTERM));
        assert!(!signals.pending());
        assert_eq!(signals.take(), None);
    }

    #[test]
    fn signal_names() {
        let cases = [
            (libc::SIGTERM, "SIGTERM"),
            (libc::SIGINT, "SIGINT"),
            (libc::SIGHUP, "signal"),
            (0, "signal"),
            (-1, "signal"),
        ];
        for (signal, name) in cases {
            assert_eq!(signal_name(signal), name, "{signal}");
        }
    }
}
