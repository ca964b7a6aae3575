//! [`RedisStoreBuilder`]: key prefix, timeout, and how to connect.

use std::time::Duration;

use redis::{
    aio::{ConnectionManager, ConnectionManagerConfig},
    cluster::ClusterClient,
    ConnectionInfo, ErrorKind, IntoConnectionInfo, RedisError,
};

use crate::{
    store::{Connection, DEFAULT_KEY_PREFIX, DEFAULT_TIMEOUT},
    RedisStore,
};

/// How many times the connection manager retries a lost connection before failing the
/// command (the next command tries again): few, so that an outage answers within the
/// timeout rather than after a long backoff.
const RECONNECT_RETRIES: usize = 2;

/// Builds a [`RedisStore`]: key prefix, per-operation timeout, and the connection (one
/// server with [`connect`](Self::connect) / [`connect_client`](Self::connect_client) /
/// [`build`](Self::build), or a Redis Cluster with [`connect_cluster`](Self::connect_cluster)).
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
    /// The prefix of every key (default [`DEFAULT_KEY_PREFIX`]); give each application
    /// sharing a Redis its own.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The time one operation may take (default [`DEFAULT_TIMEOUT`]), reconnecting
    /// included; also bounds each connection attempt.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connects to one Redis server (or a primary behind a proxy) at `url` and checks that
    /// it answers.
    ///
    /// # Errors
    ///
    /// The [`RedisError`] when the URL is invalid or Redis cannot be reached. Neither says
    /// the password.
    pub async fn connect(self, url: &str) -> Result<RedisStore, RedisError> {
        self.connect_client(redis::Client::open(url)?).await
    }

    /// Connects through `client` (for settings a URL cannot carry) and checks that Redis
    /// answers.
    ///
    /// # Errors
    ///
    /// The [`RedisError`] when Redis cannot be reached.
    pub async fn connect_client(self, client: redis::Client) -> Result<RedisStore, RedisError> {
        let endpoint = endpoint(client.get_connection_info());
        let manager = ConnectionManager::new_with_config(client, self.manager_config()).await?;
        Ok(self.finish(Connection::Single(manager), endpoint))
    }

    /// A store on `client` that connects on first use, so that a receiver can start while
    /// Redis is down (its operations fail with a `StoreError` until Redis answers).
    ///
    /// # Errors
    ///
    /// A [`RedisError`] when called outside a tokio runtime (the connection's background
    /// task is spawned on it).
    pub fn build(self, client: redis::Client) -> Result<RedisStore, RedisError> {
        // The connection manager spawns a task: without a runtime it would panic.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(RedisError::from((
                ErrorKind::Client,
                "RedisStore::build needs a tokio runtime",
            )));
        }
        let endpoint = endpoint(client.get_connection_info());
        let manager = ConnectionManager::new_lazy_with_config(client, self.manager_config())?;
        Ok(self.finish(Connection::Single(manager), endpoint))
    }

    /// Connects to a Redis Cluster through any of its `nodes` (`redis://host:port` URLs);
    /// the cluster client discovers the others and follows slot moves and failovers.
    ///
    /// # Errors
    ///
    /// The [`RedisError`] when a URL is invalid or no node can be reached.
    pub async fn connect_cluster(self, nodes: &[&str]) -> Result<RedisStore, RedisError> {
        let nodes = nodes
            .iter()
            .map(|node| node.into_connection_info())
            .collect::<Result<Vec<_>, _>>()?;
        let endpoint = nodes
            .iter()
            .map(|node| node.addr().to_string())
            .collect::<Vec<_>>()
            .join(",");
        let client = ClusterClient::builder(nodes)
            .connection_timeout(self.timeout)
            .response_timeout(self.timeout)
            .build()?;
        let connection = client.get_async_connection().await?;
        Ok(self.finish(Connection::Cluster(connection), endpoint))
    }

    fn manager_config(&self) -> ConnectionManagerConfig {
        ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_max_delay(self.timeout)
    }

    fn finish(self, connection: Connection, endpoint: String) -> RedisStore {
        RedisStore::from_parts(connection, endpoint, self.prefix, self.timeout)
    }
}

/// `host:port/db` (or the socket path): where the store connects, without credentials.
fn endpoint(info: &ConnectionInfo) -> String {
    format!("{}/{}", info.addr(), info.redis_settings().db())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_never_carries_credentials() {
        let info = "redis://user:hunter2@cache.internal:6380/3"
            .into_connection_info()
            .unwrap();
        assert_eq!(endpoint(&info), "cache.internal:6380/3");
    }

    #[test]
    fn building_outside_a_runtime_is_an_error_not_a_panic() {
        let client = redis::Client::open("redis://127.0.0.1:1/").unwrap();
        let error = RedisStore::builder().build(client).unwrap_err();
        assert!(error.to_string().contains("tokio runtime"), "{error}");
    }
}
