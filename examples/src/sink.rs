//! [`EventSink`]: what the receivers do with each verified, de-duplicated event.

use std::{
    error::Error,
    fmt,
    io::{self, Write},
};

use quickassist_webhooks::Envelope;

/// Processes one delivery. Called once per delivery (duplicates never reach it); an error
/// makes the receiver answer 500, which releases the delivery so the provider's retry is
/// processed.
///
/// Runs on the async runtime: keep it quick, or hand the event to a queue.
pub trait EventSink: Send + Sync + 'static {
    /// Processes `envelope`.
    ///
    /// # Errors
    ///
    /// [`SinkError`] when the event could not be processed and should be retried.
    fn process(&self, envelope: &Envelope) -> Result<(), SinkError>;
}

/// Why an [`EventSink`] could not process an event.
#[derive(Debug)]
pub struct SinkError(Box<dyn Error + Send + Sync>);

impl SinkError {
    /// Wraps the cause: an error, or a message.
    ///
    /// ```
    /// let error = quickassist_examples::SinkError::new("database unavailable");
    /// assert_eq!(error.to_string(), "database unavailable");
    /// ```
    pub fn new(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self(cause.into())
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Error for SinkError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.0)
    }
}

impl From<io::Error> for SinkError {
    fn from(error: io::Error) -> Self {
        Self::new(error)
    }
}

/// Prints each event as one compact JSON line on stdout: the envelope as the provider sent it
/// (`event`, `timestamp`, `data`, `webhookId`, and any other top-level field).
#[derive(Clone, Copy, Debug, Default)]
pub struct PrintSink;

impl EventSink for PrintSink {
    fn process(&self, envelope: &Envelope) -> Result<(), SinkError> {
        let line = serde_json::to_string(envelope).map_err(SinkError::new)?;
        // One locked write per line, so concurrent deliveries never interleave.
        let mut stdout = io::stdout().lock();
        writeln!(stdout, "{line}")?;
        stdout.flush()?;
        Ok(())
    }
}
