//! [`PostgresStore`]: the idempotency store on PostgreSQL.

use std::{fmt, sync::Arc, time::Duration};

use quickassist_webhooks::idempotency::{
    Claim, ClaimToken, IdempotencyKey, IdempotencyStore, StoreError, StoreFuture,
};
use sqlx::{postgres::PgPoolOptions, PgPool};

use crate::{migrate::migrate, redact_url, Error};

/// How long one store operation may take by default before it is a [`StoreError`]
/// (answered 503 by the default fail-closed deduplicator): 500 ms.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_millis(500);

/// Claims an unknown or expired key; otherwise tells whether it is done (`token IS NULL`).
/// The outer `SELECT` sees the row as it was before this statement.
const CLAIM: &str = "WITH claimed AS ( \
       INSERT INTO quickassist_webhook_claims (key, token, expires_at) \
       VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond') \
       ON CONFLICT (key) DO UPDATE SET token = EXCLUDED.token, expires_at = EXCLUDED.expires_at \
       WHERE quickassist_webhook_claims.expires_at <= clock_timestamp() \
       RETURNING 1) \
     SELECT EXISTS (SELECT 1 FROM claimed), \
       (SELECT token IS NULL AND expires_at > clock_timestamp() \
          FROM quickassist_webhook_claims WHERE key = $1)";

const COMPLETE: &str = "UPDATE quickassist_webhook_claims \
     SET token = NULL, expires_at = clock_timestamp() + $3 * interval '1 millisecond' \
     WHERE key = $1 AND token = $2 AND expires_at > clock_timestamp()";

const RELEASE: &str = "DELETE FROM quickassist_webhook_claims \
     WHERE key = $1 AND token = $2 AND expires_at > clock_timestamp()";

/// An [`IdempotencyStore`] on PostgreSQL: the synchronous de-duplicating middleware on the
/// database a team already runs, instead of Redis.
///
/// - `claim` is one statement (`INSERT … ON CONFLICT DO UPDATE … WHERE expired`): of any
///   number of concurrent claims of a key, exactly one is [`Claim::New`].
/// - `complete` and `release` act only while the token owns an unexpired claim, so a
///   receiver whose lease expired cannot touch the next owner's claim.
/// - Leases and TTLs run on the database's clock, the same for every replica.
/// - Every operation is bounded by a timeout ([`DEFAULT_STORE_TIMEOUT`]).
///
/// Expired rows are overwritten by the next claim of their key; delete the others with
/// [`purge_expired`](Self::purge_expired).
///
/// ```no_run
/// use quickassist_webhooks::{idempotency::Deduplicator, receive::Receiver, Verifier};
/// use quickassist_webhooks_postgres::PostgresStore;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let store = PostgresStore::connect(&std::env::var("DATABASE_URL")?).await?;
/// store.migrate().await?;
/// let receiver = Receiver::builder(Verifier::new("whsec_example"))
///     .deduplicator(Deduplicator::new(store))
///     .build()?;
/// # let _ = receiver;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    timeout: Duration,
    shown: Arc<str>,
}

impl PostgresStore {
    /// Connects a pool of at most [`DEFAULT_MAX_CONNECTIONS`](crate::DEFAULT_MAX_CONNECTIONS)
    /// to `url` (as [`Inbox::connect`](crate::Inbox::connect)). For other settings build a
    /// pool yourself and use [`from_pool`](Self::from_pool).
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the URL is invalid or the database cannot be reached.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), quickassist_webhooks_postgres::Error> {
    /// let store = quickassist_webhooks_postgres::PostgresStore::connect("postgres://app@localhost/shop").await?;
    /// # let _ = store;
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let pool = PgPoolOptions::new()
            .max_connections(crate::DEFAULT_MAX_CONNECTIONS)
            .acquire_timeout(DEFAULT_STORE_TIMEOUT)
            .connect(url)
            .await?;
        let mut store = Self::from_pool(pool);
        store.shown = Arc::from(redact_url(url));
        Ok(store)
    }

    /// A store on an existing pool.
    ///
    /// ```no_run
    /// # async fn demo(pool: sqlx::PgPool) {
    /// let store = quickassist_webhooks_postgres::PostgresStore::from_pool(pool);
    /// # let _ = store; }
    /// ```
    #[must_use]
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            timeout: DEFAULT_STORE_TIMEOUT,
            shown: Arc::from("PgPool"),
        }
    }

    /// The longest one operation may take (default [`DEFAULT_STORE_TIMEOUT`]).
    ///
    /// ```no_run
    /// # fn demo(pool: sqlx::PgPool) {
    /// use std::time::Duration;
    ///
    /// let store = quickassist_webhooks_postgres::PostgresStore::from_pool(pool)
    ///     .with_timeout(Duration::from_millis(250));
    /// assert_eq!(store.timeout(), Duration::from_millis(250));
    /// # }
    /// ```
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest one operation may take; see [`with_timeout`](Self::with_timeout).
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Applies the embedded migrations (as [`Inbox::migrate`](crate::Inbox::migrate)).
    ///
    /// # Errors
    ///
    /// [`Error::Migrate`] when a migration fails or the database cannot be reached.
    ///
    /// ```no_run
    /// # async fn demo(store: quickassist_webhooks_postgres::PostgresStore) -> Result<(), quickassist_webhooks_postgres::Error> {
    /// store.migrate().await?;
    /// # Ok(()) }
    /// ```
    pub async fn migrate(&self) -> Result<(), Error> {
        migrate(&self.pool).await
    }

    /// Deletes claims whose lease or done-TTL has ended; returns how many.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the delete fails.
    ///
    /// ```no_run
    /// # async fn demo(store: quickassist_webhooks_postgres::PostgresStore) -> Result<(), quickassist_webhooks_postgres::Error> {
    /// let deleted = store.purge_expired().await?;
    /// # let _ = deleted;
    /// # Ok(()) }
    /// ```
    pub async fn purge_expired(&self) -> Result<u64, Error> {
        let deleted = sqlx::query(
            "DELETE FROM quickassist_webhook_claims WHERE expires_at <= clock_timestamp()",
        )
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(deleted)
    }

    async fn bounded<T>(
        &self,
        operation: impl std::future::Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, operation).await {
            Ok(result) => result.map_err(StoreError::new),
            Err(_) => Err(StoreError::timeout(self.timeout)),
        }
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn token_bytes(token: ClaimToken) -> [u8; 16] {
    token.get().to_be_bytes()
}

impl IdempotencyStore for PostgresStore {
    fn claim<'a>(&'a self, key: &'a IdempotencyKey, lease: Duration) -> StoreFuture<'a, Claim> {
        Box::pin(async move {
            let token = ClaimToken::random();
            let (new, done): (bool, Option<bool>) = self
                .bounded(
                    sqlx::query_as(CLAIM)
                        .bind(&key.as_bytes()[..])
                        .bind(&token_bytes(token)[..])
                        .bind(millis(lease))
                        .fetch_one(&self.pool),
                )
                .await?;
            Ok(match (new, done) {
                (true, _) => Claim::New(token),
                (false, Some(true)) => Claim::Done,
                // Held by another token, or claimed by a concurrent statement this one's
                // snapshot cannot see yet: in flight either way.
                (false, _) => Claim::InFlight,
            })
        })
    }

    fn complete<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        token: ClaimToken,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let done = self
                .bounded(
                    sqlx::query(COMPLETE)
                        .bind(&key.as_bytes()[..])
                        .bind(&token_bytes(token)[..])
                        .bind(millis(ttl))
                        .execute(&self.pool),
                )
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn release<'a>(&'a self, key: &'a IdempotencyKey, token: ClaimToken) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let released = self
                .bounded(
                    sqlx::query(RELEASE)
                        .bind(&key.as_bytes()[..])
                        .bind(&token_bytes(token)[..])
                        .execute(&self.pool),
                )
                .await?;
            Ok(released.rows_affected() == 1)
        })
    }
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("database", &self.shown)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}
