#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
#[cfg(feature = "axum")]
mod extract;
mod future;
mod intake;
#[cfg(feature = "lambda")]
#[cfg_attr(docsrs, doc(cfg(feature = "lambda")))]
pub mod lambda;
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
pub use intake::{IntakeResponseFuture, IntakeService};
pub use layer::WebhookLayer;
pub use service::WebhookService;

// What an app needs besides the middleware, so that this crate is its one dependency: the
// core crate's modules and the types of the quickstart.
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub use quickassist_webhooks::testing;
pub use quickassist_webhooks::{
    accounts, idempotency, receive,
    receive::{IntakeReceiver, Outcome, Receiver, VerifiedDelivery},
    rejection, sign, status, Envelope, Event, Secret, Verifier,
};
