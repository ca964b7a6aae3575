//! [`BodyBudget`]: the memory all request bodies being read may hold together.

use std::{
    fmt,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, OnceLock,
    },
};

/// How much memory the bodies being read and verified may hold together by default: 32 MiB.
///
/// That is 512 bodies at the [`DEFAULT_MAX_BODY`](crate::DEFAULT_MAX_BODY) limit, or tens of
/// thousands of the provider's events, in flight at once.
pub const DEFAULT_BODY_BUDGET: usize = 32 << 20;

/// Bodies up to this size (4 KiB, many times the provider's events) may use the part of the
/// budget that larger bodies cannot take: a stranger's large bodies never crowd out
/// the provider's small ones.
pub const SMALL_BODY: usize = 4 * 1024;

/// The share of the budget kept for [`SMALL_BODY`]-sized bodies: a quarter.
const SMALL_SHARE_DIVISOR: usize = 4;

/// The memory that the request bodies being read hold together, shared by every request of
/// a [`Receiver`](super::Receiver).
///
/// Bytes are taken from it as they arrive (never the declared `Content-Length` up front)
/// and given back once the body is verified and parsed, or refused. A request whose body
/// would take more than is left is refused with `503 overloaded` and `Retry-After`, so the
/// provider retries it; a declared length that cannot fit is refused before a byte is read.
/// A quarter of the budget is kept for bodies of at most [`SMALL_BODY`] bytes, so that
/// slow large bodies cannot keep the provider's small ones out.
///
/// Receivers built without [`body_budget`](super::ReceiverBuilder::body_budget) share one
/// budget of [`DEFAULT_BODY_BUDGET`] for the whole process.
///
/// ```
/// use quickassist_webhooks::{receive::Receiver, Verifier};
///
/// let receiver = Receiver::builder(Verifier::new("whsec_example"))
///     .body_budget(8 << 20)
///     .build()?;
/// assert_eq!(receiver.body_budget().capacity(), 8 << 20);
/// assert_eq!(receiver.body_budget().in_use(), 0);
/// # Ok::<_, quickassist_webhooks::idempotency::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct BodyBudget {
    inner: Arc<Inner>,
}

struct Inner {
    capacity: usize,
    /// What bodies larger than [`SMALL_BODY`] may hold together.
    large_capacity: usize,
    in_use: AtomicUsize,
}

impl BodyBudget {
    /// A budget of `capacity` bytes.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                capacity,
                large_capacity: capacity - capacity / SMALL_SHARE_DIVISOR,
                in_use: AtomicUsize::new(0),
            }),
        }
    }

    /// The budget shared by every receiver of this process that was not given its own.
    pub(crate) fn process_default() -> Self {
        static SHARED: OnceLock<BodyBudget> = OnceLock::new();
        SHARED
            .get_or_init(|| Self::new(DEFAULT_BODY_BUDGET))
            .clone()
    }

    /// The bytes all bodies may hold together.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }

    /// The bytes the bodies being read hold right now.
    #[must_use]
    pub fn in_use(&self) -> usize {
        self.inner.in_use.load(Ordering::Relaxed)
    }

    /// Whether a body of `len` bytes could be taken now (for a declared length).
    pub(super) fn could_take(&self, len: usize) -> bool {
        len <= self.room_for(len).saturating_sub(self.in_use())
    }

    /// A charge of nothing yet, to grow as the body's bytes arrive.
    pub(super) fn charge(&self) -> BodyCharge {
        BodyCharge {
            budget: self.clone(),
            held: 0,
        }
    }

    /// What a body of `total` bytes may share the budget up to.
    fn room_for(&self, total: usize) -> usize {
        if total <= SMALL_BODY {
            self.inner.capacity
        } else {
            self.inner.large_capacity
        }
    }
}

impl fmt::Debug for BodyBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyBudget")
            .field("capacity", &self.capacity())
            .field("in_use", &self.in_use())
            .finish()
    }
}

/// The bytes one body holds of a [`BodyBudget`]; given back when dropped.
#[derive(Debug)]
pub(super) struct BodyCharge {
    budget: BodyBudget,
    held: usize,
}

impl BodyCharge {
    /// Grows the charge to `total` bytes; `false` (and nothing taken) when the budget has no
    /// room for a body of that size.
    pub(super) fn grow_to(&mut self, total: usize) -> bool {
        let Some(more) = total.checked_sub(self.held).filter(|&more| more > 0) else {
            return true;
        };
        let room = self.budget.room_for(total);
        let in_use = &self.budget.inner.in_use;
        let taken = in_use.fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
            used.checked_add(more).filter(|&after| after <= room)
        });
        if taken.is_ok() {
            self.held = total;
        }
        taken.is_ok()
    }
}

impl Drop for BodyCharge {
    fn drop(&mut self) {
        self.budget
            .inner
            .in_use
            .fetch_sub(self.held, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_are_taken_as_they_grow_and_given_back_on_drop() {
        let budget = BodyBudget::new(64 * 1024);
        let mut first = budget.charge();
        assert!(first.grow_to(1000));
        assert!(first.grow_to(30_000));
        assert_eq!(budget.in_use(), 30_000);
        let mut second = budget.charge();
        // Large bodies share three quarters (48 KiB): 30,000 + 20,000 is over it.
        assert!(!second.grow_to(20_000));
        assert_eq!(budget.in_use(), 30_000);
        drop(first);
        assert_eq!(budget.in_use(), 0);
        assert!(second.grow_to(20_000));
    }

    #[test]
    fn small_bodies_get_the_quarter_large_ones_cannot_take() {
        let budget = BodyBudget::new(64 * 1024);
        let mut large = budget.charge();
        assert!(large.grow_to(48 * 1024));
        assert!(!budget.could_take(SMALL_BODY + 1));
        let mut smalls: Vec<_> = (0..4).map(|_| budget.charge()).collect();
        for small in &mut smalls {
            assert!(small.grow_to(SMALL_BODY));
        }
        assert_eq!(budget.in_use(), 64 * 1024);
        assert!(!budget.could_take(1));
        let mut one_more = budget.charge();
        assert!(!one_more.grow_to(1));
        drop(smalls);
        assert!(one_more.grow_to(SMALL_BODY));
    }

    #[test]
    fn receivers_without_their_own_budget_share_the_process_one() {
        let a = BodyBudget::process_default();
        let b = BodyBudget::process_default();
        assert!(Arc::ptr_eq(&a.inner, &b.inner));
        assert_eq!(a.capacity(), DEFAULT_BODY_BUDGET);
    }
}
