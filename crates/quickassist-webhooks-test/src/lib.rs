#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod eventually;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics;
pub mod postgres;
mod process;
pub mod redis;
pub mod store_suite;
mod stores;
pub mod tracker_suite;

pub use clock::ManualClock;
pub use eventually::{eventually, Condition};
pub use stores::{DownStore, SlowCompletion};
