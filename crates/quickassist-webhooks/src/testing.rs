//! Signed requests and realistic sample events, for tests, senders and the CLI.
//!
//! ```
//! use quickassist_webhooks::{testing::{sample, SignedRequest}, Event, Secret, Verifier};
//!
//! let secret = Secret::from("whsec_test");
//! let request = SignedRequest::new(&secret, &sample(Event::MESSAGE_DELIVERED, "whk_1"));
//! let verified = Verifier::new("whsec_test").verify(Some(&request.signature), &request.body)?;
//! assert_eq!(verified.parse::<Event>()?.webhook_id, "whk_1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use crate::{
    canonical::canonicalize, receive::Delivery, sign, Envelope, Event, Secret, SignedForm,
    Verification,
};

/// A request body and the `x-webhook-signature` the provider would send with it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedRequest {
    /// The body bytes to send.
    pub body: Vec<u8>,
    /// The signature header value: lowercase hex HMAC-SHA256.
    pub signature: String,
}

impl SignedRequest {
    /// Serializes `payload` compactly, as `JSON.stringify` would, and signs those bytes.
    ///
    /// Anything serializable works: an [`Envelope`], a `serde_json::Value`, your own type.
    ///
    /// # Panics
    ///
    /// If `payload` does not serialize to JSON (its `Serialize` impl fails, or it is a map
    /// with non-string keys): a test payload that cannot be sent is a bug in the test. Use
    /// [`SignedRequest::try_new`] for payloads that may not serialize.
    #[must_use]
    pub fn new(secret: &Secret, payload: &impl Serialize) -> Self {
        match Self::try_new(secret, payload) {
            Ok(request) => request,
            Err(error) => panic!(
                "SignedRequest::new: the payload must serialize to JSON, but it did not: {error}"
            ),
        }
    }

    /// [`SignedRequest::new`] for payloads that may not serialize.
    ///
    /// ```
    /// use quickassist_webhooks::{testing::{sample, SignedRequest}, Event, Secret};
    ///
    /// let request = SignedRequest::try_new(&Secret::from("s"), &sample(Event::MESSAGE_READ, "w"))?;
    /// assert!(request.body.starts_with(b"{\"event\":\"message.read\""));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// serde_json's error when `payload` does not serialize to JSON; nothing is signed then.
    pub fn try_new(secret: &Secret, payload: &impl Serialize) -> Result<Self, serde_json::Error> {
        // serde_json's compact output of a Value/Envelope is valid JSON; canonicalizing it
        // makes numbers and key order exactly what JSON.stringify produces.
        let compact = serde_json::to_vec(payload)?;
        let body = canonicalize(&compact).unwrap_or(compact);
        Ok(Self::raw(secret, body))
    }

    /// Signs exactly `body`, whatever it contains.
    #[must_use]
    pub fn raw(secret: &Secret, body: impl Into<Vec<u8>>) -> Self {
        let body = body.into();
        let signature = sign(secret, &body);
        Self { body, signature }
    }

    /// The provider's documented receiver signs `JSON.stringify(req.body)`: this sends `payload`
    /// pretty-printed, signed over its canonical form, as a re-indenting proxy would deliver it.
    ///
    /// # Panics
    ///
    /// As [`SignedRequest::new`], if `payload` does not serialize to JSON.
    #[must_use]
    pub fn pretty(secret: &Secret, payload: &impl Serialize) -> Self {
        let signed = Self::new(secret, payload);
        let body = serde_json::to_vec_pretty(payload).unwrap_or_else(|_| signed.body.clone());
        Self {
            body,
            signature: signed.signature,
        }
    }
}

/// A realistic envelope of the event type `event` (any documented name; other names give an
/// [`Event::Unknown`]), stamped now, with the given `webhook_id`.
///
/// ```
/// let envelope = quickassist_webhooks::testing::sample("template.status_update", "whk_9");
/// assert_eq!(envelope.event.name(), "template.status_update");
/// ```
#[must_use]
pub fn sample(event: &str, webhook_id: &str) -> Envelope {
    sample_at(event, webhook_id, Utc::now().trunc_subsecs(3))
}

/// [`sample`] at a fixed time, for reproducible bodies.
#[must_use]
pub fn sample_at(event: &str, webhook_id: &str, at: DateTime<Utc>) -> Envelope {
    let stamp = at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let data = match event {
        Event::MESSAGE_DELIVERED => json!({
            "messageId": "msg_123456789", "recipient": "+1234567890",
            "template": "welcome_message", "deliveredAt": stamp, "deviceType": "android",
        }),
        Event::MESSAGE_READ => json!({
            "messageId": "msg_123456789", "recipient": "+1234567890",
            "template": "welcome_message", "readAt": stamp, "deviceType": "ios",
        }),
        Event::TEMPLATE_STATUS_UPDATE => json!({
            "template": "welcome_message", "templateId": "tpl_42", "status": "approved",
        }),
        Event::MESSAGE_FAILED => json!({
            "messageId": "msg_123456789", "recipient": "+1234567890",
            "template": "welcome_message", "failedAt": stamp,
            "reason": "recipient blocked the sender", "errorCode": 131_026,
        }),
        _ => json!({ "note": "an event type this SDK does not know yet" }),
    };
    let event: Event = serde_json::from_value(json!({ "event": event, "data": data }))
        .unwrap_or_else(|_| Event::Unknown {
            event: event.to_owned(),
            data: Value::Null,
        });
    Envelope::new(event, at, webhook_id)
}

/// The provider's own example payload, byte for byte as its documentation shows it
/// (compact, in its field order).
///
/// Its `timestamp` is in 2024, so a receiver with a replay window refuses it as stale; give
/// the verifier [`provider_sample_time`] as its clock to accept it.
pub const PROVIDER_SAMPLE: &str = r#"{"event":"message.delivered","timestamp":"2024-01-15T10:30:00Z","data":{"messageId":"msg_123456789","recipient":"+1234567890","template":"welcome_message","deliveredAt":"2024-01-15T10:30:00Z","deviceType":"android"},"webhookId":"whk_abc123"}"#;

/// The moment [`PROVIDER_SAMPLE`] was stamped: a clock for a verifier that must accept it
/// inside its replay window.
///
/// ```
/// use quickassist_webhooks::{sign, testing::{provider_sample_time, PROVIDER_SAMPLE}, Secret, Verifier};
///
/// let verifier = Verifier::new("k")
///     .with_timestamp_tolerance(std::time::Duration::from_secs(300))
///     .clock(provider_sample_time);
/// let signature = sign(&Secret::from("k"), PROVIDER_SAMPLE.as_bytes());
/// assert!(verifier.verify(Some(&signature), PROVIDER_SAMPLE.as_bytes()).is_ok());
/// ```
#[must_use]
pub fn provider_sample_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_705_314_600, 0).unwrap_or_default()
}

/// A [`Delivery`] of `envelope`, as the pipeline would hand it on after verifying its
/// compact body with the first secret: for testing a store, an inbox or a handler without
/// running a request through a receiver.
///
/// It is only a [`Delivery`]: the proof an extractor trusts,
/// [`VerifiedDelivery`](crate::receive::VerifiedDelivery), comes from the pipeline alone.
///
/// ```
/// use quickassist_webhooks::testing::{delivery, sample};
///
/// let delivery = delivery(&sample("message.delivered", "whk_1"));
/// assert_eq!(delivery.envelope.webhook_id, "whk_1");
/// assert!(delivery.body.starts_with(b"{\"event\":\"message.delivered\""));
/// assert_eq!(delivery.account, None);
/// ```
#[must_use]
pub fn delivery(envelope: &Envelope) -> Delivery {
    // An `Envelope` always serializes: its fields are strings, a timestamp and JSON values.
    let body = serde_json::to_vec(envelope).unwrap_or_default();
    let verification = Verification {
        form: SignedForm::Raw,
        key_index: 0,
    };
    Delivery::new(body.into(), envelope.clone(), verification, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SignedForm, Verifier};

    #[test]
    fn every_documented_sample_parses_as_its_typed_variant() {
        let secret = Secret::from("s");
        for name in Event::DOCUMENTED {
            let request = SignedRequest::new(&secret, &sample(name, "whk"));
            let verified = Verifier::new("s")
                .verify(Some(&request.signature), &request.body)
                .unwrap();
            let envelope = verified.parse::<Event>().unwrap();
            assert_eq!(envelope.event.name(), name);
            assert!(!matches!(envelope.event, Event::Unknown { .. }), "{name}");
        }
        let unknown = sample("contact.created", "whk");
        assert!(
            matches!(unknown.event, Event::Unknown { ref event, .. } if event == "contact.created")
        );
    }

    #[test]
    fn pretty_requests_verify_through_the_canonical_form() {
        let request = SignedRequest::pretty(&Secret::from("s"), &sample(Event::MESSAGE_READ, "w"));
        assert!(request.body.contains(&b'\n'));
        let verified = Verifier::new("s")
            .verify(Some(&request.signature), &request.body)
            .unwrap();
        assert_eq!(verified.form(), SignedForm::Canonical);
    }

    /// A payload whose `Serialize` impl always fails.
    struct Unserializable;

    impl Serialize for Unserializable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom(
                "this payload refuses to serialize",
            ))
        }
    }

    #[test]
    fn try_new_returns_the_serialization_error_instead_of_signing_an_empty_body() {
        let error = SignedRequest::try_new(&Secret::from("s"), &Unserializable).unwrap_err();
        assert!(
            error.to_string().contains("refuses to serialize"),
            "{error}"
        );
    }

    #[test]
    #[should_panic(expected = "the payload must serialize to JSON")]
    fn new_panics_when_the_payload_does_not_serialize() {
        let _ = SignedRequest::new(&Secret::from("s"), &Unserializable);
    }

    #[test]
    #[should_panic(expected = "the payload must serialize to JSON")]
    fn pretty_panics_when_the_payload_does_not_serialize() {
        let _ = SignedRequest::pretty(&Secret::from("s"), &Unserializable);
    }

    #[test]
    fn provider_sample_round_trips_byte_for_byte() {
        let envelope: Envelope = serde_json::from_str(PROVIDER_SAMPLE).unwrap();
        assert_eq!(serde_json::to_string(&envelope).unwrap(), PROVIDER_SAMPLE);
        assert_eq!(
            SignedRequest::new(&Secret::from("s"), &envelope).body,
            PROVIDER_SAMPLE.as_bytes()
        );
    }
}
