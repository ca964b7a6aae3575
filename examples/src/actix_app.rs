//! The actix-web receiver: the same contract as [`axum_app`](crate::axum_app), on actix.

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{dev::Server, http::header, web, App, HttpResponse, HttpServer};
use quickassist_webhooks::{idempotency::Deduplicator, Verifier};
use quickassist_webhooks_actix::{QuickAssistWebhooks, Webhook};

use crate::{EventSink, BODY_READ_TIMEOUT, WEBHOOK_PATH};

/// The actix-web receiver on `listener`: `POST /webhooks/thequickassist` behind
/// [`QuickAssistWebhooks`] (401 / 413 / 400, duplicates 200 without processing, 409 / 503),
/// handing each first-time delivery to `sink` (its error answers 500, so the provider's
/// retry is processed).
///
/// The returned [`Server`] runs when polled (await it, or spawn it); it stops gracefully on
/// Ctrl-C / SIGTERM, or through its handle.
///
/// # Errors
///
/// The I/O error when the listener cannot be used.
///
/// ```no_run
/// use std::sync::Arc;
/// use quickassist_examples::{actix_server, PrintSink};
/// use quickassist_webhooks::{idempotency::Deduplicator, Verifier};
///
/// # async fn demo() -> std::io::Result<()> {
/// let listener = std::net::TcpListener::bind("127.0.0.1:3000")?;
/// actix_server(listener, Verifier::new("whsec_example"), Deduplicator::memory(), Arc::new(PrintSink))?
///     .await
/// # }
/// ```
pub fn actix_server(
    listener: TcpListener,
    verifier: Verifier,
    dedup: Deduplicator,
    sink: Arc<dyn EventSink>,
) -> std::io::Result<Server> {
    actix_server_with_body_timeout(listener, verifier, dedup, sink, BODY_READ_TIMEOUT)
}

/// [`actix_server`] with another limit on the time between two chunks of a request body.
///
/// # Errors
///
/// As [`actix_server`].
pub fn actix_server_with_body_timeout(
    listener: TcpListener,
    verifier: Verifier,
    dedup: Deduplicator,
    sink: Arc<dyn EventSink>,
    body_timeout: Duration,
) -> std::io::Result<Server> {
    let sink = web::Data::from(sink);
    let server = HttpServer::new(move || {
        App::new().app_data(sink.clone()).service(
            web::resource(WEBHOOK_PATH)
                .wrap(
                    QuickAssistWebhooks::new(verifier.clone())
                        .deduplicator(dedup.clone())
                        .body_timeout(body_timeout),
                )
                .route(web::post().to(receive)),
        )
    })
    .workers(2)
    .listen(listener)?
    .run();
    Ok(server)
}

async fn receive(sink: web::Data<dyn EventSink>, Webhook(envelope): Webhook) -> HttpResponse {
    match sink.process(&envelope) {
        Ok(()) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .body(r#"{"status":"processed"}"#),
        Err(error) => {
            tracing::warn!(
                webhook_id = %envelope.webhook_id,
                event = envelope.event.name(),
                %error,
                "processing failed; the provider will retry"
            );
            HttpResponse::InternalServerError()
                .insert_header((header::CONTENT_TYPE, "application/json"))
                .body(r#"{"error":"processing_failed"}"#)
        }
    }
}
