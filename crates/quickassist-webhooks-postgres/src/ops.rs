//! Operations on the inbox: listing, retrying dead deliveries, replaying processed ones,
//! and how far behind each account's deliveries are. Retention is in `retention.rs`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use crate::{inbox::notify, Error, Inbox};

/// The state of a stored delivery.
///
/// ```
/// use quickassist_webhooks_postgres::InboxStatus;
///
/// assert_eq!(InboxStatus::Pending.as_str(), "pending");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InboxStatus {
    /// Waiting to be processed (or to be attempted again).
    Pending,
    /// Processed: the handler's transaction committed.
    Processed,
    /// Failed its maximum number of attempts; [`Inbox::retry`] brings it back.
    Dead,
}

impl InboxStatus {
    /// The name stored in the `status` column: `pending`, `processed` or `dead`.
    ///
    /// ```
    /// assert_eq!(quickassist_webhooks_postgres::InboxStatus::Dead.as_str(), "dead");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processed => "processed",
            Self::Dead => "dead",
        }
    }

    fn parse(status: &str) -> Option<Self> {
        match status {
            "pending" => Some(Self::Pending),
            "processed" => Some(Self::Processed),
            "dead" => Some(Self::Dead),
            _ => None,
        }
    }
}

/// Which deliveries an operation applies to.
///
/// ```
/// use quickassist_webhooks_postgres::Selection;
///
/// let these = Selection::Ids(vec!["whk_1".into(), "whk_2".into()]);
/// let last_hour = Selection::ReceivedBetween(chrono::Utc::now() - chrono::Duration::hours(1), chrono::Utc::now());
/// # let _ = (these, last_hour, Selection::All);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Selection {
    /// These `webhookId`s.
    Ids(Vec<String>),
    /// Those received in `[from, to)`.
    ReceivedBetween(DateTime<Utc>, DateTime<Utc>),
    /// All of them.
    All,
}

/// One stored delivery as [`Inbox::list`] shows it (no body: it may hold personal data).
///
/// ```no_run
/// # async fn demo(inbox: quickassist_webhooks_postgres::Inbox) -> Result<(), quickassist_webhooks_postgres::Error> {
/// for listed in inbox.list(None, 10).await? {
///     println!("{} {} {:?} after {} attempts", listed.webhook_id, listed.event, listed.status, listed.attempts);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Listed {
    /// The delivery's `webhookId`.
    pub webhook_id: String,
    /// The account it was verified for (receivers of many accounts only).
    pub account: Option<String>,
    /// The event name.
    pub event: String,
    /// Its state.
    pub status: InboxStatus,
    /// Attempts made so far.
    pub attempts: i32,
    /// When it was stored.
    pub received_at: DateTime<Utc>,
    /// When it was processed.
    pub processed_at: Option<DateTime<Utc>>,
    /// The last attempt's error.
    pub last_error: Option<String>,
}

#[derive(FromRow)]
struct Row {
    webhook_id: String,
    account: String,
    event: String,
    status: String,
    attempts: i32,
    received_at: DateTime<Utc>,
    processed_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
}

/// One account's deliveries that are due (pending, their next attempt time passed), as
/// [`Inbox::lag`] shows them.
///
/// ```no_run
/// # async fn demo(inbox: quickassist_webhooks_postgres::Inbox) -> Result<(), quickassist_webhooks_postgres::Error> {
/// for lag in inbox.lag().await? {
///     println!("{}: {} due, the oldest for {:?}", lag.account.as_deref().unwrap_or("-"), lag.due, lag.oldest_due_age);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccountLag {
    /// The account (`None` for a receiver of one secret).
    pub account: Option<String>,
    /// How many of its deliveries are due.
    pub due: u64,
    /// When the one due longest became due (received, or its retry's time came).
    pub oldest_due_since: DateTime<Utc>,
    /// How long that one has waited since, by the database's clock.
    pub oldest_due_age: Duration,
}

#[derive(FromRow)]
struct LagRow {
    account: String,
    due: i64,
    oldest: DateTime<Utc>,
    age_millis: i64,
}

/// `WHERE` for a selection; binds `$2` (ids) or `$2`, `$3` (range) after `status = $1`.
fn selection_sql(selection: &Selection) -> &'static str {
    match selection {
        Selection::Ids(_) => "webhook_id = ANY($2)",
        Selection::ReceivedBetween(..) => "received_at >= $2 AND received_at < $3",
        Selection::All => "true",
    }
}

/// Requeues the rows in state `$1` that `selection` selects (see [`selection_sql`]).
pub(crate) fn requeue_sql(selection: &Selection) -> String {
    format!(
        "UPDATE quickassist_webhook_inbox \
         SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL, \
             processed_at = NULL \
         WHERE status = $1 AND {}",
        selection_sql(selection)
    )
}

/// The newest `$1` deliveries (through the index on `received_at`).
pub(crate) const LIST_ALL: &str =
    "SELECT webhook_id, account, event, status, attempts, received_at, processed_at, last_error \
     FROM quickassist_webhook_inbox ORDER BY received_at DESC, webhook_id DESC LIMIT $1";

/// The newest `$2` deliveries in state `$1` (through the index on `(status, received_at,
/// webhook_id)`).
pub(crate) const LIST_BY_STATUS: &str =
    "SELECT webhook_id, account, event, status, attempts, received_at, processed_at, last_error \
     FROM quickassist_webhook_inbox WHERE status = $1 \
     ORDER BY received_at DESC, webhook_id DESC LIMIT $2";

/// Each account's due deliveries (through the index of pending rows by account).
pub(crate) const LAG: &str = "SELECT account, count(*) AS due, min(next_attempt_at) AS oldest, \
     GREATEST(0, (extract(epoch FROM now() - min(next_attempt_at)) * 1000))::bigint AS age_millis \
     FROM quickassist_webhook_inbox \
     WHERE status = 'pending' AND next_attempt_at <= now() \
     GROUP BY account ORDER BY min(next_attempt_at), account";

impl Inbox {
    /// The deliveries in `status` (all when `None`), newest first, at most `limit`; each
    /// through an index, however many the inbox holds.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the query fails.
    ///
    /// ```no_run
    /// # async fn demo(inbox: quickassist_webhooks_postgres::Inbox) -> Result<(), quickassist_webhooks_postgres::Error> {
    /// use quickassist_webhooks_postgres::InboxStatus;
    /// for delivery in inbox.list(Some(InboxStatus::Dead), 50).await? {
    ///     println!("{} {}: {:?}", delivery.webhook_id, delivery.event, delivery.last_error);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(
        &self,
        status: Option<InboxStatus>,
        limit: u32,
    ) -> Result<Vec<Listed>, Error> {
        // Two statements, not `$1 IS NULL OR status = $1`: a generic plan could not use the
        // state's index through it.
        let rows: Vec<Row> = match status {
            Some(status) => sqlx::query_as(LIST_BY_STATUS).bind(status.as_str()),
            None => sqlx::query_as(LIST_ALL),
        }
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                Some(Listed {
                    status: InboxStatus::parse(&row.status)?,
                    webhook_id: row.webhook_id,
                    account: Some(row.account).filter(|account| !account.is_empty()),
                    event: row.event,
                    attempts: row.attempts,
                    received_at: row.received_at,
                    processed_at: row.processed_at,
                    last_error: row.last_error,
                })
            })
            .collect())
    }

    /// Makes the selected **dead** deliveries pending again, due now, with their attempts
    /// reset; returns how many. Workers pick them up at once.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the update fails.
    ///
    /// ```no_run
    /// # async fn demo(inbox: quickassist_webhooks_postgres::Inbox) -> Result<(), quickassist_webhooks_postgres::Error> {
    /// use quickassist_webhooks_postgres::Selection;
    /// let retried = inbox.retry(&Selection::Ids(vec!["whk_abc123".into()])).await?;
    /// # let _ = retried;
    /// # Ok(()) }
    /// ```
    pub async fn retry(&self, selection: &Selection) -> Result<u64, Error> {
        self.requeue(super::InboxStatus::Dead, selection).await
    }

    /// Makes the selected **processed** deliveries pending again, so the handler runs for
    /// them once more (after a fix to the handler, say); returns how many.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the update fails.
    ///
    /// ```no_run
    /// # async fn demo(inbox: quickassist_webhooks_postgres::Inbox) -> Result<(), quickassist_webhooks_postgres::Error> {
    /// use quickassist_webhooks_postgres::Selection;
    /// let since = chrono::Utc::now() - chrono::Duration::hours(1);
    /// inbox.replay(&Selection::ReceivedBetween(since, chrono::Utc::now())).await?;
    /// # Ok(()) }
    /// ```
    pub async fn replay(&self, selection: &Selection) -> Result<u64, Error> {
        self.requeue(super::InboxStatus::Processed, selection).await
    }

    async fn requeue(&self, from: InboxStatus, selection: &Selection) -> Result<u64, Error> {
        let sql = requeue_sql(selection);
        let mut tx = self.pool().begin().await?;
        let query = sqlx::query(&sql).bind(from.as_str());
        let query = match selection {
            Selection::Ids(ids) => query.bind(ids),
            Selection::ReceivedBetween(from, to) => query.bind(from).bind(to),
            Selection::All => query,
        };
        let requeued = query.execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        if requeued > 0 {
            // After the commit, so that woken workers see the rows; a failure only delays
            // the pick-up until the next poll.
            let _ = notify(self.pool()).await;
        }
        Ok(requeued)
    }

    /// Each account's due deliveries: how many, and how long the oldest has waited, the
    /// account waiting longest first. A worker that keeps up shows ages near zero; one
    /// account's growing age while others stay low is that account falling behind.
    ///
    /// One query over the due rows (through an index of pending rows).
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the query fails.
    ///
    /// ```no_run
    /// # async fn demo(inbox: quickassist_webhooks_postgres::Inbox) -> Result<(), quickassist_webhooks_postgres::Error> {
    /// let behind = inbox.lag().await?.into_iter().filter(|lag| lag.oldest_due_age.as_secs() > 60);
    /// # let _ = behind.count();
    /// # Ok(()) }
    /// ```
    pub async fn lag(&self) -> Result<Vec<AccountLag>, Error> {
        let rows: Vec<LagRow> = sqlx::query_as(LAG).fetch_all(self.pool()).await?;
        Ok(rows
            .into_iter()
            .map(|row| AccountLag {
                account: Some(row.account).filter(|account| !account.is_empty()),
                due: u64::try_from(row.due).unwrap_or(0),
                oldest_due_since: row.oldest,
                oldest_due_age: Duration::from_millis(u64::try_from(row.age_millis).unwrap_or(0)),
            })
            .collect())
    }
}
