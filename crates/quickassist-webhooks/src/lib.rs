#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod canonical;
pub mod event;
pub mod idempotency;
pub mod rejection;
pub mod secret;
pub mod sign;
pub mod signature;
pub mod testing;
pub mod verify;
