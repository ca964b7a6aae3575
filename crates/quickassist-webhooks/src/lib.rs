#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod accounts;
pub mod canonical;
mod event;
pub mod idempotency;
pub mod receive;
pub mod rejection;
mod secret;
mod sign;
mod signature;
pub mod status;
#[cfg(feature = "testing")]
pub mod testing;
mod verify;

pub use event::{
    parse_envelope, DeviceType, Envelope, Event, MessageDelivered, MessageFailed, MessageRead,
    PayloadError, TemplateStatusUpdate,
};
pub use secret::Secret;
pub use sign::sign;
pub use signature::SIGNATURE_HEADER;
pub use verify::{
    SignedForm, Verification, Verified, Verifier, VerifyError, DEFAULT_CLOCK_SKEW, DEFAULT_MAX_BODY,
};
