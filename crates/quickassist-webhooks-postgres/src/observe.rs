//! Tracing and metrics of the workers: one span per attempt, one log event per outcome, and
//! (feature `metrics`) the counters and histograms, all emitted here and nowhere else.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::Span;

use crate::StoredDelivery;

/// Name of the counter of attempts, labelled `outcome`: `processed`, `failed` (attempted
/// again later) or `dead` (no attempt left).
///
/// ```
/// assert_eq!(
///     quickassist_webhooks_postgres::INBOX_ATTEMPTS_TOTAL,
///     "quickassist_webhooks_inbox_attempts_total"
/// );
/// ```
pub const INBOX_ATTEMPTS_TOTAL: &str = "quickassist_webhooks_inbox_attempts_total";
/// Name of the histogram of seconds from a delivery's storage to the attempt that processed
/// it (retries included).
///
/// ```
/// assert_eq!(
///     quickassist_webhooks_postgres::INBOX_LAG_SECONDS,
///     "quickassist_webhooks_inbox_lag_seconds"
/// );
/// ```
pub const INBOX_LAG_SECONDS: &str = "quickassist_webhooks_inbox_lag_seconds";
/// Name of the histogram of seconds a worker's handler ran, whatever it returned.
///
/// ```
/// assert_eq!(
///     quickassist_webhooks_postgres::INBOX_HANDLER_DURATION_SECONDS,
///     "quickassist_webhooks_inbox_handler_duration_seconds"
/// );
/// ```
pub const INBOX_HANDLER_DURATION_SECONDS: &str =
    "quickassist_webhooks_inbox_handler_duration_seconds";

/// Name of the gauge of seconds the oldest due delivery has waited (since it was stored, or
/// since its retry came due; 0 when none is due), sampled by a running worker every
/// [`LAG_SAMPLE_INTERVAL`]. Unlabelled by default, as accounts can be many; with
/// [`Worker::lag_per_account`](crate::Worker::lag_per_account), also one gauge per account
/// with due deliveries, labelled `account`.
///
/// ```
/// assert_eq!(
///     quickassist_webhooks_postgres::INBOX_OLDEST_DUE_SECONDS,
///     "quickassist_webhooks_inbox_oldest_due_seconds"
/// );
/// ```
pub const INBOX_OLDEST_DUE_SECONDS: &str = "quickassist_webhooks_inbox_oldest_due_seconds";

/// How often a running worker samples [`INBOX_OLDEST_DUE_SECONDS`] (feature `metrics`).
///
/// ```
/// assert_eq!(quickassist_webhooks_postgres::LAG_SAMPLE_INTERVAL.as_secs(), 5);
/// ```
pub const LAG_SAMPLE_INTERVAL: Duration = Duration::from_secs(5);

/// The oldest due delivery's age, one index probe (the index of due rows).
pub(crate) const OLDEST_DUE: &str =
    "SELECT coalesce(extract(epoch FROM now() - min(next_attempt_at)), 0)::float8 \
     FROM quickassist_webhook_inbox WHERE status = 'pending' AND next_attempt_at <= now()";

/// Samples [`INBOX_OLDEST_DUE_SECONDS`] for a running worker: one task of the worker calls
/// [`sample_if_due`](Self::sample_if_due) before each batch. Without the `metrics` feature
/// it does nothing.
#[derive(Debug)]
pub(crate) struct LagSampler {
    #[cfg(feature = "metrics")]
    per_account: bool,
    #[cfg(feature = "metrics")]
    next: Option<std::time::Instant>,
    /// The accounts given a gauge by the last sample (set to 0 once none of theirs is due).
    #[cfg(feature = "metrics")]
    accounts: std::collections::HashSet<String>,
}

#[cfg(not(feature = "metrics"))]
impl LagSampler {
    pub(crate) fn new(_per_account: bool) -> Self {
        Self {}
    }

    #[allow(clippy::unused_async)]
    pub(crate) async fn sample_if_due(&mut self, _inbox: &crate::Inbox) {}
}

#[cfg(feature = "metrics")]
impl LagSampler {
    pub(crate) fn new(per_account: bool) -> Self {
        Self {
            per_account,
            next: None,
            accounts: std::collections::HashSet::new(),
        }
    }

    /// Samples when [`LAG_SAMPLE_INTERVAL`] has passed since the last sample (or at the
    /// first call). A failed query leaves the gauges as they were.
    pub(crate) async fn sample_if_due(&mut self, inbox: &crate::Inbox) {
        let now = std::time::Instant::now();
        if self.next.is_some_and(|next| now < next) {
            return;
        }
        self.next = Some(now + LAG_SAMPLE_INTERVAL);
        match sqlx::query_scalar::<_, f64>(OLDEST_DUE)
            .fetch_one(inbox.pool())
            .await
        {
            Ok(seconds) => metrics::gauge!(INBOX_OLDEST_DUE_SECONDS).set(seconds.max(0.0)),
            Err(error) => tracing::debug!(%error, "could not sample the inbox's lag"),
        }
        if !self.per_account {
            return;
        }
        match inbox.lag().await {
            Ok(lags) => {
                let mut accounts = std::collections::HashSet::with_capacity(lags.len());
                for lag in lags {
                    let account = lag.account.unwrap_or_default();
                    metrics::gauge!(INBOX_OLDEST_DUE_SECONDS, "account" => account.clone())
                        .set(lag.oldest_due_age.as_secs_f64());
                    accounts.insert(account);
                }
                for caught_up in self.accounts.difference(&accounts) {
                    metrics::gauge!(INBOX_OLDEST_DUE_SECONDS, "account" => caught_up.clone())
                        .set(0.0);
                }
                self.accounts = accounts;
            }
            Err(error) => tracing::debug!(%error, "could not sample the accounts' lag"),
        }
    }
}

/// The span an attempt runs in: `webhook`, as on the request path, with the attempt number.
pub(crate) fn span(delivery: &StoredDelivery) -> Span {
    tracing::debug_span!(
        "webhook",
        webhook_id = delivery.envelope.webhook_id.as_str(),
        event = delivery.envelope.event.name(),
        account = delivery.account.as_ref().map(|account| account.as_str()),
        attempt = delivery.attempt,
    )
}

/// The handler returned (or panicked, or timed out) after `elapsed`.
pub(crate) fn handler_finished(elapsed: Duration) {
    #[cfg(feature = "metrics")]
    metrics::histogram!(INBOX_HANDLER_DURATION_SECONDS).record(elapsed.as_secs_f64());
    #[cfg(not(feature = "metrics"))]
    let _ = elapsed;
}

/// The delivery stored at `received_at` was processed (its mark is in the batch's
/// transaction).
pub(crate) fn processed(webhook_id: &str, received_at: DateTime<Utc>) {
    tracing::debug!(webhook_id, "webhook delivery processed");
    #[cfg(feature = "metrics")]
    {
        let lag = Utc::now() - received_at;
        metrics::counter!(INBOX_ATTEMPTS_TOTAL, "outcome" => "processed").increment(1);
        metrics::histogram!(INBOX_LAG_SECONDS)
            .record(lag.num_milliseconds().max(0) as f64 / 1000.0);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = received_at;
}

/// Attempt `attempt` failed with `error`; `dead` when it was the last.
pub(crate) fn failed(webhook_id: &str, attempt: u32, error: &str, dead: bool) {
    if dead {
        tracing::warn!(webhook_id, attempt, error, "webhook delivery is dead");
    } else {
        tracing::debug!(webhook_id, attempt, error, "webhook delivery failed");
    }
    #[cfg(feature = "metrics")]
    {
        let outcome = if dead { "dead" } else { "failed" };
        metrics::counter!(INBOX_ATTEMPTS_TOTAL, "outcome" => outcome).increment(1);
    }
}
