//! actix-web middleware: [`VerifyWebhook`] (401 / 413 / 400), [`Deduplicate`] (each delivery
//! once: duplicate 200 / 409 / 503) and [`QuickAssistWebhooks`], the two in one.
//!
//! ```
//! use actix_web::{web, App, HttpResponse};
//! use quickassist_webhooks::{idempotency::Deduplicator, Verifier};
//! use quickassist_webhooks_actix::{QuickAssistWebhooks, Webhook};
//!
//! async fn receive(Webhook(envelope): Webhook) -> HttpResponse {
//!     println!("{} {}", envelope.event.name(), envelope.webhook_id);
//!     HttpResponse::Ok().finish()
//! }
//!
//! let verifier = Verifier::new("whsec_example");
//! let app = App::new().service(
//!     web::resource("/webhooks/thequickassist")
//!         .wrap(QuickAssistWebhooks::new(verifier).deduplicator(Deduplicator::memory()))
//!         .route(web::post().to(receive)),
//! );
//! # let _ = app;
//! ```

mod combined;
mod dedup;
mod steps;
mod verify;

pub use combined::QuickAssistWebhooks;
#[doc(hidden)]
pub use combined::QuickAssistWebhooksMiddleware;
pub use dedup::Deduplicate;
#[doc(hidden)]
pub use dedup::DeduplicateMiddleware;
pub use verify::VerifyWebhook;
#[doc(hidden)]
pub use verify::VerifyWebhookMiddleware;
