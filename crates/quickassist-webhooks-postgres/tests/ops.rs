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

#[tokio::test(flavor = "multi_thread")]
async fn lag_shows_each_accounts_due_deliveries_and_how_long_the_oldest_waited() {
    use quickassist_webhooks::accounts::AccountId;
    let (_server, inbox) = inbox().await;
    let store = async |id: &str, account: Option<&str>| {
        let mut delivery = delivery(id);
        delivery.account = account.map(|account| AccountId::new(account).unwrap());
        inbox.store(&delivery).await.unwrap();
    };
    for id in ["whk_acme_1", "whk_acme_2", "whk_acme_3"] {
        store(id, Some("acme")).await;
    }
    store("whk_beta_1", Some("beta")).await;
    store("whk_beta_later", Some("beta")).await;
    store("whk_single", None).await;
    let set = async |id: &str, change: &str| {
        sqlx::query(&format!(
            "UPDATE quickassist_webhook_inbox SET {change} WHERE webhook_id = $1"
        ))
        .bind(id)
        .execute(inbox.pool())
        .await
        .unwrap();
    };
    // acme's oldest has waited 90 s; beta's second is a retry due in an hour (not due); the
    // single-secret delivery was due 30 s ago.
    set(
        "whk_acme_2",
        "next_attempt_at = now() - interval '90 seconds'",
    )
    .await;
    set(
        "whk_beta_later",
        "next_attempt_at = now() + interval '1 hour'",
    )
    .await;
    set(
        "whk_single",
        "next_attempt_at = now() - interval '30 seconds'",
    )
    .await;

    let lag = inbox.lag().await.unwrap();
    let rows: Vec<(Option<&str>, u64)> = lag
        .iter()
        .map(|lag| (lag.account.as_deref(), lag.due))
        .collect();
    // The account waiting longest first; beta last (its due one arrived just now).
    assert_eq!(rows, [(Some("acme"), 3), (None, 1), (Some("beta"), 1)]);
    let seconds = |n: usize| lag[n].oldest_due_age.as_secs_f64();
    assert!((90.0..120.0).contains(&seconds(0)), "{lag:?}");
    assert!((30.0..60.0).contains(&seconds(1)), "{lag:?}");
    assert!(seconds(2) < 30.0, "{lag:?}");

    // Processed deliveries are not due: with all of them done, nothing lags.
    set("whk_beta_later", "next_attempt_at = now()").await;
    Worker::new(inbox.clone(), handler_fn(|_, _| Box::pin(async { Ok(()) })))
        .batch_size(16)
        .process_batch()
        .await
        .unwrap();
    assert_eq!(count(&inbox, "processed").await, 6);
    assert_eq!(inbox.lag().await.unwrap(), []);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_hot_query_reads_through_an_index() {
    let (_server, inbox) = inbox().await;
    // 200,000 rows of 50 accounts: of each hundred, 96 processed, 2 dead, 1 due, 1 waiting
    // for a retry. (bench_inbox plans shows the same at ten million.)
    sqlx::query(
        "INSERT INTO quickassist_webhook_inbox \
           (account, webhook_id, event, body, signed_form, signed_at, received_at, ordering_key, \
            status, attempts, next_attempt_at, processed_at) \
         SELECT 'acct_' || lpad((n % 50)::text, 4, '0'), 'whk_' || n, 'message.delivered', \
                '{}'::bytea, 'raw', at, at, 'msg_' || (n / 2), \
                CASE WHEN n % 100 < 96 THEN 'processed' WHEN n % 100 < 98 THEN 'dead' \
                     ELSE 'pending' END, 1, \
                CASE WHEN n % 100 = 99 THEN now() + interval '1 hour' ELSE at END, \
                CASE WHEN n % 100 < 96 THEN at + interval '1 second' END \
         FROM generate_series(1, 200000) AS n, \
              LATERAL (SELECT now() - (n % 604800) * interval '1 second' AS at) t",
    )
    .execute(inbox.pool())
    .await
    .unwrap();
    sqlx::query("ANALYZE quickassist_webhook_inbox")
        .execute(inbox.pool())
        .await
        .unwrap();

    let plans = inbox.query_plans().await.unwrap();
    assert_eq!(plans.len(), 16);
    for plan in &plans {
        assert!(!plan.scans_table, "{}:\n{}", plan.query, plan.text);
        assert!(!plan.indexes.is_empty(), "{}:\n{}", plan.query, plan.text);
    }
    let indexes_of = |query: &str| {
        plans
            .iter()
            .find(|plan| plan.query == query)
            .map(|plan| plan.indexes.clone())
            .unwrap()
    };
    assert_eq!(
        indexes_of("intake insert"),
        ["quickassist_webhook_inbox_pkey"]
    );
    assert!(indexes_of("list (by status)")
        .contains(&"quickassist_webhook_inbox_status_received".to_owned()));
    assert!(
        indexes_of("retention batch").contains(&"quickassist_webhook_inbox_processed".to_owned())
    );
}
