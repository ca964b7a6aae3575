//! `MemoryStore`: the claim state machine, atomicity, expiry and LRU eviction.
#![cfg(feature = "memory-store")]

use std::{sync::Arc, time::Duration};

use quickassist_webhooks::idempotency::{
    Claim, ClaimToken, IdempotencyKey, IdempotencyStore, MemoryStore, BYTES_PER_KEY,
    DEFAULT_CAPACITY, DEFAULT_MAX_MEMORY,
};
use quickassist_webhooks_test::ManualClock;

const LEASE: Duration = Duration::from_secs(60);
const TTL: Duration = Duration::from_secs(24 * 3600);

async fn claim_new(store: &MemoryStore, key: &IdempotencyKey) -> ClaimToken {
    match store
        .claim(key, LEASE)
        .await
        .expect("memory store never fails")
    {
        Claim::New(token) => token,
        other => panic!("expected a new claim, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousand_concurrent_claims_of_one_key_yield_exactly_one_new() {
    let store = Arc::new(MemoryStore::new());
    // Several rounds on fresh keys, so that a rare interleaving has more chances to show.
    for round in 0..20 {
        let key = IdempotencyKey::new(format!("whk_race_{round}"));
        let barrier = Arc::new(tokio::sync::Barrier::new(1000));
        let tasks: Vec<_> = (0..1000)
            .map(|_| {
                let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.claim(&key, LEASE).await.unwrap()
                })
            })
            .collect();
        let mut new = 0;
        let mut in_flight = 0;
        for task in tasks {
            match task.await.unwrap() {
                Claim::New(_) => new += 1,
                Claim::InFlight => in_flight += 1,
                Claim::Done => panic!("nothing was completed"),
            }
        }
        assert_eq!((new, in_flight), (1, 999), "round {round}");
    }
}

#[test]
fn concurrent_claims_from_os_threads_yield_exactly_one_new() {
    let store = Arc::new(MemoryStore::with_capacity(1024));
    let key = IdempotencyKey::new("whk_threads");
    let barrier = Arc::new(std::sync::Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                barrier.wait();
                (0..125)
                    .map(|_| runtime.block_on(store.claim(&key, LEASE)).unwrap())
                    .filter(|claim| matches!(claim, Claim::New(_)))
                    .count()
            })
        })
        .collect();
    let new: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(new, 1);
}

#[tokio::test]
async fn claimed_key_is_in_flight_until_settled() {
    let store = MemoryStore::new();
    let key = IdempotencyKey::new("whk_1");
    claim_new(&store, &key).await;
    assert_eq!(store.claim(&key, LEASE).await.unwrap(), Claim::InFlight);
    assert_eq!(store.claim(&key, LEASE).await.unwrap(), Claim::InFlight);
}

#[tokio::test]
async fn released_key_can_be_claimed_again() {
    let store = MemoryStore::new();
    let key = IdempotencyKey::new("whk_1");
    let first = claim_new(&store, &key).await;
    assert!(store.release(&key, first).await.unwrap());
    let second = claim_new(&store, &key).await;
    assert_ne!(first, second, "every claim gets its own token");
}

#[tokio::test]
async fn completed_key_is_done() {
    let store = MemoryStore::new();
    let key = IdempotencyKey::new("whk_1");
    let token = claim_new(&store, &key).await;
    assert!(store.complete(&key, token, TTL).await.unwrap());
    assert_eq!(store.claim(&key, LEASE).await.unwrap(), Claim::Done);
    // A completed claim has no owner any more: neither release nor complete touch it.
    assert!(!store.release(&key, token).await.unwrap());
    assert!(!store.complete(&key, token, TTL).await.unwrap());
    assert_eq!(store.claim(&key, LEASE).await.unwrap(), Claim::Done);
}

#[tokio::test]
async fn keys_are_independent() {
    let store = MemoryStore::new();
    let (a, b) = (IdempotencyKey::new("whk_a"), IdempotencyKey::new("whk_b"));
    let token = claim_new(&store, &a).await;
    store.complete(&a, token, TTL).await.unwrap();
    claim_new(&store, &b).await;
    assert_eq!(store.claim(&a, LEASE).await.unwrap(), Claim::Done);
    assert_eq!(store.claim(&b, LEASE).await.unwrap(), Claim::InFlight);
}

#[tokio::test]
async fn a_token_that_does_not_own_the_claim_is_refused() {
    let store = MemoryStore::new();
    let key = IdempotencyKey::new("whk_1");
    let token = claim_new(&store, &key).await;
    let intruder = ClaimToken::new(token.get().wrapping_add(1));
    assert!(!store.release(&key, intruder).await.unwrap());
    assert!(!store.complete(&key, intruder, TTL).await.unwrap());
    assert_eq!(store.claim(&key, LEASE).await.unwrap(), Claim::InFlight);
    // Settling an unknown key is refused too.
    let unknown = IdempotencyKey::new("whk_unknown");
    assert!(!store.release(&unknown, token).await.unwrap());
    assert!(!store.complete(&unknown, token, TTL).await.unwrap());
}

#[tokio::test]
async fn expired_lease_lets_the_key_be_claimed_again() {
    let clock = ManualClock::new();
    let store = clock.memory_store(DEFAULT_CAPACITY);
    let key = IdempotencyKey::new("whk_1");
    claim_new(&store, &key).await;
    clock.advance(LEASE - Duration::from_millis(1));
    assert_eq!(store.claim(&key, LEASE).await.unwrap(), Claim::InFlight);
    clock.advance(Duration::from_millis(1));
    claim_new(&store, &key).await;
}

#[tokio::test]
async fn stale_token_cannot_complete_or_release_after_lease_expiry_and_reclaim() {
    let clock = ManualClock::new();
    let store = clock.memory_store(DEFAULT_CAPACITY);
    let key = IdempotencyKey::new("whk_1");
    let stale = claim_new(&store, &key).await;
    clock.advance(LEASE);
    let current = claim_new(&store, &key).await;

    assert!(!store.complete(&key, stale, TTL).await.unwrap());
    assert!(!store.release(&key, stale).await.unwrap());
    // The new owner's claim is untouched and still its own.
    assert_eq!(store.claim(&key, LEASE).await.unwrap(), Claim::InFlight);
    assert!(store.complete(&key, current, TTL).await.unwrap());
    assert_eq!(store.claim(&key, LEASE).await.unwrap(), Claim::Done);
}

#[tokio::test]
async fn expired_lease_cannot_be_completed_even_without_a_new_claim() {
    // An expired claim counts as absent, as it would in a store that deletes expired keys.
    let clock = ManualClock::new();
    let store = clock.memory_store(DEFAULT_CAPACITY);
    let key = IdempotencyKey::new("whk_1");
    let token = claim_new(&store, &key).await;
    clock.advance(LEASE + Duration::from_secs(1));
    assert!(!store.complete(&key, token, TTL).await.unwrap());
    claim_new(&store, &key).await;
}

#[tokio::test]
async fn done_key_is_forgotten_when_the_done_ttl_ends() {
    let clock = ManualClock::new();
    let store = clock.memory_store(DEFAULT_CAPACITY);
    let key = IdempotencyKey::new("whk_1");
    let token = claim_new(&store, &key).await;
    // The TTL counts from completion, not from the claim.
    clock.advance(Duration::from_secs(30));
    assert!(store.complete(&key, token, TTL).await.unwrap());
    clock.advance(TTL - Duration::from_millis(1));
    assert_eq!(store.claim(&key, LEASE).await.unwrap(), Claim::Done);
    clock.advance(Duration::from_millis(1));
    claim_new(&store, &key).await;
}

#[tokio::test]
async fn enormous_lease_and_ttl_do_not_overflow() {
    let store = MemoryStore::with_capacity(16);
    let key = IdempotencyKey::new("whk_1");
    let Claim::New(token) = store.claim(&key, Duration::MAX).await.unwrap() else {
        panic!("new key must be claimed");
    };
    assert_eq!(
        store.claim(&key, Duration::MAX).await.unwrap(),
        Claim::InFlight
    );
    assert!(store.complete(&key, token, Duration::MAX).await.unwrap());
    assert_eq!(store.claim(&key, LEASE).await.unwrap(), Claim::Done);
}

#[tokio::test]
async fn zero_lease_expires_at_once() {
    let store = MemoryStore::with_capacity(16);
    let key = IdempotencyKey::new("whk_1");
    assert!(matches!(
        store.claim(&key, Duration::ZERO).await.unwrap(),
        Claim::New(_)
    ));
    assert!(matches!(
        store.claim(&key, LEASE).await.unwrap(),
        Claim::New(_)
    ));
}

#[tokio::test]
async fn full_store_keeps_the_newest_keys_and_stays_bounded() {
    // moka's default TinyLFU policy may refuse to admit a new key into a full cache, which
    // would forget a delivery right after it was processed; LRU must evict the oldest instead.
    const CAPACITY: u64 = 1_000;
    let store = MemoryStore::with_capacity(CAPACITY);
    let keys: Vec<_> = (0..20_000)
        .map(|i| IdempotencyKey::new(format!("whk_{i}")))
        .collect();
    for (i, key) in keys.iter().enumerate() {
        let token = claim_new(&store, key).await;
        assert!(store.complete(key, token, TTL).await.unwrap());
        assert_eq!(
            store.claim(key, LEASE).await.unwrap(),
            Claim::Done,
            "key {i} forgotten right after completion"
        );
    }
    assert!(store.entry_count() <= CAPACITY);
    // Every recent key is still remembered once eviction has caught up.
    for (i, key) in keys.iter().enumerate().skip(keys.len() - 500) {
        assert_eq!(
            store.claim(key, LEASE).await.unwrap(),
            Claim::Done,
            "recent key {i} was forgotten"
        );
    }
    // The oldest ones made room.
    assert!(matches!(
        store.claim(&keys[0], LEASE).await.unwrap(),
        Claim::New(_)
    ));
}

#[tokio::test]
async fn works_behind_a_shared_trait_object() {
    let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryStore::new());
    let key = IdempotencyKey::new("whk_1");
    let Claim::New(token) = store.claim(&key, LEASE).await.unwrap() else {
        panic!("new key must be claimed");
    };
    assert!(store.complete(&key, token, TTL).await.unwrap());
    assert_eq!(store.claim(&key, LEASE).await.unwrap(), Claim::Done);
}

#[test]
fn a_full_default_store_fits_in_64_mib() {
    assert_eq!(DEFAULT_MAX_MEMORY, 64 << 20);
    const { assert!(DEFAULT_CAPACITY * BYTES_PER_KEY <= DEFAULT_MAX_MEMORY) };
    assert_eq!(DEFAULT_CAPACITY, DEFAULT_MAX_MEMORY / BYTES_PER_KEY);
    assert_eq!(
        MemoryStore::builder()
            .max_memory(DEFAULT_MAX_MEMORY)
            .build()
            .capacity(),
        DEFAULT_CAPACITY
    );
    assert_eq!(MemoryStore::builder().max_memory(1).build().capacity(), 1);
    assert_eq!(
        MemoryStore::builder()
            .capacity(5)
            .max_memory(BYTES_PER_KEY * 9)
            .build()
            .capacity(),
        9
    );
    assert_eq!(MemoryStore::new().capacity(), DEFAULT_CAPACITY);
    assert_eq!(MemoryStore::default().capacity(), DEFAULT_CAPACITY);
    assert_eq!(MemoryStore::with_capacity(7).capacity(), 7);
}

#[test]
fn debug_shows_capacity_not_keys() {
    let debug = format!("{:?}", MemoryStore::with_capacity(42));
    assert!(debug.starts_with("MemoryStore {"), "{debug}");
    assert!(debug.contains("capacity: 42"), "{debug}");
}

#[test]
fn threads_racing_over_many_keys_process_each_key_once() {
    const KEYS: usize = 2_000;
    let store = Arc::new(MemoryStore::with_capacity(4 * KEYS as u64));
    let keys: Arc<Vec<IdempotencyKey>> = Arc::new(
        (0..KEYS)
            .map(|n| IdempotencyKey::new(format!("whk_many_{n}")))
            .collect(),
    );
    let barrier = Arc::new(std::sync::Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let (store, keys, barrier) =
                (Arc::clone(&store), Arc::clone(&keys), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                barrier.wait();
                // Each thread walks the keys from another starting point, so that they meet.
                let mut processed = vec![0u32; KEYS];
                for step in 0..KEYS {
                    let n = (step + thread * KEYS / 4) % KEYS;
                    runtime.block_on(async {
                        if let Claim::New(token) = store.claim(&keys[n], LEASE).await.unwrap() {
                            processed[n] += 1;
                            assert!(store.complete(&keys[n], token, TTL).await.unwrap());
                        }
                    });
                }
                processed
            })
        })
        .collect();
    let mut total = vec![0u32; KEYS];
    for thread in threads {
        for (sum, count) in total.iter_mut().zip(thread.join().unwrap()) {
            *sum += count;
        }
    }
    assert!(total.iter().all(|&count| count == 1), "{total:?}");
}

#[tokio::test]
async fn keys_evicted_before_their_done_ttl_are_counted() {
    let clock = ManualClock::new();
    let store = clock.memory_store(2);
    let keys: Vec<_> = (0..5)
        .map(|i| IdempotencyKey::new(format!("whk_early_{i}")))
        .collect();
    for key in &keys[..2] {
        let token = claim_new(&store, key).await;
        assert!(store.complete(key, token, TTL).await.unwrap());
    }
    assert_eq!(store.early_evictions(), 0);
    // Two more completed keys push the first two out while their done-TTL runs.
    for key in &keys[2..4] {
        let token = claim_new(&store, key).await;
        assert!(store.complete(key, token, TTL).await.unwrap());
    }
    assert_eq!(store.early_evictions(), 2);
    // Once the TTL ended, making room forgets nothing that still counted.
    clock.advance(TTL);
    let token = claim_new(&store, &keys[4]).await;
    assert!(store.complete(&keys[4], token, TTL).await.unwrap());
    assert_eq!(store.early_evictions(), 2);
    assert!(store.entry_count() <= 2);
}

#[tokio::test]
async fn claims_in_flight_are_never_evicted() {
    let store = MemoryStore::with_capacity(1);
    let held = IdempotencyKey::new("whk_held");
    let token = claim_new(&store, &held).await;
    for i in 0..10 {
        let key = IdempotencyKey::new(format!("whk_other_{i}"));
        let other = claim_new(&store, &key).await;
        assert!(store.complete(&key, other, TTL).await.unwrap());
    }
    assert_eq!(store.claim(&held, LEASE).await.unwrap(), Claim::InFlight);
    assert!(store.complete(&held, token, TTL).await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_memory_store_passes_the_store_suite() {
    quickassist_webhooks_test::store_suite::check_all(Arc::new(MemoryStore::new())).await;
}
