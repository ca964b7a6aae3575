//! Recorded AWS Lambda invocations (a Function URL, an API Gateway HTTP API with payload v2,
//! a REST API with v1; bodies plain and base64-encoded) read by `lambda_http`'s own request
//! types, through the layer in front of a handler, as `examples/lambda_receiver.rs` serves
//! them: each is verified or refused exactly as over plain HTTP.
// Helpers outside `#[test]` functions unwrap too: a panic there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use axum::{
    body::Body,
    http::{Response, StatusCode},
    routing::{post, MethodRouter},
    Extension,
};
use base64::Engine;
use common::*;
use quickassist_webhooks::{
    rejection::DUPLICATE_HEADER,
    testing::{sample, SignedRequest},
    Event, Secret,
};
use quickassist_webhooks_tower::{
    lambda::lambda_http, Receiver, VerifiedDelivery, Verifier, WebhookLayer,
};
use serde_json::{json, Value};
use tower::ServiceExt;

/// The three event sources, as recorded: each file is an invocation without its body.
const SOURCES: [(&str, &str); 3] = [
    ("Function URL", include_str!("lambda/function_url.json")),
    ("HTTP API (v2)", include_str!("lambda/http_api_v2.json")),
    ("REST API (v1)", include_str!("lambda/rest_v1.json")),
];

/// The signed bodies the handler was given, in order.
type Seen = Arc<Mutex<Vec<Vec<u8>>>>;

/// A function as the example serves it: the layer in front of a handler, on any path.
fn function(seen: &Seen) -> MethodRouter {
    let receiver = Receiver::builder(Verifier::new(SECRET))
        .deduplicator(quickassist_webhooks::idempotency::Deduplicator::memory())
        .build()
        .unwrap();
    let seen = Arc::clone(seen);
    post(
        move |Extension(delivery): Extension<VerifiedDelivery>| async move {
            seen.lock().unwrap().push(delivery.body.to_vec());
            StatusCode::OK
        },
    )
    .route_layer(WebhookLayer::new(receiver))
}

/// How the gateway hands the body to the function.
#[derive(Clone, Copy, Debug)]
enum Encoding {
    Plain,
    Base64,
}

/// The recorded invocation `template` carrying `body` and `signature`.
fn invocation(template: &str, body: &[u8], signature: &str, encoding: Encoding) -> String {
    let mut event: Value = serde_json::from_str(template).unwrap();
    let (text, encoded) = match encoding {
        Encoding::Plain => (String::from_utf8(body.to_vec()).unwrap(), false),
        Encoding::Base64 => (base64::engine::general_purpose::STANDARD.encode(body), true),
    };
    event["body"] = json!(text);
    event["isBase64Encoded"] = json!(encoded);
    event["headers"]["x-webhook-signature"] = json!(signature);
    if event.get("multiValueHeaders").is_some() {
        event["multiValueHeaders"]["x-webhook-signature"] = json!([signature]);
    }
    event.to_string()
}

/// Runs `event` through `function` as the runtime would; the answer as `lambda_http` sends
/// it back to the gateway.
async fn invoke(function: &MethodRouter, event: &str) -> Response<lambda_http::Body> {
    let request = lambda_http::request::from_str(event).unwrap();
    let response: Response<Body> = function.clone().oneshot(request).await.unwrap();
    lambda_http::IntoResponse::into_response(response).await
}

fn text(response: &Response<lambda_http::Body>) -> &str {
    match response.body() {
        lambda_http::Body::Text(text) => text,
        lambda_http::Body::Empty => "",
        other => panic!("a binary answer: {other:?}"),
    }
}

/// A delivery whose signature is not the secret's.
fn forged(webhook_id: &str) -> SignedRequest {
    let mut request = signed(webhook_id);
    request.signature = "0".repeat(64);
    request
}

#[tokio::test]
async fn each_source_and_encoding_reaches_the_handler_with_the_bytes_sent() {
    for (source, template) in SOURCES {
        for encoding in [Encoding::Plain, Encoding::Base64] {
            let seen = Seen::default();
            let function = function(&seen);
            let signed = signed(&format!("whk_{source}_{encoding:?}"));
            let event = invocation(template, &signed.body, &signed.signature, encoding);
            let response = invoke(&function, &event).await;
            assert_eq!(response.status(), StatusCode::OK, "{source} {encoding:?}");
            assert_eq!(
                *seen.lock().unwrap(),
                [signed.body],
                "{source} {encoding:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_body_reserialised_with_other_spacing_verifies_through_its_json_stringify_form() {
    let secret = Secret::from(SECRET);
    for (source, template) in SOURCES {
        let seen = Seen::default();
        let function = function(&seen);
        let envelope = sample(Event::MESSAGE_READ, &format!("whk_pretty_{source}"));
        let pretty = SignedRequest::pretty(&secret, &envelope);
        let compact = SignedRequest::new(&secret, &envelope);
        assert_ne!(pretty.body, compact.body);
        let event = invocation(template, &pretty.body, &pretty.signature, Encoding::Plain);
        let response = invoke(&function, &event).await;
        assert_eq!(response.status(), StatusCode::OK, "{source}");
        // What the signature covers reaches the handler: the JSON.stringify form.
        assert_eq!(*seen.lock().unwrap(), [compact.body], "{source}");
    }
}

#[tokio::test]
async fn refusals_have_the_statuses_and_reasons_of_plain_http() {
    let secret = Secret::from(SECRET);
    let oversized = format!(r#"{{"event":"{}"}}"#, "x".repeat(70 * 1024));
    let cases: [(&str, SignedRequest, StatusCode, &str); 3] = [
        (
            "forged",
            forged("whk_forged"),
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
        ),
        (
            "over the 64 KiB limit",
            SignedRequest::raw(&secret, oversized),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "authentic, not an envelope",
            SignedRequest::raw(&secret, r#"{"event":"message.read"}"#),
            StatusCode::BAD_REQUEST,
            "invalid_payload",
        ),
    ];
    for (source, template) in SOURCES {
        for encoding in [Encoding::Plain, Encoding::Base64] {
            for (case, request, status, reason) in &cases {
                let seen = Seen::default();
                let function = function(&seen);
                let event = invocation(template, &request.body, &request.signature, encoding);
                let response = invoke(&function, &event).await;
                let what = format!("{case}, {source} {encoding:?}");
                assert_eq!(response.status(), *status, "{what}");
                assert!(
                    text(&response).contains(reason),
                    "{what}: {}",
                    text(&response)
                );
                assert!(seen.lock().unwrap().is_empty(), "{what}");
            }
        }
    }
}

#[tokio::test]
async fn a_retry_through_another_source_is_answered_as_a_duplicate() {
    let seen = Seen::default();
    let function = function(&seen);
    let delivery = signed("whk_retried");
    let mut answers = Vec::new();
    for (source, template) in SOURCES {
        let event = invocation(
            template,
            &delivery.body,
            &delivery.signature,
            Encoding::Base64,
        );
        let response = invoke(&function, &event).await;
        assert_eq!(response.status(), StatusCode::OK, "{source}");
        answers.push(response.headers().get(DUPLICATE_HEADER).cloned());
    }
    assert_eq!(answers[0], None);
    assert_eq!(answers[1].as_ref().unwrap(), "true");
    assert_eq!(answers[2].as_ref().unwrap(), "true");
    assert_eq!(seen.lock().unwrap().len(), 1);
}
