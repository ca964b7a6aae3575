use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Mutex,
};

use quickassist_webhooks::Envelope;

/// What the test receivers' handlers feed: records what was processed, and can be told to
/// fail (the handler then answers 500).
#[derive(Debug, Default)]
pub struct RecordingSink {
    processed: Mutex<Vec<Envelope>>,
    failures_left: AtomicUsize,
}

impl RecordingSink {
    /// Makes the next `count` deliveries fail (the handler answers 500).
    pub fn fail_next(&self, count: usize) {
        self.failures_left.store(count, Ordering::SeqCst);
    }

    /// Everything processed successfully so far.
    #[must_use]
    pub fn processed(&self) -> Vec<Envelope> {
        self.processed.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// How many times the delivery `webhook_id` was processed successfully.
    #[must_use]
    pub fn count(&self, webhook_id: &str) -> usize {
        self.processed()
            .iter()
            .filter(|envelope| envelope.webhook_id == webhook_id)
            .count()
    }

    /// Records `envelope`, or fails when told to (the handler then answers 500).
    ///
    /// # Errors
    ///
    /// `"told to fail"` while failures are left.
    pub fn process(&self, envelope: &Envelope) -> Result<(), &'static str> {
        let fail = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if fail {
            return Err("told to fail");
        }
        if let Ok(mut processed) = self.processed.lock() {
            processed.push(envelope.clone());
        }
        Ok(())
    }
}
