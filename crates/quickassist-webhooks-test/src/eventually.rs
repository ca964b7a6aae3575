//! [`eventually`]: wait until a condition holds, polling it with a deadline.

use std::time::Duration;

/// How long [`eventually`] pauses between two polls: short, so a test ends soon after its
/// condition holds, and not zero, so a poll that fails fast does not spin a core.
const PAUSE: Duration = Duration::from_millis(5);

/// What a condition polled by [`eventually`] answers: `bool` (`true` when it holds) or
/// `Option<T>` (`Some(value)` when it holds, the value being what [`eventually`] returns).
pub trait Condition {
    /// What [`eventually`] returns once the condition holds.
    type Output;

    /// `Some` when the condition holds.
    fn holds(self) -> Option<Self::Output>;
}

impl Condition for bool {
    type Output = ();

    fn holds(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Condition for Option<T> {
    type Output = T;

    fn holds(self) -> Option<T> {
        self
    }
}

/// Polls `check` until it holds and returns what it gave, pausing a few milliseconds between
/// polls (a store's expiry, a task spawned by a dropped guard, a server coming back). Waits
/// on the outcome, never on a fixed sleep.
///
/// `check` may panic itself on an answer that must never be seen meanwhile.
///
/// # Panics
///
/// When `check` does not hold within `within`; the message names `what` was awaited.
///
/// ```
/// use std::{sync::atomic::{AtomicUsize, Ordering}, time::Duration};
/// use quickassist_webhooks_test::eventually;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let polls = AtomicUsize::new(0);
/// eventually("the third poll", Duration::from_secs(5), async || {
///     polls.fetch_add(1, Ordering::SeqCst) == 2
/// })
/// .await;
/// // A condition may also hand back what it found.
/// let found = eventually("a value", Duration::from_secs(5), async || Some(42)).await;
/// assert_eq!(found, 42);
/// # }
/// ```
pub async fn eventually<C: Condition>(
    what: &str,
    within: Duration,
    mut check: impl AsyncFnMut() -> C,
) -> C::Output {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(output) = check().await.holds() {
            return output;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {within:?}"
        );
        tokio::time::sleep(PAUSE).await;
    }
}
