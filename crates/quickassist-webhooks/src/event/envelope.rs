//! [`Envelope`]: the wrapper every delivery comes in, and [`parse_envelope`].

use std::{fmt, marker::PhantomData};

use chrono::{DateTime, Utc};
use serde::{
    de::{self, DeserializeOwned, MapAccess, Visitor},
    ser::{Error as _, SerializeMap},
    Deserialize, Deserializer, Serialize, Serializer,
};
use serde_json::{Map, Value};

use super::{
    tagged::{TaggedParts, TaggedSeed},
    text::Text,
    timestamp::Stamp,
    Event, PayloadError,
};

/// One webhook delivery: the event, when it happened, and the delivery id the provider keeps
/// across retries (`webhookId`, the idempotency key).
///
/// `E` is the event type: [`Event`] by default, or your own type that deserializes from an
/// adjacently tagged `{"event": …, "data": …}` object. Serializing gives back the provider's
/// camelCase JSON, with unknown top-level fields (`extra`) preserved.
///
/// ```
/// use quickassist_webhooks::{Envelope, Event};
///
/// let envelope: Envelope = serde_json::from_str(
///     r#"{"event":"message.read","timestamp":"2024-01-15T10:30:00Z","data":{"messageId":"m"},"webhookId":"whk_1","region":"eu"}"#,
/// )?;
/// assert_eq!(envelope.event.name(), "message.read");
/// assert_eq!(envelope.extra["region"], "eu");
/// assert_eq!(
///     serde_json::to_string(&envelope)?,
///     r#"{"event":"message.read","timestamp":"2024-01-15T10:30:00Z","data":{"messageId":"m"},"webhookId":"whk_1","region":"eu"}"#,
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Envelope<E = Event> {
    /// The event (`event` + `data`).
    pub event: E,
    /// When the event happened (`timestamp`).
    pub timestamp: DateTime<Utc>,
    /// The delivery's id, identical across the provider's retries (`webhookId`).
    pub webhook_id: String,
    /// Top-level fields this version does not know, kept verbatim.
    pub extra: Map<String, Value>,
}

impl<E> Envelope<E> {
    /// An envelope with no extra fields.
    ///
    /// ```
    /// use quickassist_webhooks::{Envelope, Event};
    ///
    /// let envelope = Envelope::new(
    ///     Event::Unknown { event: "demo".into(), data: serde_json::json!({}) },
    ///     chrono::Utc::now(),
    ///     "whk_1",
    /// );
    /// assert_eq!(envelope.webhook_id, "whk_1");
    /// ```
    pub fn new(event: E, timestamp: DateTime<Utc>, webhook_id: impl Into<String>) -> Self {
        Self {
            event,
            timestamp,
            webhook_id: webhook_id.into(),
            extra: Map::new(),
        }
    }
}

/// Parses a webhook body into a typed [`Envelope`].
///
/// Like `JSON.parse`, a repeated key keeps its last value (the provider signed that form).
///
/// # Errors
///
/// [`PayloadError`] naming the JSON path of the offending field when the body is not JSON,
/// misses `event`, `timestamp` or `webhookId`, has an empty `webhookId`, or has a documented
/// field of the wrong type.
///
/// ```
/// use quickassist_webhooks::{parse_envelope, Event};
///
/// let err = parse_envelope::<Event>(
///     br#"{"event":"message.delivered","timestamp":"2024-01-15T10:30:00Z","data":{"recipient":"+1"},"webhookId":"w"}"#,
/// ).unwrap_err();
/// assert_eq!(err.path(), "data");
/// assert!(err.to_string().contains("missing field `messageId`"));
/// ```
pub fn parse_envelope<E: DeserializeOwned>(json: &[u8]) -> Result<Envelope<E>, PayloadError> {
    // Tracking the path costs on every field; valid bodies, the common case, skip it, and a
    // body that fails is parsed again, with tracking, only to name the path. A body checked
    // as UTF-8 once is read as `str`, which spares `serde_json` checking each string again.
    let parsed = match std::str::from_utf8(json) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(json),
    };
    match parsed {
        Ok(envelope) => Ok(envelope),
        Err(_) => Err(parse_envelope_tracked::<E>(json)
            .err()
            .unwrap_or_else(|| PayloadError::new(".".to_owned(), inconsistent_parse()))),
    }
}

/// [`parse_envelope`] with path tracking, for the error.
fn parse_envelope_tracked<E: DeserializeOwned>(json: &[u8]) -> Result<Envelope<E>, PayloadError> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let envelope = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|err| PayloadError::new(err.path().to_string(), err.into_inner()))?;
    deserializer
        .end()
        .map_err(|err| PayloadError::new(".".to_owned(), err))?;
    Ok(envelope)
}

/// The error for a body the plain parse refused and the tracked parse accepted: both run
/// the same `Deserialize` impls, so this cannot happen, but the answer stays an error.
fn inconsistent_parse() -> serde_json::Error {
    <serde_json::Error as serde::de::Error>::custom("the body did not parse")
}

impl<'de, E: Deserialize<'de>> Deserialize<'de> for Envelope<E> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EnvelopeVisitor(PhantomData))
    }
}

struct EnvelopeVisitor<E>(PhantomData<E>);

impl<'de, E: Deserialize<'de>> Visitor<'de> for EnvelopeVisitor<E> {
    type Value = Envelope<E>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a webhook envelope object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<E>, A::Error> {
        let mut name: Option<Text<'de>> = None;
        let mut event: Option<E> = None;
        let mut buffered: Option<Value> = None;
        let mut timestamp = None;
        let mut webhook_id = None;
        let mut extra = Map::new();
        // Repeated keys keep their last value, as JSON.parse (and so the signed form) does.
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match key.as_str() {
                "event" => {
                    if name.is_some() {
                        // A second, possibly different name would re-type data already read.
                        return Err(de::Error::duplicate_field("event"));
                    }
                    name = Some(map.next_value()?);
                }
                "data" => match &name {
                    Some(name) => {
                        event = Some(map.next_value_seed(TaggedSeed {
                            name: name.as_str(),
                            marker: PhantomData,
                        })?);
                        buffered = None;
                    }
                    None => buffered = Some(map.next_value()?),
                },
                "timestamp" => timestamp = Some(map.next_value::<Stamp>()?.0),
                "webhookId" => {
                    let id: String = map.next_value()?;
                    if id.is_empty() {
                        // Every such delivery would share one de-duplication key.
                        return Err(de::Error::invalid_value(
                            de::Unexpected::Str(""),
                            &"a non-empty webhookId",
                        ));
                    }
                    webhook_id = Some(id);
                }
                _ => {
                    let value = map.next_value()?;
                    extra.insert(key.0.into_owned(), value);
                }
            }
        }
        let name = name.ok_or_else(|| de::Error::missing_field("event"))?;
        let event = match (event, buffered) {
            (Some(event), _) => event,
            (None, data) => E::deserialize(TaggedParts {
                name: name.as_str(),
                data,
            })
            .map_err(de::Error::custom)?,
        };
        Ok(Envelope {
            event,
            timestamp: timestamp.ok_or_else(|| de::Error::missing_field("timestamp"))?,
            webhook_id: webhook_id.ok_or_else(|| de::Error::missing_field("webhookId"))?,
            extra,
        })
    }
}

impl<E: Serialize> Serialize for Envelope<E> {
    /// Writes the provider's field order: `event`, `timestamp`, `data`, `webhookId`, then extras.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Value::Object(mut tagged) =
            serde_json::to_value(&self.event).map_err(S::Error::custom)?
        else {
            return Err(S::Error::custom(
                "an envelope's event must serialize as an object with `event` and `data`",
            ));
        };
        let mut map = serializer.serialize_map(None)?;
        if let Some(name) = tagged.remove("event") {
            map.serialize_entry("event", &name)?;
        }
        map.serialize_entry("timestamp", &self.timestamp)?;
        if let Some(data) = tagged.remove("data") {
            map.serialize_entry("data", &data)?;
        }
        map.serialize_entry("webhookId", &self.webhook_id)?;
        for (key, value) in tagged.iter().chain(&self.extra) {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}
