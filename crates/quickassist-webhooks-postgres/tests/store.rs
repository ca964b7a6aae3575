//! `PostgresStore` against a real PostgreSQL: the claim state machine, atomic claims under
//! concurrency, leases and token fencing, TTLs, an outage and recovery.

use std::time::{Duration, Instant};

use quickassist_webhooks::idempotency::{Claim, IdempotencyKey, IdempotencyStore};
use quickassist_webhooks_postgres::{test_server::PostgresServer, PostgresStore};

const LEASE: Duration = Duration::from_secs(60);
const TTL: Duration = Duration::from_secs(3600);

fn key(name: &str) -> IdempotencyKey {
    IdempotencyKey::new(name)
}

async fn started() -> (PostgresServer, PostgresStore) {
    let server = tokio::task::spawn_blocking(PostgresServer::start)
        .await
        .expect("the start task")
        .expect("a PostgreSQL cluster");
    let store = PostgresStore::connect(&server.url())
        .await
        .expect("connect")
        .timeout(Duration::from_secs(2));
    store.migrate().await.expect("migrations");
    (server, store)
}

#[tokio::test(flavor = "multi_thread")]
async fn claim_complete_release_follow_the_state_machine() {
    let (_server, store) = started().await;
    let Claim::New(token) = store.claim(&key("a"), LEASE).await.unwrap() else {
        panic!("a fresh key is new")
    };
    assert_eq!(
        store.claim(&key("a"), LEASE).await.unwrap(),
        Claim::InFlight
    );
    assert!(store.release(&key("a"), token).await.unwrap());
    let Claim::New(token) = store.claim(&key("a"), LEASE).await.unwrap() else {
        panic!("a released key is new again")
    };
    assert!(store.complete(&key("a"), token, TTL).await.unwrap());
    assert_eq!(store.claim(&key("a"), LEASE).await.unwrap(), Claim::Done);
    // Completing or releasing a done key with the old token does nothing.
    assert!(!store.complete(&key("a"), token, TTL).await.unwrap());
    assert!(!store.release(&key("a"), token).await.unwrap());
    assert_eq!(store.claim(&key("a"), LEASE).await.unwrap(), Claim::Done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_claims_yield_one_new() {
    let (_server, store) = started().await;
    let claims = (0..1000).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.claim(&key("storm"), LEASE).await.unwrap() })
    });
    let claims: Vec<Claim> = futures_util::future::join_all(claims)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let new = claims.iter().filter(|c| matches!(c, Claim::New(_))).count();
    assert_eq!(new, 1);
    assert_eq!(
        claims.iter().filter(|c| **c == Claim::InFlight).count(),
        999
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_lease_lets_a_retry_through_and_the_stale_owner_is_refused() {
    let (_server, store) = started().await;
    let short = Duration::from_millis(50);
    let Claim::New(crashed) = store.claim(&key("crash"), short).await.unwrap() else {
        panic!("new")
    };
    // Nobody settles: poll until the database's clock passes the lease, with a deadline.
    let deadline = Instant::now() + Duration::from_secs(10);
    let retry = loop {
        match store.claim(&key("crash"), LEASE).await.unwrap() {
            Claim::New(token) => break token,
            Claim::InFlight => assert!(Instant::now() < deadline, "lease never expired"),
            Claim::Done => panic!("nobody completed it"),
        }
    };
    assert_ne!(retry, crashed);
    assert!(!store.complete(&key("crash"), crashed, TTL).await.unwrap());
    assert!(!store.release(&key("crash"), crashed).await.unwrap());
    assert_eq!(
        store.claim(&key("crash"), LEASE).await.unwrap(),
        Claim::InFlight
    );
    assert!(store.complete(&key("crash"), retry, TTL).await.unwrap());
    assert_eq!(
        store.claim(&key("crash"), LEASE).await.unwrap(),
        Claim::Done
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn done_keys_expire_with_their_ttl_and_are_purged() {
    let (_server, store) = started().await;
    let Claim::New(token) = store.claim(&key("ttl"), LEASE).await.unwrap() else {
        panic!("new")
    };
    assert!(store
        .complete(&key("ttl"), token, Duration::from_millis(50))
        .await
        .unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.purge_expired().await.unwrap() == 0 {
        assert!(Instant::now() < deadline, "TTL never ended");
    }
    assert!(matches!(
        store.claim(&key("ttl"), LEASE).await.unwrap(),
        Claim::New(_)
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn database_down_is_a_prompt_store_error_then_the_store_recovers() {
    let (mut server, store) = started().await;
    server = tokio::task::spawn_blocking(move || {
        server.stop();
        server
    })
    .await
    .unwrap();
    let started = Instant::now();
    let error = store.claim(&key("down"), LEASE).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(error
        .to_string()
        .starts_with("idempotency store unavailable"));
    let server = tokio::task::spawn_blocking(move || server.restart().map(|()| server))
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        store.claim(&key("down"), LEASE).await.unwrap(),
        Claim::New(_)
    ));
    drop(server);
}

#[tokio::test(flavor = "multi_thread")]
async fn debug_never_shows_the_password() {
    let (_server, store) = started().await;
    let shown = format!("{store:?}");
    assert!(!shown.contains(quickassist_webhooks_postgres::test_server::PASSWORD));
    assert!(shown.contains(":***@127.0.0.1"), "{shown}");
}
