//! The shared scenarios against the axum receiver (`examples/axum_receiver.rs`'s app:
//! `quickassist_examples::axum_app` behind `WebhookLayer`), over real HTTP on loopback.

use std::sync::Arc;

use quickassist_e2e::{scenario_tests, RecordingSink, Target, SECRET};
use quickassist_examples::{axum_app, serve_axum};
use quickassist_webhooks::{idempotency::Deduplicator, Verifier};

async fn start_axum() -> Target {
    let sink = Arc::new(RecordingSink::default());
    let app = axum_app(Verifier::new(SECRET), Deduplicator::memory(), sink.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("a bound address");
    tokio::spawn(serve_axum(listener, app, std::future::pending()));
    Target { addr, sink }
}

scenario_tests!(start_axum);
