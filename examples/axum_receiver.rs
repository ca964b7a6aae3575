//! A complete TheQuickAssist webhook receiver on axum.
//!
//! ```sh
//! QUICKASSIST_WEBHOOK_SECRET=whsec_... cargo run --release --example axum_receiver
//! ```
//!
//! Serves `POST /webhooks/thequickassist` on `HOST:PORT` (default `127.0.0.1:3000`), over
//! HTTPS when `TLS_CERT` and `TLS_KEY` name PEM files. Forged requests get 401, duplicates
//! are acknowledged without being processed again, and each processed event is printed as
//! one JSON line on stdout. `REDIS_URL` shares de-duplication between replicas. Logs go to
//! stderr; Ctrl-C or SIGTERM stops it gracefully. Built with `--features metrics`, it also
//! serves `GET /metrics` (Prometheus).

use std::{error::Error, process::ExitCode};

use axum::{http::StatusCode, routing::post, Router};
use quickassist_examples::{
    exit_code, init_tracing, print_event, shutdown_signal, ReceiverConfig, TlsListener,
    WEBHOOK_PATH,
};
use quickassist_webhooks_tower::{Webhook, WebhookLayer};

/// Runs once per authentic, first-time delivery. A non-2xx answer releases the delivery,
/// so the provider's retry is processed.
async fn receive(Webhook(envelope): Webhook) -> StatusCode {
    match print_event(&envelope).await {
        Ok(()) => StatusCode::OK,
        Err(error) => {
            tracing::warn!(webhook_id = %envelope.webhook_id, %error, "processing failed; the provider will retry");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let config = ReceiverConfig::from_env()?;
    let receiver = config.receiver_builder().await?;
    let app = Router::new().route(
        WEBHOOK_PATH,
        post(receive).route_layer(WebhookLayer::new(receiver.build()?)),
    );
    #[cfg(feature = "metrics")]
    let app = quickassist_examples::with_metrics_route(app)?;

    let listener = tokio::net::TcpListener::bind(config.bind_address()).await?;
    let address = listener.local_addr()?;
    // Header-read / idle timeout and a connection cap: see quickassist_webhooks_tower::serve.
    let server = config.server();
    match config.tls_config()? {
        Some(tls) => {
            eprintln!("listening on https://{address}{WEBHOOK_PATH}");
            let listener = TlsListener::new(listener, tls)?;
            server.serve(listener, app, shutdown_signal()).await?;
        }
        None => {
            eprintln!("listening on http://{address}{WEBHOOK_PATH}");
            server.serve(listener, app, shutdown_signal()).await?;
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    exit_code(run().await)
}
