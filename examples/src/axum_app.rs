//! The axum receiver: [`WebhookLayer`] in front of a handler that feeds an [`EventSink`].

use std::{future::Future, io, sync::Arc, time::Duration};

use axum::{
    extract::{FromRef, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Router,
};
use quickassist_webhooks::{idempotency::Deduplicator, Verifier};
use quickassist_webhooks_tower::{Webhook, WebhookLayer};
use tokio::net::TcpListener;
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::{EventSink, WEBHOOK_PATH};

/// How long the receivers wait for the next chunk of a request body before giving up.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
struct AppState {
    verifier: Verifier,
    sink: Arc<dyn EventSink>,
}

impl FromRef<AppState> for Verifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// The receiver: `POST /webhooks/thequickassist` verified with `verifier`, de-duplicated
/// through `dedup`, each new event handed to `sink`.
///
/// Answers 200 once the sink processed the event (or for a duplicate), 500 when the sink
/// failed (the delivery is released, so the provider's retry is processed), and the layer's
/// 401 / 413 / 400 / 409 / 503 otherwise.
///
/// ```
/// use std::sync::Arc;
/// use quickassist_examples::{axum_app, PrintSink};
/// use quickassist_webhooks::{idempotency::Deduplicator, Verifier};
///
/// let app = axum_app(Verifier::new("whsec_example"), Deduplicator::memory(), Arc::new(PrintSink));
/// # drop(app);
/// ```
pub fn axum_app(verifier: Verifier, dedup: Deduplicator, sink: Arc<dyn EventSink>) -> Router {
    axum_app_with_body_timeout(verifier, dedup, sink, BODY_READ_TIMEOUT)
}

/// [`axum_app`] with another limit on the time between two chunks of a request body.
///
/// A client that trickles its body slower than that (a slowloris) gets
/// `400 {"error":"body_read_failed"}` and its connection closed, instead of holding a
/// connection and a buffer open for as long as it likes.
pub fn axum_app_with_body_timeout(
    verifier: Verifier,
    dedup: Deduplicator,
    sink: Arc<dyn EventSink>,
    body_timeout: Duration,
) -> Router {
    let layer = WebhookLayer::new(verifier.clone()).deduplicator(dedup);
    Router::new()
        .route(WEBHOOK_PATH, post(receive).route_layer(layer))
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        .with_state(AppState { verifier, sink })
}

async fn receive(State(state): State<AppState>, Webhook(envelope): Webhook) -> Response {
    match state.sink.process(&envelope) {
        Ok(()) => json(StatusCode::OK, r#"{"status":"processed"}"#),
        Err(error) => {
            tracing::warn!(
                webhook_id = %envelope.webhook_id,
                event = envelope.event.name(),
                %error,
                "processing failed; the provider will retry"
            );
            json(
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"error":"processing_failed"}"#,
            )
        }
    }
}

fn json(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes the requests in
/// flight.
///
/// Prints `listening on http://ADDR/webhooks/thequickassist` on stderr first, with the
/// actual port (useful with port 0): scripts and tests wait for that line.
///
/// # Errors
///
/// The I/O error that stopped the server.
pub async fn serve_axum(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let addr = listener.local_addr()?;
    eprintln!("listening on http://{addr}{WEBHOOK_PATH}");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex,
    };

    use axum::{body::Body, http::Request};
    use quickassist_webhooks::{
        rejection::DUPLICATE_HEADER,
        testing::{sample, SignedRequest},
        Envelope, Event, Secret, SIGNATURE_HEADER,
    };
    use tower::ServiceExt;

    use super::*;
    use crate::SinkError;

    /// Fails the first `failures` events, records the rest.
    #[derive(Default)]
    struct Flaky {
        failures: AtomicUsize,
        processed: Mutex<Vec<String>>,
    }

    impl EventSink for Flaky {
        fn process(&self, envelope: &Envelope) -> Result<(), SinkError> {
            if self
                .failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(SinkError::new("database unavailable"));
            }
            self.processed
                .lock()
                .unwrap()
                .push(envelope.webhook_id.clone());
            Ok(())
        }
    }

    fn delivery(signed: &SignedRequest) -> Request<Body> {
        Request::post(WEBHOOK_PATH)
            .header(SIGNATURE_HEADER, &signed.signature)
            .body(Body::from(signed.body.clone()))
            .unwrap()
    }

    #[tokio::test]
    async fn failed_processing_answers_500_and_the_retry_is_processed_once() {
        let sink = Arc::new(Flaky {
            failures: AtomicUsize::new(1),
            ..Flaky::default()
        });
        let app = axum_app(Verifier::new("s"), Deduplicator::memory(), sink.clone());
        let signed = SignedRequest::new(&Secret::from("s"), &sample(Event::MESSAGE_READ, "whk_1"));

        let failed = app.clone().oneshot(delivery(&signed)).await.unwrap();
        assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let retry = app.clone().oneshot(delivery(&signed)).await.unwrap();
        assert_eq!(retry.status(), StatusCode::OK);
        assert!(retry.headers().get(DUPLICATE_HEADER).is_none());
        let again = app.oneshot(delivery(&signed)).await.unwrap();
        assert_eq!(again.headers()[DUPLICATE_HEADER], "true");
        assert_eq!(*sink.processed.lock().unwrap(), ["whk_1"]);
    }

    #[tokio::test]
    async fn forged_delivery_never_reaches_the_sink() {
        let sink = Arc::new(Flaky::default());
        let app = axum_app(Verifier::new("s"), Deduplicator::memory(), sink.clone());
        let forged = SignedRequest::new(
            &Secret::from("not s"),
            &sample(Event::MESSAGE_READ, "whk_1"),
        );
        let response = app.oneshot(delivery(&forged)).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(sink.processed.lock().unwrap().is_empty());
    }
}
