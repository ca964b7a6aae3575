//! A TheQuickAssist webhook receiver with a durable PostgreSQL inbox.
//!
//! ```sh
//! DATABASE_URL=postgres://app@localhost/app QUICKASSIST_WEBHOOK_SECRET=whsec_... \
//!     cargo run --release --example inbox_receiver
//! ```
//!
//! Serves `POST /webhooks/thequickassist` on `HOST:PORT` (default `127.0.0.1:3000`). A
//! verified delivery is stored with one INSERT and answered 200 at once; a worker then
//! processes it from the database, printing one compact JSON envelope line on stdout.
//! The migrations are applied at start. Ctrl-C or SIGTERM: in-flight requests and the
//! worker's batch finish, then it exits. Built with `--features metrics`, it also serves
//! `GET /metrics` (Prometheus): the intake's and the worker's.

use std::{error::Error, io::Write, process::ExitCode};

use axum::{routing::post_service, Router};
use quickassist_webhooks::{receive::Receiver, Verifier};
use quickassist_webhooks_postgres::{handler_fn, CommitMode, Inbox, Worker};
use quickassist_webhooks_tower::IntakeService;

fn env(name: &str) -> Result<String, Box<dyn Error>> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { terminate.as_mut()?.recv().await } => {}
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let secret = env("QUICKASSIST_WEBHOOK_SECRET")?;
    let inbox = Inbox::connect(&env("DATABASE_URL")?).await?; // errors never show a password
    inbox.migrate().await?;

    // The worker: the envelope's line on stdout, then the row is marked processed (in the
    // transaction a real handler would write through).
    let worker = Worker::new(
        inbox.clone(),
        handler_fn(|delivery, _tx| {
            Box::pin(async move {
                let line = serde_json::to_string(&delivery.envelope)?;
                let mut stdout = std::io::stdout().lock();
                writeln!(stdout, "{line}")?;
                stdout.flush()?;
                Ok(())
            })
        }),
    )
    // Printing is an effect outside the database: commit each delivery as soon as it is
    // printed, so a crash prints again at most the one in hand.
    .commit_mode(CommitMode::PerDelivery)
    .spawn();

    // The request path: verify, store, answer; no handler.
    let intake = Receiver::builder(Verifier::new(secret)).build_intake(inbox)?;
    let app = Router::new().route(
        "/webhooks/thequickassist",
        post_service(IntakeService::new(intake)),
    );
    #[cfg(feature = "metrics")]
    let app = quickassist_examples::with_metrics_route(app)?;
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("{host}:{port}")).await?;
    eprintln!(
        "listening on http://{}/webhooks/thequickassist",
        listener.local_addr()?
    );
    let _ = quickassist_webhooks_tower::serve::raise_open_files_limit();
    quickassist_webhooks_tower::serve::Server::new()
        .serve(listener, app, shutdown_signal())
        .await?;
    worker.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("inbox_receiver: {error}");
            ExitCode::from(2)
        }
    }
}
