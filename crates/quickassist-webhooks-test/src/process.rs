//! What the server processes share: free loopback ports, a retry when another process takes
//! the chosen port first, and a readiness poll with a deadline (blocking: the servers start
//! from synchronous code, `spawn_blocking` in async tests).

use std::{
    io,
    net::TcpListener,
    process::{Child, ExitStatus},
    time::{Duration, Instant},
};

/// How many fresh ports a server tries when another process takes the free port between the
/// moment it is found and the moment the server binds it.
const PORT_ATTEMPTS: usize = 3;

/// A server the kit runs as a child process: how to tell that it answers, what to say when
/// it exited first, and how to stop it. [`adopt`] drives these.
pub(crate) trait ServerProcess {
    /// What the timeout error says: "`NOT_READY` within ...".
    const NOT_READY: &'static str;
    /// How long the server may take to answer.
    const READY_WITHIN: Duration;
    /// The first and the longest pause between two checks.
    const PAUSES: (Duration, Duration);

    /// Where the server keeps its child process.
    fn child(&mut self) -> &mut Option<Child>;
    /// Whether the server answers yet.
    fn answers(&mut self) -> io::Result<bool>;
    /// The error for a server that exited with `status` before it answered.
    fn exited(&self, status: ExitStatus) -> io::Error;
    /// Stops the server (after it failed to become ready).
    fn halt(&mut self);
}

/// Keeps `child` as `server`'s process and waits until it answers. A server that exits
/// first (most likely because its port was taken) or never answers is stopped, and the
/// error returned.
pub(crate) fn adopt<S: ServerProcess>(server: &mut S, child: Child) -> io::Result<()> {
    *server.child() = Some(child);
    let ready = wait_until_ready(S::NOT_READY, S::READY_WITHIN, S::PAUSES, || {
        if server.answers()? {
            return Ok(true);
        }
        // A server that exited will never answer.
        match server.child().as_mut().map(Child::try_wait).transpose()? {
            Some(Some(status)) => Err(server.exited(status)),
            _ => Ok(false),
        }
    });
    if ready.is_err() {
        server.halt();
    }
    ready
}

/// `N` distinct free loopback ports (held together while chosen, so they differ).
pub(crate) fn free_ports<const N: usize>() -> io::Result<[u16; N]> {
    let listeners = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<io::Result<Vec<_>>>()?;
    let mut ports = [0; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener.local_addr()?.port();
    }
    Ok(ports)
}

/// Runs `start` (which picks fresh ports) again while it fails with
/// [`io::ErrorKind::AddrInUse`], at most [`PORT_ATTEMPTS`] times in all.
pub(crate) fn on_free_ports<T>(mut start: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    let mut attempt = 1;
    loop {
        match start() {
            Err(error) if error.kind() == io::ErrorKind::AddrInUse && attempt < PORT_ATTEMPTS => {
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// Calls `ready` until it answers `true`, pausing `first_pause` at first and twice as long
/// each time up to `max_pause`; an error from `ready` (the process exited, say) ends the
/// wait. After `within`, a [`io::ErrorKind::TimedOut`] error: "`not_ready` within `within`".
pub(crate) fn wait_until_ready(
    not_ready: &str,
    within: Duration,
    (first_pause, max_pause): (Duration, Duration),
    mut ready: impl FnMut() -> io::Result<bool>,
) -> io::Result<()> {
    let deadline = Instant::now() + within;
    let mut pause = first_pause;
    loop {
        if ready()? {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{not_ready} within {within:?}"),
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(max_pause);
    }
}
