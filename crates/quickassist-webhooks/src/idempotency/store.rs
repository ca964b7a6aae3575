//! The [`IdempotencyStore`] trait: the claim state machine every store implements.

use std::{error::Error, fmt, future::Future, pin::Pin, sync::Arc, time::Duration};

use super::IdempotencyKey;

/// A unique token proving ownership of one claim.
///
/// A store hands it out with [`Claim::New`]; only the holder may [`complete`] or [`release`]
/// that claim. If the lease expired and another receiver claimed the key meanwhile, the old
/// token no longer matches and the stale owner cannot touch the new owner's claim.
///
/// [`complete`]: IdempotencyStore::complete
/// [`release`]: IdempotencyStore::release
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClaimToken(u128);

impl ClaimToken {
    /// Wraps a raw token value.
    #[must_use]
    pub const fn new(value: u128) -> Self {
        Self(value)
    }

    /// A fresh token, unique with overwhelming probability across processes and machines
    /// (random bits from the standard library's per-process keyed hasher, plus a counter).
    #[must_use]
    pub fn random() -> Self {
        use std::{
            collections::hash_map::RandomState,
            hash::{BuildHasher, Hasher},
            sync::atomic::{AtomicU64, Ordering},
        };
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut high = RandomState::new().build_hasher();
        high.write_u64(count);
        let mut low = RandomState::new().build_hasher();
        low.write_u64(count ^ 0x9e37_79b9_7f4a_7c15);
        Self((u128::from(high.finish()) << 64) | u128::from(low.finish()))
    }

    /// The raw token value.
    #[must_use]
    pub const fn get(self) -> u128 {
        self.0
    }
}

/// The answer of [`IdempotencyStore::claim`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key was unknown (or its lease had expired): it is now in flight, owned by this
    /// token, until completed, released, or the lease expires.
    New(ClaimToken),
    /// Another delivery of the same key is being processed right now.
    InFlight,
    /// The key was processed successfully and is remembered for the done-TTL.
    Done,
}

/// An error from the store's backend (connection lost, timeout…).
///
/// Its `Display` says what failed without including keys' plaintext or secrets.
#[derive(Debug, thiserror::Error)]
#[error("idempotency store unavailable: {source}")]
pub struct StoreError {
    #[source]
    source: Box<dyn Error + Send + Sync>,
}

impl StoreError {
    /// Wraps a backend error.
    pub fn new(source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self {
            source: source.into(),
        }
    }

    /// The error for an operation that did not finish within the store's timeout.
    #[must_use]
    pub fn timeout(after: Duration) -> Self {
        Self::new(format!("operation timed out after {after:?}"))
    }
}

/// The boxed future the store methods return (keeps [`IdempotencyStore`] object-safe, so
/// integrations can hold an `Arc<dyn IdempotencyStore>`).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Where deliveries are remembered: a claim state machine per [`IdempotencyKey`].
///
/// ```text
///  (unknown) --claim--> in flight(token, lease) --complete(token, ttl)--> done (for ttl)
///                          |        ^                                       |
///             release(token) or lease expiry                            ttl expiry
///                          v                                                v
///                      (unknown)                                        (unknown)
/// ```
///
/// Implementations must make `claim` atomic: of any number of concurrent claims of one
/// unknown key, exactly one gets [`Claim::New`]. `complete` and `release` act only when the
/// token still owns the claim and return `false` otherwise.
///
/// The crate ships [`MemoryStore`](super::MemoryStore) (one process); `quickassist-webhooks-redis`
/// shares claims between replicas.
pub trait IdempotencyStore: Send + Sync + fmt::Debug + 'static {
    /// Atomically claims `key` for `lease` if it is unknown.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend cannot answer.
    fn claim<'a>(&'a self, key: &'a IdempotencyKey, lease: Duration) -> StoreFuture<'a, Claim>;

    /// Marks the claim owned by `token` as done, remembered for `ttl`.
    /// Returns `false` when `token` no longer owns the claim (its lease expired).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend cannot answer.
    fn complete<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        token: ClaimToken,
        ttl: Duration,
    ) -> StoreFuture<'a, bool>;

    /// Forgets the claim owned by `token`, so the next delivery of `key` is processed.
    /// Returns `false` when `token` no longer owns the claim.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend cannot answer.
    fn release<'a>(&'a self, key: &'a IdempotencyKey, token: ClaimToken) -> StoreFuture<'a, bool>;

    /// Whether claims live only inside this process, as in [`MemoryStore`](super::MemoryStore):
    /// other replicas, and other instances of a serverless function, each keep their own and
    /// do not see them. `false` (the default) for stores that share claims (Redis,
    /// PostgreSQL).
    ///
    /// A [`Receiver`](crate::receive::Receiver) built with a process-local store on a
    /// serverless runtime logs a warning (see
    /// [`ReceiverBuilder::allow_process_local_store`](crate::receive::ReceiverBuilder::allow_process_local_store)).
    ///
    /// ```
    /// use quickassist_webhooks::idempotency::{IdempotencyStore, MemoryStore};
    ///
    /// assert!(MemoryStore::new().is_process_local());
    /// ```
    fn is_process_local(&self) -> bool {
        false
    }
}

macro_rules! forward_store {
    ($($ty:ty),*) => {$(
        impl<S: IdempotencyStore + ?Sized> IdempotencyStore for $ty {
            fn claim<'a>(&'a self, key: &'a IdempotencyKey, lease: Duration) -> StoreFuture<'a, Claim> {
                (**self).claim(key, lease)
            }
            fn complete<'a>(
                &'a self,
                key: &'a IdempotencyKey,
                token: ClaimToken,
                ttl: Duration,
            ) -> StoreFuture<'a, bool> {
                (**self).complete(key, token, ttl)
            }
            fn release<'a>(&'a self, key: &'a IdempotencyKey, token: ClaimToken) -> StoreFuture<'a, bool> {
                (**self).release(key, token)
            }
            fn is_process_local(&self) -> bool {
                (**self).is_process_local()
            }
        }
    )*};
}

forward_store!(Arc<S>, Box<S>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_differ() {
        let tokens: std::collections::HashSet<_> =
            (0..10_000).map(|_| ClaimToken::random()).collect();
        assert_eq!(tokens.len(), 10_000);
    }

    #[test]
    fn store_error_says_what_failed() {
        let err = StoreError::timeout(Duration::from_millis(250));
        assert_eq!(
            err.to_string(),
            "idempotency store unavailable: operation timed out after 250ms"
        );
    }
}
