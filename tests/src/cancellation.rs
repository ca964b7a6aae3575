//! A client that goes away right after the handler answered 2xx, while the completion of
//! the delivery's claim is still under way: the completion must still be recorded, so the
//! provider's retry is a duplicate and the handler ran once.

use std::{sync::Arc, time::Duration};

use quickassist_webhooks::{
    idempotency::Deduplicator,
    receive::Receiver,
    testing::{sample, SignedRequest},
    Event, Secret, Verifier, SIGNATURE_HEADER,
};
use quickassist_webhooks_test::SlowCompletion;
use tokio::{io::AsyncWriteExt, net::TcpStream};

use crate::{Target, PATH, SECRET};

/// A receiver de-duplicating in `store`.
///
/// # Panics
///
/// Never: the configuration is valid.
#[must_use]
pub fn receiver(store: &Arc<SlowCompletion>) -> Receiver {
    Receiver::builder(Verifier::new(SECRET))
        .deduplicator(Deduplicator::new(Arc::clone(store)))
        .build()
        .expect("a valid configuration")
}

/// Sends a delivery on a raw connection, waits until the handler has answered and the
/// completion has started, hangs up, lets the completion finish, then sends the provider's
/// retry: it must be answered as a duplicate, and the handler must have run once.
///
/// `target` must de-duplicate in `store`.
pub async fn completion_survives_a_client_that_hangs_up(target: &Target, store: &SlowCompletion) {
    let delivery = SignedRequest::new(
        &Secret::from(SECRET),
        &sample(Event::MESSAGE_READ, "whk_hung_up"),
    );
    let mut stream = TcpStream::connect(target.addr).await.expect("connect");
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nhost: {}\r\n{SIGNATURE_HEADER}: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        target.addr,
        delivery.signature,
        delivery.body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(&delivery.body).await.expect("write body");
    // The handler answered 2xx and the completion is under way: the client goes away.
    store.started().await;
    drop(stream);
    store.allow_one();
    tokio::time::timeout(Duration::from_secs(10), store.finished())
        .await
        .expect("the completion finished although the client hung up");

    let retry = reqwest::Client::new()
        .post(target.url())
        .header(SIGNATURE_HEADER, &delivery.signature)
        .body(delivery.body.clone())
        .send()
        .await
        .expect("the receiver answers");
    assert_eq!(retry.status(), reqwest::StatusCode::OK);
    assert_eq!(retry.headers()["x-webhook-duplicate"], "true");
    assert_eq!(target.sink.count("whk_hung_up"), 1);
}
