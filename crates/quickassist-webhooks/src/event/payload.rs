//! The payload (`data`) of each documented event.
//!
//! Fields the provider's documentation shows are typed; fields it does not show are `Option`s
//! or land in the flattened `extra` map, so a payload the docs did not foresee still parses.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{DeviceType, TemplateStatus};

/// `message.delivered`: the message reached the recipient's device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
