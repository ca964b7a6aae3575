//! `PostgresStatusTracker` over a real PostgreSQL: the one-statement merge ends where the
//! pure rule does whatever the order and the concurrency, and inside a worker's
//! transaction a failed attempt leaves the timeline as it was.

mod common;

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use common::{count, delivery_of, inbox};
use quickassist_webhooks::{
    receive::Intake,
    status::{Merge, MessageStatus, State, StatusTracker, StatusUpdate, SubjectKind},
    testing::sample_at,
    Envelope, Event,
};
use quickassist_webhooks_postgres::{handler_fn, Inbox, PostgresStatusTracker, Worker};
use quickassist_webhooks_test::{
    eventually,
    tracker_suite::{self, at},
};

fn tracker(inbox: &Inbox) -> PostgresStatusTracker {
    PostgresStatusTracker::new(inbox.pool().clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_delivered_is_stale_and_the_row_holds_the_state() {
    let (_server, inbox) = inbox().await;
    let tracker = tracker(&inbox);
    let read = StatusUpdate::new("msg_1", MessageStatus::Read, at(5));
    let delivered = StatusUpdate::new("msg_1", MessageStatus::Delivered, at(9));
    assert_eq!(
        tracker.apply(&read).await.unwrap(),
        Merge::Applied { previous: None }
    );
    let stale = Merge::Stale {
        current: read.state().clone(),
    };
    assert_eq!(tracker.apply(&delivered).await.unwrap(), stale);
    assert_eq!(tracker.apply(&read).await.unwrap(), stale);
    let row: (String, i16, i64) = sqlx::query_as(
        "SELECT status, rank, at_millis FROM quickassist_webhook_status \
         WHERE kind = 'message' AND id = 'msg_1'",
    )
    .fetch_one(inbox.pool())
    .await
    .unwrap();
    assert_eq!(row, ("read".to_owned(), 3, at(5).timestamp_millis()));
    tracker_suite::current_is_kept_per_subject_kind(&tracker, "msg_1", read.state()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn applied_updates_answer_the_previous_state_and_envelopes_are_read() {
    let (_server, inbox) = inbox().await;
    tracker_suite::envelopes_are_read_and_applied_updates_name_the_previous_state(&tracker(&inbox))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn envelopes_are_applied_on_a_given_connection() {
    let (_server, inbox) = inbox().await;
    let tracker = tracker(&inbox);
    let when = "2024-01-15T10:30:00Z".parse().unwrap();
    let mut connection = inbox.pool().acquire().await.unwrap();
    let read = sample_at(Event::MESSAGE_READ, "whk_1", when);
    assert_eq!(
        tracker
            .apply_envelope_in(&mut connection, &read)
            .await
            .unwrap(),
        Some(Merge::Applied { previous: None })
    );
    let unrelated = sample_at("contact.created", "whk_2", when);
    assert_eq!(
        tracker
            .apply_envelope_in(&mut connection, &unrelated)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_rolled_back_with_its_transaction_leaves_the_timeline_as_it_was() {
    let (_server, inbox) = inbox().await;
    let tracker = tracker(&inbox);
    let delivered = StatusUpdate::new("msg_rb", MessageStatus::Delivered, at(1));
    let read = StatusUpdate::new("msg_rb", MessageStatus::Read, at(2));
    assert!(tracker.apply(&delivered).await.unwrap().is_applied());
    let mut tx = inbox.pool().begin().await.unwrap();
    assert!(tracker.apply_in(&mut tx, &read).await.unwrap().is_applied());
    tx.rollback().await.unwrap();
    assert_eq!(
        tracker
            .current(SubjectKind::Message, "msg_rb")
            .await
            .unwrap(),
        Some(delivered.state().clone())
    );
    // Applied again, since the first application never committed.
    assert_eq!(
        tracker.apply(&read).await.unwrap(),
        Merge::Applied {
            previous: Some(delivered.state().clone())
        }
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn names_tie_break_byte_by_byte_as_the_pure_rule_does() {
    let (_server, inbox) = inbox().await;
    tracker_suite::names_tie_break_byte_by_byte(&tracker(&inbox)).await;
}

#[test]
fn every_permutation_with_repeats_ends_in_the_pure_rules_state() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (_server, inbox) = runtime.block_on(inbox());
    tracker_suite::every_order_ends_in_the_pure_rules_state(&tracker(&inbox), &runtime);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_tasks_end_where_the_pure_rule_does() {
    let (_server, inbox) = inbox().await;
    let trackers: Vec<Arc<dyn StatusTracker>> = vec![Arc::new(tracker(&inbox))];
    tracker_suite::concurrent_tasks_end_where_the_pure_rule_does(&trackers, 300).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_forgets_only_subjects_idle_longer_than_the_age() {
    let (_server, inbox) = inbox().await;
    let tracker = tracker(&inbox);
    for id in ["old", "fresh"] {
        let _ = tracker
            .apply(&StatusUpdate::new(id, MessageStatus::Read, at(0)))
            .await
            .unwrap();
    }
    sqlx::query(
        "UPDATE quickassist_webhook_status SET updated_at = now() - interval '2 hours' \
         WHERE id = 'old'",
    )
    .execute(inbox.pool())
    .await
    .unwrap();
    let forgotten = tracker
        .forget_older_than(Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(forgotten, 1);
    assert_eq!(
        tracker.current(SubjectKind::Message, "old").await.unwrap(),
        None
    );
    assert!(tracker
        .current(SubjectKind::Message, "fresh")
        .await
        .unwrap()
        .is_some());
}

const MESSAGES: &str = "CREATE TABLE messages (id text PRIMARY KEY, status text NOT NULL, \
     writes integer NOT NULL DEFAULT 1)";

/// A message status event: `status` of message `message_id` at second `second`.
fn status_event(message_id: &str, webhook_id: &str, status: &str, second: i64) -> Envelope {
    let at = at(second * 1_000);
    let (event, field) = match status {
        "delivered" => (Event::MESSAGE_DELIVERED, "deliveredAt"),
        "read" => (Event::MESSAGE_READ, "readAt"),
        _ => (Event::MESSAGE_FAILED, "failedAt"),
    };
    serde_json::from_value(serde_json::json!({
        "event": event, "timestamp": at, "webhookId": webhook_id,
        "data": {"messageId": message_id, "recipient": "+15550000000", "status": status, field: at,
                 "error": {"code": 131_026, "message": "undeliverable"}},
    }))
    .expect("a valid envelope")
}

/// The handler the README shows: merge in the worker's transaction, write the message row
/// only when the status moved. Fails once, after both writes, for `fail_once`.
fn status_handler(
    tracker: PostgresStatusTracker,
    fail_once: &'static str,
    failures: Arc<AtomicUsize>,
) -> impl quickassist_webhooks_postgres::Handler {
    handler_fn(move |delivery, tx| {
        let (tracker, failures) = (tracker.clone(), Arc::clone(&failures));
        Box::pin(async move {
            let envelope = &delivery.envelope;
            if let Some(Merge::Applied { .. }) = tracker.apply_envelope_in(tx, envelope).await? {
                let update = envelope.status_update().expect("a status event");
                sqlx::query(
                    "INSERT INTO messages (id, status) VALUES ($1, $2) ON CONFLICT (id) \
                     DO UPDATE SET status = EXCLUDED.status, writes = messages.writes + 1",
                )
                .bind(update.id())
                .bind(update.status().as_str())
                .execute(&mut **tx)
                .await?;
            }
            if envelope.webhook_id == fail_once && delivery.attempt == 1 {
                failures.fetch_add(1, Ordering::SeqCst);
                return Err("the CRM is down".into());
            }
            Ok(())
        })
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn in_the_workers_transaction_a_failed_attempt_is_applied_again_on_the_retry() {
    let (_server, inbox) = inbox().await;
    sqlx::query(MESSAGES).execute(inbox.pool()).await.unwrap();
    // `delivered`, then `read`, whose first attempt fails after both its writes. With the
    // timeline outside the transaction, the retry would find `read` already applied
    // (stale) and the message row would stay `delivered`.
    for envelope in [
        status_event("msg_x", "whk_read", "read", 2),
        status_event("msg_x", "whk_delivered", "delivered", 1),
    ] {
        inbox.store(&delivery_of(&envelope)).await.unwrap();
    }
    let failures = Arc::new(AtomicUsize::new(0));
    let worker = Worker::new(
        inbox.clone(),
        status_handler(tracker(&inbox), "whk_read", Arc::clone(&failures)),
    )
    .backoff(Duration::ZERO, Duration::ZERO)
    .ordered(true);
    while count(&inbox, "processed").await < 2 {
        let _ = worker.process_batch().await.unwrap();
    }
    assert_eq!(failures.load(Ordering::SeqCst), 1);
    let row: (String, i32) =
        sqlx::query_as("SELECT status, writes FROM messages WHERE id = 'msg_x'")
            .fetch_one(inbox.pool())
            .await
            .unwrap();
    // Written by `delivered` and by `read`'s second attempt; the failed one rolled back.
    assert_eq!(row, ("read".to_owned(), 2));
    assert_eq!(
        tracker(&inbox)
            .current(SubjectKind::Message, "msg_x")
            .await
            .unwrap()
            .map(|state| state.into_status().as_str().to_owned()),
        Some("read".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn shuffled_status_events_through_four_tasks_leave_each_message_at_its_greatest_state() {
    let (_server, inbox) = inbox().await;
    sqlx::query(MESSAGES).execute(inbox.pool()).await.unwrap();
    let statuses = ["delivered", "read", "failed"];
    let mut rng = tracker_suite::Rng(7);
    let mut envelopes = Vec::new();
    let mut expected = Vec::new();
    for m in 0..40 {
        let message = format!("msg_{m:02}");
        let mut best: Option<State> = None;
        for n in 0..3 {
            let status = statuses[rng.below(3)];
            let second = rng.below(3) as i64;
            let envelope = status_event(&message, &format!("whk_{m:02}_{n}"), status, second);
            best = best.max(Some(envelope.status_update().unwrap().state().clone()));
            envelopes.push(envelope);
        }
        expected.push((message, best.unwrap()));
    }
    rng.shuffle(&mut envelopes);
    for envelope in &envelopes {
        inbox.store(&delivery_of(envelope)).await.unwrap();
    }
    let worker = Worker::new(
        inbox.clone(),
        status_handler(tracker(&inbox), "", Arc::default()),
    )
    .tasks(4)
    .batch_size(4)
    .ordered(true)
    .poll_interval(Duration::from_millis(20))
    .spawn();
    eventually("all processed", Duration::from_secs(60), async || {
        count(&inbox, "processed").await == 120
    })
    .await;
    worker.shutdown().await;
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, status FROM messages ORDER BY id")
        .fetch_all(inbox.pool())
        .await
        .unwrap();
    let expected: Vec<(String, String)> = expected
        .into_iter()
        .map(|(id, state)| (id, state.into_status().as_str().to_owned()))
        .collect();
    assert_eq!(rows, expected);
}
