//! The [`StatusTracker`] trait: where timelines are kept, and merged atomically.

use std::{error::Error, fmt, future::Future, pin::Pin, sync::Arc, time::Duration};

use super::{Merge, State, StatusUpdate, SubjectKind};
use crate::Envelope;

/// An error from the tracker's backend (connection lost, timeout, a value it cannot read).
///
/// Its `Display` says what failed without including secrets.
#[derive(Debug, thiserror::Error)]
#[error("status tracker unavailable: {source}")]
pub struct TrackerError {
    #[source]
    source: Box<dyn Error + Send + Sync>,
}

impl TrackerError {
    /// Wraps a backend error.
    ///
    /// ```
    /// use quickassist_webhooks::status::TrackerError;
    ///
    /// let error = TrackerError::new("connection refused");
    /// assert_eq!(error.to_string(), "status tracker unavailable: connection refused");
    /// ```
    pub fn new(source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self {
            source: source.into(),
        }
    }

    /// The error for an operation that did not finish within the tracker's timeout.
    #[must_use]
    pub fn timeout(after: Duration) -> Self {
        Self::new(format!("operation timed out after {after:?}"))
    }
}

/// How long a tracker remembers a subject's state after its last event (applied or stale),
/// by default: 30 days, as long as WhatsApp keeps trying to deliver a message, so that a
/// `delivered` or `read` can legitimately arrive that late.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The boxed future the tracker methods return (keeps [`StatusTracker`] object-safe, so
/// handlers can hold an `Arc<dyn StatusTracker>`).
pub type TrackerFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, TrackerError>> + Send + 'a>>;

/// Keeps each message's and template's status timeline, and merges status events into it
/// atomically with the rule of [`merge`](super::merge).
///
/// Implementations must make [`apply`](Self::apply) atomic per subject: of any number of
/// concurrent updates of one subject, each is merged into the state the previous one left,
/// so the final state is [`merge`](super::merge)'s whatever the interleaving, and exactly
/// one update is [`Merge::Applied`] for each state the subject passes through.
///
/// The crate ships [`MemoryStatusTracker`](super::MemoryStatusTracker) (one process,
/// feature `memory-store`); `quickassist-webhooks-redis` shares timelines between
/// replicas, and `quickassist-webhooks-postgres` keeps them in the database, where an
/// update can commit in one transaction with the application's own writes.
pub trait StatusTracker: Send + Sync + fmt::Debug + 'static {
    /// Merges `update` into its subject's timeline: [`Merge::Applied`] when it moved the
    /// timeline (and is now its state), [`Merge::Stale`] when it changed nothing.
    ///
    /// # Errors
    ///
    /// [`TrackerError`] when the backend cannot answer; the timeline is then unchanged or
    /// holds the update (a timed-out write may still have landed), never anything else.
    fn apply<'a>(&'a self, update: &'a StatusUpdate) -> TrackerFuture<'a, Merge>;

    /// The current state of the subject `id` of `kind`, if the tracker knows it.
    ///
    /// # Errors
    ///
    /// [`TrackerError`] when the backend cannot answer.
    fn current<'a>(&'a self, kind: SubjectKind, id: &'a str) -> TrackerFuture<'a, Option<State>>;

    /// [`apply`](Self::apply) for the status update `envelope` carries
    /// ([`Envelope::status_update`]); `None`, without touching the backend, when it
    /// carries none.
    ///
    /// # Errors
    ///
    /// As [`apply`](Self::apply).
    fn apply_envelope<'a>(&'a self, envelope: &'a Envelope) -> TrackerFuture<'a, Option<Merge>> {
        match envelope.status_update() {
            None => Box::pin(std::future::ready(Ok(None))),
            Some(update) => Box::pin(async move { self.apply(&update).await.map(Some) }),
        }
    }
}

macro_rules! forward_tracker {
    ($($ty:ty),*) => {$(
        impl<T: StatusTracker + ?Sized> StatusTracker for $ty {
            fn apply<'a>(&'a self, update: &'a StatusUpdate) -> TrackerFuture<'a, Merge> {
                (**self).apply(update)
            }
            fn current<'a>(
                &'a self,
                kind: SubjectKind,
                id: &'a str,
            ) -> TrackerFuture<'a, Option<State>> {
                (**self).current(kind, id)
            }
            fn apply_envelope<'a>(
                &'a self,
                envelope: &'a Envelope,
            ) -> TrackerFuture<'a, Option<Merge>> {
                (**self).apply_envelope(envelope)
            }
        }
    )*};
}

forward_tracker!(Arc<T>, Box<T>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracker_errors_say_what_failed() {
        assert_eq!(
            TrackerError::timeout(Duration::from_millis(250)).to_string(),
            "status tracker unavailable: operation timed out after 250ms"
        );
    }
}
