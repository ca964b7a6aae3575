//! Fair claiming: one account's flood does not hold back another's deliveries, in the
//! unordered and the ordered modes, and first-in first-out claiming (`fair(false)`) is what
//! it was.

// Helpers outside `#[test]` functions unwrap too: a panic there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use common::{count, delivery, inbox};
use quickassist_webhooks::{accounts::AccountId, receive::Intake};
use quickassist_webhooks_postgres::{handler_fn, Inbox, Worker};

/// Stores `count` due deliveries of `account` in one statement (bulk SQL, not the intake:
/// 20,000 rows in well under a second), due a minute ago, so that they are all older than
/// anything stored afterwards. Each has its own message id (its ordering key).
async fn flood(inbox: &Inbox, account: &str, count: u32) {
    sqlx::query(
        "INSERT INTO quickassist_webhook_inbox \
           (account, webhook_id, event, body, signed_form, signed_at, ordering_key, next_attempt_at) \
         SELECT $1, 'whk_' || $1 || '_' || n, 'message.delivered', \
           convert_to(format('{\"event\":\"message.delivered\",\"timestamp\":\"2026-12-04T10:00:00.000Z\",\
\"data\":{\"messageId\":\"msg_%s_%s\",\"recipient\":\"+1234567890\",\"template\":\"welcome_message\",\
\"deliveredAt\":\"2026-12-04T10:00:00.000Z\",\"deviceType\":\"android\"},\"webhookId\":\"whk_%s_%s\"}', \
$1, n, $1, n), 'UTF8'), \
           'raw', now(), 'msg_' || $1 || '_' || n, now() - interval '1 minute' \
         FROM generate_series(1, $2) AS n",
    )
    .bind(account)
    .bind(i32::try_from(count).unwrap())
    .execute(inbox.pool())
    .await
    .unwrap();
}

/// `count` deliveries of `account` through the intake, as the receiver stores them.
async fn arrive(inbox: &Inbox, account: &str, count: u32) {
    for n in 0..count {
        let mut delivery = delivery(&format!("whk_{account}_{n}"));
        delivery.account = AccountId::new(account);
        inbox.store(&delivery).await.unwrap();
    }
}

/// A worker recording the account of each delivery it handles, in order.
fn recording(
    inbox: &Inbox,
    seen: &Arc<Mutex<Vec<String>>>,
) -> Worker<impl quickassist_webhooks_postgres::Handler> {
    let seen = Arc::clone(seen);
    Worker::new(
        inbox.clone(),
        handler_fn(move |delivery, _tx| {
            let seen = Arc::clone(&seen);
            Box::pin(async move {
                let account = delivery.account.map(|id| id.as_str().to_owned());
                seen.lock().unwrap().push(account.unwrap_or_default());
                Ok(())
            })
        }),
    )
}

/// How many of `seen` were `account`'s.
fn of(seen: &Mutex<Vec<String>>, account: &str) -> usize {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|seen| *seen == account)
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn another_accounts_fifty_go_through_before_a_tenth_of_a_flood_in_both_modes() {
    for ordered in [false, true] {
        let (_server, inbox) = inbox().await;
        flood(&inbox, "acme", 20_000).await;
        arrive(&inbox, "beta", 50).await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let worker = recording(&inbox, &seen).ordered(ordered);
        while of(&seen, "beta") < 50 {
            assert!(
                worker.process_batch().await.unwrap() > 0,
                "ordered: {ordered}"
            );
        }
        let flood_done = of(&seen, "acme");
        assert!(
            flood_done < 2_000,
            "ordered {ordered}: {flood_done} of the flood went first"
        );
        // Round robin: each batch of 16 gave each account 8 (the flood was served too).
        // Ordered, beta's fifty are receipts of one message: one of them at a time, so
        // fifty batches, each topped up with the flood's rows (15 of 16).
        let expected = if ordered { 48..=750 } else { 48..=64 };
        assert!(
            expected.contains(&flood_done),
            "ordered {ordered}: {flood_done}"
        );
        assert_eq!(count(&inbox, "dead").await, 0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn first_in_first_out_claiming_serves_the_flood_first() {
    let (_server, inbox) = inbox().await;
    flood(&inbox, "acme", 2_000).await;
    arrive(&inbox, "beta", 50).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let worker = recording(&inbox, &seen).fair(false);
    for _ in 0..20 {
        worker.process_batch().await.unwrap();
    }
    // 20 batches of 16: all of them the flood's, due earlier.
    assert_eq!(of(&seen, "acme"), 320);
    assert_eq!(of(&seen, "beta"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_account_is_served_in_turn_when_there_are_more_accounts_than_a_batch() {
    let (_server, inbox) = inbox().await;
    // 40 accounts with 3 due deliveries each, batches of 16: each batch serves 16 accounts
    // (one delivery each), the next batch the next 16, wrapping around.
    for n in 0..40 {
        flood(&inbox, &format!("acct{n:02}"), 3).await;
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let worker = recording(&inbox, &seen);
    for _ in 0..3 {
        assert_eq!(worker.process_batch().await.unwrap(), 16);
    }
    // After 48 deliveries, every one of the 40 accounts has had at least one.
    let seen = seen.lock().unwrap().clone();
    for n in 0..40 {
        let account = format!("acct{n:02}");
        assert!(
            seen.contains(&account),
            "{account} was not served: {seen:?}"
        );
    }
    while worker.process_batch().await.unwrap() > 0 {}
    assert_eq!(count(&inbox, "processed").await, 120);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_of_one_secret_gets_whole_batches_first_due_first() {
    let (_server, inbox) = inbox().await;
    for n in 0..40 {
        inbox
            .store(&delivery(&format!("whk_single_{n:02}")))
            .await
            .unwrap();
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let worker = recording(&inbox, &seen);
    assert_eq!(worker.process_batch().await.unwrap(), 16);
    assert_eq!(worker.process_batch().await.unwrap(), 16);
    assert_eq!(worker.process_batch().await.unwrap(), 8);
    assert_eq!(worker.process_batch().await.unwrap(), 0);
    assert_eq!(count(&inbox, "processed").await, 40);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_account_holds_at_most_its_limit_while_the_others_flow() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    let (_server, inbox) = inbox().await;
    flood(&inbox, "fast", 40).await;
    flood(&inbox, "slow", 40).await;
    // The slow account's handler waits for a permit; the highest number of its deliveries
    // in progress at once is recorded.
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let handler = {
        let (gate, now, most) = (Arc::clone(&gate), Arc::clone(&now), Arc::clone(&most));
        handler_fn(move |delivery, _tx| {
            let (gate, now, most) = (Arc::clone(&gate), Arc::clone(&now), Arc::clone(&most));
            Box::pin(async move {
                if delivery.account.as_ref().map(|id| id.as_str()) == Some("slow") {
                    most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    gate.acquire().await?.forget();
                    now.fetch_sub(1, Ordering::SeqCst);
                }
                Ok(())
            })
        })
    };
    let running = Worker::new(inbox.clone(), handler)
        .tasks(4)
        // One delivery per batch: each task runs one handler, so four could hang at once.
        .batch_size(1)
        .max_in_progress_per_account(2)
        .spawn();
    let processed = async |account: &str| -> i64 {
        sqlx::query_scalar(
            "SELECT count(*) FROM quickassist_webhook_inbox \
             WHERE account = $1 AND status = 'processed'",
        )
        .bind(account)
        .fetch_one(inbox.pool())
        .await
        .unwrap()
    };
    // While the slow account's handlers hang, the fast account's deliveries are processed
    // (with a limit, a batch serves one account: none shares a batch with a hung one).
    quickassist_webhooks_test::eventually(
        "the fast account to be processed",
        Duration::from_secs(30),
        async || processed("fast").await == 40,
    )
    .await;
    assert_eq!(processed("slow").await, 0);
    assert_eq!(
        most.load(Ordering::SeqCst),
        2,
        "two of four tasks, the limit"
    );
    // Let the slow ones through: all processed, never more than two at once.
    gate.add_permits(1_000);
    quickassist_webhooks_test::eventually(
        "everything to be processed",
        Duration::from_secs(30),
        async || count(&inbox, "processed").await == 80,
    )
    .await;
    running.shutdown().await;
    assert!(most.load(Ordering::SeqCst) <= 2, "{most:?}");
}
