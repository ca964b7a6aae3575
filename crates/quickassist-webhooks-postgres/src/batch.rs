//! Processing one batch: claiming it, running the handler for each delivery in a savepoint,
//! recording each outcome, and committing per batch or per delivery ([`CommitMode`]).

use std::{
    panic::AssertUnwindSafe,
    time::{Duration, Instant},
};

use futures_util::FutureExt;
use quickassist_webhooks::{accounts::AccountId, idempotency::ClaimToken, parse_envelope, Event};
use sqlx::{Acquire, PgPool, Postgres, Transaction};
use tracing::Instrument;

use crate::{
    claim::{Claimed, Claimer, Policy},
    observe,
    worker::Config,
    Error, Handler, StoredDelivery,
};

/// Marks a batch's processed rows, in the batch's transaction (one statement for all).
pub(crate) const MARK_PROCESSED: &str = "UPDATE quickassist_webhook_inbox \
     SET status = 'processed', processed_at = now(), attempts = attempts + 1, last_error = NULL \
     WHERE (account, webhook_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))";

pub(crate) const MARK_FAILED: &str = "UPDATE quickassist_webhook_inbox \
     SET attempts = attempts + 1, last_error = $2, \
         status = CASE WHEN attempts + 1 >= $3 THEN 'dead' ELSE 'pending' END, \
         next_attempt_at = now() + $4 * interval '1 millisecond' \
     WHERE account = $5 AND webhook_id = $1";

/// When a [`Worker`](crate::Worker) commits what its handlers did ([`Worker::commit_mode`](crate::Worker::commit_mode)).
///
/// ```
/// use quickassist_webhooks_postgres::CommitMode;
///
/// assert_eq!(CommitMode::default(), CommitMode::PerBatch);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommitMode {
    /// One transaction per batch, committed after its last handler (the default): the
    /// fastest, as a batch of 16 pays for one commit. A slow handler delays the commit of
    /// the deliveries it shares its batch with, up to its
    /// [`handler_timeout`](crate::Worker::handler_timeout); a crash before the commit runs them
    /// all again.
    #[default]
    PerBatch,
    /// One transaction per delivery: each delivery is claimed, processed and committed
    /// (marked processed, with its handler's writes) on its own, as soon as its handler
    /// returns. A slow handler holds its own delivery and nothing else: no other delivery
    /// waits for it, to be committed or to be claimed by another task. A crash runs again
    /// only the delivery whose handler was running. Costs a claim and a commit per delivery
    /// (BENCHMARKS.md, "Inbox commits"). For handlers with effects outside the database, and
    /// handlers that can be slow.
    PerDelivery,
}

pub(crate) async fn process_batch<H: Handler>(
    pool: &PgPool,
    handler: &H,
    config: &Config,
    claimer: &Claimer,
) -> Result<usize, Error> {
    if config.commit == CommitMode::PerDelivery {
        return process_each(pool, handler, config, claimer).await;
    }
    let mut tx = begin(pool, config).await?;
    let rows = claimer.claim(&mut tx, config.claim).await?;
    let mut processed = Vec::with_capacity(rows.len());
    for row in &rows {
        if process_one(&mut tx, handler, config, row).await? {
            processed.push(row);
        }
    }
    mark_processed(&mut tx, &processed).await?;
    tx.commit().await?;
    Ok(rows.len())
}

/// [`CommitMode::PerDelivery`]: up to a batch of deliveries, each claimed, processed and
/// committed in a transaction of its own, so that a slow handler holds its own delivery
/// and nothing else. Claiming one at a time keeps the claim rule: with fair claiming, each
/// claim serves the next account in the round robin.
async fn process_each<H: Handler>(
    pool: &PgPool,
    handler: &H,
    config: &Config,
    claimer: &Claimer,
) -> Result<usize, Error> {
    let one = Policy {
        batch_size: 1,
        ..config.claim
    };
    let mut claimed = 0;
    while claimed < config.claim.batch_size {
        let mut tx = begin(pool, config).await?;
        let Some(row) = claimer.claim(&mut tx, one).await?.pop() else {
            tx.commit().await?;
            break;
        };
        claimed += 1;
        if process_one(&mut tx, handler, config, &row).await? {
            mark_processed(&mut tx, &[&row]).await?;
        }
        tx.commit().await?;
    }
    Ok(claimed)
}

/// A transaction for processing: each statement bounded by the handler's timeout.
async fn begin(pool: &PgPool, config: &Config) -> Result<Transaction<'static, Postgres>, Error> {
    let mut tx = pool.begin().await?;
    // `SET LOCAL statement_timeout`, which takes no bind parameters.
    sqlx::query("SELECT set_config('statement_timeout', $1, true)")
        .bind(format!("{}ms", config.handler_timeout.as_millis().max(1)))
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Marks `rows` processed in `tx` (one statement for all).
async fn mark_processed(
    tx: &mut Transaction<'static, Postgres>,
    rows: &[&Claimed],
) -> Result<(), Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let (accounts, ids): (Vec<&str>, Vec<&str>) = rows
        .iter()
        .map(|row| (row.account.as_str(), row.webhook_id.as_str()))
        .unzip();
    sqlx::query(MARK_PROCESSED)
        .bind(accounts)
        .bind(ids)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Why an attempt failed, and whether another could succeed.
struct Failure {
    error: String,
    fatal: bool,
}

/// Runs the handler for `row` in a savepoint; true when it succeeded (the caller marks it
/// processed), false when the failure is recorded.
async fn process_one<H: Handler>(
    tx: &mut Transaction<'static, Postgres>,
    handler: &H,
    config: &Config,
    row: &Claimed,
) -> Result<bool, Error> {
    let webhook_id = row.webhook_id.as_str();
    let attempt = u32::try_from(row.attempts).unwrap_or(0).saturating_add(1);
    let failure = match stored_delivery(row, attempt) {
        Err(failure) => Some(failure),
        Ok(delivery) => {
            let span = observe::span(&delivery);
            let mut savepoint = tx.begin().await?;
            let started = Instant::now();
            let call = AssertUnwindSafe(handler.handle(delivery, &mut savepoint))
                .catch_unwind()
                .instrument(span);
            let failure = match tokio::time::timeout(config.handler_timeout, call).await {
                Ok(Ok(Ok(()))) => None,
                Ok(Ok(Err(error))) => Some(error.to_string()),
                Ok(Err(_)) => Some("the handler panicked".to_owned()),
                Err(_) => Some(format!(
                    "the handler timed out after {:?}",
                    config.handler_timeout
                )),
            };
            observe::handler_finished(started.elapsed());
            match failure {
                None => savepoint.commit().await?,
                Some(_) => {
                    // A handler dropped at its timeout may leave a statement running; the
                    // error it ends with is read by the connection's next call, which may
                    // be this rollback. The savepoint, dropped unreleased, then queues its
                    // rollback ahead of the next statement (the mark below), so the
                    // handler's writes are undone either way; a connection that is gone
                    // fails that statement, and the batch with it.
                    if let Err(error) = savepoint.rollback().await {
                        tracing::debug!(webhook_id, %error, "handler's savepoint rolled back late");
                    }
                }
            }
            failure.map(|error| Failure {
                error,
                fatal: false,
            })
        }
    };
    let Some(Failure { error, fatal }) = failure else {
        observe::processed(webhook_id, row.received_at);
        return Ok(true);
    };
    let max_attempts = if fatal { attempt } else { config.max_attempts };
    let delay = backoff(config, attempt);
    observe::failed(webhook_id, attempt, &error, attempt >= max_attempts);
    sqlx::query(MARK_FAILED)
        .bind(webhook_id)
        .bind(error)
        .bind(i32::try_from(max_attempts).unwrap_or(i32::MAX))
        .bind(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX))
        .bind(&row.account)
        .execute(&mut **tx)
        .await?;
    Ok(false)
}

/// The row as the handler gets it. Verified and parsed at intake, so only a change of this
/// library's event types or a hand-edited row can fail here, and retrying would not help.
fn stored_delivery(row: &Claimed, attempt: u32) -> Result<StoredDelivery, Failure> {
    let fatal = |error: String| Failure { error, fatal: true };
    let envelope = parse_envelope::<Event>(&row.body)
        .map_err(|error| fatal(format!("not an envelope: {error}")))?;
    let account = match row.account.as_str() {
        "" => None,
        id => Some(AccountId::new(id).ok_or_else(|| fatal(format!("not an account id: {id:?}")))?),
    };
    Ok(StoredDelivery {
        envelope,
        account,
        attempt,
        received_at: row.received_at,
    })
}

/// The delay after the `attempt`th failure: `base * 2^(attempt-1)`, at most `max`, drawn
/// between half and all of it.
fn backoff(config: &Config, attempt: u32) -> Duration {
    let exponent = attempt.saturating_sub(1).min(30);
    let full = config
        .backoff_base
        .saturating_mul(1 << exponent)
        .min(config.backoff_max);
    // Random bits from the standard library's keyed hasher (through ClaimToken).
    let fraction = (ClaimToken::random().get() % 1_000_000) as f64 / 1_000_000.0;
    full.mul_f64(0.5 + fraction / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{claim::Policy, worker::Config, DEFAULT_HANDLER_TIMEOUT};

    #[test]
    fn backoff_doubles_within_jitter_and_caps() {
        let config = Config {
            tasks: 1,
            claim: Policy {
                batch_size: 1,
                fair: true,
                ordered: false,
                in_progress_per_account: None,
            },
            max_attempts: 5,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
            poll_interval: Duration::from_secs(1),
            handler_timeout: DEFAULT_HANDLER_TIMEOUT,
            lag_per_account: false,
            commit: CommitMode::PerBatch,
        };
        for (attempt, full) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (40, 1000),
        ] {
            let delay = backoff(&config, attempt);
            let full = Duration::from_millis(full);
            assert!(delay >= full / 2 && delay <= full, "{attempt}: {delay:?}");
        }
    }
}
