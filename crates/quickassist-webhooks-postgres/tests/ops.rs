//! Operations: retention, retry and replay by id and by time range.

mod common;

use std::time::Duration;

use common::{count, delivery, inbox};
use quickassist_webhooks::receive::Intake;
use quickassist_webhooks_postgres::{handler_fn, InboxStatus, Selection, Worker};
use quickassist_webhooks_test::eventually;

#[tokio::test(flavor = "multi_thread")]
async fn retention_deletes_only_processed_rows_older_than_the_age() {
    let (_server, inbox) = inbox().await;
    for id in ["whk_old", "whk_other"] {
        inbox.store(&delivery(id)).await.unwrap();
    }
    Worker::new(inbox.clone(), handler_fn(|_, _| Box::pin(async { Ok(()) })))
        .batch_size(1)
        .process_batch()
        .await
        .unwrap();
    assert_eq!(
        inbox
            .purge_processed(Duration::from_secs(3600))
            .await
            .unwrap(),
        0,
        "too recent"
    );
    // Wait (with a deadline) until the processed row is older than 10 ms on the database's clock.
    eventually(
        "the processed row to be older than 10 ms",
        Duration::from_secs(10),
        async || {
            inbox
                .purge_processed(Duration::from_millis(10))
                .await
                .unwrap()
                > 0
        },
    )
    .await;
    assert_eq!(count(&inbox, "processed").await, 0);
    assert_eq!(count(&inbox, "pending").await, 1, "pending rows are kept");
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_and_retry_by_range_and_by_id() {
    let (_server, inbox) = inbox().await;
    for id in ["whk_a", "whk_b"] {
        inbox.store(&delivery(id)).await.unwrap();
    }
    Worker::new(inbox.clone(), handler_fn(|_, _| Box::pin(async { Ok(()) })))
        .process_batch()
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let past = now - chrono::Duration::days(1);
    assert_eq!(
        inbox
            .replay(&Selection::ReceivedBetween(
                past - chrono::Duration::days(1),
                past
            ))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        inbox
            .replay(&Selection::ReceivedBetween(
                past,
                now + chrono::Duration::hours(1)
            ))
            .await
            .unwrap(),
        2
    );
    assert_eq!(count(&inbox, "pending").await, 2);
    // Retry touches only dead rows.
    assert_eq!(inbox.retry(&Selection::All).await.unwrap(), 0);
    Worker::new(
        inbox.clone(),
        handler_fn(|_, _| Box::pin(async { Err("no".into()) })),
    )
    .max_attempts(1)
    .process_batch()
    .await
    .unwrap();
    assert_eq!(count(&inbox, "dead").await, 2);
    assert_eq!(
        inbox
            .retry(&Selection::Ids(vec!["whk_a".into()]))
            .await
            .unwrap(),
        1
    );
    let pending = inbox.list(Some(InboxStatus::Pending), 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].webhook_id, "whk_a");
    assert_eq!(pending[0].attempts, 0);
    assert_eq!(pending[0].last_error, None);
}
