//! [`WebhookLayer`]: the receiving pipeline as a tower layer.

use quickassist_webhooks::receive::Receiver;
use tower_layer::Layer;

use crate::WebhookService;

/// Applies [`WebhookService`]: verification, de-duplication and the answers of a core
/// [`Receiver`], in front of your service.
///
/// Cheap to clone (the receiver is an `Arc`). Apply it to the webhook route only
/// (`post(handler).route_layer(…)`), so other routes are not asked for a signature.
///
/// # Example
///
/// ```
/// use axum::{body::Body, http::Request, routing::post, Router};
/// use quickassist_webhooks::{receive::Receiver, testing::{sample, SignedRequest}, Event, Secret, Verifier};
/// use quickassist_webhooks_tower::{Webhook, WebhookLayer};
/// use tower::ServiceExt;
///
/// async fn handle(Webhook(envelope): Webhook) -> &'static str {
///     println!("{} {}", envelope.event.name(), envelope.webhook_id);
///     "ok"
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let receiver = Receiver::builder(Verifier::new("whsec_example")).build()?;
/// let app = Router::new().route(
///     "/webhooks/thequickassist",
///     post(handle).route_layer(WebhookLayer::new(receiver)),
/// );
///
/// let signed = SignedRequest::new(&Secret::from("whsec_example"), &sample(Event::MESSAGE_READ, "whk_layer_doc"));
/// let request = || {
///     Request::post("/webhooks/thequickassist")
///         .header("x-webhook-signature", &signed.signature)
///         .body(Body::from(signed.body.clone()))
///         .unwrap()
/// };
/// let first = app.clone().oneshot(request()).await?;
/// assert_eq!(first.status(), 200);
/// let again = app.oneshot(request()).await?;
/// assert_eq!(again.headers()["x-webhook-duplicate"], "true");
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct WebhookLayer {
    receiver: Receiver,
}

impl WebhookLayer {
    /// A layer driving `receiver` (its verifier, deduplicator, body limit and timeout).
    pub fn new(receiver: Receiver) -> Self {
        Self { receiver }
    }

    /// The receiver requests go through.
    pub fn receiver(&self) -> &Receiver {
        &self.receiver
    }
}

impl<S> Layer<S> for WebhookLayer {
    type Service = WebhookService<S>;

    fn layer(&self, inner: S) -> WebhookService<S> {
        WebhookService::new(inner, self.receiver.clone())
    }
}
