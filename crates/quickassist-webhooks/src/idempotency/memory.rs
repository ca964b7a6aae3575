//! [`MemoryStore`]: the in-process [`IdempotencyStore`], on a bounded `moka` cache.

use std::{
    fmt,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, MutexGuard, PoisonError,
    },
    time::{Duration, Instant},
};

use foldhash::fast::RandomState;
use moka::{policy::EvictionPolicy, sync::Cache, Expiry};

use super::{Claim, ClaimToken, IdempotencyKey, IdempotencyStore, StoreFuture};

/// How many locks serialise the check-then-write of claims, completions and releases: one
/// per key would cost an allocation per operation (what `moka`'s own `and_compute_with`
/// does); a fixed set, chosen by the key's digest, makes two operations on different keys
/// rarely wait for each other.
const STRIPES: usize = 1024;

/// How many keys a [`MemoryStore`] remembers by default.
///
/// A full store takes about 420 bytes of resident memory per key (measured by the
/// `memory_per_key` example: the 16-byte key and slot, and `moka`'s entry, LRU node, expiry
/// timer node and table slot), so about 400 MiB at this capacity. Size it above the number
/// of deliveries you receive per done-TTL.
pub const DEFAULT_CAPACITY: u64 = 1_000_000;

/// An [`IdempotencyStore`] that remembers claims in this process's memory.
///
/// Claims are kept in a [`moka`] cache that is bounded to a fixed number of keys and
/// pre-sized for it. Each entry holds only the 16-byte [`IdempotencyKey`], the claim's state
/// and its deadline, and expires on its own: an in-flight claim when its lease ends, a
/// completed one when its done-TTL ends.
///
/// The cache uses the **LRU** eviction policy. `moka`'s default (TinyLFU) may refuse to admit
/// a new key when the cache is full, which would forget a delivery the moment it was
/// processed and let its duplicate through; LRU always keeps the newest keys and forgets the
/// least recently used ones instead. Choose a capacity above the number of deliveries
/// received within one done-TTL, so that no key is forgotten before its TTL ends.
///
/// Each operation is a lookup and at most one write to the cache, under one of a fixed set
/// of striped locks chosen by the key, so that a check and the write it decides are atomic
/// for that key (two concurrent claims of one key never both get [`Claim::New`]). The
/// cache hashes keys with `foldhash`: keys are already SHA-256 digests, and the default
/// SipHash would cost more than the lookup.
///
/// Claims are shared only within one process: run one replica, or use a shared store such
/// as `quickassist-webhooks-redis` when several replicas receive the same webhooks.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use quickassist_webhooks::idempotency::{Claim, IdempotencyKey, IdempotencyStore, MemoryStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// let key = IdempotencyKey::new("whk_abc123");
///
/// let Claim::New(token) = store.claim(&key, Duration::from_secs(60)).await? else {
///     unreachable!("a new key is claimed");
/// };
/// assert_eq!(store.claim(&key, Duration::from_secs(60)).await?, Claim::InFlight);
/// assert!(store.complete(&key, token, Duration::from_secs(86_400)).await?);
/// assert_eq!(store.claim(&key, Duration::from_secs(60)).await?, Claim::Done);
/// # Ok::<_, quickassist_webhooks::idempotency::StoreError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    cache: Cache<IdempotencyKey, Slot, RandomState>,
    /// See [`STRIPES`]: held while a key's slot is read and then written.
    stripes: Arc<[Mutex<()>]>,
    clock: Arc<Clock>,
    capacity: u64,
    /// Source of claim tokens: unique within this store, which is all a token must be.
    next_token: Arc<AtomicU64>,
}

/// What the store remembers per key: 16 bytes.
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// The owner's token while in flight; [`DONE`] once completed.
    token: u64,
    /// Milliseconds since the store's clock origin after which the slot counts as absent.
    deadline: u64,
}

/// The `token` of a completed slot (tokens handed out start at 1).
const DONE: u64 = 0;

impl Slot {
    fn is_live(self, now: u64) -> bool {
        now < self.deadline
    }
}

/// The store's time source: real time by default, a test clock when given one.
struct Clock {
    now: Box<dyn Fn() -> Instant + Send + Sync>,
    origin: Instant,
}

impl Clock {
    fn new(now: Box<dyn Fn() -> Instant + Send + Sync>) -> Self {
        let origin = now();
        Self { now, origin }
    }

    /// Milliseconds since the origin (0 for a test clock that goes backwards).
    fn now_millis(&self) -> u64 {
        millis((self.now)().saturating_duration_since(self.origin))
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Lets `moka` drop each entry when its deadline passes, freeing memory early; the
/// deadline checks in the store itself keep answers exact in between.
struct SlotExpiry {
    clock: Arc<Clock>,
}

impl SlotExpiry {
    fn remaining(&self, slot: &Slot) -> Option<Duration> {
        let now = self.clock.now_millis();
        Some(Duration::from_millis(slot.deadline.saturating_sub(now)))
    }
}

impl Expiry<IdempotencyKey, Slot> for SlotExpiry {
    fn expire_after_create(
        &self,
        _key: &IdempotencyKey,
        slot: &Slot,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        self.remaining(slot)
    }

    fn expire_after_update(
        &self,
        _key: &IdempotencyKey,
        slot: &Slot,
        _updated_at: std::time::Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        self.remaining(slot)
    }
}

impl MemoryStore {
    /// A store remembering up to [`DEFAULT_CAPACITY`] keys, on real time.
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A store remembering up to `capacity` keys, on real time.
    #[must_use]
    pub fn with_capacity(capacity: u64) -> Self {
        Self::builder().capacity(capacity).build()
    }

    /// A builder, to choose the capacity or a test clock.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder::default()
    }

    /// The most keys this store remembers.
    #[must_use]
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// How many keys the store holds, after running the cache's pending maintenance
    /// (evictions, expirations). Meant for diagnostics and tests, not the hot path.
    #[must_use]
    pub fn entry_count(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }

    fn new_token(&self) -> u64 {
        // Starts at 1 so that no claim ever gets the `DONE` marker.
        self.next_token.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn deadline(&self, now: u64, ttl: Duration) -> u64 {
        now.saturating_add(millis(ttl))
    }

    /// The lock serialising operations on `key`. A poisoned lock guards nothing but `()`:
    /// the cache itself stays consistent, so it is taken over.
    fn lock(&self, key: &IdempotencyKey) -> MutexGuard<'_, ()> {
        let bytes = key.as_bytes();
        // The key is a digest: any two of its bytes are uniformly spread.
        let index = usize::from(u16::from_le_bytes([bytes[14], bytes[15]])) % self.stripes.len();
        self.stripes[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The live slot of `key`, if any: a slot whose deadline passed counts as absent even
    /// before the cache drops it.
    fn live_slot(&self, key: &IdempotencyKey, now: u64) -> Option<Slot> {
        self.cache.get(key).filter(|slot| slot.is_live(now))
    }

    /// The synchronous claim; the trait method wraps it in a ready future.
    fn claim_now(&self, key: &IdempotencyKey, lease: Duration) -> Claim {
        let _serialised = self.lock(key);
        let now = self.clock.now_millis();
        match self.live_slot(key, now) {
            Some(slot) if slot.token == DONE => Claim::Done,
            Some(_) => Claim::InFlight,
            None => {
                let token = self.new_token();
                let deadline = self.deadline(now, lease);
                self.cache.insert(*key, Slot { token, deadline });
                Claim::New(ClaimToken::new(u128::from(token)))
            }
        }
    }

    /// Runs `settle` only if `token` still owns a live claim on `key`; says whether it did.
    fn if_owner(&self, key: &IdempotencyKey, token: ClaimToken, settle: impl FnOnce(u64)) -> bool {
        let _serialised = self.lock(key);
        let now = self.clock.now_millis();
        let owner = self
            .live_slot(key, now)
            .is_some_and(|slot| slot.token != DONE && u128::from(slot.token) == token.get());
        if owner {
            settle(now);
        }
        owner
    }

    fn complete_now(&self, key: &IdempotencyKey, token: ClaimToken, ttl: Duration) -> bool {
        self.if_owner(key, token, |now| {
            let done = Slot {
                token: DONE,
                deadline: self.deadline(now, ttl),
            };
            self.cache.insert(*key, done);
        })
    }

    fn release_now(&self, key: &IdempotencyKey, token: ClaimToken) -> bool {
        self.if_owner(key, token, |_| self.cache.invalidate(key))
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("capacity", &self.capacity)
            .field("entries", &self.cache.entry_count())
            .finish_non_exhaustive()
    }
}

impl IdempotencyStore for MemoryStore {
    fn claim<'a>(&'a self, key: &'a IdempotencyKey, lease: Duration) -> StoreFuture<'a, Claim> {
        // The cache is synchronous and never blocks for long: answer right away.
        let claim = self.claim_now(key, lease);
        Box::pin(std::future::ready(Ok(claim)))
    }

    fn complete<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        token: ClaimToken,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        let owner = self.complete_now(key, token, ttl);
        Box::pin(std::future::ready(Ok(owner)))
    }

    fn release<'a>(&'a self, key: &'a IdempotencyKey, token: ClaimToken) -> StoreFuture<'a, bool> {
        let owner = self.release_now(key, token);
        Box::pin(std::future::ready(Ok(owner)))
    }
}

/// Builds a [`MemoryStore`]: its capacity and, for tests, its clock.
///
/// ```
/// use std::time::Instant;
/// use quickassist_webhooks::idempotency::MemoryStore;
///
/// let store = MemoryStore::builder()
///     .capacity(10_000)
///     .clock(Instant::now)
///     .build();
/// assert_eq!(store.capacity(), 10_000);
/// ```
#[must_use]
pub struct MemoryStoreBuilder {
    capacity: u64,
    clock: Option<Box<dyn Fn() -> Instant + Send + Sync>>,
}

impl Default for MemoryStoreBuilder {
    fn default() -> Self {
        Self {
            capacity: DEFAULT_CAPACITY,
            clock: None,
        }
    }
}

impl fmt::Debug for MemoryStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStoreBuilder")
            .field("capacity", &self.capacity)
            .field("test_clock", &self.clock.is_some())
            .finish()
    }
}

impl MemoryStoreBuilder {
    /// The most keys the store remembers (default [`DEFAULT_CAPACITY`]); the cache is
    /// pre-sized for them.
    pub fn capacity(mut self, capacity: u64) -> Self {
        self.capacity = capacity;
        self
    }

    /// The time source leases and TTLs are checked against (default [`Instant::now`]).
    ///
    /// A test can hand in a clock it advances by hand, to expire claims without sleeping.
    /// The cache's own background expiry still follows real time; it only frees memory, and
    /// the store's answers follow this clock.
    pub fn clock(mut self, now: impl Fn() -> Instant + Send + Sync + 'static) -> Self {
        self.clock = Some(Box::new(now));
        self
    }

    /// Builds the store.
    #[must_use]
    pub fn build(self) -> MemoryStore {
        let clock = Arc::new(Clock::new(
            self.clock.unwrap_or_else(|| Box::new(Instant::now)),
        ));
        // Pre-size the table so that filling it never pauses to rehash; cap the hint so
        // that an enormous capacity does not reserve memory it may never use.
        let initial = usize::try_from(self.capacity.min(DEFAULT_CAPACITY)).unwrap_or(0);
        let cache = Cache::builder()
            .max_capacity(self.capacity)
            .initial_capacity(initial)
            .eviction_policy(EvictionPolicy::lru())
            .expire_after(SlotExpiry {
                clock: Arc::clone(&clock),
            })
            .build_with_hasher(RandomState::default());
        MemoryStore {
            cache,
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            clock,
            capacity: self.capacity,
            next_token: Arc::new(AtomicU64::new(0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Slot>(), 16);
    }

    #[test]
    fn tokens_are_never_the_done_marker() {
        let store = MemoryStore::with_capacity(8);
        let key = IdempotencyKey::new("k");
        let Claim::New(token) = store.claim_now(&key, Duration::from_secs(1)) else {
            panic!("new key must be claimed");
        };
        assert_ne!(token.get(), u128::from(DONE));
    }

    #[test]
    fn a_done_slot_cannot_be_completed_with_the_done_marker() {
        let store = MemoryStore::with_capacity(8);
        let key = IdempotencyKey::new("k");
        let Claim::New(token) = store.claim_now(&key, Duration::from_secs(1)) else {
            panic!("new key must be claimed");
        };
        assert!(store.complete_now(&key, token, Duration::from_secs(1)));
        let marker = ClaimToken::new(u128::from(DONE));
        assert!(!store.release_now(&key, marker));
        assert_eq!(store.claim_now(&key, Duration::from_secs(1)), Claim::Done);
    }
}
