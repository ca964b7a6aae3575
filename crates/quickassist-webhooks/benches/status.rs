//! Cost of applying one status update in a `MemoryStatusTracker` that already tracks
//! 1,000,000 messages, beside a bare `moka::sync::Cache` insert of the same keys (the same
//! cache configuration: capacity, LRU, time-to-idle, foldhash) in the same group. Target:
//! an applied update at most 1.2× the bare insert. Also: a stale update, and the first
//! update of a new message in the full tracker (an insert that evicts).
//!
//! cargo bench -p quickassist-webhooks --bench status -- --warm-up-time 1 --measurement-time 3

// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

use std::{
    future::Future,
    hint::black_box,
    pin::pin,
    task::{Context, Poll, Waker},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use moka::{policy::EvictionPolicy, sync::Cache};
use quickassist_webhooks::status::{
    MemoryStatusTracker, MessageStatus, State, StatusTracker, StatusUpdate, DEFAULT_CAPACITY,
    DEFAULT_TTL,
};

const MESSAGES: u64 = DEFAULT_CAPACITY;

/// Runs a future the memory tracker resolves on its first poll.
fn ready<T>(future: impl Future<Output = T>) -> T {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => unreachable!("MemoryStatusTracker answers synchronously"),
    }
}

fn id(n: u64) -> String {
    format!("wamid.{n:020}")
}

fn at(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_705_314_600_000 + millis).expect("a valid time")
}

/// `iters` updates cycling over the tracked messages, each later than any before it on
/// its message (so each one applies), built outside the timed loop.
fn fresh_updates(iters: u64, round: &mut i64) -> Vec<StatusUpdate> {
    (0..iters)
        .map(|i| {
            if i % MESSAGES == 0 {
                *round += 1;
            }
            StatusUpdate::new(id(i % MESSAGES), MessageStatus::Delivered, at(*round))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("status_tracker_1m_messages");
    group.throughput(Throughput::Elements(1));

    let ids: Vec<String> = (0..MESSAGES).map(id).collect();

    // The baseline: the same cache, bare: one insert of a key built from the id.
    {
        let cache: Cache<Box<str>, State, foldhash::fast::RandomState> = Cache::builder()
            .max_capacity(MESSAGES)
            .initial_capacity(MESSAGES as usize)
            .eviction_policy(EvictionPolicy::lru())
            .time_to_idle(DEFAULT_TTL)
            .build_with_hasher(foldhash::fast::RandomState::default());
        let state = State::new(MessageStatus::Delivered, at(0));
        for id in &ids {
            cache.insert(id.as_str().into(), state.clone());
        }
        let mut round = 0;
        group.bench_function("moka_insert", |b| {
            b.iter_custom(|iters| {
                round += 1;
                let state = State::new(MessageStatus::Delivered, at(round));
                let started = Instant::now();
                for i in 0..iters {
                    let id = ids[(i % MESSAGES) as usize].as_str();
                    cache.insert(black_box(id).into(), state.clone());
                }
                started.elapsed()
            });
        });
        // A key the full cache has not seen: the insert evicts the least recently used.
        let mut next = MESSAGES;
        group.bench_function("moka_insert_new_key", |b| {
            b.iter_custom(|iters| {
                let keys: Vec<Box<str>> = (0..iters)
                    .map(|_| {
                        next += 1;
                        id(next).into()
                    })
                    .collect();
                let state = State::new(MessageStatus::Delivered, at(0));
                let started = Instant::now();
                for key in keys {
                    cache.insert(black_box(key), state.clone());
                }
                started.elapsed()
            });
        });
    }

    let tracker = MemoryStatusTracker::new();
    for id in &ids {
        let update = StatusUpdate::new(id.as_str(), MessageStatus::Delivered, at(0));
        assert!(ready(tracker.apply(&update)).is_ok_and(|merge| merge.is_applied()));
    }
    assert_eq!(tracker.entry_count(), MESSAGES);

    let mut round = 0;
    group.bench_function("tracker_apply_applied", |b| {
        b.iter_custom(|iters| {
            let updates = fresh_updates(iters, &mut round);
            let started = Instant::now();
            for update in &updates {
                let merge = ready(tracker.apply(black_box(update)));
                debug_assert!(merge.is_ok_and(|merge| merge.is_applied()));
            }
            started.elapsed()
        });
    });

    // A late `delivered` for a message already further on: a lookup, no write.
    group.bench_function("tracker_apply_stale", |b| {
        b.iter_custom(|iters| {
            let updates: Vec<_> = (0..iters)
                .map(|i| StatusUpdate::new(id(i % MESSAGES), MessageStatus::Failed, at(0)))
                .collect();
            let started = Instant::now();
            for update in &updates {
                let merge = ready(tracker.apply(black_box(update)));
                debug_assert!(merge.is_ok_and(|merge| !merge.is_applied()));
            }
            started.elapsed()
        });
    });

    // A message the tracker has not seen, in a full tracker: an insert that evicts the
    // least recently used message.
    let mut next = MESSAGES;
    group.bench_function("tracker_apply_new_message", |b| {
        b.iter_custom(|iters| {
            let updates: Vec<_> = (0..iters)
                .map(|_| {
                    next += 1;
                    StatusUpdate::new(id(next), MessageStatus::Delivered, at(0))
                })
                .collect();
            let started = Instant::now();
            for update in &updates {
                let merge = ready(tracker.apply(black_box(update)));
                debug_assert!(merge.is_ok_and(|merge| merge.is_applied()));
            }
            started.elapsed()
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
