//! Upgrading a populated inbox: the migrations added since the first release keep every row
//! of a database that ran only the earlier ones.

use std::{borrow::Cow, path::Path};

use quickassist_webhooks_postgres::Inbox;
use quickassist_webhooks_test::postgres::PostgresServer;
use sqlx::migrate::Migrator;

/// The last migration of the inbox as 0.1.0 was first tagged: its table, the claims, the
/// account column and the status timelines.
const FIRST_RELEASE: i64 = 20261130000002;

/// Every row of the inbox, as one digest (and how many there are).
async fn digest(inbox: &Inbox) -> (i64, String) {
    sqlx::query_as(
        "SELECT count(*), md5(coalesce(string_agg( \
             concat_ws('|', account, webhook_id, event, encode(body, 'hex'), signed_form, \
                       signed_at, received_at, ordering_key, status, attempts, \
                       next_attempt_at, last_error, processed_at), \
             ',' ORDER BY account, webhook_id), '')) \
         FROM quickassist_webhook_inbox",
    )
    .fetch_one(inbox.pool())
    .await
    .expect("the digest")
}

#[tokio::test(flavor = "multi_thread")]
async fn upgrading_a_populated_inbox_keeps_every_row() {
    let server = tokio::task::spawn_blocking(PostgresServer::start)
        .await
        .expect("the start task")
        .expect("a PostgreSQL cluster (scripts/test installs postgresql)");
    let inbox = Inbox::connect(&server.url()).await.expect("connect");

    let mut earlier = Migrator::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"))
        .await
        .expect("the migrations directory");
    let all = earlier.migrations.len();
    earlier.migrations = Cow::Owned(
        earlier
            .migrations
            .iter()
            .filter(|migration| migration.version <= FIRST_RELEASE)
            .cloned()
            .collect(),
    );
    assert!(
        earlier.migrations.len() < all,
        "the test upgrades over at least one later migration"
    );
    earlier
        .run(inbox.pool())
        .await
        .expect("the first release's schema");

    // 50,000 rows in every state, for several accounts, some ordered, some not.
    sqlx::query(
        "INSERT INTO quickassist_webhook_inbox \
           (account, webhook_id, event, body, signed_form, signed_at, received_at, ordering_key, \
            status, attempts, next_attempt_at, last_error, processed_at) \
         SELECT 'acct_' || (n % 7), 'whk_' || n, \
                (ARRAY['message.delivered', 'message.read', 'template.status_update'])[n % 3 + 1], \
                convert_to('{\"webhookId\":\"whk_' || n || '\"}', 'UTF8'), \
                CASE WHEN n % 2 = 0 THEN 'raw' ELSE 'canonical' END, \
                now() - n * interval '1 second', now() - n * interval '1 second', \
                CASE WHEN n % 5 <> 0 THEN 'msg_' || (n / 3) END, \
                (ARRAY['pending', 'processed', 'dead'])[n % 3 + 1], n % 4, \
                now() + (n % 11) * interval '1 minute', \
                CASE WHEN n % 3 <> 1 THEN 'error ' || n END, \
                CASE WHEN n % 3 = 1 THEN now() - n * interval '1 second' / 2 END \
         FROM generate_series(1, 50000) AS n",
    )
    .execute(inbox.pool())
    .await
    .expect("the rows");
    let before = digest(&inbox).await;

    inbox.migrate().await.expect("the later migrations");

    assert_eq!(before.0, 50_000);
    assert_eq!(digest(&inbox).await, before, "every row, unchanged");
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(inbox.pool())
        .await
        .expect("the migrations table");
    assert_eq!(applied, i64::try_from(all).expect("a few migrations"));
}
