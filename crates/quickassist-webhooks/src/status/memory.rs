//! [`MemoryStatusTracker`]: timelines in this process's memory, on bounded `moka` caches.

use std::{
    fmt,
    hash::BuildHasher,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use foldhash::fast::RandomState;
use moka::{policy::EvictionPolicy, sync::Cache};

use super::{
    merge, Merge, State, StatusTracker, StatusUpdate, SubjectKind, TrackerFuture, DEFAULT_TTL,
};

/// How many locks serialise the read-merge-write of updates: as in
/// [`MemoryStore`](crate::idempotency::MemoryStore), a fixed set chosen by the subject's
/// hash, so that two updates of different subjects rarely wait for each other and no update
/// allocates a lock.
const STRIPES: usize = 1024;

/// How many messages a [`MemoryStatusTracker`] remembers by default (and, separately, how
/// many templates).
///
/// A full tracker takes about 430 bytes of resident memory per message with 16-byte ids
/// (measured by the `status_memory_per_message` example: the id, the state and its slot,
/// and `moka`'s entry, LRU node and table slot), so about 415 MiB at this capacity; longer
/// ids add their length. Size it above the number of messages whose events may still arrive
/// within [`DEFAULT_TTL`]: an evicted message forgets its state, and its next event, even a
/// stale one, is applied.
pub const DEFAULT_CAPACITY: u64 = 1_000_000;

/// How many templates the template cache's table is pre-sized for: an account has
/// hundreds, not millions; the cache still grows to the capacity.
const TEMPLATES_PRESIZED: u64 = 1024;

/// A subject's state, updated in place: an update of a known subject is a lookup and no
/// cache write (a `moka` insert costs more than a lookup).
type Slot = Arc<Mutex<State>>;

/// One kind's states, by id.
type States = Cache<Box<str>, Slot, RandomState>;

/// A [`StatusTracker`] that keeps timelines in this process's memory.
///
/// States live in two [`moka`] caches, one for messages and one for templates, keyed by the
/// id itself (so that a lookup borrows it and only a new subject allocates). Each is
/// bounded to the capacity, the message cache pre-sized for it, and uses the **LRU**
/// eviction policy (as `MemoryStore`: `moka`'s default TinyLFU may refuse a new subject
/// when full) and a time-to-idle, so that a subject is forgotten [`DEFAULT_TTL`] after its
/// last event. An update is one lookup under one of a fixed set of striped locks chosen by
/// the subject, then either an in-place change of the known state or one insert for a new
/// subject, so that merging is atomic per subject.
///
/// Timelines are shared only within one process: run one replica, or use a shared tracker
/// such as `quickassist-webhooks-redis`'s `RedisStatusTracker` when several replicas
/// receive the same webhooks.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use quickassist_webhooks::status::{
///     Merge, MemoryStatusTracker, MessageStatus, StatusTracker, StatusUpdate,
/// };
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let tracker = MemoryStatusTracker::builder().capacity(10_000).build();
/// let at = Utc.with_ymd_and_hms(2024, 1, 15, 10, 30, 0).unwrap();
/// let read = StatusUpdate::new("msg_1", MessageStatus::Read, at);
/// let delivered = StatusUpdate::new("msg_1", MessageStatus::Delivered, at);
///
/// assert_eq!(tracker.apply(&read).await?, Merge::Applied { previous: None });
/// assert!(matches!(tracker.apply(&delivered).await?, Merge::Stale { .. }));
/// # Ok::<_, quickassist_webhooks::status::TrackerError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct MemoryStatusTracker {
    messages: States,
    templates: States,
    /// See [`STRIPES`]: held while a subject's state is read, merged and written.
    stripes: Arc<[Mutex<()>]>,
    hasher: RandomState,
    capacity: u64,
    ttl: Duration,
}

impl MemoryStatusTracker {
    /// A tracker remembering up to [`DEFAULT_CAPACITY`] messages (and as many templates),
    /// each for [`DEFAULT_TTL`] after its last event.
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A tracker remembering up to `capacity` messages (and as many templates), each for
    /// [`DEFAULT_TTL`] after its last event.
    #[must_use]
    pub fn with_capacity(capacity: u64) -> Self {
        Self::builder().capacity(capacity).build()
    }

    /// A builder, to choose the capacity and the time-to-live.
    pub fn builder() -> MemoryStatusTrackerBuilder {
        MemoryStatusTrackerBuilder::default()
    }

    /// The most messages this tracker remembers (and, separately, the most templates).
    #[must_use]
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// How long a subject is remembered after its last event.
    #[must_use]
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How many subjects (messages and templates) the tracker holds, after running the
    /// caches' pending maintenance. Meant for diagnostics and tests, not the hot path.
    #[must_use]
    pub fn entry_count(&self) -> u64 {
        self.messages.run_pending_tasks();
        self.templates.run_pending_tasks();
        self.messages.entry_count() + self.templates.entry_count()
    }

    fn states(&self, kind: SubjectKind) -> &States {
        match kind {
            SubjectKind::Message => &self.messages,
            SubjectKind::Template => &self.templates,
        }
    }

    /// The lock serialising updates of the subject hashed to `hash`. A poisoned lock guards
    /// nothing but `()`: the cache stays consistent, so it is taken over.
    fn lock(&self, hash: u64) -> MutexGuard<'_, ()> {
        // `usize` holds any stripe index: the modulo is taken in `u64` first.
        let index = usize::try_from(hash % self.stripes.len() as u64).unwrap_or(0);
        self.stripes[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The synchronous apply; the trait method wraps it in a ready future.
    fn apply_now(&self, update: &StatusUpdate) -> Merge {
        let states = self.states(update.kind());
        let id = update.id();
        // Held across the lookup and the write, so that two first events of one subject
        // cannot both insert.
        let _serialised = self.lock(self.hasher.hash_one((update.kind(), id)));
        match states.get(id) {
            Some(slot) => {
                let mut current = slot.lock().unwrap_or_else(PoisonError::into_inner);
                let outcome = merge(Some(&*current), update.state());
                if outcome.is_applied() {
                    *current = update.state().clone();
                }
                outcome
            }
            None => {
                let slot = Arc::new(Mutex::new(update.state().clone()));
                states.insert(id.into(), slot);
                Merge::Applied { previous: None }
            }
        }
    }

    fn current_now(&self, kind: SubjectKind, id: &str) -> Option<State> {
        let slot = self.states(kind).get(id)?;
        let state = slot.lock().unwrap_or_else(PoisonError::into_inner).clone();
        Some(state)
    }
}

impl Default for MemoryStatusTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStatusTracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStatusTracker")
            .field("capacity", &self.capacity)
            .field("ttl", &self.ttl)
            .field(
                "entries",
                &(self.messages.entry_count() + self.templates.entry_count()),
            )
            .finish_non_exhaustive()
    }
}

impl StatusTracker for MemoryStatusTracker {
    fn apply<'a>(&'a self, update: &'a StatusUpdate) -> TrackerFuture<'a, Merge> {
        // The cache is synchronous and never blocks for long: answer right away.
        let outcome = self.apply_now(update);
        Box::pin(std::future::ready(Ok(outcome)))
    }

    fn current<'a>(&'a self, kind: SubjectKind, id: &'a str) -> TrackerFuture<'a, Option<State>> {
        let state = self.current_now(kind, id);
        Box::pin(std::future::ready(Ok(state)))
    }
}

/// Builds a [`MemoryStatusTracker`]: its capacity and time-to-live.
///
/// ```
/// use std::time::Duration;
/// use quickassist_webhooks::status::MemoryStatusTracker;
///
/// let tracker = MemoryStatusTracker::builder()
///     .capacity(50_000)
///     .ttl(Duration::from_secs(7 * 86_400))
///     .build();
/// assert_eq!((tracker.capacity(), tracker.ttl()), (50_000, Duration::from_secs(604_800)));
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct MemoryStatusTrackerBuilder {
    capacity: u64,
    ttl: Duration,
}

impl Default for MemoryStatusTrackerBuilder {
    fn default() -> Self {
        Self {
            capacity: DEFAULT_CAPACITY,
            ttl: DEFAULT_TTL,
        }
    }
}

impl MemoryStatusTrackerBuilder {
    /// The most messages the tracker remembers, and separately the most templates (default
    /// [`DEFAULT_CAPACITY`]); the message cache is pre-sized for them.
    pub fn capacity(mut self, capacity: u64) -> Self {
        self.capacity = capacity;
        self
    }

    /// How long a subject is remembered after its last event, applied or stale (default
    /// [`DEFAULT_TTL`]).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// One kind's cache, its table pre-sized for `presized` entries.
    fn cache(&self, presized: u64) -> States {
        Cache::builder()
            .max_capacity(self.capacity)
            .initial_capacity(usize::try_from(presized).unwrap_or(0))
            .eviction_policy(EvictionPolicy::lru())
            .time_to_idle(self.ttl)
            .build_with_hasher(RandomState::default())
    }

    /// Builds the tracker.
    #[must_use]
    pub fn build(self) -> MemoryStatusTracker {
        // Pre-size the message table so that filling it never pauses to rehash; cap the
        // hint so that an enormous capacity does not reserve memory it may never use.
        let messages = self.cache(self.capacity.min(DEFAULT_CAPACITY));
        let templates = self.cache(self.capacity.min(TEMPLATES_PRESIZED));
        MemoryStatusTracker {
            messages,
            templates,
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            hasher: RandomState::default(),
            capacity: self.capacity,
            ttl: self.ttl,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::status::{MessageStatus, TemplateStatus};

    fn update(id: &str, status: impl Into<crate::status::Status>, millis: i64) -> StatusUpdate {
        StatusUpdate::new(id, status, DateTime::from_timestamp_millis(millis).unwrap())
    }

    #[test]
    fn messages_and_templates_with_one_id_have_separate_timelines() {
        let tracker = MemoryStatusTracker::with_capacity(16);
        assert!(tracker
            .apply_now(&update("x", MessageStatus::Read, 1))
            .is_applied());
        assert!(tracker
            .apply_now(&update("x", TemplateStatus::Pending, 1))
            .is_applied());
        assert_eq!(
            tracker.current_now(SubjectKind::Message, "x"),
            Some(State::new(
                MessageStatus::Read,
                DateTime::from_timestamp_millis(1).unwrap()
            ))
        );
        assert_eq!(tracker.entry_count(), 2);
    }

    #[test]
    fn the_capacity_bounds_the_subjects_remembered() {
        let tracker = MemoryStatusTracker::with_capacity(100);
        for n in 0..1_000 {
            let _ = tracker.apply_now(&update(&format!("m{n}"), MessageStatus::Delivered, n));
        }
        assert!(tracker.entry_count() <= 100);
        // LRU: the newest subjects are the ones kept.
        assert!(tracker.current_now(SubjectKind::Message, "m999").is_some());
    }

    #[test]
    fn concurrent_updates_of_one_message_apply_each_state_at_most_once() {
        let tracker = MemoryStatusTracker::with_capacity(16);
        let events: Vec<_> = (0..200)
            .map(|n| update("m", MessageStatus::Delivered, n % 50))
            .collect();
        let applied: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        events
                            .iter()
                            .filter(|event| tracker.apply_now(event).is_applied())
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        // A state, once applied, is never applied again (the timeline only moves up): 50
        // distinct states, so at most 50 applied updates, however the threads interleave.
        assert!((1..=50).contains(&applied), "{applied}");
        assert_eq!(
            tracker
                .current_now(SubjectKind::Message, "m")
                .unwrap()
                .at_millis(),
            49
        );
    }
}
