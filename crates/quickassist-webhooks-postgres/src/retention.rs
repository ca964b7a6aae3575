//! Retention: deleting old processed deliveries in short, bounded statements, so that a
//! purge of millions of rows never holds a long transaction beside the intake.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::{Error, Inbox};

/// Rows [`Inbox::purge_processed`] deletes per statement: each statement is its own short
/// transaction, so the intake's inserts and the workers' claims never wait long behind a
/// purge, and autovacuum can reclaim the space while it runs.
///
/// ```
/// assert_eq!(quickassist_webhooks_postgres::PURGE_BATCH_SIZE, 1_000);
/// ```
pub const PURGE_BATCH_SIZE: u32 = 1_000;

/// The oldest `$2` processed rows processed before `$1`, through the partial index on
/// `processed_at` of processed rows; rows locked by a concurrent replay are left alone.
pub(crate) const PURGE_BATCH: &str = "DELETE FROM quickassist_webhook_inbox i USING ( \
         SELECT account, webhook_id FROM quickassist_webhook_inbox \
         WHERE status = 'processed' AND processed_at < $1 \
         ORDER BY processed_at LIMIT $2 FOR UPDATE SKIP LOCKED) old \
     WHERE i.account = old.account AND i.webhook_id = old.webhook_id";

/// The longest age `purge_processed` computes with (a thousand years), whatever it is given.
const MAX_AGE_MILLIS: i64 = 1_000 * 366 * 86_400 * 1_000;

impl Inbox {
    /// Retention: deletes the deliveries processed more than `older_than` ago (by the
    /// database's clock when the purge starts); returns how many. Pending and dead
    /// deliveries are kept. Run it periodically (`qa-webhooks inbox purge --older-than 7d`
    /// from a cron job, or a task of your own).
    ///
    /// The rows go [`PURGE_BATCH_SIZE`] at a time, oldest first, each batch in its own
    /// statement, with a pause as long as the statement took before the next: a purge of a
    /// million rows is a thousand short transactions spread over twice their time, not one
    /// long one, so the intake and the workers keep their pace (BENCHMARKS.md, "Inbox at
    /// size").
    /// Stopped half-way (an error, a cancelled future), it has deleted whole batches only;
    /// running it again finishes the work.
    ///
    /// # Duplicates of purged deliveries
    ///
    /// The intake recognises a copy of a delivery by its row, so a copy that arrives after
    /// its original was purged would be stored again, except that the receiver refuses it
    /// first: a delivery processed more than `older_than` ago was signed earlier still, and
    /// the receiver refuses a signed `timestamp` older than its replay window plus its
    /// clock-skew allowance (`stale_timestamp`, 401). So **keep `older_than` at least that
    /// long** (the default window and allowance add up to the default done-TTL, 24 hours),
    /// and no copy of a purged delivery is ever processed again. With a longer replay
    /// window, or none, keep the rows correspondingly longer.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when a delete fails (the batches before it stay deleted).
    ///
    /// ```no_run
    /// # async fn demo(inbox: quickassist_webhooks_postgres::Inbox) -> Result<(), quickassist_webhooks_postgres::Error> {
    /// // A week: longer than the receiver's replay window (24 hours by default).
    /// let deleted = inbox.purge_processed(std::time::Duration::from_secs(7 * 86_400)).await?;
    /// # let _ = deleted;
    /// # Ok(()) }
    /// ```
    pub async fn purge_processed(&self, older_than: Duration) -> Result<u64, Error> {
        // At most a thousand years: PostgreSQL's intervals end not far beyond.
        let millis = i64::try_from(older_than.as_millis())
            .unwrap_or(i64::MAX)
            .min(MAX_AGE_MILLIS);
        // Fixed once, so that rows processed while the purge runs never extend it.
        let cutoff: DateTime<Utc> =
            sqlx::query_scalar("SELECT now() - $1 * interval '1 millisecond'")
                .bind(millis)
                .fetch_one(self.pool())
                .await?;
        let mut deleted = 0;
        loop {
            let started = Instant::now();
            let batch = sqlx::query(PURGE_BATCH)
                .bind(cutoff)
                .bind(i64::from(PURGE_BATCH_SIZE))
                .execute(self.pool())
                .await?
                .rows_affected();
            deleted += batch;
            if batch < u64::from(PURGE_BATCH_SIZE) {
                return Ok(deleted);
            }
            // As long again before the next: the purge takes at most half the time of one
            // connection, and leaves the rest of the database's to the intake and workers.
            tokio::time::sleep(started.elapsed()).await;
        }
    }
}
