//! What `send --repeat` measured: outcomes per status (duplicates among them), throughput and
//! latency percentiles.

use std::{collections::BTreeMap, fmt, time::Duration};

use reqwest::StatusCode;

/// How one request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// A response with this status; `duplicate` when the receiver said it had already
    /// processed this delivery (`x-webhook-duplicate: true`).
    Answered { status: StatusCode, duplicate: bool },
    /// No response: connection refused, timeout, ...
    Failed(&'static str),
}

/// One line of the summary: a status, or a kind of failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Line {
    Status(StatusCode),
    Failed(&'static str),
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(status) => fmt::Display::fmt(status, f),
            Self::Failed(kind) => write!(f, "failed ({kind})"),
        }
    }
}

/// How many requests ended on one [`Line`], and how many of them were duplicates.
#[derive(Clone, Copy, Debug, Default)]
struct Count {
    total: u64,
    duplicates: u64,
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.total)?;
        match self.duplicates {
            0 => Ok(()),
            1 => f.write_str(" (1 duplicate)"),
            many => write!(f, " ({many} duplicates)"),
        }
    }
}

/// Outcomes and latencies of a batch of requests; one per worker, then merged.
#[derive(Debug, Default)]
pub(super) struct Tally {
    counts: BTreeMap<Line, Count>,
    latencies: Vec<Duration>,
}

impl Tally {
    /// Records one request.
    pub(super) fn record(&mut self, outcome: Outcome, latency: Duration) {
        let (line, duplicate) = match outcome {
            Outcome::Answered { status, duplicate } => (Line::Status(status), duplicate),
            Outcome::Failed(kind) => (Line::Failed(kind), false),
        };
        let count = self.counts.entry(line).or_default();
        count.total += 1;
        count.duplicates += u64::from(duplicate);
        self.latencies.push(latency);
    }

    /// Adds `other`'s requests to these.
    pub(super) fn merge(&mut self, other: Self) {
        for (line, other) in other.counts {
            let count = self.counts.entry(line).or_default();
            count.total += other.total;
            count.duplicates += other.duplicates;
        }
        self.latencies.extend(other.latencies);
    }

    /// How many requests got no response.
    pub(super) fn failed(&self) -> u64 {
        self.count(|line| matches!(line, Line::Failed(_)))
    }

    /// How many responses were not 2xx.
    pub(super) fn unsuccessful(&self) -> u64 {
        self.count(|line| matches!(line, Line::Status(status) if !status.is_success()))
    }

    fn count(&self, mut which: impl FnMut(&Line) -> bool) -> u64 {
        self.counts
            .iter()
            .filter(|(line, _)| which(line))
            .map(|(_, count)| count.total)
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
        for (line, count) in &self.counts {
            summary.push_str(&format!("  {line}: {count}\n"));
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

    fn answered(status: StatusCode, duplicate: bool) -> Outcome {
        Outcome::Answered { status, duplicate }
    }

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
        first.record(answered(StatusCode::OK, false), Duration::from_millis(2));
        first.record(answered(StatusCode::OK, false), Duration::from_millis(4));
        let mut second = Tally::default();
        second.record(
            answered(StatusCode::CONFLICT, false),
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

    #[test]
    fn duplicates_are_counted_on_their_status_line() {
        let mut first = Tally::default();
        first.record(answered(StatusCode::OK, false), Duration::from_millis(1));
        first.record(answered(StatusCode::OK, true), Duration::from_millis(1));
        let mut second = Tally::default();
        for _ in 0..3 {
            second.record(answered(StatusCode::OK, true), Duration::from_millis(1));
        }
        second.record(
            answered(StatusCode::ACCEPTED, true),
            Duration::from_millis(1),
        );
        first.merge(second);
        assert_eq!(first.unsuccessful(), 0);
        let summary = first.summary(Duration::from_secs(1), 1);
        assert!(
            summary.contains("\n  200 OK: 5 (4 duplicates)\n"),
            "{summary}"
        );
        assert!(
            summary.contains("\n  202 Accepted: 1 (1 duplicate)\n"),
            "{summary}"
        );
    }
}
