//! [`PostgresStatusTracker`]: status timelines in PostgreSQL, merged inside the worker's
//! transaction.

use std::{fmt, time::Duration};

use chrono::DateTime;
use quickassist_webhooks::{
    status::{
        Merge, State, Status, StatusTracker, StatusUpdate, SubjectKind, TrackerError, TrackerFuture,
    },
    Envelope, Event,
};
use sqlx::{PgConnection, PgPool};

use crate::Error;

const APPLY: &str = "SELECT applied, previous_status, previous_at \
     FROM quickassist_webhook_status_apply($1, $2, $3, $4, $5)";

const CURRENT: &str = "SELECT status, at_millis FROM quickassist_webhook_status \
     WHERE kind = $1 AND id = $2";

/// A [`StatusTracker`] on PostgreSQL, whose updates can commit **in the same transaction
/// as the handler's writes**.
///
/// With any other tracker the timeline and the application's rows live apart: a handler
/// that applies an update and then fails leaves the update applied, and the provider's
/// retry (or the inbox's next attempt) is then [`Merge::Stale`], so the row the handler
/// meant to write is never written. In a [`Worker`](crate::Worker)'s handler,
/// [`apply_envelope_in`](Self::apply_envelope_in) the handler's transaction instead: the
/// timeline, the application's rows and the inbox's "processed" mark commit together or
/// not at all, and a failed attempt leaves the timeline as it was.
///
/// - Table `quickassist_webhook_status` (kind, id, status, rank, time, last update),
///   created by [`Inbox::migrate`](crate::Inbox::migrate).
/// - Each update is **one statement** (a function of the migration): it inserts the
///   subject's first state, or locks the row and writes the update only when it takes
///   precedence, with exactly the rule of [`merge`](quickassist_webhooks::status::merge)
///   (rank, then event time in milliseconds, then the status name byte by byte). The row
///   stays locked until the caller's transaction ends, so concurrent updates of one
///   subject are applied one after the other.
/// - Updates of several subjects in one transaction lock their rows in the order they are
///   applied; two transactions taking the same subjects in opposite orders deadlock, and
///   PostgreSQL aborts one (its batch is then attempted again). Workers that are
///   [`ordered`](crate::Worker::ordered) by the default key (the message id, or the
///   template's) never handle two events of one subject at once.
/// - [`forget_older_than`](Self::forget_older_than) is the retention.
///
/// The crate documentation shows it in a worker's handler. Outside a transaction it is a
/// [`StatusTracker`] like any other, each update committing on its own:
///
/// ```no_run
/// use quickassist_webhooks::status::{MessageStatus, StatusTracker, StatusUpdate, SubjectKind};
/// use quickassist_webhooks_postgres::PostgresStatusTracker;
///
/// # async fn demo(pool: sqlx::PgPool) -> Result<(), Box<dyn std::error::Error>> {
/// let tracker = PostgresStatusTracker::new(pool);
/// let read = StatusUpdate::new("msg_1", MessageStatus::Read, chrono::Utc::now());
/// assert!(tracker.apply(&read).await?.is_applied());
/// let state = tracker.current(SubjectKind::Message, "msg_1").await?;
/// assert_eq!(state.map(|state| state.into_status().to_string()).as_deref(), Some("read"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStatusTracker {
    pool: PgPool,
}

impl PostgresStatusTracker {
    /// A tracker on `pool` (the inbox's, typically: `inbox.pool().clone()`).
    ///
    /// ```no_run
    /// # async fn demo(inbox: quickassist_webhooks_postgres::Inbox) {
    /// let tracker = quickassist_webhooks_postgres::PostgresStatusTracker::new(inbox.pool().clone());
    /// # let _ = tracker; }
    /// ```
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Merges `update` into its subject's timeline on `connection`, inside whatever
    /// transaction it is in (a worker's handler passes its `tx`): the change commits or
    /// rolls back with the rest of that transaction, and the subject's row stays locked
    /// until then.
    ///
    /// # Errors
    ///
    /// [`TrackerError`] when the statement fails (the connection is lost, the table is
    /// missing, a deadlock was broken); the transaction should then be rolled back, as a
    /// handler's `?` does.
    ///
    /// ```no_run
    /// # async fn demo(tracker: quickassist_webhooks_postgres::PostgresStatusTracker, pool: sqlx::PgPool) -> Result<(), Box<dyn std::error::Error>> {
    /// use quickassist_webhooks::status::{MessageStatus, StatusUpdate};
    ///
    /// let mut tx = pool.begin().await?;
    /// let update = StatusUpdate::new("msg_1", MessageStatus::Read, chrono::Utc::now());
    /// let merge = tracker.apply_in(&mut tx, &update).await?;
    /// // … the application's own writes through `tx` …
    /// tx.commit().await?;
    /// # let _ = merge; Ok(()) }
    /// ```
    pub async fn apply_in(
        &self,
        connection: &mut PgConnection,
        update: &StatusUpdate,
    ) -> Result<Merge, TrackerError> {
        apply(connection, update).await
    }

    /// [`apply_in`](Self::apply_in) for the status update `envelope` carries
    /// ([`Envelope::status_update`]); `None`, without a statement, when it carries none.
    ///
    /// # Errors
    ///
    /// As [`apply_in`](Self::apply_in).
    ///
    /// ```no_run
    /// # async fn demo(tracker: quickassist_webhooks_postgres::PostgresStatusTracker, tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, envelope: quickassist_webhooks::Envelope) -> Result<(), Box<dyn std::error::Error>> {
    /// if let Some(merge) = tracker.apply_envelope_in(tx, &envelope).await? {
    ///     println!("applied: {}", merge.is_applied());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn apply_envelope_in(
        &self,
        connection: &mut PgConnection,
        envelope: &Envelope<Event>,
    ) -> Result<Option<Merge>, TrackerError> {
        match envelope.status_update() {
            None => Ok(None),
            Some(update) => apply(connection, &update).await.map(Some),
        }
    }

    /// Retention: forgets the subjects whose last event (applied or stale) is more than
    /// `older_than` ago; returns how many. Keep them longer than an event can arrive late
    /// ([`DEFAULT_TTL`](quickassist_webhooks::status::DEFAULT_TTL), 30 days, is as long
    /// as WhatsApp retries): a forgotten subject's next event applies whatever it says.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the delete fails.
    ///
    /// ```no_run
    /// # async fn demo(tracker: quickassist_webhooks_postgres::PostgresStatusTracker) -> Result<(), quickassist_webhooks_postgres::Error> {
    /// let forgotten = tracker.forget_older_than(quickassist_webhooks::status::DEFAULT_TTL).await?;
    /// # let _ = forgotten; Ok(()) }
    /// ```
    pub async fn forget_older_than(&self, older_than: Duration) -> Result<u64, Error> {
        let millis = i64::try_from(older_than.as_millis()).unwrap_or(i64::MAX);
        let forgotten = sqlx::query(
            "DELETE FROM quickassist_webhook_status \
             WHERE updated_at < now() - $1 * interval '1 millisecond'",
        )
        .bind(millis)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(forgotten)
    }

    async fn current_now(
        &self,
        kind: SubjectKind,
        id: &str,
    ) -> Result<Option<State>, TrackerError> {
        let row: Option<(String, i64)> = sqlx::query_as(CURRENT)
            .bind(kind.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(TrackerError::new)?;
        row.map(|(status, at)| state_of(kind, &status, at))
            .transpose()
    }

    async fn apply_now(&self, update: &StatusUpdate) -> Result<Merge, TrackerError> {
        let mut connection = self.pool.acquire().await.map_err(TrackerError::new)?;
        apply(&mut connection, update).await
    }
}

/// The one statement of an update, and its answer read back into a [`Merge`].
async fn apply(
    connection: &mut PgConnection,
    update: &StatusUpdate,
) -> Result<Merge, TrackerError> {
    let state = update.state();
    let kind = update.kind();
    let (applied, previous_status, previous_at): (bool, Option<String>, Option<i64>) =
        sqlx::query_as(APPLY)
            .bind(kind.as_str())
            .bind(update.id())
            .bind(state.status().as_str())
            .bind(i16::from(state.status().rank()))
            .bind(state.at_millis())
            .fetch_one(connection)
            .await
            .map_err(TrackerError::new)?;
    let previous = match (previous_status, previous_at) {
        (Some(status), Some(at)) => Some(state_of(kind, &status, at)?),
        _ => None,
    };
    match (applied, previous) {
        (true, previous) => Ok(Merge::Applied { previous }),
        (false, Some(current)) => Ok(Merge::Stale { current }),
        (false, None) => Err(TrackerError::new("a stale update without a current state")),
    }
}

/// A stored state; the rank is derived from the name again.
fn state_of(kind: SubjectKind, status: &str, at_millis: i64) -> Result<State, TrackerError> {
    let at = DateTime::from_timestamp_millis(at_millis)
        .ok_or_else(|| TrackerError::new(format!("unreadable status time {at_millis}")))?;
    Ok(State::new(Status::parse(kind, status), at))
}

impl StatusTracker for PostgresStatusTracker {
    fn apply<'a>(&'a self, update: &'a StatusUpdate) -> TrackerFuture<'a, Merge> {
        Box::pin(self.apply_now(update))
    }

    fn current<'a>(&'a self, kind: SubjectKind, id: &'a str) -> TrackerFuture<'a, Option<State>> {
        Box::pin(self.current_now(kind, id))
    }
}

impl fmt::Debug for PostgresStatusTracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStatusTracker")
            .finish_non_exhaustive()
    }
}
