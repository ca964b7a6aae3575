//! The main path over real HTTP: an axum server on loopback behind `WebhookLayer`, written as the README shows (no router state), a reqwest
//! client.
// Helpers outside `#[test]` functions unwrap too: a panic there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use axum::{routing::post, Router};
use common::*;
use quickassist_webhooks::receive::Receiver;
use quickassist_webhooks::{rejection::DUPLICATE_HEADER, Envelope, Verifier, SIGNATURE_HEADER};
use quickassist_webhooks_tower::{Webhook, WebhookLayer};
use tokio::sync::{mpsc, oneshot};

#[tokio::test]
async fn delivery_over_http_is_verified_processed_once_and_acknowledged() {
    let (processed_tx, mut processed) = mpsc::unbounded_channel::<Envelope>();
    let receiver = Receiver::builder(Verifier::new(SECRET)).build().unwrap();
    let app = Router::new().route(
        PATH,
        post(move |Webhook(envelope): Webhook| {
            let processed = processed_tx.clone();
            async move {
                let _ = processed.send(envelope);
                "ok"
            }
        })
        .route_layer(WebhookLayer::new(receiver)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{PATH}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    let client = reqwest::Client::new();
    let signed = signed("whk_http");
    let post = || {
        client
            .post(&url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, &signed.signature)
            .body(signed.body.clone())
            .send()
    };

    let first = post().await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(first.headers().get(DUPLICATE_HEADER).is_none());
    let envelope = processed.recv().await.unwrap();
    assert_eq!(envelope.webhook_id, "whk_http");

    let again = post().await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()[DUPLICATE_HEADER], "true");

    let forged = client
        .post(&url)
        .header(SIGNATURE_HEADER, "0".repeat(64))
        .body(signed.body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    assert_eq!(
        forged.text().await.unwrap(),
        r#"{"error":"invalid_signature"}"#
    );

    let too_large = client
        .post(&url)
        .header(SIGNATURE_HEADER, &signed.signature)
        .body(vec![b' '; 3 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.status(), 413);

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert!(processed.try_recv().is_err(), "processed exactly once");
}
