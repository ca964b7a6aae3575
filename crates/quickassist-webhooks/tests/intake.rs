//! The intake mode of the receiving pipeline (`ReceiverBuilder::intake`): a verified
//! delivery is stored and answered by the pipeline; the handler never runs on the request
//! path.

use std::{
    collections::HashSet,
    convert::Infallible,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
};

use bytes::Bytes;
use futures_util::stream;
use quickassist_webhooks::{
    receive::{
        Answer, Delivery, Intake, IntakeError, IntakeFuture, Outcome, Received, Receiver,
        RequestHead, Stored,
    },
    rejection::Rejection,
    testing::{sample, SignedRequest},
    Event, Secret, Verifier,
};

const SECRET: &str = "whsec_intake_tests";

/// Remembers ids in memory; fails while `down` is set.
#[derive(Debug, Default)]
struct Ids {
    ids: Mutex<HashSet<String>>,
    down: AtomicBool,
}

impl Intake for Ids {
    fn store<'a>(&'a self, delivery: &'a Delivery) -> IntakeFuture<'a> {
        Box::pin(async move {
            if self.down.load(Ordering::SeqCst) {
                return Err(IntakeError::new("database unreachable"));
            }
            let new = self
                .ids
                .lock()
                .expect("not poisoned")
                .insert(delivery.envelope.webhook_id.clone());
            Ok(if new {
                Stored::New
            } else {
                Stored::AlreadyStored
            })
        })
    }
}

fn signed(id: &str) -> SignedRequest {
    SignedRequest::new(&Secret::from(SECRET), &sample(Event::MESSAGE_DELIVERED, id))
}

/// Runs `request` through `receiver`; the handler must never run.
async fn deliver(receiver: &Receiver, request: &SignedRequest, calls: &AtomicUsize) -> Answer {
    let head = RequestHead::new(
        Some(request.body.len() as u64),
        [request.signature.as_bytes()],
    );
    let body = stream::iter([Ok::<_, Infallible>(Bytes::copy_from_slice(&request.body))]);
    let received = receiver
        .receive(
            (),
            head,
            body,
            |(), _| async move {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok::<_, Infallible>(200u16)
            },
            |status| *status,
        )
        .await;
    match received {
        Received::Answered {
            answer, envelope, ..
        } => {
            if answer.status() == 200 {
                assert!(envelope.is_some(), "a stored delivery carries its envelope");
            }
            answer
        }
        Received::Handled { .. } => panic!("the handler ran on the request path"),
    }
}

fn receiver(intake: Arc<Ids>) -> Receiver {
    Receiver::builder(Verifier::new(SECRET))
        .intake(intake)
        .build()
        .expect("a valid configuration")
}

#[tokio::test]
async fn new_delivery_is_stored_and_accepted_without_the_handler() {
    let intake = Arc::new(Ids::default());
    let receiver = receiver(intake.clone());
    let calls = AtomicUsize::new(0);
    let answer = deliver(&receiver, &signed("whk_new"), &calls).await;
    assert_eq!(answer.outcome(), Outcome::Accepted);
    assert_eq!(
        (answer.status(), answer.body()),
        (200, r#"{"status":"accepted"}"#)
    );
    assert!(!answer.is_duplicate());
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert!(intake.ids.lock().unwrap().contains("whk_new"));
}

#[tokio::test]
async fn copy_already_stored_is_a_duplicate() {
    let receiver = receiver(Arc::new(Ids::default()));
    let calls = AtomicUsize::new(0);
    deliver(&receiver, &signed("whk_twice"), &calls).await;
    let again = deliver(&receiver, &signed("whk_twice"), &calls).await;
    assert_eq!(again.outcome(), Outcome::Duplicate);
    assert_eq!(again.status(), 200);
    assert!(again.is_duplicate());
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn store_failure_gets_503_and_the_retry_is_stored() {
    let intake = Arc::new(Ids::default());
    let receiver = receiver(intake.clone());
    let calls = AtomicUsize::new(0);
    intake.down.store(true, Ordering::SeqCst);
    let refused = deliver(&receiver, &signed("whk_down"), &calls).await;
    assert_eq!(refused.rejection(), Some(Rejection::StoreUnavailable));
    assert_eq!(refused.status(), 503);
    intake.down.store(false, Ordering::SeqCst);
    let retry = deliver(&receiver, &signed("whk_down"), &calls).await;
    assert_eq!(retry.outcome(), Outcome::Accepted);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn forged_delivery_is_refused_before_the_intake() {
    let intake = Arc::new(Ids::default());
    let receiver = receiver(intake.clone());
    let mut forged = signed("whk_forged");
    forged.signature = "0".repeat(64);
    let answer = deliver(&receiver, &forged, &AtomicUsize::new(0)).await;
    assert_eq!(answer.status(), 401);
    assert!(intake.ids.lock().unwrap().is_empty());
}

#[cfg(feature = "memory-store")]
#[test]
fn intake_replaces_the_deduplicator() {
    let receiver = Receiver::builder(Verifier::new(SECRET))
        .store(quickassist_webhooks::idempotency::MemoryStore::new())
        .intake(Ids::default())
        .build()
        .expect("a valid configuration");
    assert!(receiver.deduplicator().is_none());
    assert!(receiver.intake().is_some());
    assert!(format!("{receiver:?}").contains("intake"));
}
