//! Benchmark of the inbox's web console with 1,000,000 deliveries: the server time of the
//! overview and of filtered list pages, and the intake's rate with and without someone
//! browsing (and without the console's indexes, for what they cost each insert).
//!
//! ```sh
//! cargo run --release -p quickassist-examples --example bench_console [ROWS] [SECONDS]
//! ```
//!
//! A throwaway durable cluster (`PostgresServer::start_durable`) is filled with bulk SQL
//! (`generate_series`): ROWS deliveries (default 1,000,000) received over 30 days, 10
//! accounts, 99 % processed, 0.5 % dead, 0.5 % failed and waiting, 0.05 % pending (among
//! the most recent); then
//! `VACUUM ANALYZE`, as autovacuum would have. Pages are requested in process through the
//! console's router (`oneshot`): the time is the server's, body included, without a
//! network. The intake is 32 tasks storing fresh deliveries through `Inbox::insert` (group
//! commit) for SECONDS (default 3) a run; browsing is one task requesting the overview, a
//! filtered list and a delivery in turn.

use std::{
    error::Error,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use axum::{body::Body, http::Request, Router};
use quickassist_webhooks::{
    testing::{self, sample},
    Event,
};
use quickassist_webhooks_console::{Access, Console};
use quickassist_webhooks_postgres::Inbox;
use quickassist_webhooks_test::postgres::PostgresServer;
use tower::ServiceExt;

const TOKEN: &str = "bench-console-token";
const INTAKE_TASKS: usize = 32;
/// Runs with browsing, each between two without, per condition.
const PAIRS: usize = 5;
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

const POPULATE: &str = "INSERT INTO quickassist_webhook_inbox (account, webhook_id, event, body, \
       signed_form, signed_at, received_at, status, attempts, next_attempt_at, last_error, processed_at) \
     SELECT 'acct_' || (i % 10), 'whk_' || i, ev, \
       convert_to('{\"event\":\"' || ev || '\",\"timestamp\":\"2026-01-15T10:30:00Z\",\"data\":{\"messageId\":\"msg_' \
         || (i / 3) || '\",\"recipient\":\"+1234567890\",\"template\":\"welcome_message\",\"deviceType\":\"android\"},\"webhookId\":\"whk_' \
         || i || '\"}', 'UTF8'), \
       'raw', t, t, CASE st WHEN 'failed' THEN 'pending' ELSE st END, CASE st WHEN 'dead' THEN 5 WHEN 'processed' THEN 1 WHEN 'failed' THEN 2 ELSE 0 END, \
       CASE WHEN st = 'failed' THEN now() + interval '10 minutes' ELSE t END, \
       CASE WHEN st IN ('dead', 'failed') THEN 'handler: timeout' END, \
       CASE WHEN st = 'processed' THEN t + (i % 997) * interval '1 millisecond' END \
     FROM generate_series(1, $1) AS i, \
       LATERAL (SELECT now() - (i::float8 / $1) * interval '30 days' AS t, \
                       (ARRAY['message.delivered', 'message.read', 'message.failed', 'template.status_update'])[1 + i % 4] AS ev, \
                       CASE WHEN i % 200 = 7 THEN 'dead' WHEN i % 200 = 11 THEN 'failed' \
                            WHEN i % 200 = 13 AND i < $1 / 10 THEN 'pending' ELSE 'processed' END AS st) AS a";

async fn page(app: &Router, path: &str) -> Duration {
    let request = Request::get(path)
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .expect("a request");
    let started = Instant::now();
    let response = app.clone().oneshot(request).await.expect("an answer");
    assert_eq!(response.status(), 200, "{path}");
    axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a body");
    started.elapsed()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

async fn time_pages(inbox: &Inbox, app: &Router) {
    // A fresh console each time: the overview reads its charts (the first viewer's cost,
    // then at most once per 10 s however many view it).
    let mut times = Vec::new();
    for _ in 0..21 {
        let fresh = Router::new().merge(Console::new(inbox.clone(), Access::token(TOKEN)).router());
        times.push(page(&fresh, "/").await);
    }
    times.remove(0);
    times.sort_unstable();
    println!("| page | p50 ms | max ms (of 20) |\n|---|---|---|");
    println!(
        "| overview, charts read | {:.1} | {:.1} |",
        ms(times[10]),
        ms(times[19])
    );
    let pages = [
        ("overview, charts shared", "/"),
        (
            "dead of one account",
            "/deliveries?state=dead&account=acct_3",
        ),
        ("failed, waiting", "/deliveries?state=failed"),
        ("one account", "/deliveries?account=acct_7"),
        ("one event", "/deliveries?event=message.read"),
        (
            "a time range",
            "/deliveries?from=2026-01-01T00:00&to=2030-01-01T00:00",
        ),
        ("a messageId", "/deliveries?message_id=msg_1234"),
        ("a webhookId", "/deliveries?webhook_id=whk_424242"),
        ("a delivery", "/delivery?account=acct_2&id=whk_424242"),
        ("a message's timeline", "/message?id=msg_1234"),
    ];
    for (name, path) in pages {
        let mut times = Vec::new();
        page(app, path).await; // warm the plan cache and the buffers
        for _ in 0..20 {
            times.push(page(app, path).await);
        }
        times.sort_unstable();
        println!("| {name} | {:.1} | {:.1} |", ms(times[10]), ms(times[19]));
    }
}

/// Deliveries stored per second by the intake tasks during `seconds`.
async fn intake_rate(inbox: &Inbox, seconds: u64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let tasks = (0..INTAKE_TASKS).map(|_| {
        let inbox = inbox.clone();
        tokio::spawn(async move {
            let mut stored = 0u64;
            while Instant::now() < deadline {
                let id = format!("whk_intake_{}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
                let delivery = testing::delivery(&sample(Event::MESSAGE_DELIVERED, &id));
                inbox.insert(&delivery).await.expect("stored");
                stored += 1;
            }
            stored
        })
    });
    let started = Instant::now();
    let mut stored = 0;
    for task in futures_util::future::join_all(tasks).await {
        stored += task.expect("an intake task");
    }
    let rate = stored as f64 / started.elapsed().as_secs_f64();
    // No worker runs: delete what the run stored (untimed), so that runs do not pile up a
    // backlog of pending deliveries that the next ones would count.
    sqlx::query("DELETE FROM quickassist_webhook_inbox WHERE webhook_id LIKE 'whk_intake_%'")
        .execute(inbox.pool())
        .await
        .expect("deleted");
    rate
}

/// The median of three [`intake_rate`]s.
async fn median_rate(inbox: &Inbox, seconds: u64) -> f64 {
    let mut rates = Vec::new();
    for _ in 0..3 {
        rates.push(intake_rate(inbox, seconds).await);
    }
    rates.sort_by(f64::total_cmp);
    rates[1]
}

/// Someone browsing: overview, a filtered list, a delivery, again; `pause` between pages.
fn browse(app: Router, pause: Duration, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut pages = 0;
        let paths = [
            "/",
            "/deliveries?state=dead&account=acct_3",
            "/delivery?account=acct_2&id=whk_424242",
        ];
        while !stop.load(Ordering::Relaxed) {
            page(&app, paths[pages as usize % paths.len()]).await;
            pages += 1;
            tokio::time::sleep(pause).await;
        }
        pages
    })
}

async fn intake_while_browsing(
    inbox: &Inbox,
    app: &Router,
    pause: Duration,
    seconds: u64,
) -> (f64, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let browsing = browse(app.clone(), pause, stop.clone());
    let rate = intake_rate(inbox, seconds).await;
    stop.store(true, Ordering::Relaxed);
    (rate, browsing.await.expect("the browsing task"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let rows: i64 = args.next().map_or(Ok(1_000_000), |rows| rows.parse())?;
    let seconds: u64 = args.next().map_or(Ok(3), |seconds| seconds.parse())?;
    let server = tokio::task::spawn_blocking(PostgresServer::start_durable).await??;
    let inbox = Inbox::connect(&server.url()).await?;
    Console::new(inbox.clone(), Access::token(TOKEN))
        .migrate()
        .await?;

    let started = Instant::now();
    sqlx::query(POPULATE)
        .bind(rows)
        .execute(inbox.pool())
        .await?;
    sqlx::query("VACUUM ANALYZE quickassist_webhook_inbox")
        .execute(inbox.pool())
        .await?;
    println!(
        "populated {rows} deliveries in {:.0} s\n",
        started.elapsed().as_secs_f64()
    );

    let app = Router::new().merge(Console::new(inbox.clone(), Access::token(TOKEN)).router());
    time_pages(&inbox, &app).await;

    // The machine is shared: the intake's rate drifts by tens of percent from one run to
    // the next. So each condition is compared with runs without browsing right before and
    // after it, in PAIRS alternations, and the median of the ratios is reported.
    println!("\n| intake ({INTAKE_TASKS} tasks) while someone browses | intake vs. nobody browsing (median of {PAIRS}) | each pair's ratio | pages a run |\n|---|---|---|---|");
    for (name, pause) in [
        ("one page a second", Duration::from_secs(1)),
        ("a page every 200 ms", Duration::from_millis(200)),
        ("pages back to back", Duration::ZERO),
    ] {
        let mut ratios = Vec::new();
        let mut pages = 0;
        for _ in 0..PAIRS {
            let before = intake_rate(&inbox, seconds).await;
            let (rate, served) = intake_while_browsing(&inbox, &app, pause, seconds).await;
            let after = intake_rate(&inbox, seconds).await;
            ratios.push(rate / ((before + after) / 2.0));
            pages = served;
        }
        let shown: Vec<String> = ratios
            .iter()
            .map(|r| format!("{:+.0} %", (r - 1.0) * 100.0))
            .collect();
        ratios.sort_by(f64::total_cmp);
        println!(
            "| {name} | {:+.1} % | {} | {pages} |",
            (ratios[ratios.len() / 2] - 1.0) * 100.0,
            shown.join(", ")
        );
    }

    println!("\n| intake ({INTAKE_TASKS} tasks, {seconds} s runs) | deliveries/s (median of 3) |\n|---|---|");
    let with_indexes = median_rate(&inbox, seconds).await;
    println!("| with the console's indexes | {with_indexes:.0} |");
    sqlx::query("DROP INDEX quickassist_webhook_inbox_console_message")
        .execute(inbox.pool())
        .await?;
    let without_message = median_rate(&inbox, seconds).await;
    println!("| without the messageId index | {without_message:.0} |");
    // (State and webhookId are served by the inbox's own indexes.)
    for index in [
        "quickassist_webhook_inbox_console_account",
        "quickassist_webhook_inbox_console_event",
    ] {
        sqlx::query(&format!("DROP INDEX {index}"))
            .execute(inbox.pool())
            .await?;
    }
    let without = median_rate(&inbox, seconds).await;
    println!("| without any of the console's indexes | {without:.0} |");
    Ok(())
}
