//! Benchmark of the PostgreSQL inbox: intake deliveries/s and latency over HTTP on loopback
//! at 1, 8 and 64 concurrent clients, with durable commits (`fsync` and
//! `synchronous_commit` on), then worker throughput with a handler that does nothing and
//! with one that writes a row.
//!
//! ```sh
//! cargo run --release -p quickassist-examples --example bench_inbox [SECONDS_PER_LEVEL]
//! ```
//!
//! Starts its own throwaway cluster (`PostgresServer::start_durable`); the receiver (axum +
//! `WebhooksLayer` over an `Inbox` intake) and the clients (reqwest, keep-alive, every
//! request a fresh signed `webhookId`) run in this process.

use std::{
    error::Error,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use axum::{routing::post, Router};
use quickassist_webhooks::{
    receive::Receiver,
    testing::{sample, SignedRequest},
    Event, Secret, Verifier, SIGNATURE_HEADER,
};
use quickassist_webhooks_postgres::{handler_fn, test_server::PostgresServer, Inbox, Worker};
use quickassist_webhooks_tower::WebhooksLayer;

const SECRET: &str = "whsec_bench_inbox";
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

async fn intake(url: &str, clients: usize, seconds: u64) -> Result<(), Box<dyn Error>> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let secret = Secret::from(SECRET);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let tasks = (0..clients).map(|_| {
        let (client, secret, url) = (client.clone(), secret.clone(), url.to_owned());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
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
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "| intake | {clients} clients | {:.0} deliveries/s | p50 {:.2} ms | p99 {:.2} ms | {} deliveries |",
        latencies.len() as f64 / elapsed,
        at(0.50).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        latencies.len()
    );
    Ok(())
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

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let seconds = std::env::args().nth(1).map_or(Ok(5), |s| s.parse())?;
    let server = tokio::task::spawn_blocking(PostgresServer::start_durable).await??;
    let inbox = Inbox::connect(&server.url()).await?;
    inbox.migrate().await?;
    sqlx::query("CREATE TABLE bench_handled (webhook_id text PRIMARY KEY)")
        .execute(inbox.pool())
        .await?;
    let settings: (String, String) =
        sqlx::query_as("SELECT current_setting('fsync'), current_setting('synchronous_commit')")
            .fetch_one(inbox.pool())
            .await?;
    eprintln!("fsync={} synchronous_commit={}", settings.0, settings.1);

    let receiver = Receiver::builder(Verifier::new(SECRET))
        .intake(inbox.clone())
        .build()?;
    let app = Router::new().route(
        "/webhooks/thequickassist",
        post(|| async {}).route_layer(WebhooksLayer::new(receiver)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/webhooks/thequickassist", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    for clients in [1, 8, 64] {
        intake(&url, clients, seconds).await?;
    }
    workers(&inbox, false, 20_000).await?;
    workers(&inbox, true, 20_000).await?;
    Ok(())
}
