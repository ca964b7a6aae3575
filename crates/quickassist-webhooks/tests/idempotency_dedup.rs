//! `Deduplicator` and `DeliveryGuard`: admission, settling, guard drop, failure modes, keys.
#![cfg(feature = "memory-store")]

use std::{sync::Arc, time::Duration};

use quickassist_webhooks::{
    idempotency::{
        Admission, Claim, ClaimToken, ConfigError, DedupRejection, Deduplicator, DeliveryGuard,
        FailureMode, IdempotencyKey, IdempotencyStore, MemoryStore, StoreError, StoreFuture,
        DEFAULT_DONE_TTL, DEFAULT_LEASE,
    },
    Envelope, Event,
};
use quickassist_webhooks_test::{eventually, DownStore, ManualClock};

fn envelope(webhook_id: &str) -> Envelope {
    Envelope::new(
        Event::Unknown {
            event: "demo".into(),
            data: serde_json::json!({}),
        },
        chrono::Utc::now(),
        webhook_id,
    )
}

async fn process(dedup: &Deduplicator, key: &str) -> DeliveryGuard {
    match dedup.admit_key(key).await {
        Ok(Admission::Process(guard)) => guard,
        other => panic!("expected to process {key}, got {other:?}"),
    }
}

async fn assert_in_flight(dedup: &Deduplicator, key: &str) {
    match dedup.admit_key(key).await {
        Err(DedupRejection::InFlight { retry_after }) => {
            assert_eq!(retry_after, dedup.lease());
        }
        other => panic!("expected {key} in flight, got {other:?}"),
    }
}

async fn assert_duplicate(dedup: &Deduplicator, key: &str) {
    let admission = dedup.admit_key(key).await;
    assert!(
        matches!(admission, Ok(Admission::Duplicate)),
        "expected {key} duplicate, got {admission:?}"
    );
}

#[tokio::test]
async fn completed_delivery_is_a_duplicate_afterwards() {
    let dedup = Deduplicator::memory();
    let guard = process(&dedup, "whk_1").await;
    assert_eq!(guard.key(), IdempotencyKey::new("whk_1"));
    guard.complete().await.unwrap();
    assert_duplicate(&dedup, "whk_1").await;
    assert_duplicate(&dedup, "whk_1").await;
}

#[tokio::test]
async fn duplicate_while_in_flight_is_rejected_with_the_lease_as_retry_after() {
    let dedup = Deduplicator::memory().with_lease(Duration::from_secs(17));
    let _guard = process(&dedup, "whk_1").await;
    match dedup.admit_key("whk_1").await {
        Err(rejection @ DedupRejection::InFlight { retry_after }) => {
            assert_eq!(retry_after, Duration::from_secs(17));
            assert_eq!(
                rejection.to_string(),
                "the same delivery is being processed; retry in 17 s"
            );
        }
        other => panic!("expected in flight, got {other:?}"),
    }
}

#[tokio::test]
async fn released_delivery_is_processed_again() {
    let dedup = Deduplicator::memory();
    process(&dedup, "whk_1").await.release().await.unwrap();
    process(&dedup, "whk_1").await.complete().await.unwrap();
    assert_duplicate(&dedup, "whk_1").await;
}

#[tokio::test]
async fn settle_completes_on_success_and_releases_on_failure() {
    let dedup = Deduplicator::memory();
    process(&dedup, "whk_failed")
        .await
        .settle(false)
        .await
        .unwrap();
    let _processed_again = process(&dedup, "whk_failed").await;
    process(&dedup, "whk_ok").await.settle(true).await.unwrap();
    assert_duplicate(&dedup, "whk_ok").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_admissions_process_exactly_once() {
    let dedup = Deduplicator::memory();
    let barrier = Arc::new(tokio::sync::Barrier::new(1000));
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let (dedup, barrier) = (dedup.clone(), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                match dedup.admit_key("whk_race").await {
                    // Keep the guard alive: dropping it would release the claim.
                    Ok(Admission::Process(guard)) => Some(guard),
                    Err(DedupRejection::InFlight { .. }) => None,
                    other => panic!("unexpected {other:?}"),
                }
            })
        })
        .collect();
    let mut guards = Vec::new();
    for task in tasks {
        guards.extend(task.await.unwrap());
    }
    assert_eq!(guards.len(), 1);
}

#[tokio::test]
async fn dropped_guard_releases_the_claim() {
    let dedup = Deduplicator::memory();
    drop(process(&dedup, "whk_1").await);
    // The release runs in a spawned task: let it run.
    eventually_processed(&dedup, "the dropped guard to release its claim").await;
}

#[tokio::test]
async fn guard_dropped_by_a_panicking_handler_releases_the_claim() {
    let dedup = Deduplicator::memory();
    let handler = {
        let dedup = dedup.clone();
        tokio::spawn(async move {
            let _guard = process(&dedup, "whk_1").await;
            panic!("handler failed");
        })
    };
    assert!(handler.await.unwrap_err().is_panic());
    eventually_processed(&dedup, "the panicking handler's claim to be released").await;
}

/// Waits until `whk_1` is let through again (only in-flight may be seen meanwhile).
async fn eventually_processed(dedup: &Deduplicator, what: &str) {
    eventually(what, Duration::from_secs(10), async || {
        match dedup.admit_key("whk_1").await {
            Ok(Admission::Process(_)) => true,
            Err(DedupRejection::InFlight { .. }) => false,
            other => panic!("unexpected {other:?}"),
        }
    })
    .await;
}

#[test]
fn guard_dropped_outside_a_runtime_leaves_the_claim_to_its_lease() {
    let clock = ManualClock::new();
    let dedup = Deduplicator::new(clock.memory_store(1024));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let guard = runtime.block_on(process(&dedup, "whk_1"));
    drop(guard); // no runtime entered here: nothing can be spawned, and nothing panics
    runtime.block_on(assert_in_flight(&dedup, "whk_1"));
    clock.advance(DEFAULT_LEASE);
    let _after_lease = runtime.block_on(process(&dedup, "whk_1"));
}

#[tokio::test]
async fn late_completion_does_not_override_the_new_owner() {
    let clock = ManualClock::new();
    let dedup = Deduplicator::new(clock.memory_store(1024));
    let slow = process(&dedup, "whk_1").await;
    clock.advance(DEFAULT_LEASE); // the slow handler overran its lease
    let retry = process(&dedup, "whk_1").await;
    slow.complete().await.unwrap(); // refused by the store, logged, not an error
    assert_in_flight(&dedup, "whk_1").await;
    retry.release().await.unwrap();
    let _processed_again = process(&dedup, "whk_1").await;
}

#[tokio::test]
async fn store_failure_is_refused_when_fail_closed() {
    let store = Arc::new(DownStore::default());
    let dedup = Deduplicator::new(store.clone());
    match dedup.admit_key("whk_1").await {
        Err(rejection @ DedupRejection::StoreUnavailable(_)) => {
            assert_eq!(
                rejection.to_string(),
                "idempotency store unavailable: connection refused"
            );
        }
        other => panic!("expected store unavailable, got {other:?}"),
    }
    assert_eq!(store.calls(), 1);
}

#[tokio::test]
async fn store_failure_is_processed_unguarded_when_fail_open() {
    let dedup = Deduplicator::new(DownStore::default()).with_failure_mode(FailureMode::Open);
    for _ in 0..2 {
        let admission = dedup.admit_key("whk_1").await;
        assert!(
            matches!(admission, Ok(Admission::Unguarded)),
            "{admission:?}"
        );
    }
}

#[tokio::test]
async fn fail_closed_is_the_default() {
    assert_eq!(FailureMode::default(), FailureMode::Closed);
    let dedup = Deduplicator::new(DownStore::default());
    assert!(matches!(
        dedup.admit_key("whk_1").await,
        Err(DedupRejection::StoreUnavailable(_))
    ));
}

#[tokio::test]
async fn store_failure_while_settling_is_reported() {
    // A store whose backend goes down between the claim and the settling.
    #[derive(Debug)]
    struct FlakySettle(MemoryStore);
    impl IdempotencyStore for FlakySettle {
        fn claim<'a>(&'a self, key: &'a IdempotencyKey, lease: Duration) -> StoreFuture<'a, Claim> {
            self.0.claim(key, lease)
        }
        fn complete<'a>(
            &'a self,
            _: &'a IdempotencyKey,
            _: ClaimToken,
            _: Duration,
        ) -> StoreFuture<'a, bool> {
            Box::pin(std::future::ready(Err(StoreError::timeout(
                Duration::from_millis(5),
            ))))
        }
        fn release<'a>(&'a self, _: &'a IdempotencyKey, _: ClaimToken) -> StoreFuture<'a, bool> {
            Box::pin(std::future::ready(Err(StoreError::timeout(
                Duration::from_millis(5),
            ))))
        }
    }
    let dedup = Deduplicator::new(FlakySettle(MemoryStore::with_capacity(16)));
    let err = process(&dedup, "whk_1").await.complete().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "idempotency store unavailable: operation timed out after 5ms"
    );
    // The claim stays in flight (until its lease ends) rather than being processed twice.
    assert_in_flight(&dedup, "whk_1").await;
    assert!(process(&dedup, "whk_2").await.release().await.is_err());
}

#[tokio::test]
async fn envelopes_are_deduplicated_by_webhook_id() {
    let dedup = Deduplicator::memory();
    let Ok(Admission::Process(guard)) = dedup.admit(&envelope("whk_1")).await else {
        panic!("first delivery must be processed");
    };
    assert_eq!(guard.key(), IdempotencyKey::new("whk_1"));
    guard.complete().await.unwrap();
    let mut retry = envelope("whk_1");
    retry.timestamp += chrono::TimeDelta::seconds(30);
    assert!(matches!(
        dedup.admit(&retry).await,
        Ok(Admission::Duplicate)
    ));
    assert!(matches!(
        dedup.admit(&envelope("whk_2")).await,
        Ok(Admission::Process(_))
    ));
}

#[tokio::test]
async fn empty_webhook_id_is_not_deduplicated() {
    let dedup = Deduplicator::memory();
    for _ in 0..2 {
        assert!(matches!(
            dedup.admit(&envelope("")).await,
            Ok(Admission::Unguarded)
        ));
    }
}

#[tokio::test]
async fn key_function_sees_webhook_id_and_extra_fields() {
    let dedup = Deduplicator::memory().with_key_fn(|webhook_id, extra| {
        let tenant = extra.get("tenant")?.as_str()?;
        Some(format!("{tenant}/{webhook_id}"))
    });
    let mut acme = envelope("whk_1");
    acme.extra.insert("tenant".into(), "acme".into());
    let mut globex = envelope("whk_1");
    globex.extra.insert("tenant".into(), "globex".into());

    let Ok(Admission::Process(guard)) = dedup.admit(&acme).await else {
        panic!("first acme delivery must be processed");
    };
    assert_eq!(guard.key(), IdempotencyKey::new("acme/whk_1"));
    guard.complete().await.unwrap();
    assert!(matches!(dedup.admit(&acme).await, Ok(Admission::Duplicate)));
    assert!(matches!(
        dedup.admit(&globex).await,
        Ok(Admission::Process(_))
    ));
    // No tenant: the key function says "do not de-duplicate".
    assert!(matches!(
        dedup.admit(&envelope("whk_1")).await,
        Ok(Admission::Unguarded)
    ));
}

#[tokio::test]
async fn admit_key_uses_the_key_as_given() {
    let dedup = Deduplicator::memory().with_key_fn(|_, _| None);
    assert_eq!(
        process(&dedup, "whk_1").await.key(),
        IdempotencyKey::new("whk_1")
    );
}

#[test]
fn replay_window_must_fit_in_the_done_ttl() {
    let hour = Duration::from_secs(3600);
    let skew = Duration::from_secs(300);
    let dedup = Deduplicator::memory().with_done_ttl(2 * hour);
    assert_eq!(dedup.check_replay_window(None, skew), Ok(()));
    assert_eq!(
        dedup.check_replay_window(Some(Duration::from_secs(300)), skew),
        Ok(())
    );
    // 2 h less the skew, plus the skew: exactly covered.
    assert_eq!(
        dedup.check_replay_window(Some(2 * hour - skew), skew),
        Ok(())
    );
    let err = dedup
        .check_replay_window(Some(2 * hour - skew + Duration::from_secs(1)), skew)
        .unwrap_err();
    assert_eq!(
        err,
        ConfigError::ReplayWindowExceedsDoneTtl {
            tolerance: 2 * hour - skew + Duration::from_secs(1),
            clock_skew: skew,
            done_ttl: 2 * hour,
        }
    );
    let message = err.to_string();
    assert!(message.contains("would be processed again"), "{message}");
    assert!(message.contains("done-TTL"), "{message}");
    assert!(dedup
        .check_replay_window(Some(Duration::MAX), skew)
        .is_err());
    assert!(dedup
        .check_replay_window(Some(hour), Duration::MAX)
        .is_err());
    // The defaults fit a generous tolerance.
    assert!(Deduplicator::memory()
        .check_replay_window(Some(Duration::from_secs(3600)), skew)
        .is_ok());
}

#[test]
fn defaults_are_a_day_and_a_minute() {
    assert_eq!(DEFAULT_DONE_TTL, Duration::from_secs(86_400));
    assert_eq!(DEFAULT_LEASE, Duration::from_secs(60));
    let dedup = Deduplicator::default();
    assert_eq!(dedup.done_ttl(), DEFAULT_DONE_TTL);
    assert_eq!(dedup.lease(), DEFAULT_LEASE);
}

#[test]
fn setters_on_a_clone_leave_the_original_alone() {
    let original = Deduplicator::memory();
    let changed = original.clone().with_lease(Duration::from_secs(5));
    assert_eq!(original.lease(), DEFAULT_LEASE);
    assert_eq!(changed.lease(), Duration::from_secs(5));
}

#[tokio::test]
async fn debug_shows_configuration_only() {
    let dedup = Deduplicator::memory().with_failure_mode(FailureMode::Open);
    let debug = format!("{dedup:?}");
    assert!(debug.contains("MemoryStore"), "{debug}");
    assert!(debug.contains("failure_mode: Open"), "{debug}");
    assert!(debug.contains("lease: 60s"), "{debug}");
    let guard = process(&dedup, "whk_secretish").await;
    let debug = format!("{guard:?}");
    assert!(debug.contains(&IdempotencyKey::new("whk_secretish").to_string()));
    assert!(!debug.contains("whk_secretish"), "{debug}");
}

#[test]
fn deduplicator_and_its_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync + Clone + 'static>(_: &T) {}
    fn send<T: Send>(_: T) {}
    let dedup = Deduplicator::memory();
    send_sync(&dedup);
    send(dedup.admit_key("k"));
    // `Rc` is not `Sync`: the admit future must not depend on the event type.
    let envelope = Envelope::new(std::rc::Rc::new(()), chrono::Utc::now(), "whk");
    send(dedup.admit(&envelope));
}

#[test]
fn only_the_memory_store_is_process_local() {
    // What decides the serverless warning: a store that shares its claims, the trait's
    // default, is not process-local; the in-memory one is, through an `Arc` too.
    assert!(!DownStore::default().is_process_local());
    assert!(Arc::new(MemoryStore::new()).is_process_local());
    assert!(Deduplicator::memory().store().is_process_local());
}
