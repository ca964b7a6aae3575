use quickassist_webhooks::idempotency::Deduplicator;
use tower_layer::Layer;

use super::Idempotency;

/// Applies [`Idempotency`]: each delivery reaches the inner service once.
///
/// See the [module docs](crate::idempotency) for the answers and an example.
#[derive(Clone, Debug)]
#[must_use]
pub struct IdempotencyLayer {
    dedup: Deduplicator,
}

impl IdempotencyLayer {
    /// A layer admitting deliveries through `dedup` (its store, key function, TTL, lease and
    /// failure mode).
    pub fn new(dedup: Deduplicator) -> Self {
        Self { dedup }
    }

    /// The deduplicator this layer admits deliveries through.
    pub fn deduplicator(&self) -> &Deduplicator {
        &self.dedup
    }
}

impl<S> Layer<S> for IdempotencyLayer {
    type Service = Idempotency<S>;

    fn layer(&self, inner: S) -> Idempotency<S> {
        Idempotency::new(inner, self.dedup.clone())
    }
}
