//! What the server processes share: free loopback ports, a retry when another process takes
//! the chosen port first, and a readiness poll with a deadline (blocking: the servers start
//! from synchronous code, `spawn_blocking` in async tests).

use std::{
    io,
    net::TcpListener,
    time::{Duration, Instant},
};

/// How many fresh ports a server tries when another process takes the free port between the
/// moment it is found and the moment the server binds it.
const PORT_ATTEMPTS: usize = 3;

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
