//! The durable inbox (`quickassist-webhooks-postgres`) behind each integration, over real
//! HTTP and a real PostgreSQL: the same scenarios for axum and actix-web.

use std::sync::{Arc, Mutex};

use quickassist_webhooks::{
    accounts::{AccountId, Accounts, SourceError},
    receive::{IntakeReceiver, Receiver},
    testing::{sample, SignedRequest},
    Event, Secret, Verifier, SIGNATURE_HEADER,
};
use quickassist_webhooks_postgres::{handler_fn, Inbox, Worker};
use quickassist_webhooks_test::postgres::PostgresServer;
use reqwest::{Client, Response, StatusCode};

use crate::{Target, SECRET};

/// A throwaway cluster with the inbox migrated, and a receiver storing into it.
///
/// # Panics
///
/// When PostgreSQL cannot be started (`scripts/test` installs it).
pub async fn inbox_receiver() -> (PostgresServer, Inbox, IntakeReceiver) {
    let server = tokio::task::spawn_blocking(PostgresServer::start)
        .await
        .expect("the start task")
        .expect("a PostgreSQL cluster");
    let inbox = Inbox::connect(&server.url()).await.expect("connect");
    inbox.migrate().await.expect("migrations");
    let receiver = Receiver::builder(Verifier::new(SECRET))
        .build_intake(inbox.clone())
        .expect("a valid configuration");
    (server, inbox, receiver)
}

/// The route of [`accounts_inbox_receiver`]: one URL per account.
pub const ACCOUNTS_ROUTE: &str = "/webhooks/thequickassist/{account}";

/// A throwaway cluster with the inbox migrated, and a receiver of two accounts (`acme` with
/// secret `whsec_acme`, `globex` with `whsec_globex`) storing into it.
///
/// # Panics
///
/// When PostgreSQL cannot be started (`scripts/test` installs it).
pub async fn accounts_inbox_receiver() -> (PostgresServer, Inbox, IntakeReceiver) {
    let (server, inbox, _) = inbox_receiver().await;
    let accounts = Accounts::new(|account: AccountId| async move {
        Ok::<_, SourceError>(match account.as_str() {
            "acme" => Some(vec![Secret::from("whsec_acme")]),
            "globex" => Some(vec![Secret::from("whsec_globex")]),
            _ => None,
        })
    });
    let receiver = Receiver::for_accounts(accounts)
        .build_intake(inbox.clone())
        .expect("a valid configuration");
    (server, inbox, receiver)
}

fn signed(webhook_id: &str) -> SignedRequest {
    SignedRequest::new(
        &Secret::from(SECRET),
        &sample(Event::MESSAGE_DELIVERED, webhook_id),
    )
}

/// Posts `request` (its body and signature) to `target`.
///
/// # Panics
///
/// When the receiver does not answer.
pub async fn deliver(client: &Client, target: &Target, request: &SignedRequest) -> Response {
    client
        .post(target.url())
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, &request.signature)
        .body(request.body.clone())
        .send()
        .await
        .expect("the receiver answers")
}

async fn rows(inbox: &Inbox, webhook_id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM quickassist_webhook_inbox WHERE webhook_id = $1")
        .bind(webhook_id)
        .fetch_one(inbox.pool())
        .await
        .expect("count")
}

/// A new delivery: `200 {"status":"accepted"}` and one row; the same again: 200 marked
/// duplicate, still one row.
pub async fn delivery_is_stored_once_and_acknowledged(target: &Target, inbox: &Inbox) {
    let client = Client::new();
    let request = signed("whk_inbox_one");
    let first = deliver(&client, target, &request).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert!(first.headers().get("x-webhook-duplicate").is_none());
    assert_eq!(
        first.text().await.expect("a body"),
        r#"{"status":"accepted"}"#
    );
    assert_eq!(rows(inbox, "whk_inbox_one").await, 1);
    let again = deliver(&client, target, &request).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers()["x-webhook-duplicate"], "true");
    assert_eq!(rows(inbox, "whk_inbox_one").await, 1);
}

/// 64 simultaneous copies: all 200 (one accepted, the rest duplicates), one row.
pub async fn simultaneous_copies_store_one_row(target: &Target, inbox: &Inbox) {
    let client = Client::new();
    let request = signed("whk_inbox_storm");
    let copies = (0..64).map(|_| {
        let (client, target, request) = (client.clone(), target.clone(), request.clone());
        tokio::spawn(async move {
            let response = deliver(&client, &target, &request).await;
            (
                response.status(),
                response.headers().contains_key("x-webhook-duplicate"),
            )
        })
    });
    let answers = futures_util::future::join_all(copies).await;
    let mut accepted = 0;
    for answer in answers {
        let (status, duplicate) = answer.expect("the copy's task completed");
        assert_eq!(status, StatusCode::OK);
        accepted += usize::from(!duplicate);
    }
    assert_eq!(accepted, 1);
    assert_eq!(rows(inbox, "whk_inbox_storm").await, 1);
}

/// The database stopped: 503 `store_unavailable` and nothing stored; after a restart the
/// provider's retry is stored, and a worker processes it.
pub async fn database_outage_gets_503_and_the_retry_is_stored(
    target: &Target,
    inbox: &Inbox,
    mut server: PostgresServer,
) {
    let client = Client::new();
    let request = signed("whk_inbox_outage");
    server = tokio::task::spawn_blocking(move || {
        server.stop();
        server
    })
    .await
    .expect("stop");
    let refused = deliver(&client, target, &request).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        refused.text().await.expect("a body"),
        r#"{"error":"store_unavailable"}"#
    );
    let server = tokio::task::spawn_blocking(move || server.restart().map(|()| server))
        .await
        .expect("restart task")
        .expect("restart");
    assert_eq!(rows(inbox, "whk_inbox_outage").await, 0, "nothing stored");
    let retry = deliver(&client, target, &request).await;
    assert_eq!(retry.status(), StatusCode::OK);
    assert!(retry.headers().get("x-webhook-duplicate").is_none());
    assert_eq!(rows(inbox, "whk_inbox_outage").await, 1);

    let worker = Worker::new(
        inbox.clone(),
        handler_fn(|_delivery, _tx| Box::pin(async { Ok(()) })),
    );
    assert_eq!(worker.process_batch().await.expect("a batch"), 1);
    let processed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM quickassist_webhook_inbox WHERE status = 'processed'",
    )
    .fetch_one(inbox.pool())
    .await
    .expect("count");
    assert_eq!(processed, 1);
    drop(server);
}

/// Two accounts send the same `webhookId`: two deliveries, each stored and acknowledged
/// (neither is the other's duplicate), and the worker hands each to the handler with its
/// account. A copy to the same account again is a duplicate.
pub async fn each_account_gets_its_own_row(target: &Target, inbox: &Inbox) {
    let client = Client::new();
    let envelope = sample(Event::MESSAGE_READ, "whk_inbox_shared");
    let to_account = async |account: &str| {
        let request = SignedRequest::new(&Secret::from(format!("whsec_{account}")), &envelope);
        client
            .post(format!("http://{}{}/{account}", target.addr, crate::PATH))
            .header(SIGNATURE_HEADER, &request.signature)
            .body(request.body.clone())
            .send()
            .await
            .expect("the receiver answers")
    };
    for account in ["acme", "globex"] {
        let answer = to_account(account).await;
        assert_eq!(answer.status(), StatusCode::OK, "{account}");
        assert!(
            answer.headers().get("x-webhook-duplicate").is_none(),
            "{account}"
        );
    }
    let again = to_account("acme").await;
    assert_eq!(again.headers()["x-webhook-duplicate"], "true");
    assert_eq!(rows(inbox, "whk_inbox_shared").await, 2);

    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let worker = Worker::new(
        inbox.clone(),
        handler_fn(move |delivery, _tx| {
            record.lock().expect("not poisoned").push((
                delivery.envelope.webhook_id,
                delivery.account.map(|account| account.to_string()),
            ));
            Box::pin(async { Ok(()) })
        }),
    );
    assert_eq!(worker.process_batch().await.expect("a batch"), 2);
    let mut seen = seen.lock().expect("not poisoned").clone();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("whk_inbox_shared".to_owned(), Some("acme".to_owned())),
            ("whk_inbox_shared".to_owned(), Some("globex".to_owned())),
        ]
    );
}
