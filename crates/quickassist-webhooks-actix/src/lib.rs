#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod extract;
mod intake;
mod middleware;
mod response;

pub use extract::{Webhook, WebhookRejection};
pub use intake::intake_route;
pub use middleware::WebhookMiddleware;
#[doc(hidden)]
pub use middleware::WebhookMiddlewareService;

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
