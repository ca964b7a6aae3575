//! Several receivers sharing one Redis: each delivery processed once across replicas, and a
//! Redis outage answered 503 (never 200-and-dropped) until Redis is back.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use quickassist_e2e::{servers::start_axum, RecordingSink, SECRET};
use quickassist_webhooks::{
    receive::Receiver,
    testing::{sample, SignedRequest},
    Event, Secret, Verifier, SIGNATURE_HEADER,
};
use quickassist_webhooks_redis::RedisStore;
use quickassist_webhooks_test::{eventually, redis::RedisServer};
use reqwest::StatusCode;

/// One receiver replica on Redis, feeding the shared `sink`.
async fn replica(redis_url: &str, sink: Arc<RecordingSink>) -> SocketAddr {
    let store = RedisStore::builder()
        .timeout(Duration::from_millis(300))
        .connect(redis_url)
        .await
        .expect("connect to the test redis");
    let receiver = Receiver::builder(Verifier::new(SECRET))
        .store(store)
        .build()
        .expect("a valid configuration");
    start_axum(receiver, sink).await.addr
}

async fn deliver(
    client: &reqwest::Client,
    addr: SocketAddr,
    delivery: &SignedRequest,
) -> StatusCode {
    client
        .post(format!("http://{addr}/webhooks/thequickassist"))
        .header(SIGNATURE_HEADER, &delivery.signature)
        .header("content-type", "application/json")
        .body(delivery.body.clone())
        .send()
        .await
        .expect("the replica answers")
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_process_a_storm_of_copies_exactly_once() {
    let redis = RedisServer::start().unwrap();
    let sink = Arc::new(RecordingSink::default());
    let replicas = [
        replica(&redis.url(), sink.clone()).await,
        replica(&redis.url(), sink.clone()).await,
    ];
    let client = reqwest::Client::new();
    let delivery = SignedRequest::new(
        &Secret::from(SECRET),
        &sample(Event::MESSAGE_DELIVERED, "whk_replicas"),
    );
    let copies = (0..64).map(|n| {
        let (client, delivery, addr) = (client.clone(), delivery.clone(), replicas[n % 2]);
        tokio::spawn(async move { deliver(&client, addr, &delivery).await })
    });
    for status in futures_util::future::join_all(copies).await {
        let status = status.unwrap();
        assert!(
            status == StatusCode::OK || status == StatusCode::CONFLICT,
            "{status}"
        );
    }
    assert_eq!(sink.count("whk_replicas"), 1);
    // Later retries on either replica are duplicates.
    for addr in replicas {
        assert_eq!(deliver(&client, addr, &delivery).await, StatusCode::OK);
    }
    assert_eq!(sink.count("whk_replicas"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_answers_503_and_the_retry_after_restart_is_processed() {
    let mut redis = RedisServer::start().unwrap();
    let sink = Arc::new(RecordingSink::default());
    let addr = replica(&redis.url(), sink.clone()).await;
    let client = reqwest::Client::new();
    let before = SignedRequest::new(
        &Secret::from(SECRET),
        &sample(Event::MESSAGE_READ, "whk_before"),
    );
    assert_eq!(deliver(&client, addr, &before).await, StatusCode::OK);

    redis.stop();
    let during = SignedRequest::new(
        &Secret::from(SECRET),
        &sample(Event::MESSAGE_READ, "whk_during"),
    );
    for _ in 0..3 {
        assert_eq!(
            deliver(&client, addr, &during).await,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    assert_eq!(
        sink.count("whk_during"),
        0,
        "nothing processed while Redis is down"
    );

    redis.restart().unwrap();
    // The provider keeps retrying; one of its retries lands once the store reconnects.
    eventually(
        "the receiver to recover",
        Duration::from_secs(15),
        async || match deliver(&client, addr, &during).await {
            StatusCode::OK => true,
            StatusCode::SERVICE_UNAVAILABLE => false,
            other => panic!("unexpected {other}"),
        },
    )
    .await;
    assert_eq!(sink.count("whk_during"), 1);
}
