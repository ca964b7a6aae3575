#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod scripts;
mod store;
mod tracker;

pub use builder::RedisStoreBuilder;
pub use store::{RedisStore, DEFAULT_KEY_PREFIX, DEFAULT_TIMEOUT};
pub use tracker::RedisStatusTracker;
