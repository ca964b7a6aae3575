//! The shared scenarios against an axum router written as the tower crate's README shows
//! (`WebhookLayer` on the route, no router state), over real HTTP on loopback.

use std::{sync::Arc, time::Duration};

use quickassist_e2e::{
    scenario_tests,
    servers::{receiver, start_axum},
    RecordingSink, Target,
};

async fn start() -> Target {
    let receiver = receiver(quickassist_webhooks::receive::DEFAULT_BODY_TIMEOUT);
    start_axum(receiver, Arc::new(RecordingSink::default())).await
}

scenario_tests!(start);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_body_is_cut_off() {
    let timeout = Duration::from_millis(300);
    let target = start_axum(receiver(timeout), Arc::new(RecordingSink::default())).await;
    quickassist_e2e::adversarial::trickling_body_is_cut_off(&target, timeout).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_survives_a_client_that_hangs_up() {
    use quickassist_e2e::cancellation::{completion_survives_a_client_that_hangs_up, receiver};
    let store = Arc::new(quickassist_webhooks_test::SlowCompletion::new());
    let target = start_axum(receiver(&store), Arc::new(RecordingSink::default())).await;
    completion_survives_a_client_that_hangs_up(&target, &store).await;
}
