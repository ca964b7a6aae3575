//! [`Handler`]: what a [`Worker`](crate::Worker) runs for each stored delivery.

use std::{error::Error, future::Future, pin::Pin};

use quickassist_webhooks::{Envelope, Event};
use sqlx::{Postgres, Transaction};

/// The error a handler fails with: anything, shown (without the body) as the row's
/// `last_error`.
pub type HandlerError = Box<dyn Error + Send + Sync>;

/// The boxed future a [`Handler`] returns.
pub type HandlerFuture<'t> = Pin<Box<dyn Future<Output = Result<(), HandlerError>> + Send + 't>>;

/// Processes one stored delivery inside the transaction that marks it processed.
///
/// The handler's writes through `tx` and the "processed" mark commit together or not at
/// all: exactly-once effects. Returning `Err` (or panicking) rolls the handler's writes
/// back and schedules another attempt.
///
/// Implemented for closures returning a boxed future:
///
/// ```
/// use quickassist_webhooks_postgres::{Handler, HandlerFuture};
///
/// fn handler() -> impl Handler {
///     |envelope: quickassist_webhooks::Envelope, tx: &mut sqlx::Transaction<'_, sqlx::Postgres>| -> HandlerFuture<'_> {
///         Box::pin(async move {
///             sqlx::query("INSERT INTO seen (webhook_id) VALUES ($1)")
///                 .bind(&envelope.webhook_id)
///                 .execute(&mut **tx)
///                 .await?;
///             Ok(())
///         })
///     }
/// }
/// # let _ = handler();
/// ```
pub trait Handler: Send + Sync + 'static {
    /// Handles `envelope`, writing through `tx`.
    ///
    /// # Errors
    ///
    /// Any error: the delivery is attempted again later (or marked dead after the
    /// worker's maximum attempts).
    fn handle<'t>(
        &'t self,
        envelope: Envelope<Event>,
        tx: &'t mut Transaction<'_, Postgres>,
    ) -> HandlerFuture<'t>;
}

impl<F> Handler for F
where
    F: for<'t, 'c> Fn(Envelope<Event>, &'t mut Transaction<'c, Postgres>) -> HandlerFuture<'t>
        + Send
        + Sync
        + 'static,
{
    fn handle<'t>(
        &'t self,
        envelope: Envelope<Event>,
        tx: &'t mut Transaction<'_, Postgres>,
    ) -> HandlerFuture<'t> {
        self(envelope, tx)
    }
}
