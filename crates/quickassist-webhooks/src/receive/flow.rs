//! The receiving flow: head → body → verify → parse → admit → handler → settle → answer.

use std::{fmt::Display, future::Future, time::Instant};

use bytes::{Buf, Bytes};
use futures_core::Stream;

use super::{
    body::{read_chunks, BodyBuffer},
    observe, Answer, Outcome, Receiver, RequestHead,
};
use crate::{
    event::parse_envelope,
    idempotency::{Admission, DedupRejection},
    rejection::Rejection,
    Envelope, Event, Verification,
};

/// A delivery whose signature verified and whose body parsed: what the handler gets.
///
/// Integrations hand the handler [`body`](Self::body) as the request body (exactly the
/// verified bytes) and put [`envelope`](Self::envelope) and
/// [`verification`](Self::verification) in the request extensions.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Delivery {
    /// The verified body, exactly as received.
    pub body: Bytes,
    /// The parsed envelope.
    pub envelope: Envelope<Event>,
    /// Which form of the body and which secret matched.
    pub verification: Verification,
}

/// What [`Receiver::receive`] did with a request.
#[derive(Debug)]
pub enum Received<Req, Res> {
    /// The handler was called; `response` is what it returned. `outcome` is
    /// [`Outcome::Processed`] or [`Outcome::HandlerFailed`].
    Handled {
        /// The handler's result.
        response: Res,
        /// The decision, for the response extensions.
        outcome: Outcome,
    },
    /// The pipeline answered by itself (a rejection or a duplicate); the request is given
    /// back unused, for frameworks that build responses from it.
    Answered {
        /// The request, unused.
        request: Req,
        /// The answer to copy into a response.
        answer: Answer,
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
    /// The [`Answer`] for a refused request (401 / 413 / 408 / 400), already logged.
    ///
    /// ```
    /// use quickassist_webhooks::{receive::{Receiver, RequestHead}, sign, testing::PROVIDER_SAMPLE, Secret, Verifier};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let receiver = Receiver::builder(Verifier::new("whsec_example")).build()?;
    /// let signature = sign(&Secret::from("whsec_example"), PROVIDER_SAMPLE.as_bytes());
    /// let head = RequestHead::new(None, [signature.as_bytes()]);
    /// let body = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(bytes::Bytes::from(PROVIDER_SAMPLE))]);
    /// let delivery = receiver.accept(&head, body).await.expect("a valid delivery");
    /// assert_eq!(delivery.envelope.webhook_id, "whk_abc123");
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    #[tracing::instrument(name = "webhook", level = "debug", skip_all, fields(webhook_id, event))]
    pub async fn accept<S, D, E>(&self, head: &RequestHead, body: S) -> Result<Delivery, Answer>
    where
        S: Stream<Item = Result<D, E>>,
        D: Buf,
        E: Display,
    {
        self.accept_in_span(head, body)
            .await
            .map_err(|refusal| refusal.answer())
    }

    /// Drives one request through the whole pipeline.
    ///
    /// `request` is the framework's request, passed back untouched when the pipeline
    /// answers by itself, or handed to `call` with the [`Delivery`] when the handler should
    /// run; `status_of` tells the handler's HTTP status from its result (`None` for an
    /// error). A 2xx completes the delivery's claim, anything else releases it so the
    /// provider's retry is processed. The settlement is recorded even if this future is
    /// dropped after the handler returned (the client went away); dropping it before the
    /// handler finished releases the claim.
    ///
    /// Emits one span per delivery (`webhook`, with `webhook_id` and `event`), one log event
    /// per outcome and, with the `metrics` feature, the metrics described in the crate docs.
    #[tracing::instrument(name = "webhook", level = "debug", skip_all, fields(webhook_id, event))]
    pub async fn receive<Req, Res, S, D, E, Call, Fut>(
        &self,
        request: Req,
        head: RequestHead,
        body: S,
        call: Call,
        status_of: impl FnOnce(&Res) -> Option<u16>,
    ) -> Received<Req, Res>
    where
        S: Stream<Item = Result<D, E>>,
        D: Buf,
        E: Display,
        Call: FnOnce(Req, Delivery) -> Fut,
        Fut: Future<Output = Res>,
    {
        let delivery = match self.accept_in_span(&head, body).await {
            Ok(delivery) => delivery,
            Err(refusal) => {
                let answer = refusal.answer();
                return Received::Answered { request, answer };
            }
        };
        let admission = match &self.config.dedup {
            None => Ok(Admission::Unguarded),
            Some(dedup) => dedup.admit(&delivery.envelope).await,
        };
        let guard = match admission {
            Ok(Admission::Process(guard)) => Some(guard),
            Ok(Admission::Unguarded) => None,
            Ok(Admission::Duplicate) => {
                let webhook_id = Some(delivery.envelope.webhook_id.as_str());
                let answer = observe::answered(Answer::duplicate(), webhook_id, None);
                return Received::Answered { request, answer };
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
                return Received::Answered { request, answer };
            }
        };
        let webhook_id = delivery.envelope.webhook_id.clone();
        let started = Instant::now();
        // Dropping this future while the handler runs drops `guard` unsettled, which
        // releases the claim: the provider's retry is processed.
        let response = call(request, delivery).await;
        observe::handler_finished(started.elapsed());
        let success = status_of(&response).is_some_and(|status| (200..300).contains(&status));
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

    async fn accept_in_span<S, D, E>(
        &self,
        head: &RequestHead,
        body: S,
    ) -> Result<Delivery, Refusal>
    where
        S: Stream<Item = Result<D, E>>,
        D: Buf,
        E: Display,
    {
        let verifier = &self.config.verifier;
        let limit = verifier.max_body_size();
        if head.declared_length().is_some_and(|len| len > limit as u64) {
            return Err(Refusal::new(
                Rejection::PayloadTooLarge,
                "declared length over the limit",
            ));
        }
        let claimed = head
            .signature()
            .map_err(|rejection| Refusal::new(rejection, "signature header"))?;
        let buffer = BodyBuffer::new(limit, head.declared_length());
        let body = read_chunks(buffer, body, self.config.body_timeout)
            .await
            .map_err(|error| Refusal::new(error.rejection(), error))?;
        let verification = verifier
            .verify_claimed(claimed, &body)
            .map_err(|error| Refusal::new(Rejection::from(&error), error))?
            .info();
        let envelope = parse_envelope::<Event>(&body).map_err(|error| {
            let detail = format!("{error} (at {})", error.path());
            Refusal::new(Rejection::from(&error), detail)
        })?;
        observe::accepted(&envelope);
        Ok(Delivery {
            body,
            envelope,
            verification,
        })
    }
}

/// A refusal before the delivery is trusted, with what to say about it in the log.
struct Refusal {
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

    /// Logs the refusal (its one event) and gives the answer.
    fn answer(self) -> Answer {
        observe::answered(Answer::rejected(self.rejection), None, Some(&self.detail))
    }
}
