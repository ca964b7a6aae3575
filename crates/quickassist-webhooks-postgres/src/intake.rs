//! Group commit for the intake: deliveries that arrive together share one `INSERT` and one
//! commit, and each is answered once that commit is durable.
//!
//! A writer task takes whatever deliveries are waiting (at most [`MAX_BATCH`]) and stores
//! them with one statement; while it runs, new deliveries wait and form the next batch. Nothing waits on a timer: a lone delivery is written at
//! once, so batching costs it two task hand-offs; under load the statements, the commits
//! and their WAL flushes are shared. None is acknowledged before the commit that holds its
//! row. A statement that fails because the database is unreachable fails every delivery in
//! it (each is answered 503 and retried by the provider); one the database refuses for a
//! row's data is written again row by row, so that only the delivery at fault fails.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, PoisonError,
    },
    time::Duration,
};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use quickassist_webhooks::receive::Stored;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::{inbox::notify, Error};

/// Deliveries stored by one statement at most.
const MAX_BATCH: usize = 256;
// One statement at a time, measured against two and four at once (`bench/inbox.sh`, 2
// cores): the larger batches it forms cost the least per delivery, which gave the most
// deliveries per second and the lowest p99 at 8 and 64 clients, while a lone delivery still
// waits for at most one statement.
/// Deliveries waiting for the writer at most (then callers wait to hand theirs over).
const QUEUE: usize = 4 * MAX_BATCH;
/// How long an inbox waits to gather new deliveries into one announcement.
const ANNOUNCE_AFTER: Duration = Duration::from_millis(2);

pub(crate) const INSERT: &str = "INSERT INTO quickassist_webhook_inbox \
     (account, webhook_id, event, body, signed_form, signed_at, ordering_key) \
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::text[], \
                          $6::timestamptz[], $7::text[]) \
     ON CONFLICT (account, webhook_id) DO NOTHING \
     RETURNING account, webhook_id";

/// One delivery's row.
#[derive(Debug)]
pub(crate) struct Row {
    /// `''` for no account.
    pub(crate) account: String,
    pub(crate) webhook_id: String,
    pub(crate) event: String,
    pub(crate) body: Bytes,
    pub(crate) signed_form: &'static str,
    pub(crate) signed_at: DateTime<Utc>,
    pub(crate) ordering_key: Option<String>,
}

impl Row {
    fn key(&self) -> (&str, &str) {
        (&self.account, &self.webhook_id)
    }
}

#[derive(Debug)]
struct Pending {
    row: Row,
    reply: oneshot::Sender<Result<Stored, Error>>,
}

/// Hands rows to the writer task (started on first use, and again on the current runtime
/// should the runtime it ran on have stopped).
#[derive(Debug)]
pub(crate) struct Batcher {
    pool: PgPool,
    writer: Mutex<Option<mpsc::Sender<Pending>>>,
    /// Set while an announcement is scheduled and has not started.
    announcing: Arc<AtomicBool>,
}

impl Batcher {
    pub(crate) fn new(pool: PgPool) -> Self {
        Self {
            pool,
            writer: Mutex::new(None),
            announcing: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Stores `row` in the next batch; answers once that batch is committed.
    pub(crate) async fn insert(&self, row: Row) -> Result<Stored, Error> {
        let (reply, answer) = oneshot::channel();
        let mut pending = Pending { row, reply };
        // Twice at most: a writer whose runtime stopped (its channel closed) is replaced by
        // the next `writer()`, once.
        for _ in 0..2 {
            match self.writer()?.send(pending).await {
                Ok(()) => return answer.await.unwrap_or_else(|_| Err(Error::WriterStopped)),
                Err(mpsc::error::SendError(back)) => pending = back,
            }
        }
        Err(Error::WriterStopped)
    }

    fn writer(&self) -> Result<mpsc::Sender<Pending>, Error> {
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(writer) = writer.as_ref().filter(|writer| !writer.is_closed()) {
            return Ok(writer.clone());
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::WriterStopped)?;
        let (sender, receiver) = mpsc::channel(QUEUE);
        runtime.spawn(write(
            self.pool.clone(),
            receiver,
            Arc::clone(&self.announcing),
        ));
        *writer = Some(sender.clone());
        Ok(sender)
    }
}

/// The writer task: one statement at a time, each storing the rows that waited while the
/// previous one ran. Ends when every [`Batcher`] handle is gone.
async fn write(pool: PgPool, mut rows: mpsc::Receiver<Pending>, announcing: Arc<AtomicBool>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rows.recv_many(&mut batch, MAX_BATCH).await > 0 {
        if flush(&pool, std::mem::take(&mut batch)).await {
            announce(&pool, &announcing);
        }
    }
}

/// Stores `batch` with one statement and answers each delivery; true when rows were new.
///
/// Copies of one delivery in the batch are written once: the first is new if its row was
/// inserted, the others are already stored. When the database refuses the statement for
/// its data (a text field it cannot hold, say), each row is written alone, so that only
/// the delivery at fault is refused, not those that happened to share its statement.
async fn flush(pool: &PgPool, batch: Vec<Pending>) -> bool {
    let mut keys = HashSet::with_capacity(batch.len());
    let unique: Vec<&Row> = batch
        .iter()
        .map(|pending| &pending.row)
        .filter(|row| keys.insert(row.key()))
        .collect();
    let mut refused: HashMap<(String, String), Arc<sqlx::Error>> = HashMap::new();
    let inserted = match insert(pool, &unique).await {
        Ok(inserted) => inserted,
        Err(sqlx::Error::Database(_)) if unique.len() > 1 => {
            let mut inserted = HashSet::new();
            for row in &unique {
                match insert(pool, &[row]).await {
                    Ok(one) => inserted.extend(one),
                    Err(error) => {
                        let key = (row.account.clone(), row.webhook_id.clone());
                        refused.insert(key, Arc::new(error));
                    }
                }
            }
            inserted
        }
        Err(error) => {
            let error = Arc::new(error);
            for pending in batch {
                let _ = pending.reply.send(Err(Error::Intake(Arc::clone(&error))));
            }
            return false;
        }
    };
    drop((keys, unique));
    let any = !inserted.is_empty();
    let mut answered = HashSet::with_capacity(batch.len());
    for pending in batch {
        let key = (pending.row.account, pending.row.webhook_id);
        let answer = match refused.get(&key) {
            Some(error) => Err(Error::Intake(Arc::clone(error))),
            None if inserted.contains(&key) && answered.insert(key) => Ok(Stored::New),
            None => Ok(Stored::AlreadyStored),
        };
        let _ = pending.reply.send(answer);
    }
    any
}

/// One statement storing `rows`; answers the keys of the rows it inserted.
async fn insert(pool: &PgPool, rows: &[&Row]) -> Result<HashSet<(String, String)>, sqlx::Error> {
    let mut columns = Columns::default();
    for row in rows {
        columns.push(row);
    }
    let inserted: Vec<(String, String)> = sqlx::query_as(INSERT)
        .bind(columns.account)
        .bind(columns.webhook_id)
        .bind(columns.event)
        .bind(columns.body)
        .bind(columns.signed_form)
        .bind(columns.signed_at)
        .bind(columns.ordering_key)
        .fetch_all(pool)
        .await?;
    Ok(inserted.into_iter().collect())
}

/// A batch's rows as the statement's arrays (borrowing the bodies).
#[derive(Default)]
struct Columns<'a> {
    account: Vec<&'a str>,
    webhook_id: Vec<&'a str>,
    event: Vec<&'a str>,
    body: Vec<&'a [u8]>,
    signed_form: Vec<&'a str>,
    signed_at: Vec<DateTime<Utc>>,
    ordering_key: Vec<Option<&'a str>>,
}

impl<'a> Columns<'a> {
    fn push(&mut self, row: &'a Row) {
        self.account.push(&row.account);
        self.webhook_id.push(&row.webhook_id);
        self.event.push(&row.event);
        self.body.push(&row.body);
        self.signed_form.push(row.signed_form);
        self.signed_at.push(row.signed_at);
        self.ordering_key.push(row.ordering_key.as_deref());
    }
}

/// Wakes idle workers (`NOTIFY`) shortly after new deliveries committed.
///
/// Not in the INSERT's transaction: a transaction that notifies holds a database-wide
/// lock through its commit, which serialised the intake's commits (and their fsyncs:
/// no group commit) and cut throughput by three quarters at 8 clients. Instead one
/// spawned task per burst notifies, in its own asynchronous-commit transaction, off the
/// request path; every delivery that committed before the task clears the flag is
/// covered by its notification. If it fails, workers poll.
fn announce(pool: &PgPool, announcing: &Arc<AtomicBool>) {
    if announcing.swap(true, Ordering::AcqRel) {
        return;
    }
    let (pool, announcing) = (pool.clone(), Arc::clone(announcing));
    tokio::spawn(async move {
        tokio::time::sleep(ANNOUNCE_AFTER).await;
        announcing.store(false, Ordering::Release);
        if let Err(error) = notify(&pool).await {
            tracing::debug!(%error, "could not announce new deliveries; workers will poll");
        }
    });
}
