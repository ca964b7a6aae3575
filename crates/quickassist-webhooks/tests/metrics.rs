//! The pipeline's metrics (feature `metrics`), read back through a debugging recorder:
//! one outcome counter per delivery with its labels, and the two histograms.
#![cfg(all(feature = "metrics", feature = "memory-store"))]

use std::convert::Infallible;

use bytes::Bytes;
use metrics_util::{
    debugging::{DebugValue, DebuggingRecorder},
    CompositeKey, MetricKind,
};
use quickassist_webhooks::{
    idempotency::Deduplicator,
    receive::{
        integration::RequestHead, Receiver, DELIVERIES_TOTAL, DELIVERY_LAG_SECONDS,
        HANDLER_DURATION_SECONDS,
    },
    testing::{sample, SignedRequest},
    Event, Secret, Verifier,
};

const SECRET: &str = "whsec_metrics";

/// Delivers `request` once through `receiver`, the handler answering 200.
async fn deliver(receiver: &Receiver, request: &SignedRequest) {
    let head = RequestHead::new(None, [request.signature.as_bytes()]);
    let body = futures_util::stream::iter([Ok::<_, Infallible>(Bytes::from(request.body.clone()))]);
    let _ = receiver
        .receive(
            (),
            head,
            body,
            |(), _| async { Ok::<_, Infallible>(200u16) },
            |s| *s,
        )
        .await;
}

fn labels(key: &CompositeKey) -> Vec<(String, String)> {
    key.key()
        .labels()
        .map(|label| (label.key().to_owned(), label.value().to_owned()))
        .collect()
}

#[test]
fn each_outcome_is_counted_once_with_its_labels_and_no_ids() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let receiver = Receiver::builder(Verifier::new(SECRET))
                .deduplicator(Deduplicator::memory())
                .build()
                .unwrap();
            let genuine = SignedRequest::new(
                &Secret::from(SECRET),
                &sample(Event::MESSAGE_READ, "whk_m1"),
            );
            let forged = SignedRequest::new(
                &Secret::from("other"),
                &sample(Event::MESSAGE_READ, "whk_m2"),
            );
            deliver(&receiver, &genuine).await;
            deliver(&receiver, &genuine).await;
            deliver(&receiver, &forged).await;
        });
    });

    let mut counters = Vec::new();
    let mut histograms = Vec::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        match (key.kind(), value) {
            (MetricKind::Counter, DebugValue::Counter(count)) => {
                assert_eq!(key.key().name(), DELIVERIES_TOTAL);
                counters.push((labels(&key), count));
            }
            (MetricKind::Histogram, DebugValue::Histogram(values)) => {
                histograms.push((key.key().name().to_owned(), values.len()));
            }
            other => panic!("unexpected metric {key:?}: {other:?}"),
        }
    }
    counters.sort();
    let label = |outcome: &str, reason: &str| {
        vec![
            ("outcome".to_owned(), outcome.to_owned()),
            ("reason".to_owned(), reason.to_owned()),
        ]
    };
    assert_eq!(
        counters,
        vec![
            (label("duplicate", "none"), 1),
            (label("processed", "none"), 1),
            (label("rejected", "invalid_signature"), 1),
        ]
    );
    histograms.sort();
    // The lag is measured for both verified deliveries, the handler only for the first.
    assert_eq!(
        histograms,
        vec![
            (DELIVERY_LAG_SECONDS.to_owned(), 2),
            (HANDLER_DURATION_SECONDS.to_owned(), 1),
        ]
    );
}

#[test]
fn keys_forgotten_early_are_counted() {
    use std::time::Duration;

    use quickassist_webhooks::idempotency::{
        Claim, IdempotencyKey, IdempotencyStore, MemoryStore, MEMORY_STORE_EARLY_EVICTIONS_TOTAL,
    };

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let store = MemoryStore::with_capacity(1);
        runtime.block_on(async {
            for n in 0..3 {
                let key = IdempotencyKey::new(format!("whk_{n}"));
                let lease = Duration::from_secs(60);
                let Claim::New(token) = store.claim(&key, lease).await.unwrap() else {
                    panic!("a fresh key must be new");
                };
                let ttl = Duration::from_secs(3600);
                assert!(store.complete(&key, token, ttl).await.unwrap());
            }
        });
        // Eviction (and so the listener) runs in the store's pending maintenance.
        assert_eq!(store.early_evictions(), 2);
    });
    let counted: Vec<_> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == MEMORY_STORE_EARLY_EVICTIONS_TOTAL)
        .map(|(_, _, _, value)| value)
        .collect();
    assert_eq!(counted, [DebugValue::Counter(2)]);
}
