//! Benchmark of the PostgreSQL inbox: intake deliveries/s and latency over HTTP on loopback
//! at 1, 8 and 64 concurrent clients, with durable commits (`fsync` and
//! `synchronous_commit` on); worker throughput with a handler that does nothing and with
//! one that writes a row; and how soon an idle worker picks up a new delivery.
//!
//! ```sh
//! cargo run --release -p quickassist-examples --example bench_inbox [SECONDS_PER_LEVEL]
//! cargo run --release -p quickassist-examples --example bench_inbox serve PORT SECRET
//! cargo run --release -p quickassist-examples --example bench_inbox pickup [SAMPLES]
//! cargo run --release -p quickassist-examples --example bench_inbox commits [COUNT]
//! cargo run --release -p quickassist-examples --example bench_inbox size ROWS EXPIRED [SECONDS]
//! ```
//!
//! Each mode starts its own throwaway cluster (`PostgresServer::start_durable`). The first
//! runs the receiver (axum + `WebhookLayer` over an `Inbox` intake) and its clients
//! (reqwest, keep-alive, every request a fresh signed `webhookId`) in this process, then
//! the workers. `serve` runs only the receiver, until SIGTERM, for a load generator in
//! another process (`bench/inbox.sh` drives it with wrk). `pickup` stores deliveries one
//! at a time with a worker idle (polling every hour) and reports how long each took to
//! reach the handler: the `LISTEN`/`NOTIFY` path.
//!
//! At size (`bench/inbox-size.sh` runs them): `commits` compares the commit modes (worker
//! throughput, and how soon a batch's other deliveries are visible while one handler is
//! slow); `size` measures the intake at 64 clients and the workers on an empty inbox, then
//! again with `ROWS` stored deliveries (added by bulk SQL), prints how PostgreSQL runs each
//! hot query (failing when one reads the whole table), and measures the intake again while
//! the `EXPIRED` of them processed over a week ago are purged.

mod size;

use std::{
    error::Error,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use axum::{routing::post_service, Router};
use quickassist_webhooks::{
    receive::{Intake, Receiver},
    testing::{self, sample, SignedRequest},
    Event, Secret, Verifier, SIGNATURE_HEADER,
};
use quickassist_webhooks_postgres::{handler_fn, CommitMode, Inbox, Worker};
use quickassist_webhooks_test::postgres::PostgresServer;
use quickassist_webhooks_tower::IntakeService;

const SECRET: &str = "whsec_bench_inbox";
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// What the intake did: deliveries/s and latency quantiles.
struct Summary {
    rate: f64,
    p50: Duration,
    p99: Duration,
    count: usize,
}

impl Summary {
    fn row(&self, what: &str) -> String {
        format!(
            "| {what} | {:.0} deliveries/s | p50 {:.2} ms | p99 {:.2} ms | {} deliveries |",
            self.rate,
            self.p50.as_secs_f64() * 1000.0,
            self.p99.as_secs_f64() * 1000.0,
            self.count
        )
    }
}

/// `clients` clients delivering fresh signed deliveries to `url` while `keep_going` says so.
async fn intake(
    url: &str,
    clients: usize,
    keep_going: impl Fn() -> bool + Clone + Send + 'static,
) -> Result<Summary, Box<dyn Error>> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let secret = Secret::from(SECRET);
    let tasks = (0..clients).map(|_| {
        let (client, secret, url) = (client.clone(), secret.clone(), url.to_owned());
        let keep_going = keep_going.clone();
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while keep_going() {
                let id = format!("whk_bench_{}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
                let request = SignedRequest::new(&secret, &sample(Event::MESSAGE_DELIVERED, &id));
                let started = Instant::now();
                let response = client
                    .post(&url)
                    .header(SIGNATURE_HEADER, request.signature)
                    .header("content-type", "application/json")
                    .body(request.body)
                    .send()
                    .await
                    .expect("the receiver answers");
                assert_eq!(response.status(), 200, "{:?}", response.text().await);
                latencies.push(started.elapsed());
            }
            latencies
        })
    });
    let started = Instant::now();
    let mut latencies: Vec<Duration> = Vec::new();
    for task in futures_util::future::join_all(tasks).await {
        latencies.extend(task?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at = |q| quantile(&latencies, q);
    Ok(Summary {
        rate: latencies.len() as f64 / elapsed,
        p50: at(0.50),
        p99: at(0.99),
        count: latencies.len(),
    })
}

/// Keeps going for `seconds` from now.
fn for_seconds(seconds: u64) -> impl Fn() -> bool + Clone + Send + 'static {
    let end = Instant::now() + Duration::from_secs(seconds);
    move || Instant::now() < end
}

/// The latency at quantile `q` of `sorted` latencies.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

async fn workers(inbox: &Inbox, writes: bool, count: i64) -> Result<(), Box<dyn Error>> {
    sqlx::query("TRUNCATE quickassist_webhook_inbox")
        .execute(inbox.pool())
        .await?;
    sqlx::query(
        "INSERT INTO quickassist_webhook_inbox (webhook_id, event, body, signed_form, signed_at) \
         SELECT 'whk_' || n, 'message.read', convert_to(format( \
           '{\"event\":\"message.read\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"data\":{\"messageId\":\"msg_%s\"},\"webhookId\":\"whk_%s\"}', \
           n, n), 'UTF8'), 'raw', now() FROM generate_series(1, $1) AS n",
    )
    .bind(count)
    .execute(inbox.pool())
    .await?;
    let started = Instant::now();
    let running = Worker::new(
        inbox.clone(),
        handler_fn(move |delivery, tx| {
            Box::pin(async move {
                if writes {
                    sqlx::query("INSERT INTO bench_handled (webhook_id) VALUES ($1)")
                        .bind(&delivery.envelope.webhook_id)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            })
        }),
    )
    .tasks(4)
    .batch_size(64)
    .spawn();
    loop {
        let pending: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM quickassist_webhook_inbox WHERE status <> 'processed'",
        )
        .fetch_one(inbox.pool())
        .await?;
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    running.shutdown().await;
    println!(
        "| worker (4 tasks, batches of 64) | handler {} | {:.0} deliveries/s | {count} deliveries in {elapsed:.2} s |",
        if writes { "writes a row" } else { "does nothing" },
        count as f64 / elapsed
    );
    Ok(())
}

/// A durable cluster with the inbox migrated.
async fn database() -> Result<(PostgresServer, Inbox), Box<dyn Error>> {
    let server = tokio::task::spawn_blocking(PostgresServer::start_durable).await??;
    let inbox = Inbox::connect(&server.url()).await?;
    inbox.migrate().await?;
    let settings: (String, String) =
        sqlx::query_as("SELECT current_setting('fsync'), current_setting('synchronous_commit')")
            .fetch_one(inbox.pool())
            .await?;
    eprintln!("fsync={} synchronous_commit={}", settings.0, settings.1);
    Ok((server, inbox))
}

/// The receiver on `listener`: axum + `IntakeService` storing into `inbox`.
fn serve(
    listener: tokio::net::TcpListener,
    inbox: &Inbox,
    secret: &str,
) -> Result<(), Box<dyn Error>> {
    let intake = Receiver::builder(Verifier::new(secret)).build_intake(inbox.clone())?;
    let app = Router::new().route(
        "/webhooks/thequickassist",
        post_service(IntakeService::new(intake)),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(())
}

/// How soon an idle worker's handler sees a delivery stored while it waits.
async fn pickup(inbox: &Inbox, samples: usize) -> Result<(), Box<dyn Error>> {
    let (handled, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let running = Worker::new(
        inbox.clone(),
        handler_fn(move |_delivery, _tx| {
            let _ = handled.send(Instant::now());
            Box::pin(async { Ok(()) })
        }),
    )
    .poll_interval(Duration::from_secs(3600))
    .spawn();
    let mut latencies = Vec::with_capacity(samples);
    for n in 0..samples {
        let delivery = testing::delivery(&sample(
            Event::MESSAGE_DELIVERED,
            &format!("whk_pickup_{n}"),
        ));
        // Let the worker go idle again.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let stored = Instant::now();
        inbox.store(&delivery).await?;
        let handled_at = tokio::time::timeout(Duration::from_secs(10), seen.recv())
            .await?
            .ok_or("the worker stopped")?;
        latencies.push(handled_at.saturating_duration_since(stored));
    }
    running.shutdown().await;
    latencies.sort_unstable();
    let at = |q| quantile(&latencies, q);
    println!(
        "| pick-up (idle worker, NOTIFY) | {samples} deliveries | p50 {:.2} ms | p99 {:.2} ms | max {:.2} ms |",
        at(0.50).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        latencies[latencies.len() - 1].as_secs_f64() * 1000.0,
    );
    Ok(())
}

/// Worker throughput in each commit mode, and how soon a batch's other deliveries are
/// visible while one handler takes 2 s.
async fn commits(inbox: &Inbox, count: i64) -> Result<(), Box<dyn Error>> {
    for (n, mode) in [CommitMode::PerBatch, CommitMode::PerDelivery]
        .into_iter()
        .enumerate()
    {
        let rate = size::worker_rate(inbox, &format!("whk_rate_{n}_"), count, mode).await?;
        println!("| worker (4 tasks, batches of 64) | {mode:?} | {rate:.0} deliveries/s | {count} deliveries |");
    }
    let hold = Duration::from_secs(2);
    for mode in [CommitMode::PerBatch, CommitMode::PerDelivery] {
        let visible = size::batch_mates_visible(inbox, mode, hold, 5).await?;
        println!(
            "| batch of 16, one handler takes {hold:?} | {mode:?} | the other 15 visible after: p50 {:.1} ms, max {:.1} ms | {} deliveries |",
            quantile(&visible, 0.5).as_secs_f64() * 1000.0,
            visible[visible.len() - 1].as_secs_f64() * 1000.0,
            visible.len()
        );
    }
    Ok(())
}

/// On an empty inbox, then with `rows` stored deliveries (`expired` of them processed over a
/// week ago): the intake at 64 clients and the workers' throughput; each hot query's plan;
/// the intake while the expired rows are purged. Fails when a hot query reads the whole
/// table at size.
async fn at_size(rows: i64, expired: i64, seconds: u64) -> Result<(), Box<dyn Error>> {
    let (server, inbox) = database().await?;
    // Sized as a database that holds millions of rows would be (a quarter of this machine's
    // memory would be 6 GB; the default, 128 MB, suits a laptop).
    sqlx::query("ALTER SYSTEM SET shared_buffers = '2GB'")
        .execute(inbox.pool())
        .await?;
    // Where the workers' time goes, by statement (printed after each worker run).
    sqlx::query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        .execute(inbox.pool())
        .await?;
    inbox.pool().close().await;
    let _server = tokio::task::spawn_blocking(move || {
        let mut server = server;
        server.restart().map(|()| server)
    })
    .await??;
    let inbox = Inbox::connect(&_server.url()).await?;
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(inbox.pool())
        .await?;
    // As a database that has run for a while: WAL segments in place to recycle (a fresh
    // cluster creates, zero-fills and fsyncs each new one during the first measurement).
    size::populate(&inbox, 2_000_000, 0).await?;
    sqlx::query("TRUNCATE quickassist_webhook_inbox")
        .execute(inbox.pool())
        .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/webhooks/thequickassist", listener.local_addr()?);
    serve(listener, &inbox, SECRET)?;
    for (n, label) in [(0, "empty"), (1, "at size")] {
        if n == 1 {
            size::populate(&inbox, rows, expired).await?;
        }
        // A warm-up of the same load (WAL segments in place, caches filled), then the
        // measurement.
        intake(&url, 64, for_seconds(5)).await?;
        let summary = intake(&url, 64, for_seconds(seconds)).await?;
        println!("{}", summary.row(&format!("intake, 64 clients | {label}")));
        // What the intake stored first (not measured), then a backlog of 50,000.
        size::worker_rate(&inbox, &format!("whk_drain_{n}_"), 0, CommitMode::PerBatch).await?;
        sqlx::query("SELECT pg_stat_statements_reset()")
            .execute(inbox.pool())
            .await?;
        let rate = size::worker_rate(
            &inbox,
            &format!("whk_size_work_{n}_"),
            50_000,
            CommitMode::PerBatch,
        )
        .await?;
        print_statements(&inbox).await?;
        println!("| worker (4 tasks, batches of 64) | {label} | {rate:.0} deliveries/s | 50000 deliveries |");
    }
    let scanning = print_plans(&inbox).await?;

    // The intake alone just before the purge, then beside it.
    let alone = intake(&url, 64, for_seconds(seconds)).await?;
    println!(
        "{}",
        alone.row("intake, 64 clients | at size, before the purge")
    );

    let purging = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let purge = tokio::spawn({
        let (inbox, purging) = (inbox.clone(), std::sync::Arc::clone(&purging));
        async move {
            let started = Instant::now();
            let purged = inbox.purge_processed(Duration::from_secs(7 * 86_400)).await;
            purging.store(false, Ordering::SeqCst);
            purged.map(|purged| (purged, started.elapsed()))
        }
    });
    let beside = intake(&url, 64, move || purging.load(Ordering::SeqCst)).await?;
    let (purged, took) = purge.await??;
    println!("{}", beside.row("intake, 64 clients | while purging"));
    println!(
        "| purge | {purged} rows in {:.1} s | {:.0} rows/s | intake p99 while purging / alone: {:.2} |",
        took.as_secs_f64(),
        purged as f64 / took.as_secs_f64(),
        beside.p99.as_secs_f64() / alone.p99.as_secs_f64()
    );
    if scanning.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "these read the whole table at {rows} rows: {}",
            scanning.join(", ")
        )
        .into())
    }
}

/// The statements that took the most time since the last reset: calls, mean and total time.
async fn print_statements(inbox: &Inbox) -> Result<(), Box<dyn Error>> {
    let rows: Vec<(i64, f64, f64, String)> = sqlx::query_as(
        "SELECT calls, mean_exec_time, total_exec_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) \
         FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 6",
    )
    .fetch_all(inbox.pool())
    .await?;
    for (calls, mean, total, query) in rows {
        println!("    {calls:>7} calls  {mean:>8.3} ms mean  {total:>9.1} ms total  {query}");
    }
    Ok(())
}

/// Prints each hot query's plan; returns those that read the whole table.
async fn print_plans(inbox: &Inbox) -> Result<Vec<&'static str>, Box<dyn Error>> {
    let plans = inbox.query_plans().await?;
    for plan in &plans {
        let reads = if plan.scans_table {
            "TABLE SCAN"
        } else {
            "index"
        };
        println!("{}\t{reads}\t{}", plan.query, plan.indexes.join(","));
        for line in plan.text.lines() {
            println!("    {line}");
        }
    }
    Ok(plans
        .iter()
        .filter(|plan| plan.scans_table)
        .map(|plan| plan.query)
        .collect())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["serve", port, secret] => {
            let (_server, inbox) = database().await?;
            let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
            serve(listener, &inbox, secret)?;
            eprintln!("listening on http://127.0.0.1:{port}/webhooks/thequickassist");
            let mut terminate =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            terminate.recv().await;
            let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM quickassist_webhook_inbox")
                .fetch_one(inbox.pool())
                .await?;
            eprintln!("stored {stored}");
            Ok(())
        }
        ["commits", ..] => {
            let count = args.get(1).map_or(Ok(20_000), |s| s.parse())?;
            let (_server, inbox) = database().await?;
            commits(&inbox, count).await
        }
        ["size", rows, expired, ..] => {
            let seconds = args.get(3).map_or(Ok(10), |s| s.parse())?;
            at_size(rows.parse()?, expired.parse()?, seconds).await
        }
        ["pickup", ..] => {
            let samples = args.get(1).map_or(Ok(200), |s| s.parse())?;
            let (_server, inbox) = database().await?;
            pickup(&inbox, samples).await
        }
        _ => {
            let seconds = args.first().map_or(Ok(5), |s| s.parse())?;
            let (_server, inbox) = database().await?;
            sqlx::query("CREATE TABLE bench_handled (webhook_id text PRIMARY KEY)")
                .execute(inbox.pool())
                .await?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let url = format!("http://{}/webhooks/thequickassist", listener.local_addr()?);
            serve(listener, &inbox, SECRET)?;
            for clients in [1, 8, 64] {
                let summary = intake(&url, clients, for_seconds(seconds)).await?;
                println!("{}", summary.row(&format!("intake | {clients} clients")));
            }
            workers(&inbox, false, 20_000).await?;
            workers(&inbox, true, 20_000).await?;
            Ok(())
        }
    }
}
