//! Typed webhook events: the [`Envelope`] every delivery comes in and the [`Event`] it carries.
//!
//! ```json
//! {"event":"message.delivered","timestamp":"2024-01-15T10:30:00Z",
//!  "data":{"messageId":"msg_123456789","recipient":"+1234567890","template":"welcome_message",
//!          "deliveredAt":"2024-01-15T10:30:00Z","deviceType":"android"},
//!  "webhookId":"whk_abc123"}
//! ```
//!
//! Parsing never breaks on what the provider adds later: an event type this version does not
//! know becomes [`Event::Unknown`], unknown fields are kept in `extra` maps, and value enums
//! ([`DeviceType`], [`TemplateStatus`]) have an `Other` fallback.
//!
//! ```
//! use quickassist_webhooks::{parse_envelope, DeviceType, Event};
//!
//! let body = br#"{"event":"message.delivered","timestamp":"2024-01-15T10:30:00Z",
//!   "data":{"messageId":"msg_1","recipient":"+1234567890","deliveredAt":"2024-01-15T10:30:00Z",
//!   "deviceType":"android"},"webhookId":"whk_abc123"}"#;
//! let envelope = parse_envelope::<Event>(body)?;
//! assert_eq!(envelope.webhook_id, "whk_abc123");
//! match envelope.event {
//!     Event::MessageDelivered(delivered) => {
//!         assert_eq!(delivered.message_id, "msg_1");
//!         assert_eq!(delivered.device_type, Some(DeviceType::Android));
//!     }
//!     other => panic!("unexpected {}", other.name()),
//! }
//! # Ok::<(), quickassist_webhooks::PayloadError>(())
//! ```
//!
//! Your own event type works too: anything that deserializes from an adjacently tagged
//! `{"event": …, "data": …}`, such as `#[serde(tag = "event", content = "data")]` enums.

mod envelope;
mod error;
mod kind;
mod payload;
mod tagged;
mod text;
mod timestamp;
mod value;

pub use envelope::{parse_envelope, Envelope};
pub use error::PayloadError;
pub use kind::Event;
pub use payload::{MessageDelivered, MessageFailed, MessageRead, TemplateStatusUpdate};
pub use value::{DeviceType, MessageStatus, TemplateStatus};
