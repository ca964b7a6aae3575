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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_body_is_cut_off() {
    let timeout = std::time::Duration::from_millis(300);
    let sink = Arc::new(RecordingSink::default());
    let app = quickassist_examples::axum_app_with_body_timeout(
        Verifier::new(SECRET),
        Deduplicator::memory(),
        sink.clone(),
        timeout,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("a bound address");
    tokio::spawn(serve_axum(listener, app, std::future::pending()));
    quickassist_e2e::adversarial::trickling_body_is_cut_off(&Target { addr, sink }, timeout).await;
}
