//! `WebhookLayer` in process, verification side: how the core's rejections translate to
//! HTTP (status, JSON reason, no body read past a declared oversize) and what the inner
//! service receives. The verification rules themselves (rotation, canonical forms, replay
//! windows, every header problem) are the core's tests.
// Helpers outside `#[test]` functions unwrap too: a panic there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::Ordering;

use bytes::Bytes;
use common::*;
use http::{header, Request, StatusCode};
use http_body_util::Full;
use quickassist_webhooks::receive::Receiver;
use quickassist_webhooks::{
    sign,
    testing::{provider_sample_time, sample, SignedRequest, PROVIDER_SAMPLE},
    Event, Secret, SignedForm, Verifier,
};
use quickassist_webhooks_tower::{VerifiedBody, WebhookLayer};
use tower::{Layer, ServiceExt};

fn verifier() -> Verifier {
    Verifier::new(SECRET)
}

/// Sends `request` through a verifying `WebhookLayer` in front of a recording 200 service.
async fn send<B>(
    verifier: Verifier,
    request: Request<B>,
) -> (StatusCode, http::HeaderMap, String, Recorder)
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let recorder = Recorder::default();
    let service = WebhookLayer::new(Receiver::verify_only(verifier))
        .layer(recorder.service::<VerifiedBody>(StatusCode::OK));
    let response = service.oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, body_text(response).await, recorder)
}

async fn assert_rejected<B>(request: Request<B>, status: StatusCode, body: &str)
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (got, headers, text, recorder) = send(verifier(), request).await;
    assert_eq!(got, status);
    assert_eq!(text, body);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert!(headers.get(header::RETRY_AFTER).is_none());
    assert_eq!(recorder.calls(), 0, "the inner service must not run");
}

fn full(body: impl Into<Bytes>) -> Full<Bytes> {
    Full::new(body.into())
}

#[tokio::test]
async fn valid_delivery_reaches_inner_with_verified_bytes_and_envelope() {
    let signed = signed("whk_valid");
    let (status, _, text, recorder) = send(verifier(), http_request(&signed)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, "handled");
    let seen = recorder.last();
    assert_eq!(seen.body, signed.body);
    let envelope = seen.envelope.expect("envelope in extensions");
    assert_eq!(envelope.webhook_id, "whk_valid");
    assert_eq!(envelope.event.name(), Event::MESSAGE_DELIVERED);
    let verification = seen.verification.expect("verification in extensions");
    assert_eq!(verification.form, SignedForm::Raw);
    assert_eq!(verification.key_index, 0);
}

#[tokio::test]
async fn provider_sample_with_its_documented_signature_is_accepted() {
    let signature = sign(&Secret::from(SECRET), PROVIDER_SAMPLE.as_bytes());
    // The sample is stamped 2024: a clock at that moment keeps it inside the replay window.
    let verifier = verifier().clock(provider_sample_time);
    let (status, _, _, recorder) =
        send(verifier, request(&[&signature], full(PROVIDER_SAMPLE))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(recorder.last().envelope.unwrap().webhook_id, "whk_abc123");
}

#[tokio::test]
async fn missing_signature_gets_401() {
    let signed = signed("whk_1");
    assert_rejected(
        request(&[], full(signed.body)),
        StatusCode::UNAUTHORIZED,
        r#"{"error":"missing_signature"}"#,
    )
    .await;
}

#[tokio::test]
async fn non_ascii_signature_header_gets_401_malformed() {
    let signed = signed("whk_1");
    let mut request = request(&[], full(signed.body));
    request.headers_mut().insert(
        quickassist_webhooks::SIGNATURE_HEADER,
        http::HeaderValue::from_bytes(&[0xff; 64]).unwrap(),
    );
    assert_rejected(
        request,
        StatusCode::UNAUTHORIZED,
        r#"{"error":"malformed_signature"}"#,
    )
    .await;
}

#[tokio::test]
async fn two_signature_headers_get_401_even_if_one_is_valid() {
    let signed = signed("whk_1");
    let other = "0".repeat(64);
    for pair in [[&signed.signature, &other], [&other, &signed.signature]] {
        assert_rejected(
            request(&[pair[0], pair[1]], full(signed.body.clone())),
            StatusCode::UNAUTHORIZED,
            r#"{"error":"malformed_signature"}"#,
        )
        .await;
    }
}

#[tokio::test]
async fn oversized_content_length_gets_413_without_reading_the_body() {
    let signed = signed("whk_1");
    let body = Untouched::default();
    let polled = std::sync::Arc::clone(&body.polled);
    let mut request = request(&[&signed.signature], body);
    request
        .headers_mut()
        .insert(header::CONTENT_LENGTH, (3u64 << 20).into());
    assert_rejected(
        request,
        StatusCode::PAYLOAD_TOO_LARGE,
        r#"{"error":"payload_too_large"}"#,
    )
    .await;
    assert!(!polled.load(Ordering::SeqCst), "the body was read");
}

#[tokio::test]
async fn oversized_chunked_body_gets_413_after_reading_at_most_the_limit() {
    let signed = signed("whk_1");
    let body = Endless::new(16 * 1024);
    let read = std::sync::Arc::clone(&body.read);
    let (status, _, text, recorder) = send(
        verifier().with_max_body(64 * 1024),
        request(&[&signed.signature], body),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(text, r#"{"error":"payload_too_large"}"#);
    assert_eq!(recorder.calls(), 0);
    assert!(read.load(Ordering::Relaxed) <= 64 * 1024 + 16 * 1024);
}

#[tokio::test]
async fn verified_body_that_is_not_an_envelope_gets_400() {
    for body in [
        &b"not json"[..],
        br#"{"hello":"world"}"#,
        br#"{"event":"message.read","data":{}}"#,
    ] {
        let signed = SignedRequest::raw(&Secret::from(SECRET), body);
        assert_rejected(
            request(&[&signed.signature], full(signed.body)),
            StatusCode::BAD_REQUEST,
            r#"{"error":"invalid_payload"}"#,
        )
        .await;
    }
}

#[tokio::test]
async fn pretty_body_signed_over_its_canonical_form_reaches_the_service_as_signed() {
    let signed = SignedRequest::pretty(
        &Secret::from(SECRET),
        &sample(Event::MESSAGE_FAILED, "whk_p"),
    );
    assert!(signed.body.contains(&b'\n'));
    let (status, _, _, recorder) = send(verifier(), http_request(&signed)).await;
    assert_eq!(status, StatusCode::OK);
    let seen = recorder.last();
    assert_eq!(
        seen.body,
        quickassist_webhooks::canonical::canonicalize(&signed.body).unwrap(),
        "the inner service gets the bytes that were signed"
    );
    assert_eq!(seen.verification.unwrap().form, SignedForm::Canonical);
    assert_eq!(seen.envelope.unwrap().webhook_id, "whk_p");
}

#[tokio::test]
async fn inner_status_and_body_pass_through() {
    let recorder = Recorder::default();
    let service = WebhookLayer::new(Receiver::verify_only(verifier()))
        .layer(recorder.service::<VerifiedBody>(StatusCode::ACCEPTED));
    let response = service
        .oneshot(http_request(&signed("whk_1")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(body_text(response).await, "handled");
}
