//! What "processing an event" means in the example receivers: one JSON line on stdout,
//! written without ever blocking the async runtime.
//!
//! Lines go through a bounded queue to one writer thread (not a runtime worker, and not
//! tokio's blocking pool, which a shutting-down runtime would wait for). When stdout stalls
//! (a reader that stopped reading), the queue fills and [`print_event`] fails at once or
//! after [`PRINT_TIMEOUT`]: the handler answers 500, the delivery is released and the
//! provider's retry is processed, while every other request is still answered and SIGTERM
//! still shuts the receiver down. A line that timed out may still be written once stdout
//! drains, so a stalled sink gives at-least-once output.

use std::{
    fmt,
    io::{self, Write},
    sync::{mpsc, OnceLock},
    time::Duration,
};

use quickassist_webhooks::Envelope;
use tokio::sync::oneshot;

/// How long [`print_event`] waits for its line to be written and flushed.
pub const PRINT_TIMEOUT: Duration = Duration::from_secs(2);

/// How many lines may wait for the writer at once.
pub const SINK_CAPACITY: usize = 256;

/// Why an event could not be printed; the receiver answers 500 so that it is retried.
#[derive(Debug)]
#[non_exhaustive]
pub enum SinkError {
    /// Stdout has not kept up: the queue is full or the line was not written in time.
    Stalled,
    /// Writing failed (stdout closed).
    Io(io::Error),
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stalled => f.write_str("stdout is not draining"),
            Self::Io(error) => write!(f, "cannot write to stdout: {error}"),
        }
    }
}

impl std::error::Error for SinkError {}

type Line = (Vec<u8>, oneshot::Sender<io::Result<()>>);

/// A bounded, non-blocking line writer in front of a blocking `Write`.
///
/// ```
/// use quickassist_examples::LineSink;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let sink = LineSink::new(std::io::sink(), 8, std::time::Duration::from_secs(1));
/// sink.write_line(b"{}".to_vec()).await?;
/// # Ok::<(), quickassist_examples::SinkError>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct LineSink {
    lines: mpsc::SyncSender<Line>,
    timeout: Duration,
}

impl LineSink {
    /// Starts the writer thread for `writer`, with room for `capacity` waiting lines; each
    /// [`write_line`](Self::write_line) waits at most `timeout`.
    ///
    /// # Panics
    ///
    /// When the operating system cannot start a thread.
    #[must_use]
    pub fn new(
        mut writer: impl Write + Send + 'static,
        capacity: usize,
        timeout: Duration,
    ) -> Self {
        let (lines, queue) = mpsc::sync_channel::<Line>(capacity);
        std::thread::Builder::new()
            .name("event-sink".into())
            .spawn(move || {
                for (mut line, written) in queue {
                    line.push(b'\n');
                    let _ = written.send(writer.write_all(&line).and_then(|()| writer.flush()));
                }
            })
            .expect("start the event-sink thread");
        Self { lines, timeout }
    }

    /// Queues `line` (a newline is added) and waits until it is written and flushed.
    ///
    /// # Errors
    ///
    /// [`SinkError::Stalled`] at once when the queue is full, or when the line is not
    /// written within the timeout; [`SinkError::Io`] when writing failed.
    pub async fn write_line(&self, line: Vec<u8>) -> Result<(), SinkError> {
        let done = self.try_queue(line)?;
        match tokio::time::timeout(self.timeout, done).await {
            Ok(Ok(result)) => result.map_err(SinkError::Io),
            Ok(Err(_)) => Err(SinkError::Stalled), // the writer thread is gone
            Err(_) => Err(SinkError::Stalled),
        }
    }
}

impl LineSink {
    /// Queues `line` without waiting; the receiver tells when it is written.
    fn try_queue(&self, line: Vec<u8>) -> Result<oneshot::Receiver<io::Result<()>>, SinkError> {
        let (written, done) = oneshot::channel();
        self.lines
            .try_send((line, written))
            .map_err(|_| SinkError::Stalled)?;
        Ok(done)
    }
}

/// The process's stdout sink.
fn stdout() -> &'static LineSink {
    static STDOUT: OnceLock<LineSink> = OnceLock::new();
    STDOUT.get_or_init(|| LineSink::new(io::stdout(), SINK_CAPACITY, PRINT_TIMEOUT))
}

/// Writes `envelope` as one compact JSON line on stdout (the provider's camelCase form),
/// flushed before it returns, without blocking the runtime.
///
/// # Errors
///
/// [`SinkError`] when stdout is closed or does not drain (see [`LineSink`]); the
/// receiver then answers 500, so the provider's retry is processed.
///
/// ```
/// use quickassist_examples::print_event;
/// use quickassist_webhooks::testing::sample;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// print_event(&sample("message.read", "whk_1")).await?;
/// # Ok::<(), quickassist_examples::SinkError>(())
/// # }).unwrap();
/// ```
pub async fn print_event(envelope: &Envelope) -> Result<(), SinkError> {
    let line = serde_json::to_vec(envelope).map_err(|error| SinkError::Io(error.into()))?;
    stdout().write_line(line).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that says when it is entered, then blocks until the test lets it go.
    struct Blocked {
        entered: mpsc::Sender<()>,
        release: mpsc::Receiver<()>,
    }

    impl Write for Blocked {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let _ = self.entered.send(());
            let _ = self.release.recv();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_stalled_writer_fails_lines_instead_of_blocking() {
        let (entered, writing) = mpsc::channel();
        let (release, blocked) = mpsc::channel();
        let writer = Blocked {
            entered,
            release: blocked,
        };
        let sink = LineSink::new(writer, 1, Duration::from_millis(50));
        // The first line blocks in the writer: it is not confirmed in time.
        assert!(matches!(
            sink.write_line(b"1".to_vec()).await,
            Err(SinkError::Stalled)
        ));
        writing.recv().unwrap();
        // The second waits in the queue and is not confirmed either; the third finds the
        // queue full and fails at once.
        assert!(matches!(
            sink.write_line(b"2".to_vec()).await,
            Err(SinkError::Stalled)
        ));
        assert!(matches!(
            sink.try_queue(b"3".to_vec()),
            Err(SinkError::Stalled)
        ));
        drop(release);
    }

    #[tokio::test]
    async fn a_draining_writer_confirms_each_line() {
        let sink = LineSink::new(io::sink(), 4, Duration::from_secs(5));
        for n in 0..10 {
            sink.write_line(format!("{n}").into_bytes()).await.unwrap();
        }
    }
}
