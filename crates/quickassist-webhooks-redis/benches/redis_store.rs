//! Claim + complete pairs per second on a loopback `redis-server` (started by the bench),
//! with 64 concurrent tasks, and the latency each pair adds (p50 / p99).
//!
//!     cargo bench -p quickassist-webhooks-redis --bench redis_store
//!
//! A plain timing program, not criterion: the figure of interest is throughput under
//! concurrency and its tail latency, which criterion's per-iteration model does not give.

#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../src/test_server.rs"]
#[allow(dead_code, unreachable_pub)]
mod test_server;

use std::time::{Duration, Instant};

use quickassist_webhooks::idempotency::{Claim, IdempotencyKey, IdempotencyStore};
use quickassist_webhooks_redis::RedisStore;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let server = test_server::RedisServer::start().unwrap();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    // Saturated: throughput with 64 deliveries in flight at once.
    run(&store, "saturated", 64, 2_000).await;
    // Unsaturated: what one webhook's claim + complete adds to its latency.
    run(&store, "one at a time", 1, 5_000).await;
}

async fn run(store: &RedisStore, label: &'static str, tasks: usize, pairs_per_task: usize) {
    let started = Instant::now();
    let concurrency = tasks;
    let tasks = (0..tasks).map(|task| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(pairs_per_task);
            for n in 0..pairs_per_task {
                let key = IdempotencyKey::new(format!("bench-{label}-{task}-{n}"));
                let began = Instant::now();
                let Claim::New(token) = store.claim(&key, Duration::from_secs(60)).await.unwrap()
                else {
                    panic!("fresh keys are new");
                };
                assert!(store
                    .complete(&key, token, Duration::from_secs(3600))
                    .await
                    .unwrap());
                latencies.push(began.elapsed());
            }
            latencies
        })
    });
    let mut latencies: Vec<Duration> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .flat_map(Result::unwrap)
        .collect();
    let elapsed = started.elapsed();
    latencies.sort();
    let pairs = latencies.len();
    let at = |q: f64| latencies[((pairs as f64 * q) as usize).min(pairs - 1)];
    println!(
        "redis claim+complete, {label}: {pairs} pairs, {concurrency} tasks, {:.0} pairs/s, p50 {:?}, p99 {:?}, max {:?}",
        pairs as f64 / elapsed.as_secs_f64(),
        at(0.50),
        at(0.99),
        latencies[pairs - 1]
    );
}
