//! The whole receive path of one new delivery on one core: verify the signature, parse the
//! envelope, claim its `webhookId` and complete it, in a `MemoryStore` already remembering
//! 1,000,000 keys. Criterion reports elements/s = events/s.
//!
//! cargo bench -p quickassist-webhooks --bench pipeline -- --warm-up-time 1 --measurement-time 5

// criterion's macros generate undocumented items; setup may unwrap.
#![allow(missing_docs, clippy::unwrap_used)]

use std::{
    future::Future,
    hint::black_box,
    pin::pin,
    task::{Context, Poll, Waker},
};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use quickassist_webhooks::{
    idempotency::{Admission, Deduplicator, MemoryStore},
    testing::{sample_at, SignedRequest},
    Event, Secret, Verifier,
};

/// Drives a future `MemoryStore` resolves on its first poll, without an executor's overhead.
fn ready<T>(future: impl Future<Output = T>) -> T {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => unreachable!("MemoryStore answers synchronously"),
    }
}

/// How many deliveries the store remembers before measuring.
const KEYS: u64 = 1_000_000;

fn deliveries(secret: &Secret, from: u64, count: u64) -> Vec<SignedRequest> {
    let at = chrono::DateTime::parse_from_rfc3339("2024-01-15T10:30:00Z")
        .unwrap()
        .to_utc();
    (from..from + count)
        .map(|n| {
            SignedRequest::new(
                secret,
                &sample_at(Event::MESSAGE_DELIVERED, &format!("whk_{n:012}"), at),
            )
        })
        .collect()
}

fn receive(verifier: &Verifier, dedup: &Deduplicator, request: &SignedRequest) -> bool {
    let verified = verifier
        .verify(Some(&request.signature), &request.body)
        .unwrap();
    let envelope = verified.parse::<Event>().unwrap();
    match ready(dedup.admit(&envelope)).unwrap() {
        Admission::Process(guard) => {
            ready(guard.complete()).unwrap();
            true
        }
        _ => false,
    }
}

fn pipeline(c: &mut Criterion) {
    let secret = Secret::from("whsec_benchmark");
    let verifier = Verifier::new("whsec_benchmark");
    let dedup = Deduplicator::new(MemoryStore::with_capacity(KEYS));
    // Remember 1,000,000 deliveries first, through the same path.
    for n in 0..KEYS {
        assert!(ready(dedup.admit_key(&format!("prefill_{n}")))
            .map(|admission| match admission {
                Admission::Process(guard) => ready(guard.complete()).is_ok(),
                _ => false,
            })
            .unwrap());
    }
    let mut next = 0u64;
    let mut group = c.benchmark_group("pipeline_1m_keys");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_parse_claim_complete", |b| {
        b.iter_batched(
            || {
                next += 1;
                deliveries(&secret, next, 1).pop().unwrap()
            },
            |request| assert!(receive(&verifier, &dedup, black_box(&request))),
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
