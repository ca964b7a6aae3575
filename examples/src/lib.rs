//! What the example receivers share that is not about webhooks: reading the environment
//! ([`ReceiverConfig`]), the stdout sink the end-to-end tests read ([`print_event`]),
//! logging and shutdown ([`init_tracing`], [`shutdown_signal`], [`exit_code`]) and HTTPS for
//! axum ([`TlsListener`]).
//!
//! Everything about webhooks (the receiver, the layer or middleware, the handler, serving)
//! is in the example files themselves: `axum_receiver.rs` and `actix_receiver.rs`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod config;
mod runtime;
mod sink;
mod tls;

pub use config::{ConfigError, ReceiverConfig, DEFAULT_HOST, DEFAULT_PORT};
pub use runtime::{exit_code, init_tracing, shutdown_signal};
#[cfg(feature = "metrics")]
pub use runtime::{install_prometheus, with_metrics_route};
pub use sink::{print_event, LineSink, SinkError, PRINT_TIMEOUT, SINK_CAPACITY};
pub use tls::{TlsListener, HANDSHAKE_TIMEOUT};

/// The path the receivers serve, as the provider's setup guide suggests.
pub const WEBHOOK_PATH: &str = "/webhooks/thequickassist";
