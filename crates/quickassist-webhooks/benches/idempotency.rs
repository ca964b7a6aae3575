//! Cost of de-duplicating one new delivery in a `MemoryStore` that already remembers
//! 1,000,000 keys (full, so every insert also evicts the oldest key), beside its floor: a
//! bare `moka::sync::Cache<u128, u64>` LRU insert of new keys into a full cache of the same
//! capacity.
//!
//! cargo bench -p quickassist-webhooks --bench idempotency -- --warm-up-time 1 --measurement-time 3

// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

use std::{
    future::Future,
    hint::black_box,
    pin::pin,
    task::{Context, Poll, Waker},
    time::Duration,
};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use moka::{policy::EvictionPolicy, sync::Cache};
use quickassist_webhooks::idempotency::{
    Admission, Claim, Deduplicator, IdempotencyKey, IdempotencyStore, MemoryStore,
    DEFAULT_DONE_TTL, DEFAULT_LEASE,
};

/// How many keys the store (and the bare cache) remember before measuring.
const KEYS: u64 = 1_000_000;

/// Runs a future that `MemoryStore` resolves on its first poll, without an executor's overhead.
fn ready<T>(future: impl Future<Output = T>) -> T {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => unreachable!("MemoryStore answers synchronously"),
    }
}

/// A distinct key per number, spread like a SHA-256 digest would be.
fn key(n: u64) -> IdempotencyKey {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
    bytes[8..].copy_from_slice(&n.to_le_bytes());
    IdempotencyKey::from_bytes(bytes)
}

fn claim_and_complete(store: &MemoryStore, key: &IdempotencyKey) {
    match ready(store.claim(key, DEFAULT_LEASE)) {
        Ok(Claim::New(token)) => {
            let done = ready(store.complete(key, token, DEFAULT_DONE_TTL));
            assert!(matches!(done, Ok(true)));
        }
        other => panic!("a fresh key must be new, got {other:?}"),
    }
}

fn full_store() -> MemoryStore {
    let store = MemoryStore::with_capacity(KEYS);
    for n in 0..KEYS {
        claim_and_complete(&store, &key(n));
    }
    assert_eq!(store.entry_count(), KEYS);
    store
}

fn full_bare_moka() -> Cache<u128, u64> {
    let cache = Cache::builder()
        .max_capacity(KEYS)
        .initial_capacity(KEYS as usize)
        .eviction_policy(EvictionPolicy::lru())
        .build();
    for n in 0..KEYS {
        cache.insert(u128::from_le_bytes(*key(n).as_bytes()), n);
    }
    cache.run_pending_tasks();
    cache
}

fn bench(c: &mut Criterion) {
    let store = full_store();
    let mut group = c.benchmark_group("memory_store_1m_keys");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(3));

    let mut next = KEYS;
    group.bench_function("claim_complete_new_key", |b| {
        b.iter(|| {
            next += 1;
            claim_and_complete(&store, black_box(&key(next)));
        });
    });

    let bare = full_bare_moka();
    let mut next_bare = KEYS;
    group.bench_function("baseline_bare_moka_insert_new_key", |b| {
        b.iter(|| {
            next_bare += 1;
            bare.insert(
                u128::from_le_bytes(*black_box(key(next_bare)).as_bytes()),
                next_bare,
            );
        });
    });
    drop(bare);

    let duplicate = key(KEYS + 1);
    group.bench_function("claim_done_key", |b| {
        b.iter(|| ready(store.claim(black_box(&duplicate), DEFAULT_LEASE)));
    });

    // The whole path a receiver takes: key digest (SHA-256 of the webhookId), claim, guard,
    // complete.
    let dedup = Deduplicator::new(store);
    let mut next = 0u64;
    group.bench_function("deduplicator_admit_complete_new_webhook_id", |b| {
        b.iter(|| {
            next += 1;
            let webhook_id = format!("whk_{next:016}");
            match ready(dedup.admit_key(black_box(&webhook_id))) {
                Ok(Admission::Process(guard)) => {
                    assert!(ready(guard.complete()).is_ok());
                }
                other => panic!("a fresh webhook id must be processed, got {other:?}"),
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
