//! [`Handler`]: what a [`Worker`](crate::Worker) runs for each stored delivery.

use std::{error::Error, future::Future, pin::Pin};

use sqlx::{Postgres, Transaction};

use crate::StoredDelivery;

/// The error a handler fails with: anything, shown (without the body) as the row's
/// `last_error`.
///
/// ```
/// let error: quickassist_webhooks_postgres::HandlerError = "the CRM is down".into();
/// assert_eq!(error.to_string(), "the CRM is down");
/// ```
pub type HandlerError = Box<dyn Error + Send + Sync>;

/// The boxed future a [`Handler`] returns: `Box::pin(async move { … Ok(()) })`.
///
/// ```
/// let done: quickassist_webhooks_postgres::HandlerFuture<'static> = Box::pin(async { Ok(()) });
/// # let _ = done;
/// ```
pub type HandlerFuture<'t> = Pin<Box<dyn Future<Output = Result<(), HandlerError>> + Send + 't>>;

/// Processes one stored delivery inside the transaction that marks it processed.
///
/// The handler's writes through `tx` and the "processed" mark commit together or not at
/// all: exactly-once effects. Returning `Err`, panicking or running past the worker's
/// [`handler_timeout`](crate::Worker::handler_timeout) rolls the handler's writes back and
/// schedules another attempt.
///
/// Implemented for functions and closures returning a [`HandlerFuture`]; a closure needs
/// [`handler_fn`] to get its signature (lifetimes) right:
///
/// ```
/// use quickassist_webhooks_postgres::{handler_fn, Handler, HandlerFuture, StoredDelivery};
/// use sqlx::{Postgres, Transaction};
///
/// fn record<'t>(delivery: StoredDelivery, tx: &'t mut Transaction<'_, Postgres>) -> HandlerFuture<'t> {
///     Box::pin(async move {
///         sqlx::query("INSERT INTO seen (webhook_id) VALUES ($1)")
///             .bind(&delivery.envelope.webhook_id)
///             .execute(&mut **tx)
///             .await?;
///         Ok(())
///     })
/// }
///
/// fn takes(_: impl Handler) {}
/// takes(record);
///
/// let table = String::from("seen");
/// takes(handler_fn(move |delivery, tx| {
///     let sql = format!("INSERT INTO {table} (webhook_id) VALUES ($1)");
///     Box::pin(async move {
///         sqlx::query(&sql).bind(&delivery.envelope.webhook_id).execute(&mut **tx).await?;
///         Ok(())
///     })
/// }));
/// ```
pub trait Handler: Send + Sync + 'static {
    /// Handles `delivery`, writing through `tx`.
    ///
    /// # Errors
    ///
    /// Any error: the delivery is attempted again later (or marked dead after the
    /// worker's maximum attempts).
    fn handle<'t>(
        &'t self,
        delivery: StoredDelivery,
        tx: &'t mut Transaction<'_, Postgres>,
    ) -> HandlerFuture<'t>;
}

impl<F> Handler for F
where
    F: for<'t, 'c> Fn(StoredDelivery, &'t mut Transaction<'c, Postgres>) -> HandlerFuture<'t>
        + Send
        + Sync
        + 'static,
{
    fn handle<'t>(
        &'t self,
        delivery: StoredDelivery,
        tx: &'t mut Transaction<'_, Postgres>,
    ) -> HandlerFuture<'t> {
        self(delivery, tx)
    }
}

/// Gives a closure the signature a [`Handler`] needs (the future borrows the transaction),
/// which Rust cannot infer through the trait: `handler_fn(|delivery, tx| Box::pin(async
/// move { … }))`. Returns the closure unchanged.
///
/// ```
/// use std::sync::{atomic::{AtomicUsize, Ordering}, Arc};
/// use quickassist_webhooks_postgres::{handler_fn, Handler};
///
/// let handled = Arc::new(AtomicUsize::new(0));
/// let counter = Arc::clone(&handled);
/// let handler = handler_fn(move |_delivery, _tx| {
///     counter.fetch_add(1, Ordering::Relaxed);
///     Box::pin(async { Ok(()) })
/// });
/// # fn takes(_: impl Handler) {}
/// takes(handler);
/// ```
pub fn handler_fn<F>(handler: F) -> F
where
    F: for<'t, 'c> Fn(StoredDelivery, &'t mut Transaction<'c, Postgres>) -> HandlerFuture<'t>
        + Send
        + Sync
        + 'static,
{
    handler
}
