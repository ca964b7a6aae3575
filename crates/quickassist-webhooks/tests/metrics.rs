//! The pipeline's metrics (feature `metrics`), read back through a debugging recorder:
//! one outcome counter per delivery with its labels, and the two histograms.
#![cfg(all(feature = "metrics", feature = "memory-store"))]

use std::convert::Infallible;

use bytes::Bytes;
use quickassist_webhooks::{
    idempotency::Deduplicator,
    receive::{
        integration::RequestHead, Receiver, DELIVERIES_TOTAL, DELIVERY_LAG_SECONDS,
        HANDLER_DURATION_SECONDS,
    },
    testing::{sample, SignedRequest},
    Event, Secret, Verifier,
};
use quickassist_webhooks_test::metrics::{recorded, MetricValue};

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

#[test]
fn each_outcome_is_counted_once_with_its_labels_and_no_ids() {
    let ((), metrics) = recorded(async {
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

    let mut counters = Vec::new();
    let mut histograms = Vec::new();
    for metric in metrics {
        match (metric.counter(), metric.histogram_len()) {
            (Some(count), _) => {
                assert_eq!(metric.name, DELIVERIES_TOTAL);
                counters.push((metric.labels, count));
            }
            (_, Some(len)) => histograms.push((metric.name, len)),
            _ => panic!("unexpected metric {metric:?}"),
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

    let store = MemoryStore::with_capacity(1);
    let ((), metrics) = recorded(async {
        for n in 0..3 {
            let key = IdempotencyKey::new(format!("whk_{n}"));
            let lease = Duration::from_secs(60);
            let Claim::New(token) = store.claim(&key, lease).await.unwrap() else {
                panic!("a fresh key must be new");
            };
            let ttl = Duration::from_secs(3600);
            assert!(store.complete(&key, token, ttl).await.unwrap());
        }
        // Eviction (and so the listener) runs in the store's pending maintenance.
        assert_eq!(store.early_evictions(), 2);
    });
    let counted: Vec<_> = metrics
        .iter()
        .filter(|metric| metric.name == MEMORY_STORE_EARLY_EVICTIONS_TOTAL)
        .map(|metric| metric.value.clone())
        .collect();
    assert_eq!(counted, [MetricValue::Counter(2)]);
}
