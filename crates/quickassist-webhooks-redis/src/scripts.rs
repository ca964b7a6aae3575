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

/// Merges a status update into the timeline at `KEYS[1]`: the compare-and-set of
/// `quickassist_webhooks::status::merge`, atomic in Redis.
///
/// `ARGV`: the update's rank, its time in milliseconds since the epoch, its status name,
/// and the TTL in milliseconds. The key holds `<rank>:<millis>:<name>`. The update applies
/// exactly when it is greater in the same order as `State`'s: rank, then time (as numbers:
/// every millisecond time is exact in Lua's doubles), then the name byte by byte (not Lua's
/// `<` on strings, which follows the server's locale). Applied, it is written with the TTL
/// and the script returns `{1, previous or ''}`; stale, `{0, current}`, the state unchanged
/// and only its TTL renewed.
pub(crate) fn status() -> Script {
    Script::new(
        r"
        local function name_less(a, b)
            local n = math.min(#a, #b)
            for i = 1, n do
                local x, y = string.byte(a, i), string.byte(b, i)
                if x ~= y then
                    return x < y
                end
            end
            return #a < #b
        end

        local rank, at, name = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
        local current = redis.call('GET', KEYS[1])
        if current then
            local crank, cat, cname = string.match(current, '^(%d+):(%-?%d+):(.*)$')
            if not crank then
                return redis.error_reply('ERR unreadable status state at ' .. KEYS[1])
            end
            crank, cat = tonumber(crank), tonumber(cat)
            local newer
            if rank ~= crank then
                newer = rank > crank
            elseif at ~= cat then
                newer = at > cat
            else
                newer = name_less(cname, name)
            end
            if not newer then
                redis.call('PEXPIRE', KEYS[1], ARGV[4])
                return {0, current}
            end
        else
            current = ''
        end
        redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2] .. ':' .. ARGV[3], 'PX', ARGV[4])
        return {1, current}
        ",
    )
}
