//! Shared by the crate's integration tests: a throwaway cluster, deliveries, counters.
#![allow(dead_code, unreachable_pub)]

use quickassist_webhooks::{
    receive::Delivery,
    testing::{self, sample},
    Envelope, Event,
};
use quickassist_webhooks_postgres::Inbox;
use quickassist_webhooks_test::postgres::PostgresServer;

pub const SECRET: &str = "whsec_postgres_tests";

/// A fresh cluster and a migrated inbox on it.
pub async fn inbox() -> (PostgresServer, Inbox) {
    let server = tokio::task::spawn_blocking(PostgresServer::start)
        .await
        .expect("the start task")
        .expect("a PostgreSQL cluster (scripts/test installs postgresql)");
    let inbox = Inbox::connect(&server.url()).await.expect("connect");
    inbox.migrate().await.expect("migrations");
    (server, inbox)
}

/// A verified delivery of `envelope`, as the receiver hands it to the intake.
pub fn delivery_of(envelope: &Envelope) -> Delivery {
    testing::delivery(envelope)
}

/// A verified `message.delivered` delivery with id `webhook_id`.
pub fn delivery(webhook_id: &str) -> Delivery {
    delivery_of(&sample(Event::MESSAGE_DELIVERED, webhook_id))
}

/// Rows in the inbox with `status`.
pub async fn count(inbox: &Inbox, status: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM quickassist_webhook_inbox WHERE status = $1")
        .bind(status)
        .fetch_one(inbox.pool())
        .await
        .expect("count")
}
