//! A complete TheQuickAssist webhook receiver on axum.
//!
//! ```sh
//! QUICKASSIST_WEBHOOK_SECRET=whsec_... cargo run --release --example axum_receiver
//! ```
//!
//! Serves `POST /webhooks/thequickassist` on `HOST:PORT` (default `127.0.0.1:3000`):
//! forged requests get 401, duplicates are acknowledged without being processed again, and
//! every processed event is printed as one JSON line on stdout. Logs go to stderr
//! (`RUST_LOG=debug` for every rejection). Ctrl-C or SIGTERM stops it gracefully.

use std::{process::ExitCode, sync::Arc};

use quickassist_examples::{
    axum_app, init_tracing, serve_axum, shutdown_signal, PrintSink, ReceiverConfig,
};

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    let config = match ReceiverConfig::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let dedup = match config.deduplicator().await {
        Ok(dedup) => dedup,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let address = config.bind_address();
    let listener = match tokio::net::TcpListener::bind(&address).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on {address}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let app = axum_app(config.verifier(), dedup, Arc::new(PrintSink));
    match serve_axum(listener, app, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: server failed: {error}");
            ExitCode::FAILURE
        }
    }
}
