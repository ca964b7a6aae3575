//! The shared scenarios against a multi-worker actix-web server written as the actix
//! crate's README shows (`WebhookMiddleware` built once, cloned into the factory), over real HTTP on
//! loopback: the same assertions as the axum run, so the integrations cannot drift.

use std::{sync::Arc, time::Duration};

use quickassist_e2e::{
    scenario_tests,
    servers::{receiver, start_actix},
    RecordingSink, Target,
};

async fn start() -> Target {
    let receiver = receiver(quickassist_webhooks::receive::DEFAULT_BODY_TIMEOUT);
    start_actix(receiver, Arc::new(RecordingSink::default()))
}

scenario_tests!(start);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_body_is_cut_off() {
    let timeout = Duration::from_millis(300);
    let target = start_actix(receiver(timeout), Arc::new(RecordingSink::default()));
    quickassist_e2e::adversarial::trickling_body_is_cut_off(&target, timeout).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_survives_a_client_that_hangs_up() {
    use quickassist_e2e::cancellation::{completion_survives_a_client_that_hangs_up, receiver};
    let store = Arc::new(quickassist_webhooks_test::SlowCompletion::new());
    let target = start_actix(receiver(&store), Arc::new(RecordingSink::default()));
    completion_survives_a_client_that_hangs_up(&target, &store).await;
}
