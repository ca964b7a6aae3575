//! actix-web middleware and extractor that verify and de-duplicate TheQuickAssist webhooks.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
