//! [`RedisStore`]: claims shared by every replica through Redis.

use std::{fmt, future::Future, sync::Arc, time::Duration};

use quickassist_webhooks::idempotency::{
    Claim, ClaimToken, IdempotencyKey, IdempotencyStore, StoreError, StoreFuture,
};
use redis::{
    aio::{ConnectionManager, ConnectionManagerConfig},
    cluster::ClusterClient,
    cluster_async::ClusterConnection,
    RedisError, Script, ScriptInvocation,
};

use crate::scripts;

/// Default prefix of every key the store writes.
pub const DEFAULT_KEY_PREFIX: &str = "quickassist:webhook:";

/// Default time allowed for one store operation (connecting included) before it fails with
/// a [`StoreError`], so that a Redis outage answers 503 promptly instead of hanging requests.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

/// An [`IdempotencyStore`] on Redis, so that every replica of a receiver sees the same claims.
///
/// - **claim** is one atomic round trip (`SET key i:<token> NX PX <lease>` in a script that
///   returns the current value when the key exists);
/// - **complete** and **release** compare the claim token before acting (a short Lua
///   script), so a replica whose lease expired cannot complete or delete the claim another
///   replica has taken since; complete sets the done-TTL;
/// - a replica that dies mid-delivery leaves a claim that expires with its lease;
/// - Redis errors and timeouts are [`StoreError`]s: the `Deduplicator`'s fail-closed default
///   answers 503 and the provider retries, nothing is lost.
///
/// Connections reconnect automatically (`redis`'s `ConnectionManager`; for Redis Cluster,
/// its cluster client).
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
    prefix: Arc<str>,
    timeout: Duration,
    scripts: Arc<Scripts>,
}

#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

struct Scripts {
    claim: Script,
    complete: Script,
    release: Script,
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://[:password@]host:port[/db]`) with the default
    /// prefix and timeout.
    ///
    /// # Errors
    ///
    /// The [`RedisError`] when the URL is invalid or Redis cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, RedisError> {
        Self::builder().connect(url).await
    }

    /// A builder for the prefix and the timeout.
    pub fn builder() -> RedisStoreBuilder {
        RedisStoreBuilder::default()
    }

    /// The prefix of every key this store writes.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn redis_key(&self, key: &IdempotencyKey) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Runs `invocation` within the timeout.
    async fn run<T: redis::FromRedisValue>(
        &self,
        invocation: ScriptInvocation<'_>,
    ) -> Result<T, StoreError> {
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
        within(self.timeout, call).await
    }

    async fn claim_now(&self, key: &IdempotencyKey, lease: Duration) -> Result<Claim, StoreError> {
        let token = ClaimToken::random();
        let mut invocation = self.scripts.claim.key(self.redis_key(key));
        invocation.arg(in_flight(token)).arg(millis(lease));
        let answer: Option<String> = self.run(invocation).await?;
        Ok(match answer.as_deref() {
            Some("new") => Claim::New(token),
            Some(scripts::DONE) => Claim::Done,
            // In flight (or expired within the script's instant): someone else holds it.
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

/// Redis wants whole, positive milliseconds.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

async fn within<T>(
    timeout: Duration,
    call: impl Future<Output = Result<T, RedisError>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => {
            tracing::warn!("redis idempotency store: {error}");
            Err(StoreError::new(error))
        }
        Err(_) => {
            tracing::warn!("redis idempotency store: no answer within {timeout:?}");
            Err(StoreError::timeout(timeout))
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
        // Never the URL: it may carry a password.
        let kind = match self.connection {
            Connection::Single(_) => "single",
            Connection::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisStore")
            .field("kind", &kind)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Builds a [`RedisStore`]: key prefix and per-operation timeout.
///
/// ```no_run
/// use std::time::Duration;
/// use quickassist_webhooks_redis::RedisStore;
///
/// # async fn demo() -> Result<(), redis::RedisError> {
/// let store = RedisStore::builder()
///     .prefix("myapp:webhooks:")
///     .timeout(Duration::from_millis(200))
///     .connect("redis://127.0.0.1:6379/")
///     .await?;
/// # let _ = store;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct RedisStoreBuilder {
    prefix: String,
    timeout: Duration,
}

impl Default for RedisStoreBuilder {
    fn default() -> Self {
        Self {
            prefix: DEFAULT_KEY_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl RedisStoreBuilder {
    /// The prefix of every key (default [`DEFAULT_KEY_PREFIX`]); give each application its own.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The time one operation may take (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connects to one Redis server (or a primary behind a proxy) at `url`.
    ///
    /// # Errors
    ///
    /// The [`RedisError`] when the URL is invalid or Redis cannot be reached within the
    /// timeout.
    pub async fn connect(self, url: &str) -> Result<RedisStore, RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_with_config(client, config).await?;
        Ok(self.build(Connection::Single(manager)))
    }

    /// Connects to a Redis Cluster through any of its `nodes` (`redis://host:port` URLs).
    ///
    /// # Errors
    ///
    /// The [`RedisError`] when no node can be reached.
    pub async fn connect_cluster(self, nodes: &[&str]) -> Result<RedisStore, RedisError> {
        let client = ClusterClient::builder(nodes.iter().copied())
            .connection_timeout(self.timeout)
            .response_timeout(self.timeout)
            .build()?;
        let connection = client.get_async_connection().await?;
        Ok(self.build(Connection::Cluster(connection)))
    }

    fn build(self, connection: Connection) -> RedisStore {
        RedisStore {
            connection,
            prefix: self.prefix.into(),
            timeout: self.timeout,
            scripts: Arc::new(Scripts {
                claim: scripts::claim(),
                complete: scripts::complete(),
                release: scripts::release(),
            }),
        }
    }
}
