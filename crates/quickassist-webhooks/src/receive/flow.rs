//! The receiving flow: head → body → verify → parse → admit → handler → settle → answer.

use std::{fmt::Display, future::Future, time::Instant};

use bytes::{Buf, Bytes};
use futures_core::Stream;

use super::{
    body::{read_chunks, BodyBuffer},
    delivery::{Delivery, VerifiedDelivery},
    observe, Answer, Intake, Outcome, Receiver, RequestHead, Stored,
};
use crate::{
    accounts::AccountId,
    event::{parse_envelope, PayloadError},
    idempotency::{Admission, DedupRejection},
    rejection::Rejection,
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
    /// The pipeline answered by itself (a rejection, a duplicate, or a delivery stored by
    /// the [`Intake`]); the request is given back unused, for frameworks that build responses from it.
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
    /// use quickassist_webhooks::{receive::{Receiver, RequestHead}, sign, testing::{provider_sample_time, PROVIDER_SAMPLE}, Secret, Verifier};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let receiver = Receiver::builder(Verifier::new("whsec_example").clock(provider_sample_time)).build()?;
    /// let signature = sign(&Secret::from("whsec_example"), PROVIDER_SAMPLE.as_bytes());
    /// let head = RequestHead::new(None, [signature.as_bytes()]);
    /// let body = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(bytes::Bytes::from(PROVIDER_SAMPLE))]);
    /// let delivery = receiver.accept(&head, body).await.expect("a valid delivery");
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
    pub async fn accept<S, D, E>(
        &self,
        head: &RequestHead,
        body: S,
    ) -> Result<VerifiedDelivery, Rejection>
    where
        S: Stream<Item = Result<D, E>>,
        D: Buf,
        E: Display,
    {
        self.accept_in_span(head, body)
            .await
            .map_err(Refusal::reject)
    }

    /// Drives one request through the whole pipeline.
    ///
    /// With an [`Intake`] ([`ReceiverBuilder::intake`](super::ReceiverBuilder::intake)), a
    /// verified delivery is stored and answered by the pipeline
    /// ([`Received::Answered`] with [`Outcome::Accepted`], a duplicate, or 503); `call` is
    /// never called.
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
        let delivery = match self.accept_in_span(&head, body).await {
            Ok(delivery) => delivery,
            Err(refusal) => {
                let answer = refusal.answer();
                return Received::Answered {
                    request,
                    answer,
                    envelope: None,
                };
            }
        };
        if let Some(intake) = &self.config.intake {
            let answer = self.store(intake.as_ref(), &delivery).await;
            return Received::Answered {
                request,
                answer,
                envelope: Some(delivery.into_delivery().envelope),
            };
        }
        let admission = match &self.config.dedup {
            None => Ok(Admission::Unguarded),
            Some(dedup) => {
                let scope = delivery.account.as_ref().map(AccountId::as_str);
                dedup.admit_scoped(scope, &delivery.envelope).await
            }
        };
        let guard = match admission {
            Ok(Admission::Process(guard)) => Some(guard),
            Ok(Admission::Unguarded) => None,
            Ok(Admission::Duplicate) => {
                let webhook_id = Some(delivery.envelope.webhook_id.as_str());
                let answer = observe::answered(Answer::duplicate(), webhook_id, None);
                let envelope = Some(delivery.into_delivery().envelope);
                return Received::Answered {
                    request,
                    answer,
                    envelope,
                };
            }
            Err(refused) => {
                let webhook_id = Some(delivery.envelope.webhook_id.as_str());
                let answer = match &refused {
                    DedupRejection::StoreUnavailable(error) => {
                        observe::store_unavailable(webhook_id, error);
                        Answer::rejected(Rejection::StoreUnavailable)
                    }
                    _ => observe::answered(
                        Answer::rejected(Rejection::from(&refused)),
                        webhook_id,
                        None,
                    ),
                };
                let envelope = Some(delivery.into_delivery().envelope);
                return Received::Answered {
                    request,
                    answer,
                    envelope,
                };
            }
        };
        let webhook_id = delivery.envelope.webhook_id.clone();
        let started = Instant::now();
        // Dropping this future while the handler runs drops `guard` unsettled, which
        // releases the claim: the provider's retry is processed.
        let response = call(request, delivery).await;
        observe::handler_finished(started.elapsed());
        let success = response
            .as_ref()
            .is_ok_and(|response| (200..300).contains(&status_of(response)));
        if let Some(guard) = guard {
            // No await point between the handler's return and this call: once started, the
            // settlement runs to its end even if this future is dropped.
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
        observe::handled(outcome, &webhook_id);
        Received::Handled { response, outcome }
    }

    /// The intake mode's answer: the delivery stored, already stored, or not storable.
    async fn store(&self, intake: &dyn Intake, delivery: &Delivery) -> Answer {
        let webhook_id = Some(delivery.envelope.webhook_id.as_str());
        match intake.store(delivery).await {
            Ok(Stored::New) => observe::answered(Answer::accepted(), webhook_id, None),
            Ok(_) => observe::answered(Answer::duplicate(), webhook_id, None),
            Err(error) => {
                observe::store_unavailable(webhook_id, &error);
                Answer::rejected(Rejection::StoreUnavailable)
            }
        }
    }

    async fn accept_in_span<S, D, E>(
        &self,
        head: &RequestHead,
        body: S,
    ) -> Result<VerifiedDelivery, Refusal>
    where
        S: Stream<Item = Result<D, E>>,
        D: Buf,
        E: Display,
    {
        let verifier = &self.config.verifier;
        let limit = verifier.max_body();
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
        let budget = &self.config.body.budget;
        // Within the limit, so it fits in a usize.
        if declared.is_some_and(|len| !budget.could_take(len as usize)) {
            return Err(Refusal::new(
                Rejection::Overloaded,
                "no room in the body budget for the declared length",
            ));
        }
        let account_verifier = self.account_verifier(head).await?;
        let verifier = account_verifier.as_ref().unwrap_or(verifier);
        let buffer = BodyBuffer::new(limit, declared);
        // The charge is held until the body is verified and parsed: what strangers can
        // make the receiver hold.
        let (body, _charge) = read_chunks(buffer, body, &self.config.body)
            .await
            .map_err(|error| Refusal::new(error.rejection(), error))?;
        let verified = verifier
            .verify_claimed(claimed, &body)
            .map_err(|error| Refusal::new(Rejection::from(&error), error))?;
        let verification = verified.info();
        // Exactly what was signed goes on: the canonical form, when that is what verified.
        let body = verified.into_canonical().map_or(body, Bytes::from);
        let envelope =
            parse_envelope::<Event>(&body).map_err(|error| Refusal::invalid_payload(&error))?;
        let account = account_verifier.and(head.account().cloned());
        observe::accepted(&envelope, account.as_ref());
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
    fn answer(self) -> Answer {
        observe::answered(Answer::rejected(self.rejection), None, Some(&self.detail))
    }

    /// Logs the refusal (its one event) and gives the rejection.
    pub(super) fn reject(self) -> Rejection {
        let rejection = self.rejection;
        self.answer();
        rejection
    }
}
