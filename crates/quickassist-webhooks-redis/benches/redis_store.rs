//! Claim + complete pairs on a loopback `redis-server` started by the bench, and, in the
//! same group, status-tracker pairs (a message's `delivered` then its `read`, two Lua
//! compare-and-sets).
//!
//!     cargo bench -p quickassist-webhooks-redis --bench redis_store -- --warm-up-time 1 --measurement-time 3
//!
//! Criterion measures throughput: batches of 64 concurrent tasks (pairs/s is its
//! `thrpt`), and one pair at a time. Criterion gives means, not tails, so the bench then
//! prints the p50 / p99 latency of a pair at 1, 8 and 64 concurrent tasks: the latency the
//! store adds to each webhook. Targets: ≥ 50,000 pairs/s with 64 tasks, p99 ≤ 1 ms.

#![allow(missing_docs, clippy::unwrap_used)]

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use criterion::{Criterion, Throughput};
use quickassist_webhooks::{
    idempotency::{Claim, IdempotencyKey, IdempotencyStore},
    status::{MessageStatus, StatusTracker, StatusUpdate},
};
use quickassist_webhooks_redis::{RedisStatusTracker, RedisStore};
use tokio::runtime::Runtime;

const LEASE: Duration = Duration::from_secs(60);
/// Short, so that the bench's keys leave Redis soon after it ends.
const TTL: Duration = Duration::from_secs(60);
const TASKS: usize = 64;
const PAIRS_PER_TASK: u64 = 32;

/// Every pair claims a fresh key.
fn fresh_key() -> IdempotencyKey {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    IdempotencyKey::new(format!("bench-{}", NEXT.fetch_add(1, Ordering::Relaxed)))
}

/// One webhook's worth of store work: claim a new key, then complete it.
async fn pair(store: &RedisStore) {
    let key = fresh_key();
    let Claim::New(token) = store.claim(&key, LEASE).await.unwrap() else {
        panic!("fresh keys are new");
    };
    assert!(store.complete(&key, token, TTL).await.unwrap());
}

/// One message's status work: apply its `delivered`, then its `read`; both apply.
async fn status_pair(tracker: &RedisStatusTracker) {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let id = format!("wamid.bench-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let at = chrono::Utc::now();
    for status in [MessageStatus::Delivered, MessageStatus::Read] {
        let update = StatusUpdate::new(id.as_str(), status, at);
        assert!(tracker.apply(&update).await.unwrap().is_applied());
    }
}

/// Runs `tasks` tasks applying `pairs` status pairs each.
async fn concurrent_status(tracker: &RedisStatusTracker, tasks: usize, pairs: u64) {
    let tasks = (0..tasks).map(|_| {
        let tracker = tracker.clone();
        tokio::spawn(async move {
            for _ in 0..pairs {
                status_pair(&tracker).await;
            }
        })
    });
    for task in futures_util::future::join_all(tasks).await {
        task.unwrap();
    }
}

/// Runs `tasks` tasks doing `pairs` pairs each; returns every pair's latency.
async fn concurrent(store: &RedisStore, tasks: usize, pairs: u64) -> Vec<Duration> {
    let tasks = (0..tasks).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            for _ in 0..pairs {
                let began = Instant::now();
                pair(&store).await;
                latencies.push(began.elapsed());
            }
            latencies
        })
    });
    futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .flat_map(Result::unwrap)
        .collect()
}

fn throughput(c: &mut Criterion, runtime: &Runtime, store: &RedisStore) {
    let mut group = c.benchmark_group("redis_store");
    group.throughput(Throughput::Elements(TASKS as u64 * PAIRS_PER_TASK));
    group.bench_function("claim_complete_64_tasks", |b| {
        b.iter_custom(|batches| {
            runtime.block_on(async {
                let started = Instant::now();
                for _ in 0..batches {
                    concurrent(store, TASKS, PAIRS_PER_TASK).await;
                }
                started.elapsed()
            })
        });
    });
    // The tracker's keys expire a minute after the bench, as the store's.
    let tracker = RedisStatusTracker::new(store).ttl(TTL);
    group.bench_function("status_apply_pair_64_tasks", |b| {
        b.iter_custom(|batches| {
            runtime.block_on(async {
                let started = Instant::now();
                for _ in 0..batches {
                    concurrent_status(&tracker, TASKS, PAIRS_PER_TASK).await;
                }
                started.elapsed()
            })
        });
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("claim_complete_one_at_a_time", |b| {
        b.iter(|| runtime.block_on(pair(store)));
    });
    group.finish();
}

fn latency(runtime: &Runtime, store: &RedisStore) {
    for (tasks, pairs) in [(1, 5_000), (8, 1_000), (TASKS, 300)] {
        let started = Instant::now();
        let mut latencies = runtime.block_on(concurrent(store, tasks, pairs));
        let elapsed = started.elapsed();
        latencies.sort();
        let at =
            |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
        println!(
            "redis_store latency, {tasks:>2} tasks: {} pairs, {:.0} pairs/s, p50 {:?}, p99 {:?}, max {:?}",
            latencies.len(),
            latencies.len() as f64 / elapsed.as_secs_f64(),
            at(0.50),
            at(0.99),
            latencies[latencies.len() - 1],
        );
    }
}

fn main() {
    let server = quickassist_webhooks_test::redis::RedisServer::start().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = runtime
        .block_on(RedisStore::connect(&server.url()))
        .unwrap();
    let mut criterion = Criterion::default().configure_from_args();
    throughput(&mut criterion, &runtime, &store);
    criterion.final_summary();
    // Skipped when criterion only lists or checks the benches (`cargo test --benches`).
    if std::env::args().any(|arg| arg == "--bench") {
        latency(&runtime, &store);
    }
}
