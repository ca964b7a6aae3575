//! [`Event`]: the documented event types, and `Unknown` for the rest.

use serde::{
    de::{self, IgnoredAny, MapAccess, Visitor},
    ser::SerializeStruct,
    Deserialize, Deserializer, Serialize, Serializer,
};
use serde_json::Value;

use super::{MessageDelivered, MessageFailed, MessageRead, TemplateStatusUpdate};

/// One webhook event: the `event` name and its `data`.
///
/// `#[non_exhaustive]`: events the provider adds later arrive as [`Event::Unknown`] today and
/// may get their own variant in a minor release, so match with a wildcard arm.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// `message.delivered`
    MessageDelivered(MessageDelivered),
    /// `message.read`
    MessageRead(MessageRead),
    /// `template.status_update`
    TemplateStatusUpdate(TemplateStatusUpdate),
    /// `message.failed`
    MessageFailed(MessageFailed),
    /// An event type this version does not know, kept verbatim.
    Unknown {
        /// The `event` name.
        event: String,
        /// The `data`, as JSON (`null` when absent).
        data: Value,
    },
}

impl Event {
    /// `message.delivered`
    pub const MESSAGE_DELIVERED: &'static str = "message.delivered";
    /// `message.read`
    pub const MESSAGE_READ: &'static str = "message.read";
    /// `template.status_update`
    pub const TEMPLATE_STATUS_UPDATE: &'static str = "template.status_update";
    /// `message.failed`
    pub const MESSAGE_FAILED: &'static str = "message.failed";
    /// Every documented event name.
    pub const DOCUMENTED: [&'static str; 4] = [
        Self::MESSAGE_DELIVERED,
        Self::MESSAGE_READ,
        Self::TEMPLATE_STATUS_UPDATE,
        Self::MESSAGE_FAILED,
    ];

    /// The event's name as the provider writes it in `event`.
    ///
    /// ```
    /// use quickassist_webhooks::Event;
    ///
    /// let event = Event::Unknown { event: "contact.updated".into(), data: serde_json::Value::Null };
    /// assert_eq!(event.name(), "contact.updated");
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Self::MessageDelivered(_) => Self::MESSAGE_DELIVERED,
            Self::MessageRead(_) => Self::MESSAGE_READ,
            Self::TemplateStatusUpdate(_) => Self::TEMPLATE_STATUS_UPDATE,
            Self::MessageFailed(_) => Self::MESSAGE_FAILED,
            Self::Unknown { event, .. } => event,
        }
    }

    /// Builds the event named `name` from its `data`, read by `read`.
    fn read<'de, D, R>(name: EventName, read: R) -> Result<Self, D>
    where
        R: DataReader<'de, D>,
    {
        Ok(match name.as_str() {
            Self::MESSAGE_DELIVERED => Self::MessageDelivered(read.read()?),
            Self::MESSAGE_READ => Self::MessageRead(read.read()?),
            Self::TEMPLATE_STATUS_UPDATE => Self::TemplateStatusUpdate(read.read()?),
            Self::MESSAGE_FAILED => Self::MessageFailed(read.read()?),
            _ => Self::Unknown {
                data: read.read()?,
                event: name.into_string(),
            },
        })
    }
}

/// Reads the `data` of an event as whatever type its name calls for.
/// An event's name: one of [`Event::DOCUMENTED`] without an allocation, or any other.
#[derive(Clone)]
enum EventName {
    Documented(&'static str),
    Other(String),
}

impl EventName {
    fn as_str(&self) -> &str {
        match self {
            Self::Documented(name) => name,
            Self::Other(name) => name,
        }
    }

    fn into_string(self) -> String {
        match self {
            Self::Documented(name) => name.to_owned(),
            Self::Other(name) => name,
        }
    }
}

impl<'de> Deserialize<'de> for EventName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = super::text::Text::deserialize(deserializer)?;
        Ok(
            match Event::DOCUMENTED
                .into_iter()
                .find(|documented| *documented == name.as_str())
            {
                Some(documented) => Self::Documented(documented),
                None => Self::Other(name.0.into_owned()),
            },
        )
    }
}

trait DataReader<'de, E> {
    fn read<T: Deserialize<'de>>(self) -> Result<T, E>;
}

/// `data` read straight from the map: the fast path, when `event` came first.
struct FromMap<'a, A>(&'a mut A);

impl<'de, A: MapAccess<'de>> DataReader<'de, A::Error> for FromMap<'_, A> {
    fn read<T: Deserialize<'de>>(self) -> Result<T, A::Error> {
        self.0.next_value()
    }
}

/// `data` read from a buffered value: when `data` came before `event`, or was absent.
struct FromValue(Value);

impl<'de, E: de::Error> DataReader<'de, E> for FromValue {
    fn read<T: Deserialize<'de>>(self) -> Result<T, E> {
        T::deserialize(self.0).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct("Event", &["event", "data"], EventVisitor)
    }
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object with `event` and `data`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
        let mut name: Option<EventName> = None;
        let mut buffered: Option<Value> = None;
        let mut event: Option<Event> = None;
        while let Some(key) = map.next_key::<super::text::Text<'de>>()? {
            match key.as_str() {
                "event" => name = Some(map.next_value()?),
                "data" => match name.take() {
                    // Like JSON.parse, a repeated key wins: the later `data` replaces the earlier.
                    Some(known) => {
                        event = Some(Event::read(known.clone(), FromMap(&mut map))?);
                        name = Some(known);
                        buffered = None;
                    }
                    None => {
                        buffered = Some(map.next_value()?);
                        event = None;
                    }
                },
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let name = name.ok_or_else(|| de::Error::missing_field("event"))?;
        match (event, buffered) {
            // `event` repeated after `data` with a different name: rebuild from the last name.
            (Some(event), _) if event.name() == name.as_str() => Ok(event),
            (Some(event), _) => Event::read(name, FromValue(data_of(event)?)),
            (None, Some(data)) => Event::read(name, FromValue(data)),
            (None, None) => match Event::read::<A::Error, _>(name, FromValue(Value::Null)) {
                Ok(event) => Ok(event),
                Err(_) => Err(de::Error::missing_field("data")),
            },
        }
    }
}

/// The `data` of an already-built event, as JSON (only for the rare repeated-`event` case).
fn data_of<E: de::Error>(event: Event) -> Result<Value, E> {
    let value = serde_json::to_value(&event).map_err(E::custom)?;
    Ok(match value {
        Value::Object(mut object) => object.remove("data").unwrap_or(Value::Null),
        _ => Value::Null,
    })
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("Event", 2)?;
        state.serialize_field("event", self.name())?;
        match self {
            Self::MessageDelivered(data) => state.serialize_field("data", data)?,
            Self::MessageRead(data) => state.serialize_field("data", data)?,
            Self::TemplateStatusUpdate(data) => state.serialize_field("data", data)?,
            Self::MessageFailed(data) => state.serialize_field("data", data)?,
            Self::Unknown { data, .. } => state.serialize_field("data", data)?,
        }
        state.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_before_event_and_missing_data_are_handled() {
        let event: Event =
            serde_json::from_str(r#"{"data":{"messageId":"m"},"event":"message.read"}"#).unwrap();
        assert!(matches!(event, Event::MessageRead(ref read) if read.message_id == "m"));
        let event: Event = serde_json::from_str(r#"{"event":"future.thing"}"#).unwrap();
        assert_eq!(
            event,
            Event::Unknown {
                event: "future.thing".into(),
                data: Value::Null
            }
        );
        let err = serde_json::from_str::<Event>(r#"{"event":"message.read"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `data`"), "{err}");
        let err = serde_json::from_str::<Event>(r#"{"data":{}}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `event`"), "{err}");
    }

    #[test]
    fn repeated_keys_keep_the_last_value_like_json_parse() {
        let event: Event = serde_json::from_str(
            r#"{"event":"message.read","data":{"messageId":"a"},"data":{"messageId":"b"}}"#,
        )
        .unwrap();
        assert!(matches!(event, Event::MessageRead(ref read) if read.message_id == "b"));
        let event: Event = serde_json::from_str(
            r#"{"event":"x.y","data":{"messageId":"a"},"event":"message.failed"}"#,
        )
        .unwrap();
        assert!(matches!(event, Event::MessageFailed(ref failed) if failed.message_id == "a"));
    }
}
