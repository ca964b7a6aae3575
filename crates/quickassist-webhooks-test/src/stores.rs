//! Stores for failure paths: [`DownStore`], whose backend is down, and [`SlowCompletion`],
//! whose completions wait until the test lets them through.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use quickassist_webhooks::idempotency::{
    Claim, ClaimToken, IdempotencyKey, IdempotencyStore, MemoryStore, StoreError, StoreFuture,
};
use tokio::sync::{Notify, Semaphore};

/// A store whose backend is down: every call fails with a [`StoreError`] ("connection
/// refused"), at once. Counts the calls it gets.
///
/// ```
/// use quickassist_webhooks::idempotency::{IdempotencyKey, IdempotencyStore};
/// use quickassist_webhooks_test::DownStore;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let store = DownStore::default();
/// let key = IdempotencyKey::new("whk_1");
/// assert!(store.claim(&key, std::time::Duration::from_secs(60)).await.is_err());
/// assert_eq!(store.calls(), 1);
/// # }
/// ```
#[derive(Debug, Default)]
pub struct DownStore {
    calls: AtomicUsize,
}

impl DownStore {
    /// How many calls (claims, completions, releases) the store got.
    #[must_use]
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn fail<T: Send + 'static>(&self) -> StoreFuture<'_, T> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::ready(Err(StoreError::new(
            "connection refused",
        ))))
    }
}

impl IdempotencyStore for DownStore {
    fn claim<'a>(&'a self, _: &'a IdempotencyKey, _: Duration) -> StoreFuture<'a, Claim> {
        self.fail()
    }

    fn complete<'a>(
        &'a self,
        _: &'a IdempotencyKey,
        _: ClaimToken,
        _: Duration,
    ) -> StoreFuture<'a, bool> {
        self.fail()
    }

    fn release<'a>(&'a self, _: &'a IdempotencyKey, _: ClaimToken) -> StoreFuture<'a, bool> {
        self.fail()
    }
}

/// A store (a [`MemoryStore`] unless [`wrapping`](Self::wrapping) another) whose `complete`
/// announces that it started, waits until the test lets one completion through
/// ([`allow_one`](Self::allow_one)), then announces that it finished. Claims and releases go
/// straight to the inner store.
///
/// For the cancellation tests: a client that goes away while its delivery's completion is
/// still under way.
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use quickassist_webhooks::idempotency::{Claim, IdempotencyKey, IdempotencyStore};
/// use quickassist_webhooks_test::SlowCompletion;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let store = Arc::new(SlowCompletion::new());
/// let key = IdempotencyKey::new("whk_1");
/// let Ok(Claim::New(token)) = store.claim(&key, Duration::from_secs(60)).await else {
///     panic!("a fresh key is new")
/// };
/// let completing = tokio::spawn({
///     let store = Arc::clone(&store);
///     async move { store.complete(&key, token, Duration::from_secs(60)).await }
/// });
/// store.started().await;
/// store.allow_one();
/// store.finished().await;
/// assert!(completing.await.unwrap().unwrap());
/// # }
/// ```
#[derive(Debug)]
pub struct SlowCompletion<S = MemoryStore> {
    inner: S,
    permits: Semaphore,
    started: Notify,
    finished: Notify,
}

impl SlowCompletion {
    /// Slow completions over a fresh [`MemoryStore`].
    #[must_use]
    pub fn new() -> Self {
        Self::wrapping(MemoryStore::new())
    }
}

impl Default for SlowCompletion {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> SlowCompletion<S> {
    /// Slow completions over `inner`.
    #[must_use]
    pub fn wrapping(inner: S) -> Self {
        Self {
            inner,
            permits: Semaphore::new(0),
            started: Notify::new(),
            finished: Notify::new(),
        }
    }

    /// Lets one waiting (or future) completion through.
    pub fn allow_one(&self) {
        self.permits.add_permits(1);
    }

    /// Waits until a completion has started (it then waits for [`allow_one`](Self::allow_one)).
    pub async fn started(&self) {
        self.started.notified().await;
    }

    /// Waits until a completion has finished.
    pub async fn finished(&self) {
        self.finished.notified().await;
    }
}

impl<S: IdempotencyStore> IdempotencyStore for SlowCompletion<S> {
    fn claim<'a>(&'a self, key: &'a IdempotencyKey, lease: Duration) -> StoreFuture<'a, Claim> {
        self.inner.claim(key, lease)
    }

    fn complete<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        token: ClaimToken,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            self.started.notify_one();
            let _permit = self.permits.acquire().await.map_err(StoreError::new)?;
            let completed = self.inner.complete(key, token, ttl).await;
            self.finished.notify_one();
            completed
        })
    }

    fn release<'a>(&'a self, key: &'a IdempotencyKey, token: ClaimToken) -> StoreFuture<'a, bool> {
        self.inner.release(key, token)
    }
}
