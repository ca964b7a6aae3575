//! The Lua scripts that make each store operation one atomic round trip.
//!
//! Values: `i:<token>` while a delivery is in flight (with the lease as TTL), `d` once done
//! (with the done-TTL). `complete` and `release` compare the token first, so a replica
//! whose lease expired (and whose key another replica claimed since) cannot touch the new
//! owner's claim.

use redis::Script;

/// Claims `KEYS[1]` with `ARGV[1]` for `ARGV[2]` ms if absent; else returns its value.
pub(crate) fn claim() -> Script {
    Script::new(
        r"
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
            return 'new'
        end
        return redis.call('GET', KEYS[1])
        ",
    )
}

/// Marks `KEYS[1]` done for `ARGV[2]` ms if it still holds `ARGV[1]`; returns 1 if so.
pub(crate) fn complete() -> Script {
    Script::new(
        r"
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            redis.call('SET', KEYS[1], 'd', 'PX', ARGV[2])
            return 1
        end
        return 0
        ",
    )
}

/// Deletes `KEYS[1]` if it still holds `ARGV[1]`; returns 1 if so.
pub(crate) fn release() -> Script {
    Script::new(
        r"
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            redis.call('DEL', KEYS[1])
            return 1
        end
        return 0
        ",
    )
}

/// The claim script's answer when it took the key.
pub(crate) const NEW: &str = "new";

/// The value of a done key.
pub(crate) const DONE: &str = "d";
