//! The receiving flow: head → body → verify → parse → admit → handler → settle → answer.

use std::{fmt::Display, future::Future, time::Instant};

use bytes::{Buf, Bytes};
use futures_core::Stream;

use super::{
    body::{read_chunks, BodyBuffer},
    delivery::{Delivery, VerifiedDelivery},
    integration::{Answer, Answered, RequestHead},
    observe, Outcome, Receiver,
};
use crate::{
    accounts::AccountId,
    event::{parse_envelope, PayloadError},
    idempotency::{Admission, DedupRejection, DeliveryGuard},
    rejection::Rejection,
    signature::ClaimedTag,
    Envelope, Event, Verifier,
};

/// What [`Receiver::receive`] did with a request.
#[derive(Debug)]
// Returned once per request and destructured at once: boxing the envelope would only add an
// allocation to the duplicate path.
#[allow(clippy::large_enum_variant)]
pub enum Received<Req, Res> {
    /// The handler was called; `response` is what it returned. `outcome` is
    /// [`Outcome::Processed`] or [`Outcome::HandlerFailed`].
    Handled {
        /// The handler's result.
        response: Res,
        /// The decision, for the response extensions.
        outcome: Outcome,
    },
    /// The pipeline answered by itself (a rejection, a duplicate, a copy in flight, a store
    /// that cannot answer); the request is given back unused, for frameworks that build
    /// responses from it.
    Answered {
        /// The request, unused.
        request: Req,
        /// The answer to copy into a response.
        answer: Answer,
        /// The verified envelope, when the answer came after verification (a duplicate, a
        /// copy in flight, an unavailable store): integrations put it in the response
        /// extensions, so whoever reports the outcome knows which delivery it was.
        envelope: Option<Envelope<Event>>,
    },
}

impl Receiver {
    /// Bounds, reads, verifies and parses a request: the first half of
    /// [`receive`](Self::receive), for extractors that do not call a handler themselves.
    ///
    /// `body` is the request body as a stream of chunks; it is read within the configured
    /// limit and body timeout.
    ///
    /// # Errors
    ///
    /// The [`Rejection`] of a refused request (401 / 413 / 408 / 400), already logged; its
    /// answer is `Answer::rejected(rejection)`.
    ///
    /// ```
    /// use quickassist_webhooks::{receive::{Receiver, integration::RequestHead}, sign, testing::{provider_sample_time, PROVIDER_SAMPLE}, Secret, Verifier};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let receiver = Receiver::builder(Verifier::new("whsec_example").clock(provider_sample_time)).build()?;
    /// let signature = sign(&Secret::from("whsec_example"), PROVIDER_SAMPLE.as_bytes());
    /// let head = RequestHead::new(None, [signature.as_bytes()]);
    /// let body = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(bytes::Bytes::from(PROVIDER_SAMPLE))]);
    /// let delivery = receiver.verify(&head, body).await.expect("a valid delivery");
    /// assert_eq!(delivery.envelope.webhook_id, "whk_abc123");
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    #[tracing::instrument(
        name = "webhook",
        level = "debug",
        skip_all,
        fields(webhook_id, event, account)
    )]
    pub async fn verify<S, D, E>(
        &self,
        head: &RequestHead,
        body: S,
    ) -> Result<VerifiedDelivery, Rejection>
    where
        S: Stream<Item = Result<D, E>>,
        D: Buf,
        E: Display,
    {
        self.verify_request(head, body)
            .await
            .map_err(Refusal::reject)
    }

    /// Drives one request through the whole pipeline.
    ///
    /// `request` is the framework's request, passed back untouched when the pipeline
    /// answers by itself, or handed to `call` with the [`Delivery`] when the handler should
    /// run; `status_of` tells the HTTP status of the handler's response (an `Err` from the
    /// handler counts as a failure). A 2xx completes the delivery's claim, anything else releases it so the
    /// provider's retry is processed. The settlement is recorded even if this future is
    /// dropped after the handler returned (the client went away); dropping it before the
    /// handler finished releases the claim.
    ///
    /// Emits one span per delivery (`webhook`, with `webhook_id` and `event`), one log event
    /// per outcome and, with the `metrics` feature, the metrics described in the crate docs.
    #[tracing::instrument(
        name = "webhook",
        level = "debug",
        skip_all,
        fields(webhook_id, event, account)
    )]
    pub async fn receive<Req, Res, Err, S, D, E, Call, Fut>(
        &self,
        request: Req,
        head: RequestHead,
        body: S,
        call: Call,
        status_of: impl FnOnce(&Res) -> u16,
    ) -> Received<Req, Result<Res, Err>>
    where
        S: Stream<Item = Result<D, E>>,
        D: Buf,
        E: Display,
        Call: FnOnce(Req, VerifiedDelivery) -> Fut,
        Fut: Future<Output = Result<Res, Err>>,
    {
        let delivery = match self.verify_request(&head, body).await {
            Ok(delivery) => delivery,
            Err(refusal) => return Received::answered(request, refusal.answered()),
        };
        let guard = match self.admit(&delivery).await {
            Ok(guard) => guard,
            Err(answer) => return Received::answered(request, answer.after(delivery)),
        };
        let webhook_id = delivery.envelope.webhook_id.clone();
        let started = Instant::now();
        // Dropping this future while the handler runs drops `guard` unsettled, which
        // releases the claim: the provider's retry is processed.
        let response = call(request, delivery).await;
        let success = response
            .as_ref()
            .is_ok_and(|response| (200..300).contains(&status_of(response)));
        // No await point between the handler's return and this call: once started, the
        // settlement runs to its end even if this future is dropped.
        let outcome = settle(guard, success, started, &webhook_id).await;
        Received::Handled { response, outcome }
    }

    /// The de-duplication step: the claim to settle once the handler is done (`None` when
    /// not guarded), or the answer that replaces the handler (a duplicate, a copy in
    /// flight, a store that cannot answer).
    async fn admit(&self, delivery: &Delivery) -> Result<Option<DeliveryGuard>, Answer> {
        let Some(dedup) = &self.config.dedup else {
            return Ok(None);
        };
        let scope = delivery.account.as_ref().map(AccountId::as_str);
        let webhook_id = Some(delivery.envelope.webhook_id.as_str());
        match dedup.admit_scoped(scope, &delivery.envelope).await {
            Ok(Admission::Process(guard)) => Ok(Some(guard)),
            Ok(Admission::Unguarded) => Ok(None),
            Ok(Admission::Duplicate) => {
                Err(observe::answered(Answer::duplicate(), webhook_id, None))
            }
            Err(DedupRejection::StoreUnavailable(error)) => {
                observe::store_unavailable(webhook_id, &error);
                Err(Answer::rejected(Rejection::StoreUnavailable))
            }
            Err(refused) => Err(observe::answered(
                Answer::rejected(Rejection::from(&refused)),
                webhook_id,
                None,
            )),
        }
    }

    /// Head, body, signature, envelope: the generic shell around [`check_head`] and
    /// [`verify_body`](Self::verify_body); only reading the body depends on its stream type.
    ///
    /// [`check_head`]: Self::check_head
    pub(super) async fn verify_request<S, D, E>(
        &self,
        head: &RequestHead,
        body: S,
    ) -> Result<VerifiedDelivery, Refusal>
    where
        S: Stream<Item = Result<D, E>>,
        D: Buf,
        E: Display,
    {
        let (claimed, account_verifier) = self.check_head(head).await?;
        let buffer = BodyBuffer::new(self.config.verifier.max_body(), head.declared_length());
        // The charge is held until the body is verified and parsed: what strangers can
        // make the receiver hold.
        let (body, _charge) = read_chunks(buffer, body, &self.config.body)
            .await
            .map_err(|error| Refusal::new(error.rejection(), error))?;
        self.verify_body(head, claimed, account_verifier, body)
    }

    /// What the head alone decides, before a byte of the body is read: the declared length
    /// against the limit (413) and the body budget (503), the signature header's form (401)
    /// and, for many accounts, the account's verifier (401 unknown, 503 unavailable).
    async fn check_head<'h>(
        &self,
        head: &'h RequestHead,
    ) -> Result<(&'h ClaimedTag, Option<Verifier>), Refusal> {
        let limit = self.config.verifier.max_body();
        let declared = head.declared_length();
        if declared.is_some_and(|len| len > limit as u64) {
            return Err(Refusal::new(
                Rejection::PayloadTooLarge,
                "declared length over the limit",
            ));
        }
        let claimed = head
            .signature()
            .map_err(|rejection| Refusal::new(rejection, "signature header"))?;
        // Within the limit, so it fits in a usize.
        if declared.is_some_and(|len| !self.config.body.budget.could_take(len as usize)) {
            return Err(Refusal::new(
                Rejection::Overloaded,
                "no room in the body budget for the declared length",
            ));
        }
        Ok((claimed, self.account_verifier(head).await?))
    }

    /// Verifies the signature over `body` (or its `JSON.stringify` form) and parses the
    /// signed bytes into the envelope.
    fn verify_body(
        &self,
        head: &RequestHead,
        claimed: &ClaimedTag,
        account_verifier: Option<Verifier>,
        body: Bytes,
    ) -> Result<VerifiedDelivery, Refusal> {
        let verifier = account_verifier.as_ref().unwrap_or(&self.config.verifier);
        let verified = verifier
            .verify_claimed(claimed, &body)
            .map_err(|error| Refusal::new(Rejection::from(&error), error))?;
        let verification = verified.info();
        // Exactly what was signed goes on: the canonical form, when that is what verified.
        let body = verified.into_canonical().map_or(body, Bytes::from);
        let envelope =
            parse_envelope::<Event>(&body).map_err(|error| Refusal::invalid_payload(&error))?;
        let account = account_verifier.and(head.account().cloned());
        observe::verified(&envelope, account.as_ref());
        Ok(VerifiedDelivery::new(Delivery::new(
            body,
            envelope,
            verification,
            account,
        )))
    }

    /// For a receiver of many accounts, the verifier of the account the request names
    /// (only its secrets are tried); `None` for a receiver of one.
    async fn account_verifier(&self, head: &RequestHead) -> Result<Option<Verifier>, Refusal> {
        let Some(accounts) = &self.config.accounts else {
            return Ok(None);
        };
        let unknown = |detail| Refusal::new(Rejection::UnknownAccount, detail);
        let account = head
            .account()
            .ok_or_else(|| unknown("no valid account id"))?;
        match accounts.verifier(account, &self.config.verifier).await {
            Ok(Some(verifier)) => Ok(Some(verifier)),
            Ok(None) => Err(unknown("the secret source does not know the account")),
            Err(error) => Err(Refusal::new(Rejection::SecretSourceUnavailable, error)),
        }
    }
}

/// Records the handler's end and settles its claim: completed on success, released
/// otherwise (so the provider's retry is processed).
async fn settle(
    guard: Option<DeliveryGuard>,
    success: bool,
    started: Instant,
    webhook_id: &str,
) -> Outcome {
    observe::handler_finished(started.elapsed());
    if let Some(guard) = guard {
        if let Err(error) = guard.settle(success).await {
            tracing::warn!(
                webhook_id,
                %error,
                success,
                "could not settle the delivery's claim; it expires with its lease"
            );
        }
    }
    let outcome = if success {
        Outcome::Processed
    } else {
        Outcome::HandlerFailed
    };
    observe::handled(outcome, webhook_id);
    outcome
}

impl<Req, Res> Received<Req, Res> {
    fn answered(request: Req, answered: Answered) -> Self {
        let Answered { answer, envelope } = answered;
        Self::Answered {
            request,
            answer,
            envelope,
        }
    }
}

impl Answer {
    /// This answer, given after `delivery` verified.
    pub(super) fn after(self, delivery: VerifiedDelivery) -> Answered {
        Answered {
            answer: self,
            envelope: Some(delivery.into_delivery().envelope),
        }
    }
}

/// A refusal before the delivery is trusted, with what to say about it in the log.
pub(super) struct Refusal {
    rejection: Rejection,
    detail: String,
}

impl Refusal {
    fn new(rejection: Rejection, detail: impl Display) -> Self {
        Self {
            rejection,
            detail: detail.to_string(),
        }
    }

    pub(super) fn invalid_payload(error: &PayloadError) -> Self {
        Self::new(
            Rejection::from(error),
            format_args!("{error} (at {})", error.path()),
        )
    }

    /// Logs the refusal (its one event) and gives the answer.
    pub(super) fn answer(self) -> Answer {
        observe::answered(Answer::rejected(self.rejection), None, Some(&self.detail))
    }

    /// Logs the refusal and gives the answer, before anything was verified.
    pub(super) fn answered(self) -> Answered {
        Answered {
            answer: self.answer(),
            envelope: None,
        }
    }

    /// Logs the refusal (its one event) and gives the rejection.
    pub(super) fn reject(self) -> Rejection {
        let rejection = self.rejection;
        self.answer();
        rejection
    }
}
