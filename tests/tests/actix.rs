//! The shared scenarios against the actix-web receiver (`examples/actix_receiver.rs`'s
//! server: `quickassist_examples::actix_server` behind `QuickAssistWebhooks`), over real
//! HTTP on loopback: the same assertions as the axum run, so the integrations cannot drift.

use std::{net::TcpListener, sync::Arc, time::Duration};

use quickassist_e2e::{scenario_tests, RecordingSink, Target, SECRET};
use quickassist_examples::{actix_server, actix_server_with_body_timeout};
use quickassist_webhooks::{idempotency::Deduplicator, Verifier};

fn listener() -> (TcpListener, std::net::SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("a bound address");
    (listener, addr)
}

async fn start_actix() -> Target {
    let sink = Arc::new(RecordingSink::default());
    let (listener, addr) = listener();
    let server = actix_server(
        listener,
        Verifier::new(SECRET),
        Deduplicator::memory(),
        sink.clone(),
    )
    .expect("the actix server starts");
    tokio::spawn(server);
    Target { addr, sink }
}

scenario_tests!(start_actix);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_body_is_cut_off() {
    let timeout = Duration::from_millis(300);
    let sink = Arc::new(RecordingSink::default());
    let (listener, addr) = listener();
    let server = actix_server_with_body_timeout(
        listener,
        Verifier::new(SECRET),
        Deduplicator::memory(),
        sink.clone(),
        timeout,
    )
    .expect("the actix server starts");
    tokio::spawn(server);
    quickassist_e2e::adversarial::trickling_body_is_cut_off(&Target { addr, sink }, timeout).await;
}
