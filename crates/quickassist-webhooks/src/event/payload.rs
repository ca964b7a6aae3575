//! The payload (`data`) of each documented event.
//!
//! Fields the provider's documentation shows are typed; fields it does not show are `Option`s
//! or land in the flattened `extra` map, so a payload the docs did not foresee still parses.
//!
//! `Deserialize` is written out (by `payload_deserialize!`) rather than derived: serde's
//! `flatten` buffers every key of the payload into an intermediate form first, which cost
//! more than the rest of the parse. The written-out form reads each field once, keeps
//! serde's error messages (`missing field`, `duplicate field`, `invalid type`) and puts only
//! the fields it does not know in `extra`.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{
    de::{Error, MapAccess, Visitor},
    Deserialize, Deserializer, Serialize,
};
use serde_json::{Map, Value};

use super::{text::Text, timestamp::Stamp, DeviceType, TemplateStatus};

/// How a payload field is read: through the type it is sent as (`Wire`), so that
/// timestamps take [`Stamp`]'s fast path.
trait Field<'de>: Sized {
    type Wire: Deserialize<'de>;
    fn from_wire(wire: Self::Wire) -> Self;
}

macro_rules! field_as_itself {
    ($($ty:ty),*) => {$(
        impl<'de> Field<'de> for $ty {
            type Wire = Self;
            fn from_wire(wire: Self) -> Self {
                wire
            }
        }
    )*};
}

field_as_itself!(String, DeviceType, TemplateStatus);

impl<'de> Field<'de> for DateTime<Utc> {
    type Wire = Stamp;
    fn from_wire(wire: Stamp) -> Self {
        wire.0
    }
}

impl<'de, T: Field<'de>> Field<'de> for Option<T> {
    type Wire = Option<T::Wire>;
    fn from_wire(wire: Self::Wire) -> Self {
        wire.map(T::from_wire)
    }
}

/// `message.delivered`: the message reached the recipient's device.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MessageDelivered {
    /// The provider's id of the message (`messageId`).
    pub message_id: String,
    /// The recipient's phone number, E.164 (`+1234567890`).
    pub recipient: String,
    /// The template the message was sent from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// When the message was delivered (`deliveredAt`).
    pub delivered_at: DateTime<Utc>,
    /// The recipient's device type (`deviceType`), if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<DeviceType>,
    /// Fields not listed above, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `message.read`: the recipient read the message (blue ticks).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MessageRead {
    /// The provider's id of the message (`messageId`).
    pub message_id: String,
    /// The recipient's phone number, if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// The template the message was sent from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// When the message was read (`readAt`), if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<DateTime<Utc>>,
    /// The recipient's device type (`deviceType`), if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<DeviceType>,
    /// Fields not listed above, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `template.status_update`: a template's approval status changed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TemplateStatusUpdate {
    /// The template's name, if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The template's id (`templateId`), if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    /// The new status (`pending`, `approved`, `rejected`, or another value kept verbatim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TemplateStatus>,
    /// Why the status changed (for example a rejection reason), if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Fields not listed above, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `message.failed`: the message could not be delivered (invalid number, user blocked…).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MessageFailed {
    /// The provider's id of the message (`messageId`).
    pub message_id: String,
    /// The recipient's phone number, if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// The template the message was sent from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// When the failure happened (`failedAt`), if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_at: Option<DateTime<Utc>>,
    /// Why the delivery failed, if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Fields not listed above (such as an error code), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

macro_rules! payload_constructor {
    ($ty:ident { $($field:ident: $fty:ty),* } $(, $opt:ident)*) => {
        impl $ty {
            /// A payload with the required fields; optional ones empty.
            #[must_use]
            pub fn new($($field: $fty),*) -> Self {
                Self { $($field,)* $($opt: None,)* extra: Map::new() }
            }
        }
    };
}

payload_constructor!(MessageDelivered { message_id: String, recipient: String, delivered_at: DateTime<Utc> }, template, device_type);
payload_constructor!(
    MessageRead { message_id: String },
    recipient,
    template,
    read_at,
    device_type
);
payload_constructor!(
    TemplateStatusUpdate {},
    template,
    template_id,
    status,
    reason
);
payload_constructor!(
    MessageFailed { message_id: String },
    recipient,
    template,
    failed_at,
    reason
);

/// `Deserialize` for a payload struct: its required fields, its optional ones (absent or
/// `null` is `None`), and `extra` for the rest. A repeated known field is an error, as with
/// serde's derive.
macro_rules! payload_deserialize {
    (
        $ty:ident,
        required { $($req:ident = $req_name:literal),* $(,)? },
        optional { $($opt:ident = $opt_name:literal),* $(,)? }
    ) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct PayloadVisitor;

                impl<'de> Visitor<'de> for PayloadVisitor {
                    type Value = $ty;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(concat!("struct ", stringify!($ty)))
                    }

                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$ty, A::Error> {
                        $(let mut $req = None;)*
                        $(let mut $opt = None;)*
                        let mut extra = Map::new();
                        while let Some(key) = map.next_key::<Text<'de>>()? {
                            match key.as_str() {
                                $($req_name => {
                                    if $req.is_some() {
                                        return Err(A::Error::duplicate_field($req_name));
                                    }
                                    $req = Some(Field::from_wire(map.next_value()?));
                                })*
                                $($opt_name => {
                                    if $opt.is_some() {
                                        return Err(A::Error::duplicate_field($opt_name));
                                    }
                                    $opt = Some(Field::from_wire(map.next_value()?));
                                })*
                                _ => {
                                    let value = map.next_value::<Value>()?;
                                    extra.insert(key.0.into_owned(), value);
                                }
                            }
                        }
                        Ok($ty {
                            $($req: $req.ok_or_else(|| A::Error::missing_field($req_name))?,)*
                            $($opt: $opt.flatten(),)*
                            extra,
                        })
                    }
                }

                deserializer.deserialize_map(PayloadVisitor)
            }
        }
    };
}

payload_deserialize!(
    MessageDelivered,
    required { message_id = "messageId", recipient = "recipient", delivered_at = "deliveredAt" },
    optional { template = "template", device_type = "deviceType" }
);
payload_deserialize!(
    MessageRead,
    required { message_id = "messageId" },
    optional {
        recipient = "recipient",
        template = "template",
        read_at = "readAt",
        device_type = "deviceType",
    }
);
payload_deserialize!(
    TemplateStatusUpdate,
    required {},
    optional {
        template = "template",
        template_id = "templateId",
        status = "status",
        reason = "reason",
    }
);
payload_deserialize!(
    MessageFailed,
    required { message_id = "messageId" },
    optional {
        recipient = "recipient",
        template = "template",
        failed_at = "failedAt",
        reason = "reason",
    }
);
