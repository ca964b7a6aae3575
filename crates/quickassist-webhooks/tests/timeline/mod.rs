//! Shared by the status timeline tests: generated event sets and their permutations.

#![allow(dead_code, unreachable_pub)]

use chrono::DateTime;
use proptest::prelude::*;
use quickassist_webhooks::status::{MessageStatus, State, Status, StatusUpdate, TemplateStatus};

/// A message status, known or not.
pub fn message_status() -> impl Strategy<Value = Status> {
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
pub fn template_status() -> impl Strategy<Value = Status> {
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
pub fn update(id: &str, state: &State) -> StatusUpdate {
    StatusUpdate::new(id, state.status().clone(), state.at())
}

pub fn at(millis: i64) -> chrono::DateTime<chrono::Utc> {
    DateTime::from_timestamp_millis(1_705_314_600_000 + millis).expect("a valid time")
}

#[test]
fn heap_visits_every_permutation_once() {
    let mut seen = std::collections::HashSet::new();
    for_each_permutation(&[1, 2, 3, 4], |p| assert!(seen.insert(p.to_vec())));
    assert_eq!(seen.len(), 24);
}
