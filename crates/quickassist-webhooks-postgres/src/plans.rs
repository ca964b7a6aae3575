//! [`Inbox::query_plans`]: how PostgreSQL would run each hot query of the inbox on this
//! database, as it is now, so that an operator (or a benchmark at ten million rows) can see
//! that each one goes through an index.

use chrono::{Duration as Age, Utc};
use sqlx::Row as _;

use crate::{batch, claim, intake, observe, ops, retention, Error, Inbox};

/// The plan PostgreSQL chose for one of the inbox's hot queries ([`Inbox::query_plans`]).
///
/// ```no_run
/// # async fn demo(inbox: quickassist_webhooks_postgres::Inbox) -> Result<(), quickassist_webhooks_postgres::Error> {
/// for plan in inbox.query_plans().await? {
///     let how = if plan.scans_table { "reads the whole table" } else { "by index" };
///     println!("{}: {how} ({})", plan.query, plan.indexes.join(", "));
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueryPlan {
    /// What the query does, such as `claim (fair, ordered)` or `retention batch`.
    pub query: &'static str,
    /// The indexes the plan reads (or, for the intake's insert, checks conflicts in).
    pub indexes: Vec<String>,
    /// Whether the plan reads the inbox table sequentially: every row, whatever the
    /// filter. None of the hot queries should.
    pub scans_table: bool,
    /// The plan as `EXPLAIN` prints it.
    pub text: String,
}

/// A hot query: its name, its statement and representative parameters.
struct Hot {
    query: &'static str,
    sql: String,
    bind: fn(Query<'_>) -> Query<'_>,
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// Sixteen keys, as a batch marks them.
fn keys(query: Query<'_>) -> Query<'_> {
    let ids: Vec<String> = (0..16).map(|n| format!("whk_plan_{n}")).collect();
    query.bind(vec![String::new(); 16]).bind(ids)
}

/// A fair claim's parameters: a batch of 16, the round robin after an account.
fn cursor(query: Query<'_>) -> Query<'_> {
    query.bind(16_i64).bind("acct_0042")
}

fn hot_queries() -> Vec<Hot> {
    vec![
        Hot {
            query: "intake insert",
            sql: intake::INSERT.to_owned(),
            bind: |query| {
                query
                    .bind(vec![""])
                    .bind(vec!["whk_plan"])
                    .bind(vec!["message.delivered"])
                    .bind(vec![b"{}".to_vec()])
                    .bind(vec!["raw"])
                    .bind(vec![Utc::now()])
                    .bind(vec![Some("msg_plan")])
            },
        },
        Hot {
            query: "claim (first due first)",
            sql: claim::statement(false, false),
            bind: |query| query.bind(16_i64),
        },
        Hot {
            query: "claim (first due first, ordered)",
            sql: claim::statement(false, true),
            bind: |query| query.bind(16_i64),
        },
        Hot {
            query: "claim (fair)",
            sql: claim::fair_statement(false),
            bind: cursor,
        },
        Hot {
            query: "claim (fair, ordered)",
            sql: claim::fair_statement(true),
            bind: cursor,
        },
        Hot {
            query: "claim (one account, per-account limit)",
            sql: claim::statement(true, false),
            bind: |query| query.bind(vec!["acct_0042"]).bind(vec![4_i64]),
        },
        Hot {
            query: "mark processed",
            sql: batch::MARK_PROCESSED.to_owned(),
            bind: keys,
        },
        Hot {
            query: "mark failed",
            sql: batch::MARK_FAILED.to_owned(),
            bind: |query| {
                query
                    .bind("whk_plan")
                    .bind("an error")
                    .bind(10_i32)
                    .bind(1000_i64)
                    .bind("")
            },
        },
        Hot {
            query: "next due",
            sql: crate::worker::NEXT_DUE.to_owned(),
            bind: |query| query,
        },
        Hot {
            query: "retention batch",
            sql: retention::PURGE_BATCH.to_owned(),
            bind: |query| {
                query
                    .bind(Utc::now() - Age::days(7))
                    .bind(i64::from(retention::PURGE_BATCH_SIZE))
            },
        },
        Hot {
            query: "list (all)",
            sql: ops::LIST_ALL.to_owned(),
            bind: |query| query.bind(50_i64),
        },
        Hot {
            query: "list (by status)",
            sql: ops::LIST_BY_STATUS.to_owned(),
            bind: |query| query.bind("dead").bind(50_i64),
        },
        Hot {
            query: "retry by id",
            sql: ops::requeue_sql(&ops::Selection::Ids(Vec::new())),
            bind: |query| query.bind("dead").bind(vec!["whk_plan"]),
        },
        Hot {
            query: "replay by time range",
            sql: ops::requeue_sql(&ops::Selection::ReceivedBetween(Utc::now(), Utc::now())),
            bind: |query| {
                query
                    .bind("processed")
                    .bind(Utc::now() - Age::hours(1))
                    .bind(Utc::now())
            },
        },
        Hot {
            query: "lag by account",
            sql: ops::LAG.to_owned(),
            bind: |query| query,
        },
        Hot {
            query: "oldest due (gauge)",
            sql: observe::OLDEST_DUE.to_owned(),
            bind: |query| query,
        },
    ]
}

impl Inbox {
    /// How PostgreSQL would run each hot query of the inbox on this database now: the
    /// intake's insert, the claims (first due first, fair, ordered, with a per-account
    /// limit), marking processed and failed, retention, listing, retry and replay, the lag
    /// queries. Each is `EXPLAIN`ed (not run) with representative parameters. Once the
    /// inbox holds more than a few thousand rows, every one should read through an index,
    /// never [`scans_table`](QueryPlan::scans_table) (a small table PostgreSQL reads whole,
    /// which is cheaper there). `qa-webhooks inbox plans` prints them.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when an `EXPLAIN` fails.
    ///
    /// ```no_run
    /// # async fn demo(inbox: quickassist_webhooks_postgres::Inbox) -> Result<(), quickassist_webhooks_postgres::Error> {
    /// let by_table_scan: Vec<_> = inbox.query_plans().await?.into_iter().filter(|plan| plan.scans_table).collect();
    /// assert!(by_table_scan.is_empty(), "{by_table_scan:#?}");
    /// # Ok(()) }
    /// ```
    pub async fn query_plans(&self) -> Result<Vec<QueryPlan>, Error> {
        let mut plans = Vec::new();
        for hot in hot_queries() {
            let explain = format!("EXPLAIN {}", hot.sql);
            let lines: Vec<String> = (hot.bind)(sqlx::query(&explain))
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|row| row.get::<String, _>(0))
                .collect();
            let mut indexes: Vec<String> = lines.iter().flat_map(|line| indexes_of(line)).collect();
            indexes.sort();
            indexes.dedup();
            plans.push(QueryPlan {
                query: hot.query,
                indexes,
                scans_table: lines.iter().any(|line| {
                    line.contains("Seq Scan on quickassist_webhook_inbox ")
                        || line
                            .trim_end()
                            .ends_with("Seq Scan on quickassist_webhook_inbox")
                }),
                text: lines.join("\n"),
            });
        }
        Ok(plans)
    }
}

/// The indexes one line of a text plan names: `Index Scan [Backward] using X on`, `Index
/// Only Scan [Backward] using X on`, `Bitmap Index Scan on X`, `Conflict Arbiter Indexes:
/// X, Y`.
fn indexes_of(line: &str) -> Vec<String> {
    let line = line.trim();
    let word_after = |marker: &str| {
        line.split_once(marker)
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .map(str::to_owned)
    };
    if let Some((_, arbiters)) = line.split_once("Conflict Arbiter Indexes:") {
        return arbiters
            .split(',')
            .map(|index| index.trim().to_owned())
            .filter(|index| !index.is_empty())
            .collect();
    }
    if line.contains("Bitmap Index Scan on ") {
        return word_after("Bitmap Index Scan on ").into_iter().collect();
    }
    if line.contains("Scan") {
        return word_after(" using ").into_iter().collect();
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::indexes_of;

    #[test]
    fn indexes_are_read_from_each_kind_of_plan_line() {
        for (line, indexes) in [
            ("  ->  Index Scan using quickassist_webhook_inbox_due on quickassist_webhook_inbox i  (cost=0.42..8.44 rows=1 width=64)", vec!["quickassist_webhook_inbox_due"]),
            ("->  Index Only Scan Backward using quickassist_webhook_inbox_received on quickassist_webhook_inbox", vec!["quickassist_webhook_inbox_received"]),
            ("        ->  Bitmap Index Scan on quickassist_webhook_inbox_pkey  (cost=0.00..4.43 rows=1 width=0)", vec!["quickassist_webhook_inbox_pkey"]),
            ("  Conflict Arbiter Indexes: quickassist_webhook_inbox_pkey", vec!["quickassist_webhook_inbox_pkey"]),
            ("  ->  Seq Scan on quickassist_webhook_inbox  (cost=0.00..1.01 rows=1 width=6)", vec![]),
        ] {
            assert_eq!(indexes_of(line), indexes, "{line}");
        }
    }
}
