//! Retention of the PostgreSQL inbox against a receiver taking deliveries over real HTTP:
//! a purge that runs while the intake does loses nothing unexpired, and a copy of a purged
//! delivery is refused by the replay window, never stored again.

use std::{
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc,
    },
    time::Duration,
};

use chrono::Utc;
use quickassist_e2e::{
    inbox::{self, inbox_receiver},
    servers::start_axum_intake_at,
    Target, PATH, SECRET,
};
use quickassist_webhooks::{
    receive::Receiver,
    testing::{sample_at, SignedRequest},
    Event, Secret, Verifier,
};
use quickassist_webhooks_postgres::{handler_fn, Inbox, Worker};
use reqwest::{Client, StatusCode};

fn signed(webhook_id: &str) -> SignedRequest {
    SignedRequest::new(
        &Secret::from(SECRET),
        &sample_at(Event::MESSAGE_DELIVERED, webhook_id, Utc::now()),
    )
}

/// The answer's status, and whether it was marked a duplicate.
async fn deliver(client: &Client, target: &Target, request: &SignedRequest) -> (StatusCode, bool) {
    let response = inbox::deliver(client, target, request).await;
    (
        response.status(),
        response.headers().contains_key("x-webhook-duplicate"),
    )
}

async fn scalar(inbox: &Inbox, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(inbox.pool())
        .await
        .expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_during_intake_keeps_every_unexpired_delivery_and_each_key_once() {
    let (_server, inbox, receiver) = inbox_receiver().await;
    // 20,000 deliveries processed two days ago, 100 processed an hour ago, 100 pending for two
    // days and 100 dead: only the first are older than the purge's day.
    sqlx::query(
        "INSERT INTO quickassist_webhook_inbox \
           (webhook_id, event, body, signed_form, signed_at, received_at, status, attempts, \
            processed_at, last_error) \
         SELECT 'whk_old_' || n, 'message.delivered', '{}'::bytea, 'raw', \
                now() - interval '2 days', now() - interval '2 days', \
                (ARRAY['processed', 'processed', 'pending', 'dead'])[k], \
                CASE WHEN k = 3 THEN 0 ELSE 1 END, \
                CASE WHEN k = 1 THEN now() - interval '2 days' \
                     WHEN k = 2 THEN now() - interval '1 hour' END, \
                CASE WHEN k = 4 THEN 'gave up' END \
         FROM generate_series(1, 20300) AS n, \
              LATERAL (SELECT CASE WHEN n <= 20000 THEN 1 WHEN n <= 20100 THEN 2 \
                                   WHEN n <= 20200 THEN 3 ELSE 4 END AS k) kind",
    )
    .execute(inbox.pool())
    .await
    .expect("the old rows");
    let target = start_axum_intake_at(PATH, receiver).await;
    let client = Client::new();

    let purge = tokio::spawn({
        let inbox = inbox.clone();
        async move { inbox.purge_processed(Duration::from_secs(86_400)).await }
    });
    // Eight clients deliver 400 new deliveries while the purge runs.
    let requests: Vec<SignedRequest> = (0..400).map(|n| signed(&format!("whk_new_{n}"))).collect();
    let send_all = |requests: Vec<SignedRequest>| {
        let chunks: Vec<Vec<SignedRequest>> = requests.chunks(50).map(<[_]>::to_vec).collect();
        let sends = chunks.into_iter().map(|chunk| {
            let (client, target) = (client.clone(), target.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                for request in &chunk {
                    answers.push(deliver(&client, &target, request).await);
                }
                answers
            })
        });
        futures_util::future::join_all(sends)
    };
    let answers: Vec<(StatusCode, bool)> = send_all(requests.clone())
        .await
        .into_iter()
        .flat_map(|answers| answers.expect("a client task"))
        .collect();
    assert!(answers
        .iter()
        .all(|&answer| answer == (StatusCode::OK, false)));
    let purged = purge.await.expect("the purge task").expect("the purge");

    assert_eq!(purged, 20_000, "exactly the rows processed over a day ago");
    let counts = scalar(
        &inbox,
        "SELECT count(*) FILTER (WHERE webhook_id LIKE 'whk_new_%') * 1000000 \
              + count(*) FILTER (WHERE webhook_id LIKE 'whk_old_%') \
         FROM quickassist_webhook_inbox",
    )
    .await;
    assert_eq!(
        (counts / 1_000_000, counts % 1_000_000),
        (400, 300),
        "(new, old) rows kept"
    );
    assert_eq!(
        scalar(
            &inbox,
            "SELECT count(*) FROM quickassist_webhook_inbox \
             WHERE status = 'processed' AND processed_at < now() - interval '1 day'"
        )
        .await,
        0
    );

    // Every key is still known once: each copy is a duplicate and stores nothing.
    let again: Vec<(StatusCode, bool)> = send_all(requests)
        .await
        .into_iter()
        .flat_map(|answers| answers.expect("a client task"))
        .collect();
    assert!(again.iter().all(|&answer| answer == (StatusCode::OK, true)));
    assert_eq!(
        scalar(
            &inbox,
            "SELECT count(*) FROM quickassist_webhook_inbox WHERE webhook_id LIKE 'whk_new_%'"
        )
        .await,
        400
    );
}

/// With the purge's age at least the replay window plus the clock-skew allowance, a copy
/// of a purged delivery is refused as stale; with a shorter age it would be stored (and
/// processed) again, as the documentation of `purge_processed` says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_of_a_purged_delivery_is_refused_by_the_replay_window() {
    let (_server, inbox, _) = inbox_receiver().await;
    const WINDOW: Duration = Duration::from_secs(60);
    const SKEW: Duration = Duration::from_secs(30);
    // The receiver's clock, ahead of the real one by `ahead` seconds.
    let ahead = Arc::new(AtomicI64::new(0));
    let clock = {
        let ahead = Arc::clone(&ahead);
        move || Utc::now() + chrono::Duration::seconds(ahead.load(Ordering::SeqCst))
    };
    let verifier = Verifier::new(SECRET)
        .with_timestamp_tolerance(WINDOW)
        .with_clock_skew(SKEW)
        .clock(clock);
    let receiver = Receiver::builder(verifier)
        .build_intake(inbox.clone())
        .expect("a valid configuration");
    let target = start_axum_intake_at(PATH, receiver).await;
    let client = Client::new();

    let process = async || {
        Worker::new(inbox.clone(), handler_fn(|_, _| Box::pin(async { Ok(()) })))
            .process_batch()
            .await
            .expect("a batch");
    };
    // Moves `webhook_id`'s processing `seconds` into the past, and the receiver's clock as
    // far ahead: as if that time had passed.
    let pass = async |webhook_id: &str, seconds: i64| {
        sqlx::query(
            "UPDATE quickassist_webhook_inbox \
             SET processed_at = processed_at - $2 * interval '1 second' WHERE webhook_id = $1",
        )
        .bind(webhook_id)
        .bind(seconds)
        .execute(inbox.pool())
        .await
        .expect("the processed row");
        ahead.fetch_add(seconds, Ordering::SeqCst);
    };

    // Purged 30 s after its processing with an age of 10 s, inside the 60 s window: the copy
    // is still fresh, so it is a new delivery again.
    let too_short = signed("whk_purged_inside_the_window");
    assert_eq!(
        deliver(&client, &target, &too_short).await,
        (StatusCode::OK, false)
    );
    process().await;
    pass("whk_purged_inside_the_window", 30).await;
    assert_eq!(
        inbox
            .purge_processed(Duration::from_secs(10))
            .await
            .expect("a purge"),
        1
    );
    assert_eq!(
        deliver(&client, &target, &too_short).await,
        (StatusCode::OK, false),
        "too short a retention lets the copy in again"
    );

    // Purged at the replay window plus the skew (90 s): every copy is stale, 401, not stored.
    let long_enough = signed("whk_purged_after_the_window");
    assert_eq!(
        deliver(&client, &target, &long_enough).await,
        (StatusCode::OK, false)
    );
    process().await;
    pass("whk_purged_after_the_window", 90).await;
    assert_eq!(
        inbox.purge_processed(WINDOW + SKEW).await.expect("a purge"),
        1
    );
    let (status, duplicate) = deliver(&client, &target, &long_enough).await;
    assert_eq!(
        (status, duplicate),
        (StatusCode::UNAUTHORIZED, false),
        "a stale copy is refused"
    );
    assert_eq!(
        scalar(
            &inbox,
            "SELECT count(*) FROM quickassist_webhook_inbox WHERE webhook_id = 'whk_purged_after_the_window'"
        )
        .await,
        0
    );
}
