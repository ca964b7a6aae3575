//! `qa-webhooks inbox list | lag | retry | replay | purge | plans` against a real PostgreSQL
//! inbox.

// Test helpers panic on failure like the tests that call them (as in `common`).
#![allow(clippy::unwrap_used)]

mod common;

use common::{qa, stderr, stdout};
use quickassist_webhooks::{
    receive::Intake,
    testing::{self, sample},
    Event,
};
use quickassist_webhooks_postgres::{handler_fn, Inbox, Worker};
use quickassist_webhooks_test::postgres::{PostgresServer, PASSWORD};

/// A cluster whose inbox holds `whk_dead` (dead after one failed attempt), `whk_done`
/// (processed) and `whk_waiting` (pending).
async fn inbox_with_three() -> (PostgresServer, Inbox) {
    let server = tokio::task::spawn_blocking(PostgresServer::start)
        .await
        .unwrap()
        .unwrap();
    let inbox = Inbox::connect(&server.url()).await.unwrap();
    inbox.migrate().await.unwrap();
    let store = async |id: &str| {
        let delivery = testing::delivery(&sample(Event::MESSAGE_READ, id));
        inbox.store(&delivery).await.unwrap();
    };
    store("whk_dead").await;
    Worker::new(
        inbox.clone(),
        handler_fn(|_, _| Box::pin(async { Err("the handler failed".into()) })),
    )
    .max_attempts(1)
    .process_batch()
    .await
    .unwrap();
    store("whk_done").await;
    Worker::new(inbox.clone(), handler_fn(|_, _| Box::pin(async { Ok(()) })))
        .process_batch()
        .await
        .unwrap();
    store("whk_waiting").await;
    (server, inbox)
}

fn inbox_command(url: &str, args: &[&str]) -> std::process::Output {
    qa().env("DATABASE_URL", url)
        .arg("inbox")
        .args(args)
        .output()
        .unwrap()
}

fn ids_of(output: &std::process::Output) -> Vec<String> {
    stdout(output)
        .lines()
        .skip(1)
        .map(|line| line.split('\t').next().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn list_shows_every_delivery_or_those_in_one_state() {
    let (server, _inbox) = inbox_with_three().await;
    let url = server.url();
    let all = tokio::task::spawn_blocking({
        let url = url.clone();
        move || inbox_command(&url, &["list"])
    })
    .await
    .unwrap();
    assert!(all.status.success(), "{}", stderr(&all));
    let mut ids = ids_of(&all);
    ids.sort();
    assert_eq!(ids, ["whk_dead", "whk_done", "whk_waiting"]);
    assert!(stdout(&all).starts_with("WEBHOOK_ID\tEVENT\tSTATUS"));
    assert!(!stdout(&all).contains(PASSWORD));

    let dead =
        tokio::task::spawn_blocking(move || inbox_command(&url, &["list", "--status", "dead"]))
            .await
            .unwrap();
    assert_eq!(ids_of(&dead), ["whk_dead"]);
    let line = stdout(&dead).lines().nth(1).unwrap().to_owned();
    assert!(line.contains("\tdead\t1\t"), "{line}");
    assert!(line.ends_with("\tthe handler failed\t-"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_by_id_makes_a_dead_delivery_pending_again() {
    let (server, inbox) = inbox_with_three().await;
    let url = server.url();
    let output = tokio::task::spawn_blocking(move || {
        inbox_command(&url, &["retry", "whk_dead", "whk_done"])
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    // Only the dead one: retry does not touch processed deliveries.
    assert_eq!(stdout(&output), "retried 1 dead deliveries\n");
    let pending = inbox
        .list(
            Some(quickassist_webhooks_postgres::InboxStatus::Pending),
            10,
        )
        .await
        .unwrap();
    let mut ids: Vec<&str> = pending.iter().map(|d| d.webhook_id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["whk_dead", "whk_waiting"]);
    assert_eq!(pending.iter().map(|d| d.attempts).max(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_by_time_range_makes_processed_deliveries_pending_again() {
    let (server, inbox) = inbox_with_three().await;
    let url = server.url();
    let since = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let output =
        tokio::task::spawn_blocking(move || inbox_command(&url, &["replay", "--since", &since]))
            .await
            .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "replaying 1 processed deliveries\n");
    let processed = inbox
        .list(
            Some(quickassist_webhooks_postgres::InboxStatus::Processed),
            10,
        )
        .await
        .unwrap();
    assert!(processed.is_empty());

    // A range in the past selects nothing.
    let url = server.url();
    let output = tokio::task::spawn_blocking(move || {
        inbox_command(
            &url,
            &[
                "replay",
                "--since",
                "2020-01-01T00:00:00Z",
                "--until",
                "2020-01-02T00:00:00Z",
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(stdout(&output), "replaying 0 processed deliveries\n");
}

#[test]
fn without_database_url_or_with_an_unreachable_one_it_is_a_usage_error_without_the_password() {
    let output = qa()
        .env_remove("DATABASE_URL")
        .args(["inbox", "list"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("DATABASE_URL"));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://app:hunter2-secret@127.0.0.1:{port}/shop");
    let output = inbox_command(&url, &["list"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("postgres://app:***@127.0.0.1"),
        "{message}"
    );
    assert!(!message.contains("hunter2-secret"), "{message}");
    assert!(!stdout(&output).contains("hunter2-secret"));

    let usage = qa()
        .env("DATABASE_URL", &url)
        .args(["inbox", "retry"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2), "a selection is required");
}

#[tokio::test(flavor = "multi_thread")]
async fn purge_deletes_only_processed_deliveries_older_than_the_age() {
    let (server, inbox) = inbox_with_three().await;
    let url = server.url();
    let kept = tokio::task::spawn_blocking({
        let url = url.clone();
        move || inbox_command(&url, &["purge", "--older-than", "1d"])
    })
    .await
    .unwrap();
    assert!(kept.status.success(), "{}", stderr(&kept));
    assert_eq!(stdout(&kept), "purged 0 processed deliveries\n");
    let purged =
        tokio::task::spawn_blocking(move || inbox_command(&url, &["purge", "--older-than", "0s"]))
            .await
            .unwrap();
    assert_eq!(stdout(&purged), "purged 1 processed deliveries\n");
    let mut left: Vec<String> = inbox
        .list(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|listed| listed.webhook_id)
        .collect();
    left.sort_unstable();
    assert_eq!(left, ["whk_dead", "whk_waiting"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn lag_shows_the_due_deliveries_per_account() {
    let (server, _inbox) = inbox_with_three().await;
    let url = server.url();
    let lag = tokio::task::spawn_blocking(move || inbox_command(&url, &["lag"]))
        .await
        .unwrap();
    assert!(lag.status.success(), "{}", stderr(&lag));
    let out = stdout(&lag);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "ACCOUNT\tDUE\tOLDEST_DUE_AGE_S\tOLDEST_DUE_SINCE");
    // Only whk_waiting is due (one dead, one processed), stored without an account.
    assert_eq!(lines.len(), 2, "{out}");
    let fields: Vec<&str> = lines[1].split('\t').collect();
    assert_eq!(fields[..2], ["-", "1"], "{out}");
    let age: f64 = fields[2].parse().unwrap();
    assert!((0.0..60.0).contains(&age), "{out}");
    assert!(
        fields[3].parse::<chrono::DateTime<chrono::Utc>>().is_ok(),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plans_show_how_each_hot_query_reads_the_table() {
    let (server, _inbox) = inbox_with_three().await;
    let url = server.url();
    let plans = tokio::task::spawn_blocking(move || inbox_command(&url, &["plans", "--explain"]))
        .await
        .unwrap();
    assert!(plans.status.success(), "{}", stderr(&plans));
    let out = stdout(&plans);
    assert!(out.starts_with("QUERY\tREADS\tINDEXES\n"), "{out}");
    let rows: Vec<&str> = out
        .lines()
        .filter(|line| !line.starts_with(' ') && !line.starts_with("note: "))
        .skip(1)
        .collect();
    assert_eq!(rows.len(), 16, "{rows:#?}");
    assert!(
        rows.iter()
            .any(|row| row.starts_with("intake insert\tindex\tquickassist_webhook_inbox_pkey")),
        "{out}"
    );
    assert!(
        out.contains("    Insert on quickassist_webhook_inbox"),
        "{out}"
    );
    // Three rows: PostgreSQL reads some of them whole, and the note says when that matters.
    assert!(out.contains("\tTABLE SCAN\t"), "{out}");
    assert!(
        out.contains("note: PostgreSQL reads a small table whole"),
        "{out}"
    );
    assert!(!out.contains(PASSWORD));
}
