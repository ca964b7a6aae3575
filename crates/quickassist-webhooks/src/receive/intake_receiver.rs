//! [`IntakeReceiver`]: the intake mode, where the receiver verifies, stores durably and
//! answers by itself, with no handler on the request path.

use std::{fmt, fmt::Display, sync::Arc};

use bytes::Buf;
use futures_core::Stream;

use super::{
    integration::{Answer, RequestHead},
    observe, Intake, Receiver, Stored,
};
use crate::{rejection::Rejection, Envelope, Event};

/// The receiving pipeline of the intake mode: verify → store durably → answer.
///
/// Built with [`ReceiverBuilder::build_intake`](super::ReceiverBuilder::build_intake), which
/// takes the same body, replay and account settings as a handler [`Receiver`] but no
/// deduplicator: the [`Intake`]'s key (`webhookId`) de-duplicates. Integrations mount it as
/// an endpoint of its own (axum `post_service`, an actix-web route), without a handler.
///
/// | request | answer |
/// |---|---|
/// | refused before it is trusted (size, time, signature, replay, payload) | as a [`Receiver`]: 413 / 408 / 503 / 401 / 400 |
/// | stored now | `200 {"status":"accepted"}` |
/// | already stored | `200` + `x-webhook-duplicate: true` |
/// | the intake failed | `503 store_unavailable`: the provider retries |
///
/// `Clone + Send + Sync` (`Arc`s inside): build it once and clone it where needed.
///
/// ```
/// use quickassist_webhooks::{receive::{Delivery, Intake, IntakeFuture, Outcome, Receiver, Stored, integration::RequestHead}, sign, testing::{provider_sample_time, PROVIDER_SAMPLE}, Secret, Verifier};
///
/// #[derive(Debug)]
/// struct Accepting;
///
/// impl Intake for Accepting {
///     fn store<'a>(&'a self, _: &'a Delivery) -> IntakeFuture<'a> {
///         Box::pin(async { Ok(Stored::New) })
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let intake = Receiver::builder(Verifier::new("k").clock(provider_sample_time)).build_intake(Accepting)?;
/// let signature = sign(&Secret::from("k"), PROVIDER_SAMPLE.as_bytes());
/// let head = RequestHead::new(None, [signature.as_bytes()]);
/// let body = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(bytes::Bytes::from(PROVIDER_SAMPLE))]);
/// let answered = intake.receive(&head, body).await;
/// assert_eq!(answered.answer.outcome(), Outcome::Accepted);
/// assert_eq!(answered.envelope.map(|e| e.webhook_id).as_deref(), Some("whk_abc123"));
/// # Ok::<_, quickassist_webhooks::idempotency::ConfigError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct IntakeReceiver {
    receiver: Receiver,
    intake: Arc<dyn Intake>,
}

/// What a receiver answered by itself: the [`Answer`] to send and, when it came after
/// verification, the delivery's envelope (integrations put it in the response extensions,
/// so whoever reports the outcome knows which delivery it was).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Answered {
    /// The answer to copy into a response.
    pub answer: Answer,
    /// The verified envelope, when the answer came after verification.
    pub envelope: Option<Envelope<Event>>,
}

impl IntakeReceiver {
    pub(super) fn new(receiver: Receiver, intake: Arc<dyn Intake>) -> Self {
        Self { receiver, intake }
    }

    /// The verifying half: body bounds, verifier, accounts (it has no deduplicator).
    ///
    /// ```
    /// # use quickassist_webhooks::receive::IntakeReceiver;
    /// fn limit(intake: &IntakeReceiver) -> usize {
    ///     intake.receiver().max_body()
    /// }
    /// ```
    pub fn receiver(&self) -> &Receiver {
        &self.receiver
    }

    /// The intake deliveries are stored in.
    ///
    /// ```
    /// # use quickassist_webhooks::receive::{Intake, IntakeReceiver};
    /// fn intake(receiver: &IntakeReceiver) -> &dyn Intake {
    ///     receiver.intake()
    /// }
    /// ```
    pub fn intake(&self) -> &dyn Intake {
        self.intake.as_ref()
    }

    /// Bounds, reads, verifies and parses a request, stores the delivery and gives the
    /// answer (see the table on [`IntakeReceiver`]). Logs one event per outcome, in the
    /// same `webhook` span as [`Receiver::receive`].
    #[tracing::instrument(
        name = "webhook",
        level = "debug",
        skip_all,
        fields(webhook_id, event, account)
    )]
    pub async fn receive<S, D, E>(&self, head: &RequestHead, body: S) -> Answered
    where
        S: Stream<Item = Result<D, E>>,
        D: Buf,
        E: Display,
    {
        let verified = match self.receiver.verify_request(head, body).await {
            Ok(verified) => verified,
            Err(refusal) => return refusal.answered(),
        };
        let webhook_id = Some(verified.envelope.webhook_id.as_str());
        let answer = match self.intake.store(&verified).await {
            Ok(Stored::New) => observe::answered(Answer::accepted(), webhook_id, None),
            Ok(_) => observe::answered(Answer::duplicate(), webhook_id, None),
            Err(error) => {
                observe::store_unavailable(webhook_id, &error);
                Answer::rejected(Rejection::StoreUnavailable)
            }
        };
        answer.after(verified)
    }
}

impl fmt::Debug for IntakeReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntakeReceiver")
            .field("receiver", &self.receiver)
            .field("intake", &self.intake)
            .finish()
    }
}
