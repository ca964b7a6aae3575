//! `PostgresStore` against a real PostgreSQL: the claim state machine, atomic claims under
//! concurrency, leases and token fencing, TTLs, an outage and recovery.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use quickassist_webhooks::idempotency::{Claim, IdempotencyStore};
use quickassist_webhooks_postgres::PostgresStore;
use quickassist_webhooks_test::{
    eventually,
    postgres::{PostgresServer, PASSWORD},
    store_suite::{self, key, LEASE},
};

async fn started() -> (PostgresServer, PostgresStore) {
    let server = tokio::task::spawn_blocking(PostgresServer::start)
        .await
        .expect("the start task")
        .expect("a PostgreSQL cluster");
    let store = PostgresStore::connect(&server.url())
        .await
        .expect("connect")
        .with_timeout(Duration::from_secs(2));
    store.migrate().await.expect("migrations");
    (server, store)
}

#[tokio::test(flavor = "multi_thread")]
async fn claim_complete_release_follow_the_state_machine() {
    let (_server, store) = started().await;
    store_suite::claim_complete_release_follow_the_state_machine(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_claims_yield_one_new() {
    let (server, _) = started().await;
    // The check is about atomicity, not latency: a pool that waits long enough for a
    // connection, so that a thousand claims at once on a loaded machine queue rather than
    // time out (`PoolTimedOut` after the default 500 ms).
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(60))
        .connect(&server.url())
        .await
        .expect("connect");
    let store = PostgresStore::from_pool(pool).with_timeout(Duration::from_secs(60));
    let stores: Vec<Arc<dyn IdempotencyStore>> = vec![Arc::new(store)];
    store_suite::simultaneous_claims_yield_one_new(&stores, 1000).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_lease_lets_a_retry_through_and_the_stale_owner_is_refused() {
    let (_server, store) = started().await;
    store_suite::an_expired_lease_lets_a_retry_through_and_the_stale_owner_is_refused(&store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn done_keys_expire_with_their_ttl_and_are_purged() {
    let (_server, store) = started().await;
    store_suite::claim_and_complete(&store, "ttl", Duration::from_millis(50)).await;
    eventually("the TTL to end", Duration::from_secs(10), async || {
        store.purge_expired().await.unwrap() > 0
    })
    .await;
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
    assert!(!shown.contains(PASSWORD));
    assert!(shown.contains(":***@127.0.0.1"), "{shown}");
}
