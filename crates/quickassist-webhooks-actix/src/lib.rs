#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod extract;
pub mod middleware;
mod read;
mod response;

pub use extract::{Webhook, WebhookError};
pub use middleware::{Deduplicate, QuickAssistWebhooks, VerifyWebhook};
