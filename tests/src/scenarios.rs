//! What the provider sees from a receiver, one scenario per function. Each takes a fresh
//! [`Target`] and panics (fails the test) on any difference from the contract.

use quickassist_webhooks::{
    testing::{sample, SignedRequest},
    Event, Secret, SIGNATURE_HEADER,
};
use reqwest::{Client, Response, StatusCode};

use crate::{
    raw::{post_oversized, Framing},
    Target, PATH, SECRET,
};

fn signed(event: &str, webhook_id: &str) -> SignedRequest {
    SignedRequest::new(&Secret::from(SECRET), &sample(event, webhook_id))
}

async fn post(client: &Client, target: &Target, body: &[u8], signature: Option<&str>) -> Response {
    let mut request = client
        .post(target.url())
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header(SIGNATURE_HEADER, signature);
    }
    request.send().await.expect("the receiver answers")
}

async fn deliver(client: &Client, target: &Target, request: &SignedRequest) -> Response {
    post(client, target, &request.body, Some(&request.signature)).await
}

async fn error_code(response: Response) -> String {
    let body: serde_json::Value = response.json().await.expect("a JSON rejection body");
    body["error"].as_str().unwrap_or_default().to_owned()
}

/// A valid event gets 200 and reaches the handler once.
pub async fn valid_event_is_processed_once(target: &Target) {
    let client = Client::new();
    let delivery = signed(Event::MESSAGE_DELIVERED, "whk_valid");
    let response = deliver(&client, target, &delivery).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(target.sink.count("whk_valid"), 1);
    let processed = target.sink.processed();
    assert!(matches!(processed[0].event, Event::MessageDelivered(_)));
}

/// The same delivery again gets 200, marked duplicate, and is not processed again.
pub async fn same_delivery_again_is_200_and_not_reprocessed(target: &Target) {
    let client = Client::new();
    let delivery = signed(Event::MESSAGE_READ, "whk_twice");
    assert_eq!(
        deliver(&client, target, &delivery).await.status(),
        StatusCode::OK
    );
    let again = deliver(&client, target, &delivery).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers()["x-webhook-duplicate"], "true");
    assert_eq!(target.sink.count("whk_twice"), 1);
}

/// 64 concurrent copies of one new delivery: processed exactly once; every copy gets 200
/// (first or duplicate) or 409 (in flight, retry later).
pub async fn concurrent_copies_are_processed_exactly_once(target: &Target) {
    let client = Client::new();
    let delivery = signed(Event::MESSAGE_DELIVERED, "whk_storm");
    let copies = (0..64).map(|_| {
        let (client, target, delivery) = (client.clone(), target.clone(), delivery.clone());
        tokio::spawn(async move { deliver(&client, &target, &delivery).await.status() })
    });
    let statuses = futures_util::future::join_all(copies).await;
    for status in statuses {
        let status = status.expect("the copy's task completed");
        assert!(
            status == StatusCode::OK || status == StatusCode::CONFLICT,
            "unexpected {status}"
        );
    }
    assert_eq!(target.sink.count("whk_storm"), 1);
}

/// A handler failure answers 500 and releases the delivery: the provider's retry is
/// processed, and the one after that is a duplicate.
pub async fn failed_handler_lets_the_retry_through(target: &Target) {
    let client = Client::new();
    let delivery = signed(Event::MESSAGE_FAILED, "whk_retry");
    target.sink.fail_next(1);
    let first = deliver(&client, target, &delivery).await;
    assert_eq!(first.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(target.sink.count("whk_retry"), 0);
    assert_eq!(
        deliver(&client, target, &delivery).await.status(),
        StatusCode::OK
    );
    assert_eq!(target.sink.count("whk_retry"), 1);
    let third = deliver(&client, target, &delivery).await;
    assert_eq!(third.headers()["x-webhook-duplicate"], "true");
    assert_eq!(target.sink.count("whk_retry"), 1);
}

/// Wrong, missing, non-hex, other-secret signatures and a tampered body: 401 with a reason,
/// never reaching the handler.
pub async fn bad_signatures_get_401(target: &Target) {
    let client = Client::new();
    let delivery = signed(Event::MESSAGE_DELIVERED, "whk_forged");
    let other = SignedRequest::new(
        &Secret::from("not-the-secret"),
        &sample(Event::MESSAGE_READ, "x"),
    );
    let mut tampered = delivery.body.clone();
    let digit = tampered
        .iter()
        .position(u8::is_ascii_digit)
        .expect("the sample has a digit");
    tampered[digit] = if tampered[digit] == b'9' {
        b'8'
    } else {
        tampered[digit] + 1
    };
    let wrong = format!(
        "{}{}",
        &delivery.signature[..63],
        if delivery.signature.ends_with('0') {
            '1'
        } else {
            '0'
        }
    );
    let cases: [(&[u8], Option<&str>, &str); 6] = [
        (&delivery.body, Some(&wrong), "invalid_signature"),
        (&delivery.body, None, "missing_signature"),
        (&delivery.body, Some(&"x".repeat(64)), "malformed_signature"),
        (&delivery.body, Some("abc123"), "malformed_signature"),
        (&delivery.body, Some(&other.signature), "invalid_signature"),
        (&tampered, Some(&delivery.signature), "invalid_signature"),
    ];
    for (body, signature, code) in cases {
        let response = post(&client, target, body, signature).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{code}");
        assert_eq!(error_code(response).await, code);
    }
    assert!(target.sink.processed().is_empty());
}

/// A pretty-printed body carrying the signature of `JSON.stringify(JSON.parse(body))`, as the
/// provider's documented receiver computes it, is accepted.
pub async fn pretty_body_with_the_documented_signature_is_accepted(target: &Target) {
    let client = Client::new();
    let pretty = SignedRequest::pretty(
        &Secret::from(SECRET),
        &sample(Event::TEMPLATE_STATUS_UPDATE, "whk_pretty"),
    );
    assert!(pretty.body.contains(&b'\n'));
    assert_eq!(
        deliver(&client, target, &pretty).await.status(),
        StatusCode::OK
    );
    assert_eq!(target.sink.count("whk_pretty"), 1);
}

/// Invalid JSON, an envelope without `event`, or one with an empty `webhookId` (every such
/// delivery would share one de-duplication key), behind a valid signature: 400.
pub async fn invalid_payload_behind_a_valid_signature_gets_400(target: &Target) {
    let client = Client::new();
    // Stamped now: inside the replay window, so the answer is about the payload.
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let bodies = [
        "{not json".to_owned(),
        format!(r#"{{"timestamp":"{now}","data":{{}},"webhookId":"whk_no_event"}}"#),
        format!(
            r#"{{"event":"message.read","timestamp":"{now}","data":{{"messageId":5}},"webhookId":"w"}}"#
        ),
        format!(
            r#"{{"event":"message.read","timestamp":"{now}","data":{{"messageId":"m"}},"webhookId":""}}"#
        ),
    ];
    for body in bodies {
        let body = body.as_bytes();
        let request = SignedRequest::raw(&Secret::from(SECRET), body);
        let response = deliver(&client, target, &request).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(error_code(response).await, "invalid_payload");
    }
    assert!(target.sink.processed().is_empty());
}

async fn still_serving(target: &Target, webhook_id: &str) {
    let client = Client::new();
    let delivery = signed(Event::MESSAGE_READ, webhook_id);
    assert_eq!(
        deliver(&client, target, &delivery).await.status(),
        StatusCode::OK
    );
    assert_eq!(target.sink.count(webhook_id), 1);
}

/// A 3 MiB body announced by `Content-Length`: 413, and the server keeps serving.
pub async fn oversized_body_with_content_length_gets_413_and_server_keeps_serving(target: &Target) {
    let status = post_oversized(target.addr, PATH, 3 << 20, Framing::ContentLength).await;
    assert_eq!(status, 413);
    still_serving(target, "whk_after_413").await;
}

/// A 3 MiB chunked body (no `Content-Length`): 413 while streaming, and the server keeps
/// serving.
pub async fn oversized_chunked_body_gets_413_and_server_keeps_serving(target: &Target) {
    let status = post_oversized(target.addr, PATH, 3 << 20, Framing::Chunked).await;
    assert_eq!(status, 413);
    still_serving(target, "whk_after_chunked_413").await;
}

/// An event type the SDK does not know: 200, delivered as `Event::Unknown`.
pub async fn unknown_event_type_is_delivered_as_unknown(target: &Target) {
    let client = Client::new();
    let delivery = signed("contact.opted_out", "whk_unknown");
    assert_eq!(
        deliver(&client, target, &delivery).await.status(),
        StatusCode::OK
    );
    let processed = target.sink.processed();
    assert_eq!(processed.len(), 1);
    assert!(
        matches!(&processed[0].event, Event::Unknown { event, .. } if event == "contact.opted_out")
    );
}
