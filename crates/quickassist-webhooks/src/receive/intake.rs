//! [`Intake`]: the receiving mode where a verified delivery is stored and acknowledged, and
//! processed later from the store (a durable inbox), instead of calling the handler on the
//! request path.

use std::{error::Error, fmt, future::Future, pin::Pin, sync::Arc};

use super::Delivery;

/// What [`Intake::store`] did with a delivery.
///
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stored {
    /// The delivery was not known and is now stored durably: answered
    /// `200 {"status":"accepted"}` ([`Outcome::Accepted`](super::Outcome::Accepted)).
    New,
    /// A delivery with the same `webhookId` was already stored: answered 200 with
    /// `x-webhook-duplicate: true` ([`Outcome::Duplicate`](super::Outcome::Duplicate)).
    AlreadyStored,
}

/// An error from the intake's backend (database unreachable, timeout…): the delivery is
/// answered `503 {"error":"store_unavailable"}`, so the provider retries it.
///
/// Its `Display` says what failed without including the body, a URL's password or secrets.
#[derive(Debug, thiserror::Error)]
#[error("intake unavailable: {source}")]
pub struct IntakeError {
    #[source]
    source: Box<dyn Error + Send + Sync>,
}

impl IntakeError {
    /// Wraps a backend error.
    ///
    /// ```
    /// use quickassist_webhooks::receive::IntakeError;
    ///
    /// let error = IntakeError::new("connection refused");
    /// assert_eq!(error.to_string(), "intake unavailable: connection refused");
    /// ```
    pub fn new(source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self {
            source: source.into(),
        }
    }
}

/// The boxed future [`Intake::store`] returns (keeps [`Intake`] object-safe, as
/// [`StoreFuture`](crate::idempotency::StoreFuture) does for idempotency stores).
pub type IntakeFuture<'a> = Pin<Box<dyn Future<Output = Result<Stored, IntakeError>> + Send + 'a>>;

/// Where verified deliveries are stored durably before they are acknowledged.
///
/// An [`IntakeReceiver`](super::IntakeReceiver)
/// ([`ReceiverBuilder::build_intake`](super::ReceiverBuilder::build_intake)) verifies and
/// parses the request, stores the [`Delivery`] and answers by itself; there is no handler on
/// the request path and no deduplicator (the store's key, `webhookId`, de-duplicates):
///
/// | [`store`](Self::store) gives | answer |
/// |---|---|
/// | `Ok(Stored::New)` | `200 {"status":"accepted"}`, [`Outcome::Accepted`](super::Outcome::Accepted) |
/// | `Ok(Stored::AlreadyStored)` | `200 {"status":"duplicate"}` + `x-webhook-duplicate: true` |
/// | `Err(_)` | `503 {"error":"store_unavailable"}`: the provider retries |
///
/// Implementations must answer `Stored::New` only once the delivery is durable, and exactly
/// once per `webhookId` whatever the concurrency. `quickassist-webhooks-postgres` ships one
/// (`Inbox`) with workers that process the stored deliveries.
///
/// ```
/// use std::{collections::HashSet, sync::Mutex};
/// use quickassist_webhooks::receive::{Delivery, Intake, IntakeFuture, Receiver, Stored};
/// use quickassist_webhooks::Verifier;
///
/// /// Keeps the ids in memory (a real intake writes to a database).
/// #[derive(Debug, Default)]
/// struct Ids(Mutex<HashSet<String>>);
///
/// impl Intake for Ids {
///     fn store<'a>(&'a self, delivery: &'a Delivery) -> IntakeFuture<'a> {
///         Box::pin(async move {
///             let mut ids = self.0.lock().expect("not poisoned");
///             Ok(if ids.insert(delivery.envelope.webhook_id.clone()) {
///                 Stored::New
///             } else {
///                 Stored::AlreadyStored
///             })
///         })
///     }
/// }
///
/// let intake = Receiver::builder(Verifier::new("whsec_example")).build_intake(Ids::default())?;
/// assert!(intake.receiver().deduplicator().is_none());
/// # Ok::<_, quickassist_webhooks::idempotency::ConfigError>(())
/// ```
pub trait Intake: Send + Sync + fmt::Debug + 'static {
    /// Stores `delivery` durably, keyed by its `webhookId`.
    ///
    /// # Errors
    ///
    /// [`IntakeError`] when the backend cannot store it (answered 503).
    fn store<'a>(&'a self, delivery: &'a Delivery) -> IntakeFuture<'a>;
}

impl<I: Intake + ?Sized> Intake for Arc<I> {
    fn store<'a>(&'a self, delivery: &'a Delivery) -> IntakeFuture<'a> {
        (**self).store(delivery)
    }
}

impl<I: Intake + ?Sized> Intake for Box<I> {
    fn store<'a>(&'a self, delivery: &'a Delivery) -> IntakeFuture<'a> {
        (**self).store(delivery)
    }
}
