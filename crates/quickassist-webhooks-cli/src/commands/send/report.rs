//! What `send --repeat` measured: outcomes per status, throughput and latency percentiles.

use std::{collections::BTreeMap, fmt, time::Duration};

use reqwest::StatusCode;

/// How one request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Outcome {
    /// A response with this status.
    Status(StatusCode),
    /// No response: connection refused, timeout, ...
    Failed(&'static str),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(status) => fmt::Display::fmt(status, f),
            Self::Failed(kind) => write!(f, "failed ({kind})"),
        }
    }
}

/// Outcomes and latencies of a batch of requests; one per worker, then merged.
#[derive(Debug, Default)]
pub(super) struct Tally {
    outcomes: BTreeMap<Outcome, u64>,
    latencies: Vec<Duration>,
}

impl Tally {
    /// Records one request.
    pub(super) fn record(&mut self, outcome: Outcome, latency: Duration) {
        *self.outcomes.entry(outcome).or_default() += 1;
        self.latencies.push(latency);
    }

    /// Adds `other`'s requests to these.
    pub(super) fn merge(&mut self, other: Self) {
        for (outcome, count) in other.outcomes {
            *self.outcomes.entry(outcome).or_default() += count;
        }
        self.latencies.extend(other.latencies);
    }

    /// How many requests got no response.
    pub(super) fn failed(&self) -> u64 {
        self.count(|outcome| matches!(outcome, Outcome::Failed(_)))
    }

    /// How many responses were not 2xx.
    pub(super) fn unsuccessful(&self) -> u64 {
        self.count(|outcome| matches!(outcome, Outcome::Status(status) if !status.is_success()))
    }

    fn count(&self, mut which: impl FnMut(&Outcome) -> bool) -> u64 {
        self.outcomes
            .iter()
            .filter(|(outcome, _)| which(outcome))
            .map(|(_, count)| count)
            .sum()
    }

    /// The latency below which `fraction` of the requests finished (nearest rank).
    fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
        let rank = (fraction * sorted.len() as f64).ceil() as usize;
        sorted
            .get(rank.saturating_sub(1).min(sorted.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    }

    /// The summary printed after the run.
    pub(super) fn summary(mut self, elapsed: Duration, concurrency: usize) -> String {
        self.latencies.sort_unstable();
        let total = self.latencies.len();
        let seconds = elapsed.as_secs_f64();
        let rate = if seconds > 0.0 {
            total as f64 / seconds
        } else {
            0.0
        };
        let mut summary = format!(
            "{total} requests in {seconds:.3} s: {rate:.1} requests/s (concurrency {concurrency})\n"
        );
        for (outcome, count) in &self.outcomes {
            summary.push_str(&format!("  {outcome}: {count}\n"));
        }
        summary.push_str(&format!(
            "latency p50 {}, p99 {}\n",
            millis(Self::percentile(&self.latencies, 0.50)),
            millis(Self::percentile(&self.latencies, 0.99)),
        ));
        summary
    }
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(Tally::percentile(&sorted, 0.50), Duration::from_millis(50));
        assert_eq!(Tally::percentile(&sorted, 0.99), Duration::from_millis(99));
        assert_eq!(
            Tally::percentile(&sorted[..1], 0.99),
            Duration::from_millis(1)
        );
        assert_eq!(Tally::percentile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn summary_counts_each_status_and_failure() {
        let mut first = Tally::default();
        first.record(Outcome::Status(StatusCode::OK), Duration::from_millis(2));
        first.record(Outcome::Status(StatusCode::OK), Duration::from_millis(4));
        let mut second = Tally::default();
        second.record(
            Outcome::Status(StatusCode::CONFLICT),
            Duration::from_millis(6),
        );
        second.record(Outcome::Failed("connect"), Duration::from_millis(8));
        first.merge(second);
        assert_eq!(first.failed(), 1);
        assert_eq!(first.unsuccessful(), 1);
        let summary = first.summary(Duration::from_secs(2), 3);
        assert!(
            summary.starts_with("4 requests in 2.000 s: 2.0 requests/s (concurrency 3)\n"),
            "{summary}"
        );
        assert!(summary.contains("  200 OK: 2\n"), "{summary}");
        assert!(summary.contains("  409 Conflict: 1\n"), "{summary}");
        assert!(summary.contains("  failed (connect): 1\n"), "{summary}");
        assert!(
            summary.contains("latency p50 4.00 ms, p99 8.00 ms"),
            "{summary}"
        );
    }
}
