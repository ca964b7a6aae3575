//! The status timeline's pure rule: order independence over every permutation, and the
//! provider's documented events (and values it may add) read as timeline updates.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use quickassist_webhooks::{
    parse_envelope,
    status::{merge, Merge, MessageStatus, State, Status, SubjectKind, TemplateStatus},
    testing::{sample_at, PROVIDER_SAMPLE},
    Envelope, Event, TemplateStatusUpdate,
};
use quickassist_webhooks_test::tracker_suite::{events, for_each_permutation, with_repeats};

/// Folds `events` through `merge`, checking each answer; returns the final state.
fn fold(events: &[State]) -> Option<State> {
    let mut current: Option<State> = None;
    for event in events {
        match merge(current.as_ref(), event) {
            Merge::Applied { previous } => {
                assert_eq!(previous, current);
                assert!(current.as_ref().is_none_or(|current| event > current));
                current = Some(event.clone());
            }
            Merge::Stale { current: kept } => {
                assert_eq!(Some(&kept), current.as_ref());
                assert!(&kept >= event);
            }
        }
    }
    current
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_permutation_with_repeats_ends_in_the_same_state(
        events in events(1..=4),
        repeats in proptest::collection::vec(any::<usize>(), 0..=2),
    ) {
        let all = with_repeats(&events, &repeats);
        let expected = events.iter().max().cloned();
        for_each_permutation(&all, |order| {
            assert_eq!(fold(order), expected, "order {order:?}");
        });
    }

    #[test]
    fn a_handler_writing_only_on_applied_ends_with_the_greatest_status(
        events in events(1..=12),
        repeats in proptest::collection::vec(any::<usize>(), 0..=12),
        seed in any::<u64>(),
    ) {
        let mut all = with_repeats(&events, &repeats);
        // A cheap deterministic shuffle: sort by a hash of the position and the seed.
        let mut keyed: Vec<_> = all.drain(..).enumerate()
            .map(|(i, e)| ((i as u64 ^ seed).wrapping_mul(0x9e37_79b9_7f4a_7c15), e))
            .collect();
        keyed.sort_by_key(|(key, _)| *key);
        let mut row: Option<Status> = None;
        let mut current = None;
        for (_, event) in keyed {
            if let Merge::Applied { .. } = merge(current.as_ref(), &event) {
                row = Some(event.status().clone());
                current = Some(event);
            }
        }
        prop_assert_eq!(row.as_ref(), events.iter().max().map(State::status));
    }
}

fn time(text: &str) -> DateTime<Utc> {
    text.parse().expect("an RFC 3339 time")
}

#[test]
fn the_providers_documented_example_is_a_delivered_update() {
    let envelope = parse_envelope::<Event>(PROVIDER_SAMPLE.as_bytes()).unwrap();
    let update = envelope.status_update().unwrap();
    assert_eq!(update.id(), "msg_123456789");
    assert_eq!(update.kind(), SubjectKind::Message);
    assert_eq!(update.status(), &Status::Message(MessageStatus::Delivered));
    assert_eq!(update.at(), time("2024-01-15T10:30:00Z"));
}

#[test]
fn every_documented_event_reads_as_its_timeline_update() {
    let at = time("2024-01-15T10:30:00.123Z");
    let expected = [
        (
            Event::MESSAGE_DELIVERED,
            "msg_123456789",
            Status::Message(MessageStatus::Delivered),
        ),
        (
            Event::MESSAGE_READ,
            "msg_123456789",
            Status::Message(MessageStatus::Read),
        ),
        (
            Event::MESSAGE_FAILED,
            "msg_123456789",
            Status::Message(MessageStatus::Failed),
        ),
        (
            Event::TEMPLATE_STATUS_UPDATE,
            "tpl_42",
            Status::Template(TemplateStatus::Approved),
        ),
    ];
    assert_eq!(expected.len(), Event::DOCUMENTED.len());
    for (name, id, status) in expected {
        // Through the wire form, as a receiver sees it.
        let body = serde_json::to_vec(&sample_at(name, "whk_1", at)).unwrap();
        let envelope = parse_envelope::<Event>(&body).unwrap();
        let update = envelope.status_update().unwrap();
        assert_eq!((update.id(), update.status()), (id, &status), "{name}");
        assert_eq!(update.at(), at, "{name}");
        assert_eq!(envelope.status_time(), at, "{name}");
    }
}

#[test]
fn the_payloads_own_time_wins_over_the_envelope_timestamp() {
    let body = br#"{"event":"message.read","timestamp":"2024-01-15T10:31:00Z",
        "data":{"messageId":"m","readAt":"2024-01-15T10:30:59.5Z"},"webhookId":"w"}"#;
    let envelope = parse_envelope::<Event>(body).unwrap();
    assert_eq!(
        envelope.event.status_time(),
        Some(time("2024-01-15T10:30:59.5Z"))
    );
    assert_eq!(
        envelope.status_update().unwrap().at(),
        time("2024-01-15T10:30:59.5Z")
    );
    // Without `readAt`, the envelope's timestamp.
    let body = br#"{"event":"message.read","timestamp":"2024-01-15T10:31:00Z",
        "data":{"messageId":"m"},"webhookId":"w"}"#;
    let envelope = parse_envelope::<Event>(body).unwrap();
    assert_eq!(
        envelope.status_update().unwrap().at(),
        time("2024-01-15T10:31:00Z")
    );
}

#[test]
fn values_the_provider_may_add_read_as_other() {
    let body = br#"{"event":"message.sent","timestamp":"2024-01-15T10:30:00Z",
        "data":{"messageId":"msg_9","sentAt":"2024-01-15T10:29:58Z"},"webhookId":"w"}"#;
    let update = parse_envelope::<Event>(body)
        .unwrap()
        .status_update()
        .unwrap();
    assert_eq!(update.id(), "msg_9");
    assert_eq!(
        update.status(),
        &Status::Message(MessageStatus::Other("sent".into()))
    );
    assert_eq!(update.status().rank(), 0);
    assert_eq!(update.at(), time("2024-01-15T10:29:58Z"));

    let body = br#"{"event":"template.status_update","timestamp":"2024-01-15T10:30:00Z",
        "data":{"template":"welcome_message","status":"paused"},"webhookId":"w"}"#;
    let envelope = parse_envelope::<Event>(body).unwrap();
    assert_eq!(
        envelope.event.template_status(),
        Some(&TemplateStatus::Other("paused".into()))
    );
    let update = envelope.status_update().unwrap();
    assert_eq!(update.id(), "welcome_message");
    assert_eq!(update.status().rank(), 2);

    // Not a status event: nothing to track.
    let other = sample_at("contact.created", "w", time("2024-01-15T10:30:00Z"));
    assert!(other.status_update().is_none());
    let no_status = Envelope::new(
        Event::TemplateStatusUpdate(TemplateStatusUpdate::new()),
        time("2024-01-15T10:30:00Z"),
        "w",
    );
    assert!(no_status.status_update().is_none());
}

#[test]
fn read_delivered_failed_in_any_order_end_read() {
    let body = |event: &str, at: &str| {
        format!(
            r#"{{"event":"{event}","timestamp":"{at}","data":{{"messageId":"m","recipient":"+1","deliveredAt":"{at}"}},"webhookId":"{event}"}}"#
        )
    };
    let states: Vec<State> = [
        body("message.delivered", "2024-01-15T10:30:00Z"),
        body("message.read", "2024-01-15T10:30:00Z"),
        body("message.failed", "2024-01-15T10:45:00Z"),
    ]
    .iter()
    .map(|body| {
        let envelope = parse_envelope::<Event>(body.as_bytes()).unwrap();
        envelope.status_update().unwrap().state().clone()
    })
    .collect();
    for_each_permutation(&states, |order| {
        assert_eq!(
            fold(order).unwrap().status(),
            &Status::Message(MessageStatus::Read)
        );
    });
}
