//! The inbox at size: millions of stored deliveries, added by bulk SQL (not through HTTP,
//! to keep it fast on a small machine), and what the intake, the workers and retention
//! cost beside them.

use std::{
    error::Error,
    time::{Duration, Instant},
};

use quickassist_webhooks_postgres::{handler_fn, CommitMode, Inbox, Worker};

/// Rows added per statement.
const CHUNK: i64 = 1_000_000;

/// Adds `rows` stored deliveries of 100 accounts, the first `expired` of them processed
/// eight days ago; of every hundred others, 97 processed within the last week, 1 dead and
/// 2 pending with a retry due in an hour (so not due: they are in the index of pending rows
/// but no worker claims them). Then `VACUUM ANALYZE`, so that no autovacuum of the new rows
/// runs during the measurement.
pub(crate) async fn populate(inbox: &Inbox, rows: i64, expired: i64) -> Result<(), Box<dyn Error>> {
    let started = Instant::now();
    let mut from = 1;
    while from <= rows {
        let to = (from + CHUNK - 1).min(rows);
        sqlx::query(
            "INSERT INTO quickassist_webhook_inbox \
               (account, webhook_id, event, body, signed_form, signed_at, received_at, \
                ordering_key, status, attempts, next_attempt_at, last_error, processed_at) \
             SELECT 'acct_' || lpad((n % 100)::text, 4, '0'), 'whk_size_' || n, \
                    'message.delivered', \
                    convert_to(format('{\"event\":\"message.delivered\",\"timestamp\":\"%s\",\
\"data\":{\"messageId\":\"msg_%s\",\"recipient\":\"+1555%s\",\"template\":\"welcome_message\",\
\"deliveredAt\":\"%s\",\"deviceType\":\"android\"},\"webhookId\":\"whk_size_%s\"}', \
                      at, n / 2, lpad((n % 10000000)::text, 7, '0'), at, n), 'UTF8'), \
                    'raw', at, at, 'msg_' || (n / 2), \
                    CASE WHEN n <= $3 OR n % 100 >= 3 THEN 'processed' \
                         WHEN n % 100 = 0 THEN 'dead' ELSE 'pending' END, \
                    CASE WHEN n <= $3 OR n % 100 >= 3 THEN 1 ELSE 3 END, \
                    CASE WHEN n > $3 AND n % 100 IN (1, 2) THEN now() + interval '1 hour' \
                         ELSE at END, \
                    CASE WHEN n > $3 AND n % 100 < 3 THEN 'the CRM answered 503' END, \
                    CASE WHEN n <= $3 OR n % 100 >= 3 THEN at + interval '1 second' END \
             FROM generate_series($1::bigint, $2::bigint) AS n, \
                  LATERAL (SELECT CASE WHEN n <= $3 \
                                   THEN now() - interval '8 days' - n * interval '1 millisecond' \
                                   ELSE now() - (n % 604800) * interval '1 second' END AS at) t",
        )
        .bind(from)
        .bind(to)
        .bind(expired)
        .execute(inbox.pool())
        .await?;
        eprintln!(
            "populated {to} rows ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
        from = to + 1;
    }
    sqlx::query("VACUUM ANALYZE quickassist_webhook_inbox")
        .execute(inbox.pool())
        .await?;
    if std::env::var_os("QUEUE_AUTOVACUUM").is_some() {
        // Vacuum after a fixed number of dead rows, whatever the table's size, indexes
        // included (by default: after a fifth of the table, and index cleanup may be
        // skipped when few pages have dead rows).
        sqlx::query(
            "ALTER TABLE quickassist_webhook_inbox SET (autovacuum_vacuum_scale_factor = 0, \
             autovacuum_vacuum_threshold = 20000, vacuum_index_cleanup = on)",
        )
        .execute(inbox.pool())
        .await?;
    }
    let size: String = sqlx::query_scalar(
        "SELECT pg_size_pretty(pg_total_relation_size('quickassist_webhook_inbox'))",
    )
    .fetch_one(inbox.pool())
    .await?;
    eprintln!(
        "populated {rows} rows, {size} with indexes, vacuumed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Deliveries due now: what a worker has left to do (through the index of pending rows).
async fn due(inbox: &Inbox) -> Result<i64, Box<dyn Error>> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM quickassist_webhook_inbox \
         WHERE status = 'pending' AND next_attempt_at <= now()",
    )
    .fetch_one(inbox.pool())
    .await?)
}

/// Whether any delivery is due (one index probe: counting them every 20 ms took a core at
/// size).
async fn any_due(inbox: &Inbox) -> Result<bool, Box<dyn Error>> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM quickassist_webhook_inbox \
         WHERE status = 'pending' AND next_attempt_at <= now())",
    )
    .fetch_one(inbox.pool())
    .await?)
}

/// Adds `count` deliveries due now (ids starting with `prefix`), spread over 100 accounts.
async fn backlog(inbox: &Inbox, prefix: &str, count: i64) -> Result<(), Box<dyn Error>> {
    sqlx::query(
        "INSERT INTO quickassist_webhook_inbox \
           (account, webhook_id, event, body, signed_form, signed_at) \
         SELECT 'acct_' || lpad((n % 100)::text, 4, '0'), $1 || n, 'message.read', \
                convert_to(format('{\"event\":\"message.read\",\"timestamp\":\"2026-12-01T00:00:00Z\",\
\"data\":{\"messageId\":\"msg_%s\"},\"webhookId\":\"%s%s\"}', n, $1, n), 'UTF8'), \
                'raw', now() \
         FROM generate_series(1, $2::bigint) AS n",
    )
    .bind(prefix)
    .bind(count)
    .execute(inbox.pool())
    .await?;
    Ok(())
}

/// Processes a backlog of `count` new deliveries (and any others due) with 4 tasks in
/// batches of 64 (a handler that does nothing), committing `mode`; returns deliveries/s.
pub(crate) async fn worker_rate(
    inbox: &Inbox,
    prefix: &str,
    count: i64,
    mode: CommitMode,
) -> Result<f64, Box<dyn Error>> {
    backlog(inbox, prefix, count).await?;
    // With what the intake stored meanwhile (nothing processes it during its runs).
    let total = due(inbox).await?;
    let started = Instant::now();
    let running = Worker::new(inbox.clone(), handler_fn(|_, _| Box::pin(async { Ok(()) })))
        .tasks(4)
        .batch_size(64)
        .commit_mode(mode)
        .spawn();
    while any_due(inbox).await? {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    running.shutdown().await;
    Ok(total as f64 / elapsed)
}

/// How long the 15 other deliveries of a batch of 16 take to be visible as processed (from
/// the worker's start) while the fourth's handler takes `hold`, with `mode`; over `rounds`
/// batches. Two tasks.
pub(crate) async fn batch_mates_visible(
    inbox: &Inbox,
    mode: CommitMode,
    hold: Duration,
    rounds: usize,
) -> Result<Vec<Duration>, Box<dyn Error>> {
    let mut visible_after = Vec::new();
    for round in 0..rounds {
        let prefix = format!("whk_held_{mode:?}_{round}_");
        let held = format!("{prefix}4");
        backlog(inbox, &prefix, 16).await?;
        let started = Instant::now();
        let running = Worker::new(
            inbox.clone(),
            handler_fn(move |delivery, _| {
                let slow = delivery.envelope.webhook_id == held;
                Box::pin(async move {
                    if slow {
                        tokio::time::sleep(hold).await;
                    }
                    Ok(())
                })
            }),
        )
        .tasks(2)
        .batch_size(16)
        .commit_mode(mode)
        .fair(false)
        .spawn();
        let mut seen = std::collections::HashSet::new();
        while seen.len() < 15 {
            let processed: Vec<String> = sqlx::query_scalar(
                "SELECT webhook_id FROM quickassist_webhook_inbox \
                 WHERE status = 'processed' AND webhook_id LIKE $1 || '%' AND webhook_id <> $1 || '4'",
            )
            .bind(&prefix)
            .fetch_all(inbox.pool())
            .await?;
            for id in processed {
                if seen.insert(id) {
                    visible_after.push(started.elapsed());
                }
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        running.shutdown().await;
    }
    visible_after.sort_unstable();
    Ok(visible_after)
}
