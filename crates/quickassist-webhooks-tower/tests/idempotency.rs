//! `WebhookLayer` in process, de-duplication side: how the core's admissions and
//! settlements translate to tower (the duplicate header and body, 409 with `Retry-After`,
//! 503, the inner service's errors and dropped futures). The de-duplication rules
//! themselves are the core's tests (`idempotency_dedup.rs`, `receive.rs`).
// Helpers outside `#[test]` functions unwrap too: a panic there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::{convert::Infallible, sync::Arc, time::Duration};

use bytes::Bytes;
use common::*;
use http::{header, Request, Response, StatusCode};
use http_body_util::Full;
use quickassist_webhooks::receive::Receiver;
use quickassist_webhooks::{
    idempotency::Deduplicator,
    rejection::{DUPLICATE_BODY, DUPLICATE_HEADER},
    Verifier,
};
use quickassist_webhooks_test::{eventually, DownStore};
use quickassist_webhooks_tower::{VerifiedBody, WebhookLayer};
use tokio::sync::{mpsc, Notify};
use tower::{Layer, ServiceExt};

/// The layer over `dedup`.
fn layer_with(dedup: Deduplicator) -> WebhookLayer {
    WebhookLayer::new(
        Receiver::builder(Verifier::new(SECRET))
            .deduplicator(dedup)
            .build()
            .unwrap(),
    )
}

/// The layer over a fresh in-memory store.
fn layer() -> WebhookLayer {
    layer_with(Deduplicator::memory())
}

/// An inner service that reports each call on `entered` and then waits for `open`.
fn gated(
    entered: mpsc::UnboundedSender<()>,
    open: Arc<Notify>,
) -> impl tower::Service<
    Request<VerifiedBody>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Send,
> + Clone
       + Send
       + 'static {
    tower::service_fn(move |_request: Request<VerifiedBody>| {
        let (entered, open) = (entered.clone(), Arc::clone(&open));
        async move {
            let _ = entered.send(());
            open.notified().await;
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"handled"))))
        }
    })
}

#[tokio::test]
async fn first_delivery_is_processed_and_its_duplicate_answered_without_inner() {
    let recorder = Recorder::default();
    let service = layer().layer(recorder.service::<VerifiedBody>(StatusCode::OK));
    let signed = signed("whk_dup");

    let first = service
        .clone()
        .oneshot(http_request(&signed))
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert!(first.headers().get(DUPLICATE_HEADER).is_none());
    assert_eq!(body_text(first).await, "handled");

    let again = service
        .clone()
        .oneshot(http_request(&signed))
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers()[DUPLICATE_HEADER], "true");
    assert_eq!(again.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(body_text(again).await, DUPLICATE_BODY);
    assert_eq!(recorder.calls(), 1);

    // Another delivery is independent.
    let other = service
        .oneshot(http_request(&common::signed("whk_other")))
        .await
        .unwrap();
    assert!(other.headers().get(DUPLICATE_HEADER).is_none());
    assert_eq!(recorder.calls(), 2);
}

#[tokio::test]
async fn inner_failure_releases_the_claim_so_the_retry_is_processed() {
    let failing = Recorder::default();
    let dedup = Deduplicator::memory();
    let signed = signed("whk_retry");

    let service = layer_with(dedup.clone())
        .layer(failing.service::<VerifiedBody>(StatusCode::INTERNAL_SERVER_ERROR));
    let response = service.oneshot(http_request(&signed)).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let healthy = Recorder::default();
    let service = layer_with(dedup).layer(healthy.service::<VerifiedBody>(StatusCode::OK));
    let retry = service
        .clone()
        .oneshot(http_request(&signed))
        .await
        .unwrap();
    assert_eq!(retry.status(), StatusCode::OK);
    assert!(retry.headers().get(DUPLICATE_HEADER).is_none());
    assert_eq!(healthy.calls(), 1, "the retry was processed");

    let again = service.oneshot(http_request(&signed)).await.unwrap();
    assert_eq!(again.headers()[DUPLICATE_HEADER], "true");
    assert_eq!(healthy.calls(), 1);
}

#[tokio::test]
async fn inner_error_releases_the_claim() {
    let dedup = Deduplicator::memory();
    let signed = signed("whk_err");
    let erring = tower::service_fn(|_request: Request<VerifiedBody>| async {
        Err::<Response<Full<Bytes>>, _>(std::io::Error::other("handler failed"))
    });
    let result = layer_with(dedup.clone())
        .layer(erring)
        .oneshot(http_request(&signed))
        .await;
    assert!(result.is_err(), "the inner error is returned as an error");

    let recorder = Recorder::default();
    let retry = layer_with(dedup)
        .layer(recorder.service::<VerifiedBody>(StatusCode::OK))
        .oneshot(http_request(&signed))
        .await
        .unwrap();
    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(recorder.calls(), 1);
}

#[tokio::test]
async fn dropped_response_future_releases_the_claim() {
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    let dedup = Deduplicator::memory();
    let signed = signed("whk_gone");
    // The gate never opens: the client goes away while the handler runs.
    let stuck = layer_with(dedup.clone()).layer(gated(entered_tx, Arc::new(Notify::new())));
    let task = tokio::spawn(stuck.oneshot(http_request(&signed)));
    entered.recv().await.unwrap();
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());

    // The release runs in a task spawned by the dropped guard: retry until it has run.
    let recorder = Recorder::default();
    let service = layer_with(dedup).layer(recorder.service::<VerifiedBody>(StatusCode::OK));
    eventually(
        "the claim to be released",
        Duration::from_secs(10),
        async || {
            let response = service
                .clone()
                .oneshot(http_request(&signed))
                .await
                .unwrap();
            if response.status() == StatusCode::OK {
                return true;
            }
            assert_eq!(response.status(), StatusCode::CONFLICT);
            false
        },
    )
    .await;
    assert_eq!(recorder.calls(), 1);
}

#[tokio::test]
async fn unreachable_store_gets_503_when_failing_closed() {
    let recorder = Recorder::default();
    let response = layer_with(Deduplicator::new(DownStore::default()))
        .layer(recorder.service::<VerifiedBody>(StatusCode::OK))
        .oneshot(http_request(&signed("whk_down")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().get(header::RETRY_AFTER).is_none());
    assert_eq!(
        body_text(response).await,
        r#"{"error":"store_unavailable"}"#
    );
    assert_eq!(recorder.calls(), 0);
}
