//! The timeline's values: [`Status`], [`State`] and the [`StatusUpdate`] an event carries.

use std::fmt;

use chrono::{DateTime, SubsecRound, Utc};

use super::{MessageStatus, TemplateStatus};

/// What a status belongs to: a message or a template. Each has its own timeline, so a
/// message and a template with the same id never meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubjectKind {
    /// A message, identified by its `messageId`.
    Message,
    /// A template, identified by its `templateId` (or its name when the event has no id).
    Template,
}

impl SubjectKind {
    /// `message` or `template`: the word stores use in their keys.
    ///
    /// ```
    /// use quickassist_webhooks::status::SubjectKind;
    ///
    /// assert_eq!(SubjectKind::Template.as_str(), "template");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Template => "template",
        }
    }
}

impl fmt::Display for SubjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message's or a template's status.
///
/// ```
/// use quickassist_webhooks::status::{MessageStatus, Status, SubjectKind};
///
/// let status = Status::Message(MessageStatus::Read);
/// assert_eq!((status.kind(), status.as_str(), status.rank()), (SubjectKind::Message, "read", 3));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// A message's delivery status.
    Message(MessageStatus),
    /// A template's approval status.
    Template(TemplateStatus),
}

impl Status {
    /// Whether this is a message's or a template's status.
    #[must_use]
    pub fn kind(&self) -> SubjectKind {
        match self {
            Self::Message(_) => SubjectKind::Message,
            Self::Template(_) => SubjectKind::Template,
        }
    }

    /// The status as the provider writes it (`delivered`, `approved`, or an `Other` value).
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Message(status) => status.as_str(),
            Self::Template(status) => status.as_str(),
        }
    }

    /// The status of `kind` the provider writes as `name`: how stores read a status back.
    ///
    /// ```
    /// use quickassist_webhooks::status::{Status, SubjectKind, TemplateStatus};
    ///
    /// assert_eq!(Status::parse(SubjectKind::Template, "approved"), Status::Template(TemplateStatus::Approved));
    /// ```
    #[must_use]
    pub fn parse(kind: SubjectKind, name: &str) -> Self {
        match kind {
            SubjectKind::Message => Self::Message(MessageStatus::from(name)),
            SubjectKind::Template => Self::Template(TemplateStatus::from(name)),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<MessageStatus> for Status {
    fn from(status: MessageStatus) -> Self {
        Self::Message(status)
    }
}

impl From<TemplateStatus> for Status {
    fn from(status: TemplateStatus) -> Self {
        Self::Template(status)
    }
}

/// Where a subject's timeline stands: its status and the time of the event that set it.
///
/// Times are kept to the millisecond, the resolution every tracker compares (the provider
/// sends whole seconds or milliseconds), so that all trackers agree on every tie.
/// `State`s are ordered by precedence (see [the module docs](super)): the greater state
/// wins.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use quickassist_webhooks::status::{MessageStatus, State};
///
/// let at = Utc.with_ymd_and_hms(2024, 1, 15, 10, 30, 0).unwrap();
/// let delivered = State::new(MessageStatus::Delivered, at);
/// let read = State::new(MessageStatus::Read, at);
/// assert!(read > delivered);
/// assert_eq!(read.at(), at);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    status: Status,
    at: DateTime<Utc>,
}

impl State {
    /// The state `status` as of `at` (truncated to the millisecond).
    #[must_use]
    pub fn new(status: impl Into<Status>, at: DateTime<Utc>) -> Self {
        Self {
            status: status.into(),
            at: at.trunc_subsecs(3),
        }
    }

    /// The status.
    #[must_use]
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// The time of the event that set it.
    #[must_use]
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// [`at`](Self::at) in milliseconds since the Unix epoch: what stores compare. Every
    /// time `chrono` can hold fits in an `f64` exactly at this resolution, so a Lua script
    /// compares them exactly too.
    #[must_use]
    pub fn at_millis(&self) -> i64 {
        self.at.timestamp_millis()
    }

    /// The status, consuming the state.
    #[must_use]
    pub fn into_status(self) -> Status {
        self.status
    }
}

/// One status event, ready to merge: whose status it is (`id`), the status and its time.
///
/// Build it from a typed delivery with [`Envelope::status_update`](crate::Envelope::status_update),
/// or by hand.
///
/// ```
/// use quickassist_webhooks::{status::{MessageStatus, Status}, testing::PROVIDER_SAMPLE, Envelope};
///
/// let envelope: Envelope = serde_json::from_str(PROVIDER_SAMPLE)?;
/// let update = envelope.status_update().expect("message.delivered is a status event");
/// assert_eq!(update.id(), "msg_123456789");
/// assert_eq!(update.status(), &Status::Message(MessageStatus::Delivered));
/// assert_eq!(update.at().to_rfc3339(), "2024-01-15T10:30:00+00:00");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StatusUpdate {
    id: String,
    state: State,
}

impl StatusUpdate {
    /// The update setting the subject `id` to `status` as of `at` (truncated to the
    /// millisecond).
    #[must_use]
    pub fn new(id: impl Into<String>, status: impl Into<Status>, at: DateTime<Utc>) -> Self {
        Self {
            id: id.into(),
            state: State::new(status, at),
        }
    }

    /// The message's or template's id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether a message or a template.
    #[must_use]
    pub fn kind(&self) -> SubjectKind {
        self.state.status.kind()
    }

    /// The new status.
    #[must_use]
    pub fn status(&self) -> &Status {
        &self.state.status
    }

    /// The event's time.
    #[must_use]
    pub fn at(&self) -> DateTime<Utc> {
        self.state.at
    }

    /// The state this update proposes.
    #[must_use]
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The id and the proposed state.
    #[must_use]
    pub fn into_parts(self) -> (String, State) {
        (self.id, self.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_kept_to_the_millisecond_flooring_before_the_epoch() {
        let at = DateTime::from_timestamp(-1, 999_999_999).unwrap();
        let state = State::new(MessageStatus::Read, at);
        assert_eq!(state.at_millis(), -1);
        let at = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        assert_eq!(
            State::new(MessageStatus::Read, at).at_millis(),
            1_700_000_000_123
        );
    }

    #[test]
    fn every_chrono_time_is_exact_as_a_lua_number() {
        let limit = 1i64 << 53;
        assert!(DateTime::<Utc>::MAX_UTC.timestamp_millis() < limit);
        assert!(DateTime::<Utc>::MIN_UTC.timestamp_millis() > -limit);
    }

    #[test]
    fn statuses_read_back_from_their_kind_and_name() {
        for status in [
            Status::Message(MessageStatus::Delivered),
            Status::Message(MessageStatus::Other("sent".into())),
            Status::Template(TemplateStatus::Rejected),
            Status::Template(TemplateStatus::Other("paused".into())),
        ] {
            assert_eq!(Status::parse(status.kind(), status.as_str()), status);
        }
    }
}
