//! The workers' metrics (feature `metrics`), read back through a debugging recorder: one
//! attempt counted per outcome, the lag and the handler's duration, and no ids in labels.
#![cfg(feature = "metrics")]

mod common;

use common::{delivery, inbox};
use quickassist_webhooks::receive::Intake;
use quickassist_webhooks_postgres::{
    handler_fn, Worker, INBOX_ATTEMPTS_TOTAL, INBOX_HANDLER_DURATION_SECONDS, INBOX_LAG_SECONDS,
};
use quickassist_webhooks_test::metrics::recorded;

#[test]
fn each_attempt_is_counted_by_outcome_with_the_lag_and_the_handler_duration() {
    let ((), metrics) = recorded(async {
        let (_server, inbox) = inbox().await;
        for webhook_id in ["whk_ok", "whk_doomed"] {
            inbox.store(&delivery(webhook_id)).await.unwrap();
        }
        let worker = Worker::new(
            inbox.clone(),
            handler_fn(|delivery, _tx| {
                let doomed = delivery.envelope.webhook_id == "whk_doomed";
                Box::pin(async move {
                    if doomed {
                        return Err("the CRM is down".into());
                    }
                    Ok(())
                })
            }),
        )
        .max_attempts(2)
        .backoff(std::time::Duration::ZERO, std::time::Duration::ZERO);
        // Attempt 1 of each, then attempt 2 of the doomed one.
        assert_eq!(worker.process_batch().await.unwrap(), 2);
        assert_eq!(worker.process_batch().await.unwrap(), 1);
    });
    let mut attempts = Vec::new();
    let mut histograms = Vec::new();
    for metric in metrics {
        assert!(
            metric
                .labels
                .iter()
                .all(|(_, value)| !value.starts_with("whk_")),
            "{metric:?}"
        );
        if let Some(count) = metric
            .counter()
            .filter(|_| metric.name == INBOX_ATTEMPTS_TOTAL)
        {
            attempts.push((metric.labels, count));
        } else if let Some(len) = metric.histogram_len() {
            histograms.push((metric.name, len));
        }
    }
    attempts.sort();
    let outcome = |outcome: &str| vec![("outcome".to_owned(), outcome.to_owned())];
    assert_eq!(
        attempts,
        [
            (outcome("dead"), 1),
            (outcome("failed"), 1),
            (outcome("processed"), 1)
        ]
    );
    histograms.sort();
    assert_eq!(
        histograms,
        [
            (INBOX_HANDLER_DURATION_SECONDS.to_owned(), 3),
            (INBOX_LAG_SECONDS.to_owned(), 1)
        ]
    );
}
