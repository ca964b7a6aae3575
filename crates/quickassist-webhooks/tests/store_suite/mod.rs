//! The checks every networked `IdempotencyStore` must pass: the Redis and PostgreSQL crates
//! include this file and run them against a real server.

#![allow(dead_code, unreachable_pub)]

use std::{sync::Arc, time::Duration};

use quickassist_webhooks::idempotency::{Claim, IdempotencyKey, IdempotencyStore};

/// The lease the checks claim with, unless they need it to expire.
pub const LEASE: Duration = Duration::from_secs(60);
/// The done-TTL the checks complete with.
pub const TTL: Duration = Duration::from_secs(3600);

pub fn key(name: &str) -> IdempotencyKey {
    IdempotencyKey::new(name)
}

async fn claim(store: &dyn IdempotencyStore, name: &str, lease: Duration) -> Claim {
    store.claim(&key(name), lease).await.expect("an answer")
}

/// New → in flight → released → new → done; a done key ignores its old token.
pub async fn claim_complete_release_follow_the_state_machine(store: &dyn IdempotencyStore) {
    let Claim::New(token) = claim(store, "a", LEASE).await else {
        panic!("a fresh key is new")
    };
    assert_eq!(claim(store, "a", LEASE).await, Claim::InFlight);
    assert!(store.release(&key("a"), token).await.expect("an answer"));
    let Claim::New(token) = claim(store, "a", LEASE).await else {
        panic!("a released key is new again")
    };
    assert!(store
        .complete(&key("a"), token, TTL)
        .await
        .expect("an answer"));
    assert_eq!(claim(store, "a", LEASE).await, Claim::Done);
    // Completing or releasing a done key with the old token does nothing.
    assert!(!store
        .complete(&key("a"), token, TTL)
        .await
        .expect("an answer"));
    assert!(!store.release(&key("a"), token).await.expect("an answer"));
    assert_eq!(claim(store, "a", LEASE).await, Claim::Done);
}

/// `claims` simultaneous claims of one key, spread over `stores` (connections): exactly one
/// is new, all the others in flight.
pub async fn simultaneous_claims_yield_one_new(
    stores: &[Arc<dyn IdempotencyStore>],
    claims: usize,
) {
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..claims {
        let store = Arc::clone(&stores[n % stores.len()]);
        tasks.spawn(async move { store.claim(&key("storm"), LEASE).await.expect("an answer") });
    }
    let (mut new, mut in_flight) = (0, 0);
    while let Some(claim) = tasks.join_next().await {
        match claim.expect("the task completed") {
            Claim::New(_) => new += 1,
            Claim::InFlight => in_flight += 1,
            Claim::Done => panic!("nobody completed it"),
        }
    }
    assert_eq!((new, in_flight), (1, claims - 1));
}

/// A claimer "crashes" (never settles): once the store expires its lease (polled with a
/// deadline, the expiry being the store's), a retry is new, and the crashed claimer's token
/// can neither complete nor release the retry's claim.
pub async fn an_expired_lease_lets_a_retry_through_and_the_stale_owner_is_refused(
    store: &dyn IdempotencyStore,
) {
    let Claim::New(crashed) = claim(store, "crash", Duration::from_millis(50)).await else {
        panic!("new")
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let retry = loop {
        match claim(store, "crash", LEASE).await {
            Claim::New(token) => break token,
            Claim::InFlight => {
                assert!(std::time::Instant::now() < deadline, "lease never expired");
                tokio::task::yield_now().await;
            }
            Claim::Done => panic!("nobody completed it"),
        }
    };
    assert_ne!(retry, crashed);
    assert!(!store
        .complete(&key("crash"), crashed, TTL)
        .await
        .expect("an answer"));
    assert!(!store
        .release(&key("crash"), crashed)
        .await
        .expect("an answer"));
    assert_eq!(claim(store, "crash", LEASE).await, Claim::InFlight);
    assert!(store
        .complete(&key("crash"), retry, TTL)
        .await
        .expect("an answer"));
    assert_eq!(claim(store, "crash", LEASE).await, Claim::Done);
}
