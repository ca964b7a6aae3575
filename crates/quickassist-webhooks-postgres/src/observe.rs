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
