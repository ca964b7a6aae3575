//! Accessors that read a status event's subject, status and time from typed events, so
//! handlers never match on the event by hand.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{MessageStatus, Status, StatusUpdate, TemplateStatus};
use crate::{Envelope, Event};

/// The prefix of every message event's name.
const MESSAGE_PREFIX: &str = "message.";

impl Event {
    /// The `messageId` of a message event: `message.delivered`, `message.read`,
    /// `message.failed`, or an unknown `message.*` event whose `data` has a string
    /// `messageId`.
    ///
    /// ```
    /// use quickassist_webhooks::{testing::sample, Event};
    ///
    /// assert_eq!(sample(Event::MESSAGE_READ, "w").event.message_id(), Some("msg_123456789"));
    /// assert_eq!(sample(Event::TEMPLATE_STATUS_UPDATE, "w").event.message_id(), None);
    /// ```
    #[must_use]
    pub fn message_id(&self) -> Option<&str> {
        match self {
            Self::MessageDelivered(delivered) => Some(&delivered.message_id),
            Self::MessageRead(read) => Some(&read.message_id),
            Self::MessageFailed(failed) => Some(&failed.message_id),
            Self::Unknown { .. } => self.unknown_message().map(|(id, _, _)| id),
            _ => None,
        }
    }

    /// The status a message event reports: the part of its name after `message.`, so
    /// [`MessageStatus::Other`] for an unknown `message.*` event with a `messageId`.
    ///
    /// ```
    /// use quickassist_webhooks::{status::MessageStatus, Event};
    ///
    /// let event = Event::Unknown {
    ///     event: "message.sent".into(),
    ///     data: serde_json::json!({"messageId": "msg_1", "sentAt": "2024-01-15T10:29:58Z"}),
    /// };
    /// assert_eq!(event.message_status(), Some(MessageStatus::Other("sent".into())));
    /// assert_eq!(event.status_time().unwrap().to_rfc3339(), "2024-01-15T10:29:58+00:00");
    /// ```
    #[must_use]
    pub fn message_status(&self) -> Option<MessageStatus> {
        match self {
            Self::MessageDelivered(_) => Some(MessageStatus::Delivered),
            Self::MessageRead(_) => Some(MessageStatus::Read),
            Self::MessageFailed(_) => Some(MessageStatus::Failed),
            Self::Unknown { .. } => self
                .unknown_message()
                .map(|(_, status, _)| MessageStatus::from(status)),
            _ => None,
        }
    }

    /// The `templateId` of a `template.status_update`, if reported.
    #[must_use]
    pub fn template_id(&self) -> Option<&str> {
        match self {
            Self::TemplateStatusUpdate(update) => update.template_id.as_deref(),
            _ => None,
        }
    }

    /// The template's name (`template`) of a `template.status_update`, if reported.
    #[must_use]
    pub fn template_name(&self) -> Option<&str> {
        match self {
            Self::TemplateStatusUpdate(update) => update.template.as_deref(),
            _ => None,
        }
    }

    /// The new status of a `template.status_update`, if reported.
    ///
    /// ```
    /// use quickassist_webhooks::{status::TemplateStatus, testing::sample, Event};
    ///
    /// let event = sample(Event::TEMPLATE_STATUS_UPDATE, "w").event;
    /// assert_eq!(event.template_status(), Some(&TemplateStatus::Approved));
    /// assert_eq!((event.template_id(), event.template_name()), (Some("tpl_42"), Some("welcome_message")));
    /// ```
    #[must_use]
    pub fn template_status(&self) -> Option<&TemplateStatus> {
        match self {
            Self::TemplateStatusUpdate(update) => update.status.as_ref(),
            _ => None,
        }
    }

    /// The status's own time from the payload: `deliveredAt`, `readAt`, `failedAt`, or
    /// `<status>At` of an unknown `message.*` event. `None` when the payload has none
    /// (templates never do); [`Envelope::status_time`] then falls back to the envelope's
    /// `timestamp`.
    #[must_use]
    pub fn status_time(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::MessageDelivered(delivered) => Some(delivered.delivered_at),
            Self::MessageRead(read) => read.read_at,
            Self::MessageFailed(failed) => failed.failed_at,
            Self::Unknown { .. } => self.unknown_message().and_then(|(_, _, time)| time),
            _ => None,
        }
    }

    /// An unknown `message.<status>` event with a string `messageId`: the id, the status's
    /// name and its `<status>At` time if it parses.
    fn unknown_message(&self) -> Option<(&str, &str, Option<DateTime<Utc>>)> {
        let Self::Unknown { event, data } = self else {
            return None;
        };
        let status = event
            .strip_prefix(MESSAGE_PREFIX)
            .filter(|status| !status.is_empty())?;
        let id = data.get("messageId").and_then(Value::as_str)?;
        let time = data
            .get(format!("{status}At"))
            .and_then(Value::as_str)
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .map(|time| time.with_timezone(&Utc));
        Some((id, status, time))
    }
}

impl Envelope<Event> {
    /// When the status this delivery reports took effect: the payload's own time
    /// ([`Event::status_time`]) when it has one, else the envelope's `timestamp`. Both are
    /// covered by the signature.
    ///
    /// ```
    /// use quickassist_webhooks::{testing::PROVIDER_SAMPLE, Envelope};
    ///
    /// let envelope: Envelope = serde_json::from_str(PROVIDER_SAMPLE)?;
    /// assert_eq!(envelope.status_time().to_rfc3339(), "2024-01-15T10:30:00+00:00");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    #[must_use]
    pub fn status_time(&self) -> DateTime<Utc> {
        self.event.status_time().unwrap_or(self.timestamp)
    }

    /// The status update this delivery carries, ready for [`merge`](super::merge) or a
    /// [`StatusTracker`](super::StatusTracker): for a message event its `messageId`, status
    /// and [time](Self::status_time); for a `template.status_update` with a status, the
    /// template's `templateId` (or its name when the event has no id), the status and the
    /// envelope's `timestamp`. `None` for any other delivery.
    ///
    /// ```
    /// use quickassist_webhooks::{status::{Status, TemplateStatus}, testing::sample, Event};
    ///
    /// let update = sample(Event::TEMPLATE_STATUS_UPDATE, "w").status_update().unwrap();
    /// assert_eq!(update.id(), "tpl_42");
    /// assert_eq!(update.status(), &Status::Template(TemplateStatus::Approved));
    /// assert!(sample("contact.created", "w").status_update().is_none());
    /// ```
    #[must_use]
    pub fn status_update(&self) -> Option<StatusUpdate> {
        if let (Some(id), Some(status)) = (self.event.message_id(), self.event.message_status()) {
            return Some(StatusUpdate::new(id, status, self.status_time()));
        }
        let status = self.event.template_status()?;
        let id = self
            .event
            .template_id()
            .or_else(|| self.event.template_name())?;
        Some(StatusUpdate::new(
            id,
            Status::Template(status.clone()),
            self.status_time(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::event::TemplateStatusUpdate;

    fn envelope(event: Event) -> Envelope {
        Envelope::new(
            event,
            DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            "w",
        )
    }

    #[test]
    fn unknown_message_events_need_a_string_message_id_and_a_status() {
        for (name, data) in [
            ("message.sent", json!({"id": "m"})),
            ("message.sent", json!({"messageId": 7})),
            ("message.", json!({"messageId": "m"})),
            ("contact.updated", json!({"messageId": "m"})),
        ] {
            let event = Event::Unknown {
                event: name.into(),
                data,
            };
            assert_eq!(event.message_id(), None, "{name}");
            assert!(envelope(event).status_update().is_none(), "{name}");
        }
    }

    #[test]
    fn an_unparsable_status_time_falls_back_to_the_envelope_timestamp() {
        let event = Event::Unknown {
            event: "message.sent".into(),
            data: json!({"messageId": "m", "sentAt": "yesterday"}),
        };
        let envelope = envelope(event);
        let update = envelope.status_update().unwrap();
        assert_eq!(update.at(), envelope.timestamp);
        assert_eq!(update.status().as_str(), "sent");
    }

    #[test]
    fn templates_are_keyed_by_id_then_name_and_need_a_status() {
        let mut update = TemplateStatusUpdate::new();
        update.template = Some("welcome".into());
        update.status = Some(TemplateStatus::Other("paused".into()));
        let by_name = envelope(Event::TemplateStatusUpdate(update.clone()))
            .status_update()
            .unwrap();
        assert_eq!(by_name.id(), "welcome");
        update.template_id = Some("tpl_1".into());
        let by_id = envelope(Event::TemplateStatusUpdate(update.clone()))
            .status_update()
            .unwrap();
        assert_eq!(by_id.id(), "tpl_1");
        update.status = None;
        assert!(envelope(Event::TemplateStatusUpdate(update))
            .status_update()
            .is_none());
    }
}
