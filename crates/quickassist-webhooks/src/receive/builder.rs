//! [`Receiver`] and [`ReceiverBuilder`]: the receiving decision, configured once.

use std::{fmt, sync::Arc, time::Duration};

use super::{body::BodyLimits, serverless, BodyBudget, Intake, IntakeReceiver};
use crate::{
    accounts::{AccountId, Accounts},
    idempotency::{ConfigError, Deduplicator, IdempotencyStore, DEFAULT_DONE_TTL},
    Verifier,
};

/// The receiving pipeline, built once and shared by every request: how a webhook request is
/// bounded, verified, parsed, de-duplicated and answered.
///
/// Every integration (the tower/axum layer, the actix-web middleware, the extractors, the
/// CLI's receiver) drives this one value, so the same request gets the same answer whatever
/// framework serves it. It is `Clone + Send + Sync` (an `Arc` inside): build it once, outside
/// any per-worker factory, and clone it where needed.
///
/// Built with [`Receiver::builder`]; [`ReceiverBuilder::build`] refuses a configuration
/// that would let duplicates through.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use quickassist_webhooks::{idempotency::MemoryStore, receive::Receiver, Verifier};
///
/// let receiver = Receiver::builder(Verifier::new("whsec_example"))
///     .store(MemoryStore::new())
///     .max_body(16 * 1024)
///     .body_timeout(Duration::from_secs(5))
///     .build()?;
/// assert_eq!(receiver.max_body(), 16 * 1024);
/// assert_eq!(receiver.body_timeout(), Some(Duration::from_secs(5)));
/// // The replay window defaults to what the de-duplication remembers (24 h), less the
/// // clock skew allowed (5 min).
/// assert_eq!(receiver.verifier().timestamp_tolerance(), Some(Duration::from_secs(86_100)));
/// # Ok::<_, quickassist_webhooks::idempotency::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Receiver {
    pub(super) config: Arc<Config>,
}

pub(super) struct Config {
    /// The verifier, or with accounts the settings every account's verifier copies.
    pub(super) verifier: Verifier,
    pub(super) accounts: Option<Accounts>,
    pub(super) dedup: Option<Deduplicator>,
    pub(super) body: BodyLimits,
}

impl Receiver {
    /// Starts a configuration verifying with `verifier`.
    ///
    /// Defaults: de-duplication in the process-wide in-memory store (see
    /// [`deduplicator`](ReceiverBuilder::deduplicator)); a replay window of the
    /// de-duplication's done-TTL less the clock skew, unless the verifier has its own (see
    /// [`Verifier::with_timestamp_tolerance`]); the verifier's body limit; bodies bounded
    /// in time ([`DEFAULT_BODY_TIMEOUT`] between chunks, [`DEFAULT_MIN_BODY_RATE`] after
    /// [`DEFAULT_BODY_RATE_GRACE`], all of it by [`DEFAULT_BODY_DEADLINE`]) and in memory
    /// (the process-wide [`BodyBudget`]).
    ///
    /// [`DEFAULT_BODY_TIMEOUT`]: super::DEFAULT_BODY_TIMEOUT
    /// [`DEFAULT_MIN_BODY_RATE`]: super::DEFAULT_MIN_BODY_RATE
    /// [`DEFAULT_BODY_RATE_GRACE`]: super::DEFAULT_BODY_RATE_GRACE
    /// [`DEFAULT_BODY_DEADLINE`]: super::DEFAULT_BODY_DEADLINE
    pub fn builder(verifier: Verifier) -> ReceiverBuilder {
        ReceiverBuilder {
            verifier,
            accounts: None,
            dedup: Dedup::Default,
            body: BodyLimits::new(),
            process_local_allowed: false,
        }
    }

    /// Starts a configuration for many provider accounts: each request is verified with the
    /// secrets of the account it names, and only those (see [`accounts`](crate::accounts)).
    /// De-duplication is per account.
    ///
    /// ```
    /// use quickassist_webhooks::{accounts::{AccountId, Accounts, SourceError}, receive::Receiver, Secret};
    ///
    /// let accounts = Accounts::new(|account: AccountId| async move {
    ///     Ok::<_, SourceError>((account.as_str() == "acme").then(|| vec![Secret::from("whsec_acme")]))
    /// });
    /// let receiver = Receiver::for_accounts(accounts).build()?;
    /// assert!(receiver.accounts().is_some());
    /// # Ok::<_, quickassist_webhooks::idempotency::ConfigError>(())
    /// ```
    pub fn for_accounts(accounts: Accounts) -> ReceiverBuilder {
        let mut template = Verifier::template();
        match accounts.window_choice() {
            Some(Some(tolerance)) => template = template.with_timestamp_tolerance(tolerance),
            Some(None) => template = template.without_timestamp_tolerance(),
            None => {}
        }
        ReceiverBuilder {
            accounts: Some(accounts),
            ..Self::builder(template)
        }
    }

    /// A receiver that only verifies and parses, without de-duplication and with the
    /// default body bounds and replay window: what the extractors use when no middleware
    /// is in front of them. Equivalent to
    /// `Receiver::builder(verifier).without_deduplication().build()`, which cannot fail.
    ///
    /// ```
    /// use quickassist_webhooks::{receive::Receiver, Verifier};
    ///
    /// let receiver = Receiver::verify_only(Verifier::new("whsec_example"));
    /// assert!(receiver.deduplicator().is_none());
    /// ```
    pub fn verify_only(verifier: Verifier) -> Self {
        Self {
            config: Arc::new(Config {
                verifier: default_window(verifier, DEFAULT_DONE_TTL),
                accounts: None,
                dedup: None,
                body: BodyLimits::new(),
            }),
        }
    }

    /// The verifier signatures are checked with (with accounts: the settings every
    /// account's verifier copies; it holds no secret of its own).
    pub fn verifier(&self) -> &Verifier {
        &self.config.verifier
    }

    /// The accounts, for a receiver of many accounts (to [`invalidate`](Accounts::invalidate)
    /// one, say).
    #[must_use]
    pub fn accounts(&self) -> Option<&Accounts> {
        self.config.accounts.as_ref()
    }

    /// The account a request names, for a receiver of many accounts (`None` otherwise):
    /// integrations call it with the request's path, query and a header lookup, and give
    /// the result to [`RequestHead::with_account`](super::integration::RequestHead::with_account).
    pub fn account_in<'h>(
        &self,
        path: &str,
        query: Option<&str>,
        header: impl Fn(&str) -> Option<&'h [u8]>,
    ) -> Option<AccountId> {
        self.config
            .accounts
            .as_ref()
            .and_then(|accounts| accounts.account_from().extract(path, query, header))
    }

    /// The deduplicator deliveries are admitted through; `None` when de-duplication is off.
    #[must_use]
    pub fn deduplicator(&self) -> Option<&Deduplicator> {
        self.config.dedup.as_ref()
    }

    /// The largest body accepted, in bytes.
    #[must_use]
    pub fn max_body(&self) -> usize {
        self.config.verifier.max_body()
    }

    /// The longest a body may stall between two chunks; `None` when unbounded.
    #[must_use]
    pub fn body_timeout(&self) -> Option<Duration> {
        self.config.body.stall
    }

    /// The longest a whole body may take to arrive; `None` when unbounded.
    #[must_use]
    pub fn body_deadline(&self) -> Option<Duration> {
        self.config.body.deadline
    }

    /// The slowest a body may arrive, in bytes per second, and after how long that applies;
    /// `None` when any rate is accepted.
    #[must_use]
    pub fn min_body_rate(&self) -> Option<(u32, Duration)> {
        self.config.body.min_rate
    }

    /// The memory the bodies being read share.
    #[must_use]
    pub fn body_budget(&self) -> &BodyBudget {
        &self.config.body.budget
    }
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("verifier", &self.config.verifier)
            .field("accounts", &self.config.accounts)
            .field("deduplicator", &self.config.dedup)
            .field("body", &self.config.body)
            .finish()
    }
}

/// Configures a [`Receiver`]; [`build`](Self::build) checks the configuration.
///
/// ```
/// use quickassist_webhooks::{receive::Receiver, Verifier};
///
/// // Verification only: no de-duplication.
/// let receiver = Receiver::builder(Verifier::new("whsec_example"))
///     .without_deduplication()
///     .build()?;
/// assert!(receiver.deduplicator().is_none());
/// # Ok::<_, quickassist_webhooks::idempotency::ConfigError>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct ReceiverBuilder {
    verifier: Verifier,
    accounts: Option<Accounts>,
    dedup: Dedup,
    body: BodyLimits,
    process_local_allowed: bool,
}

#[derive(Debug)]
enum Dedup {
    Default,
    Custom(Deduplicator),
    Off,
}

impl ReceiverBuilder {
    /// De-duplicates through `dedup` (its store, key function, TTL, lease and failure mode).
    ///
    /// Without this call (nor [`store`](Self::store)), deliveries are de-duplicated in one
    /// in-memory store shared by the whole process: every actix-web worker and every router
    /// built in this process sees the same claims, however many receivers are built. Share
    /// claims between processes or machines with a Redis store.
    pub fn deduplicator(mut self, dedup: Deduplicator) -> Self {
        self.dedup = Dedup::Custom(dedup);
        self
    }

    /// De-duplicates in `store` with the default TTL, lease and failure mode; to tune those,
    /// pass a configured [`Deduplicator`] to [`deduplicator`](Self::deduplicator).
    pub fn store(self, store: impl IdempotencyStore) -> Self {
        self.deduplicator(Deduplicator::new(store))
    }

    /// Turns de-duplication off: every verified delivery reaches the handler.
    pub fn without_deduplication(mut self) -> Self {
        self.dedup = Dedup::Off;
        self
    }

    /// Says that de-duplicating in a process-local store (the in-memory one, the default) is
    /// deliberate on a serverless runtime.
    ///
    /// On AWS Lambda (detected from `AWS_LAMBDA_FUNCTION_NAME` or `AWS_LAMBDA_RUNTIME_API`)
    /// each concurrent instance of a function has its own memory, so an in-memory store
    /// de-duplicates only the retries that reach the same instance: [`build`](Self::build)
    /// logs a warning saying so, unless this was called. Share the claims in Redis
    /// (`quickassist-webhooks-redis`), or store deliveries in the PostgreSQL intake
    /// ([`build_intake`](Self::build_intake)), instead.
    ///
    /// ```
    /// use quickassist_webhooks::{receive::Receiver, Verifier};
    ///
    /// // A function whose handler is idempotent by itself: per-instance de-duplication is
    /// // only a saving, and no warning is wanted.
    /// let receiver = Receiver::builder(Verifier::new("whsec_example"))
    ///     .allow_process_local_store()
    ///     .build()?;
    /// assert!(receiver.deduplicator().is_some_and(|dedup| dedup.store().is_process_local()));
    /// # Ok::<_, quickassist_webhooks::idempotency::ConfigError>(())
    /// ```
    pub fn allow_process_local_store(mut self) -> Self {
        self.process_local_allowed = true;
        self
    }

    /// The largest body accepted, in bytes (default
    /// [`DEFAULT_MAX_BODY`](crate::DEFAULT_MAX_BODY), 64 KiB). A larger declared
    /// `Content-Length` is refused with 413 before a byte is read; a chunked body as soon as
    /// it passes it.
    pub fn max_body(mut self, limit: usize) -> Self {
        self.verifier = self.verifier.with_max_body(limit);
        self
    }

    /// The longest a body may stall between two chunks (default
    /// [`DEFAULT_BODY_TIMEOUT`](super::DEFAULT_BODY_TIMEOUT)); a slower sender gets 408.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body.stall = Some(timeout);
        self
    }

    /// The longest a whole body may take to arrive, however it trickles (default
    /// [`DEFAULT_BODY_DEADLINE`](super::DEFAULT_BODY_DEADLINE)); a slower sender gets 408.
    pub fn body_deadline(mut self, deadline: Duration) -> Self {
        self.body.deadline = Some(deadline);
        self
    }

    /// The slowest a body may arrive once `grace` has passed: a body of `n` bytes read so
    /// far must be complete within `grace + n / bytes_per_second` (default
    /// [`DEFAULT_MIN_BODY_RATE`](super::DEFAULT_MIN_BODY_RATE) after
    /// [`DEFAULT_BODY_RATE_GRACE`](super::DEFAULT_BODY_RATE_GRACE)); a slower sender gets 408.
    /// A rate of 0 turns the minimum rate off (the stall timeout and deadline still apply).
    ///
    /// ```
    /// use std::time::Duration;
    /// use quickassist_webhooks::{receive::Receiver, Verifier};
    ///
    /// let receiver = Receiver::builder(Verifier::new("k"))
    ///     .min_body_rate(4096, Duration::from_secs(2))
    ///     .build()?;
    /// assert_eq!(receiver.min_body_rate(), Some((4096, Duration::from_secs(2))));
    /// # Ok::<_, quickassist_webhooks::idempotency::ConfigError>(())
    /// ```
    pub fn min_body_rate(mut self, bytes_per_second: u32, grace: Duration) -> Self {
        self.body.min_rate = (bytes_per_second > 0).then_some((bytes_per_second, grace));
        self
    }

    /// Lets bodies take as long as the sender likes: no stall timeout, minimum rate or
    /// deadline (for servers that bound the body time themselves).
    pub fn without_body_timeout(mut self) -> Self {
        self.body.stall = None;
        self.body.deadline = None;
        self.body.min_rate = None;
        self
    }

    /// Gives this receiver its own budget of `bytes` for the bodies it reads at once,
    /// instead of the process-wide [`DEFAULT_BODY_BUDGET`](super::DEFAULT_BODY_BUDGET) one
    /// (see [`BodyBudget`]).
    pub fn body_budget(mut self, bytes: usize) -> Self {
        self.body.budget = BodyBudget::new(bytes);
        self
    }

    /// Checks the configuration and builds the [`Receiver`].
    ///
    /// # Errors
    ///
    /// [`ConfigError::ReplayWindowExceedsDoneTtl`] when the verifier's replay window, plus
    /// its clock skew, is longer than the de-duplication memory (a late replay would be
    /// processed again), and [`ConfigError::NoDeduplicator`] when no store was given and the
    /// `memory-store` feature is off.
    ///
    /// ```
    /// use std::time::Duration;
    /// use quickassist_webhooks::{idempotency::Deduplicator, receive::Receiver, Verifier};
    ///
    /// let too_long = Receiver::builder(Verifier::new("k").with_timestamp_tolerance(Duration::from_secs(86_400)))
    ///     .deduplicator(Deduplicator::memory().with_done_ttl(Duration::from_secs(3600)))
    ///     .build();
    /// assert!(too_long.is_err());
    /// ```
    pub fn build(self) -> Result<Receiver, ConfigError> {
        let dedup = match self.dedup {
            Dedup::Off => None,
            Dedup::Custom(dedup) => Some(dedup),
            Dedup::Default => Some(process_default()?),
        };
        let process_local = dedup
            .as_ref()
            .is_some_and(|dedup| dedup.store().is_process_local());
        let warning = serverless::process_local_warning(
            process_local && !self.process_local_allowed,
            |name| std::env::var_os(name),
        );
        if let Some(warning) = warning {
            tracing::warn!("{warning}");
        }
        Self::finish(self.verifier, self.accounts, dedup, self.body)
    }

    /// Checks the configuration and builds the receiver of the intake mode: each verified
    /// delivery is stored in `intake` (a durable inbox) and answered by the receiver, with
    /// no handler on the request path (see [`IntakeReceiver`]).
    ///
    /// The intake's key (`webhookId`) de-duplicates, so there is no deduplicator; without
    /// one, the default replay window is the default done-TTL's, less the clock skew.
    ///
    /// # Errors
    ///
    /// [`ConfigError::DeduplicatorWithIntake`] when a [`deduplicator`](Self::deduplicator)
    /// or [`store`](Self::store) was given (it would never be asked), and
    /// [`ConfigError::ReplayWindowExceedsDoneTtl`] when the clock skew alone is longer than
    /// the default done-TTL.
    ///
    /// ```
    /// use quickassist_webhooks::{idempotency::{ConfigError, MemoryStore}, receive::Receiver, Verifier};
    /// # use quickassist_webhooks::receive::{Delivery, Intake, IntakeFuture, Stored};
    /// # #[derive(Debug)]
    /// # struct Inbox;
    /// # impl Intake for Inbox {
    /// #     fn store<'a>(&'a self, _: &'a Delivery) -> IntakeFuture<'a> { Box::pin(async { Ok(Stored::New) }) }
    /// # }
    ///
    /// let intake = Receiver::builder(Verifier::new("k")).max_body(8192).build_intake(Inbox)?;
    /// assert_eq!(intake.receiver().max_body(), 8192);
    ///
    /// let both = Receiver::builder(Verifier::new("k")).store(MemoryStore::new()).build_intake(Inbox);
    /// assert!(matches!(both, Err(ConfigError::DeduplicatorWithIntake)));
    /// # Ok::<_, ConfigError>(())
    /// ```
    pub fn build_intake(self, intake: impl Intake) -> Result<IntakeReceiver, ConfigError> {
        if matches!(self.dedup, Dedup::Custom(_)) {
            return Err(ConfigError::DeduplicatorWithIntake);
        }
        let receiver = Self::finish(self.verifier, self.accounts, None, self.body)?;
        Ok(IntakeReceiver::new(receiver, Arc::new(intake)))
    }

    fn finish(
        verifier: Verifier,
        accounts: Option<Accounts>,
        dedup: Option<Deduplicator>,
        body: BodyLimits,
    ) -> Result<Receiver, ConfigError> {
        // Without a deduplicator (an intake keeps deliveries until they are purged, or no
        // de-duplication at all), the default window is the default done-TTL's.
        let remembered = dedup
            .as_ref()
            .map_or(DEFAULT_DONE_TTL, Deduplicator::done_ttl);
        if !verifier.has_chosen_tolerance() && remembered <= verifier.clock_skew() {
            return Err(ConfigError::ReplayWindowExceedsDoneTtl {
                tolerance: Duration::ZERO,
                clock_skew: verifier.clock_skew(),
                done_ttl: remembered,
            });
        }
        let verifier = default_window(verifier, remembered);
        if let Some(dedup) = &dedup {
            dedup.check_replay_window(verifier.timestamp_tolerance(), verifier.clock_skew())?;
        }
        Ok(Receiver {
            config: Arc::new(Config {
                verifier,
                accounts,
                dedup,
                body,
            }),
        })
    }
}

/// `verifier`, with the replay window a memory of `remembered` covers (less the clock
/// skew) unless it has chosen its own.
fn default_window(verifier: Verifier, remembered: Duration) -> Verifier {
    let window = remembered.saturating_sub(verifier.clock_skew());
    verifier.with_default_tolerance(window)
}

/// The in-memory deduplicator shared by every receiver of this process that was not given
/// one, so that building a middleware per worker (as actix-web's factory invites) never
/// splits the claims.
#[cfg(feature = "memory-store")]
fn process_default() -> Result<Deduplicator, ConfigError> {
    static SHARED: std::sync::OnceLock<Deduplicator> = std::sync::OnceLock::new();
    Ok(SHARED.get_or_init(Deduplicator::memory).clone())
}

#[cfg(not(feature = "memory-store"))]
fn process_default() -> Result<Deduplicator, ConfigError> {
    Err(ConfigError::NoDeduplicator)
}
