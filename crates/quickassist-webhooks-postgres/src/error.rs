//! [`Error`]: what can go wrong talking to PostgreSQL.

/// An error of the inbox, its workers or its operations.
///
/// Its `Display` never shows a password: connection errors come from `sqlx`, which does not
/// include the URL, and URLs this crate shows go through [`redact_url`](crate::redact_url).
///
/// ```
/// use quickassist_webhooks_postgres::Error;
///
/// let error = Error::from(sqlx::Error::PoolTimedOut);
/// assert!(matches!(error, Error::Database(_)));
/// assert!(error.to_string().starts_with("database error: "));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database refused or failed a query, or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database failed the statement that stored this delivery together with others
    /// that arrived at the same time (each of them gets this error).
    #[error("database error (storing a batch of deliveries together): {0}")]
    Intake(std::sync::Arc<sqlx::Error>),
    /// The inbox's writer task is not running: its runtime stopped, or the inbox was used
    /// outside a tokio runtime.
    #[error("the inbox's writer is not running (no tokio runtime)")]
    WriterStopped,
    /// Applying the embedded migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}
