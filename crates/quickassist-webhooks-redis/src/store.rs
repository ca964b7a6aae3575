//! [`RedisStore`]: claims shared by every replica through Redis.

use std::{fmt, future::Future, sync::Arc, time::Duration};

use quickassist_webhooks::idempotency::{
    Claim, ClaimToken, IdempotencyKey, IdempotencyStore, StoreError, StoreFuture,
};
use redis::{
    aio::ConnectionManager, cluster_async::ClusterConnection, RedisError, Script, ScriptInvocation,
};

use crate::{scripts, RedisStoreBuilder};

/// Default prefix of every key the store writes.
pub const DEFAULT_KEY_PREFIX: &str = "quickassist:webhook:";

/// Default time allowed for one store operation (reconnecting included) before it fails
/// with a [`StoreError`], so that a Redis outage answers 503 promptly instead of hanging
/// requests.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

/// The longest lease or TTL sent to Redis (about 1,100 years): Redis refuses an expiry that
/// overflows its clock, and no delivery needs to be remembered longer.
const MAX_EXPIRY_MS: u64 = 1 << 45;

/// An [`IdempotencyStore`] on Redis, so that every replica of a receiver sees the same claims.
///
/// - **claim** is one atomic round trip: a script runs `SET key i:<token> NX PX <lease>` and,
///   when the key exists, returns its value (`i:…` in flight, `d` done);
/// - **complete** and **release** compare the claim token before acting (a short Lua
///   script), so a replica whose lease expired cannot complete or delete the claim another
///   replica has taken since; complete sets the done-TTL;
/// - a replica that dies mid-delivery leaves a claim that expires with its lease;
/// - Redis errors and timeouts are [`StoreError`]s: the `Deduplicator`'s fail-closed default
///   answers 503 and the provider retries, nothing is lost.
///
/// The scripts run with `EVALSHA` (loaded automatically on first use or after a Redis
/// restart). Connections reconnect automatically: `redis`'s `ConnectionManager` for one
/// server, its cluster client for Redis Cluster. Cloning is cheap and shares the connection.
///
/// A command that timed out may still have reached Redis: a claim that timed out may hold
/// its key until its lease ends, during which a retry of that delivery is answered "in
/// flight" (409), never processed twice.
///
/// `Debug` shows the server's address, the prefix and the timeout, never a password.
///
/// ```no_run
/// use quickassist_webhooks::idempotency::Deduplicator;
/// use quickassist_webhooks_redis::RedisStore;
///
/// # async fn demo() -> Result<(), redis::RedisError> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379/").await?;
/// let dedup = Deduplicator::new(store);
/// # let _ = dedup;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: Connection,
    /// Where the store connects, for `Debug`: addresses only, never credentials.
    endpoint: Arc<str>,
    prefix: Arc<str>,
    timeout: Duration,
    scripts: Arc<Scripts>,
}

#[derive(Clone)]
pub(crate) enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

struct Scripts {
    claim: Script,
    complete: Script,
    release: Script,
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://[[user]:password@]host:port[/db]`, or
    /// `rediss://` with the `redis` crate's TLS features) with the default prefix and
    /// timeout, and checks that it answers.
    ///
    /// # Errors
    ///
    /// The [`RedisError`] when the URL is invalid or Redis cannot be reached. Neither says
    /// the password.
    pub async fn connect(url: &str) -> Result<Self, RedisError> {
        Self::builder().connect(url).await
    }

    /// A store on `client` with the default prefix and timeout, connecting on first use
    /// (so that a receiver can start while Redis is down: its operations fail with a
    /// [`StoreError`] until Redis answers).
    ///
    /// Call it within a tokio runtime: the connection's background task is spawned on it.
    ///
    /// # Errors
    ///
    /// A [`RedisError`] when called outside a tokio runtime.
    ///
    /// ```no_run
    /// use quickassist_webhooks_redis::RedisStore;
    ///
    /// # async fn demo() -> Result<(), redis::RedisError> {
    /// let client = redis::Client::open("redis://127.0.0.1:6379/")?;
    /// let store = RedisStore::new(client)?;
    /// # let _ = store;
    /// # Ok(()) }
    /// ```
    pub fn new(client: redis::Client) -> Result<Self, RedisError> {
        Self::builder().build(client)
    }

    /// A builder for the prefix, the timeout and the kind of connection.
    pub fn builder() -> RedisStoreBuilder {
        RedisStoreBuilder::default()
    }

    pub(crate) fn from_parts(
        connection: Connection,
        endpoint: String,
        prefix: String,
        timeout: Duration,
    ) -> Self {
        Self {
            connection,
            endpoint: endpoint.into(),
            prefix: prefix.into(),
            timeout,
            scripts: Arc::new(Scripts {
                claim: scripts::claim(),
                complete: scripts::complete(),
                release: scripts::release(),
            }),
        }
    }

    /// The prefix of every key this store writes.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The time one operation may take before it fails with a [`StoreError`].
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The Redis key of `key`: the prefix and the key's 32 hex digits.
    #[must_use]
    pub fn redis_key(&self, key: &IdempotencyKey) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Runs `invocation` within the timeout.
    async fn run<T: redis::FromRedisValue>(
        &self,
        invocation: ScriptInvocation<'_>,
    ) -> Result<T, StoreError> {
        self.invoke(invocation).await.map_err(|failure| {
            // `debug!` only: the Deduplicator already warns once per refused delivery.
            tracing::debug!(%failure, "redis idempotency store: no answer");
            match failure {
                Failure::Redis(error) => StoreError::new(error),
                Failure::Timeout(after) => StoreError::timeout(after),
            }
        })
    }

    /// Runs `command` on the store's connection within the timeout.
    pub(crate) async fn query<T: redis::FromRedisValue>(
        &self,
        command: &redis::Cmd,
    ) -> Result<T, Failure> {
        let call = async {
            match &self.connection {
                Connection::Single(connection) => {
                    command.query_async(&mut connection.clone()).await
                }
                Connection::Cluster(connection) => {
                    command.query_async(&mut connection.clone()).await
                }
            }
        };
        timed(self.timeout, call).await
    }

    /// Runs `invocation` on the store's connection within the timeout; shared with the
    /// status tracker, which maps failures to its own error.
    pub(crate) async fn invoke<T: redis::FromRedisValue>(
        &self,
        invocation: ScriptInvocation<'_>,
    ) -> Result<T, Failure> {
        let call = async {
            match &self.connection {
                Connection::Single(connection) => {
                    invocation.invoke_async(&mut connection.clone()).await
                }
                Connection::Cluster(connection) => {
                    invocation.invoke_async(&mut connection.clone()).await
                }
            }
        };
        timed(self.timeout, call).await
    }

    async fn claim_now(&self, key: &IdempotencyKey, lease: Duration) -> Result<Claim, StoreError> {
        let token = ClaimToken::random();
        let mut invocation = self.scripts.claim.key(self.redis_key(key));
        invocation.arg(in_flight(token)).arg(millis(lease));
        let answer: Option<String> = self.run(invocation).await?;
        Ok(match answer.as_deref() {
            Some(scripts::NEW) => Claim::New(token),
            Some(scripts::DONE) => Claim::Done,
            // `i:<token>`: another delivery holds it. (Anything else would be a foreign
            // value under our prefix: refusing is the answer that never processes twice.)
            _ => Claim::InFlight,
        })
    }

    async fn complete_now(
        &self,
        key: &IdempotencyKey,
        token: ClaimToken,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut invocation = self.scripts.complete.key(self.redis_key(key));
        invocation.arg(in_flight(token)).arg(millis(ttl));
        Ok(self.run::<i64>(invocation).await? == 1)
    }

    async fn release_now(
        &self,
        key: &IdempotencyKey,
        token: ClaimToken,
    ) -> Result<bool, StoreError> {
        let mut invocation = self.scripts.release.key(self.redis_key(key));
        invocation.arg(in_flight(token));
        Ok(self.run::<i64>(invocation).await? == 1)
    }
}

/// The value of a key in flight, owned by `token`.
fn in_flight(token: ClaimToken) -> String {
    format!("i:{:032x}", token.get())
}

/// Redis wants whole, positive milliseconds that do not overflow its clock.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .clamp(1, MAX_EXPIRY_MS)
}

/// Awaits `call` for at most `timeout`.
async fn timed<T>(
    timeout: Duration,
    call: impl Future<Output = Result<T, RedisError>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(Failure::Redis(error)),
        Err(_) => Err(Failure::Timeout(timeout)),
    }
}

/// Why a command got no answer.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Redis answered with an error, or the connection failed.
    Redis(RedisError),
    /// No answer within the timeout.
    Timeout(Duration),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Redis(error) => write!(f, "{error}"),
            Self::Timeout(after) => write!(f, "no answer within {after:?}"),
        }
    }
}

impl IdempotencyStore for RedisStore {
    fn claim<'a>(&'a self, key: &'a IdempotencyKey, lease: Duration) -> StoreFuture<'a, Claim> {
        Box::pin(self.claim_now(key, lease))
    }

    fn complete<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        token: ClaimToken,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(self.complete_now(key, token, ttl))
    }

    fn release<'a>(&'a self, key: &'a IdempotencyKey, token: ClaimToken) -> StoreFuture<'a, bool> {
        Box::pin(self.release_now(key, token))
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.connection {
            Connection::Single(_) => "single",
            Connection::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisStore")
            .field("kind", &kind)
            .field("endpoint", &self.endpoint)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_are_whole_positive_milliseconds_redis_accepts() {
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_micros(1500)), 1);
        assert_eq!(millis(Duration::from_secs(60)), 60_000);
        assert_eq!(millis(Duration::MAX), MAX_EXPIRY_MS);
    }

    #[test]
    fn in_flight_values_hold_the_whole_token() {
        assert_eq!(
            in_flight(ClaimToken::new(0xab)),
            "i:000000000000000000000000000000ab"
        );
        assert_eq!(in_flight(ClaimToken::new(u128::MAX)).len(), 34);
        assert_ne!(in_flight(ClaimToken::new(0)), scripts::DONE);
    }
}
