//! A complete TheQuickAssist webhook receiver on actix-web: the same contract as
//! `axum_receiver`.
//!
//! ```sh
//! QUICKASSIST_WEBHOOK_SECRET=whsec_... cargo run --release --example actix_receiver
//! ```
//!
//! Serves `POST /webhooks/thequickassist` on `HOST:PORT` (default `127.0.0.1:3000`):
//! forged requests get 401, duplicates are acknowledged without being processed again, and
//! every processed event is printed as one JSON line on stdout. Logs go to stderr
//! (`RUST_LOG=debug` for every rejection). Ctrl-C or SIGTERM stops it gracefully.
//! `REDIS_URL` shares de-duplication between replicas.

use std::{process::ExitCode, sync::Arc};

use quickassist_examples::{actix_server, init_tracing, PrintSink, ReceiverConfig, WEBHOOK_PATH};

fn main() -> ExitCode {
    init_tracing();
    let config = match ReceiverConfig::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    actix_web::rt::System::new().block_on(async move {
        let dedup = match config.deduplicator().await {
            Ok(dedup) => dedup,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        };
        let address = config.bind_address();
        let listener = match std::net::TcpListener::bind(&address) {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("error: cannot listen on {address}: {error}");
                return ExitCode::FAILURE;
            }
        };
        let local = listener
            .local_addr()
            .map_or_else(|_| address.clone(), |addr| addr.to_string());
        let server = match actix_server(listener, config.verifier(), dedup, Arc::new(PrintSink)) {
            Ok(server) => server,
            Err(error) => {
                eprintln!("error: cannot serve on {address}: {error}");
                return ExitCode::FAILURE;
            }
        };
        eprintln!("listening on http://{local}{WEBHOOK_PATH}");
        match server.await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: server failed: {error}");
                ExitCode::FAILURE
            }
        }
    })
}
