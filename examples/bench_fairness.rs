//! Benchmark of fair claiming in the PostgreSQL inbox: account A has a backlog (a
//! campaign's receipts, stored in bulk), account B keeps sending a few deliveries a second,
//! and the workers run at their full rate. Reports B's lag (stored → processed: p50, p99,
//! max) and the workers' throughput, with fair claiming and with first-in first-out.
//!
//! ```sh
//! cargo run --release -p quickassist-examples --example bench_fairness [BACKLOG] [B_PER_SECOND] [SECONDS]
//! cargo run --release -p quickassist-examples --example bench_fairness explain "SQL" …
//! ```
//!
//! `explain` fills a cluster as the benchmark does (200,000 + 100 rows), lets a worker run
//! for 3 s (so that the indexes hold what processing leaves behind), then prints
//! `EXPLAIN ANALYZE` of each statement given.
//!
//! Defaults: a backlog of 200,000, B at 50 deliveries/s for 10 s (`0`: A alone), 4 worker tasks with
//! batches of 16 and a handler that does nothing (so the rate is the claim's and the
//! commit's). Each mode gets its own throwaway cluster; the figures come from the rows'
//! `received_at` and `processed_at`, by the database's clock.

use std::{
    error::Error,
    time::{Duration, Instant},
};

use quickassist_webhooks::{accounts::AccountId, receive::Intake, testing, Event};
use quickassist_webhooks_postgres::{handler_fn, Inbox, Worker};
use quickassist_webhooks_test::postgres::PostgresServer;

/// Stores `count` due deliveries of `account` in one statement, as if received one a
/// millisecond from ten minutes ago (so all due, in order).
async fn backlog(inbox: &Inbox, account: &str, count: i32) -> Result<(), Box<dyn Error>> {
    sqlx::query(
        "INSERT INTO quickassist_webhook_inbox \
           (account, webhook_id, event, body, signed_form, signed_at, ordering_key, next_attempt_at) \
         SELECT $1, 'whk_' || $1 || '_' || n, 'message.delivered', \
           convert_to(format('{\"event\":\"message.delivered\",\"timestamp\":\"2026-12-04T10:00:00.000Z\",\
\"data\":{\"messageId\":\"msg_%s\",\"recipient\":\"+1234567890\",\"template\":\"campaign\",\
\"deliveredAt\":\"2026-12-04T10:00:00.000Z\",\"deviceType\":\"android\"},\"webhookId\":\"whk_%s\"}', n, n), 'UTF8'), \
           'raw', now(), 'msg_' || n, now() - interval '10 minutes' + n * interval '1 millisecond' \
         FROM generate_series(1, $2) AS n",
    )
    .bind(account)
    .bind(count)
    .execute(inbox.pool())
    .await?;
    Ok(())
}

struct Figures {
    b_p50: f64,
    b_p99: f64,
    b_max: f64,
    b_processed: i64,
    per_second: f64,
}

async fn run(
    fair: bool,
    backlog_size: i32,
    b_rate: u32,
    seconds: u64,
) -> Result<Figures, Box<dyn Error>> {
    let server = tokio::task::spawn_blocking(PostgresServer::start).await??;
    let inbox = Inbox::connect(&server.url()).await?;
    inbox.migrate().await?;
    backlog(&inbox, "acme", backlog_size).await?;
    sqlx::query("ANALYZE quickassist_webhook_inbox")
        .execute(inbox.pool())
        .await?;

    let worker = Worker::new(inbox.clone(), handler_fn(|_, _| Box::pin(async { Ok(()) })))
        .tasks(4)
        .batch_size(16)
        .fair(fair)
        .spawn();
    let started = Instant::now();
    let account = AccountId::new("beta").ok_or("an account id")?;
    let interval = Duration::from_secs(1) / b_rate.max(1);
    let mut n = 0;
    if b_rate == 0 {
        // Account A alone: what fairness costs a receiver of one account.
        tokio::time::sleep(Duration::from_secs(seconds)).await;
    }
    while b_rate > 0 && started.elapsed() < Duration::from_secs(seconds) {
        let mut delivery =
            testing::delivery(&testing::sample(Event::MESSAGE_READ, &format!("whk_b_{n}")));
        delivery.account = Some(account.clone());
        inbox.store(&delivery).await?;
        n += 1;
        tokio::time::sleep(interval).await;
    }
    let window = started.elapsed().as_secs_f64();
    // Rows processed during the window (B's included), by the workers at full rate.
    let processed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM quickassist_webhook_inbox WHERE status = 'processed'",
    )
    .fetch_one(inbox.pool())
    .await?;
    worker.shutdown().await;
    // B's lag; one still waiting counts as its wait so far.
    let (p50, p99, max, b_processed): (Option<f64>, Option<f64>, Option<f64>, i64) = sqlx::query_as(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag), \
                percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), max(lag), \
                count(*) FILTER (WHERE done) \
         FROM (SELECT extract(epoch FROM coalesce(processed_at, now()) - received_at)::float8 AS lag, \
                      processed_at IS NOT NULL AS done \
               FROM quickassist_webhook_inbox WHERE account = 'beta') b",
    )
    .fetch_one(inbox.pool())
    .await?;
    Ok(Figures {
        b_p50: p50.unwrap_or(0.0),
        b_p99: p99.unwrap_or(0.0),
        b_max: max.unwrap_or(0.0),
        b_processed,
        per_second: processed as f64 / window,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("explain") {
        let server = tokio::task::spawn_blocking(PostgresServer::start).await??;
        let inbox = Inbox::connect(&server.url()).await?;
        inbox.migrate().await?;
        backlog(&inbox, "acme", 200_000).await?;
        backlog(&inbox, "beta", 100).await?;
        sqlx::query("ANALYZE quickassist_webhook_inbox")
            .execute(inbox.pool())
            .await?;
        let worker = Worker::new(inbox.clone(), handler_fn(|_, _| Box::pin(async { Ok(()) })))
            .tasks(4)
            .spawn();
        tokio::time::sleep(Duration::from_secs(3)).await;
        worker.shutdown().await;
        for sql in args[1..].iter() {
            let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN ANALYZE {sql}"))
                .fetch_all(inbox.pool())
                .await?;
            println!("{}\n", plan.join("\n"));
        }
        return Ok(());
    }
    let arg = |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let backlog_size = i32::try_from(arg(0, 200_000))?;
    let (b_rate, seconds) = (u32::try_from(arg(1, 50))?, arg(2, 10));
    println!(
        "backlog {backlog_size} (acme), beta {b_rate}/s for {seconds} s, 4 tasks x 16; lag in seconds"
    );
    println!(
        "{:<6} {:>9} {:>9} {:>9} {:>14} {:>16}",
        "mode", "B p50", "B p99", "B max", "B processed", "processed/s"
    );
    for (name, fair) in [("fair", true), ("fifo", false)] {
        let f = run(fair, backlog_size, b_rate, seconds).await?;
        println!(
            "{name:<6} {:>9.3} {:>9.3} {:>9.3} {:>14} {:>16.0}",
            f.b_p50, f.b_p99, f.b_max, f.b_processed, f.per_second
        );
    }
    Ok(())
}
