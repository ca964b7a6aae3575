//! What the pipeline hands on once a request verified: the [`Delivery`], and the
//! [`VerifiedDelivery`] that proves it came from the pipeline.

use std::{any::Any, ops::Deref};

use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::flow::Refusal;
use crate::{
    accounts::AccountId, event::parse_envelope, rejection::Rejection, Envelope, Event, Verification,
};

/// A delivery whose signature verified and whose body parsed.
///
/// It is plain data: a store or an inbox takes one, and a test builds one with
/// `testing::delivery` (feature `testing`). What an integration puts in the request
/// extensions is the [`VerifiedDelivery`] around it, which only the pipeline makes.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Delivery {
    /// The signed bytes: the body as received, or its `JSON.stringify` form when that is
    /// what verified ([`SignedForm::Canonical`](crate::SignedForm::Canonical)), so that
    /// nothing the signature does not cover reaches the handler.
    pub body: Bytes,
    /// The parsed envelope.
    pub envelope: Envelope<Event>,
    /// Which form of the body and which secret matched.
    pub verification: Verification,
    /// The account it was verified for, for a receiver of many accounts.
    pub account: Option<AccountId>,
}

impl Delivery {
    /// A delivery of `body`, `envelope` and `verification`: for the pipeline, and for tests
    /// through `testing::delivery`.
    pub(crate) fn new(
        body: Bytes,
        envelope: Envelope<Event>,
        verification: Verification,
        account: Option<AccountId>,
    ) -> Self {
        Self {
            body,
            envelope,
            verification,
            account,
        }
    }

    /// The envelope with its event as `E`: moved out as is for [`Event`], parsed again from
    /// the signed body for your own event type.
    ///
    /// # Errors
    ///
    /// [`Rejection::InvalidPayload`] (400) when the body is not an `Envelope<E>` (already
    /// logged).
    ///
    /// ```
    /// use quickassist_webhooks::{testing, Envelope};
    ///
    /// let delivery = testing::delivery(&testing::sample("message.read", "whk_1"));
    /// let raw: Envelope<serde_json::Value> = delivery.into_envelope().unwrap();
    /// assert_eq!(raw.event["event"], "message.read");
    /// ```
    pub fn into_envelope<E: DeserializeOwned + 'static>(self) -> Result<Envelope<E>, Rejection> {
        let typed: Box<dyn Any> = Box::new(self.envelope);
        match typed.downcast::<Envelope<E>>() {
            Ok(envelope) => Ok(*envelope),
            Err(_) => parse_verified(&self.body),
        }
    }
}

/// A [`Delivery`] that the receiving pipeline verified: the proof integrations put in the
/// request extensions.
///
/// Nothing outside this crate can make one (there is no constructor, and `testing` builds
/// only a [`Delivery`]), so an extractor that finds one knows the layer verified the body,
/// whatever else a middleware inserted. It dereferences to the [`Delivery`].
///
/// ```
/// use quickassist_webhooks::{receive::{Receiver, integration::RequestHead}, sign, testing::{provider_sample_time, PROVIDER_SAMPLE}, Secret, Verifier};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let receiver = Receiver::verify_only(Verifier::new("k").clock(provider_sample_time));
/// let signature = sign(&Secret::from("k"), PROVIDER_SAMPLE.as_bytes());
/// let body = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(bytes::Bytes::from(PROVIDER_SAMPLE))]);
/// let verified = receiver.verify(&RequestHead::new(None, [signature.as_bytes()]), body).await.unwrap();
/// assert_eq!(verified.envelope.webhook_id, "whk_abc123");
/// assert_eq!(verified.body, PROVIDER_SAMPLE.as_bytes());
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct VerifiedDelivery(Delivery);

impl VerifiedDelivery {
    pub(crate) fn new(delivery: Delivery) -> Self {
        Self(delivery)
    }

    /// The delivery.
    ///
    /// ```
    /// # use quickassist_webhooks::receive::VerifiedDelivery;
    /// fn webhook_id(verified: &VerifiedDelivery) -> &str {
    ///     &verified.delivery().envelope.webhook_id
    /// }
    /// ```
    pub fn delivery(&self) -> &Delivery {
        &self.0
    }

    /// The delivery, moved out.
    ///
    /// ```
    /// # use quickassist_webhooks::receive::{Delivery, VerifiedDelivery};
    /// fn take(verified: VerifiedDelivery) -> Delivery {
    ///     verified.into_delivery()
    /// }
    /// ```
    pub fn into_delivery(self) -> Delivery {
        self.0
    }

    /// The envelope with its event as `E`; see [`Delivery::into_envelope`].
    ///
    /// # Errors
    ///
    /// [`Rejection::InvalidPayload`] (400) when the body is not an `Envelope<E>`.
    ///
    /// ```
    /// # use quickassist_webhooks::{receive::VerifiedDelivery, rejection::Rejection, Envelope};
    /// fn raw(verified: VerifiedDelivery) -> Result<Envelope<serde_json::Value>, Rejection> {
    ///     verified.into_envelope()
    /// }
    /// ```
    pub fn into_envelope<E: DeserializeOwned + 'static>(self) -> Result<Envelope<E>, Rejection> {
        self.0.into_envelope()
    }
}

impl Deref for VerifiedDelivery {
    type Target = Delivery;

    fn deref(&self) -> &Delivery {
        &self.0
    }
}

/// Parses an already verified body into an `Envelope<E>`; a refusal is logged.
pub(crate) fn parse_verified<E: DeserializeOwned>(body: &[u8]) -> Result<Envelope<E>, Rejection> {
    parse_envelope::<E>(body).map_err(|error| Refusal::invalid_payload(&error).reject())
}
