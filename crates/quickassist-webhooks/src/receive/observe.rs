//! Tracing and metrics of the pipeline: one span per delivery, one log event per outcome,
//! and (feature `metrics`) the counters and histograms, all emitted here and nowhere else.

use std::{fmt::Display, time::Duration};

use tracing::Span;

use super::{integration::Answer, Outcome};
use crate::{accounts::AccountId, Envelope, Event};

/// Name of the counter of outcomes, labelled `outcome` and `reason`.
pub const DELIVERIES_TOTAL: &str = "quickassist_webhooks_deliveries_total";
/// Name of the histogram of delivery lag: receive time minus the signed `timestamp`, in
/// seconds.
pub const DELIVERY_LAG_SECONDS: &str = "quickassist_webhooks_delivery_lag_seconds";
/// Name of the histogram of handler durations, in seconds.
pub const HANDLER_DURATION_SECONDS: &str = "quickassist_webhooks_handler_duration_seconds";

/// A delivery verified and parsed: fills in the delivery's span (`webhook`, opened by the
/// receiver's entry points; never before verification, so forged ids are not recorded) and
/// measures the lag.
pub(super) fn verified(envelope: &Envelope<Event>, account: Option<&AccountId>) {
    let span = Span::current();
    span.record("webhook_id", envelope.webhook_id.as_str());
    span.record("event", envelope.event.name());
    if let Some(account) = account {
        span.record("account", account.as_str());
    }
    #[cfg(feature = "metrics")]
    {
        let lag = chrono::Utc::now() - envelope.timestamp;
        // Milliseconds keep sub-second precision; a sender clock ahead of ours gives 0.
        let seconds = lag.num_milliseconds().max(0) as f64 / 1000.0;
        metrics::histogram!(DELIVERY_LAG_SECONDS).record(seconds);
    }
}

/// The handler returned after `elapsed`.
pub(super) fn handler_finished(elapsed: Duration) {
    #[cfg(feature = "metrics")]
    metrics::histogram!(HANDLER_DURATION_SECONDS).record(elapsed.as_secs_f64());
    #[cfg(not(feature = "metrics"))]
    let _ = elapsed;
}

/// The one event for a delivery the pipeline answered itself. `debug`, not `info`: forged
/// traffic must not be able to flood the logs.
pub(super) fn answered(
    answer: Answer,
    webhook_id: Option<&str>,
    detail: Option<&dyn Display>,
) -> Answer {
    let outcome = answer.outcome();
    let reason = outcome.reason().unwrap_or(outcome.code());
    match detail {
        Some(detail) => tracing::debug!(
            reason,
            webhook_id,
            status = answer.status(),
            "webhook answered: {detail}"
        ),
        None => tracing::debug!(
            reason,
            webhook_id,
            status = answer.status(),
            "webhook answered"
        ),
    }
    count(outcome);
    answer
}

/// The one event for a delivery refused because the store failed: `warn`, an operator
/// must know.
pub(super) fn store_unavailable(webhook_id: Option<&str>, error: &dyn Display) {
    tracing::warn!(
        reason = "store_unavailable",
        webhook_id,
        %error,
        "refusing the delivery (503): the provider retries it"
    );
    count(Outcome::Rejected(
        crate::rejection::Rejection::StoreUnavailable,
    ));
}

/// The one event for a delivery the handler ran for.
pub(super) fn handled(outcome: Outcome, webhook_id: &str) {
    tracing::debug!(outcome = outcome.code(), webhook_id, "webhook handled");
    count(outcome);
}

fn count(outcome: Outcome) {
    #[cfg(feature = "metrics")]
    metrics::counter!(
        DELIVERIES_TOTAL,
        "outcome" => outcome.code(),
        "reason" => outcome.reason().unwrap_or("none")
    )
    .increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = outcome;
}
