//! [`SecretSource`]: where an account's secrets come from.

use std::{error::Error, future::Future, pin::Pin};

use super::AccountId;
use crate::Secret;

/// The boxed future of [`SecretSource::secrets`].
pub type SecretsFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Vec<Secret>>, SourceError>> + Send + 'a>>;

/// Where the secrets of each account live: a database, a secret manager, a file.
///
/// Answers the account's secrets (several while it rotates: any of them verifies its
/// deliveries), `None` for an account it does not know, or an error when it cannot answer
/// now (answered 503, so the provider retries). An `async fn(AccountId) -> Result<…>` (or a
/// closure returning such a future) is a source.
///
/// ```
/// use quickassist_webhooks::{accounts::{Accounts, AccountId, SourceError}, Secret};
///
/// let accounts = Accounts::new(|account: AccountId| async move {
///     Ok::<_, SourceError>((account.as_str() == "acme").then(|| vec![Secret::from("whsec_acme")]))
/// });
/// # drop(accounts);
/// ```
pub trait SecretSource: Send + Sync + 'static {
    /// The secrets of `account`.
    ///
    /// # Errors
    ///
    /// [`SourceError`] when the source cannot answer now.
    fn secrets<'a>(&'a self, account: &'a AccountId) -> SecretsFuture<'a>;
}

impl<F, Fut> SecretSource for F
where
    F: Fn(AccountId) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Vec<Secret>>, SourceError>> + Send + 'static,
{
    fn secrets<'a>(&'a self, account: &'a AccountId) -> SecretsFuture<'a> {
        Box::pin(self(account.clone()))
    }
}

/// Why a [`SecretSource`] could not answer. Its `Display` is the source's own error: make
/// sure that one never includes a secret.
#[derive(Debug, thiserror::Error)]
#[error("the secret source could not answer: {source}")]
pub struct SourceError {
    #[source]
    source: Box<dyn Error + Send + Sync>,
}

impl SourceError {
    /// Wraps the source's error.
    pub fn new(source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self {
            source: source.into(),
        }
    }
}
