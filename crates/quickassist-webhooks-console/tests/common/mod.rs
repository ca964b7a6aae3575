//! Sample deliveries in every state, for the console's tests.

#![allow(dead_code, clippy::unwrap_used)] // each test file uses its part; helpers panic like tests

use quickassist_webhooks_console::{Access, Console};
use quickassist_webhooks_postgres::Inbox;
use quickassist_webhooks_test::postgres::PostgresServer;

/// A throwaway PostgreSQL with the inbox's tables and the console's indexes.
pub(crate) async fn inbox() -> (PostgresServer, Inbox) {
    let server = PostgresServer::start().expect("PostgreSQL starts");
    let inbox = Inbox::connect(&server.url()).await.expect("connects");
    Console::new(inbox.clone(), Access::behind_own_auth())
        .migrate()
        .await
        .expect("migrates");
    (server, inbox)
}

/// One sample delivery.
pub(crate) struct Sample {
    pub(crate) account: &'static str,
    pub(crate) webhook_id: &'static str,
    pub(crate) event: &'static str,
    /// `pending`, `failed`, `dead` or `processed`.
    pub(crate) state: &'static str,
    pub(crate) message_id: &'static str,
    pub(crate) template: &'static str,
    pub(crate) last_error: Option<&'static str>,
    /// Received this many minutes ago.
    pub(crate) minutes_ago: i32,
}

pub(crate) const SAMPLES: &[Sample] = &[
    Sample {
        account: "acme",
        webhook_id: "whk_acme_p1",
        event: "message.delivered",
        state: "pending",
        message_id: "msg_a1",
        template: "welcome_message",
        last_error: None,
        minutes_ago: 1,
    },
    Sample {
        account: "acme",
        webhook_id: "whk_acme_f1",
        event: "message.read",
        state: "failed",
        message_id: "msg_a1",
        template: "welcome_message",
        last_error: Some("handler: database timeout"),
        minutes_ago: 3,
    },
    Sample {
        account: "acme",
        webhook_id: "whk_acme_d1",
        event: "message.failed",
        state: "dead",
        message_id: "msg_a2",
        template: "order_update",
        last_error: Some("handler: unknown order 1234"),
        minutes_ago: 5,
    },
    Sample {
        account: "acme",
        webhook_id: "whk_acme_x1",
        event: "message.delivered",
        state: "processed",
        message_id: "msg_a3",
        template: "<script>document.title='pwned'</script>",
        last_error: None,
        minutes_ago: 7,
    },
    Sample {
        account: "acme",
        webhook_id: "whk_acme_s1",
        event: "message.delivered",
        state: "processed",
        message_id: "msg_a4",
        template: "welcome_message",
        last_error: None,
        minutes_ago: 9,
    },
    Sample {
        account: "globex",
        webhook_id: "whk_globex_p1",
        event: "message.delivered",
        state: "pending",
        message_id: "msg_g1",
        template: "receipt",
        last_error: None,
        minutes_ago: 2,
    },
    Sample {
        account: "globex",
        webhook_id: "whk_globex_d1",
        event: "message.failed",
        state: "dead",
        message_id: "msg_g2",
        template: "receipt",
        last_error: Some("handler: recipient +1234567890 blocked"),
        minutes_ago: 4,
    },
    Sample {
        account: "globex",
        webhook_id: "whk_globex_d2",
        event: "template.status_update",
        state: "dead",
        message_id: "msg_g3",
        template: "receipt",
        last_error: Some("handler: template store unavailable"),
        minutes_ago: 6,
    },
    Sample {
        account: "globex",
        webhook_id: "whk_globex_s1",
        event: "message.read",
        state: "processed",
        message_id: "msg_g4",
        template: "receipt",
        last_error: None,
        minutes_ago: 8,
    },
];

/// Inserts the samples (as the intake and the workers would have left them).
pub(crate) async fn seed(inbox: &Inbox) {
    for sample in SAMPLES {
        let body = serde_json::json!({
            "event": sample.event,
            "timestamp": "2026-01-15T10:30:00Z",
            "data": {
                "messageId": sample.message_id,
                "recipient": "+1234567890",
                "template": sample.template,
                "deliveredAt": "2026-01-15T10:30:00Z",
                "deviceType": "android"
            },
            "webhookId": sample.webhook_id
        });
        let (status, attempts) = match sample.state {
            "pending" => ("pending", 0),
            "failed" => ("pending", 2),
            "dead" => ("dead", 5),
            _ => ("processed", 1),
        };
        sqlx::query(
            "INSERT INTO quickassist_webhook_inbox (account, webhook_id, event, body, signed_form, \
               signed_at, received_at, status, attempts, next_attempt_at, last_error, processed_at) \
             VALUES ($1, $2, $3, $4, 'raw', now() - make_interval(mins => $5), \
               now() - make_interval(mins => $5), $6, $7, \
               CASE WHEN $7 > 0 AND $6 = 'pending' THEN now() + interval '1 hour' ELSE now() END, $8, \
               CASE WHEN $6 = 'processed' THEN now() - make_interval(mins => $5) + interval '40 milliseconds' END)",
        )
        .bind(sample.account)
        .bind(sample.webhook_id)
        .bind(sample.event)
        .bind(serde_json::to_vec(&body).unwrap())
        .bind(sample.minutes_ago)
        .bind(status)
        .bind(attempts)
        .bind(sample.last_error)
        .execute(inbox.pool())
        .await
        .expect("inserts a sample");
    }
}

/// `n` more processed deliveries spread over the last day (for the charts), in bulk.
pub(crate) async fn seed_history(inbox: &Inbox, n: i32) {
    sqlx::query(
        "INSERT INTO quickassist_webhook_inbox (account, webhook_id, event, body, signed_form, \
           signed_at, received_at, status, attempts, processed_at) \
         SELECT CASE WHEN i % 3 = 0 THEN 'globex' ELSE 'acme' END, 'whk_hist_' || i, 'message.delivered', \
           convert_to('{\"event\":\"message.delivered\",\"data\":{\"messageId\":\"msg_h' || i || '\",\"recipient\":\"+4915112345678\"},\"webhookId\":\"whk_hist_' || i || '\"}', 'UTF8'), \
           'raw', t, t, 'processed', 1, t + (power(10, 1 + (i % 4) + random()) * interval '1 millisecond') \
         FROM generate_series(1, $1) AS i, \
           LATERAL (SELECT now() - (CASE WHEN i % 8 = 0 THEN random() * interval '1 hour' \
                                     ELSE random() * interval '1 day' END) - interval '1 second' AS t) AS times",
    )
    .bind(n)
    .execute(inbox.pool())
    .await
    .expect("inserts the history");
}
