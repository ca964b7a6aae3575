//! `RedisStatusTracker` against a real `redis-server` this test starts on a free loopback
//! port: the Lua compare-and-set ends where the pure rule does, whatever the order and the
//! concurrency.

#[path = "../src/test_server.rs"]
#[allow(dead_code, unreachable_pub)]
mod test_server;

#[path = "../../quickassist-webhooks/tests/timeline/mod.rs"]
mod timeline;

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use proptest::{prelude::*, test_runner::TestRunner};
use quickassist_webhooks::{
    status::{
        merge, Merge, MessageStatus, State, StatusTracker, StatusUpdate, SubjectKind,
        TemplateStatus,
    },
    testing::sample_at,
    Event,
};
use quickassist_webhooks_redis::{RedisStatusTracker, RedisStore};
use redis::AsyncCommands;
use test_server::RedisServer;
use timeline::{at, events, for_each_permutation, update, with_repeats};

async fn tracker(server: &RedisServer) -> RedisStatusTracker {
    let store = RedisStore::connect(&server.url())
        .await
        .expect("connect to the test redis");
    RedisStatusTracker::new(&store)
}

/// A plain connection to inspect the server behind the tracker's back.
async fn admin(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url())
        .expect("the test server's URL is valid")
        .get_multiplexed_async_connection()
        .await
        .expect("connect to the test redis")
}

#[tokio::test]
async fn a_late_delivered_is_stale_and_the_key_holds_the_state_with_a_ttl() {
    let server = RedisServer::start().unwrap();
    let tracker = tracker(&server).await.ttl(Duration::from_secs(3600));
    let read = StatusUpdate::new("msg_1", MessageStatus::Read, at(5));
    let delivered = StatusUpdate::new("msg_1", MessageStatus::Delivered, at(9));
    assert_eq!(
        tracker.apply(&read).await.unwrap(),
        Merge::Applied { previous: None }
    );
    assert_eq!(
        tracker.apply(&delivered).await.unwrap(),
        Merge::Stale {
            current: read.state().clone()
        }
    );
    assert_eq!(
        tracker.apply(&read).await.unwrap(),
        Merge::Stale {
            current: read.state().clone()
        }
    );
    let key = tracker.redis_key(SubjectKind::Message, "msg_1");
    assert_eq!(key, "quickassist:webhook:status:message:msg_1");
    let mut admin = admin(&server).await;
    let value: String = admin.get(&key).await.unwrap();
    assert_eq!(value, format!("3:{}:read", at(5).timestamp_millis()));
    let ttl: i64 = admin.pttl(&key).await.unwrap();
    assert!((3_500_000..=3_600_000).contains(&ttl), "{ttl}");
    // A stale update renews the TTL too: the subject is remembered after its last event.
    let _: bool = admin.pexpire(&key, 1_000).await.unwrap();
    assert!(!tracker.apply(&delivered).await.unwrap().is_applied());
    let ttl: i64 = admin.pttl(&key).await.unwrap();
    assert!((3_500_000..=3_600_000).contains(&ttl), "{ttl}");
    assert_eq!(
        tracker
            .current(SubjectKind::Message, "msg_1")
            .await
            .unwrap(),
        Some(read.state().clone())
    );
    assert_eq!(
        tracker
            .current(SubjectKind::Template, "msg_1")
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn applied_updates_answer_the_previous_state_and_envelopes_are_read() {
    let server = RedisServer::start().unwrap();
    let tracker = tracker(&server).await;
    let when = "2024-01-15T10:30:00Z".parse().unwrap();
    let delivered = sample_at(Event::MESSAGE_DELIVERED, "whk_1", when);
    let read = sample_at(Event::MESSAGE_READ, "whk_2", when);
    assert_eq!(
        tracker.apply_envelope(&delivered).await.unwrap(),
        Some(Merge::Applied { previous: None })
    );
    assert_eq!(
        tracker.apply_envelope(&read).await.unwrap(),
        Some(Merge::Applied {
            previous: Some(delivered.status_update().unwrap().state().clone())
        })
    );
    let template = sample_at(Event::TEMPLATE_STATUS_UPDATE, "whk_3", when);
    assert!(tracker
        .apply_envelope(&template)
        .await
        .unwrap()
        .is_some_and(|merge| merge.is_applied()));
    assert_eq!(
        tracker
            .current(SubjectKind::Template, "tpl_42")
            .await
            .unwrap(),
        Some(State::new(TemplateStatus::Approved, when))
    );
    let unrelated = sample_at("contact.created", "whk_4", when);
    assert_eq!(tracker.apply_envelope(&unrelated).await.unwrap(), None);
}

#[tokio::test]
async fn a_foreign_value_is_an_error_not_overwritten() {
    let server = RedisServer::start().unwrap();
    let tracker = tracker(&server).await;
    let key = tracker.redis_key(SubjectKind::Message, "m");
    let mut admin = admin(&server).await;
    let () = admin.set(&key, "not a state").await.unwrap();
    let error = tracker
        .apply(&StatusUpdate::new("m", MessageStatus::Read, at(0)))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("unreadable status state"),
        "{error}"
    );
    let value: String = admin.get(&key).await.unwrap();
    assert_eq!(value, "not a state");
}

#[tokio::test]
async fn names_tie_break_byte_by_byte_as_the_pure_rule_does() {
    let server = RedisServer::start().unwrap();
    let tracker = tracker(&server).await;
    // Names Lua's locale-aware `<` might order differently: case, accents, prefixes.
    let names = ["a", "B", "ab", "\u{e9}t\u{e9}", "z", "Z", "", "a:b"];
    for (i, first) in names.iter().enumerate() {
        for second in &names {
            let id = format!("tie-{i}-{second}");
            let first = State::new(MessageStatus::Other((*first).into()), at(0));
            let second = State::new(MessageStatus::Other((*second).into()), at(0));
            let _ = tracker.apply(&update(&id, &first)).await.unwrap();
            let outcome = tracker.apply(&update(&id, &second)).await.unwrap();
            assert_eq!(
                outcome,
                merge(Some(&first), &second),
                "{first:?} then {second:?}"
            );
        }
    }
}

#[test]
fn every_permutation_with_repeats_ends_in_the_pure_rules_state() {
    let server = RedisServer::start().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let tracker = runtime.block_on(tracker(&server));
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
                            tracker.apply(&update(&id, state)).await.unwrap()
                        {
                            assert_eq!(previous, row);
                            row = Some(state.clone());
                        }
                    }
                    assert_eq!(row, expected);
                    assert_eq!(tracker.current(kind, &id).await.unwrap(), expected);
                });
            });
            Ok(())
        })
        .unwrap();
}

/// A small deterministic generator (splitmix64), for shuffles and event sets.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_tasks_on_four_connections_end_where_the_pure_rule_does() {
    const MESSAGES: usize = 1_000;
    const TASKS: usize = 64;
    let server = RedisServer::start().unwrap();
    let mut trackers = Vec::new();
    for _ in 0..4 {
        trackers.push(tracker(&server).await);
    }
    let statuses = [
        MessageStatus::Delivered,
        MessageStatus::Read,
        MessageStatus::Failed,
        MessageStatus::Other("sent".into()),
        MessageStatus::Other("deleted".into()),
    ];
    // Each message: 2 to 5 events at times within 3 ms, so ties and duplicates are common.
    let mut rng = Rng(14);
    let mut events = Vec::new();
    let mut expected = Vec::new();
    for m in 0..MESSAGES {
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
    let tasks = (0..TASKS).map(|task| {
        let tracker = trackers[task % trackers.len()].clone();
        let events = Arc::clone(&events);
        let applied = Arc::clone(&applied);
        tokio::spawn(async move {
            let mut order: Vec<&StatusUpdate> = events.iter().collect();
            Rng(task as u64).shuffle(&mut order);
            for update in order {
                if tracker.apply(update).await.unwrap().is_applied() {
                    applied.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    });
    for task in futures_util::future::join_all(tasks).await {
        task.unwrap();
    }
    for (id, best) in &expected {
        let current = trackers[0].current(SubjectKind::Message, id).await.unwrap();
        assert_eq!(&current, best, "{id}");
    }
    // Atomicity: a state, once applied, never applies again; so at most one applied
    // update per distinct event, and at least one per message.
    let applied = applied.load(Ordering::Relaxed);
    assert!(
        (MESSAGES as u64..=events.len() as u64).contains(&applied),
        "{applied} applied for {} events",
        events.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_against_a_three_node_cluster() {
    let cluster = test_server::RedisCluster::start().unwrap();
    let urls = cluster.urls();
    let nodes: Vec<&str> = urls.iter().map(String::as_str).collect();
    let store = RedisStore::builder().connect_cluster(&nodes).await.unwrap();
    let tracker = RedisStatusTracker::new(&store);
    // Messages spread over the three nodes' slots; `read` overtakes `delivered` on each.
    for n in 0..50 {
        let id = format!("cluster-{n}");
        let read = StatusUpdate::new(id.as_str(), MessageStatus::Read, at(1));
        let delivered = StatusUpdate::new(id.as_str(), MessageStatus::Delivered, at(2));
        assert!(tracker.apply(&read).await.unwrap().is_applied());
        assert!(!tracker.apply(&delivered).await.unwrap().is_applied());
        assert_eq!(
            tracker.current(SubjectKind::Message, &id).await.unwrap(),
            Some(read.state().clone())
        );
    }
}
