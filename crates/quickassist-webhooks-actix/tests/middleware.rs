//! Every answer of the middleware and the extractor, in process with `actix_web::test`.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use actix_web::{
    body::MessageBody,
    dev::{Service, ServiceResponse},
    http::StatusCode,
    test, web, App, FromRequest, HttpResponse, ResponseError,
};
use quickassist_webhooks::{
    idempotency::{Deduplicator, FailureMode},
    testing::{sample, SignedRequest},
    Envelope, Event, Secret, Verifier, SIGNATURE_HEADER,
};
use quickassist_webhooks::{receive::Receiver, rejection::Rejection};
use quickassist_webhooks_actix::{VerifiedDelivery, Webhook, WebhookMiddleware};
use quickassist_webhooks_test::DownStore;

const SECRET: &str = "whsec_actix_tests";
const PATH: &str = "/webhooks/thequickassist";

fn signed(id: &str) -> SignedRequest {
    SignedRequest::new(&Secret::from(SECRET), &sample(Event::MESSAGE_DELIVERED, id))
}

/// The middleware verifying with `verifier` over `dedup`.
fn webhooks_with(verifier: Verifier, dedup: Deduplicator) -> WebhookMiddleware {
    WebhookMiddleware::new(
        Receiver::builder(verifier)
            .deduplicator(dedup)
            .build()
            .expect("a valid configuration"),
    )
}

/// The middleware verifying with `verifier` over a fresh in-memory store.
fn webhooks(verifier: Verifier) -> WebhookMiddleware {
    webhooks_with(verifier, Deduplicator::memory())
}

fn delivery(signed: &SignedRequest) -> test::TestRequest {
    test::TestRequest::post()
        .uri(PATH)
        .insert_header((SIGNATURE_HEADER, signed.signature.as_str()))
        .set_payload(signed.body.clone())
}

/// An app answering `status` from a counting handler, behind the combined middleware.
macro_rules! app {
    ($middleware:expr, $calls:expr, $status:expr) => {{
        let calls = Arc::clone(&$calls);
        test::init_service(
            App::new().service(web::resource(PATH).wrap($middleware).route(web::post().to(
                move |Webhook(envelope): Webhook| {
                    let calls = Arc::clone(&calls);
                    async move {
                        assert!(!envelope.webhook_id.is_empty());
                        calls.fetch_add(1, Ordering::SeqCst);
                        HttpResponse::build($status).finish()
                    }
                },
            ))),
        )
        .await
    }};
}

async fn body_of<B: MessageBody>(response: ServiceResponse<B>) -> String
where
    B::Error: std::fmt::Debug,
{
    String::from_utf8(test::read_body(response).await.to_vec()).expect("a UTF-8 body")
}

#[actix_web::test]
async fn first_delivery_is_processed_and_the_duplicate_is_not() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = app!(webhooks(Verifier::new(SECRET)), calls, StatusCode::OK);
    let signed = signed("whk_first");
    let first = test::call_service(&app, delivery(&signed).to_request()).await;
    assert_eq!(first.status(), StatusCode::OK);
    let again = test::call_service(&app, delivery(&signed).to_request()).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers().get("x-webhook-duplicate").unwrap(), "true");
    assert_eq!(body_of(again).await, r#"{"status":"duplicate"}"#);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[actix_web::test]
async fn signature_problems_get_401_with_the_same_bodies_as_tower() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = app!(webhooks(Verifier::new(SECRET)), calls, StatusCode::OK);
    let good = signed("whk_401");
    let other = SignedRequest::new(&Secret::from("other"), &sample(Event::MESSAGE_READ, "x"));
    let mut tampered = good.body.clone();
    let last = tampered.len() - 3;
    tampered[last] ^= 1;
    let cases = [
        (
            test::TestRequest::post()
                .uri(PATH)
                .set_payload(good.body.clone()),
            "missing_signature",
        ),
        (
            delivery(&good).insert_header((SIGNATURE_HEADER, "zz")),
            "malformed_signature",
        ),
        (
            test::TestRequest::post()
                .uri(PATH)
                .append_header((SIGNATURE_HEADER, good.signature.as_str()))
                .append_header((SIGNATURE_HEADER, good.signature.as_str()))
                .set_payload(good.body.clone()),
            "malformed_signature",
        ),
        (
            delivery(&good).insert_header((SIGNATURE_HEADER, other.signature.as_str())),
            "invalid_signature",
        ),
        (delivery(&good).set_payload(tampered), "invalid_signature"),
    ];
    for (request, code) in cases {
        let response = test::call_service(&app, request.to_request()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{code}");
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "application/json"
        );
        let body = body_of(response).await;
        assert_eq!(body, format!(r#"{{"error":"{code}"}}"#));
        assert!(!body.contains(&good.signature));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[actix_web::test]
async fn oversized_and_invalid_bodies_get_413_and_400() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = app!(
        webhooks(Verifier::new(SECRET).with_max_body(1024)),
        calls,
        StatusCode::OK
    );
    let big = SignedRequest::raw(&Secret::from(SECRET), vec![b' '; 4096]);
    let response = test::call_service(&app, delivery(&big).to_request()).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body_of(response).await, r#"{"error":"payload_too_large"}"#);
    let invalid = SignedRequest::raw(&Secret::from(SECRET), &b"{\"no\":\"event\"}"[..]);
    let response = test::call_service(&app, delivery(&invalid).to_request()).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_of(response).await, r#"{"error":"invalid_payload"}"#);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[actix_web::test]
async fn failed_handler_releases_so_the_retry_is_processed() {
    let calls = Arc::new(AtomicUsize::new(0));
    let dedup = Deduplicator::memory();
    let failing = app!(
        webhooks_with(Verifier::new(SECRET), dedup.clone()),
        calls,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let healthy = app!(
        webhooks_with(Verifier::new(SECRET), dedup),
        calls,
        StatusCode::OK
    );
    let signed = signed("whk_retry");
    let first = test::call_service(&failing, delivery(&signed).to_request()).await;
    assert_eq!(first.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let retry = test::call_service(&healthy, delivery(&signed).to_request()).await;
    assert_eq!(retry.status(), StatusCode::OK);
    assert!(retry.headers().get("x-webhook-duplicate").is_none());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[actix_web::test]
async fn duplicate_in_flight_gets_409_with_retry_after() {
    let dedup = Deduplicator::memory().with_lease(Duration::from_secs(42));
    let signed = signed("whk_inflight");
    let envelope: Envelope = serde_json::from_slice(&signed.body).unwrap();
    // Another replica holds the claim right now.
    let quickassist_webhooks::idempotency::Admission::Process(_guard) =
        dedup.admit(&envelope).await.unwrap()
    else {
        panic!("new")
    };
    let calls = Arc::new(AtomicUsize::new(0));
    let app = app!(
        webhooks_with(Verifier::new(SECRET), dedup.clone()),
        calls,
        StatusCode::OK
    );
    let response = test::call_service(&app, delivery(&signed).to_request()).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(response.headers().get("retry-after").unwrap(), "42");
    assert_eq!(
        body_of(response).await,
        r#"{"error":"duplicate_in_flight"}"#
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[actix_web::test]
async fn store_down_gets_503_when_closed_and_passes_when_open() {
    let calls = Arc::new(AtomicUsize::new(0));
    let closed = app!(
        webhooks_with(
            Verifier::new(SECRET),
            Deduplicator::new(DownStore::default())
        ),
        calls,
        StatusCode::OK
    );
    let response = test::call_service(&closed, delivery(&signed("whk_down")).to_request()).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body_of(response).await, r#"{"error":"store_unavailable"}"#);
    let open = app!(
        webhooks_with(
            Verifier::new(SECRET),
            Deduplicator::new(DownStore::default()).with_failure_mode(FailureMode::Open)
        ),
        calls,
        StatusCode::OK
    );
    let response = test::call_service(&open, delivery(&signed("whk_down")).to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[actix_web::test]
async fn handler_gets_the_verified_bytes_the_envelope_and_the_verification() {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let signed = signed("whk_separate");
    let expected = signed.body.clone();
    let app = test::init_service(
        App::new().service(
            web::resource(PATH)
                .wrap(webhooks(Verifier::new("old").with_secret(SECRET)))
                .route(web::post().to(
                    move |verified: web::ReqData<VerifiedDelivery>, body: web::Bytes| {
                        let counter = Arc::clone(&counter);
                        let expected = expected.clone();
                        async move {
                            assert_eq!(verified.envelope.webhook_id, "whk_separate");
                            assert_eq!(verified.verification.key_index, 1);
                            assert_eq!(verified.body, expected);
                            assert_eq!(body, expected);
                            counter.fetch_add(1, Ordering::SeqCst);
                            HttpResponse::NoContent().finish()
                        }
                    },
                )),
        ),
    )
    .await;
    let first = app.call(delivery(&signed).to_request()).await.unwrap();
    assert_eq!(first.status(), StatusCode::NO_CONTENT);
    let again = app.call(delivery(&signed).to_request()).await.unwrap();
    assert_eq!(again.headers().get("x-webhook-duplicate").unwrap(), "true");
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[actix_web::test]
async fn extractor_verifies_by_itself_with_a_verifier_in_app_data() {
    let signed = signed("whk_direct");
    let (request, mut payload) = delivery(&signed)
        .app_data(web::Data::new(Verifier::new(SECRET)))
        .to_http_parts();
    let Webhook(envelope) = Webhook::<Event>::from_request(&request, &mut payload)
        .await
        .unwrap();
    assert_eq!(envelope.webhook_id, "whk_direct");

    let (request, mut payload) = delivery(&signed)
        .insert_header((SIGNATURE_HEADER, "0".repeat(64)))
        .app_data(web::Data::new(Verifier::new(SECRET)))
        .to_http_parts();
    let error = Webhook::<Event>::from_request(&request, &mut payload)
        .await
        .unwrap_err();
    assert_eq!(error.status_code(), StatusCode::UNAUTHORIZED);

    let (request, mut payload) = delivery(&signed).to_http_parts();
    let error = Webhook::<Event>::from_request(&request, &mut payload)
        .await
        .unwrap_err();
    assert_eq!(error.0, Rejection::NotConfigured);
    assert_eq!(error.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[actix_web::test]
async fn extractor_through_an_app_without_middleware() {
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(Verifier::new(SECRET)))
            .route(
                PATH,
                web::post().to(|Webhook(envelope): Webhook| async move {
                    HttpResponse::Ok().body(envelope.webhook_id)
                }),
            ),
    )
    .await;
    let response = test::call_service(&app, delivery(&signed("whk_app")).to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_of(response).await, "whk_app");
    let forged = test::TestRequest::post()
        .uri(PATH)
        .set_payload("{}")
        .to_request();
    assert_eq!(
        test::call_service(&app, forged).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn a_forged_envelope_and_verification_in_the_extensions_are_not_trusted() {
    use actix_web::{dev::Service as _, HttpMessage as _};
    use quickassist_webhooks::{SignedForm, Verification};

    // Some other middleware dresses a request with a wrong signature up as verified: the
    // envelope, a `Verification` and a delivery, all inserted by hand.
    let forging = |with_verifier: bool| {
        let app = App::new().route(
            PATH,
            web::post().to(|Webhook(envelope): Webhook| async move {
                HttpResponse::Ok().body(envelope.webhook_id)
            }),
        );
        let app = if with_verifier {
            app.app_data(web::Data::new(Verifier::new(SECRET)))
        } else {
            app
        };
        app.wrap_fn(|request, service| {
            let forged = sample(Event::MESSAGE_READ, "whk_forged");
            {
                let mut extensions = request.extensions_mut();
                extensions.insert(quickassist_webhooks::testing::delivery(&forged));
                extensions.insert(forged);
                extensions.insert(Verification {
                    form: SignedForm::Raw,
                    key_index: 0,
                });
            }
            service.call(request)
        })
    };
    let wrong = SignedRequest::raw(&Secret::from("not the secret"), signed("whk_x").body);
    let app = test::init_service(forging(true)).await;
    let response = test::call_service(&app, delivery(&wrong).to_request()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let app = test::init_service(forging(false)).await;
    let response = test::call_service(&app, delivery(&wrong).to_request()).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}
