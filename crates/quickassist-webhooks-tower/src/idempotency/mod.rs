//! Middleware that processes each webhook delivery once.
//!
//! [`IdempotencyLayer`] admits every request through a core
//! [`Deduplicator`](quickassist_webhooks::idempotency::Deduplicator), keyed on the
//! [`Envelope`](quickassist_webhooks::Envelope) that [`VerifyLayer`](crate::VerifyLayer) left in
//! the request extensions (so it must sit *behind* `VerifyLayer`: forged ids never reach the
//! store):
//!
//! | delivery                               | answer                                             |
//! |----------------------------------------|----------------------------------------------------|
//! | first of its `webhookId`               | the inner service; a 2xx completes the claim, anything else (or an error, or a dropped future) releases it so the provider's retry is processed |
//! | already processed                      | `200` with `x-webhook-duplicate: true`, inner service not called |
//! | being processed right now              | `409` with `Retry-After` (the lease)               |
//! | store unreachable, fail-closed (default) | `503`: the provider retries                      |
//! | store unreachable, fail-open           | the inner service, without de-duplication          |
//!
//! A request without an `Envelope` in its extensions (the layer used without `VerifyLayer`)
//! is passed through without de-duplication, and logged at `warn`.
//!
//! [`WebhookLayer`](crate::WebhookLayer) stacks both layers from one configuration.
//!
//! ```
//! use axum::{routing::post, Extension, Router};
//! use quickassist_webhooks::{idempotency::Deduplicator, Envelope, Verifier};
//! use quickassist_webhooks_tower::{IdempotencyLayer, VerifyLayer};
//! use tower::ServiceBuilder;
//!
//! async fn handle(Extension(envelope): Extension<Envelope>) -> &'static str {
//!     println!("processing {}", envelope.webhook_id);
//!     "ok"
//! }
//!
//! let app: Router = Router::new().route(
//!     "/webhooks/thequickassist",
//!     post(handle).route_layer(
//!         ServiceBuilder::new()
//!             .layer(VerifyLayer::new(Verifier::new("whsec_example")))
//!             .layer(IdempotencyLayer::new(Deduplicator::memory())),
//!     ),
//! );
//! ```

mod layer;
mod service;

pub use self::{layer::IdempotencyLayer, service::Idempotency};
pub use crate::future::ResponseFuture;
