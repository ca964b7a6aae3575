//! The checks every [`IdempotencyStore`] must pass, as public functions: run them on your own
//! store (a DynamoDB or SQLite store, say) in your tests, one fresh store per check or
//! [`check_all`] on one. The memory, Redis and PostgreSQL stores of this project pass them.
//!
//! Each check panics (as `assert!` does) when the store breaks the contract, and also when the
//! store answers with a [`StoreError`](quickassist_webhooks::idempotency::StoreError): the
//! store must be reachable while it runs.
//!
//! A store of your own (a toy in one process; a real one shares its state between replicas):
//!
//! ```
//! use std::{collections::HashMap, sync::{Arc, Mutex}, time::{Duration, Instant}};
//! use quickassist_webhooks::idempotency::{
//!     Claim, ClaimToken, IdempotencyKey, IdempotencyStore, StoreFuture,
//! };
//!
//! #[derive(Debug, Default)]
//! struct MyStore {
//!     /// key → (`Some(token)` while in flight, `None` once done; when the lease or TTL ends)
//!     rows: Mutex<HashMap<IdempotencyKey, (Option<ClaimToken>, Instant)>>,
//! }
//!
//! impl IdempotencyStore for MyStore {
//!     fn claim<'a>(&'a self, key: &'a IdempotencyKey, lease: Duration) -> StoreFuture<'a, Claim> {
//!         let mut rows = self.rows.lock().unwrap();
//!         let claim = match rows.get(key) {
//!             Some((None, until)) if *until > Instant::now() => Claim::Done,
//!             Some((Some(_), until)) if *until > Instant::now() => Claim::InFlight,
//!             _ => {
//!                 let token = ClaimToken::random();
//!                 rows.insert(*key, (Some(token), Instant::now() + lease));
//!                 Claim::New(token)
//!             }
//!         };
//!         Box::pin(std::future::ready(Ok(claim)))
//!     }
//!
//!     fn complete<'a>(
//!         &'a self,
//!         key: &'a IdempotencyKey,
//!         token: ClaimToken,
//!         ttl: Duration,
//!     ) -> StoreFuture<'a, bool> {
//!         let mut rows = self.rows.lock().unwrap();
//!         let owned = matches!(rows.get(key), Some((Some(owner), _)) if *owner == token);
//!         if owned {
//!             rows.insert(*key, (None, Instant::now() + ttl));
//!         }
//!         Box::pin(std::future::ready(Ok(owned)))
//!     }
//!
//!     fn release<'a>(&'a self, key: &'a IdempotencyKey, token: ClaimToken) -> StoreFuture<'a, bool> {
//!         let mut rows = self.rows.lock().unwrap();
//!         let owned = matches!(rows.get(key), Some((Some(owner), _)) if *owner == token);
//!         if owned {
//!             rows.remove(key);
//!         }
//!         Box::pin(std::future::ready(Ok(owned)))
//!     }
//! }
//!
//! # #[tokio::main] async fn main() {
//! // In your tests: #[tokio::test] async fn my_store_passes_the_suite() { ... }
//! quickassist_webhooks_test::store_suite::check_all(Arc::new(MyStore::default())).await;
//! # }
//! ```

use std::{sync::Arc, time::Duration};

use quickassist_webhooks::idempotency::{Claim, IdempotencyKey, IdempotencyStore};

use crate::eventually;

/// The lease the checks claim with, unless they need it to expire.
pub const LEASE: Duration = Duration::from_secs(60);
/// The done-TTL the checks complete with.
pub const TTL: Duration = Duration::from_secs(3600);

/// The key `name`.
#[must_use]
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

/// Every check on one `store`: [`claim_complete_release_follow_the_state_machine`],
/// [`simultaneous_claims_yield_one_new`] (64 claims) and
/// [`an_expired_lease_lets_a_retry_through_and_the_stale_owner_is_refused`]. They use distinct
/// keys, so one store serves them all.
///
/// # Panics
///
/// When the store fails a check (see the [module](self) docs).
pub async fn check_all(store: Arc<dyn IdempotencyStore>) {
    claim_complete_release_follow_the_state_machine(&*store).await;
    simultaneous_claims_yield_one_new(&[Arc::clone(&store)], 64).await;
    an_expired_lease_lets_a_retry_through_and_the_stale_owner_is_refused(&*store).await;
    a_done_key_is_new_again_after_its_ttl(&*store).await;
}

/// Claims the key `name` (it must be new) and completes it with the done-TTL `ttl`.
///
/// # Panics
///
/// If the key is not new, the completion is refused, or the store errs.
pub async fn claim_and_complete(store: &dyn IdempotencyStore, name: &str, ttl: Duration) {
    let Claim::New(token) = claim(store, name, LEASE).await else {
        panic!("{name} must be new");
    };
    assert!(
        store
            .complete(&key(name), token, ttl)
            .await
            .expect("an answer"),
        "the owner's completion of {name} must be accepted"
    );
}

/// A key completed with a short done-TTL is a duplicate until the store expires it (polled
/// with a deadline, the expiry being the store's), then new again.
pub async fn a_done_key_is_new_again_after_its_ttl(store: &dyn IdempotencyStore) {
    claim_and_complete(store, "ttl", Duration::from_millis(50)).await;
    eventually(
        "the done-TTL to end",
        Duration::from_secs(10),
        async || match claim(store, "ttl", LEASE).await {
            Claim::New(_) => true,
            Claim::Done => false,
            Claim::InFlight => panic!("the key was done, not in flight"),
        },
    )
    .await;
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
    let retry = eventually(
        "the lease to expire",
        Duration::from_secs(10),
        async || match claim(store, "crash", LEASE).await {
            Claim::New(token) => Some(token),
            Claim::InFlight => None,
            Claim::Done => panic!("nobody completed it"),
        },
    )
    .await;
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
