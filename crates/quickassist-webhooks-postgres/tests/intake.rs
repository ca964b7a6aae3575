//! `Inbox` as an `Intake`: one row per `webhookId`, whatever the concurrency; migrations;
//! the test cluster's stop and restart.

mod common;

use std::sync::Arc;

use common::{count, delivery, delivery_of, inbox};
use quickassist_webhooks::{
    receive::{Intake, Stored},
    testing::sample,
    Event,
};
use quickassist_webhooks_postgres::Inbox;
use quickassist_webhooks_test::postgres::{PostgresServer, PASSWORD};

#[tokio::test(flavor = "multi_thread")]
async fn first_copy_is_stored_and_the_next_is_already_stored() {
    let (_server, inbox) = inbox().await;
    let delivery = delivery("whk_one");
    assert_eq!(inbox.store(&delivery).await.unwrap(), Stored::New);
    assert_eq!(inbox.store(&delivery).await.unwrap(), Stored::AlreadyStored);
    let (event, form, body, key): (String, String, Vec<u8>, Option<String>) = sqlx::query_as(
        "SELECT event, signed_form, body, ordering_key FROM quickassist_webhook_inbox",
    )
    .fetch_one(inbox.pool())
    .await
    .unwrap();
    assert_eq!(event, "message.delivered");
    assert_eq!(form, "raw");
    assert_eq!(body, delivery.body.as_ref());
    assert_eq!(key.as_deref(), Some("msg_123456789"));
    assert_eq!(count(&inbox, "pending").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn sixty_four_simultaneous_copies_store_one_row() {
    let (_server, inbox) = inbox().await;
    let delivery = Arc::new(delivery("whk_64"));
    let copies = (0..64).map(|_| {
        let (inbox, delivery) = (inbox.clone(), Arc::clone(&delivery));
        tokio::spawn(async move { inbox.store(&delivery).await.unwrap() })
    });
    let answers = futures_util::future::join_all(copies).await;
    let new = answers
        .iter()
        .filter(|answer| matches!(answer, Ok(Stored::New)))
        .count();
    assert_eq!(new, 1);
    assert_eq!(count(&inbox, "pending").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn stopped_database_is_an_error_and_the_retry_after_restart_is_stored() {
    let (mut server, inbox) = inbox().await;
    let delivery = delivery("whk_outage");
    server.stop();
    assert!(inbox.store(&delivery).await.is_err());
    tokio::task::spawn_blocking(move || server.restart().map(|()| server))
        .await
        .unwrap()
        .map(|server| async move {
            assert_eq!(inbox.store(&delivery).await.unwrap(), Stored::New);
            assert_eq!(count(&inbox, "pending").await, 1);
            drop(server);
        })
        .expect("restart")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn migrations_apply_once_from_many_processes() {
    let (_server, inbox) = inbox().await;
    // Again, concurrently: the migrations' advisory lock serialises them and they are no-ops.
    let again = (0..4).map(|_| {
        let inbox = inbox.clone();
        tokio::spawn(async move { inbox.migrate().await })
    });
    for result in futures_util::future::join_all(again).await {
        result.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn debug_and_errors_never_show_the_password() {
    let server = tokio::task::spawn_blocking(PostgresServer::start)
        .await
        .unwrap()
        .unwrap();
    let inbox = Inbox::connect(&server.url()).await.unwrap();
    let shown = format!("{inbox:?}");
    assert!(!shown.contains(PASSWORD));
    assert!(shown.contains("postgres:***@127.0.0.1"), "{shown}");
    let wrong = server.url().replace(PASSWORD, "wrong-s3cret");
    let error = Inbox::connect(&wrong).await.unwrap_err();
    assert!(!error.to_string().contains("wrong-s3cret"), "{error}");
    assert!(!format!("{error:?}").contains("wrong-s3cret"));
}

#[test]
fn cluster_keeps_its_rows_across_a_restart() {
    let mut server = PostgresServer::start().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = server.url();
    runtime.block_on(async {
        let inbox = Inbox::connect(&url).await.unwrap();
        inbox.migrate().await.unwrap();
        inbox.store(&delivery("whk_kept")).await.unwrap();
        inbox.pool().close().await;
    });
    server.restart().unwrap();
    runtime.block_on(async {
        let inbox = Inbox::connect(&url).await.unwrap();
        assert_eq!(count(&inbox, "pending").await, 1);
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn simultaneous_deliveries_share_commits_and_each_gets_its_own_answer() {
    let (_server, inbox) = inbox().await;
    // 50 stored before; then, all at once: those 50 again, and 400 new ones twice each.
    for n in 0..50 {
        let stored = inbox.store(&delivery(&format!("whk_old_{n}"))).await;
        assert_eq!(stored.unwrap(), Stored::New);
    }
    let mut deliveries = Vec::new();
    for n in 0..50 {
        deliveries.push(delivery(&format!("whk_old_{n}")));
    }
    for n in 0..400 {
        let new = delivery(&format!("whk_new_{n}"));
        deliveries.push(new.clone());
        deliveries.push(new);
    }
    let answers = futures_util::future::join_all(deliveries.into_iter().map(|delivery| {
        let inbox = inbox.clone();
        tokio::spawn(async move {
            let stored = inbox.store(&delivery).await.unwrap();
            (delivery.envelope.webhook_id, stored)
        })
    }))
    .await;
    let mut new = std::collections::HashMap::<String, usize>::new();
    for answer in answers {
        let (webhook_id, stored) = answer.unwrap();
        *new.entry(webhook_id).or_default() += usize::from(stored == Stored::New);
    }
    for (webhook_id, new) in &new {
        let expected = usize::from(webhook_id.starts_with("whk_new_"));
        assert_eq!(*new, expected, "{webhook_id}");
    }
    assert_eq!(new.len(), 450);
    assert_eq!(count(&inbox, "pending").await, 450);
    // Rows written by one statement share its transaction id: fewer transactions than
    // rows means the deliveries shared commits.
    let transactions: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT xmin::text) FROM quickassist_webhook_inbox \
         WHERE webhook_id LIKE 'whk_new_%'",
    )
    .fetch_one(inbox.pool())
    .await
    .unwrap();
    assert!(
        transactions < 400,
        "{transactions} commits for 400 deliveries"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_the_database_refuses_fails_alone_not_the_deliveries_sharing_its_statement() {
    let (_server, inbox) = inbox().await;
    // PostgreSQL text cannot hold U+0000: a (signed, valid JSON) webhookId with one is
    // refused by the database, whichever statement it is in.
    let refused = delivery("whk_\u{0}_refused");
    let mut tasks = Vec::new();
    for n in 0..50 {
        let (fine, delivery) = (inbox.clone(), delivery(&format!("whk_fine_{n}")));
        tasks.push(tokio::spawn(async move { fine.insert(&delivery).await }));
        if n == 25 {
            let (bad, refused) = (inbox.clone(), refused.clone());
            tasks.push(tokio::spawn(async move { bad.insert(&refused).await }));
        }
    }
    let answers = futures_util::future::join_all(tasks).await;
    let (mut new, mut errors) = (0, 0);
    for answer in answers {
        match answer.unwrap() {
            Ok(Stored::New) => new += 1,
            Ok(_) => panic!("nothing was stored twice"),
            Err(error) => {
                assert!(error.to_string().starts_with("database error"), "{error}");
                errors += 1;
            }
        }
    }
    assert_eq!((new, errors), (50, 1));
    assert_eq!(count(&inbox, "pending").await, 50);
}

#[tokio::test(flavor = "multi_thread")]
async fn template_events_are_ordered_by_their_template() {
    let (_server, inbox) = inbox().await;
    let update = delivery_of(&sample(Event::TEMPLATE_STATUS_UPDATE, "whk_template"));
    inbox.store(&update).await.unwrap();
    let key: Option<String> = sqlx::query_scalar(
        "SELECT ordering_key FROM quickassist_webhook_inbox WHERE webhook_id = 'whk_template'",
    )
    .fetch_one(inbox.pool())
    .await
    .unwrap();
    assert_eq!(key.as_deref(), Some("template:tpl_42"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fresh_database_migrated_by_many_processes_at_once() {
    let server = tokio::task::spawn_blocking(PostgresServer::start)
        .await
        .unwrap()
        .unwrap();
    // Four processes starting together: one applies the migrations (some build their
    // indexes concurrently) while the others wait for sqlx's lock, then find nothing to do.
    let mut inboxes = Vec::new();
    for _ in 0..4 {
        inboxes.push(Inbox::connect(&server.url()).await.unwrap());
    }
    let runs = inboxes.iter().map(Inbox::migrate);
    for result in futures_util::future::join_all(runs).await {
        result.unwrap();
    }
}
