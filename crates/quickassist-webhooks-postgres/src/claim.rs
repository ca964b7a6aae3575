//! Claiming a batch of due deliveries, shared fairly among the accounts that have some.
//!
//! The rule (round robin by account): a batch takes up to `batch_size` accounts that have
//! due deliveries, in account order starting after the last account the worker's previous
//! batch served (wrapping around), and from each the same share, `batch_size / accounts`
//! (at least one), oldest due first. One account's flood therefore holds at most its share
//! of a batch while others have deliveries due, and every account with due deliveries is
//! served within `ceil(accounts / batch_size)` batches. A receiver of one account (or of one
//! secret, account `''`) gets whole batches in `next_attempt_at` order, as first-in
//! first-out claiming does.
//!
//! Both walks use the index on `(account, next_attempt_at)` of pending rows: one probe per
//! due account to list them (a loose index scan), one range per account to claim.

use std::sync::{LazyLock, Mutex};

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, Transaction};

use crate::Error;

/// A claimed row.
#[derive(sqlx::FromRow)]
pub(crate) struct Claimed {
    pub(crate) webhook_id: String,
    pub(crate) body: Vec<u8>,
    pub(crate) attempts: i32,
    /// `''` for no account.
    pub(crate) account: String,
    pub(crate) received_at: DateTime<Utc>,
}

/// Claims due rows of all unordered deliveries, first due first (no fairness).
const CLAIM_FIFO: &str = "SELECT webhook_id, body, attempts, account, received_at \
     FROM quickassist_webhook_inbox \
     WHERE status = 'pending' AND next_attempt_at <= now() \
     ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED";

/// A row is the first pending delivery of its key (in signed order), so that a key's later
/// deliveries wait for its earlier ones, wherever they are being processed.
const FIRST_OF_ITS_KEY: &str = "(i.ordering_key IS NULL OR NOT EXISTS ( \
         SELECT 1 FROM quickassist_webhook_inbox e \
         WHERE e.ordering_key = i.ordering_key AND e.account = i.account AND e.status = 'pending' \
           AND (e.signed_at, e.webhook_id) < (i.signed_at, i.webhook_id)))";

/// Up to `$2` accounts with due deliveries, in account order, after `$1` (from the first
/// when `$1` is NULL) and up to `$3` included (to the last when NULL): a recursive walk that
/// probes the index once per account. Compared in the database's collation, as the index is.
const DUE_ACCOUNTS: &str = "WITH RECURSIVE due(account) AS ( \
         (SELECT account FROM quickassist_webhook_inbox \
          WHERE status = 'pending' AND next_attempt_at <= now() \
            AND ($1::text IS NULL OR account > $1) AND ($3::text IS NULL OR account <= $3) \
          ORDER BY account LIMIT 1) \
       UNION ALL \
         SELECT (SELECT i.account FROM quickassist_webhook_inbox i \
                 WHERE i.status = 'pending' AND i.next_attempt_at <= now() \
                   AND i.account > due.account AND ($3::text IS NULL OR i.account <= $3) \
                 ORDER BY i.account LIMIT 1) \
         FROM due WHERE due.account IS NOT NULL) \
     SELECT account FROM due WHERE account IS NOT NULL LIMIT $2";

/// The claim of one batch, for a worker's configuration.
fn claim_sql(fair: bool, ordered: bool) -> String {
    let first = if ordered { FIRST_OF_ITS_KEY } else { "true" };
    if fair {
        // Up to `$2[k]` rows of each account `$1[k]`, oldest due first.
        format!(
            "SELECT c.webhook_id, c.body, c.attempts, c.account, c.received_at \
             FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS a(account, quota, n) \
             CROSS JOIN LATERAL ( \
               SELECT i.webhook_id, i.body, i.attempts, i.account, i.received_at \
               FROM quickassist_webhook_inbox i \
               WHERE i.account = a.account AND i.status = 'pending' \
                 AND i.next_attempt_at <= now() AND {first} \
               ORDER BY i.next_attempt_at LIMIT a.quota FOR UPDATE OF i SKIP LOCKED) c \
             WHERE a.quota > 0"
        )
    } else if ordered {
        format!(
            "SELECT i.webhook_id, i.body, i.attempts, i.account, i.received_at \
             FROM quickassist_webhook_inbox i \
             WHERE i.status = 'pending' AND i.next_attempt_at <= now() AND {first} \
             ORDER BY i.next_attempt_at LIMIT $1 FOR UPDATE OF i SKIP LOCKED"
        )
    } else {
        CLAIM_FIFO.to_owned()
    }
}

/// With a per-account limit, how many accounts a batch looks through for one with a free
/// slot (at least the batch size).
const LIMITED_CANDIDATES: usize = 64;

/// How many of account `$1`'s `$2` in-progress slots this transaction takes, at most `$3`:
/// each slot is a transaction-level advisory lock, taken if free and held until the batch
/// commits or rolls back, so that all workers together have at most `$2` of an account's
/// deliveries in progress. (Two accounts whose names hash alike share their slots.)
const TAKE_SLOTS: &str = "SELECT count(*) FROM ( \
         SELECT 1 FROM generate_series(0, $2::int - 1) AS s \
         WHERE pg_try_advisory_xact_lock(hashtext('quickassist_webhook_inbox:' || $1), s) \
         LIMIT $3) t";

/// The claim statements, by `[fair][ordered]`.
static CLAIMS: LazyLock<[[String; 2]; 2]> = LazyLock::new(|| {
    [
        [claim_sql(false, false), claim_sql(false, true)],
        [claim_sql(true, false), claim_sql(true, true)],
    ]
});

/// Where a worker's round robin stands, shared by its tasks: the last account a batch
/// served; the next batch starts after it.
#[derive(Debug, Default)]
pub(crate) struct Claimer {
    cursor: Mutex<Option<String>>,
}

impl Claimer {
    /// Claims (locks, in `tx`) up to `policy.batch_size` due rows.
    pub(crate) async fn claim(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        policy: Policy,
    ) -> Result<Vec<Claimed>, Error> {
        let sql = CLAIMS[usize::from(policy.fair)][usize::from(policy.ordered)].as_str();
        let batch_size = policy.batch_size;
        if !policy.fair {
            let limit = i64::try_from(batch_size).unwrap_or(i64::MAX);
            return Ok(sqlx::query_as(sql).bind(limit).fetch_all(&mut **tx).await?);
        }
        let after = self.cursor.lock().map_or(None, |cursor| cursor.clone());
        // With a limit, accounts whose slots are all taken are passed over: look further.
        let candidates = match policy.in_progress_per_account {
            None => batch_size,
            Some(_) => batch_size.max(LIMITED_CANDIDATES),
        };
        let accounts = due_accounts(tx, after.as_deref(), candidates).await?;
        let Some(last) = accounts.last().cloned() else {
            return Ok(Vec::new());
        };
        if let Some(limit) = policy.in_progress_per_account {
            return self
                .claim_one_account(tx, sql, &accounts, limit, batch_size)
                .await;
        }
        let share = i64::try_from((batch_size / accounts.len()).max(1)).unwrap_or(1);
        let rows = sqlx::query_as(sql)
            .bind(&accounts)
            .bind(vec![share; accounts.len()])
            .fetch_all(&mut **tx)
            .await?;
        self.served(last);
        Ok(rows)
    }

    /// With a limit of deliveries in progress per account, a batch serves one account: the
    /// first of `accounts` with a free slot, as many of its rows as slots it took (at most
    /// `batch_size`). Its slots are held until the batch ends, so a batch never mixes an
    /// account whose handler hangs with others that would wait for its commit.
    async fn claim_one_account(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        sql: &str,
        accounts: &[String],
        limit: u32,
        batch_size: usize,
    ) -> Result<Vec<Claimed>, Error> {
        for account in accounts {
            let slots: i64 = sqlx::query_scalar(TAKE_SLOTS)
                .bind(account)
                .bind(i32::try_from(limit.max(1)).unwrap_or(i32::MAX))
                .bind(i64::try_from(batch_size).unwrap_or(i64::MAX))
                .fetch_one(&mut **tx)
                .await?;
            // Passed over or served, the next batch starts after it.
            self.served(account.clone());
            if slots == 0 {
                continue;
            }
            let rows: Vec<Claimed> = sqlx::query_as(sql)
                .bind([account])
                .bind([slots])
                .fetch_all(&mut **tx)
                .await?;
            if !rows.is_empty() {
                return Ok(rows);
            }
        }
        Ok(Vec::new())
    }

    /// Moves the round robin past `account`.
    fn served(&self, account: String) {
        if let Ok(mut cursor) = self.cursor.lock() {
            *cursor = Some(account);
        }
    }
}

/// What a batch may claim.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    /// Rows per batch.
    pub(crate) batch_size: usize,
    /// Shared among the accounts with due rows (round robin), or first due first.
    pub(crate) fair: bool,
    /// Only the first pending delivery of each ordering key.
    pub(crate) ordered: bool,
    /// With `fair`: at most this many of an account's deliveries in progress, across all
    /// workers.
    pub(crate) in_progress_per_account: Option<u32>,
}

/// Up to `limit` accounts with due deliveries: those after `after` in account order, then,
/// wrapping around, those from the first up to `after` itself.
async fn due_accounts(
    tx: &mut PgConnection,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<String>, Error> {
    let list =
        async |tx: &mut PgConnection, after: Option<&str>, upto: Option<&str>, limit: usize| {
            sqlx::query_scalar::<_, String>(DUE_ACCOUNTS)
                .bind(after)
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .bind(upto)
                .fetch_all(tx)
                .await
        };
    let mut accounts = list(tx, after, None, limit).await?;
    if after.is_some() && accounts.len() < limit {
        let wrapped = list(tx, None, after, limit - accounts.len()).await?;
        accounts.extend(wrapped);
    }
    Ok(accounts)
}

#[cfg(test)]
mod tests {
    use super::claim_sql;

    #[test]
    fn only_ordered_claims_wait_for_earlier_deliveries_of_their_key() {
        for fair in [true, false] {
            assert!(claim_sql(fair, true).contains("NOT EXISTS"));
            assert!(!claim_sql(fair, false).contains("NOT EXISTS"));
        }
        assert!(claim_sql(true, false).contains("LATERAL"));
        assert!(!claim_sql(false, true).contains("LATERAL"));
    }
}
