//! What a stranger on the open internet can send a default `Receiver`: replays, far-future
//! timestamps, bodies that say more than was signed, empty ids, and bodies that hold memory.
#![cfg(feature = "memory-store")]

use std::{convert::Infallible, time::Duration};

use bytes::Bytes;
use chrono::Utc;
use futures_util::{stream, StreamExt};
use quickassist_webhooks::{
    idempotency::{Deduplicator, MemoryStore},
    receive::{
        integration::{Answer, RequestHead},
        Receiver,
    },
    rejection::Rejection,
    sign,
    testing::{sample, sample_at, SignedRequest},
    Event, Secret, SignedForm, Verifier,
};
use quickassist_webhooks_test::eventually;

const SECRET: &str = "whsec_open_internet";

fn head_of(body: &[u8], signature: &str) -> RequestHead {
    RequestHead::new(Some(body.len() as u64), [signature.as_bytes()])
}

fn one_chunk(body: &[u8]) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> {
    stream::iter([Ok(Bytes::copy_from_slice(body))])
}

async fn refusal(receiver: &Receiver, body: &[u8], signature: &str) -> Rejection {
    let rejection = receiver
        .verify(&head_of(body, signature), one_chunk(body))
        .await
        .expect_err("refused");
    rejection
}

/// Whether `receiver` accepts `request`, sent whole with its declared length.
async fn accepts(receiver: &Receiver, request: &SignedRequest) -> bool {
    receiver
        .verify(
            &head_of(&request.body, &request.signature),
            one_chunk(&request.body),
        )
        .await
        .is_ok()
}

fn stamped(hours_ago: i64) -> SignedRequest {
    let at = Utc::now() - chrono::Duration::hours(hours_ago);
    SignedRequest::new(
        &Secret::from(SECRET),
        &sample_at(Event::MESSAGE_READ, "whk_stamped", at),
    )
}

#[tokio::test]
async fn by_default_the_window_is_what_the_store_remembers() {
    let receiver = Receiver::builder(Verifier::new(SECRET))
        .store(MemoryStore::new())
        .build()
        .unwrap();
    // 24 h done-TTL, 5 min skew allowance.
    assert_eq!(
        receiver.verifier().timestamp_tolerance(),
        Some(Duration::from_secs(24 * 3600 - 300))
    );
    let recent = stamped(23);
    assert!(accepts(&receiver, &recent).await);
    let old = stamped(25);
    let rejection = refusal(&receiver, &old.body, &old.signature).await;
    assert_eq!(rejection, Rejection::StaleTimestamp);
    assert_eq!(
        (Answer::rejected(rejection).status(), rejection.code()),
        (401, "stale_timestamp")
    );
}

#[tokio::test]
async fn the_window_follows_the_done_ttl() {
    let receiver = Receiver::builder(Verifier::new(SECRET))
        .deduplicator(
            Deduplicator::new(MemoryStore::new()).with_done_ttl(Duration::from_secs(3 * 3600)),
        )
        .build()
        .unwrap();
    let four_hours = stamped(4);
    assert_eq!(
        refusal(&receiver, &four_hours.body, &four_hours.signature).await,
        Rejection::StaleTimestamp
    );
}

#[tokio::test]
async fn epoch_and_far_future_timestamps_are_refused() {
    let receiver = Receiver::builder(Verifier::new(SECRET)).build().unwrap();
    for (at, expected) in [
        ("1970-01-01T00:00:00Z", Rejection::StaleTimestamp),
        ("9999-12-31T23:59:59Z", Rejection::FutureTimestamp),
    ] {
        let body = format!(
            r#"{{"event":"message.read","timestamp":"{at}","data":{{"messageId":"m"}},"webhookId":"whk_time"}}"#
        );
        let signature = sign(&Secret::from(SECRET), body.as_bytes());
        assert_eq!(
            refusal(&receiver, body.as_bytes(), &signature).await,
            expected,
            "{at}"
        );
    }
    // Within the skew allowance is fine.
    let soon = SignedRequest::new(
        &Secret::from(SECRET),
        &sample_at(
            Event::MESSAGE_READ,
            "whk_soon",
            Utc::now() + chrono::Duration::minutes(2),
        ),
    );
    assert!(accepts(&receiver, &soon).await);
}

#[tokio::test]
async fn the_handler_gets_the_signed_digits_not_the_sent_ones() {
    let receiver = Receiver::builder(Verifier::new(SECRET)).build().unwrap();
    let stamp = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let signed = format!(
        r#"{{"event":"message.read","timestamp":"{stamp}","data":{{"messageId":"m","n":12345678901234567000}},"webhookId":"whk_2_53"}}"#
    );
    let sent = signed.replace("12345678901234567000", "12345678901234567890");
    let signature = sign(&Secret::from(SECRET), signed.as_bytes());
    let delivery = receiver
        .verify(
            &head_of(sent.as_bytes(), &signature),
            one_chunk(sent.as_bytes()),
        )
        .await
        .expect("verifies through the JSON.stringify form");
    assert_eq!(delivery.verification.form, SignedForm::Canonical);
    assert_eq!(delivery.body, signed.as_bytes());
    assert!(matches!(delivery.envelope.event, Event::MessageRead(_)));
    let raw: quickassist_webhooks::Envelope<serde_json::Value> = delivery.into_envelope().unwrap();
    assert_eq!(raw.event["data"]["n"].to_string(), "12345678901234567000");
}

#[tokio::test]
async fn an_empty_webhook_id_is_400() {
    let receiver = Receiver::builder(Verifier::new(SECRET)).build().unwrap();
    let request = SignedRequest::new(&Secret::from(SECRET), &sample(Event::MESSAGE_READ, ""));
    let rejection = refusal(&receiver, &request.body, &request.signature).await;
    assert_eq!(
        (rejection, Answer::rejected(rejection).status()),
        (Rejection::InvalidPayload, 400)
    );
}

#[tokio::test]
async fn a_declared_length_over_the_budget_is_503_before_a_byte_is_read() {
    let receiver = Receiver::builder(Verifier::new(SECRET).with_max_body(64 * 1024))
        .body_budget(32 * 1024)
        .build()
        .unwrap();
    let request = stamped(0);
    let head = RequestHead::new(Some(60 * 1024), [request.signature.as_bytes()]);
    let never_read = stream::poll_fn(|_| -> std::task::Poll<Option<Result<Bytes, Infallible>>> {
        panic!("the body must not be read")
    });
    let rejection = receiver.verify(&head, never_read).await.unwrap_err();
    let answer = Answer::rejected(rejection);
    assert_eq!((answer.status(), rejection), (503, Rejection::Overloaded));
    assert!(answer.retry_after().is_some());
    // A small delivery still gets through meanwhile.
    assert!(accepts(&receiver, &request).await);
}

#[tokio::test]
async fn bodies_in_flight_share_the_budget_and_give_it_back() {
    let receiver = Receiver::builder(Verifier::new(SECRET).with_max_body(64 * 1024))
        .body_budget(64 * 1024)
        .build()
        .unwrap();
    let request = stamped(0);
    // A stranger's chunked upload that stops after 40 KiB holds 40 KiB of the budget.
    let (sender, held) = futures_channel_stream();
    let head = RequestHead::new(None, [request.signature.as_bytes()]);
    let slow = tokio::spawn({
        let receiver = receiver.clone();
        async move { receiver.verify(&head, held).await.map(|_| ()) }
    });
    sender
        .send(Ok(Bytes::from(vec![b' '; 40 * 1024])))
        .await
        .unwrap();
    eventually(
        "40 KiB of the budget in use",
        Duration::from_secs(10),
        async || receiver.body_budget().in_use() >= 40 * 1024,
    )
    .await;
    // A second large body cannot fit beside it: refused early.
    let second = RequestHead::new(Some(40 * 1024), [request.signature.as_bytes()]);
    let rejection = receiver
        .verify(&second, one_chunk(&vec![b' '; 40 * 1024]))
        .await
        .unwrap_err();
    assert_eq!(rejection, Rejection::Overloaded);
    // The provider's small delivery gets through.
    assert!(accepts(&receiver, &request).await);
    drop(sender);
    assert!(slow.await.unwrap().is_err());
    assert_eq!(receiver.body_budget().in_use(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_trickling_body_hits_the_deadline_and_the_minimum_rate() {
    let request = stamped(0);
    let trickle = || {
        stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Some((Ok::<_, Infallible>(Bytes::from_static(b" ")), ()))
        })
    };
    let head = RequestHead::new(None, [request.signature.as_bytes()]);
    let deadline_only = Receiver::builder(Verifier::new(SECRET))
        .body_deadline(Duration::from_secs(30))
        .min_body_rate(0, Duration::ZERO)
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let rejection = deadline_only.verify(&head, trickle()).await.unwrap_err();
    assert_eq!(rejection, Rejection::BodyTimeout);
    assert_eq!(started.elapsed().as_secs(), 30);

    let by_default = Receiver::builder(Verifier::new(SECRET)).build().unwrap();
    let started = tokio::time::Instant::now();
    let rejection = by_default.verify(&head, trickle()).await.unwrap_err();
    assert_eq!(rejection, Rejection::BodyTimeout);
    // 1 B/s is under 1 KiB/s: refused once the 5 s grace is over, long before the deadline.
    assert!(
        started.elapsed() <= Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}

/// A body stream fed from the test.
fn futures_channel_stream() -> (
    tokio::sync::mpsc::Sender<Result<Bytes, Infallible>>,
    impl futures_util::Stream<Item = Result<Bytes, Infallible>> + Send + 'static,
) {
    let (sender, mut receiver) = tokio::sync::mpsc::channel(4);
    let body = stream::poll_fn(move |cx| receiver.poll_recv(cx));
    (sender, body.boxed())
}
