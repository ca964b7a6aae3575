//! Event lines on stdout without blocking the runtime.
//!
//! Lines go through a bounded queue to one writer thread (not a runtime worker, and not
//! tokio's blocking pool, which a shutting-down runtime would wait for). When stdout stalls
//! (a pipe whose reader stopped reading), the queue fills and [`print_line`] fails at once or
//! after [`PRINT_TIMEOUT`]: the delivery is answered 500 and released, so the sender's retry
//! is processed; other requests are still answered and SIGTERM still stops `listen`.

use std::{
    io::{self, Write},
    sync::{mpsc, OnceLock},
    time::Duration,
};

use tokio::sync::oneshot;

/// How long a line may take to be written and flushed.
const PRINT_TIMEOUT: Duration = Duration::from_secs(2);

/// How many lines may wait for the writer at once.
const CAPACITY: usize = 256;

type Line = (Vec<u8>, oneshot::Sender<io::Result<()>>);

fn queue() -> &'static mpsc::SyncSender<Line> {
    static QUEUE: OnceLock<mpsc::SyncSender<Line>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (lines, queue) = mpsc::sync_channel::<Line>(CAPACITY);
        let spawned = std::thread::Builder::new()
            .name("stdout".into())
            .spawn(move || {
                let mut stdout = io::stdout();
                for (line, written) in queue {
                    let _ = written.send(stdout.write_all(&line).and_then(|()| stdout.flush()));
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot start the stdout writer; events are not printed");
        }
        lines
    })
}

/// Writes `line` and a newline on stdout; `false` when stdout is closed or not draining.
pub(super) async fn print_line(mut line: Vec<u8>) -> bool {
    line.push(b'\n');
    let (written, done) = oneshot::channel();
    if queue().try_send((line, written)).is_err() {
        return false;
    }
    matches!(
        tokio::time::timeout(PRINT_TIMEOUT, done).await,
        Ok(Ok(Ok(())))
    )
}
