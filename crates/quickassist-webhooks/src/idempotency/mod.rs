//! Process each delivery once: the claim state machine, its stores and the [`Deduplicator`].
//!
//! The provider retries a delivery until it gets a 2xx, and may deliver the same event more
//! than once. A [`Deduplicator`] remembers each delivery by a key (by default its
//! `webhookId`, digested to a 16-byte [`IdempotencyKey`]) in an [`IdempotencyStore`]:
//!
//! 1. [`Deduplicator::admit`] claims the key. A new key yields [`Admission::Process`] with a
//!    [`DeliveryGuard`]; a processed one [`Admission::Duplicate`] (answer 200, do nothing);
//!    one being processed right now [`DedupRejection::InFlight`] (answer 409; the provider
//!    retries later).
//! 2. The handler runs.
//! 3. [`DeliveryGuard::complete`] remembers the delivery for the done-TTL (default 24 h); on
//!    failure [`DeliveryGuard::release`] (or simply dropping the guard) forgets the claim so
//!    the retry is processed. A receiver that dies mid-delivery leaves a claim that expires
//!    with its lease (default 60 s).
//!
//! When the store fails, the [`FailureMode`] decides: `Closed` (the default) refuses with
//! [`DedupRejection::StoreUnavailable`] (503, the provider retries), `Open` processes anyway.
//!
//! [`MemoryStore`] (feature `memory-store`, on by default) keeps claims in this process;
//! `quickassist-webhooks-redis` shares them between replicas.
//!
//! # Replays
//!
//! De-duplication remembers a delivery only for the done-TTL, so a replay of a genuine signed
//! delivery arriving later would be processed again. Bound replays with the verifier's
//! timestamp tolerance and check it against the TTL with
//! [`Deduplicator::check_replay_window`], which refuses a window the TTL does not cover.
//!
//! # Example
//!
//! ```
//! use quickassist_webhooks::idempotency::{Admission, DedupRejection, Deduplicator};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let dedup = Deduplicator::memory();
//!
//! let Admission::Process(guard) = dedup.admit_key("whk_abc123").await? else {
//!     unreachable!("the first delivery is processed");
//! };
//! // While the handler runs, a concurrent duplicate is told to come back later.
//! assert!(matches!(
//!     dedup.admit_key("whk_abc123").await,
//!     Err(DedupRejection::InFlight { .. })
//! ));
//! guard.complete().await?;
//! // Once processed, duplicates are acknowledged without processing.
//! assert!(matches!(dedup.admit_key("whk_abc123").await?, Admission::Duplicate));
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod dedup;
mod guard;
mod key;
#[cfg(feature = "memory-store")]
mod memory;
mod store;

pub use dedup::{
    Admission, ConfigError, DedupRejection, Deduplicator, FailureMode, KeyFn, DEFAULT_DONE_TTL,
    DEFAULT_LEASE,
};
pub use guard::DeliveryGuard;
pub use key::IdempotencyKey;
#[cfg(feature = "memory-store")]
pub use memory::{
    MemoryStore, MemoryStoreBuilder, BYTES_PER_KEY, DEFAULT_CAPACITY, DEFAULT_MAX_MEMORY,
    MEMORY_STORE_EARLY_EVICTIONS_TOTAL,
};
pub use store::{Claim, ClaimToken, IdempotencyStore, StoreError, StoreFuture};
