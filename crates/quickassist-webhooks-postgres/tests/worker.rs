//! Workers over a real PostgreSQL: retries and backoff, dead deliveries and `retry`,
//! per-key ordering, a worker process killed mid-handler, and two worker processes sharing
//! one table.

mod common;

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use chrono::{TimeZone, Utc};
use common::{count, delivery, delivery_of, inbox};
use quickassist_webhooks::{receive::Intake, Envelope, Event};
use quickassist_webhooks_postgres::{handler_fn, CommitMode, Inbox, Selection, Worker};
use quickassist_webhooks_test::eventually;

const HANDLED: &str = "CREATE TABLE handled (webhook_id text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())";

async fn handled_rows(inbox: &Inbox, webhook_id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM handled WHERE webhook_id = $1")
        .bind(webhook_id)
        .fetch_one(inbox.pool())
        .await
        .expect("count handled")
}

async fn attempts(inbox: &Inbox, webhook_id: &str) -> (String, i32) {
    sqlx::query_as("SELECT status, attempts FROM quickassist_webhook_inbox WHERE webhook_id = $1")
        .bind(webhook_id)
        .fetch_one(inbox.pool())
        .await
        .expect("the row")
}

/// A handler that writes its own row, failing (after writing!) while `failures` > 0.
fn failing(
    failures: Arc<AtomicUsize>,
    calls: Arc<AtomicUsize>,
) -> impl quickassist_webhooks_postgres::Handler {
    handler_fn(move |delivery, tx| {
        let (failures, calls) = (Arc::clone(&failures), Arc::clone(&calls));
        Box::pin(async move {
            calls.fetch_add(1, Ordering::SeqCst);
            sqlx::query("INSERT INTO handled (webhook_id) VALUES ($1)")
                .bind(&delivery.envelope.webhook_id)
                .execute(&mut **tx)
                .await?;
            let fail = failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if fail {
                return Err("the handler failed".into());
            }
            Ok(())
        })
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn handler_failing_twice_is_processed_once_after_three_attempts() {
    let (_server, inbox) = inbox().await;
    sqlx::query(HANDLED).execute(inbox.pool()).await.unwrap();
    inbox.store(&delivery("whk_flaky")).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let running = Worker::new(
        inbox.clone(),
        failing(Arc::new(AtomicUsize::new(2)), calls.clone()),
    )
    .backoff(Duration::from_millis(5), Duration::from_millis(20))
    .poll_interval(Duration::from_millis(20))
    .spawn();
    eventually("processed", Duration::from_secs(20), async || {
        count(&inbox, "processed").await == 1
    })
    .await;
    running.shutdown().await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(attempts(&inbox, "whk_flaky").await, ("processed".into(), 3));
    // The failed attempts' writes rolled back with them.
    assert_eq!(handled_rows(&inbox, "whk_flaky").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn handler_always_failing_is_dead_then_processed_after_retry() {
    let (_server, inbox) = inbox().await;
    sqlx::query(HANDLED).execute(inbox.pool()).await.unwrap();
    inbox.store(&delivery("whk_doomed")).await.unwrap();
    let failures = Arc::new(AtomicUsize::new(usize::MAX));
    let calls = Arc::new(AtomicUsize::new(0));
    let running = Worker::new(inbox.clone(), failing(failures.clone(), calls.clone()))
        .max_attempts(4)
        .backoff(Duration::from_millis(5), Duration::from_millis(20))
        .poll_interval(Duration::from_millis(20))
        .spawn();
    eventually("dead", Duration::from_secs(20), async || {
        count(&inbox, "dead").await == 1
    })
    .await;
    assert_eq!(attempts(&inbox, "whk_doomed").await, ("dead".into(), 4));
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    let listed = inbox
        .list(Some(quickassist_webhooks_postgres::InboxStatus::Dead), 10)
        .await
        .unwrap();
    assert_eq!(listed[0].last_error.as_deref(), Some("the handler failed"));

    failures.store(0, Ordering::SeqCst);
    let retried = inbox
        .retry(&Selection::Ids(vec!["whk_doomed".into()]))
        .await
        .unwrap();
    assert_eq!(retried, 1);
    eventually(
        "processed after retry",
        Duration::from_secs(20),
        async || count(&inbox, "processed").await == 1,
    )
    .await;
    running.shutdown().await;
    assert_eq!(calls.load(Ordering::SeqCst), 5);
    assert_eq!(handled_rows(&inbox, "whk_doomed").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn new_deliveries_are_picked_up_through_notify_without_polling() {
    let (_server, inbox) = inbox().await;
    let (handled, mut picked_up) = tokio::sync::mpsc::unbounded_channel();
    let running = Worker::new(
        inbox.clone(),
        handler_fn(move |delivery, _tx| {
            let _ = handled.send(delivery.envelope.webhook_id);
            Box::pin(async { Ok(()) })
        }),
    )
    // Polling would take an hour: every pick-up within the deadline is a NOTIFY's.
    .poll_interval(Duration::from_secs(3600))
    .spawn();
    // One at a time, each stored after the previous was handled (the worker idle between
    // them): a lost or missing notification leaves a delivery unhandled for an hour.
    for n in 0..5 {
        let webhook_id = format!("whk_notified_{n}");
        inbox.store(&delivery(&webhook_id)).await.unwrap();
        let handled = tokio::time::timeout(Duration::from_secs(20), picked_up.recv())
            .await
            .expect("picked up through NOTIFY, not by polling");
        assert_eq!(handled.as_deref(), Some(webhook_id.as_str()));
    }
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hung_handler_times_out_and_is_processed_on_the_next_attempt() {
    let (_server, inbox) = inbox().await;
    sqlx::query(HANDLED).execute(inbox.pool()).await.unwrap();
    inbox.store(&delivery("whk_hung")).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let running = Worker::new(
        inbox.clone(),
        handler_fn(move |delivery, tx| {
            let first = counter.fetch_add(1, Ordering::SeqCst) == 0;
            Box::pin(async move {
                sqlx::query("INSERT INTO handled (webhook_id) VALUES ($1)")
                    .bind(&delivery.envelope.webhook_id)
                    .execute(&mut **tx)
                    .await?;
                if first {
                    // Hangs inside the database: the statement is still running when the
                    // handler is dropped, and must be cancelled for the rollback to go on.
                    sqlx::query("SELECT pg_sleep(3600)")
                        .execute(&mut **tx)
                        .await?;
                }
                assert_eq!(delivery.attempt, if first { 1 } else { 2 });
                Ok(())
            })
        }),
    )
    .handler_timeout(Duration::from_millis(300))
    .backoff(Duration::from_millis(5), Duration::from_millis(20))
    .poll_interval(Duration::from_millis(20))
    .spawn();
    eventually("processed", Duration::from_secs(30), async || {
        count(&inbox, "processed").await == 1
    })
    .await;
    running.shutdown().await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(attempts(&inbox, "whk_hung").await, ("processed".into(), 2));
    // The hung attempt's write rolled back.
    assert_eq!(handled_rows(&inbox, "whk_hung").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timed_out_attempt_says_so_in_last_error() {
    let (_server, inbox) = inbox().await;
    inbox.store(&delivery("whk_slow")).await.unwrap();
    let worker = Worker::new(
        inbox.clone(),
        handler_fn(|_delivery, _tx| Box::pin(std::future::pending())),
    )
    .handler_timeout(Duration::from_millis(50))
    .max_attempts(1);
    assert_eq!(worker.process_batch().await.unwrap(), 1);
    let listed = inbox.list(None, 10).await.unwrap();
    assert_eq!(
        listed[0].status,
        quickassist_webhooks_postgres::InboxStatus::Dead
    );
    assert_eq!(
        listed[0].last_error.as_deref(),
        Some("the handler timed out after 50ms")
    );
}

/// An event of message `message_id`, signed at `second`.
fn event(message_id: &str, webhook_id: &str, second: u32) -> Envelope {
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, second).unwrap();
    let data = serde_json::json!({"messageId": message_id, "readAt": at});
    serde_json::from_value(serde_json::json!({
        "event": Event::MESSAGE_READ, "timestamp": at, "data": data, "webhookId": webhook_id,
    }))
    .expect("a valid envelope")
}

#[tokio::test(flavor = "multi_thread")]
async fn ordered_workers_handle_one_message_in_signed_order() {
    let (_server, inbox) = inbox().await;
    // Stored shuffled: signed seconds 0..20 of two messages, in a scrambled order.
    let mut seconds: Vec<u32> = (0..20).collect();
    seconds.sort_by_key(|s| (s * 7919) % 20);
    for second in &seconds {
        for message in ["msg_a", "msg_b"] {
            let envelope = event(message, &format!("whk_{message}_{second:02}"), *second);
            inbox.store(&delivery_of(&envelope)).await.unwrap();
        }
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let running = Worker::new(
        inbox.clone(),
        handler_fn(move |delivery, _tx| {
            let record = Arc::clone(&record);
            Box::pin(async move {
                // A pause so that concurrent tasks would overtake each other if allowed.
                tokio::time::sleep(Duration::from_millis(2)).await;
                record.lock().unwrap().push(delivery.envelope.webhook_id);
                Ok(())
            })
        }),
    )
    .tasks(4)
    .batch_size(4)
    .ordered(true)
    .spawn();
    eventually("all processed", Duration::from_secs(30), async || {
        count(&inbox, "processed").await == 40
    })
    .await;
    running.shutdown().await;
    let seen = seen.lock().unwrap().clone();
    for message in ["msg_a", "msg_b"] {
        let order: Vec<&String> = seen.iter().filter(|id| id.contains(message)).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "{message} handled out of signed order");
        assert_eq!(order.len(), 20);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_finishes_the_batch_in_hand() {
    let (_server, inbox) = inbox().await;
    for n in 0..8 {
        inbox
            .store(&delivery(&format!("whk_batch_{n}")))
            .await
            .unwrap();
    }
    let started = Arc::new(tokio::sync::Notify::new());
    let signal = Arc::clone(&started);
    let running = Worker::new(
        inbox.clone(),
        handler_fn(move |_delivery, _tx| {
            signal.notify_one();
            Box::pin(async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(())
            })
        }),
    )
    .batch_size(8)
    .spawn();
    started.notified().await;
    running.shutdown().await;
    assert_eq!(count(&inbox, "processed").await, 8);
}

/// A worker of `tasks` tasks, batches of eight, over eight deliveries; the handler of the
/// fourth (`whk_3`) is held until `release` says so.
struct HeldHandler {
    _server: quickassist_webhooks_test::postgres::PostgresServer,
    inbox: Inbox,
    release: tokio::sync::watch::Sender<bool>,
    running: quickassist_webhooks_postgres::RunningWorker,
}

/// Starts [`HeldHandler`] with `mode` and returns once `returned` other handlers have
/// returned.
async fn held_handler(mode: CommitMode, tasks: usize, returned: usize) -> HeldHandler {
    let (server, inbox) = inbox().await;
    sqlx::query(HANDLED)
        .execute(inbox.pool())
        .await
        .expect("the handled table");
    for n in 0..8 {
        inbox
            .store(&delivery(&format!("whk_{n}")))
            .await
            .expect("stored");
    }
    let (release, released) = tokio::sync::watch::channel(false);
    let (handled, mut handlers_returned) = tokio::sync::mpsc::unbounded_channel();
    let running = Worker::new(
        inbox.clone(),
        handler_fn(move |delivery, tx| {
            let (mut released, handled) = (released.clone(), handled.clone());
            Box::pin(async move {
                sqlx::query("INSERT INTO handled (webhook_id) VALUES ($1)")
                    .bind(&delivery.envelope.webhook_id)
                    .execute(&mut **tx)
                    .await?;
                if delivery.envelope.webhook_id == "whk_3" {
                    let _ = released.wait_for(|released| *released).await;
                } else {
                    let _ = handled.send(());
                }
                Ok(())
            })
        }),
    )
    .tasks(tasks)
    .batch_size(8)
    .commit_mode(mode)
    .spawn();
    for _ in 0..returned {
        handlers_returned.recv().await.expect("a handler returned");
    }
    HeldHandler {
        _server: server,
        inbox,
        release,
        running,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn per_delivery_commits_show_batch_mates_processed_while_one_handler_is_held() {
    // Every other handler returns while the fourth is held: the other task goes on.
    let held = held_handler(CommitMode::PerDelivery, 2, 7).await;
    // Each committed as its handler returned; the last only just now.
    eventually("the seven commits", Duration::from_secs(10), async || {
        count(&held.inbox, "processed").await == 7
    })
    .await;
    assert_eq!(
        attempts(&held.inbox, "whk_3").await,
        ("pending".into(), 0),
        "the held one is not processed yet"
    );
    held.release.send(true).unwrap();
    held.running.shutdown().await;
    assert_eq!(count(&held.inbox, "processed").await, 8);
    let (rows, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT webhook_id) FROM handled")
            .fetch_one(held.inbox.pool())
            .await
            .unwrap();
    assert_eq!((rows, distinct), (8, 8), "each handled once");
}

#[tokio::test(flavor = "multi_thread")]
async fn per_batch_commits_show_nothing_until_the_held_handler_returns() {
    // One task, one batch of eight: three handlers return, then the fourth is held and the
    // batch with it.
    let held = held_handler(CommitMode::PerBatch, 1, 3).await;
    assert_eq!(
        count(&held.inbox, "processed").await,
        0,
        "the batch commits after its last handler"
    );
    held.release.send(true).unwrap();
    held.running.shutdown().await;
    assert_eq!(count(&held.inbox, "processed").await, 8);
}

// ---- worker processes ----

/// The worker process: runs when the parent test sets `INBOX_WORKER_URL` and calls this
/// test binary with `--exact worker_process --ignored`.
///
/// `INBOX_WORKER_MODE=hang`: the handler writes its row, prints `HANDLING <id>` and never
/// returns (the parent kills the process). Otherwise: writes its row and returns;
/// `INBOX_WORKER_MODE=each`: with per-delivery commits.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "run as a child process by the tests below"]
async fn worker_process() {
    let Ok(url) = std::env::var("INBOX_WORKER_URL") else {
        return;
    };
    let mode = std::env::var("INBOX_WORKER_MODE").unwrap_or_default();
    let hang = mode == "hang";
    let commit = if mode == "each" {
        CommitMode::PerDelivery
    } else {
        CommitMode::PerBatch
    };
    let inbox = Inbox::connect(&url).await.unwrap();
    let worker = Worker::new(
        inbox,
        handler_fn(move |delivery, tx| {
            Box::pin(async move {
                sqlx::query("INSERT INTO handled (webhook_id) VALUES ($1)")
                    .bind(&delivery.envelope.webhook_id)
                    .execute(&mut **tx)
                    .await?;
                if hang {
                    println!("HANDLING {}", delivery.envelope.webhook_id);
                    std::future::pending::<()>().await;
                }
                Ok(())
            })
        }),
    )
    .tasks(4)
    .batch_size(32)
    .commit_mode(commit)
    .poll_interval(Duration::from_millis(100));
    let _running = worker.spawn();
    println!("WORKER READY");
    std::future::pending::<()>().await;
}

fn worker_child(url: &str, mode: &str) -> std::process::Child {
    Command::new(std::env::current_exe().expect("this test binary"))
        .args(["--exact", "worker_process", "--ignored", "--nocapture"])
        .env("INBOX_WORKER_URL", url)
        .env("INBOX_WORKER_MODE", mode)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the worker process starts")
}

/// Reads the child's stdout until a line starts with `prefix`.
fn wait_line(child: &mut std::process::Child, prefix: &str) -> String {
    let stdout = child.stdout.as_mut().expect("piped stdout");
    let mut lines = BufReader::new(stdout);
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            lines.read_line(&mut line).expect("the worker's stdout") > 0,
            "the worker exited before {prefix}"
        );
        if line.starts_with(prefix) {
            return line;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn worker_killed_mid_handler_processes_exactly_once_after_restart() {
    let (server, inbox) = inbox().await;
    sqlx::query(HANDLED).execute(inbox.pool()).await.unwrap();
    inbox.store(&delivery("whk_killed")).await.unwrap();
    let url = server.url();
    let mut doomed = worker_child(&url, "hang");
    let mut doomed = tokio::task::spawn_blocking(move || {
        wait_line(&mut doomed, "HANDLING whk_killed");
        doomed
    })
    .await
    .unwrap();
    // SIGKILL: no destructor, no rollback from the process; PostgreSQL rolls back.
    doomed.kill().unwrap();
    doomed.wait().unwrap();

    let mut restarted = worker_child(&url, "normal");
    eventually(
        "processed after restart",
        Duration::from_secs(30),
        async || count(&inbox, "processed").await == 1,
    )
    .await;
    restarted.kill().unwrap();
    restarted.wait().unwrap();
    assert_eq!(handled_rows(&inbox, "whk_killed").await, 1);
    assert_eq!(
        attempts(&inbox, "whk_killed").await,
        ("processed".into(), 1)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_worker_processes_process_ten_thousand_deliveries_once_each() {
    // One commits per batch, the other per delivery (releasing and locking again the rows
    // of its batches, which the first may take meanwhile).
    let (server, inbox) = inbox().await;
    sqlx::query(HANDLED).execute(inbox.pool()).await.unwrap();
    sqlx::query(
        "INSERT INTO quickassist_webhook_inbox (webhook_id, event, body, signed_form, signed_at) \
         SELECT 'whk_' || n, 'message.read', convert_to(format( \
           '{\"event\":\"message.read\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"data\":{\"messageId\":\"msg_%s\"},\"webhookId\":\"whk_%s\"}', \
           n, n), 'UTF8'), 'raw', now() FROM generate_series(1, 10000) AS n",
    )
    .execute(inbox.pool())
    .await
    .unwrap();
    let url = server.url();
    let mut workers = [worker_child(&url, "normal"), worker_child(&url, "each")];
    eventually("all processed", Duration::from_secs(120), async || {
        count(&inbox, "processed").await == 10_000
    })
    .await;
    for worker in &mut workers {
        worker.kill().unwrap();
        worker.wait().unwrap();
    }
    let (rows, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT webhook_id) FROM handled")
            .fetch_one(inbox.pool())
            .await
            .unwrap();
    assert_eq!((rows, distinct), (10_000, 10_000));
    let retried: i64 =
        sqlx::query_scalar("SELECT count(*) FROM quickassist_webhook_inbox WHERE attempts <> 1")
            .fetch_one(inbox.pool())
            .await
            .unwrap();
    assert_eq!(retried, 0);
}
