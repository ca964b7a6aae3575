//! [`RedisStatusTracker`]: status timelines shared by every replica through Redis.

use std::{fmt, sync::Arc, time::Duration};

use quickassist_webhooks::status::{
    Merge, State, Status, StatusTracker, StatusUpdate, SubjectKind, TrackerError, TrackerFuture,
    DEFAULT_TTL,
};
use redis::{RedisError, Script};

use crate::{
    scripts,
    store::{millis, Failure},
    RedisStore,
};

/// A [`StatusTracker`] on Redis, so that every replica of a receiver merges status events
/// into the same timelines.
///
/// Each update is **one atomic round trip**: a Lua script compares the update with the
/// subject's state and writes it only when it takes precedence, with exactly the rule of
/// [`merge`](quickassist_webhooks::status::merge) (rank, then event time in milliseconds,
/// then the status name byte by byte). However many replicas apply a message's events,
/// in whatever order, its final state is the pure rule's.
///
/// - Keys: `<prefix>status:message:<messageId>` and `<prefix>status:template:<id>`, the
///   prefix being the [`RedisStore`]'s; values `<rank>:<millis>:<status>`.
/// - Every update, applied or stale, renews the key's TTL ([`DEFAULT_TTL`], 30 days, by
///   default): a subject is forgotten that long after its last event.
/// - It shares the store's connection and timeout: errors and timeouts are
///   [`TrackerError`]s. A timed-out update may still have been applied; applying the
///   provider's retry of it then answers [`Merge::Stale`], so handle an error by letting the
///   provider retry (answer 5xx) *and* make your own write idempotent, or re-read with
///   [`current`](StatusTracker::current).
///
/// ```no_run
/// use quickassist_webhooks::status::{Merge, StatusTracker};
/// use quickassist_webhooks_redis::{RedisStatusTracker, RedisStore};
///
/// # async fn demo(envelope: quickassist_webhooks::Envelope) -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379/").await?;
/// let tracker = RedisStatusTracker::new(&store);
/// if let Some(Merge::Applied { .. }) = tracker.apply_envelope(&envelope).await? {
///     // update your message row
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStatusTracker {
    store: RedisStore,
    ttl: Duration,
    script: Arc<Script>,
}

impl RedisStatusTracker {
    /// A tracker on `store`'s connection, prefix and timeout, remembering states for
    /// [`DEFAULT_TTL`].
    #[must_use]
    pub fn new(store: &RedisStore) -> Self {
        Self {
            store: store.clone(),
            ttl: DEFAULT_TTL,
            script: Arc::new(scripts::status()),
        }
    }

    /// Connects to the Redis at `url` with the default prefix and timeout (as
    /// [`RedisStore::connect`]) and checks that it answers.
    ///
    /// # Errors
    ///
    /// The [`RedisError`] when the URL is invalid or Redis cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, RedisError> {
        Ok(Self::new(&RedisStore::connect(url).await?))
    }

    /// How long a subject is remembered after its last event (default [`DEFAULT_TTL`]).
    ///
    /// ```no_run
    /// # async fn demo(store: quickassist_webhooks_redis::RedisStore) {
    /// use std::time::Duration;
    /// use quickassist_webhooks_redis::RedisStatusTracker;
    ///
    /// let tracker = RedisStatusTracker::new(&store).ttl(Duration::from_secs(7 * 86_400));
    /// # let _ = tracker; }
    /// ```
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The Redis key of the subject `id` of `kind`.
    #[must_use]
    pub fn redis_key(&self, kind: SubjectKind, id: &str) -> String {
        format!("{}status:{kind}:{id}", self.store.prefix())
    }

    async fn apply_now(&self, update: &StatusUpdate) -> Result<Merge, TrackerError> {
        let state = update.state();
        let mut invocation = self.script.key(self.redis_key(update.kind(), update.id()));
        invocation
            .arg(state.status().rank())
            .arg(state.at_millis())
            .arg(state.status().as_str())
            .arg(millis(self.ttl));
        let (applied, other): (i64, String) =
            self.store.invoke(invocation).await.map_err(tracker_error)?;
        let kind = update.kind();
        if applied == 1 {
            let previous = if other.is_empty() {
                None
            } else {
                Some(decode(kind, &other)?)
            };
            Ok(Merge::Applied { previous })
        } else {
            Ok(Merge::Stale {
                current: decode(kind, &other)?,
            })
        }
    }

    async fn current_now(
        &self,
        kind: SubjectKind,
        id: &str,
    ) -> Result<Option<State>, TrackerError> {
        let mut get = redis::cmd("GET");
        get.arg(self.redis_key(kind, id));
        let value: Option<String> = self.store.query(&get).await.map_err(tracker_error)?;
        value.map(|value| decode(kind, &value)).transpose()
    }
}

/// Reads a stored `<rank>:<millis>:<name>` back into a [`State`]; the rank is derived from
/// the name again.
fn decode(kind: SubjectKind, value: &str) -> Result<State, TrackerError> {
    let unreadable = || TrackerError::new(format!("unreadable status state {value:?}"));
    let mut parts = value.splitn(3, ':');
    let (Some(_rank), Some(at), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(unreadable());
    };
    let at = at
        .parse::<i64>()
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .ok_or_else(unreadable)?;
    Ok(State::new(Status::parse(kind, name), at))
}

fn tracker_error(failure: Failure) -> TrackerError {
    // `debug!` only: the handler decides how loudly a failed update is reported.
    tracing::debug!(%failure, "redis status tracker: no answer");
    match failure {
        Failure::Redis(error) => TrackerError::new(error),
        Failure::Timeout(after) => TrackerError::timeout(after),
    }
}

impl StatusTracker for RedisStatusTracker {
    fn apply<'a>(&'a self, update: &'a StatusUpdate) -> TrackerFuture<'a, Merge> {
        Box::pin(self.apply_now(update))
    }

    fn current<'a>(&'a self, kind: SubjectKind, id: &'a str) -> TrackerFuture<'a, Option<State>> {
        Box::pin(self.current_now(kind, id))
    }
}

impl fmt::Debug for RedisStatusTracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStatusTracker")
            .field("store", &self.store)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use quickassist_webhooks::status::{MessageStatus, TemplateStatus};

    use super::*;

    #[test]
    fn stored_states_decode_with_colons_in_the_name_and_times_before_the_epoch() {
        let state = decode(SubjectKind::Message, "0:-1500:odd:name").unwrap();
        assert_eq!(
            state.status(),
            &Status::Message(MessageStatus::Other("odd:name".into()))
        );
        assert_eq!(state.at_millis(), -1500);
        let state = decode(SubjectKind::Template, "2:1705314600000:approved").unwrap();
        assert_eq!(state.status(), &Status::Template(TemplateStatus::Approved));
    }

    #[test]
    fn foreign_values_are_errors() {
        for value in ["", "2", "2:x:read", "2:99999999999999999999:read"] {
            assert!(decode(SubjectKind::Message, value).is_err(), "{value:?}");
        }
    }
}
