//! What "processing an event" means in the example receivers: one JSON line on stdout.

use std::io::{self, Write};

use quickassist_webhooks::Envelope;

/// Writes `envelope` as one compact JSON line on stdout (the provider's camelCase form),
/// flushed at once so that a reader sees each event as it is processed.
///
/// # Errors
///
/// The I/O error when stdout is closed or full; the receiver then answers 500, so the
/// provider's retry is processed.
///
/// ```
/// use quickassist_examples::print_event;
/// use quickassist_webhooks::testing::{sample, PROVIDER_SAMPLE};
///
/// print_event(&sample("message.read", "whk_1"))?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn print_event(envelope: &Envelope) -> io::Result<()> {
    let line = serde_json::to_string(envelope)?;
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()
}
