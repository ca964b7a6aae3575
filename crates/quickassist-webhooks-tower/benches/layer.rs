//! What `WebhookLayer` adds per request, in process: `oneshot` through an axum router with a
//! trivial handler, bare vs behind the layers, on the provider's sample payload with a fresh
//! `webhookId` per request (signing happens in the untimed setup).
//!
//! `cargo bench -p quickassist-webhooks-tower --bench layer -- --warm-up-time 1 --measurement-time 3`

#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};

use axum::{body::Body, http::Request, routing::post, Router};
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use quickassist_webhooks::receive::Receiver;
use quickassist_webhooks::{
    idempotency::{Admission, Deduplicator, MemoryStore},
    sign,
    testing::{provider_sample_time, PROVIDER_SAMPLE},
    Event, Secret, Verifier, SIGNATURE_HEADER,
};
use quickassist_webhooks_tower::{Webhook, WebhookLayer};
use tower::ServiceExt;

const SECRET: &str = "whsec_bench";
const PATH: &str = "/webhooks/thequickassist";

/// The provider's sample with its `webhookId` replaced by a fresh one, and its signature.
fn signed_parts(secret: &Secret, counter: &AtomicU64) -> (String, String) {
    let id = format!("whk_{:012}", counter.fetch_add(1, Ordering::Relaxed));
    let body = PROVIDER_SAMPLE.replace("whk_abc123", &id);
    let signature = sign(secret, body.as_bytes());
    (body, signature)
}

/// [`signed_parts`] as a request.
fn fresh_request(secret: &Secret, counter: &AtomicU64) -> Request<Body> {
    let (body, signature) = signed_parts(secret, counter);
    Request::post(PATH)
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .header(SIGNATURE_HEADER, signature)
        .body(Body::from(body))
        .unwrap()
}

async fn bare(_body: Bytes) -> &'static str {
    "ok"
}

async fn typed(Webhook(envelope): Webhook) -> &'static str {
    std::hint::black_box(&envelope);
    "ok"
}

fn layer(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let secret = Secret::from(SECRET);
    let counter = AtomicU64::new(0);
    // The sample is stamped 2024: a clock at that moment keeps it inside the replay window.
    let verifier = Verifier::new(SECRET).clock(provider_sample_time);

    let bare_app: Router = Router::new().route(PATH, post(bare));
    let verify_app = Router::new().route(
        PATH,
        post(typed).route_layer(WebhookLayer::new(Receiver::verify_only(verifier.clone()))),
    );
    let receiver = Receiver::builder(verifier.clone())
        .deduplicator(Deduplicator::new(MemoryStore::new()))
        .build()
        .unwrap();
    let webhook_app =
        Router::new().route(PATH, post(typed).route_layer(WebhookLayer::new(receiver)));

    let mut group = c.benchmark_group("layer");
    for (name, app) in [
        ("bare_handler", &bare_app),
        ("verify_layer", &verify_app),
        ("webhook_layer_new_delivery", &webhook_app),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter_batched(
                || fresh_request(&secret, &counter),
                |request| async {
                    let response = app.clone().oneshot(request).await.unwrap();
                    assert!(response.status().is_success());
                    response
                },
                BatchSize::SmallInput,
            );
        });
    }

    // The core's own work on the same requests, without HTTP types: what the layers cannot
    // avoid. Layer overhead = layer - bare - this.
    let dedup = Deduplicator::new(MemoryStore::new());
    group.bench_function("core_verify_parse", |b| {
        b.iter_batched(
            || signed_parts(&secret, &counter),
            |(body, signature)| {
                let verified = verifier.verify(Some(&signature), body.as_bytes()).unwrap();
                verified.parse::<Event>().unwrap()
            },
            BatchSize::SmallInput,
        );
    });
    group.bench_function("core_verify_parse_admit_complete", |b| {
        b.to_async(&runtime).iter_batched(
            || signed_parts(&secret, &counter),
            |(body, signature)| async {
                let envelope = verifier
                    .verify(Some(&signature), body.as_bytes())
                    .unwrap()
                    .parse::<Event>()
                    .unwrap();
                match dedup.admit(&envelope).await.unwrap() {
                    Admission::Process(guard) => guard.complete().await.unwrap(),
                    _ => unreachable!("fresh webhook ids"),
                }
                (body, signature)
            },
            BatchSize::SmallInput,
        );
    });

    // A duplicate of a processed delivery: answered by the layer, handler not called.
    let duplicate = fresh_request(&secret, &counter);
    let (parts, _) = duplicate.into_parts();
    let body = Bytes::from(PROVIDER_SAMPLE.replace(
        "whk_abc123",
        &format!("whk_{:012}", counter.load(Ordering::Relaxed) - 1),
    ));
    let replay = move || Request::from_parts(parts.clone(), Body::from(body.clone()));
    runtime
        .block_on(webhook_app.clone().oneshot(replay()))
        .unwrap();
    group.bench_function("webhook_layer_duplicate", |b| {
        b.to_async(&runtime).iter_batched(
            &replay,
            |request| async {
                let response = webhook_app.clone().oneshot(request).await.unwrap();
                assert!(response.headers().contains_key("x-webhook-duplicate"));
                response
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, layer);
criterion_main!(benches);
