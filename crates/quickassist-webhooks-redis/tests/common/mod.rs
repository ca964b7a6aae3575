//! Shared by the crate's integration tests: connections to the test's `redis-server`.

use quickassist_webhooks_redis::RedisStore;
use quickassist_webhooks_test::redis::RedisServer;

/// A store on the test's server.
pub(crate) async fn store(server: &RedisServer) -> RedisStore {
    RedisStore::connect(&server.url())
        .await
        .expect("connect to the test redis")
}

/// A plain connection to inspect or steer the server behind the store's or tracker's back.
pub(crate) async fn admin(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url())
        .expect("the test server's URL is valid")
        .get_multiplexed_async_connection()
        .await
        .expect("connect to the test redis")
}
