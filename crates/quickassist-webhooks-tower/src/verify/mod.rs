//! Middleware that verifies webhook signatures before your code runs.
//!
//! [`VerifyLayer`] buffers the body within the [`Verifier`](quickassist_webhooks::Verifier)'s
//! size limit, verifies `x-webhook-signature` on the bytes exactly as received, and parses the
//! envelope once:
//!
//! | request                                              | answer                                  |
//! |------------------------------------------------------|-----------------------------------------|
//! | declared `Content-Length` over the limit             | `413`, before a byte is read            |
//! | body over the limit while streaming (chunked)        | `413`, reading stops at the limit       |
//! | no, malformed, repeated or wrong signature; stale timestamp | `401` (`missing_signature`, `malformed_signature`, `invalid_signature`, `timestamp_out_of_tolerance`) |
//! | authentic, but not a webhook envelope                | `400` (`invalid_payload`)               |
//! | authentic envelope                                   | the inner service                       |
//!
//! Rejections are responses with a small JSON body (`{"error":"invalid_signature"}`), never
//! errors, and never echo the body or an expected signature; each is logged at `debug` with
//! its `reason`.
//!
//! The inner service gets a request whose body ([`VerifiedBody`](crate::VerifiedBody)) is the
//! verified bytes and whose extensions hold the parsed
//! [`Envelope`](quickassist_webhooks::Envelope) (`Envelope<Event>`) and the
//! [`Verification`](quickassist_webhooks::Verification).
//!
//! ```
//! use axum::{routing::post, Extension, Router};
//! use quickassist_webhooks::{Envelope, Verifier};
//! use quickassist_webhooks_tower::VerifyLayer;
//!
//! async fn handle(Extension(envelope): Extension<Envelope>) -> &'static str {
//!     println!("{} {}", envelope.event.name(), envelope.webhook_id);
//!     "ok"
//! }
//!
//! // `route_layer` on the method router: only `POST /webhooks/thequickassist` is verified.
//! let app: Router = Router::new().route(
//!     "/webhooks/thequickassist",
//!     post(handle).route_layer(VerifyLayer::new(Verifier::new("whsec_example"))),
//! );
//! ```

mod layer;
pub(crate) mod read;
mod service;

pub use self::{layer::VerifyLayer, service::Verify};
pub use crate::future::ResponseFuture;
