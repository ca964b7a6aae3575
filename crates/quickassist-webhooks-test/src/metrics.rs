//! [`recorded`]: run async test code with a `metrics` recorder of its own and read back what
//! it recorded, flattened into plain [`Metric`]s to assert on.
//!
//! The recorder is installed for the current thread only (`metrics::with_local_recorder`)
//! and the code runs on a current-thread runtime, so tests running in parallel never see
//! each other's metrics and no global recorder is needed.

use std::future::Future;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};

/// One metric as recorded: its name, its labels (sorted) and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// The metric's name.
    pub name: String,
    /// Its labels as `(key, value)` pairs, sorted by key.
    pub labels: Vec<(String, String)>,
    /// What was recorded.
    pub value: MetricValue,
}

/// The value of a [`Metric`].
#[derive(Debug, Clone, PartialEq)]
pub enum MetricValue {
    /// A counter's total.
    Counter(u64),
    /// A gauge's last value.
    Gauge(f64),
    /// Every value a histogram recorded, in order.
    Histogram(Vec<f64>),
}

impl Metric {
    /// The counter's total, or `None` for a gauge or a histogram.
    #[must_use]
    pub fn counter(&self) -> Option<u64> {
        match self.value {
            MetricValue::Counter(count) => Some(count),
            _ => None,
        }
    }

    /// How many values a histogram recorded, or `None` for a counter or a gauge.
    #[must_use]
    pub fn histogram_len(&self) -> Option<usize> {
        match &self.value {
            MetricValue::Histogram(values) => Some(values.len()),
            _ => None,
        }
    }
}

/// Runs `test` to completion on a new current-thread runtime (timers and I/O enabled) with a
/// debugging recorder installed for this thread, and returns its output with every metric it
/// recorded, sorted by name and labels.
///
/// # Panics
///
/// If the runtime cannot be built, or inside an async context (call it from a `#[test]`,
/// not a `#[tokio::test]`).
///
/// ```
/// use quickassist_webhooks_test::metrics::{recorded, MetricValue};
///
/// let ((), metrics) = recorded(async {
///     metrics::counter!("deliveries_total", "outcome" => "processed").increment(2);
/// });
/// assert_eq!(metrics[0].name, "deliveries_total");
/// assert_eq!(metrics[0].labels, [("outcome".to_owned(), "processed".to_owned())]);
/// assert_eq!(metrics[0].value, MetricValue::Counter(2));
/// ```
pub fn recorded<T>(test: impl Future<Output = T>) -> (T, Vec<Metric>) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let output = metrics::with_local_recorder(&recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime")
            .block_on(test)
    });
    let mut metrics: Vec<Metric> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _unit, _description, value)| {
            let mut labels: Vec<(String, String)> = key
                .key()
                .labels()
                .map(|label| (label.key().to_owned(), label.value().to_owned()))
                .collect();
            labels.sort();
            let value = match value {
                DebugValue::Counter(count) => MetricValue::Counter(count),
                DebugValue::Gauge(gauge) => MetricValue::Gauge(gauge.into_inner()),
                DebugValue::Histogram(values) => {
                    MetricValue::Histogram(values.into_iter().map(|v| v.into_inner()).collect())
                }
            };
            Metric {
                name: key.key().name().to_owned(),
                labels,
                value,
            }
        })
        .collect();
    metrics.sort_by(|a, b| (&a.name, &a.labels).cmp(&(&b.name, &b.labels)));
    (output, metrics)
}
