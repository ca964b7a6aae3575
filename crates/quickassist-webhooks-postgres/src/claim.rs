//! Claiming a batch of due deliveries, shared fairly among the accounts that have some.
//!
//! The rule (round robin by account): a batch takes up to `batch_size` accounts that have
//! due deliveries, in account order starting after the last account the worker's previous
//! batch served (wrapping around), and from each the same share, `batch_size / accounts`
//! (at least one), oldest due first. One account's flood therefore holds at most its share
//! of a batch while others have deliveries due, and every account with due deliveries is
//! served within `ceil(accounts / batch_size)` batches. A receiver of one account (or of one
//! secret, account `''`) gets whole batches in `next_attempt_at` order, as first-in
//! first-out claiming does. A worker that found one account with due deliveries claims first
//! due first for `ALONE_FOR` before walking the accounts again (the walk costs about a third
//! of the throughput of a batch).
//!
//! Both walks use the index on `(account, next_attempt_at, webhook_id)` of pending rows: one
//! probe per due account to list them (a loose index scan), one range per account to claim.

use std::{
    sync::{LazyLock, Mutex},
    time::{Duration, Instant},
};

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
    /// From a fair claim: how many accounts had due deliveries.
    #[sqlx(default)]
    pub(crate) accounts_due: Option<i64>,
}

/// A row is the first pending delivery of its key (in signed order), so that a key's later
/// deliveries wait for its earlier ones, wherever they are being processed.
const FIRST_OF_ITS_KEY: &str = "(i.ordering_key IS NULL OR NOT EXISTS ( \
         SELECT 1 FROM quickassist_webhook_inbox e \
         WHERE e.ordering_key = i.ordering_key AND e.account = i.account AND e.status = 'pending' \
           AND (e.signed_at, e.webhook_id) < (i.signed_at, i.webhook_id)))";

/// The body of the recursive CTE `name`: the accounts with due deliveries, in account
/// order, whose names satisfy `lower` (first probe only) and `upper` (every probe), over
/// `$2`; one index probe per account. Compared in the database's collation, as the index
/// is. No `$2 IS NULL OR …`: a generic plan could not use the index through it.
fn due_accounts_sql(name: &str, lower: &str, upper: &str) -> String {
    format!(
        "(SELECT account FROM quickassist_webhook_inbox i \
           WHERE status = 'pending' AND next_attempt_at <= now() {lower} {upper} \
           ORDER BY account LIMIT 1) \
         UNION ALL \
         SELECT (SELECT i.account FROM quickassist_webhook_inbox i \
                 WHERE i.status = 'pending' AND i.next_attempt_at <= now() \
                   AND i.account > {name}.account {upper} \
                 ORDER BY i.account LIMIT 1) \
         FROM {name} WHERE {name}.account IS NOT NULL"
    )
}

/// The account walks, as their `WITH` clause and the `SELECT` of their accounts: from the
/// first account (`cursor == false`); or after `$2`, then (wrapping around, in the same
/// statement) from the first up to `$2`. `UNION ALL` under a `LIMIT` runs the second walk
/// only when the first found too few.
fn walks(cursor: bool) -> (String, String) {
    let walk = due_accounts_sql;
    if cursor {
        (
            format!(
                "WITH RECURSIVE after_it(account) AS ({}), upto_it(account) AS ({})",
                walk("after_it", "AND i.account > $2", ""),
                walk("upto_it", "", "AND i.account <= $2"),
            ),
            "SELECT account FROM ( \
               SELECT account FROM after_it WHERE account IS NOT NULL \
               UNION ALL SELECT account FROM upto_it WHERE account IS NOT NULL) both_walks"
                .to_owned(),
        )
    } else {
        (
            format!("WITH RECURSIVE walk(account) AS ({})", walk("walk", "", "")),
            "SELECT account FROM walk WHERE account IS NOT NULL".to_owned(),
        )
    }
}

/// Up to `$1` accounts with due deliveries, by `[with a cursor]` (see [`walks`]).
static DUE_ACCOUNTS: LazyLock<[String; 2]> = LazyLock::new(|| {
    [false, true].map(|cursor| {
        let (ctes, select) = walks(cursor);
        format!("{ctes} {select} LIMIT $1")
    })
});

/// Claims up to `$1` due rows first due first, whoever sent them; `ordered`: only the first
/// pending delivery of each key. `except_held`: not those the batch already holds (`$2`,
/// `$3`: their accounts and ids), to top a fair batch up with the share an account with few
/// due rows left unused.
fn fifo_claim(ordered: bool, except_held: bool) -> String {
    let first = if ordered { FIRST_OF_ITS_KEY } else { "true" };
    let except = if except_held {
        "AND (i.account, i.webhook_id) NOT IN (SELECT * FROM unnest($2::text[], $3::text[]))"
    } else {
        ""
    };
    format!(
        "SELECT i.webhook_id, i.body, i.attempts, i.account, i.received_at \
         FROM quickassist_webhook_inbox i \
         WHERE i.status = 'pending' AND i.next_attempt_at <= now() AND {first} {except} \
         ORDER BY i.next_attempt_at LIMIT $1 FOR UPDATE OF i SKIP LOCKED"
    )
}

/// The top-up claims, by `[ordered]` (see [`fifo_claim`]).
static TOP_UPS: LazyLock<[String; 2]> =
    LazyLock::new(|| [false, true].map(|ordered| fifo_claim(ordered, true)));

/// The fair claim in one statement, by `[ordered][with a cursor]`: the accounts walk (up to
/// `$1` accounts, after `$2` and wrapping around when there is a cursor), each account's
/// share `$1 / accounts` (at least 1), and from each account that many of its rows.
static FAIR_CLAIMS: LazyLock<[[String; 2]; 2]> = LazyLock::new(|| {
    let claim = |ordered: bool, cursor: bool| {
        let (ctes, select) = walks(cursor);
        let rows = lateral_claim(
            ordered,
            "accounts a CROSS JOIN share",
            "share.n",
            ", share.k AS accounts_due",
        );
        format!(
            "{ctes}, accounts AS ({select} LIMIT $1), \
             share AS (SELECT count(*) AS k, \
                              greatest(1, $1 / greatest(count(*), 1))::bigint AS n \
                       FROM accounts) \
             {rows}"
        )
    };
    [
        [claim(false, false), claim(false, true)],
        [claim(true, false), claim(true, true)],
    ]
});

/// Rows of each account of `accounts` (a `FROM` list with `a.account`), `quota` of each at
/// most, oldest due first. The account is a range of one (not `=`) and the order names every
/// column of the `(account, next_attempt_at, webhook_id)` index: with `=`, the planner drops
/// the account from the order and may read the `next_attempt_at` index filtering by account,
/// which is fast for a flooding account and very slow for a small one (measured: 17-35 ms a
/// claim at 200,000 rows, against 0.3 ms through this index). `more` adds columns.
fn lateral_claim(ordered: bool, accounts: &str, quota: &str, more: &str) -> String {
    let first = if ordered { FIRST_OF_ITS_KEY } else { "true" };
    format!(
        "SELECT c.webhook_id, c.body, c.attempts, c.account, c.received_at{more} \
         FROM {accounts} \
         CROSS JOIN LATERAL ( \
           SELECT i.webhook_id, i.body, i.attempts, i.account, i.received_at \
           FROM quickassist_webhook_inbox i \
           WHERE i.account >= a.account AND i.account <= a.account AND i.status = 'pending' \
             AND i.next_attempt_at <= now() AND {first} \
           ORDER BY i.account, i.next_attempt_at, i.webhook_id \
           LIMIT {quota} FOR UPDATE OF i SKIP LOCKED) c"
    )
}

/// The claim of one batch, for a worker's configuration: first due first, or (fair, with a
/// per-account limit) up to `$2[k]` rows of each account `$1[k]`.
fn claim_sql(fair: bool, ordered: bool) -> String {
    if fair {
        format!(
            "{} WHERE a.quota > 0",
            lateral_claim(
                ordered,
                "unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS a(account, quota, n)",
                "a.quota",
                "",
            )
        )
    } else {
        fifo_claim(ordered, false)
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

/// The claim of one batch (see [`claim_sql`]), for [`Inbox::query_plans`](crate::Inbox::query_plans).
pub(crate) fn statement(fair: bool, ordered: bool) -> String {
    CLAIMS[usize::from(fair)][usize::from(ordered)].clone()
}

/// The fair claim in one statement, with a cursor (see [`FAIR_CLAIMS`]), for
/// [`Inbox::query_plans`](crate::Inbox::query_plans).
pub(crate) fn fair_statement(ordered: bool) -> String {
    FAIR_CLAIMS[usize::from(ordered)][1].clone()
}

/// Where a worker's round robin stands, shared by its tasks: the last account a batch
/// served; the next batch starts after it.
#[derive(Debug, Default)]
pub(crate) struct Claimer {
    cursor: Mutex<Option<String>>,
    /// Until when to claim first due first without walking the accounts, because only one
    /// had due deliveries (a receiver of one account, or one account's flood alone).
    alone_until: Mutex<Option<Instant>>,
}

/// How long a worker that found one account with due deliveries claims without looking for
/// others: the most another account's new delivery waits for fairness to notice it (its
/// share then comes in the next batch). Walking the accounts costs each batch about a third
/// of its throughput (BENCHMARKS.md, "Inbox fairness").
const ALONE_FOR: Duration = Duration::from_millis(100);

impl Claimer {
    /// Claims (locks, in `tx`) up to `policy.batch_size` due rows.
    pub(crate) async fn claim(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        policy: Policy,
    ) -> Result<Vec<Claimed>, Error> {
        let sql = CLAIMS[usize::from(policy.fair)][usize::from(policy.ordered)].as_str();
        let batch_size = policy.batch_size;
        let limit = i64::try_from(batch_size).unwrap_or(i64::MAX);
        if !policy.fair {
            return Ok(sqlx::query_as(sql).bind(limit).fetch_all(&mut **tx).await?);
        }
        let after = self.cursor.lock().ok().and_then(|cursor| cursor.clone());
        if let Some(limit) = policy.in_progress_per_account {
            // Accounts whose slots are all taken are passed over: look further.
            let candidates = batch_size.max(LIMITED_CANDIDATES);
            let accounts = due_accounts(tx, after.as_deref(), candidates).await?;
            return self
                .claim_one_account(tx, sql, &accounts, limit, batch_size)
                .await;
        }
        if self
            .alone_until
            .lock()
            .is_ok_and(|until| until.is_some_and(|until| Instant::now() < until))
        {
            // One account was due a moment ago: its batch, first due first, through the
            // `next_attempt_at` index, as without fairness. The accounts are walked again
            // after ALONE_FOR at the latest.
            let fifo = CLAIMS[0][usize::from(policy.ordered)].as_str();
            return Ok(sqlx::query_as(fifo)
                .bind(limit)
                .fetch_all(&mut **tx)
                .await?);
        }
        let fair = FAIR_CLAIMS[usize::from(policy.ordered)][usize::from(after.is_some())].as_str();
        let mut rows: Vec<Claimed> = match &after {
            None => {
                sqlx::query_as(fair)
                    .bind(limit)
                    .fetch_all(&mut **tx)
                    .await?
            }
            Some(after) => {
                sqlx::query_as(fair)
                    .bind(limit)
                    .bind(after)
                    .fetch_all(&mut **tx)
                    .await?
            }
        };
        let Some(last) = rows.last().map(|row| row.account.clone()) else {
            return Ok(rows);
        };
        if let Ok(mut until) = self.alone_until.lock() {
            let alone = rows.first().and_then(|row| row.accounts_due) == Some(1);
            *until = alone.then(|| Instant::now() + ALONE_FOR);
        }
        if rows.len() < batch_size {
            let held: (Vec<&str>, Vec<&str>) = rows
                .iter()
                .map(|row| (row.account.as_str(), row.webhook_id.as_str()))
                .unzip();
            let more: Vec<Claimed> = sqlx::query_as(&TOP_UPS[usize::from(policy.ordered)])
                .bind(i64::try_from(batch_size - rows.len()).unwrap_or(i64::MAX))
                .bind(held.0)
                .bind(held.1)
                .fetch_all(&mut **tx)
                .await?;
            rows.extend(more);
        }
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
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    Ok(match after {
        None => {
            sqlx::query_scalar(&DUE_ACCOUNTS[0])
                .bind(limit)
                .fetch_all(tx)
                .await?
        }
        Some(after) => {
            sqlx::query_scalar(&DUE_ACCOUNTS[1])
                .bind(limit)
                .bind(after)
                .fetch_all(tx)
                .await?
        }
    })
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
