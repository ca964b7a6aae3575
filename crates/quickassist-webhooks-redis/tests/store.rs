//! `RedisStore` against a real `redis-server` this test starts on a free loopback port.

#[path = "../src/test_server.rs"]
#[allow(dead_code, unreachable_pub)]
mod test_server;

use std::time::Duration;

use quickassist_webhooks::idempotency::{
    Admission, Claim, DedupRejection, Deduplicator, IdempotencyKey, IdempotencyStore,
};
use quickassist_webhooks_redis::RedisStore;
use test_server::RedisServer;

const LEASE: Duration = Duration::from_secs(60);
const TTL: Duration = Duration::from_secs(3600);

async fn store(server: &RedisServer) -> RedisStore {
    RedisStore::connect(&server.url())
        .await
        .expect("connect to the test redis")
}

fn key(name: &str) -> IdempotencyKey {
    IdempotencyKey::new(name)
}

#[tokio::test]
async fn claim_complete_release_follow_the_state_machine() {
    let server = RedisServer::start().unwrap();
    let store = store(&server).await;
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
async fn a_thousand_concurrent_claims_over_eight_connections_yield_one_new() {
    let server = RedisServer::start().unwrap();
    let mut stores = Vec::new();
    for _ in 0..8 {
        stores.push(store(&server).await);
    }
    let claims = (0..1000).map(|n| {
        let store = stores[n % 8].clone();
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

#[tokio::test]
async fn an_expired_lease_lets_a_retry_through_and_the_stale_owner_is_refused() {
    let server = RedisServer::start().unwrap();
    let store = store(&server).await;
    let short = Duration::from_millis(50);
    let Claim::New(crashed) = store.claim(&key("crash"), short).await.unwrap() else {
        panic!("new")
    };
    // The replica "crashes": nobody settles. Wait for Redis to expire the lease, polling
    // with a deadline (the expiry is Redis's, not timed by this test).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let retry = loop {
        match store.claim(&key("crash"), LEASE).await.unwrap() {
            Claim::New(token) => break token,
            Claim::InFlight => {
                assert!(std::time::Instant::now() < deadline, "lease never expired");
                tokio::task::yield_now().await;
            }
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

#[tokio::test]
async fn done_keys_expire_with_their_ttl() {
    let server = RedisServer::start().unwrap();
    let store = store(&server).await;
    let Claim::New(token) = store.claim(&key("ttl"), LEASE).await.unwrap() else {
        panic!("new")
    };
    assert!(store
        .complete(&key("ttl"), token, Duration::from_millis(50))
        .await
        .unwrap());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match store.claim(&key("ttl"), LEASE).await.unwrap() {
            Claim::New(_) => break,
            Claim::Done => assert!(std::time::Instant::now() < deadline, "TTL never ended"),
            Claim::InFlight => panic!("it was done"),
        }
        tokio::task::yield_now().await;
    }
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
    let debug = format!("{first:?}");
    assert!(
        debug.contains("app1:") && !debug.contains("127.0.0.1"),
        "{debug}"
    );
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
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let admission = loop {
        match dedup.admit_key("whk_down").await {
            Ok(admission) => break admission,
            Err(_) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the store never reconnected"
                );
                tokio::task::yield_now().await;
            }
        }
    };
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
    let cluster = test_server::RedisCluster::start().unwrap();
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
    assert!(format!("{store:?}").contains("cluster"));
}
