//! [`WebhookLayer`]: verification and de-duplication from one configuration.

use quickassist_webhooks::{
    idempotency::{Deduplicator, IdempotencyStore},
    Verifier,
};
use tower_layer::Layer;

use crate::{
    idempotency::{Idempotency, IdempotencyLayer},
    verify::{Verify, VerifyLayer},
};

/// The whole receiving pipeline as one layer: [`VerifyLayer`] (401 / 413 / 400) in front of
/// [`IdempotencyLayer`] (duplicates answered without calling your service, 409 / 503).
///
/// Built from a [`Verifier`]; de-duplicates in a [`MemoryStore`] unless given another
/// [`store`](Self::store) or a configured [`deduplicator`](Self::deduplicator).
///
/// Apply it to the webhook route only (`post(handler).route_layer(…)`), so other routes and
/// methods are not asked for a signature.
///
/// [`MemoryStore`]: quickassist_webhooks::idempotency::MemoryStore
///
/// # Example
///
/// ```
/// use axum::{body::Body, http::Request, routing::post, Router};
/// use quickassist_webhooks::{testing::{sample, SignedRequest}, Event, Secret, Verifier};
/// use quickassist_webhooks_tower::{Webhook, WebhookLayer};
/// use tower::ServiceExt;
///
/// async fn handle(Webhook(envelope): Webhook) -> &'static str {
///     println!("{} {}", envelope.event.name(), envelope.webhook_id);
///     "ok"
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let verifier = Verifier::new("whsec_example");
/// let app = Router::new()
///     .route(
///         "/webhooks/thequickassist",
///         post(handle).route_layer(WebhookLayer::new(verifier.clone()).max_body(64 * 1024)),
///     )
///     .with_state(verifier); // lets `Webhook` verify by itself where the layer is absent
///
/// let signed = SignedRequest::new(&Secret::from("whsec_example"), &sample(Event::MESSAGE_READ, "whk_1"));
/// let request = || {
///     Request::post("/webhooks/thequickassist")
///         .header("x-webhook-signature", &signed.signature)
///         .body(Body::from(signed.body.clone()))
///         .unwrap()
/// };
/// let first = app.clone().oneshot(request()).await?;
/// assert_eq!(first.status(), 200);
/// let again = app.oneshot(request()).await?;
/// assert_eq!(again.status(), 200);
/// assert_eq!(again.headers()["x-webhook-duplicate"], "true");
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct WebhookLayer {
    verify: VerifyLayer,
    idempotency: IdempotencyLayer,
}

impl WebhookLayer {
    /// Verifies with `verifier` and de-duplicates in a new in-memory store.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verify: VerifyLayer::new(verifier),
            idempotency: IdempotencyLayer::new(Deduplicator::memory()),
        }
        .checked()
    }

    /// De-duplicates through `dedup`, with its store, key function, TTL, lease and failure
    /// mode.
    ///
    /// A verifier replay window that the done-TTL does not cover (see
    /// [`Deduplicator::check_replay_window`]) is logged at `warn`: a replay arriving after
    /// the TTL would be processed again.
    pub fn deduplicator(mut self, dedup: Deduplicator) -> Self {
        self.idempotency = IdempotencyLayer::new(dedup);
        self.checked()
    }

    /// De-duplicates in `store` with the default TTL, lease and failure mode (fail-closed);
    /// to tune those, build a [`Deduplicator`] and pass it to
    /// [`deduplicator`](Self::deduplicator).
    pub fn store(self, store: impl IdempotencyStore) -> Self {
        self.deduplicator(Deduplicator::new(store))
    }

    /// Sets the largest body accepted, in bytes (see [`VerifyLayer::max_body`]).
    pub fn max_body(mut self, limit: usize) -> Self {
        self.verify = self.verify.max_body(limit);
        self
    }

    /// The verifier requests are checked with.
    pub fn verifier(&self) -> &Verifier {
        self.verify.verifier()
    }
}

impl WebhookLayer {
    /// Warns once per configuration when replays could outlive the de-duplication memory.
    fn checked(self) -> Self {
        let tolerance = self.verify.verifier().replay_window();
        if let Err(error) = self
            .idempotency
            .deduplicator()
            .check_replay_window(tolerance)
        {
            tracing::warn!(%error, "WebhookLayer configuration lets late replays through");
        }
        self
    }
}

impl<S> Layer<S> for WebhookLayer {
    type Service = Verify<Idempotency<S>>;

    fn layer(&self, inner: S) -> Self::Service {
        self.verify.layer(self.idempotency.layer(inner))
    }
}
