#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod scripts;
mod store;
#[cfg(feature = "test-server")]
pub mod test_server;

pub use store::{RedisStore, RedisStoreBuilder, DEFAULT_KEY_PREFIX, DEFAULT_TIMEOUT};
