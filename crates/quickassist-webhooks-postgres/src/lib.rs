#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod batch;
mod claim;
mod delivery;
mod error;
mod handler;
mod inbox;
mod intake;
mod observe;
mod ops;
mod plans;
mod retention;
mod store;
mod tracker;
mod url;
mod worker;

pub use batch::CommitMode;
pub use delivery::StoredDelivery;
pub use error::Error;
pub use handler::{handler_fn, Handler, HandlerError, HandlerFuture};
pub use inbox::{Inbox, CHANNEL, DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_MAX_CONNECTIONS};
pub use observe::{
    INBOX_ATTEMPTS_TOTAL, INBOX_HANDLER_DURATION_SECONDS, INBOX_LAG_SECONDS,
    INBOX_OLDEST_DUE_SECONDS, LAG_SAMPLE_INTERVAL,
};
pub use ops::{AccountLag, InboxStatus, Listed, Selection};
pub use plans::QueryPlan;
pub use retention::PURGE_BATCH_SIZE;
pub use store::{PostgresStore, DEFAULT_STORE_TIMEOUT};
pub use tracker::PostgresStatusTracker;
pub use url::redact_url;
pub use worker::{
    RunningWorker, Worker, DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_MAX, DEFAULT_BATCH_SIZE,
    DEFAULT_HANDLER_TIMEOUT, DEFAULT_MAX_ATTEMPTS, DEFAULT_POLL_INTERVAL,
};
