//! Tower layers and an axum extractor that verify and de-duplicate TheQuickAssist webhooks.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
