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

#[test]
fn oldest_due_age_is_one_gauge_and_one_per_account_on_request() {
    use quickassist_webhooks::accounts::AccountId;
    use quickassist_webhooks_postgres::INBOX_OLDEST_DUE_SECONDS;
    use quickassist_webhooks_test::metrics::MetricValue;

    let ((), metrics) = recorded(async {
        let (_server, inbox) = inbox().await;
        for (webhook_id, account) in [("whk_a1", "acme"), ("whk_a2", "acme"), ("whk_b1", "beta")] {
            let mut delivery = delivery(webhook_id);
            delivery.account = AccountId::new(account);
            inbox.store(&delivery).await.unwrap();
        }
        // acme's deliveries have waited 90 s, beta's 30 s.
        sqlx::query(
            "UPDATE quickassist_webhook_inbox SET next_attempt_at = now() - CASE account \
             WHEN 'acme' THEN interval '90 seconds' ELSE interval '30 seconds' END",
        )
        .execute(inbox.pool())
        .await
        .unwrap();
        // The handler holds its delivery until released: the worker's first task samples
        // the gauges before it claims, so once a handler runs they are set.
        let (started, mut handler_ran) = tokio::sync::mpsc::unbounded_channel();
        let (release, released) = tokio::sync::watch::channel(false);
        let running = Worker::new(
            inbox.clone(),
            handler_fn(move |_, _| {
                let (started, mut released) = (started.clone(), released.clone());
                Box::pin(async move {
                    let _ = started.send(());
                    let _ = released.wait_for(|released| *released).await;
                    Ok(())
                })
            }),
        )
        .batch_size(1)
        .lag_per_account(true)
        .spawn();
        handler_ran.recv().await.unwrap();
        release.send(true).unwrap();
        running.shutdown().await;
    });
    let gauges: Vec<(Vec<(String, String)>, f64)> = metrics
        .into_iter()
        .filter(|metric| metric.name == INBOX_OLDEST_DUE_SECONDS)
        .filter_map(|metric| match metric.value {
            MetricValue::Gauge(seconds) => Some((metric.labels, seconds)),
            _ => None,
        })
        .collect();
    let account = |name: &str| vec![("account".to_owned(), name.to_owned())];
    let labels: Vec<_> = gauges.iter().map(|(labels, _)| labels.clone()).collect();
    assert_eq!(labels, [vec![], account("acme"), account("beta")]);
    for ((_, seconds), (from, to)) in
        gauges
            .iter()
            .zip([(90.0, 120.0), (90.0, 120.0), (30.0, 60.0)])
    {
        assert!((from..to).contains(seconds), "{gauges:?}");
    }
}
