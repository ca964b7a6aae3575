//! `RedisStatusTracker` against a real `redis-server` this test starts on a free loopback
//! port: the Lua compare-and-set ends where the pure rule does, whatever the order and the
//! concurrency.

mod common;

use std::{sync::Arc, time::Duration};

use common::{admin, store};

use quickassist_webhooks::status::{
    Merge, MessageStatus, StatusTracker, StatusUpdate, SubjectKind,
};
use quickassist_webhooks_redis::{RedisStatusTracker, RedisStore};
use quickassist_webhooks_test::{
    redis::{RedisCluster, RedisServer},
    tracker_suite::{self, at},
};
use redis::AsyncCommands;

async fn tracker(server: &RedisServer) -> RedisStatusTracker {
    RedisStatusTracker::new(&store(server).await)
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
    tracker_suite::current_is_kept_per_subject_kind(&tracker, "msg_1", read.state()).await;
}

#[tokio::test]
async fn applied_updates_answer_the_previous_state_and_envelopes_are_read() {
    let server = RedisServer::start().unwrap();
    tracker_suite::envelopes_are_read_and_applied_updates_name_the_previous_state(
        &tracker(&server).await,
    )
    .await;
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
    tracker_suite::names_tie_break_byte_by_byte(&tracker(&server).await).await;
}

#[test]
fn every_permutation_with_repeats_ends_in_the_pure_rules_state() {
    let server = RedisServer::start().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let tracker = runtime.block_on(tracker(&server));
    tracker_suite::every_order_ends_in_the_pure_rules_state(&tracker, &runtime);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_tasks_on_four_connections_end_where_the_pure_rule_does() {
    let server = RedisServer::start().unwrap();
    let mut trackers: Vec<Arc<dyn StatusTracker>> = Vec::new();
    for _ in 0..4 {
        trackers.push(Arc::new(tracker(&server).await));
    }
    tracker_suite::concurrent_tasks_end_where_the_pure_rule_does(&trackers, 1_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_against_a_three_node_cluster() {
    let cluster = RedisCluster::start().unwrap();
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
