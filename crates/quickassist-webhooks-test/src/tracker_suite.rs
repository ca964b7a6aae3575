//! The checks every [`StatusTracker`] must pass, as public functions: run them on your own
//! tracker in your tests. The memory, Redis and PostgreSQL trackers of this project pass
//! them. With them, what the checks are made of: generated event sets ([`events`]), their
//! permutations ([`for_each_permutation`]) and a small deterministic [`Rng`].
//!
//! Each check panics (as `assert!` does) when the tracker breaks the contract or cannot
//! answer.
//!
//! ```
//! use std::sync::Arc;
//! use quickassist_webhooks::status::{MemoryStatusTracker, StatusTracker};
//! use quickassist_webhooks_test::tracker_suite;
//!
//! # #[tokio::main] async fn main() {
//! let tracker = MemoryStatusTracker::new(); // or yours
//! tracker_suite::names_tie_break_byte_by_byte(&tracker).await;
//! tracker_suite::envelopes_are_read_and_applied_updates_name_the_previous_state(&tracker).await;
//! let trackers: Vec<Arc<dyn StatusTracker>> = vec![Arc::new(tracker)];
//! tracker_suite::concurrent_tasks_end_where_the_pure_rule_does(&trackers, 50).await;
//! # }
//! ```

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

use chrono::DateTime;
use proptest::{prelude::*, test_runner::TestRunner};
use quickassist_webhooks::{
    status::{
        merge, Merge, MessageStatus, State, Status, StatusTracker, StatusUpdate, SubjectKind,
        TemplateStatus,
    },
    testing::sample_at,
    Event,
};

/// A message status, known or not.
fn message_status() -> impl Strategy<Value = Status> {
    prop_oneof![
        Just(MessageStatus::Delivered),
        Just(MessageStatus::Read),
        Just(MessageStatus::Failed),
        Just(MessageStatus::Other("sent".into())),
        Just(MessageStatus::Other("deleted".into())),
    ]
    .prop_map(Status::Message)
}

/// A template status, known or not.
fn template_status() -> impl Strategy<Value = Status> {
    prop_oneof![
        Just(TemplateStatus::Pending),
        Just(TemplateStatus::Approved),
        Just(TemplateStatus::Rejected),
        Just(TemplateStatus::Other("paused".into())),
    ]
    .prop_map(Status::Template)
}

/// One subject's events: statuses at times drawn from a few milliseconds, so that equal
/// times (and exact duplicates) are common.
pub fn events(size: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<State>> {
    let status = prop_oneof![message_status(), template_status()];
    // One kind per set: a subject is a message or a template.
    (
        any::<bool>(),
        proptest::collection::vec((status, 0i64..4), size),
    )
        .prop_map(|(template, events)| {
            events
                .into_iter()
                .map(|(status, millis)| {
                    let status = match (template, status) {
                        (true, Status::Message(message)) => {
                            Status::Template(TemplateStatus::from(message.as_str()))
                        }
                        (false, Status::Template(template)) => {
                            Status::Message(MessageStatus::from(template.as_str()))
                        }
                        (_, status) => status,
                    };
                    State::new(status, at(millis))
                })
                .collect()
        })
}

/// `events` with `repeats` (indices into it, taken modulo its length) appended.
#[must_use]
pub fn with_repeats(events: &[State], repeats: &[usize]) -> Vec<State> {
    let mut all = events.to_vec();
    all.extend(repeats.iter().map(|&i| events[i % events.len()].clone()));
    all
}

/// Calls `visit` with every permutation of `items` (Heap's algorithm).
pub fn for_each_permutation<T: Clone>(items: &[T], mut visit: impl FnMut(&[T])) {
    let mut items = items.to_vec();
    let mut counters = vec![0; items.len()];
    visit(&items);
    let mut i = 0;
    while i < items.len() {
        if counters[i] < i {
            if i % 2 == 0 {
                items.swap(0, i);
            } else {
                items.swap(counters[i], i);
            }
            visit(&items);
            counters[i] += 1;
            i = 0;
        } else {
            counters[i] = 0;
            i += 1;
        }
    }
}

/// The update of the subject `id` to `state`.
#[must_use]
pub fn update(id: &str, state: &State) -> StatusUpdate {
    StatusUpdate::new(id, state.status().clone(), state.at())
}

/// A fixed instant (2024-01-15T10:30:00Z) plus `millis` milliseconds.
///
/// # Panics
///
/// When the result is out of `chrono`'s range (never for the few milliseconds the checks use).
#[must_use]
pub fn at(millis: i64) -> chrono::DateTime<chrono::Utc> {
    DateTime::from_timestamp_millis(1_705_314_600_000 + millis).expect("a valid time")
}

/// Every permutation of generated event sets, with repeats, applied to a fresh subject:
/// each applied update answers the state it replaced, and the subject ends in the greatest
/// state, as [`merge`] says. Drives the tracker with `runtime` (proptest runs the cases
/// synchronously), so call it outside any runtime.
///
/// # Panics
///
/// When the tracker fails the check.
pub fn every_order_ends_in_the_pure_rules_state(
    tracker: &dyn StatusTracker,
    runtime: &tokio::runtime::Runtime,
) {
    let next = AtomicU64::new(0);
    let mut runner = TestRunner::new(ProptestConfig::with_cases(24));
    let strategy = (
        events(1..=4),
        proptest::collection::vec(any::<usize>(), 0..=1),
    );
    runner
        .run(&strategy, |(events, repeats)| {
            let all = with_repeats(&events, &repeats);
            let expected = events.iter().max().cloned();
            let kind = events[0].status().kind();
            for_each_permutation(&all, |order| {
                let id = format!("subject-{}", next.fetch_add(1, Ordering::Relaxed));
                runtime.block_on(async {
                    let mut row = None;
                    for state in order {
                        if let Merge::Applied { previous } =
                            tracker.apply(&update(&id, state)).await.expect("an answer")
                        {
                            assert_eq!(previous, row);
                            row = Some(state.clone());
                        }
                    }
                    assert_eq!(row, expected);
                    assert_eq!(
                        tracker.current(kind, &id).await.expect("an answer"),
                        expected
                    );
                });
            });
            Ok(())
        })
        .expect("every case passes");
}

/// Equal ranks and times are decided by the status names byte by byte, as [`merge`] does,
/// also for names a locale-aware comparison orders differently (case, accents, prefixes).
pub async fn names_tie_break_byte_by_byte(tracker: &dyn StatusTracker) {
    let names = ["a", "B", "ab", "\u{e9}t\u{e9}", "z", "Z", "", "a:b"];
    for (i, first) in names.iter().enumerate() {
        for second in &names {
            let id = format!("tie-{i}-{second}");
            let first = State::new(MessageStatus::Other((*first).into()), at(0));
            let second = State::new(MessageStatus::Other((*second).into()), at(0));
            let _ = tracker
                .apply(&update(&id, &first))
                .await
                .expect("an answer");
            let outcome = tracker
                .apply(&update(&id, &second))
                .await
                .expect("an answer");
            assert_eq!(
                outcome,
                merge(Some(&first), &second),
                "{first:?} then {second:?}"
            );
        }
    }
}

/// `current` answers the state of message `id` (`expected`) and nothing for a template of
/// the same id: subjects of the two kinds never share a state.
pub async fn current_is_kept_per_subject_kind(
    tracker: &dyn StatusTracker,
    id: &str,
    expected: &State,
) {
    assert_eq!(
        tracker
            .current(SubjectKind::Message, id)
            .await
            .expect("an answer"),
        Some(expected.clone())
    );
    assert_eq!(
        tracker
            .current(SubjectKind::Template, id)
            .await
            .expect("an answer"),
        None,
        "a template never shares message {id}'s state"
    );
}

/// Envelopes carry their updates (a template's too, others none), and an applied update
/// names the state it replaced.
pub async fn envelopes_are_read_and_applied_updates_name_the_previous_state(
    tracker: &dyn StatusTracker,
) {
    let when = "2024-01-15T10:30:00Z".parse().expect("a time");
    let delivered = sample_at(Event::MESSAGE_DELIVERED, "whk_1", when);
    let read = sample_at(Event::MESSAGE_READ, "whk_2", when);
    assert_eq!(
        tracker.apply_envelope(&delivered).await.expect("an answer"),
        Some(Merge::Applied { previous: None })
    );
    let previous = delivered
        .status_update()
        .map(|update| update.state().clone());
    assert_eq!(
        tracker.apply_envelope(&read).await.expect("an answer"),
        Some(Merge::Applied { previous })
    );
    let template = sample_at(Event::TEMPLATE_STATUS_UPDATE, "whk_3", when);
    assert!(tracker
        .apply_envelope(&template)
        .await
        .expect("an answer")
        .is_some_and(|merge| merge.is_applied()));
    assert_eq!(
        tracker
            .current(SubjectKind::Template, "tpl_42")
            .await
            .expect("an answer"),
        Some(State::new(TemplateStatus::Approved, when))
    );
    let unrelated = sample_at("contact.created", "whk_4", when);
    assert_eq!(
        tracker.apply_envelope(&unrelated).await.expect("an answer"),
        None
    );
}

/// A small deterministic generator (splitmix64), for shuffles and event sets; the field is
/// its seed, then its state.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (not zero).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Shuffles `items` (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// `messages` messages with 2 to 5 events each at times within 3 ms (ties and duplicates
/// are common), applied by 64 tasks in their own shuffled orders, spread over `trackers`
/// (connections): each message ends in its greatest state, and no state is applied twice.
pub async fn concurrent_tasks_end_where_the_pure_rule_does(
    trackers: &[Arc<dyn StatusTracker>],
    messages: usize,
) {
    const TASKS: usize = 64;
    let statuses = [
        MessageStatus::Delivered,
        MessageStatus::Read,
        MessageStatus::Failed,
        MessageStatus::Other("sent".into()),
        MessageStatus::Other("deleted".into()),
    ];
    let mut rng = Rng(14);
    let mut events = Vec::new();
    let mut expected = Vec::new();
    for m in 0..messages {
        let id = format!("msg_{m:04}");
        let count = 2 + rng.below(4);
        let mut best: Option<State> = None;
        for _ in 0..count {
            let status = statuses[rng.below(statuses.len())].clone();
            let state = State::new(status, at(rng.below(3) as i64));
            best = best.max(Some(state.clone()));
            events.push(StatusUpdate::new(
                id.clone(),
                state.status().clone(),
                state.at(),
            ));
        }
        expected.push((id, best));
    }
    let events = Arc::new(events);
    let applied = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let tracker = Arc::clone(&trackers[task % trackers.len()]);
        let events = Arc::clone(&events);
        let applied = Arc::clone(&applied);
        tasks.spawn(async move {
            let mut order: Vec<&StatusUpdate> = events.iter().collect();
            Rng(task as u64).shuffle(&mut order);
            for update in order {
                if tracker.apply(update).await.expect("an answer").is_applied() {
                    applied.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while let Some(task) = tasks.join_next().await {
        task.expect("the task completed");
    }
    for (id, best) in &expected {
        let current = trackers[0]
            .current(SubjectKind::Message, id)
            .await
            .expect("an answer");
        assert_eq!(&current, best, "{id}");
    }
    // Atomicity: a state, once applied, never applies again; so at most one applied
    // update per distinct event, and at least one per message.
    let applied = applied.load(Ordering::Relaxed);
    assert!(
        (messages as u64..=events.len() as u64).contains(&applied),
        "{applied} applied for {} events",
        events.len()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_visits_every_permutation_once() {
        let mut seen = std::collections::HashSet::new();
        for_each_permutation(&[1, 2, 3, 4], |p| assert!(seen.insert(p.to_vec())));
        assert_eq!(seen.len(), 24);
    }
}
