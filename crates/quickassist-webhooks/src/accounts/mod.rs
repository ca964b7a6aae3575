//! Many provider accounts behind one receiver: the secrets are chosen per request, from the
//! account the request names, and never tried across accounts.
//!
//! # Rotation is not accounts
//!
//! A [`Verifier`] with several secrets accepts a signature made with
//! *any* of them: that is key rotation, for **one** account whose secret is being replaced.
//! Used for many accounts, it would let account A's secret authenticate a delivery on
//! account B's route, so one customer could forge events for another.
//!
//! [`Accounts`] instead takes the account from the request ([`AccountFrom`]: the last path
//! segment, a header or a query parameter), asks a [`SecretSource`] for that account's
//! secrets only (several during its own rotation), and verifies with those. The account
//! travels with the delivery ([`AccountId`] in the request extensions), and de-duplication
//! is per account, so two accounts that reuse a `webhookId` never collide.
//!
//! | request | answer |
//! |---------|--------|
//! | no account id, or one that is not 1–128 of `A-Z a-z 0-9 . _ -` | `404 unknown_account` |
//! | an account the source does not know | `404 unknown_account` |
//! | the source fails (database down…) | `503 secret_source_unavailable`: the provider retries |
//! | signed with another account's secret | `401 invalid_signature` |
//!
//! Resolved secrets are cached ([`moka`](https://docs.rs/moka)) for a TTL in a bounded
//! cache; a burst of requests for one uncached account makes one lookup. A changed or
//! revoked secret takes effect within the TTL, or at once with [`Accounts::invalidate`].
//!
//! ```
//! use quickassist_webhooks::{accounts::{AccountFrom, AccountId, Accounts, SourceError}, receive::Receiver, Secret};
//!
//! // Where the secrets live: a database, a secret manager… here a match.
//! async fn secrets_of(account: AccountId) -> Result<Option<Vec<Secret>>, SourceError> {
//!     Ok(match account.as_str() {
//!         "acme" => Some(vec![Secret::from("whsec_acme")]),
//!         "globex" => Some(vec![Secret::from("whsec_globex_new"), Secret::from("whsec_globex_old")]),
//!         _ => None,
//!     })
//! }
//!
//! // POST /webhooks/thequickassist/{account}
//! let accounts = Accounts::new(secrets_of).with_account_from(AccountFrom::LastPathSegment);
//! let receiver = Receiver::for_accounts(accounts).build()?;
//! # Ok::<_, quickassist_webhooks::idempotency::ConfigError>(())
//! ```

mod id;
mod source;

use std::{fmt, sync::Arc, time::Duration};

use moka::future::Cache;

pub use id::{AccountFrom, AccountId};
pub use source::{SecretSource, SecretsFuture, SourceError};

use crate::Verifier;

/// How long resolved secrets are cached by default: 5 minutes.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(5 * 60);

/// How many accounts' secrets are cached by default.
pub const DEFAULT_CACHE_CAPACITY: u64 = 10_000;

/// The accounts a receiver serves: where each request's account comes from, where its
/// secrets come from, and the cache in between. Cheap to clone (shared state).
///
/// See the [module docs](self) for an example and the answers.
#[derive(Clone)]
#[must_use]
pub struct Accounts {
    source: Arc<dyn SecretSource>,
    from: AccountFrom,
    ttl: Duration,
    capacity: u64,
    /// `None`: the receiver's default window; `Some(None)`: no window.
    tolerance: Option<Option<Duration>>,
    cache: Cache<AccountId, Option<Verifier>>,
}

impl Accounts {
    /// Accounts whose secrets come from `source`, named by the request's last path segment,
    /// cached for [`DEFAULT_CACHE_TTL`] in at most [`DEFAULT_CACHE_CAPACITY`] entries.
    pub fn new(source: impl SecretSource) -> Self {
        Self {
            source: Arc::new(source),
            from: AccountFrom::LastPathSegment,
            ttl: DEFAULT_CACHE_TTL,
            capacity: DEFAULT_CACHE_CAPACITY,
            tolerance: None,
            cache: new_cache(DEFAULT_CACHE_CAPACITY, DEFAULT_CACHE_TTL),
        }
    }

    /// Where the request names its account (default [`AccountFrom::LastPathSegment`]).
    pub fn with_account_from(mut self, from: AccountFrom) -> Self {
        self.from = from;
        self
    }

    /// How long resolved secrets (and unknown accounts) are remembered: the longest a
    /// changed or revoked secret may still be used.
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self.cache = new_cache(self.capacity, ttl);
        self
    }

    /// How many accounts are remembered at most.
    pub fn with_cache_capacity(mut self, capacity: u64) -> Self {
        self.capacity = capacity;
        self.cache = new_cache(capacity, self.ttl);
        self
    }

    /// Rejects correctly signed bodies whose `timestamp` is further than `tolerance` from
    /// now, for every account (see [`Verifier::timestamp_tolerance`]).
    pub fn with_timestamp_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = Some(Some(tolerance));
        self
    }

    /// Turns the replay window off for every account (see
    /// [`Verifier::without_timestamp_tolerance`]); not advisable on the open internet.
    ///
    /// ```
    /// use quickassist_webhooks::{accounts::{AccountId, Accounts, SourceError}, receive::Receiver, Secret};
    ///
    /// let source = |_: AccountId| async { Ok::<Option<Vec<Secret>>, SourceError>(None) };
    /// let accounts = Accounts::new(source).without_timestamp_tolerance();
    /// let receiver = Receiver::for_accounts(accounts).build()?;
    /// assert_eq!(receiver.verifier().timestamp_tolerance(), None);
    /// # Ok::<_, quickassist_webhooks::idempotency::ConfigError>(())
    /// ```
    pub fn without_timestamp_tolerance(mut self) -> Self {
        self.tolerance = Some(None);
        self
    }

    /// Forgets what is cached for `account`: its next request asks the source again (after
    /// revoking or replacing its secret). Clones of these `Accounts` (the receiver's among
    /// them) share the cache.
    pub async fn invalidate(&self, account: &AccountId) {
        self.cache.invalidate(account).await;
    }

    /// Where requests name their account.
    pub fn account_from(&self) -> &AccountFrom {
        &self.from
    }

    /// The replay window applied to every account, if any.
    #[must_use]
    pub fn timestamp_tolerance(&self) -> Option<Duration> {
        self.tolerance.flatten()
    }

    /// The window chosen for every account: `None` when the receiver's default applies,
    /// `Some(None)` when it is turned off.
    pub(crate) fn window_choice(&self) -> Option<Option<Duration>> {
        self.tolerance
    }

    /// The verifier for `account`: `template`'s settings with the account's secrets;
    /// `None` for an account the source does not know. Concurrent calls for one uncached
    /// account share one lookup.
    pub(crate) async fn verifier(
        &self,
        account: &AccountId,
        template: &Verifier,
    ) -> Result<Option<Verifier>, Arc<SourceError>> {
        let lookup = async {
            let secrets = self.source.secrets(account).await?;
            Ok(secrets
                .filter(|secrets| !secrets.is_empty())
                .map(|secrets| template.with_secrets(secrets)))
        };
        // The common case, a cached account, without the coalescing machinery.
        if let Some(verifier) = self.cache.get(account).await {
            return Ok(verifier);
        }
        self.cache.try_get_with_by_ref(account, lookup).await
    }
}

fn new_cache(capacity: u64, ttl: Duration) -> Cache<AccountId, Option<Verifier>> {
    Cache::builder()
        .max_capacity(capacity)
        .time_to_live(ttl)
        .build()
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secrets: only where they come from and how long they are kept.
        f.debug_struct("Accounts")
            .field("from", &self.from)
            .field("cache_ttl", &self.ttl)
            .field("cache_capacity", &self.capacity)
            .field("timestamp_tolerance", &self.tolerance)
            .finish_non_exhaustive()
    }
}
