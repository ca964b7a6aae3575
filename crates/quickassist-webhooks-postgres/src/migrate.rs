//! Applying the embedded migrations, from any number of processes at once.
//!
//! sqlx serialises migrators with `pg_advisory_lock`, a statement that waits for the lock
//! while holding a snapshot. Some migrations build their indexes with `CREATE INDEX
//! CONCURRENTLY` (so that upgrading a populated inbox does not stop its intake), and such a
//! build waits for every transaction holding an older snapshot: a second process waiting
//! in sqlx's lock and the first one building the index would wait for each other (PostgreSQL
//! reports a deadlock and fails one). So the processes take a lock of their own first, by
//! polling `pg_try_advisory_lock`, which returns at once and holds no snapshot while it
//! waits, and sqlx's own lock is turned off.

use std::time::Duration;

use sqlx::{migrate::Migrator, Connection, PgConnection, PgPool};

use crate::Error;

/// The advisory lock held while this crate's migrations run (`hashtext` of
/// `quickassist_webhook_inbox:migrate`, computed by the database).
const TRY_LOCK: &str = "SELECT pg_try_advisory_lock(hashtext('quickassist_webhook_inbox:migrate'))";
const UNLOCK: &str = "SELECT pg_advisory_unlock(hashtext('quickassist_webhook_inbox:migrate'))";

/// How often a process waiting for another's migrations asks for the lock again.
const POLL: Duration = Duration::from_millis(50);

/// Applies the embedded migrations that are not applied yet, ignoring the application's own,
/// one process at a time.
pub(crate) async fn migrate(pool: &PgPool) -> Result<(), Error> {
    apply(pool, sqlx::migrate!("./migrations")).await
}

/// Applies `migrator`'s migrations that are not applied yet, ignoring any others, one
/// process at a time (under the lock described in the module's docs).
pub(crate) async fn apply(pool: &PgPool, mut migrator: Migrator) -> Result<(), Error> {
    migrator.set_ignore_missing(true);
    // Serialised by the lock below (see the module's docs).
    migrator.set_locking(false);
    // A connection of its own, out of the pool: dropped (this future cancelled), it closes,
    // and the session's lock goes with it rather than staying with a pooled connection.
    let mut lock = pool.acquire().await?.detach();
    while !sqlx::query_scalar::<_, bool>(TRY_LOCK)
        .fetch_one(&mut lock)
        .await?
    {
        tokio::time::sleep(POLL).await;
    }
    let applied = migrator.run(pool).await;
    let unlocked = sqlx::query(UNLOCK).execute(&mut lock).await;
    close(lock).await;
    applied?;
    unlocked?;
    Ok(())
}

/// Closes the lock's connection (a failure to say goodbye changes nothing: the session ends
/// with the socket).
async fn close(connection: PgConnection) {
    if let Err(error) = connection.close().await {
        tracing::debug!(%error, "closing the migration lock's connection");
    }
}
