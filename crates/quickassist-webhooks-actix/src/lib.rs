#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod extract;
mod middleware;
mod response;

pub use extract::{Webhook, WebhookRejection};
pub use middleware::Webhooks;
#[doc(hidden)]
pub use middleware::WebhooksMiddleware;
/// The proof the middleware puts in the request extensions; from the core crate.
pub use quickassist_webhooks::receive::VerifiedDelivery;
