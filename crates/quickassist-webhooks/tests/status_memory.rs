//! `MemoryStatusTracker`: the same final state as the pure rule over every permutation,
//! atomic under concurrency, and usable as `dyn StatusTracker`.
#![cfg(feature = "memory-store")]

use std::{
    future::Future,
    pin::pin,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    task::{Context, Poll, Waker},
};

use proptest::prelude::*;
use quickassist_webhooks::{
    status::{MemoryStatusTracker, Merge, MessageStatus, State, StatusTracker, SubjectKind},
    testing::sample_at,
    Event,
};
use quickassist_webhooks_test::tracker_suite::{
    self, at, events, for_each_permutation, update, with_repeats,
};

/// Runs a future the memory tracker resolves on its first poll.
fn ready<T>(future: impl Future<Output = T>) -> T {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => unreachable!("MemoryStatusTracker answers synchronously"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_permutation_with_repeats_ends_in_the_pure_rules_state(
        events in events(1..=4),
        repeats in proptest::collection::vec(any::<usize>(), 0..=2),
    ) {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let tracker = MemoryStatusTracker::with_capacity(1_000_000);
        let all = with_repeats(&events, &repeats);
        let expected = events.iter().max().cloned();
        let kind = events[0].status().kind();
        for_each_permutation(&all, |order| {
            // A fresh subject per permutation.
            let id = format!("subject-{}", NEXT.fetch_add(1, Ordering::Relaxed));
            let mut row = None;
            for state in order {
                if let Merge::Applied { previous } = ready(tracker.apply(&update(&id, state))).unwrap() {
                    assert_eq!(previous, row);
                    row = Some(state.clone());
                }
            }
            assert_eq!(row, expected);
            assert_eq!(ready(tracker.current(kind, &id)).unwrap(), expected);
        });
    }
}

#[test]
fn threads_applying_shuffled_copies_agree_with_the_pure_rule() {
    let tracker = Arc::new(MemoryStatusTracker::with_capacity(10_000));
    let statuses = [
        MessageStatus::Delivered,
        MessageStatus::Read,
        MessageStatus::Failed,
        MessageStatus::Other("sent".into()),
    ];
    // 500 messages, four events each at colliding times.
    let events: Vec<(String, State)> = (0..500)
        .flat_map(|m| {
            statuses.iter().enumerate().map(move |(i, status)| {
                let millis = ((m * 7 + i * 3) % 3) as i64;
                (format!("msg_{m}"), State::new(status.clone(), at(millis)))
            })
        })
        .collect();
    let applied = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for thread in 0..4u64 {
            let (tracker, events, applied) = (&tracker, &events, &applied);
            scope.spawn(move || {
                let mut order: Vec<_> = events.iter().collect();
                order.sort_by_key(|(id, state)| {
                    (id.len() as u64 ^ state.at_millis() as u64 ^ thread)
                        .wrapping_mul(0x9e37_79b9_7f4a_7c15 + thread)
                });
                for (id, state) in order {
                    if ready(tracker.apply(&update(id, state)))
                        .unwrap()
                        .is_applied()
                    {
                        applied.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    for m in 0..500 {
        let id = format!("msg_{m}");
        let expected = events
            .iter()
            .filter(|(e, _)| *e == id)
            .map(|(_, s)| s)
            .max();
        let current = ready(tracker.current(SubjectKind::Message, &id)).unwrap();
        assert_eq!(current.as_ref(), expected, "{id}");
    }
    // Each message's states are applied at most once each (atomicity), at least once.
    let applied = applied.into_inner();
    assert!((500..=2_000).contains(&applied), "{applied}");
}

#[test]
fn a_dyn_tracker_applies_envelopes_and_skips_other_events() {
    let tracker: Arc<dyn StatusTracker> = Arc::new(MemoryStatusTracker::new());
    let when = "2024-01-15T10:30:00Z".parse().unwrap();
    let read = sample_at(Event::MESSAGE_READ, "whk_2", when);
    let delivered = sample_at(Event::MESSAGE_DELIVERED, "whk_1", when);
    assert_eq!(
        ready(tracker.apply_envelope(&read)).unwrap(),
        Some(Merge::Applied { previous: None })
    );
    let stale = ready(tracker.apply_envelope(&delivered)).unwrap();
    assert!(
        matches!(stale, Some(Merge::Stale { ref current }) if current.status().as_str() == "read")
    );
    let unrelated = sample_at("contact.created", "whk_3", when);
    assert_eq!(ready(tracker.apply_envelope(&unrelated)).unwrap(), None);
    assert_eq!(
        ready(tracker.current(SubjectKind::Template, "msg_123456789")).unwrap(),
        None
    );
}

#[test]
fn the_memory_tracker_passes_the_tracker_suite() {
    let runtime = tokio::runtime::Builder::new_multi_thread().build().unwrap();
    let tracker = MemoryStatusTracker::new();
    tracker_suite::every_order_ends_in_the_pure_rules_state(&tracker, &runtime);
    runtime.block_on(async {
        tracker_suite::names_tie_break_byte_by_byte(&tracker).await;
        tracker_suite::envelopes_are_read_and_applied_updates_name_the_previous_state(&tracker)
            .await;
        let trackers: Vec<Arc<dyn StatusTracker>> = vec![Arc::new(MemoryStatusTracker::new())];
        tracker_suite::concurrent_tasks_end_where_the_pure_rule_does(&trackers, 1_000).await;
    });
}
