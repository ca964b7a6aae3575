//! A client that goes away right after the handler answered 2xx, while the completion of
//! the delivery's claim is still under way: the completion must still be recorded, so the
//! provider's retry is a duplicate and the handler ran once.

use std::{sync::Arc, time::Duration};

use quickassist_webhooks::{
    idempotency::{
        Claim, ClaimToken, Deduplicator, IdempotencyKey, IdempotencyStore, MemoryStore, StoreFuture,
    },
    receive::Receiver,
    testing::{sample, SignedRequest},
    Event, Secret, Verifier, SIGNATURE_HEADER,
};
use tokio::{
    io::AsyncWriteExt,
    net::TcpStream,
    sync::{Notify, Semaphore},
};

use crate::{Target, PATH, SECRET};

/// A memory store whose `complete` announces itself, then waits for a permit.
#[derive(Debug)]
pub struct SlowCompletion {
    inner: MemoryStore,
    permits: Semaphore,
    started: Notify,
    finished: Notify,
}

impl SlowCompletion {
    /// A store whose completions wait until the test lets one through.
    #[must_use]
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            inner: MemoryStore::new(),
            permits: Semaphore::new(0),
            started: Notify::new(),
            finished: Notify::new(),
        })
    }

    /// A receiver de-duplicating in this store.
    ///
    /// # Panics
    ///
    /// Never: the configuration is valid.
    #[must_use]
    pub fn receiver(self: &Arc<Self>) -> Receiver {
        Receiver::builder(Verifier::new(SECRET))
            .deduplicator(Deduplicator::new(Arc::clone(self)))
            .build()
            .expect("a valid configuration")
    }

    fn allow_one(&self) {
        self.permits.add_permits(1);
    }
}

impl IdempotencyStore for SlowCompletion {
    fn claim<'a>(&'a self, key: &'a IdempotencyKey, lease: Duration) -> StoreFuture<'a, Claim> {
        self.inner.claim(key, lease)
    }

    fn complete<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        token: ClaimToken,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            self.started.notify_one();
            let _permit = self.permits.acquire().await.expect("never closed");
            let completed = self.inner.complete(key, token, ttl).await;
            self.finished.notify_one();
            completed
        })
    }

    fn release<'a>(&'a self, key: &'a IdempotencyKey, token: ClaimToken) -> StoreFuture<'a, bool> {
        self.inner.release(key, token)
    }
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
    store.started.notified().await;
    drop(stream);
    store.allow_one();
    tokio::time::timeout(Duration::from_secs(10), store.finished.notified())
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
