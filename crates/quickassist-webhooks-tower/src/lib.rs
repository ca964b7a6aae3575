#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
#[cfg(feature = "axum")]
mod extract;
mod future;
mod layer;
mod response;
#[cfg(feature = "serve")]
#[cfg_attr(docsrs, doc(cfg(feature = "serve")))]
pub mod serve;
mod service;

pub use body::{ResponseBody, VerifiedBody};
#[cfg(feature = "axum")]
pub use extract::{Webhook, WebhookRejection};
pub use future::ResponseFuture;
pub use layer::WebhooksLayer;
/// The proof the middleware puts in the request extensions; from the core crate.
pub use quickassist_webhooks::receive::VerifiedDelivery;
pub use service::Webhooks;
