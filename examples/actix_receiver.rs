//! A complete TheQuickAssist webhook receiver on actix-web: the same contract as
//! `axum_receiver`.
//!
//! ```sh
//! QUICKASSIST_WEBHOOK_SECRET=whsec_... cargo run --release --example actix_receiver
//! ```
//!
//! Serves `POST /webhooks/thequickassist` on `HOST:PORT` (default `127.0.0.1:3000`), over
//! HTTPS when `TLS_CERT` and `TLS_KEY` name PEM files. Forged requests get 401, duplicates
//! are acknowledged without being processed again, and each processed event is printed as
//! one JSON line on stdout. `REDIS_URL` shares de-duplication between replicas. Logs go to
//! stderr; Ctrl-C or SIGTERM stops it gracefully. Built with `--features metrics`, it also
//! serves `GET /metrics` (Prometheus).

use std::{error::Error, process::ExitCode, time::Duration};

use actix_web::{web, App, HttpResponse, HttpServer};
use quickassist_examples::{exit_code, init_tracing, print_event, ReceiverConfig, WEBHOOK_PATH};
use quickassist_webhooks_actix::{Webhook, WebhookMiddleware};

/// Runs once per authentic, first-time delivery. A non-2xx answer releases the delivery,
/// so the provider's retry is processed.
async fn receive(Webhook(envelope): Webhook) -> HttpResponse {
    match print_event(&envelope).await {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(error) => {
            tracing::warn!(webhook_id = %envelope.webhook_id, %error, "processing failed; the provider will retry");
            HttpResponse::InternalServerError().finish()
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let config = ReceiverConfig::from_env()?;
    let receiver = config.receiver_builder().await?;
    // Built once, outside the factory: every worker shares the receiver and its store.
    let webhooks = WebhookMiddleware::new(receiver.build()?);
    #[cfg(feature = "metrics")]
    let prometheus = quickassist_examples::install_prometheus()?;
    let server = HttpServer::new(move || {
        let app = App::new().service(
            web::resource(WEBHOOK_PATH)
                .wrap(webhooks.clone())
                .route(web::post().to(receive)),
        );
        #[cfg(feature = "metrics")]
        let app = {
            let prometheus = prometheus.clone();
            app.route(
                "/metrics",
                web::get().to(move || std::future::ready(prometheus.render())),
            )
        };
        app
    });
    // Shed slow and idle connections, and cap them below the open-file limit (raised to the
    // hard limit): the middleware only sees requests, so these are the server's job.
    let workers = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let server = server
        .workers(workers)
        .max_connections(config.max_connections_per_worker(workers))
        .client_request_timeout(Duration::from_secs(5))
        .keep_alive(Duration::from_secs(5))
        .client_disconnect_timeout(Duration::from_secs(1))
        .shutdown_timeout(10);

    let listener = std::net::TcpListener::bind(config.bind_address())?;
    let address = listener.local_addr()?;
    let server = match config.tls_config()? {
        Some(tls) => {
            eprintln!("listening on https://{address}{WEBHOOK_PATH}");
            server.listen_rustls_0_23(listener, tls)?
        }
        None => {
            eprintln!("listening on http://{address}{WEBHOOK_PATH}");
            server.listen(listener)?
        }
    };
    // actix-web stops gracefully on Ctrl-C and SIGTERM by itself.
    server.run().await?;
    Ok(())
}

#[actix_web::main]
async fn main() -> ExitCode {
    init_tracing();
    exit_code(run().await)
}
