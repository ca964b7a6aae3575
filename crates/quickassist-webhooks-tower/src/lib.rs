#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod body;
#[cfg(feature = "axum")]
mod extract;
mod future;
pub mod idempotency;
mod response;
pub mod verify;
mod webhook;

pub use body::{ResponseBody, VerifiedBody};
#[cfg(feature = "axum")]
pub use extract::{Webhook, WebhookRejection};
pub use idempotency::{Idempotency, IdempotencyLayer};
pub use verify::{Verify, VerifyLayer};
pub use webhook::WebhookLayer;
