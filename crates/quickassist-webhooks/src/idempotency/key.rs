//! [`IdempotencyKey`]: the fixed-size digest a delivery is remembered by.

use std::fmt;

use sha2::{Digest, Sha256};

/// The fixed-size key a delivery is remembered by: the first 16 bytes of the SHA-256 of the
/// key string (by default the envelope's `webhookId`).
///
/// Stores keep 16 bytes per delivery instead of an arbitrary-length, attacker-chosen string,
/// which bounds memory per entry; 128 bits make accidental collisions impossible in practice.
///
/// # Example
///
/// ```
/// use quickassist_webhooks::idempotency::IdempotencyKey;
///
/// let key = IdempotencyKey::new("whk_abc123");
/// assert_eq!(key, IdempotencyKey::new("whk_abc123"));
/// assert_ne!(key, IdempotencyKey::new("whk_abc124"));
/// assert_eq!(key.to_string().len(), 32); // lowercase hex
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey([u8; 16]);

impl IdempotencyKey {
    /// Derives the key of a delivery from its key string (for example its `webhookId`).
    #[must_use]
    pub fn new(key: impl AsRef<[u8]>) -> Self {
        let digest = Sha256::digest(key.as_ref());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Self(bytes)
    }

    /// The key of `key` within `scope` (an account): the same `key` in two scopes gives two
    /// different keys, so two accounts that reuse a `webhookId` never collide.
    ///
    /// ```
    /// use quickassist_webhooks::idempotency::IdempotencyKey;
    ///
    /// let a = IdempotencyKey::scoped("acme", "whk_1");
    /// assert_ne!(a, IdempotencyKey::scoped("globex", "whk_1"));
    /// assert_ne!(a, IdempotencyKey::new("whk_1"));
    /// ```
    #[must_use]
    pub fn scoped(scope: &str, key: impl AsRef<[u8]>) -> Self {
        // The scope's length goes first, so ("ab", "c") and ("a", "bc") differ.
        let digest = Sha256::new()
            .chain_update(b"scope\0")
            .chain_update((scope.len() as u64).to_be_bytes())
            .chain_update(scope.as_bytes())
            .chain_update(key.as_ref())
            .finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Self(bytes)
    }

    /// Wraps 16 bytes that are already a key digest (for stores that read keys back).
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 digest bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_the_truncated_sha256_of_the_string() {
        // sha256("whk_abc123"), first 16 bytes, computed independently with Node's crypto.
        let key = IdempotencyKey::new("whk_abc123");
        let full = hex::encode(Sha256::digest(b"whk_abc123"));
        assert_eq!(key.to_string(), full[..32]);
        assert_eq!(IdempotencyKey::from_bytes(*key.as_bytes()), key);
    }

    #[test]
    fn debug_shows_the_hex_digest() {
        let key = IdempotencyKey::new("x");
        assert_eq!(format!("{key:?}"), format!("IdempotencyKey({key})"));
    }
}
