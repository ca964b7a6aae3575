//! [`StoredDelivery`]: what a [`Handler`](crate::Handler) is given for each stored delivery.

use chrono::{DateTime, Utc};
use quickassist_webhooks::{accounts::AccountId, Envelope, Event};

/// A stored delivery being processed: the parsed envelope, the account it was verified for
/// and which attempt this is.
///
/// ```
/// use quickassist_webhooks_postgres::{handler_fn, Handler};
///
/// let handler = handler_fn(|delivery, _tx| {
///     Box::pin(async move {
///         let account = delivery.account.as_ref().map_or("default", |id| id.as_str());
///         println!("{} for {account}, attempt {}", delivery.envelope.webhook_id, delivery.attempt);
///         Ok(())
///     })
/// });
/// # fn takes(_: impl Handler) {}
/// # takes(handler);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StoredDelivery {
    /// The verified envelope, parsed again from the stored body.
    pub envelope: Envelope<Event>,
    /// The account it was verified for, when the receiver serves many
    /// ([`Receiver::for_accounts`](quickassist_webhooks::receive::Receiver::for_accounts));
    /// `None` for a receiver of one secret.
    pub account: Option<AccountId>,
    /// Which attempt this is: 1 the first time, 2 after one failure…
    pub attempt: u32,
    /// When the receiver stored it.
    pub received_at: DateTime<Utc>,
}

impl StoredDelivery {
    /// The first attempt of `envelope`, for no account, received now: what a test of your
    /// [`Handler`](crate::Handler) passes it (workers build theirs from the row).
    ///
    /// ```
    /// use quickassist_webhooks::{accounts::AccountId, testing::sample, Event};
    /// use quickassist_webhooks_postgres::StoredDelivery;
    ///
    /// let delivery = StoredDelivery::new(sample(Event::MESSAGE_READ, "whk_1"))
    ///     .with_account(AccountId::new("acme"))
    ///     .with_attempt(3);
    /// assert_eq!(delivery.attempt, 3);
    /// assert_eq!(delivery.account.unwrap().as_str(), "acme");
    /// ```
    #[must_use]
    pub fn new(envelope: Envelope<Event>) -> Self {
        Self {
            envelope,
            account: None,
            attempt: 1,
            received_at: Utc::now(),
        }
    }

    /// The same delivery, verified for `account` (`None`: a receiver of one secret).
    #[must_use]
    pub fn with_account(mut self, account: Option<AccountId>) -> Self {
        self.account = account;
        self
    }

    /// The same delivery at attempt `attempt` (at least 1).
    #[must_use]
    pub fn with_attempt(mut self, attempt: u32) -> Self {
        self.attempt = attempt.max(1);
        self
    }
}
