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
        // Up to `$2` rows of each account in `$1`, oldest due first.
        format!(
            "SELECT c.webhook_id, c.body, c.attempts, c.account, c.received_at \
             FROM unnest($1::text[]) WITH ORDINALITY AS a(account, n) \
             CROSS JOIN LATERAL ( \
               SELECT i.webhook_id, i.body, i.attempts, i.account, i.received_at \
               FROM quickassist_webhook_inbox i \
               WHERE i.account = a.account AND i.status = 'pending' \
                 AND i.next_attempt_at <= now() AND {first} \
               ORDER BY i.next_attempt_at LIMIT $2 FOR UPDATE OF i SKIP LOCKED) c"
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
    /// Claims (locks, in `tx`) up to `batch_size` due rows.
    /// Fair (`fair`) or first due first; `ordered`: only the first pending delivery of each
    /// ordering key.
    pub(crate) async fn claim(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        batch_size: usize,
        fair: bool,
        ordered: bool,
    ) -> Result<Vec<Claimed>, Error> {
        let sql = CLAIMS[usize::from(fair)][usize::from(ordered)].as_str();
        let limit = i64::try_from(batch_size).unwrap_or(i64::MAX);
        if !fair {
            return Ok(sqlx::query_as(sql).bind(limit).fetch_all(&mut **tx).await?);
        }
        let after = self.cursor.lock().map_or(None, |cursor| cursor.clone());
        let accounts = due_accounts(tx, after.as_deref(), batch_size).await?;
        let Some(last) = accounts.last().cloned() else {
            return Ok(Vec::new());
        };
        let share = i64::try_from((batch_size / accounts.len()).max(1)).unwrap_or(1);
        let rows = sqlx::query_as(sql)
            .bind(&accounts)
            .bind(share)
            .fetch_all(&mut **tx)
            .await?;
        if let Ok(mut cursor) = self.cursor.lock() {
            *cursor = Some(last);
        }
        Ok(rows)
    }
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
