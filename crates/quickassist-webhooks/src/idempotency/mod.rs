//! Process each delivery once: the claim state machine and its stores.

mod key;
mod store;

pub use key::IdempotencyKey;
pub use store::{Claim, ClaimToken, IdempotencyStore, StoreError, StoreFuture};
