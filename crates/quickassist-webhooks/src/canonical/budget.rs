//! The work budget of [`canonicalize_bounded`](super::canonicalize_bounded): a meter that
//! lets a forged body cost only a small multiple of one HMAC over its bytes.
//!
//! One unit is about the cost of one token (a key or a value) through the transducer, roughly
//! what HMAC-SHA256 takes for 16 bytes. The costly steps are charged in those units *before*
//! they are done, so a body gives up as soon as it has used its allowance, not after.

/// Units every body may spend whatever its length: far more than any webhook event needs
/// (the provider's events are a few dozen tokens).
const BASE_UNITS: u64 = 512;

/// Bytes of input per unit of allowance beyond [`BASE_UNITS`].
const BYTES_PER_UNIT: u64 = 16;

/// Pairwise key comparisons (objects of up to 16 members) per unit.
pub(super) const PAIRS_PER_UNIT: u64 = 8;
/// Key comparisons of a sort (larger objects) per unit.
pub(super) const SORT_COMPARISONS_PER_UNIT: u64 = 4;
/// Units per member of an object rebuilt in another order.
pub(super) const UNITS_PER_REBUILT_MEMBER: u64 = 4;
/// Units per number converted through a double (parse and shortest round trip).
pub(super) const UNITS_PER_SLOW_NUMBER: u64 = 8;

/// What is left of the allowance; `None` when unbounded ([`canonicalize`](super::canonicalize)).
#[derive(Clone, Copy, Debug)]
pub(super) struct Budget {
    remaining: Option<u64>,
}

impl Budget {
    pub(super) fn unbounded() -> Self {
        Self { remaining: None }
    }

    /// The allowance for an input of `len` bytes.
    pub(super) fn for_input(len: usize) -> Self {
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        Self {
            remaining: Some(BASE_UNITS.saturating_add(len / BYTES_PER_UNIT)),
        }
    }

    /// Takes `units`; `false` once the allowance is exhausted.
    pub(super) fn take(&mut self, units: u64) -> bool {
        match &mut self.remaining {
            None => true,
            Some(remaining) => match remaining.checked_sub(units) {
                Some(left) => {
                    *remaining = left;
                    true
                }
                None => false,
            },
        }
    }

    /// Whether an output of `len` bytes fits: a bounded form is never longer than its input
    /// (plus a little), since a verifier HMACs the form too. Only numbers grow (`1e20` prints
    /// as 21 digits), and `JSON.stringify`'s own output has none that do.
    pub(super) fn allows_output(&self, input_len: usize, output_len: usize) -> bool {
        self.remaining.is_none() || output_len <= input_len.saturating_add(64)
    }
}

/// `n · ⌈log2 n⌉`: the comparisons of a sort of `n` items, as charged.
pub(super) fn sort_comparisons(n: usize) -> u64 {
    let n = n as u64;
    n * u64::from(u64::BITS - n.leading_zeros())
}
