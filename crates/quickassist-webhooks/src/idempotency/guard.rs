//! [`DeliveryGuard`]: the claim on one delivery, held while its handler runs.

use std::{
    fmt,
    future::Future,
    sync::Arc,
    task::{Context, Poll, Waker},
};

use super::{dedup::Settings, ClaimToken, IdempotencyKey, StoreError};

/// Proof that this receiver owns the delivery being processed; settle it when the handler
/// is done.
///
/// - [`complete`](Self::complete) after the handler succeeded: the delivery is remembered
///   as done for the done-TTL, and its duplicates are answered without processing.
/// - [`release`](Self::release) after it failed: the claim is forgotten, so the provider's
///   retry is processed.
/// - Settling survives cancellation: once [`complete`](Self::complete) or
///   [`release`](Self::release) is called, the store is updated even if the calling future
///   is dropped before it finished (the store operation then goes on as a task on the
///   current tokio runtime). A receiver whose client went away right after a successful
///   handler still remembers the delivery as done.
/// - Dropping the guard unsettled (an early return, a panic, a client that went away)
///   releases the claim in a task spawned on the current tokio runtime; outside a runtime
///   the claim is left to expire with its lease.
///
/// # Example
///
/// ```
/// use quickassist_webhooks::idempotency::{Admission, Deduplicator};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let dedup = Deduplicator::memory();
/// if let Admission::Process(guard) = dedup.admit_key("whk_1").await? {
///     let handled: Result<(), &str> = Ok(()); // run the handler here
///     guard.settle(handled.is_ok()).await?;
/// }
/// assert!(matches!(dedup.admit_key("whk_1").await?, Admission::Duplicate));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[must_use = "dropping the guard releases the claim: complete it once the delivery is handled"]
pub struct DeliveryGuard {
    settings: Arc<Settings>,
    key: IdempotencyKey,
    token: ClaimToken,
    settled: bool,
}

impl DeliveryGuard {
    pub(super) fn new(settings: Arc<Settings>, key: IdempotencyKey, token: ClaimToken) -> Self {
        Self {
            settings,
            key,
            token,
            settled: false,
        }
    }

    /// The key of the claimed delivery.
    #[must_use]
    pub fn key(&self) -> IdempotencyKey {
        self.key
    }

    /// Marks the delivery as processed: it is remembered for the done-TTL and its
    /// duplicates are answered without running the handler again.
    ///
    /// If the lease had already expired (the handler ran longer than the lease), another
    /// delivery may have claimed the key meanwhile; the store then refuses the stale
    /// completion, which is logged at `warn`, and this still returns `Ok`.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store cannot be reached; the claim then stays in flight until
    /// its lease expires.
    pub async fn complete(mut self) -> Result<(), StoreError> {
        self.settled = true;
        let (settings, key, token) = (Arc::clone(&self.settings), self.key, self.token);
        run_to_completion(async move {
            let owner = settings
                .store
                .complete(&key, token, settings.done_ttl)
                .await?;
            if !owner {
                tracing::warn!(
                    key = %key,
                    lease = ?settings.lease,
                    "lease expired before the delivery was completed; a retry may be processed again"
                );
            }
            Ok(())
        })
        .await
    }

    /// Forgets the claim, so the next delivery of this key (the provider's retry) is
    /// processed.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store cannot be reached; the claim then stays in flight until
    /// its lease expires.
    pub async fn release(mut self) -> Result<(), StoreError> {
        self.settled = true;
        let (settings, key, token) = (Arc::clone(&self.settings), self.key, self.token);
        run_to_completion(async move {
            if !settings.store.release(&key, token).await? {
                tracing::debug!(key = %key, "claim had already expired when released");
            }
            Ok(())
        })
        .await
    }

    /// [`complete`](Self::complete)s the claim when `success`, [`release`](Self::release)s it
    /// otherwise.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store cannot be reached.
    pub async fn settle(self, success: bool) -> Result<(), StoreError> {
        if success {
            self.complete().await
        } else {
            self.release().await
        }
    }
}

impl Drop for DeliveryGuard {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // Not settled: the handler failed, panicked or was cancelled. Release so that the
        // provider's retry is processed instead of waiting out the lease. `Drop` cannot
        // await, hence the spawned task; without a runtime the lease expiry does the job.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let settings = Arc::clone(&self.settings);
                let (key, token) = (self.key, self.token);
                tracing::debug!(key = %key, "delivery guard dropped unsettled; releasing");
                runtime.spawn(async move {
                    if let Err(error) = settings.store.release(&key, token).await {
                        tracing::warn!(
                            key = %key,
                            %error,
                            "could not release a dropped claim; it expires with its lease"
                        );
                    }
                });
            }
            Err(_) => {
                tracing::debug!(
                    key = %self.key,
                    "delivery guard dropped outside a tokio runtime; the claim expires with its lease"
                );
            }
        }
    }
}

impl fmt::Debug for DeliveryGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliveryGuard")
            .field("key", &self.key)
            .field("settled", &self.settled)
            .finish_non_exhaustive()
    }
}

/// Runs a settlement so that dropping the returned future cannot stop it half-way.
///
/// The operation is polled once in place: a store that answers at once (the in-memory one)
/// costs no task. One still pending is moved onto the tokio runtime and awaited there, so
/// if the caller's future is dropped (the client went away) the spawned task still
/// records the outcome. Outside a runtime it simply runs in place.
async fn run_to_completion<F>(operation: F) -> Result<(), StoreError>
where
    F: Future<Output = Result<(), StoreError>> + Send + 'static,
{
    let mut operation = Box::pin(operation);
    if let Poll::Ready(result) = operation
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        return result;
    }
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => match runtime.spawn(operation).await {
            Ok(result) => result,
            Err(join_error) => Err(StoreError::new(format!(
                "the settlement task did not finish: {join_error}"
            ))),
        },
        Err(_) => operation.await,
    }
}
