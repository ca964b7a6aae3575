//! Fresh `webhookId`s for generated events.

use std::{
    hash::{BuildHasher, Hasher, RandomState},
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

/// A new `whk_` id with 64 random-looking bits: unique per call in this process (a counter),
/// and across processes (the OS-seeded `RandomState` keys and the clock).
pub(crate) fn fresh() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    format!("whk_{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    #[test]
    fn ids_are_fresh_and_shaped_like_the_providers() {
        let ids: HashSet<String> = (0..10_000).map(|_| super::fresh()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids
            .iter()
            .all(|id| id.len() == 20 && id.starts_with("whk_")));
    }
}
