//! [`Inbox`]: the table of verified deliveries, and the [`Intake`] that fills it.

use std::{fmt, sync::Arc, time::Duration};

use quickassist_webhooks::{
    receive::{Delivery, Intake, IntakeError, IntakeFuture, Stored},
    Envelope, Event, SignedForm,
};
use sqlx::{postgres::PgPoolOptions, PgPool};

use crate::{
    intake::{Batcher, Row},
    migrate::{apply, migrate},
    redact_url, Error,
};

/// Connections [`Inbox::connect`] keeps open at most.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 32;

/// How long [`Inbox::connect`]'s pool waits for a connection before the delivery is
/// answered 503: 2 seconds, well inside the provider's patience.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// The `NOTIFY` channel new deliveries are announced on (by the [`Inbox`] that stored them,
/// and by [`Inbox::retry`] and [`Inbox::replay`]).
///
/// ```
/// assert_eq!(quickassist_webhooks_postgres::CHANNEL, "quickassist_webhook_inbox");
/// ```
pub const CHANNEL: &str = "quickassist_webhook_inbox";

type KeyFn = dyn Fn(&Envelope<Event>) -> Option<String> + Send + Sync;

/// The durable inbox on PostgreSQL: an [`Intake`] that stores each verified delivery with
/// an `INSERT … ON CONFLICT (account, webhook_id) DO NOTHING`, and the handle workers and
/// operations run on.
///
/// Deliveries that arrive together share one such statement and its commit (group
/// commit, without a timer: a lone delivery is written at once), and each is answered when
/// the commit holding its row is durable.
///
/// Give it to
/// [`ReceiverBuilder::build_intake`](quickassist_webhooks::receive::ReceiverBuilder::build_intake):
/// the [`IntakeReceiver`](quickassist_webhooks::receive::IntakeReceiver) answers `200 {"status":"accepted"}` once the row is committed, a copy
/// already stored 200 with `x-webhook-duplicate: true`, and 503 when the database cannot
/// be reached (the provider retries; nothing is lost). A [`Worker`](crate::Worker)
/// processes the rows.
///
/// `Clone` is cheap (a pool handle). `Debug` shows the database without its password.
///
/// ```no_run
/// use quickassist_webhooks::{receive::Receiver, Verifier};
/// use quickassist_webhooks_postgres::Inbox;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let inbox = Inbox::connect(&std::env::var("DATABASE_URL")?).await?;
/// inbox.migrate().await?;
/// let intake = Receiver::builder(Verifier::new("whsec_example")).build_intake(inbox.clone())?;
/// assert!(intake.receiver().deduplicator().is_none());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Inbox {
    pool: PgPool,
    key: Arc<KeyFn>,
    shown: Arc<str>,
    batcher: Arc<Batcher>,
}

impl Inbox {
    /// Connects a pool of at most [`DEFAULT_MAX_CONNECTIONS`] to `url`, waiting at most
    /// [`DEFAULT_ACQUIRE_TIMEOUT`] for a connection. For other settings build a pool
    /// yourself and use [`from_pool`](Self::from_pool).
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the URL is invalid or the database cannot be reached.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), quickassist_webhooks_postgres::Error> {
    /// let inbox = quickassist_webhooks_postgres::Inbox::connect("postgres://app@localhost/shop").await?;
    /// # let _ = inbox;
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let pool = PgPoolOptions::new()
            .max_connections(DEFAULT_MAX_CONNECTIONS)
            .acquire_timeout(DEFAULT_ACQUIRE_TIMEOUT)
            .connect(url)
            .await?;
        Ok(Self::from_pool(pool).shown_as(redact_url(url)))
    }

    /// An inbox on an existing pool (the application's own, typically).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = sqlx::PgPool::connect(&std::env::var("DATABASE_URL")?).await?;
    /// let inbox = quickassist_webhooks_postgres::Inbox::from_pool(pool);
    /// # let _ = inbox;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            batcher: Arc::new(Batcher::new(pool.clone())),
            pool,
            key: Arc::new(default_key),
            shown: Arc::from("PgPool"),
        }
    }

    fn shown_as(mut self, shown: String) -> Self {
        self.shown = Arc::from(shown);
        self
    }

    /// The key deliveries are ordered by, computed when they are stored (default: the
    /// event's `data.messageId`, so one message's events are handled in signed order by
    /// [ordered](crate::Worker::ordered) workers; `template:<templateId>` for a template's
    /// status updates). `None` means "no ordering constraint".
    ///
    /// ```
    /// # async fn demo(pool: sqlx::PgPool) {
    /// use quickassist_webhooks_postgres::Inbox;
    ///
    /// // Order by recipient instead of message.
    /// let inbox = Inbox::from_pool(pool).ordering_key(|envelope| {
    ///     envelope.extra.get("recipient").and_then(|v| v.as_str()).map(str::to_owned)
    /// });
    /// # let _ = inbox; }
    /// ```
    #[must_use]
    pub fn ordering_key(
        mut self,
        key: impl Fn(&Envelope<Event>) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.key = Arc::new(key);
        self
    }

    /// The pool the inbox uses.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies the embedded migrations (the inbox and claims tables) that are not applied
    /// yet. Safe to call from every process at start: concurrent runs take turns through an
    /// advisory lock of their own (the migrations that add indexes to the inbox build them
    /// with `CREATE INDEX CONCURRENTLY`, without stopping the intake of a populated inbox,
    /// and such a build would wait forever for a process blocked in `sqlx`'s usual lock).
    ///
    /// The migrations are recorded in `sqlx`'s `_sqlx_migrations` table with versions
    /// `20261129000001` and up. An application that runs its own `sqlx` migrations on the
    /// same database should let its migrator ignore these (`set_ignore_missing(true)`),
    /// as this one ignores the application's.
    ///
    /// # Errors
    ///
    /// [`Error::Migrate`] when a migration fails or the database cannot be reached.
    ///
    /// ```no_run
    /// # async fn demo(inbox: quickassist_webhooks_postgres::Inbox) -> Result<(), quickassist_webhooks_postgres::Error> {
    /// inbox.migrate().await?;
    /// # Ok(()) }
    /// ```
    pub async fn migrate(&self) -> Result<(), Error> {
        migrate(&self.pool).await
    }

    /// Applies `migrator`'s migrations that are not applied yet, in turn with every other
    /// process migrating this database through an `Inbox` (the same advisory lock as
    /// [`migrate`](Self::migrate)): for crates that add to the inbox's schema what only
    /// their users need, such as the console's indexes. Migrations already applied that
    /// `migrator` does not know (the inbox's, the application's) are ignored.
    ///
    /// # Errors
    ///
    /// [`Error::Migrate`] when a migration fails; [`Error::Database`] when the database
    /// cannot be reached.
    ///
    /// ```no_run
    /// # async fn demo(inbox: quickassist_webhooks_postgres::Inbox) -> Result<(), quickassist_webhooks_postgres::Error> {
    /// inbox.migrate().await?;
    /// inbox.apply_migrations(sqlx::migrate!("./migrations")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn apply_migrations(&self, migrator: sqlx::migrate::Migrator) -> Result<(), Error> {
        apply(&self.pool, migrator).await
    }

    /// Stores `delivery`: what [`Intake::store`] does, as an inherent method.
    ///
    /// Deliveries stored at the same time share one `INSERT … ON CONFLICT DO NOTHING`
    /// statement and its commit (group commit); each call returns once the statement that
    /// holds its row has committed. Must be called within a tokio runtime (the writer runs
    /// as a task on it).
    ///
    /// # Errors
    ///
    /// [`Error::Intake`] when the row cannot be written (nothing of its statement was);
    /// [`Error::WriterStopped`] outside a tokio runtime.
    ///
    /// ```no_run
    /// # async fn demo(inbox: quickassist_webhooks_postgres::Inbox, delivery: quickassist_webhooks::receive::Delivery) -> Result<(), quickassist_webhooks_postgres::Error> {
    /// use quickassist_webhooks::receive::Stored;
    /// assert_eq!(inbox.insert(&delivery).await?, Stored::New);
    /// # Ok(()) }
    /// ```
    pub async fn insert(&self, delivery: &Delivery) -> Result<Stored, Error> {
        let envelope = &delivery.envelope;
        let signed_form = match delivery.verification.form {
            SignedForm::Raw => "raw",
            SignedForm::Canonical => "canonical",
        };
        self.batcher
            .insert(Row {
                account: delivery
                    .account
                    .as_ref()
                    .map_or_else(String::new, |account| account.as_str().to_owned()),
                webhook_id: envelope.webhook_id.clone(),
                event: envelope.event.name().to_owned(),
                body: delivery.body.clone(),
                signed_form,
                signed_at: envelope.timestamp,
                ordering_key: (self.key)(envelope),
            })
            .await
    }
}

impl Intake for Inbox {
    fn store<'a>(&'a self, delivery: &'a Delivery) -> IntakeFuture<'a> {
        Box::pin(async move { self.insert(delivery).await.map_err(IntakeError::new) })
    }
}

impl fmt::Debug for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("database", &self.shown)
            .finish_non_exhaustive()
    }
}

/// The default ordering key: the message id of message events (`data.messageId`), and
/// `template:<templateId>` (or `template:<name>` when no id is reported) for template
/// events, so that ordered workers handle one subject's status events one at a time.
fn default_key(envelope: &Envelope<Event>) -> Option<String> {
    match &envelope.event {
        Event::MessageDelivered(event) => Some(event.message_id.clone()),
        Event::MessageRead(event) => Some(event.message_id.clone()),
        Event::MessageFailed(event) => Some(event.message_id.clone()),
        Event::Unknown { data, .. } => data
            .get("messageId")
            .and_then(|id| id.as_str())
            .map(str::to_owned),
        event => event
            .template_id()
            .or(event.template_name())
            .map(|template| format!("template:{template}")),
    }
}

/// `NOTIFY` [`CHANNEL`] in a transaction that does not wait for its commit to be flushed (a
/// lost notification only delays a pick-up until the next poll).
pub(crate) async fn notify(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(CHANNEL)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}
