//! The intake mode of the receiving pipeline (`ReceiverBuilder::build_intake`): a verified
//! delivery is stored and answered by the receiver; there is no handler.

use std::{
    collections::HashSet,
    convert::Infallible,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
};

use bytes::Bytes;
use futures_util::stream;
use quickassist_webhooks::{
    receive::{
        integration::{Answer, RequestHead},
        Delivery, Intake, IntakeError, IntakeFuture, IntakeReceiver, Outcome, Receiver, Stored,
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

/// Runs `request` through `receiver`.
async fn deliver(receiver: &IntakeReceiver, request: &SignedRequest) -> Answer {
    let head = RequestHead::new(
        Some(request.body.len() as u64),
        [request.signature.as_bytes()],
    );
    let body = stream::iter([Ok::<_, Infallible>(Bytes::copy_from_slice(&request.body))]);
    let answered = receiver.receive(&head, body).await;
    if answered.answer.status() == 200 {
        assert!(
            answered.envelope.is_some(),
            "a stored delivery carries its envelope"
        );
    }
    answered.answer
}

fn receiver(intake: Arc<Ids>) -> IntakeReceiver {
    Receiver::builder(Verifier::new(SECRET))
        .build_intake(intake)
        .expect("a valid configuration")
}

#[tokio::test]
async fn new_delivery_is_stored_and_accepted_without_the_handler() {
    let intake = Arc::new(Ids::default());
    let receiver = receiver(intake.clone());
    let answer = deliver(&receiver, &signed("whk_new")).await;
    assert_eq!(answer.outcome(), Outcome::Accepted);
    assert_eq!(
        (answer.status(), answer.body()),
        (200, r#"{"status":"accepted"}"#)
    );
    assert!(!answer.is_duplicate());
    assert!(intake.ids.lock().unwrap().contains("whk_new"));
}

#[tokio::test]
async fn copy_already_stored_is_a_duplicate() {
    let receiver = receiver(Arc::new(Ids::default()));
    deliver(&receiver, &signed("whk_twice")).await;
    let again = deliver(&receiver, &signed("whk_twice")).await;
    assert_eq!(again.outcome(), Outcome::Duplicate);
    assert_eq!(again.status(), 200);
    assert!(again.is_duplicate());
}

#[tokio::test]
async fn store_failure_gets_503_and_the_retry_is_stored() {
    let intake = Arc::new(Ids::default());
    let receiver = receiver(intake.clone());
    intake.down.store(true, Ordering::SeqCst);
    let refused = deliver(&receiver, &signed("whk_down")).await;
    assert_eq!(refused.rejection(), Some(Rejection::StoreUnavailable));
    assert_eq!(refused.status(), 503);
    intake.down.store(false, Ordering::SeqCst);
    let retry = deliver(&receiver, &signed("whk_down")).await;
    assert_eq!(retry.outcome(), Outcome::Accepted);
}

#[tokio::test]
async fn forged_delivery_is_refused_before_the_intake() {
    let intake = Arc::new(Ids::default());
    let receiver = receiver(intake.clone());
    let mut forged = signed("whk_forged");
    forged.signature = "0".repeat(64);
    let answer = deliver(&receiver, &forged).await;
    assert_eq!(answer.status(), 401);
    assert!(intake.ids.lock().unwrap().is_empty());
}

#[cfg(feature = "memory-store")]
#[test]
fn an_intake_with_a_deduplicator_is_refused_when_built() {
    let refused = Receiver::builder(Verifier::new(SECRET))
        .store(quickassist_webhooks::idempotency::MemoryStore::new())
        .build_intake(Ids::default());
    assert_eq!(
        refused.unwrap_err(),
        quickassist_webhooks::idempotency::ConfigError::DeduplicatorWithIntake
    );
    let receiver = receiver(Arc::new(Ids::default()));
    assert!(receiver.receiver().deduplicator().is_none());
    assert!(format!("{receiver:?}").contains("intake"));
}
