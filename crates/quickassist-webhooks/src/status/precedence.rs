//! The precedence of statuses: each status's rank, and the total order on [`State`]s that
//! [`merge`](super::merge) keeps the greatest of.

use std::cmp::Ordering;

use super::{MessageStatus, State, Status, SubjectKind, TemplateStatus};

impl MessageStatus {
    /// This status's rank in a message's timeline: a higher rank always wins.
    ///
    /// | status | rank |
    /// |--------|------|
    /// | [`Read`](Self::Read) | 3 |
    /// | [`Delivered`](Self::Delivered) | 2 |
    /// | [`Failed`](Self::Failed) | 1 |
    /// | [`Other`](Self::Other) (`sent`, `deleted`…) | 0 |
    ///
    /// `failed` ranks *below* `delivered`: a delivery or read receipt comes from the
    /// recipient's device and proves the message arrived, so a `failed` that contradicts one
    /// (a failed attempt the provider then retried, reported late) must not mark a message
    /// the recipient read as failed, and prompt a duplicate resend. A value this version
    /// does not know cannot be placed, so it never overrides a known one.
    ///
    /// ```
    /// use quickassist_webhooks::status::MessageStatus;
    ///
    /// assert!(MessageStatus::Read.rank() > MessageStatus::Delivered.rank());
    /// assert!(MessageStatus::Delivered.rank() > MessageStatus::Failed.rank());
    /// assert_eq!(MessageStatus::Other("sent".into()).rank(), 0);
    /// ```
    #[must_use]
    pub fn rank(&self) -> u8 {
        match self {
            Self::Read => 3,
            Self::Delivered => 2,
            Self::Failed => 1,
            Self::Other(_) => 0,
        }
    }
}

impl TemplateStatus {
    /// This status's rank in a template's timeline: a higher rank always wins.
    ///
    /// | status | rank |
    /// |--------|------|
    /// | [`Approved`](Self::Approved), [`Rejected`](Self::Rejected), [`Other`](Self::Other) (`paused`, `disabled`…) | 2 |
    /// | [`Pending`](Self::Pending) | 1 |
    ///
    /// `pending` is the only status that surely comes before a review's outcome; every
    /// other value is a decision, and decisions can follow each other (an appeal approves a
    /// rejected template, a quality drop pauses an approved one), so between decisions the
    /// later event time wins. A `pending` retried after the decision never undoes it.
    ///
    /// ```
    /// use quickassist_webhooks::status::TemplateStatus;
    ///
    /// assert!(TemplateStatus::Approved.rank() > TemplateStatus::Pending.rank());
    /// assert_eq!(TemplateStatus::Approved.rank(), TemplateStatus::Rejected.rank());
    /// assert_eq!(TemplateStatus::Other("paused".into()).rank(), 2);
    /// ```
    #[must_use]
    pub fn rank(&self) -> u8 {
        match self {
            Self::Pending => 1,
            Self::Approved | Self::Rejected | Self::Other(_) => 2,
        }
    }
}

impl Status {
    /// The status's rank: [`MessageStatus::rank`] or [`TemplateStatus::rank`].
    #[must_use]
    pub fn rank(&self) -> u8 {
        match self {
            Self::Message(status) => status.rank(),
            Self::Template(status) => status.rank(),
        }
    }
}

impl Ord for State {
    /// The precedence order: by subject kind, then rank, then event time, then the status's
    /// name compared byte by byte. [`merge`](super::merge) keeps the greatest state, so the
    /// final state of a subject is the maximum of its events whatever order they arrive in.
    fn cmp(&self, other: &Self) -> Ordering {
        self.precedence_key().cmp(&other.precedence_key())
    }
}

impl PartialOrd for State {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl State {
    /// What the precedence compares, in order. Two states with equal keys are equal: the
    /// kind and the name determine the status (its rank derives from them).
    fn precedence_key(&self) -> (SubjectKind, u8, i64, &[u8]) {
        let status = self.status();
        (
            status.kind(),
            status.rank(),
            self.at_millis(),
            status.as_str().as_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn at(millis: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(millis).unwrap()
    }

    fn message(status: &str, millis: i64) -> State {
        State::new(Status::Message(MessageStatus::from(status)), at(millis))
    }

    #[test]
    fn rank_beats_time_and_time_beats_name() {
        assert!(message("read", 0) > message("delivered", 10));
        assert!(message("delivered", 0) > message("failed", 10));
        assert!(message("failed", 0) > message("sent", 10));
        assert!(message("delivered", 10) > message("delivered", 0));
        assert!(message("zz", 5) > message("aa", 5));
        assert!(message("aa", 6) > message("zz", 5));
    }

    #[test]
    fn names_compare_byte_by_byte_as_the_redis_script_does() {
        assert!(message("b", 0) > message("aa", 0));
        assert!(message("ab", 0) > message("a", 0));
        assert!(message("a", 0) > message("B", 0));
        assert!(message("\u{e9}", 0) > message("z", 0));
    }

    #[test]
    fn equal_keys_are_equal_states() {
        assert_eq!(message("sent", 7).cmp(&message("sent", 7)), Ordering::Equal);
        assert_eq!(message("sent", 7), message("sent", 7));
    }
}
