//! [`sign`]: the signature the provider sends, for tests, senders and tooling.

use hmac::Mac;

use crate::Secret;

/// Signs `body` the way the provider does: lowercase hex HMAC-SHA256 of exactly these bytes.
///
/// The provider signs `JSON.stringify(body)`; to reproduce a provider signature for a body
/// that is not in that form, sign [`canonicalize`](crate::canonical::canonicalize)'s output.
///
/// ```
/// use quickassist_webhooks::{sign, Secret};
///
/// let signature = sign(&Secret::from("key"), b"The quick brown fox jumps over the lazy dog");
/// // The RFC 2104 / Wikipedia test vector.
/// assert_eq!(signature, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
/// ```
#[must_use]
pub fn sign(secret: &Secret, body: &[u8]) -> String {
    let mut mac = secret.mac();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}
