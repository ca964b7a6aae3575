//! The receiving pipeline (`receive::Receiver`): every answer, settlement, cancellation and
//! the configuration rules, driven as the framework integrations drive it.
#![cfg(feature = "memory-store")]

use std::{
    convert::Infallible,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use bytes::Bytes;
use futures_util::{stream, StreamExt};
use quickassist_webhooks::{
    idempotency::{Admission, ConfigError, Deduplicator, IdempotencyStore, MemoryStore},
    receive::{
        integration::{Answer, Received, RequestHead},
        Outcome, Receiver,
    },
    rejection::Rejection,
    testing::{sample, SignedRequest},
    Event, Secret, Verifier,
};
use quickassist_webhooks_test::{eventually, SlowCompletion};

const SECRET: &str = "whsec_receive_tests";

fn signed(id: &str) -> SignedRequest {
    SignedRequest::new(&Secret::from(SECRET), &sample(Event::MESSAGE_DELIVERED, id))
}

fn receiver(store: impl IdempotencyStore) -> Receiver {
    Receiver::builder(Verifier::new(SECRET))
        .store(store)
        .build()
        .expect("a valid configuration")
}

fn head(request: &SignedRequest) -> RequestHead {
    RequestHead::new(
        Some(request.body.len() as u64),
        [request.signature.as_bytes()],
    )
}

fn one_chunk(body: &[u8]) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> {
    stream::iter([Ok(Bytes::copy_from_slice(body))])
}

/// Runs `request` through `receiver` with a handler answering `status`; counts calls.
async fn deliver(
    receiver: &Receiver,
    request: &SignedRequest,
    status: u16,
    calls: &AtomicUsize,
) -> Result<Outcome, Answer> {
    let received = receiver
        .receive(
            (),
            head(request),
            one_chunk(&request.body),
            |(), delivery| async move {
                assert_eq!(delivery.body, request.body);
                calls.fetch_add(1, Ordering::SeqCst);
                Ok::<_, Infallible>(status)
            },
            |status| *status,
        )
        .await;
    match received {
        Received::Handled { outcome, .. } => Ok(outcome),
        Received::Answered { answer, .. } => Err(answer),
    }
}

#[tokio::test]
async fn first_delivery_is_processed_and_its_copy_is_a_duplicate() {
    let receiver = receiver(MemoryStore::new());
    let calls = AtomicUsize::new(0);
    let request = signed("whk_first");
    assert_eq!(
        deliver(&receiver, &request, 200, &calls).await,
        Ok(Outcome::Processed)
    );
    let again = deliver(&receiver, &request, 200, &calls).await.unwrap_err();
    assert_eq!(again.status(), 200);
    assert!(again.is_duplicate());
    assert_eq!(again.outcome(), Outcome::Duplicate);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn failed_handler_releases_so_the_retry_is_processed() {
    let receiver = receiver(MemoryStore::new());
    let calls = AtomicUsize::new(0);
    let request = signed("whk_retry");
    assert_eq!(
        deliver(&receiver, &request, 500, &calls).await,
        Ok(Outcome::HandlerFailed)
    );
    assert_eq!(
        deliver(&receiver, &request, 200, &calls).await,
        Ok(Outcome::Processed)
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn forged_copy_never_claims_the_delivery() {
    let receiver = receiver(MemoryStore::new());
    let calls = AtomicUsize::new(0);
    let genuine = signed("whk_forged");
    let mut forged = genuine.clone();
    forged.signature = "0".repeat(64);
    let refused = deliver(&receiver, &forged, 200, &calls).await.unwrap_err();
    assert_eq!(refused.rejection(), Some(Rejection::InvalidSignature));
    assert_eq!(
        deliver(&receiver, &genuine, 200, &calls).await,
        Ok(Outcome::Processed),
        "the forged copy must not have claimed the genuine delivery's key"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn bad_heads_are_refused_before_the_body_is_read() {
    let receiver = receiver(MemoryStore::new()).clone();
    let request = signed("whk_head");
    let cases: [(RequestHead, Rejection); 4] = [
        (
            RequestHead::new(None, std::iter::empty()),
            Rejection::MissingSignature,
        ),
        (
            RequestHead::new(
                None,
                [request.signature.as_bytes(), request.signature.as_bytes()],
            ),
            Rejection::MalformedSignature,
        ),
        (
            RequestHead::new(None, [b"not hex".as_slice()]),
            Rejection::MalformedSignature,
        ),
        (
            RequestHead::new(Some(u64::MAX), [request.signature.as_bytes()]),
            Rejection::PayloadTooLarge,
        ),
    ];
    for (head, expected) in cases {
        // A body that must never be polled: the head alone decides.
        let untouched =
            stream::poll_fn(|_| -> std::task::Poll<Option<Result<Bytes, Infallible>>> {
                panic!("the body was read although the head was refused")
            });
        let answer = Answer::rejected(receiver.verify(&head, untouched).await.unwrap_err());
        assert_eq!(answer.rejection(), Some(expected));
    }
}

#[tokio::test]
async fn wrong_signature_and_non_envelope_are_401_and_400() {
    let receiver = receiver(MemoryStore::new());
    let forged = SignedRequest::new(&Secret::from("other"), &sample(Event::MESSAGE_READ, "w"));
    let answer = Answer::rejected(
        receiver
            .verify(&head(&forged), one_chunk(&forged.body))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (answer.status(), answer.body()),
        (401, r#"{"error":"invalid_signature"}"#)
    );

    let not_envelope = SignedRequest::raw(&Secret::from(SECRET), br#"{"hello":1}"#.to_vec());
    let answer = Answer::rejected(
        receiver
            .verify(&head(&not_envelope), one_chunk(&not_envelope.body))
            .await
            .unwrap_err(),
    );
    assert_eq!(answer.rejection(), Some(Rejection::InvalidPayload));
}

#[tokio::test]
async fn streamed_body_past_the_limit_is_413() {
    let receiver = Receiver::builder(Verifier::new(SECRET))
        .max_body(10)
        .build()
        .unwrap();
    let request = signed("whk_big");
    let chunks = stream::iter(
        request
            .body
            .chunks(4)
            .map(|chunk| Ok::<_, Infallible>(Bytes::copy_from_slice(chunk)))
            .collect::<Vec<_>>(),
    );
    let head = RequestHead::new(None, [request.signature.as_bytes()]);
    let answer = Answer::rejected(receiver.verify(&head, chunks).await.unwrap_err());
    assert_eq!(answer.status(), 413);
}

#[tokio::test(start_paused = true)]
async fn stalled_body_is_408() {
    let receiver = Receiver::builder(Verifier::new(SECRET))
        .body_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let request = signed("whk_stall");
    let first = Ok::<_, Infallible>(Bytes::copy_from_slice(&request.body[..5]));
    let stalled = stream::iter([first]).chain(stream::pending());
    let head = RequestHead::new(None, [request.signature.as_bytes()]);
    let answer = Answer::rejected(receiver.verify(&head, stalled).await.unwrap_err());
    assert_eq!(
        (answer.status(), answer.rejection()),
        (408, Some(Rejection::BodyTimeout))
    );
}

#[tokio::test]
async fn body_error_is_400() {
    let receiver = receiver(MemoryStore::new());
    let request = signed("whk_broken");
    let broken = stream::iter([Err::<Bytes, _>("connection reset")]);
    let answer = Answer::rejected(receiver.verify(&head(&request), broken).await.unwrap_err());
    assert_eq!(answer.rejection(), Some(Rejection::BodyReadFailed));
}

#[tokio::test]
async fn receivers_built_without_a_store_share_one_per_process() {
    let verifier = Verifier::new(SECRET);
    let one = Receiver::builder(verifier.clone()).build().unwrap();
    let other = Receiver::builder(verifier).build().unwrap();
    let calls = AtomicUsize::new(0);
    let request = signed("whk_shared_default_store");
    assert_eq!(
        deliver(&one, &request, 200, &calls).await,
        Ok(Outcome::Processed)
    );
    let answer = deliver(&other, &request, 200, &calls).await.unwrap_err();
    assert!(answer.is_duplicate());
}

#[test]
fn replay_window_longer_than_the_done_ttl_is_refused_at_build() {
    let built = Receiver::builder(
        Verifier::new(SECRET).with_timestamp_tolerance(Duration::from_secs(3600)),
    )
    .deduplicator(Deduplicator::memory().with_done_ttl(Duration::from_secs(3600)))
    .build();
    assert!(matches!(
        built,
        Err(ConfigError::ReplayWindowExceedsDoneTtl { .. })
    ));
    let verify_only = Receiver::builder(
        Verifier::new(SECRET).with_timestamp_tolerance(Duration::from_secs(3600)),
    )
    .without_deduplication()
    .build();
    assert!(verify_only.is_ok());
}

#[tokio::test]
async fn completion_survives_the_request_being_dropped_after_a_2xx() {
    let store = Arc::new(SlowCompletion::new());
    let dedup = Deduplicator::new(store.clone());
    let receiver = Receiver::builder(Verifier::new(SECRET))
        .deduplicator(dedup.clone())
        .build()
        .unwrap();
    let request = signed("whk_cancelled");
    let (returned_tx, returned_rx) = tokio::sync::oneshot::channel::<()>();
    let receive = receiver.receive(
        (),
        head(&request),
        one_chunk(&request.body),
        |(), _delivery| async move {
            let _ = returned_tx.send(());
            Ok::<_, Infallible>(200u16)
        },
        |status| *status,
    );
    // The client goes away as soon as the handler has returned 200: the request's future
    // is dropped while the (slow) completion is under way.
    tokio::select! {
        _ = receive => panic!("the completion cannot finish before its permit is given"),
        _ = returned_rx => {}
    }
    store.allow_one();
    tokio::time::timeout(Duration::from_secs(10), store.finished())
        .await
        .expect("the completion finished although the request was dropped");
    let retry = dedup.admit_key("whk_cancelled").await.unwrap();
    assert!(matches!(retry, Admission::Duplicate), "got {retry:?}");
}

#[tokio::test]
async fn dropping_the_request_before_the_handler_returned_releases_the_claim() {
    let receiver = receiver(MemoryStore::new());
    let request = signed("whk_dropped_early");
    let (entered_tx, entered_rx) = tokio::sync::oneshot::channel::<()>();
    let receive = receiver.receive(
        (),
        head(&request),
        one_chunk(&request.body),
        |(), _delivery| async move {
            let _ = entered_tx.send(());
            std::future::pending::<Result<u16, Infallible>>().await
        },
        |status| *status,
    );
    tokio::select! {
        _ = receive => unreachable!("the handler never returns"),
        _ = entered_rx => {}
    }
    // The release runs as a task: wait until the retry is let through.
    let calls = AtomicUsize::new(0);
    let outcome = eventually(
        "the claim to be released",
        Duration::from_secs(5),
        async || match deliver(&receiver, &request, 200, &calls).await {
            Ok(outcome) => Some(outcome),
            Err(answer) => {
                assert_eq!(answer.status(), 409, "only in-flight may be seen meanwhile");
                None
            }
        },
    )
    .await;
    assert_eq!(outcome, Outcome::Processed);
}
