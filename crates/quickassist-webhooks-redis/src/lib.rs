//! Redis idempotency store for quickassist-webhooks: exactly-once processing across replicas.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
