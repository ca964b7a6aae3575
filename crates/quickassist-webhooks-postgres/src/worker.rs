//! [`Worker`]: processes stored deliveries with the application's [`Handler`].

use std::{fmt, future::Future, sync::Arc, time::Duration};

use sqlx::{postgres::PgListener, PgPool};
use tokio::{sync::watch, task::JoinSet};

use crate::{
    batch::{process_batch, CommitMode},
    claim::{Claimer, Policy},
    inbox::CHANNEL,
    observe::LagSampler,
    Error, Handler, Inbox,
};

/// Deliveries one task claims at a time by default ([`Worker::batch_size`]).
pub const DEFAULT_BATCH_SIZE: usize = 16;
/// Attempts before a delivery is dead by default ([`Worker::max_attempts`]).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;
/// The first retry's delay by default (it doubles per attempt, with jitter).
pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_secs(1);
/// The longest delay between attempts by default.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(3600);
/// How often an idle worker looks for due deliveries when no notification came (a lost
/// `LISTEN` connection, retries coming due) by default.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How long a handler may run by default before its attempt counts as failed: 60 seconds.
///
/// ```
/// assert_eq!(quickassist_webhooks_postgres::DEFAULT_HANDLER_TIMEOUT.as_secs(), 60);
/// ```
pub const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) const NEXT_DUE: &str = "SELECT min(next_attempt_at) - now() > interval '0' AS later, \
     extract(epoch FROM min(next_attempt_at) - now())::float8 AS seconds \
     FROM quickassist_webhook_inbox WHERE status = 'pending'";

/// Processes the deliveries of an [`Inbox`]: claims due rows in batches with
/// `FOR UPDATE SKIP LOCKED`, parses each into an [`Envelope`](quickassist_webhooks::Envelope)
/// and runs the [`Handler`] in a savepoint of the batch's transaction, which also marks the
/// processed rows and commits once: the handlers' writes and the marks together.
///
/// - New rows are picked up within milliseconds (`LISTEN`/`NOTIFY`), with polling every
///   [`poll_interval`](Self::poll_interval) as the fallback.
/// - A failing (or panicking, or [timed-out](Self::handler_timeout)) handler: its writes roll back, `attempts + 1`, and the next
///   attempt comes after an exponential backoff with jitter; after
///   [`max_attempts`](Self::max_attempts) the row is `dead`
///   ([`Inbox::retry`] brings it back).
/// - A worker that dies mid-batch holds its rows only in its open transaction: PostgreSQL
///   rolls it back and the rows are claimed again. Any number of workers, in any number of
///   processes, share one table.
/// - [`ordered`](Self::ordered): deliveries with the same ordering key (default: the
///   message id) are handled in signed order.
/// - [`fair`](Self::fair) (the default): each batch is shared among the accounts with due
///   deliveries, so one account's flood does not hold back the others.
///
/// # What runs exactly once, and what at least once
///
/// A delivery's mark as processed and every write its handler made through the transaction
/// it was given are committed together, or not at all: once per batch, after its last
/// handler (the default), or once per delivery ([`commit_mode`](Self::commit_mode)). So:
///
/// - **Writes through the handler's transaction happen exactly once.** If the worker, its
///   process or the database stops before the commit, the transaction rolls back and its
///   rows are claimed again; the handlers' writes rolled back with it.
/// - **Effects outside that transaction happen at least once**: an HTTP call, a message to
///   another system, a line on stdout. A crash (or a lost connection) between such an
///   effect and the commit runs the handler again for every delivery of the transaction:
///   with per-batch commits, the whole batch, including those whose handler had finished;
///   with [`CommitMode::PerDelivery`], only the delivery whose handler was running. Make
///   them idempotent with the delivery's
///   `webhookId` (the envelope's `webhook_id`; with many accounts, the account and it): send
///   it as the other system's idempotency key, or record it in a table of your own through
///   the handler's transaction before acting and skip it when it is already there.
/// - With per-batch commits, a slow handler delays the commit of its batch-mates (up to
///   [`handler_timeout`](Self::handler_timeout), 60 s by default): they are processed, but
///   not visible as processed, until it returns. With [`CommitMode::PerDelivery`] it
///   delays no other delivery: each is claimed and committed on its own, when its own
///   handler returns, and the worker's other tasks go on with the rest. Choose it for handlers that
///   call other services or can be slow; keep per-batch commits for handlers that only
///   write to the database, where a commit per batch is cheaper.
///
/// ```no_run
/// use quickassist_webhooks_postgres::{handler_fn, Inbox, Worker};
///
/// # async fn demo(inbox: Inbox) {
/// let worker = Worker::new(inbox, handler_fn(|delivery, tx| {
///     Box::pin(async move {
///         sqlx::query("INSERT INTO events (webhook_id) VALUES ($1)")
///             .bind(&delivery.envelope.webhook_id)
///             .execute(&mut **tx)
///             .await?;
///         Ok(())
///     })
/// }))
/// .tasks(4)
/// .ordered(true);
/// let running = worker.spawn();
/// // … on shutdown: finishes the batches in hand, then returns.
/// running.shutdown().await;
/// # }
/// ```
pub struct Worker<H> {
    inbox: Inbox,
    handler: Arc<H>,
    config: Config,
    claimer: Arc<Claimer>,
}

/// A worker's settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Config {
    pub(crate) tasks: usize,
    /// What each batch claims: its size, fairness, ordering, per-account limit.
    pub(crate) claim: Policy,
    pub(crate) max_attempts: u32,
    pub(crate) backoff_base: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) handler_timeout: Duration,
    /// Feature `metrics`: a lag gauge per account besides the total.
    pub(crate) lag_per_account: bool,
    pub(crate) commit: CommitMode,
}

impl<H: Handler> Worker<H> {
    /// A worker of `inbox` running `handler`, with one task and the defaults
    /// ([`DEFAULT_BATCH_SIZE`], [`DEFAULT_MAX_ATTEMPTS`], [`DEFAULT_BACKOFF_BASE`],
    /// [`DEFAULT_BACKOFF_MAX`], [`DEFAULT_POLL_INTERVAL`], [`DEFAULT_HANDLER_TIMEOUT`],
    /// unordered).
    pub fn new(inbox: Inbox, handler: H) -> Self {
        Self {
            inbox,
            handler: Arc::new(handler),
            config: Config {
                tasks: 1,
                claim: Policy {
                    batch_size: DEFAULT_BATCH_SIZE,
                    fair: true,
                    ordered: false,
                    in_progress_per_account: None,
                },
                max_attempts: DEFAULT_MAX_ATTEMPTS,
                backoff_base: DEFAULT_BACKOFF_BASE,
                backoff_max: DEFAULT_BACKOFF_MAX,
                poll_interval: DEFAULT_POLL_INTERVAL,
                handler_timeout: DEFAULT_HANDLER_TIMEOUT,
                lag_per_account: false,
                commit: CommitMode::PerBatch,
            },
            claimer: Arc::default(),
        }
    }

    /// Concurrent tasks, each claiming and processing its own batches (at least 1).
    #[must_use]
    pub fn tasks(mut self, tasks: usize) -> Self {
        self.config.tasks = tasks.max(1);
        self
    }

    /// Deliveries claimed per batch (at least 1). With per-batch commits (the default
    /// [`commit_mode`](Self::commit_mode)), a batch commits once, at its end: its processed
    /// rows (and their handlers' writes) become visible together, and a failed commit runs
    /// them all again. With slow handlers (calls to other services), prefer
    /// [`CommitMode::PerDelivery`].
    #[must_use]
    pub fn batch_size(mut self, size: usize) -> Self {
        self.config.claim.batch_size = size.max(1);
        self
    }

    /// Attempts before a delivery is marked `dead` (at least 1).
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.config.max_attempts = attempts.max(1);
        self
    }

    /// The delay before the second attempt (`base`, doubling per attempt) and the longest
    /// delay (`max`). Each delay is drawn between half and all of its value (jitter).
    #[must_use]
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.config.backoff_base = base;
        self.config.backoff_max = max.max(base);
        self
    }

    /// How often an idle worker looks for due deliveries without a notification.
    #[must_use]
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.config.poll_interval = interval;
        self
    }

    /// How long one handler call may run (default [`DEFAULT_HANDLER_TIMEOUT`]). Past it the
    /// call is dropped, its writes roll back and the attempt counts as failed (`last_error`
    /// says it timed out), so a hung handler cannot hold its batch, its rows and a
    /// connection forever, nor stall a graceful shutdown.
    ///
    /// Each statement of the batch's transaction is bounded by the same time
    /// (`SET LOCAL statement_timeout`), so a query left running by a timed-out handler
    /// is cancelled by the server rather than holding the rollback.
    ///
    /// ```no_run
    /// # fn demo(worker: quickassist_webhooks_postgres::Worker<impl quickassist_webhooks_postgres::Handler>) {
    /// use std::time::Duration;
    /// let worker = worker.handler_timeout(Duration::from_secs(10));
    /// # let _ = worker; }
    /// ```
    #[must_use]
    pub fn handler_timeout(mut self, timeout: Duration) -> Self {
        self.config.handler_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Handles deliveries with the same ordering key one at a time, in the order they were
    /// signed (see [`Inbox::ordering_key`]).
    #[must_use]
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.config.claim.ordered = ordered;
        self
    }

    /// Shares each batch among the accounts that have due deliveries (default `true`), so
    /// that one account's flood does not hold back the others: up to `batch_size`
    /// accounts per batch, round robin, each given `batch_size / accounts` of it (at least
    /// one), oldest due first. With one account (or a receiver of one secret) batches are
    /// whole and first due first; a worker that found only one account with due deliveries
    /// looks for others again after 100 ms at the latest, so another account's new
    /// delivery waits at most that long for its share. `false`: every batch takes the rows
    /// due first, whoever sent them.
    ///
    /// ```no_run
    /// # fn demo(worker: quickassist_webhooks_postgres::Worker<impl quickassist_webhooks_postgres::Handler>) {
    /// let first_in_first_out = worker.fair(false);
    /// # let _ = first_in_first_out; }
    /// ```
    #[must_use]
    pub fn fair(mut self, fair: bool) -> Self {
        self.config.claim.fair = fair;
        self
    }

    /// With [`fair`](Self::fair) claiming: at most `limit` deliveries of one account in
    /// progress at once, across all the workers and tasks on the table (at least 1; default
    /// no limit). An account whose handler is slow then holds at most `limit` of them, and
    /// the workers' other capacity goes to the other accounts.
    ///
    /// Each slot is a transaction-level advisory lock held for the batch that claimed it,
    /// so a delivery counts as in progress until its batch commits. With a limit, a batch
    /// serves one account (the next in the round robin with a free slot), so that no batch
    /// mixes an account whose handler hangs with others that would wait for its commit;
    /// use several [`tasks`](Self::tasks) to serve several accounts at once.
    ///
    /// ```no_run
    /// # fn demo(worker: quickassist_webhooks_postgres::Worker<impl quickassist_webhooks_postgres::Handler>) {
    /// let worker = worker.tasks(8).max_in_progress_per_account(2);
    /// # let _ = worker; }
    /// ```
    #[must_use]
    pub fn max_in_progress_per_account(mut self, limit: u32) -> Self {
        self.config.claim.in_progress_per_account = Some(limit.max(1));
        self
    }

    /// When the handlers' work is committed: once per batch (the default), or once per
    /// delivery, so that a slow handler never delays the commit of other deliveries (see
    /// [`CommitMode`]). With [`CommitMode::PerDelivery`], run several [`tasks`](Self::tasks):
    /// while one waits for a slow handler, the others go on.
    ///
    /// ```no_run
    /// # fn demo(worker: quickassist_webhooks_postgres::Worker<impl quickassist_webhooks_postgres::Handler>) {
    /// use quickassist_webhooks_postgres::CommitMode;
    /// let worker = worker.tasks(4).commit_mode(CommitMode::PerDelivery);
    /// # let _ = worker; }
    /// ```
    #[must_use]
    pub fn commit_mode(mut self, mode: CommitMode) -> Self {
        self.config.commit = mode;
        self
    }

    /// Feature `metrics`: besides the total, one [`INBOX_OLDEST_DUE_SECONDS`] gauge per
    /// account with due deliveries, labelled `account` (default `false`: accounts can be
    /// many, and each is a time series). An account that catches up is set to 0. Each
    /// sample then also counts the due deliveries by account ([`Inbox::lag`]), a scan of
    /// the due rows every [`LAG_SAMPLE_INTERVAL`].
    ///
    /// [`INBOX_OLDEST_DUE_SECONDS`]: crate::INBOX_OLDEST_DUE_SECONDS
    /// [`LAG_SAMPLE_INTERVAL`]: crate::LAG_SAMPLE_INTERVAL
    ///
    /// ```no_run
    /// # fn demo(worker: quickassist_webhooks_postgres::Worker<impl quickassist_webhooks_postgres::Handler>) {
    /// let worker = worker.lag_per_account(true);
    /// # let _ = worker; }
    /// ```
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    #[must_use]
    pub fn lag_per_account(mut self, per_account: bool) -> Self {
        self.config.lag_per_account = per_account;
        self
    }

    /// Claims one batch of due deliveries and processes it; returns how many were claimed
    /// (0 when none is due). What each task does in a loop; useful in tests and one-shot
    /// jobs.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the batch could not be claimed or committed (its rows are
    /// then claimed again later; the handler's writes rolled back with the batch).
    ///
    /// ```no_run
    /// # async fn demo(worker: quickassist_webhooks_postgres::Worker<impl quickassist_webhooks_postgres::Handler>) -> Result<(), quickassist_webhooks_postgres::Error> {
    /// while worker.process_batch().await? > 0 {}
    /// # Ok(()) }
    /// ```
    pub async fn process_batch(&self) -> Result<usize, Error> {
        process_batch(
            self.inbox.pool(),
            self.handler.as_ref(),
            &self.config,
            &self.claimer,
        )
        .await
    }

    /// Starts the worker's tasks (and its `LISTEN` connection) on the current tokio
    /// runtime; [`RunningWorker::shutdown`] stops them.
    #[must_use = "dropping the handle lets the worker run until the runtime stops"]
    pub fn spawn(self) -> RunningWorker {
        let (stop, stopped) = watch::channel(false);
        let wake = Arc::new(tokio::sync::Notify::new());
        let mut tasks = JoinSet::new();
        tasks.spawn(listen(
            self.inbox.pool().clone(),
            Arc::clone(&wake),
            stopped.clone(),
        ));
        for task in 0..self.config.tasks {
            // The first task samples the lag gauge (feature `metrics`).
            let sampler = (task == 0).then(|| LagSampler::new(self.config.lag_per_account));
            tasks.spawn(run_task(
                self.inbox.clone(),
                sampler,
                Arc::clone(&self.handler),
                self.config,
                Arc::clone(&self.claimer),
                Arc::clone(&wake),
                stopped.clone(),
            ));
        }
        tracing::info!(tasks = self.config.tasks, "webhook inbox worker started");
        RunningWorker { stop, tasks }
    }

    /// Runs the worker until `signal` completes, then shuts it down gracefully.
    ///
    /// ```no_run
    /// # async fn demo(worker: quickassist_webhooks_postgres::Worker<impl quickassist_webhooks_postgres::Handler>, shutdown_signal: impl std::future::Future<Output = ()>) {
    /// worker.run_until(shutdown_signal).await; // Ctrl-C, SIGTERM…
    /// # }
    /// ```
    pub async fn run_until(self, signal: impl Future<Output = ()>) {
        let running = self.spawn();
        signal.await;
        running.shutdown().await;
    }
}

impl<H> fmt::Debug for Worker<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("inbox", &self.inbox)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A running [`Worker`]; [`shutdown`](Self::shutdown) stops it gracefully.
///
/// ```no_run
/// use quickassist_webhooks_postgres::{handler_fn, Inbox, Worker};
///
/// # async fn demo(inbox: Inbox, shutdown_signal: impl std::future::Future<Output = ()>) {
/// let running = Worker::new(inbox, handler_fn(|_, _| Box::pin(async { Ok(()) }))).spawn();
/// shutdown_signal.await; // Ctrl-C, SIGTERM…
/// running.shutdown().await; // the batches in hand finish and commit
/// # }
/// ```
#[derive(Debug)]
pub struct RunningWorker {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl RunningWorker {
    /// Stops claiming, lets every task finish (and commit) the batch it holds, and waits
    /// for the tasks to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
        tracing::info!("webhook inbox worker stopped");
    }
}

/// `LISTEN`s for new deliveries and wakes idle tasks; reconnects after a lost connection
/// (the tasks poll meanwhile).
async fn listen(pool: PgPool, wake: Arc<tokio::sync::Notify>, mut stopped: watch::Receiver<bool>) {
    while !*stopped.borrow() {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::debug!(%error, "cannot LISTEN for deliveries; polling");
                let _ = tokio::time::timeout(Duration::from_secs(1), stopped.changed()).await;
                continue;
            }
        };
        if let Err(error) = listener.listen(CHANNEL).await {
            tracing::debug!(%error, "cannot LISTEN for deliveries; polling");
            let _ = tokio::time::timeout(Duration::from_secs(1), stopped.changed()).await;
            continue;
        }
        // A reconnection may have missed notifications: wake everyone once.
        wake.notify_waiters();
        loop {
            tokio::select! {
                notification = listener.try_recv() => match notification {
                    Ok(Some(_)) => wake.notify_waiters(),
                    // The connection was lost (and will be re-established by try_recv);
                    // rows may have arrived meanwhile.
                    Ok(None) => wake.notify_waiters(),
                    Err(error) => {
                        tracing::debug!(%error, "LISTEN connection failed; reconnecting");
                        break;
                    }
                },
                _ = stopped.changed() => return,
            }
        }
    }
}

async fn run_task<H: Handler>(
    inbox: Inbox,
    mut sampler: Option<LagSampler>,
    handler: Arc<H>,
    config: Config,
    claimer: Arc<Claimer>,
    wake: Arc<tokio::sync::Notify>,
    mut stopped: watch::Receiver<bool>,
) {
    let pool = inbox.pool();
    while !*stopped.borrow() {
        if let Some(sampler) = &mut sampler {
            sampler.sample_if_due(&inbox).await;
        }
        // Registered before looking, so a notification that arrives meanwhile is not lost.
        let notified = wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let pause = match process_batch(pool, handler.as_ref(), &config, &claimer).await {
            Ok(0) => next_due(pool)
                .await
                .map_or(config.poll_interval, |due| due.min(config.poll_interval)),
            Ok(_) => continue,
            Err(error) => {
                tracing::warn!(%error, "could not process a batch of webhook deliveries");
                config.poll_interval
            }
        };
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep(pause) => {}
            _ = stopped.changed() => {}
        }
    }
}

/// How long until the next pending delivery is due (`None`: none pending, or unknown).
async fn next_due(pool: &PgPool) -> Option<Duration> {
    let (later, seconds): (Option<bool>, Option<f64>) =
        sqlx::query_as(NEXT_DUE).fetch_one(pool).await.ok()?;
    match (later?, seconds?) {
        (true, seconds) => Duration::try_from_secs_f64(seconds).ok(),
        (false, _) => Some(Duration::ZERO),
    }
}
