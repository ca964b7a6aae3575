//! The console's queries. Each reads an index: the counts of pending and dead deliveries
//! (few, by the status index), the processed ones from the planner's statistics when they
//! are many, the charts from the receive and process time indexes over the last day.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgPool, Postgres, QueryBuilder};
use tokio::sync::Mutex;

use crate::filter::{Cursor, DeliveryState, Filter};

/// Rows on a page of deliveries.
pub(crate) const PAGE_SIZE: i64 = 50;
/// Deliveries in one state are counted exactly up to this many; beyond, the count is the
/// planner's estimate (its statistics of the `status` column), shown with `≈`: counting a
/// backlog or a long history row by row at each view would cost the intake.
const EXACT_UP_TO: i64 = 10_000;

/// How many deliveries are in one state.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Count {
    pub(crate) value: i64,
    /// The planner's estimate, not a count.
    pub(crate) estimated: bool,
}

/// How many deliveries are in each state.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub(crate) pending: Count,
    pub(crate) failed: Count,
    pub(crate) dead: Count,
    pub(crate) processed: Count,
    pub(crate) oldest_pending: Option<DateTime<Utc>>,
}

impl Counts {
    pub(crate) fn of(&self, state: DeliveryState) -> Count {
        match state {
            DeliveryState::Pending => self.pending,
            DeliveryState::Failed => self.failed,
            DeliveryState::Dead => self.dead,
            DeliveryState::Processed => self.processed,
        }
    }
}

async fn count(pool: &PgPool, state: DeliveryState) -> Result<Count, sqlx::Error> {
    let condition = state.sql();
    let counted: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM (SELECT 1 FROM quickassist_webhook_inbox WHERE {condition} \
         LIMIT {}) AS capped",
        EXACT_UP_TO + 1
    ))
    .fetch_one(pool)
    .await?;
    if counted <= EXACT_UP_TO {
        return Ok(Count {
            value: counted,
            estimated: false,
        });
    }
    // The plan's first line: `Index Only Scan using … (cost=… rows=N width=…)`.
    let plan: String = sqlx::query_scalar(&format!(
        "EXPLAIN SELECT 1 FROM quickassist_webhook_inbox WHERE {condition}"
    ))
    .fetch_one(pool)
    .await?;
    let estimate = plan
        .split_once("rows=")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|rows| rows.parse::<i64>().ok())
        .unwrap_or(0);
    Ok(Count {
        value: estimate.max(counted),
        estimated: true,
    })
}

pub(crate) async fn counts(pool: &PgPool) -> Result<Counts, sqlx::Error> {
    let oldest_pending = sqlx::query_scalar(
        "SELECT min(received_at) FROM quickassist_webhook_inbox WHERE status = 'pending'",
    )
    .fetch_one(pool)
    .await?;
    Ok(Counts {
        pending: count(pool, DeliveryState::Pending).await?,
        failed: count(pool, DeliveryState::Failed).await?,
        dead: count(pool, DeliveryState::Dead).await?,
        processed: count(pool, DeliveryState::Processed).await?,
        oldest_pending,
    })
}

/// One account's deliveries.
#[derive(Debug, FromRow)]
pub(crate) struct AccountCounts {
    pub(crate) account: String,
    pub(crate) pending: i64,
    pub(crate) failed: i64,
    pub(crate) dead: i64,
    /// Processed in the last 24 hours.
    pub(crate) processed_day: i64,
}

/// Counts per time bucket, the latest last.
#[derive(Debug)]
pub(crate) struct Series {
    pub(crate) received: Vec<i64>,
    pub(crate) processed: Vec<i64>,
    pub(crate) failed: Vec<i64>,
}

/// The lag histogram: (upper bound in milliseconds or `None` for the last, count).
pub(crate) type Histogram = Vec<(Option<i64>, i64)>;

/// The lag histogram's upper bounds, in milliseconds.
pub(crate) const LAG_BOUNDS: [i64; 6] = [10, 100, 1_000, 10_000, 60_000, 600_000];

pub(crate) async fn accounts(pool: &PgPool) -> Result<Vec<AccountCounts>, sqlx::Error> {
    sqlx::query_as(
        "WITH open AS ( \
           SELECT account, \
             count(*) FILTER (WHERE status = 'pending' AND attempts = 0) AS pending, \
             count(*) FILTER (WHERE status = 'pending' AND attempts > 0) AS failed, \
             count(*) FILTER (WHERE status = 'dead') AS dead \
           FROM quickassist_webhook_inbox WHERE status IN ('pending', 'dead') GROUP BY account), \
         done AS ( \
           SELECT account, count(*) AS processed_day FROM quickassist_webhook_inbox \
           WHERE status = 'processed' AND processed_at >= now() - interval '1 day' GROUP BY account) \
         SELECT account, coalesce(open.pending, 0) AS pending, coalesce(open.failed, 0) AS failed, \
           coalesce(open.dead, 0) AS dead, coalesce(done.processed_day, 0) AS processed_day \
         FROM open FULL JOIN done USING (account) ORDER BY account LIMIT 200",
    )
    .fetch_all(pool)
    .await
}

/// Counts per bucket of `bucket_seconds` over the last `buckets` buckets (the current one
/// last): received and since failed (by receive time), processed (by process time).
pub(crate) async fn series(
    pool: &PgPool,
    bucket_seconds: i32,
    buckets: i32,
) -> Result<Series, sqlx::Error> {
    let received: Vec<(i32, i64, i64)> = sqlx::query_as(
        "SELECT floor(extract(epoch FROM now() - received_at) / $1)::int AS ago, count(*), \
           count(*) FILTER (WHERE status = 'dead' OR (status = 'pending' AND attempts > 0)) \
         FROM quickassist_webhook_inbox \
         WHERE received_at > now() - make_interval(secs => $1 * $2) GROUP BY 1",
    )
    .bind(bucket_seconds)
    .bind(buckets)
    .fetch_all(pool)
    .await?;
    let processed: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT floor(extract(epoch FROM now() - processed_at) / $1)::int AS ago, count(*) \
         FROM quickassist_webhook_inbox \
         WHERE status = 'processed' AND processed_at > now() - make_interval(secs => $1 * $2) \
         GROUP BY 1",
    )
    .bind(bucket_seconds)
    .bind(buckets)
    .fetch_all(pool)
    .await?;
    let size = usize::try_from(buckets).unwrap_or(0);
    let slot = |ago: i32| {
        usize::try_from(ago)
            .ok()
            .filter(|ago| *ago < size)
            .map(|ago| size - 1 - ago)
    };
    let mut series = Series {
        received: vec![0; size],
        processed: vec![0; size],
        failed: vec![0; size],
    };
    for (ago, received, failed) in received {
        if let Some(slot) = slot(ago) {
            series.received[slot] = received;
            series.failed[slot] = failed;
        }
    }
    for (ago, processed) in processed {
        if let Some(slot) = slot(ago) {
            series.processed[slot] = processed;
        }
    }
    Ok(series)
}

/// What the overview shows besides the counts: the per-account table and the charts.
#[derive(Debug)]
pub(crate) struct Activity {
    pub(crate) accounts: Vec<AccountCounts>,
    /// Per minute over the last hour.
    pub(crate) hour: Series,
    /// Per hour over the last day.
    pub(crate) day: Series,
    pub(crate) lag: Histogram,
    /// When it was read.
    pub(crate) at: DateTime<Utc>,
}

/// How long the overview reuses its [`Activity`]: reading it costs the database tens of
/// milliseconds with 1,000,000 deliveries, so viewers (and reloads) share one reading at
/// most this often, which bounds what browsing takes from the intake.
pub(crate) const ACTIVITY_FRESH_FOR: Duration = Duration::from_secs(10);

/// The last [`Activity`] read, and when. One reading at a time: concurrent viewers wait
/// for it rather than each querying.
#[derive(Debug, Default)]
pub(crate) struct ActivityCache(Mutex<Option<(Instant, Arc<Activity>)>>);

impl ActivityCache {
    pub(crate) async fn get(&self, pool: &PgPool) -> Result<Arc<Activity>, sqlx::Error> {
        let mut cached = self.0.lock().await;
        if let Some((read, activity)) = cached.as_ref() {
            if read.elapsed() < ACTIVITY_FRESH_FOR {
                return Ok(activity.clone());
            }
        }
        let activity = Arc::new(Activity {
            accounts: accounts(pool).await?,
            hour: series(pool, 60, 60).await?,
            day: series(pool, 3_600, 24).await?,
            lag: lag_histogram(pool).await?,
            at: Utc::now(),
        });
        *cached = Some((Instant::now(), activity.clone()));
        Ok(activity)
    }
}

/// How long the deliveries processed in the last hour waited (received to processed).
pub(crate) async fn lag_histogram(pool: &PgPool) -> Result<Histogram, sqlx::Error> {
    let bounds: Vec<i64> = LAG_BOUNDS.to_vec();
    let rows: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT width_bucket(extract(epoch FROM processed_at - received_at) * 1000, $1::float8[]) AS bucket, \
           count(*) \
         FROM quickassist_webhook_inbox \
         WHERE status = 'processed' AND processed_at > now() - interval '1 hour' GROUP BY 1",
    )
    .bind(bounds.iter().map(|&bound| bound as f64).collect::<Vec<f64>>())
    .fetch_all(pool)
    .await?;
    let mut histogram: Histogram = LAG_BOUNDS
        .iter()
        .map(|&bound| (Some(bound), 0))
        .chain([(None, 0)])
        .collect();
    for (bucket, count) in rows {
        if let Some(entry) = usize::try_from(bucket)
            .ok()
            .and_then(|b| histogram.get_mut(b))
        {
            entry.1 += count;
        }
    }
    Ok(histogram)
}

/// A row of the deliveries list.
#[derive(Debug, FromRow)]
pub(crate) struct Row {
    pub(crate) webhook_id: String,
    pub(crate) account: String,
    pub(crate) event: String,
    pub(crate) status: String,
    pub(crate) attempts: i32,
    pub(crate) received_at: DateTime<Utc>,
    pub(crate) processed_at: Option<DateTime<Utc>>,
    pub(crate) last_error: Option<String>,
}

impl Row {
    pub(crate) fn state(&self) -> DeliveryState {
        DeliveryState::of(&self.status, self.attempts)
    }

    pub(crate) fn cursor(&self) -> Cursor {
        Cursor {
            received_at: self.received_at,
            webhook_id: self.webhook_id.clone(),
            account: self.account.clone(),
        }
    }
}

const ROW_COLUMNS: &str =
    "SELECT webhook_id, account, event, status, attempts, received_at, processed_at, last_error \
     FROM quickassist_webhook_inbox WHERE true";

/// A page of deliveries, newest first; the second value says whether more follow.
pub(crate) async fn list(pool: &PgPool, filter: &Filter) -> Result<(Vec<Row>, bool), sqlx::Error> {
    let mut query = QueryBuilder::<Postgres>::new("");
    if let Some(message_id) = filter.message_id() {
        // A message has a handful of deliveries: read them by the messageId index first.
        // Left to itself, the planner walks the receive time index newest first and tests
        // each body, hoping for 51 matches soon (1.8 s over 1,000,000 rows). The CTE
        // shadows the table's name for the query below.
        query
            .push(
                "WITH quickassist_webhook_inbox AS MATERIALIZED (SELECT * FROM \
                 quickassist_webhook_inbox WHERE quickassist_webhook_message_id(body) = ",
            )
            .push_bind(message_id.to_owned())
            .push(") ");
    }
    query.push(ROW_COLUMNS);
    filter.push_conditions(&mut query);
    filter.push_cursor(&mut query);
    query
        .push(" ORDER BY received_at DESC, webhook_id DESC, account DESC LIMIT ")
        .push_bind(PAGE_SIZE + 1);
    let mut rows: Vec<Row> = query.build_query_as().fetch_all(pool).await?;
    let more = rows.len() > usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX));
    Ok((rows, more))
}

/// How many deliveries a bulk retry of `filter` would make due (dead and failed ones).
pub(crate) async fn count_retryable(pool: &PgPool, filter: &Filter) -> Result<i64, sqlx::Error> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT count(*) FROM quickassist_webhook_inbox \
         WHERE (status = 'dead' OR (status = 'pending' AND attempts > 0))",
    );
    filter.push_conditions(&mut query);
    query.build_query_scalar().fetch_one(pool).await
}

/// One delivery, with its body.
#[derive(Debug, FromRow)]
pub(crate) struct Delivery {
    /// What the list shows of it.
    #[sqlx(flatten)]
    pub(crate) row: Row,
    pub(crate) next_attempt_at: DateTime<Utc>,
    pub(crate) signed_at: DateTime<Utc>,
    pub(crate) body: Vec<u8>,
    pub(crate) message_id: Option<String>,
}

const DELIVERY_COLUMNS: &str = "SELECT webhook_id, account, event, status, attempts, received_at, \
     processed_at, next_attempt_at, signed_at, last_error, body, \
     quickassist_webhook_message_id(body) AS message_id FROM quickassist_webhook_inbox";

pub(crate) async fn delivery(
    pool: &PgPool,
    account: &str,
    webhook_id: &str,
) -> Result<Option<Delivery>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{DELIVERY_COLUMNS} WHERE account = $1 AND webhook_id = $2"
    ))
    .bind(account)
    .bind(webhook_id)
    .fetch_optional(pool)
    .await
}

/// The deliveries of one message, in signed order.
pub(crate) async fn message(pool: &PgPool, message_id: &str) -> Result<Vec<Delivery>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{DELIVERY_COLUMNS} WHERE quickassist_webhook_message_id(body) = $1 \
         ORDER BY signed_at, webhook_id LIMIT 200"
    ))
    .bind(message_id)
    .fetch_all(pool)
    .await
}
