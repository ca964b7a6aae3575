//! [`Deduplicator`]: admits each delivery once, on top of an [`IdempotencyStore`].

use std::{fmt, future::Future, sync::Arc, time::Duration};

use serde_json::{Map, Value};

use crate::event::Envelope;

use super::{Claim, DeliveryGuard, IdempotencyKey, IdempotencyStore, StoreError};

/// How long a processed delivery is remembered by default: 24 hours.
///
/// The provider retries failed deliveries for less than that, so a retry of a processed
/// delivery always finds it.
pub const DEFAULT_DONE_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a delivery stays claimed while its handler runs, by default: 60 seconds.
///
/// If the receiver dies mid-delivery, the claim is freed when the lease ends and the
/// provider's retry is processed. Make it longer than your slowest handler.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// The function that derives a delivery's de-duplication key from its `webhookId` and the
/// envelope's other top-level fields; `None` means "do not de-duplicate this delivery".
pub type KeyFn = dyn Fn(&str, &Map<String, Value>) -> Option<String> + Send + Sync;

/// What to do when the store cannot answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FailureMode {
    /// Refuse the delivery ([`DedupRejection::StoreUnavailable`], answered with 503) so the
    /// provider retries it later. Never processes a delivery twice; the default.
    #[default]
    Closed,
    /// Process the delivery anyway ([`Admission::Unguarded`]). Keeps webhooks flowing while
    /// the store is down, at the risk of processing a duplicate.
    Open,
}

/// The answer of [`Deduplicator::admit`]: what to do with a delivery.
#[derive(Debug)]
#[must_use]
pub enum Admission {
    /// First delivery of this key: run the handler, then settle the guard.
    Process(DeliveryGuard),
    /// Already processed: answer success without running the handler.
    Duplicate,
    /// Not de-duplicated: the key function returned `None`, or the store failed and the
    /// failure mode is [`FailureMode::Open`]. Run the handler; there is nothing to settle.
    Unguarded,
}

/// Why a delivery was refused for now.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DedupRejection {
    /// Another delivery of the same key is being processed right now (answered with 409).
    #[error("the same delivery is being processed; retry in {} s", retry_after.as_secs())]
    InFlight {
        /// When a retry is worth sending: the configured lease.
        retry_after: Duration,
    },
    /// The store could not answer and the failure mode is [`FailureMode::Closed`]
    /// (answered with 503, so the provider retries).
    #[error(transparent)]
    StoreUnavailable(StoreError),
}

/// A configuration the [`Deduplicator`] refuses because it would let duplicates through.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The signature's replay window is too long for the done-TTL.
    #[error(
        "a replay window of {tolerance:?} plus {clock_skew:?} of clock skew accepts a signed \
         delivery for longer than the done-TTL of {done_ttl:?}: a replay arriving after the \
         TTL would be processed again; shorten the window (or the skew) or lengthen the done-TTL"
    )]
    ReplayWindowExceedsDoneTtl {
        /// How old a signed timestamp may be (the verifier's timestamp tolerance).
        tolerance: Duration,
        /// How far ahead of now a signed timestamp may be.
        clock_skew: Duration,
        /// The configured done-TTL.
        done_ttl: Duration,
    },
    /// No deduplicator was given and the `memory-store` feature, which provides the
    /// default one, is off.
    #[error(
        "no deduplicator: give the receiver a store, turn de-duplication off, or enable the \
         `memory-store` feature"
    )]
    NoDeduplicator,
    /// A deduplicator (or store) was given to a receiver built for an intake, whose key
    /// de-duplicates by itself: it would never be asked.
    #[error(
        "a deduplicator was given to a receiver of the intake mode, which de-duplicates by \
         the intake's key: drop the `deduplicator`/`store` call or build a handler receiver"
    )]
    DeduplicatorWithIntake,
}

/// Admits each delivery once: claims its key in an [`IdempotencyStore`] and hands out a
/// [`DeliveryGuard`] to settle when the handler is done.
///
/// Cheap to clone (the configuration sits behind an `Arc`); its `Debug` shows the
/// configuration and the store, never a secret.
///
/// | outcome of the claim       | answer                                                     |
/// |----------------------------|------------------------------------------------------------|
/// | new key                    | [`Admission::Process`]: run the handler, settle the guard   |
/// | already done               | [`Admission::Duplicate`]: answer 200 without processing     |
/// | in flight elsewhere        | [`DedupRejection::InFlight`]: 409, the provider retries     |
/// | store error, fail-closed   | [`DedupRejection::StoreUnavailable`]: 503, provider retries |
/// | store error, fail-open     | [`Admission::Unguarded`]: process anyway                    |
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use quickassist_webhooks::idempotency::{Admission, Deduplicator, FailureMode, MemoryStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let dedup = Deduplicator::new(MemoryStore::new())
///     .with_done_ttl(Duration::from_secs(48 * 3600))
///     .with_lease(Duration::from_secs(30))
///     .with_failure_mode(FailureMode::Closed);
/// assert_eq!(dedup.lease(), Duration::from_secs(30));
///
/// match dedup.admit_key("whk_abc123").await? {
///     Admission::Process(guard) => {
///         // ... handle the event, then:
///         guard.complete().await?;
///     }
///     Admission::Duplicate => unreachable!("first delivery"),
///     Admission::Unguarded => unreachable!("the memory store does not fail"),
/// }
/// assert!(matches!(dedup.admit_key("whk_abc123").await?, Admission::Duplicate));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
#[must_use]
pub struct Deduplicator {
    settings: Arc<Settings>,
}

/// The configuration shared by a [`Deduplicator`] and the guards it hands out.
#[derive(Clone)]
pub(super) struct Settings {
    pub(super) store: Arc<dyn IdempotencyStore>,
    /// `None`: the default, the `webhookId` itself (without allocating).
    key_fn: Option<Arc<KeyFn>>,
    pub(super) done_ttl: Duration,
    pub(super) lease: Duration,
    failure_mode: FailureMode,
}

impl Deduplicator {
    /// A deduplicator over `store`, with the default TTL, lease and failure mode.
    ///
    /// A store shared with other code can be given as an `Arc` (`Arc<S>` is a store too).
    pub fn new(store: impl IdempotencyStore) -> Self {
        let store: Arc<dyn IdempotencyStore> = Arc::new(store);
        Self {
            settings: Arc::new(Settings {
                store,
                key_fn: None,
                done_ttl: DEFAULT_DONE_TTL,
                lease: DEFAULT_LEASE,
                failure_mode: FailureMode::default(),
            }),
        }
    }

    /// A deduplicator over a new [`MemoryStore`](super::MemoryStore) of the default capacity.
    #[cfg(feature = "memory-store")]
    pub fn memory() -> Self {
        Self::new(super::MemoryStore::new())
    }

    fn settings_mut(&mut self) -> &mut Settings {
        Arc::make_mut(&mut self.settings)
    }

    /// Derives the de-duplication key from the envelope's `webhookId` and its other
    /// top-level fields (default: the `webhookId`; an empty one is not de-duplicated).
    /// Returning `None` processes the delivery without de-duplication
    /// ([`Admission::Unguarded`]).
    ///
    /// ```
    /// use quickassist_webhooks::idempotency::Deduplicator;
    ///
    /// // De-duplicate per webhook id and tenant.
    /// let dedup = Deduplicator::memory().with_key_fn(|webhook_id, extra| {
    ///     let tenant = extra.get("tenant")?.as_str()?;
    ///     Some(format!("{tenant}/{webhook_id}"))
    /// });
    /// # drop(dedup);
    /// ```
    pub fn with_key_fn(
        mut self,
        key_fn: impl Fn(&str, &Map<String, Value>) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.settings_mut().key_fn = Some(Arc::new(key_fn));
        self
    }

    /// How long a processed delivery is remembered (default [`DEFAULT_DONE_TTL`]).
    pub fn with_done_ttl(mut self, ttl: Duration) -> Self {
        self.settings_mut().done_ttl = ttl;
        self
    }

    /// How long a delivery stays claimed while its handler runs (default [`DEFAULT_LEASE`]).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.settings_mut().lease = lease;
        self
    }

    /// What to do when the store fails (default [`FailureMode::Closed`]).
    pub fn with_failure_mode(mut self, mode: FailureMode) -> Self {
        self.settings_mut().failure_mode = mode;
        self
    }

    /// The configured done-TTL.
    #[must_use]
    pub fn done_ttl(&self) -> Duration {
        self.settings.done_ttl
    }

    /// The configured lease.
    #[must_use]
    pub fn lease(&self) -> Duration {
        self.settings.lease
    }

    /// The configured failure mode.
    #[must_use]
    pub fn failure_mode(&self) -> FailureMode {
        self.settings.failure_mode
    }

    /// The store claims are kept in.
    #[must_use]
    pub fn store(&self) -> &dyn IdempotencyStore {
        &*self.settings.store
    }

    /// Checks that the signature's replay window is covered by the done-TTL.
    ///
    /// A signed delivery is accepted from `clock_skew` before its timestamp (a sender clock
    /// that runs ahead) until `tolerance` after it: during `tolerance + clock_skew`. A replay
    /// accepted after the delivery's done-TTL ended finds no record of it and would be
    /// processed again, so that window must not exceed the done-TTL. Without a replay window
    /// (`None`), replays are never refused by time, and a replay older than the done-TTL is
    /// processed again.
    ///
    /// [`ReceiverBuilder::build`](crate::receive::ReceiverBuilder::build) runs this check,
    /// and by default sets the window to the done-TTL less the clock skew.
    ///
    /// # Errors
    ///
    /// [`ConfigError::ReplayWindowExceedsDoneTtl`] when the window outlasts the TTL.
    ///
    /// ```
    /// use std::time::Duration;
    /// use quickassist_webhooks::idempotency::Deduplicator;
    ///
    /// let dedup = Deduplicator::memory().with_done_ttl(Duration::from_secs(3600));
    /// let skew = Duration::from_secs(300);
    /// assert!(dedup.check_replay_window(Some(Duration::from_secs(3300)), skew).is_ok());
    /// assert!(dedup.check_replay_window(Some(Duration::from_secs(3301)), skew).is_err());
    /// ```
    pub fn check_replay_window(
        &self,
        tolerance: Option<Duration>,
        clock_skew: Duration,
    ) -> Result<(), ConfigError> {
        let Some(tolerance) = tolerance else {
            return Ok(());
        };
        let done_ttl = self.settings.done_ttl;
        match tolerance.checked_add(clock_skew) {
            Some(window) if window <= done_ttl => Ok(()),
            _ => Err(ConfigError::ReplayWindowExceedsDoneTtl {
                tolerance,
                clock_skew,
                done_ttl,
            }),
        }
    }

    /// Admits a delivery: derives its key with the key function (default: its `webhookId`)
    /// and claims it.
    ///
    /// The returned future borrows only the envelope's `webhookId`, so it is `Send`
    /// whatever the event type.
    ///
    /// # Errors
    ///
    /// [`DedupRejection::InFlight`] when the same delivery is being processed right now, and
    /// [`DedupRejection::StoreUnavailable`] when the store fails in [`FailureMode::Closed`].
    ///
    /// ```
    /// use quickassist_webhooks::{Envelope, Event};
    /// use quickassist_webhooks::idempotency::{Admission, Deduplicator};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let envelope = Envelope::new(
    ///     Event::Unknown { event: "demo".into(), data: serde_json::json!({}) },
    ///     chrono::Utc::now(),
    ///     "whk_abc123",
    /// );
    /// let dedup = Deduplicator::memory();
    /// if let Admission::Process(guard) = dedup.admit(&envelope).await? {
    ///     guard.complete().await?;
    /// }
    /// assert!(matches!(dedup.admit(&envelope).await?, Admission::Duplicate));
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn admit<'a, E>(
        &'a self,
        envelope: &'a Envelope<E>,
    ) -> impl Future<Output = Result<Admission, DedupRejection>> + Send + 'a {
        self.admit_parts(None, &envelope.webhook_id, &envelope.extra)
    }

    /// [`admit`](Self::admit) within `scope` (an account, for receivers of many accounts):
    /// the key is [`IdempotencyKey::scoped`], so the same `webhookId` in two accounts is two
    /// deliveries.
    ///
    /// # Errors
    ///
    /// As [`admit`](Self::admit).
    pub fn admit_scoped<'a, E>(
        &'a self,
        scope: Option<&'a str>,
        envelope: &'a Envelope<E>,
    ) -> impl Future<Output = Result<Admission, DedupRejection>> + Send + 'a {
        self.admit_parts(scope, &envelope.webhook_id, &envelope.extra)
    }

    /// Admits the delivery identified by `key` (already chosen by the caller; the key
    /// function is not applied).
    ///
    /// # Errors
    ///
    /// [`DedupRejection::InFlight`] when the same key is being processed right now, and
    /// [`DedupRejection::StoreUnavailable`] when the store fails in [`FailureMode::Closed`].
    pub async fn admit_key(&self, key: &str) -> Result<Admission, DedupRejection> {
        self.admit_digest(IdempotencyKey::new(key), None).await
    }

    /// Applies the key function to an envelope's parts and admits the delivery.
    fn admit_parts<'a>(
        &'a self,
        scope: Option<&str>,
        webhook_id: &'a str,
        extra: &Map<String, Value>,
    ) -> impl Future<Output = Result<Admission, DedupRejection>> + Send + 'a {
        let digest = |key: &str| match scope {
            Some(scope) => IdempotencyKey::scoped(scope, key),
            None => IdempotencyKey::new(key),
        };
        let key = match &self.settings.key_fn {
            None => (!webhook_id.is_empty()).then(|| digest(webhook_id)),
            Some(key_fn) => key_fn(webhook_id, extra).map(|key| digest(&key)),
        };
        async move {
            match key {
                Some(key) => self.admit_digest(key, Some(webhook_id)).await,
                None => {
                    tracing::debug!(webhook_id, "no de-duplication key; processing unguarded");
                    Ok(Admission::Unguarded)
                }
            }
        }
    }

    async fn admit_digest(
        &self,
        key: IdempotencyKey,
        webhook_id: Option<&str>,
    ) -> Result<Admission, DedupRejection> {
        let settings = &self.settings;
        match settings.store.claim(&key, settings.lease).await {
            Ok(Claim::New(token)) => Ok(Admission::Process(DeliveryGuard::new(
                Arc::clone(settings),
                key,
                token,
            ))),
            // The receiving pipeline logs each outcome once; these answers are its to log.
            Ok(Claim::Done) => Ok(Admission::Duplicate),
            Ok(Claim::InFlight) => Err(DedupRejection::InFlight {
                retry_after: settings.lease,
            }),
            Err(error) => match settings.failure_mode {
                FailureMode::Closed => Err(DedupRejection::StoreUnavailable(error)),
                FailureMode::Open => {
                    tracing::warn!(reason = "store_unavailable", webhook_id, key = %key, %error, "processing delivery without de-duplication");
                    Ok(Admission::Unguarded)
                }
            },
        }
    }
}

impl fmt::Debug for Deduplicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = &self.settings;
        f.debug_struct("Deduplicator")
            .field("store", &settings.store)
            .field("custom_key_fn", &settings.key_fn.is_some())
            .field("done_ttl", &settings.done_ttl)
            .field("lease", &settings.lease)
            .field("failure_mode", &settings.failure_mode)
            .finish()
    }
}

#[cfg(feature = "memory-store")]
impl Default for Deduplicator {
    /// [`Deduplicator::memory`].
    fn default() -> Self {
        Self::memory()
    }
}
