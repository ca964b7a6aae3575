//! [`merge`]: the pure rule every tracker applies.

use super::State;

/// The outcome of merging a status event into a subject's timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum Merge {
    /// The event moved the timeline forward: it is the new state. Update your records.
    Applied {
        /// The state it replaced; `None` for the subject's first event.
        previous: Option<State>,
    },
    /// The event is a duplicate or older than what is known: nothing changed. Do nothing.
    Stale {
        /// The state that stays.
        current: State,
    },
}

impl Merge {
    /// Whether the event was applied.
    ///
    /// ```
    /// use quickassist_webhooks::status::Merge;
    ///
    /// assert!(Merge::Applied { previous: None }.is_applied());
    /// ```
    #[must_use]
    pub fn is_applied(&self) -> bool {
        matches!(self, Self::Applied { .. })
    }
}

/// Merges `incoming` into a subject's `current` state: [`Merge::Applied`] when it takes
/// precedence (the caller then stores it), [`Merge::Stale`] otherwise.
///
/// The rule: a higher [rank](super::MessageStatus::rank) wins; between equal ranks the later
/// event time wins; between equal times the status name that is greater byte by byte wins;
/// an identical state is stale. That is, `incoming` applies exactly when it is greater than
/// `current` in [`State`]'s order, so the final state is the greatest of the events seen:
/// the same whatever order they arrive in and however often each is repeated.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use quickassist_webhooks::status::{merge, Merge, MessageStatus, State};
///
/// let at = Utc.with_ymd_and_hms(2024, 1, 15, 10, 30, 0).unwrap();
/// let read = State::new(MessageStatus::Read, at);
/// let delivered = State::new(MessageStatus::Delivered, at);
///
/// // `read` arrives first, then the `delivered` it overtook.
/// assert_eq!(merge(None, &read), Merge::Applied { previous: None });
/// assert_eq!(merge(Some(&read), &delivered), Merge::Stale { current: read.clone() });
/// // A retried `read` changes nothing.
/// assert!(!merge(Some(&read), &read).is_applied());
/// ```
pub fn merge(current: Option<&State>, incoming: &State) -> Merge {
    match current {
        Some(current) if current >= incoming => Merge::Stale {
            current: current.clone(),
        },
        previous => Merge::Applied {
            previous: previous.cloned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::status::{MessageStatus, TemplateStatus};

    fn state(status: impl Into<crate::status::Status>, millis: i64) -> State {
        State::new(status, DateTime::from_timestamp_millis(millis).unwrap())
    }

    #[test]
    fn a_late_delivered_never_moves_a_read_message_backwards() {
        let read = state(MessageStatus::Read, 2_000);
        let delivered = state(MessageStatus::Delivered, 1_000);
        assert_eq!(
            merge(Some(&read), &delivered),
            Merge::Stale {
                current: read.clone()
            }
        );
        assert_eq!(
            merge(Some(&delivered), &read),
            Merge::Applied {
                previous: Some(delivered)
            }
        );
    }

    #[test]
    fn a_failed_after_a_receipt_is_stale_but_wins_over_nothing() {
        let delivered = state(MessageStatus::Delivered, 1_000);
        let failed = state(MessageStatus::Failed, 5_000);
        assert!(!merge(Some(&delivered), &failed).is_applied());
        assert!(merge(None, &failed).is_applied());
        assert!(merge(Some(&failed), &delivered).is_applied());
    }

    #[test]
    fn unknown_message_statuses_never_override_known_ones() {
        let sent = state(MessageStatus::Other("sent".into()), 9_000);
        let failed = state(MessageStatus::Failed, 1_000);
        assert!(!merge(Some(&failed), &sent).is_applied());
        assert!(merge(Some(&sent), &failed).is_applied());
    }

    #[test]
    fn template_decisions_follow_each_other_by_time_and_pending_never_undoes_one() {
        let pending = state(TemplateStatus::Pending, 3_000);
        let rejected = state(TemplateStatus::Rejected, 1_000);
        let approved = state(TemplateStatus::Approved, 2_000);
        assert!(!merge(Some(&rejected), &pending).is_applied());
        assert!(merge(Some(&rejected), &approved).is_applied());
        assert!(!merge(Some(&approved), &rejected).is_applied());
    }

    #[test]
    fn equal_times_are_decided_by_the_name() {
        let approved = state(TemplateStatus::Approved, 1_000);
        let rejected = state(TemplateStatus::Rejected, 1_000);
        assert!(merge(Some(&approved), &rejected).is_applied());
        assert!(!merge(Some(&rejected), &approved).is_applied());
    }
}
