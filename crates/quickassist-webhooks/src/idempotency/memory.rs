//! [`MemoryStore`]: the in-process [`IdempotencyStore`], on a bounded `moka` cache.

use std::{
    collections::HashMap,
    fmt,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, MutexGuard, PoisonError,
    },
    time::{Duration, Instant},
};

use foldhash::fast::RandomState;
use moka::{notification::RemovalCause, policy::EvictionPolicy, sync::Cache};

use super::{Claim, ClaimToken, IdempotencyKey, IdempotencyStore, StoreFuture};

/// How many locks serialise the check-then-write of claims, completions and releases (each
/// guarding the claims in flight whose key it is chosen by): one per key would cost an
/// allocation per operation (what `moka`'s own `and_compute_with` does); a fixed set,
/// chosen by the key's digest, makes two operations on different keys rarely wait for each
/// other.
const STRIPES: usize = 1024;

/// Resident memory a full [`MemoryStore`] takes per key, in bytes: what
/// [`MemoryStoreBuilder::max_memory`] divides by.
///
/// Measured by the `memory_per_key` example (1,000,000 completed keys, x86_64 Linux):
/// 322 bytes per key, against 321 for a bare `moka::sync::Cache<u128, u64>` of the same
/// capacity and policy, measured the same way (1.00×); rounded up to 328. It is `moka`'s
/// own entry for a 16-byte key and an 8-byte deadline: the entry, its LRU node and its
/// share of the pre-sized table.
pub const BYTES_PER_KEY: u64 = 328;

/// The most keys the cache's table is pre-sized for, whatever the capacity.
const MAX_PRESIZE: u64 = 1_000_000;

/// The most resident memory a full default [`MemoryStore`] takes: 64 MiB.
pub const DEFAULT_MAX_MEMORY: u64 = 64 << 20;

/// How many keys a [`MemoryStore`] remembers by default: as many as fit in
/// [`DEFAULT_MAX_MEMORY`] at [`BYTES_PER_KEY`] (204,600 keys).
///
/// Size the store above the number of deliveries you receive per done-TTL (24 hours by
/// default), with [`MemoryStoreBuilder::capacity`] or [`MemoryStoreBuilder::max_memory`]; a
/// store that forgets keys early says so ([`MemoryStore::early_evictions`]).
pub const DEFAULT_CAPACITY: u64 = DEFAULT_MAX_MEMORY / BYTES_PER_KEY;

/// Name of the counter (feature `metrics`) of keys a [`MemoryStore`] forgot because it was
/// full, before their done-TTL ended.
pub const MEMORY_STORE_EARLY_EVICTIONS_TOTAL: &str =
    "quickassist_webhooks_memory_store_early_evictions_total";

/// At most one warning about early evictions per this many milliseconds (one minute).
const WARNING_INTERVAL_MILLIS: u64 = 60_000;

/// An [`IdempotencyStore`] that remembers claims in this process's memory.
///
/// Completed keys are kept in a [`moka`] cache that is bounded to a fixed number of keys
/// and pre-sized for it: [`DEFAULT_CAPACITY`] keys, at most [`DEFAULT_MAX_MEMORY`] (64 MiB)
/// when full, at about [`BYTES_PER_KEY`] bytes per key. Each entry holds only the 16-byte
/// [`IdempotencyKey`] and the end of its done-TTL, and is written once, on completion.
/// Claims in flight (a lease and its owner's token) are held beside the cache, in small
/// maps under the striped locks, until they are completed or released: there are only as
/// many as deliveries being processed at once.
///
/// Deadlines decide: a key whose lease or done-TTL ended counts as absent at once. Entries
/// carry no expiry timer of their own in the cache (it would cost a timer node per key); a
/// stale entry is replaced when its key is completed again, or evicted as newer keys
/// arrive.
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
/// When the store is full, each new key evicts the least recently used one. If that key's
/// done-TTL had not ended yet, the store forgot it early, and a late retry of that
/// delivery would be processed again: the store counts these
/// ([`MemoryStore::early_evictions`]), logs a `warn` at most once a minute naming the fix,
/// and with the `metrics` feature increments the counter
/// [`MEMORY_STORE_EARLY_EVICTIONS_TOTAL`].
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
    /// Completed keys, each with the end of its done-TTL (milliseconds on `clock`).
    cache: Cache<IdempotencyKey, u64, RandomState>,
    /// See [`STRIPES`]: held while a key's state is read and then written.
    stripes: Arc<[Mutex<InFlight>]>,
    clock: Arc<Clock>,
    capacity: u64,
    forgetting: Arc<Forgetting>,
    /// Source of claim tokens: unique within this store, which is all a token must be.
    next_token: Arc<AtomicU64>,
}

/// A claim in flight: its owner's token and when its lease ends (milliseconds on the clock).
#[derive(Clone, Copy, Debug)]
struct Lease {
    token: u64,
    deadline: u64,
}

/// The claims in flight whose keys one stripe guards.
#[derive(Default)]
struct InFlight {
    claims: HashMap<IdempotencyKey, Lease, RandomState>,
    /// Claims that ended without completion or release (a lease run out) are swept when the
    /// map grows past this, so that they cannot accumulate.
    sweep_at: usize,
}

/// The smallest `sweep_at`: a stripe holds a handful of claims at most in normal use.
const MIN_SWEEP_AT: usize = 8;

impl InFlight {
    fn live(&self, key: &IdempotencyKey, now: u64) -> Option<Lease> {
        self.claims
            .get(key)
            .copied()
            .filter(|lease| now < lease.deadline)
    }

    fn insert(&mut self, key: IdempotencyKey, lease: Lease, now: u64) {
        self.claims.insert(key, lease);
        if self.claims.len() > self.sweep_at.max(MIN_SWEEP_AT) {
            self.claims.retain(|_, lease| now < lease.deadline);
            self.sweep_at = self.claims.len() * 2;
        }
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

/// Counts (and reports) keys the cache evicted for room before their deadline.
struct Forgetting {
    clock: Arc<Clock>,
    capacity: u64,
    early: AtomicU64,
    /// When the last warning was logged, in the clock's milliseconds; [`NEVER`] before the
    /// first.
    last_warning: AtomicU64,
}

/// The `last_warning` of a store that has not warned yet.
const NEVER: u64 = u64::MAX;

impl Forgetting {
    /// `moka`'s eviction listener: only evictions for room (`Size`) can forget a live key;
    /// expirations do not happen (no entry has a timer), and replacements and releases are
    /// the store's own doing.
    fn on_removal(&self, deadline: u64, cause: RemovalCause) {
        if cause != RemovalCause::Size {
            return;
        }
        let now = self.clock.now_millis();
        if now >= deadline {
            return;
        }
        let total = self.early.fetch_add(1, Ordering::Relaxed) + 1;
        #[cfg(feature = "metrics")]
        metrics::counter!(MEMORY_STORE_EARLY_EVICTIONS_TOTAL).increment(1);
        if self.may_warn(now) {
            tracing::warn!(
                early_evictions = total,
                capacity = self.capacity,
                "MemoryStore is full and forgot a key before its done-TTL ended: a late retry \
                 of that delivery would be processed again; give the store a larger capacity \
                 or max_memory, or use the Redis store"
            );
        }
    }

    /// Whether a warning is due now (none in the last minute), claiming it if so.
    fn may_warn(&self, now: u64) -> bool {
        let last = self.last_warning.load(Ordering::Relaxed);
        if last != NEVER && now.saturating_sub(last) < WARNING_INTERVAL_MILLIS {
            return false;
        }
        self.last_warning
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
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

    /// How many keys the store forgot early: evicted for room, to make way for newer keys,
    /// while their done-TTL had not ended. Counted as the cache's pending
    /// maintenance runs, which this runs first; meant for diagnostics and tests.
    ///
    /// Anything above zero means the store is smaller than the deliveries it receives per
    /// done-TTL: give it a larger [`capacity`](MemoryStoreBuilder::capacity) or
    /// [`max_memory`](MemoryStoreBuilder::max_memory), or use a shared store such as
    /// `quickassist-webhooks-redis`.
    #[must_use]
    pub fn early_evictions(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.forgetting.early.load(Ordering::Relaxed)
    }

    /// How many keys the store holds, completed and in flight, after running the cache's
    /// pending maintenance (evictions). Meant for diagnostics and tests, not the hot path.
    #[must_use]
    pub fn entry_count(&self) -> u64 {
        self.cache.run_pending_tasks();
        let in_flight: usize = self
            .stripes
            .iter()
            .map(|stripe| lock(stripe).claims.len())
            .sum();
        self.cache.entry_count() + in_flight as u64
    }

    fn new_token(&self) -> u64 {
        self.next_token.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn deadline(&self, now: u64, ttl: Duration) -> u64 {
        now.saturating_add(millis(ttl))
    }

    /// The stripe serialising operations on `key`, locked.
    fn stripe(&self, key: &IdempotencyKey) -> MutexGuard<'_, InFlight> {
        let bytes = key.as_bytes();
        // The key is a digest: any two of its bytes are uniformly spread.
        let index = usize::from(u16::from_le_bytes([bytes[14], bytes[15]])) % self.stripes.len();
        lock(&self.stripes[index])
    }

    /// Whether `key` was completed and its done-TTL has not ended: an entry whose TTL ended
    /// counts as absent even before the cache drops it.
    fn is_done(&self, key: &IdempotencyKey, now: u64) -> bool {
        self.cache.get(key).is_some_and(|deadline| now < deadline)
    }

    /// The synchronous claim; the trait method wraps it in a ready future.
    fn claim_now(&self, key: &IdempotencyKey, lease: Duration) -> Claim {
        let mut in_flight = self.stripe(key);
        let now = self.clock.now_millis();
        if self.is_done(key, now) {
            return Claim::Done;
        }
        if in_flight.live(key, now).is_some() {
            return Claim::InFlight;
        }
        let token = self.new_token();
        let deadline = self.deadline(now, lease);
        in_flight.insert(*key, Lease { token, deadline }, now);
        Claim::New(ClaimToken::new(u128::from(token)))
    }

    /// Ends `token`'s claim on `key` if it still owns a live one, then runs `settle`; says
    /// whether it did.
    fn if_owner(&self, key: &IdempotencyKey, token: ClaimToken, settle: impl FnOnce(u64)) -> bool {
        let mut in_flight = self.stripe(key);
        let now = self.clock.now_millis();
        let owner = in_flight
            .live(key, now)
            .is_some_and(|lease| u128::from(lease.token) == token.get());
        if owner {
            in_flight.claims.remove(key);
            settle(now);
        }
        owner
    }

    fn complete_now(&self, key: &IdempotencyKey, token: ClaimToken, ttl: Duration) -> bool {
        self.if_owner(key, token, |now| {
            self.cache.insert(*key, self.deadline(now, ttl));
        })
    }

    fn release_now(&self, key: &IdempotencyKey, token: ClaimToken) -> bool {
        self.if_owner(key, token, |_| {})
    }
}

/// Locks a stripe. A poisoned lock is taken over: every change to a stripe's map is a
/// single insert, remove or sweep, which leaves it consistent.
fn lock(stripe: &Mutex<InFlight>) -> MutexGuard<'_, InFlight> {
    stripe.lock().unwrap_or_else(PoisonError::into_inner)
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

    fn is_process_local(&self) -> bool {
        true
    }
}

/// Builds a [`MemoryStore`]: its size (in keys or in bytes) and, for tests, its clock.
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
///
/// // Or sized by memory: 16 MiB, at `BYTES_PER_KEY` bytes per key.
/// let store = MemoryStore::builder().max_memory(16 << 20).build();
/// assert_eq!(store.capacity(), (16 << 20) / quickassist_webhooks::idempotency::BYTES_PER_KEY);
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
    /// The most completed keys the store remembers (default [`DEFAULT_CAPACITY`]); the cache
    /// is pre-sized for them. Claims in flight are held beside them. Replaces an earlier [`max_memory`](Self::max_memory).
    pub fn capacity(mut self, capacity: u64) -> Self {
        self.capacity = capacity;
        self
    }

    /// The most resident memory the store takes when full, in bytes (default
    /// [`DEFAULT_MAX_MEMORY`], 64 MiB): sets the capacity to `bytes / BYTES_PER_KEY` keys
    /// (at least one), with [`BYTES_PER_KEY`] as measured. Replaces an earlier
    /// [`capacity`](Self::capacity).
    pub fn max_memory(mut self, bytes: u64) -> Self {
        self.capacity = (bytes / BYTES_PER_KEY).max(1);
        self
    }

    /// The time source leases and TTLs are checked against (default [`Instant::now`]).
    ///
    /// A test can hand in a clock it advances by hand, to expire claims without sleeping.
    /// Every deadline follows this clock: the store's answers, and whether an evicted key
    /// counts as forgotten early.
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
        let initial = usize::try_from(self.capacity.min(MAX_PRESIZE)).unwrap_or(0);
        let forgetting = Arc::new(Forgetting {
            clock: Arc::clone(&clock),
            capacity: self.capacity,
            early: AtomicU64::new(0),
            last_warning: AtomicU64::new(NEVER),
        });
        let listener = Arc::clone(&forgetting);
        // No per-entry expiry: the stored deadlines already decide every answer, and
        // `moka`'s timer node would cost about a quarter of the memory per key.
        let cache = Cache::builder()
            .max_capacity(self.capacity)
            .initial_capacity(initial)
            .eviction_policy(EvictionPolicy::lru())
            .eviction_listener(move |_key, deadline: u64, cause| {
                listener.on_removal(deadline, cause);
            })
            .build_with_hasher(RandomState::default());
        MemoryStore {
            cache,
            stripes: (0..STRIPES).map(|_| Mutex::default()).collect(),
            clock,
            capacity: self.capacity,
            forgetting,
            next_token: Arc::new(AtomicU64::new(0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_start_at_one() {
        let store = MemoryStore::with_capacity(8);
        let key = IdempotencyKey::new("k");
        let Claim::New(token) = store.claim_now(&key, Duration::from_secs(1)) else {
            panic!("new key must be claimed");
        };
        assert_eq!(token.get(), 1);
    }

    #[test]
    fn a_done_key_cannot_be_completed_or_released_again() {
        let store = MemoryStore::with_capacity(8);
        let key = IdempotencyKey::new("k");
        let Claim::New(token) = store.claim_now(&key, Duration::from_secs(1)) else {
            panic!("new key must be claimed");
        };
        assert!(store.complete_now(&key, token, Duration::from_secs(1)));
        for other in [token, ClaimToken::new(0)] {
            assert!(!store.release_now(&key, other));
            assert!(!store.complete_now(&key, other, Duration::from_secs(1)));
        }
        assert_eq!(store.claim_now(&key, Duration::from_secs(1)), Claim::Done);
    }

    #[test]
    fn ended_leases_are_swept_as_a_stripe_grows() {
        let mut in_flight = InFlight::default();
        for n in 0..100u8 {
            let key = IdempotencyKey::from_bytes([n; 16]);
            in_flight.insert(
                key,
                Lease {
                    token: 1,
                    deadline: 10,
                },
                20,
            );
        }
        assert!(in_flight.claims.len() <= MIN_SWEEP_AT + 1);
    }

    #[test]
    fn warnings_are_at_most_one_a_minute() {
        let store = MemoryStore::with_capacity(8);
        let forgetting = &store.forgetting;
        assert!(forgetting.may_warn(5));
        assert!(!forgetting.may_warn(5 + WARNING_INTERVAL_MILLIS - 1));
        assert!(forgetting.may_warn(5 + WARNING_INTERVAL_MILLIS));
        assert!(!forgetting.may_warn(6 + WARNING_INTERVAL_MILLIS));
    }
}
