//! The axum `Webhook` extractor, directly on requests and through a `Router`.
// Helpers outside `#[test]` functions unwrap too: a panic there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use axum::{
    body::Body,
    extract::FromRequest,
    http::{header, Request, StatusCode},
    response::IntoResponse,
    routing::post,
    Extension, Router,
};
use common::*;
use quickassist_webhooks::receive::Receiver;
use quickassist_webhooks::{
    rejection::{Rejection, DUPLICATE_HEADER},
    sign,
    testing::{provider_sample_time, sample, SignedRequest, PROVIDER_SAMPLE},
    Envelope, Event, Secret, SignedForm, Verification, Verifier,
};
use quickassist_webhooks_tower::{VerifiedDelivery, Webhook, WebhookLayer, WebhookRejection};
use serde::Deserialize;
use tower::ServiceExt;

fn verifier() -> Verifier {
    Verifier::new(SECRET)
}

/// `request` with `verifier` in its extensions, as an `Extension` layer leaves it.
fn verifying(mut request: Request<Body>, verifier: Verifier) -> Request<Body> {
    request.extensions_mut().insert(verifier);
    request
}

fn axum_request(signed: &SignedRequest) -> Request<Body> {
    request(&[&signed.signature], Body::from(signed.body.clone()))
}

/// A user-defined event type, adjacently tagged like the provider's payloads.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(tag = "event", content = "data")]
enum Mine {
    #[serde(rename = "message.delivered")]
    Delivered {
        #[serde(rename = "messageId")]
        message_id: String,
    },
}

#[tokio::test]
async fn extracts_and_verifies_without_a_layer() {
    let Webhook(envelope) =
        Webhook::<Event>::from_request(verifying(axum_request(&signed("whk_x")), verifier()), &())
            .await
            .unwrap();
    assert_eq!(envelope.webhook_id, "whk_x");
    assert_eq!(envelope.event.name(), Event::MESSAGE_DELIVERED);
}

#[tokio::test]
async fn bad_signature_without_a_layer_is_rejected_with_401_json() {
    let signed = signed("whk_x");
    let forged = request(&[&"a".repeat(64)], Body::from(signed.body));
    let rejection = Webhook::<Event>::from_request(verifying(forged, verifier()), &())
        .await
        .unwrap_err();
    assert_eq!(rejection.0, Rejection::InvalidSignature);
    let response = rejection.into_response();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(
        body_text(response).await,
        r#"{"error":"invalid_signature"}"#
    );
}

#[tokio::test]
async fn missing_signature_and_oversized_bodies_are_rejected_without_a_layer() {
    let signed = signed("whk_x");
    let missing = Webhook::<Event>::from_request(
        verifying(request(&[], Body::from(signed.body.clone())), verifier()),
        &(),
    )
    .await
    .unwrap_err();
    assert_eq!(missing.0, Rejection::MissingSignature);

    let small = verifier().with_max_body(16);
    let too_large = Webhook::<Event>::from_request(verifying(axum_request(&signed), small), &())
        .await
        .unwrap_err();
    assert_eq!(
        too_large.into_response().status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test]
async fn authentic_non_envelope_is_rejected_with_400() {
    let signed = SignedRequest::raw(&Secret::from(SECRET), &br#"{"event":"message.read"}"#[..]);
    let rejection =
        Webhook::<Event>::from_request(verifying(axum_request(&signed), verifier()), &())
            .await
            .unwrap_err();
    assert_eq!(rejection.0, Rejection::InvalidPayload);
    assert_eq!(rejection.into_response().status(), StatusCode::BAD_REQUEST);
}

/// A request with a wrong signature that some other middleware dressed up as verified: the
/// envelope, a `Verification` and the verified body, all inserted by hand.
fn forged() -> Request<Body> {
    let signature = sign(&Secret::from("not the secret"), PROVIDER_SAMPLE.as_bytes());
    let mut request = request(&[&signature], Body::from(PROVIDER_SAMPLE));
    let extensions = request.extensions_mut();
    extensions.insert(sample(Event::MESSAGE_READ, "whk_forged"));
    extensions.insert(Verification {
        form: SignedForm::Raw,
        key_index: 0,
    });
    extensions.insert(quickassist_webhooks::testing::delivery(&sample(
        Event::MESSAGE_READ,
        "whk_forged",
    )));
    request
}

#[tokio::test]
async fn a_forged_envelope_and_verification_in_the_extensions_are_not_trusted() {
    // With a verifier, the extractor verifies by itself and refuses the wrong signature.
    let verifier = verifier().clock(provider_sample_time);
    let rejection = Webhook::<Event>::from_request(verifying(forged(), verifier.clone()), &())
        .await
        .unwrap_err();
    assert_eq!(rejection.0, Rejection::InvalidSignature);
    let rejection = Webhook::<Mine>::from_request(verifying(forged(), verifier), &())
        .await
        .unwrap_err();
    assert_eq!(rejection.0, Rejection::InvalidSignature);
    // Without one, nothing proves the request was verified: 500, never the forged envelope.
    let rejection = Webhook::<Event>::from_request(forged(), &())
        .await
        .unwrap_err();
    assert_eq!(rejection.0, Rejection::NotConfigured);
}

#[tokio::test]
async fn parses_a_custom_event_type_from_the_bytes_the_layer_verified() {
    let receiver = Receiver::verify_only(verifier().clock(provider_sample_time));
    let app = Router::new()
        .route(
            PATH,
            post(|Webhook(envelope): Webhook<Mine>| async move {
                let Mine::Delivered { message_id } = envelope.event;
                message_id
            }),
        )
        .layer(WebhookLayer::new(receiver));
    let signature = sign(&Secret::from(SECRET), PROVIDER_SAMPLE.as_bytes());
    let response = app
        .oneshot(request(&[&signature], Body::from(PROVIDER_SAMPLE)))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_text(response).await, "msg_123456789");
}

#[tokio::test]
async fn custom_event_type_verifies_by_itself_without_a_layer() {
    let signature = sign(&Secret::from(SECRET), PROVIDER_SAMPLE.as_bytes());
    let request = request(&[&signature], Body::from(PROVIDER_SAMPLE));
    // The sample is stamped 2024: a clock at that moment keeps it inside the replay window.
    let verifier = verifier().clock(provider_sample_time);
    let webhook = Webhook::<Mine>::from_request(verifying(request, verifier), &())
        .await
        .unwrap();
    assert_eq!(webhook.webhook_id, "whk_abc123");
}

#[tokio::test]
async fn without_layer_or_extension_the_extractor_answers_500_not_configured() {
    let rejection = Webhook::<Event>::from_request(axum_request(&signed("whk_x")), &())
        .await
        .unwrap_err();
    assert_eq!(rejection.0, Rejection::NotConfigured);
    let response = rejection.into_response();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body_text(response).await, r#"{"error":"not_configured"}"#);
}

#[test]
fn rejection_displays_the_core_reason() {
    let rejection = WebhookRejection::from(Rejection::PayloadTooLarge);
    assert_eq!(
        rejection.to_string(),
        Rejection::PayloadTooLarge.to_string()
    );
}

type Seen = Arc<Mutex<Vec<Envelope>>>;

async fn record(Extension(seen): Extension<Seen>, Webhook(envelope): Webhook) -> &'static str {
    seen.lock().unwrap().push(envelope);
    "ok"
}

/// As the README shows: behind the layer the router needs no state; without it, the
/// extractor verifies with the `Verifier` an `Extension` layer provides.
fn app(with_layer: bool, seen: &Seen) -> Router {
    let handler = post(record);
    let router = if with_layer {
        let receiver = Receiver::builder(verifier())
            .deduplicator(quickassist_webhooks::idempotency::Deduplicator::memory())
            .build()
            .unwrap();
        Router::new().route(PATH, handler.route_layer(WebhookLayer::new(receiver)))
    } else {
        Router::new()
            .route(PATH, handler)
            .layer(Extension(verifier()))
    };
    router.layer(Extension(Arc::clone(seen)))
}

#[tokio::test]
async fn router_with_webhook_layer_hands_the_handler_the_envelope_once() {
    let seen = Seen::default();
    let app = app(true, &seen);
    let signed = signed("whk_router");
    let first = app.clone().oneshot(axum_request(&signed)).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let again = app.clone().oneshot(axum_request(&signed)).await.unwrap();
    assert_eq!(again.headers()[DUPLICATE_HEADER], "true");
    let forged = app
        .clone()
        .oneshot(request(&["nope"], Body::from(signed.body.clone())))
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        body_text(forged).await,
        r#"{"error":"malformed_signature"}"#
    );
    let envelopes = seen.lock().unwrap();
    assert_eq!(envelopes.len(), 1);
    assert_eq!(envelopes[0].webhook_id, "whk_router");
}

#[tokio::test]
async fn router_without_layer_verifies_in_the_extractor() {
    let seen = Seen::default();
    let app = app(false, &seen);
    let ok = app
        .clone()
        .oneshot(axum_request(&signed("whk_plain")))
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let tampered = signed("whk_plain");
    let body = String::from_utf8(tampered.body)
        .unwrap()
        .replace("android", "ios");
    let forged = app
        .clone()
        .oneshot(request(&[&tampered.signature], Body::from(body)))
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_text(forged).await, r#"{"error":"invalid_signature"}"#);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn webhook_layer_guards_only_the_webhook_route_and_method() {
    let app = app(true, &Seen::default()).route("/health", axum::routing::get(|| async { "up" }));
    let health = app
        .clone()
        .oneshot(Request::get("/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let get = app
        .oneshot(Request::get(PATH).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn extension_verified_delivery_works_behind_a_verifying_layer_without_state() {
    let app: Router = Router::new()
        .route(
            PATH,
            post(
                |Extension(verified): Extension<VerifiedDelivery>| async move {
                    verified.envelope.webhook_id.clone()
                },
            ),
        )
        .layer(WebhookLayer::new(Receiver::verify_only(verifier())));
    let response = app.oneshot(axum_request(&signed("whk_ext"))).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_text(response).await, "whk_ext");
}
