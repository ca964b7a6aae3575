//! [`ManualClock`]: a clock the test moves by hand.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use quickassist_webhooks::idempotency::MemoryStore;

/// A clock the test moves by hand, so that leases and done-TTLs of a [`MemoryStore`] expire
/// without sleeping. Clones share one time.
///
/// ```
/// use std::time::Duration;
/// use quickassist_webhooks::idempotency::{Claim, IdempotencyKey, IdempotencyStore};
/// use quickassist_webhooks_test::ManualClock;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let clock = ManualClock::new();
/// let store = clock.memory_store(1024);
/// let key = IdempotencyKey::new("whk_1");
/// let lease = Duration::from_secs(60);
/// assert!(matches!(store.claim(&key, lease).await, Ok(Claim::New(_))));
/// assert_eq!(store.claim(&key, lease).await.unwrap(), Claim::InFlight);
/// clock.advance(lease);
/// assert!(matches!(store.claim(&key, lease).await, Ok(Claim::New(_))));
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    base: Instant,
    offset_ms: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at the present instant, moving only when [`advance`](Self::advance)d.
    #[must_use]
    pub fn new() -> Self {
        Self {
            base: Instant::now(),
            offset_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Moves the clock (and its clones) forward by `by`, to the millisecond.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// The clock's time.
    #[must_use]
    pub fn now(&self) -> Instant {
        self.base + Duration::from_millis(self.offset_ms.load(Ordering::SeqCst))
    }

    /// A [`MemoryStore`] of `capacity` keys that reads its time from this clock.
    #[must_use]
    pub fn memory_store(&self, capacity: u64) -> MemoryStore {
        let clock = self.clone();
        MemoryStore::builder()
            .capacity(capacity)
            .clock(move || clock.now())
            .build()
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}
