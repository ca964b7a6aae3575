//! `RedisStore` against a real `redis-server` this test starts on a free loopback port.

mod common;

use std::{sync::Arc, time::Duration};

use common::{admin, store};

use quickassist_webhooks::idempotency::{
    Admission, Claim, DedupRejection, Deduplicator, IdempotencyStore,
};
use quickassist_webhooks_redis::RedisStore;
use quickassist_webhooks_test::{
    eventually,
    redis::{RedisCluster, RedisServer},
    store_suite::{self, key, LEASE, TTL},
};
use redis::AsyncCommands;

/// A loopback port nothing listens on.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

#[tokio::test]
async fn claim_complete_release_follow_the_state_machine() {
    let server = RedisServer::start().unwrap();
    store_suite::claim_complete_release_follow_the_state_machine(&store(&server).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_claims_over_eight_connections_yield_one_new() {
    let server = RedisServer::start().unwrap();
    let mut stores: Vec<Arc<dyn IdempotencyStore>> = Vec::new();
    for _ in 0..8 {
        stores.push(Arc::new(store(&server).await));
    }
    store_suite::simultaneous_claims_yield_one_new(&stores, 1000).await;
}

#[tokio::test]
async fn an_expired_lease_lets_a_retry_through_and_the_stale_owner_is_refused() {
    let server = RedisServer::start().unwrap();
    store_suite::an_expired_lease_lets_a_retry_through_and_the_stale_owner_is_refused(
        &store(&server).await,
    )
    .await;
}

#[tokio::test]
async fn done_keys_expire_with_their_ttl() {
    let server = RedisServer::start().unwrap();
    store_suite::a_done_key_is_new_again_after_its_ttl(&store(&server).await).await;
}

#[tokio::test]
async fn prefixes_isolate_applications() {
    let server = RedisServer::start().unwrap();
    let first = RedisStore::builder()
        .prefix("app1:")
        .connect(&server.url())
        .await
        .unwrap();
    let second = RedisStore::builder()
        .prefix("app2:")
        .connect(&server.url())
        .await
        .unwrap();
    assert!(matches!(
        first.claim(&key("same"), LEASE).await.unwrap(),
        Claim::New(_)
    ));
    assert!(matches!(
        second.claim(&key("same"), LEASE).await.unwrap(),
        Claim::New(_)
    ));
    assert_eq!(first.prefix(), "app1:");
    assert_eq!(
        first.redis_key(&key("same")),
        format!("app1:{}", key("same"))
    );
    // Completing in one application leaves the other's claim in flight.
    let Claim::New(token) = first.claim(&key("other"), LEASE).await.unwrap() else {
        panic!("new")
    };
    assert!(first.complete(&key("other"), token, TTL).await.unwrap());
    assert!(matches!(
        second.claim(&key("other"), LEASE).await.unwrap(),
        Claim::New(_)
    ));
    assert_eq!(
        first.claim(&key("other"), LEASE).await.unwrap(),
        Claim::Done
    );
}

#[tokio::test]
async fn keys_hold_the_lease_while_in_flight_and_the_done_ttl_once_complete() {
    let server = RedisServer::start().unwrap();
    let store = store(&server).await;
    let mut redis = admin(&server).await;
    let name = store.redis_key(&key("expiry"));
    assert!(name.starts_with(quickassist_webhooks_redis::DEFAULT_KEY_PREFIX));
    assert_eq!(name.len(), "quickassist:webhook:".len() + 32);

    let Claim::New(token) = store.claim(&key("expiry"), LEASE).await.unwrap() else {
        panic!("new")
    };
    let value: String = redis.get(&name).await.unwrap();
    assert_eq!(value, format!("i:{:032x}", token.get()));
    let lease_left: i64 = redis.pttl(&name).await.unwrap();
    assert!(lease_left > 0 && lease_left <= 60_000, "{lease_left}");

    assert!(store.complete(&key("expiry"), token, TTL).await.unwrap());
    let value: String = redis.get(&name).await.unwrap();
    assert_eq!(value, "d");
    let ttl_left: i64 = redis.pttl(&name).await.unwrap();
    assert!(ttl_left > 60_000 && ttl_left <= 3_600_000, "{ttl_left}");

    // Releasing removes the key altogether.
    let Claim::New(token) = store.claim(&key("released"), LEASE).await.unwrap() else {
        panic!("new")
    };
    assert!(store.release(&key("released"), token).await.unwrap());
    let exists: bool = redis
        .exists(store.redis_key(&key("released")))
        .await
        .unwrap();
    assert!(!exists);
}

#[tokio::test]
async fn debug_and_errors_never_show_the_password() {
    let server = RedisServer::start().unwrap();
    let mut redis = admin(&server).await;
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg("hunter2-secret")
        .query_async(&mut redis)
        .await
        .unwrap();
    let port = server.port();

    let store = RedisStore::connect(&format!("redis://:hunter2-secret@127.0.0.1:{port}/"))
        .await
        .unwrap();
    assert!(matches!(
        store.claim(&key("auth"), LEASE).await.unwrap(),
        Claim::New(_)
    ));
    let debug = format!("{store:?}");
    assert!(debug.contains(&format!("127.0.0.1:{port}")), "{debug}");
    assert!(debug.contains("quickassist:webhook:"), "{debug}");
    assert!(!debug.contains("hunter2"), "{debug}");

    let wrong = RedisStore::connect(&format!("redis://:wrong-secret@127.0.0.1:{port}/"))
        .await
        .unwrap_err();
    assert!(
        !format!("{wrong} {wrong:?}").contains("wrong-secret"),
        "{wrong}"
    );

    let closed = free_port();
    let unreachable = RedisStore::connect(&format!("redis://:hunter2-secret@127.0.0.1:{closed}/"))
        .await
        .unwrap_err();
    assert!(
        !format!("{unreachable} {unreachable:?}").contains("hunter2"),
        "{unreachable}"
    );
}

#[tokio::test]
async fn a_paused_redis_is_a_timeout_error_then_the_store_answers_again() {
    let server = RedisServer::start().unwrap();
    let store = RedisStore::builder()
        .timeout(Duration::from_millis(200))
        .connect(&server.url())
        .await
        .unwrap();
    assert_eq!(store.timeout(), Duration::from_millis(200));
    let mut redis = admin(&server).await;
    // Redis stops answering every client for 2 s: the store must not wait that long.
    let () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(2000)
        .arg("ALL")
        .query_async(&mut redis)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let error = store.claim(&key("paused"), LEASE).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(2000),
        "answered only after the pause: {error}"
    );
    assert!(error.to_string().contains("timed out"), "{error}");

    assert!(matches!(
        claim_once_answered(&store, "after the pause").await,
        Claim::New(_)
    ));
}

/// Claims `name` again and again until the store answers (it reconnects on its own),
/// failing the test after 15 s without an answer.
async fn claim_once_answered(store: &RedisStore, name: &str) -> Claim {
    eventually(
        "the store to answer again",
        Duration::from_secs(15),
        async || store.claim(&key(name), LEASE).await.ok(),
    )
    .await
}

#[tokio::test]
async fn a_store_built_while_redis_is_down_works_once_redis_is_up() {
    let mut server = RedisServer::start().unwrap();
    server.stop();
    let client = redis::Client::open(server.url()).unwrap();
    let store = RedisStore::builder()
        .timeout(Duration::from_millis(200))
        .build(client)
        .unwrap();
    assert!(store.claim(&key("late"), LEASE).await.is_err());

    server.restart().unwrap();
    assert!(matches!(
        claim_once_answered(&store, "late").await,
        Claim::New(_)
    ));
}

#[tokio::test]
async fn redis_down_is_a_prompt_store_error_then_the_store_recovers() {
    let mut server = RedisServer::start().unwrap();
    let store = RedisStore::builder()
        .timeout(Duration::from_millis(300))
        .connect(&server.url())
        .await
        .unwrap();
    let dedup = Deduplicator::new(store.clone());
    server.stop();
    let started = std::time::Instant::now();
    let refused = dedup.admit_key("whk_down").await;
    assert!(
        matches!(refused, Err(DedupRejection::StoreUnavailable(_))),
        "fail-closed: {refused:?}"
    );
    // Bounded by the timeout (plus scheduling), never hanging the request.
    assert!(started.elapsed() < Duration::from_secs(5));

    server.restart().unwrap();
    let admission = eventually(
        "the store to reconnect",
        Duration::from_secs(15),
        async || dedup.admit_key("whk_down").await.ok(),
    )
    .await;
    let Admission::Process(guard) = admission else {
        panic!("the retry after the outage is processed")
    };
    guard.complete().await.unwrap();
    assert!(matches!(
        dedup.admit_key("whk_down").await,
        Ok(Admission::Duplicate)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_against_a_three_node_cluster() {
    let cluster = RedisCluster::start().unwrap();
    let urls = cluster.urls();
    let nodes: Vec<&str> = urls.iter().map(String::as_str).collect();
    let store = RedisStore::builder().connect_cluster(&nodes).await.unwrap();
    // Keys spread over the three nodes' slots.
    for n in 0..50 {
        let key = key(&format!("cluster-{n}"));
        let Claim::New(token) = store.claim(&key, LEASE).await.unwrap() else {
            panic!("new")
        };
        assert_eq!(store.claim(&key, LEASE).await.unwrap(), Claim::InFlight);
        assert!(store.complete(&key, token, TTL).await.unwrap());
        assert_eq!(store.claim(&key, LEASE).await.unwrap(), Claim::Done);
    }
    // Concurrent claims of one key stay atomic on the key's node.
    let claims = (0..200).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.claim(&key("cluster-storm"), LEASE).await.unwrap() })
    });
    let new = futures_util::future::join_all(claims)
        .await
        .into_iter()
        .filter(|claim| matches!(claim, Ok(Claim::New(_))))
        .count();
    assert_eq!(new, 1);
    let debug = format!("{store:?}");
    assert!(
        debug.contains("cluster") && debug.contains(&urls[0][8..]),
        "{debug}"
    );
}
