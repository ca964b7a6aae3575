//! Building blocks of the example receivers, shared by the axum and actix-web examples and by
//! the workspace's end-to-end tests:
//!
//! - [`ReceiverConfig`]: the secret, address and store, from the environment
//!   (`QUICKASSIST_WEBHOOK_SECRET`, `HOST`, `PORT`, `REDIS_URL`);
//! - [`EventSink`]: what "processing an event" means ([`PrintSink`]: one JSON line per event
//!   on stdout);
//! - [`axum_app`] and [`serve_axum`]: the axum receiver behind
//!   [`WebhookLayer`](quickassist_webhooks_tower::WebhookLayer);
//! - [`actix_server`]: the same receiver on actix-web, behind
//!   [`QuickAssistWebhooks`](quickassist_webhooks_actix::QuickAssistWebhooks);
//! - [`init_tracing`] and [`shutdown_signal`]: logs on stderr, Ctrl-C / SIGTERM.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[path = "src/actix_app.rs"]
mod actix_app;
#[path = "src/axum_app.rs"]
mod axum_app;
#[path = "src/config.rs"]
mod config;
#[path = "src/runtime.rs"]
mod runtime;
#[path = "src/sink.rs"]
mod sink;

pub use actix_app::{actix_server, actix_server_with_body_timeout};
pub use axum_app::{axum_app, axum_app_with_body_timeout, serve_axum, BODY_READ_TIMEOUT};
pub use config::{ConfigError, ReceiverConfig, DEFAULT_HOST, DEFAULT_PORT};
pub use runtime::{init_tracing, shutdown_signal};
pub use sink::{EventSink, PrintSink, SinkError};

/// The path the receivers serve, as the provider's setup guide suggests.
pub const WEBHOOK_PATH: &str = "/webhooks/thequickassist";
