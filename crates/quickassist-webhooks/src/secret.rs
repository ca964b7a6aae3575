//! [`Secret`]: a webhook signing secret, pre-keyed and zeroized on drop.

use std::fmt;

use hmac::{Hmac, KeyInit};
use sha2::Sha256;
use zeroize::Zeroizing;

/// HMAC-SHA256, the provider's signature algorithm.
pub(crate) type HmacSha256 = Hmac<Sha256>;

/// A webhook signing secret, as shown in the provider's dashboard.
///
/// It holds the HMAC-SHA256 state already keyed with the secret, so verifying a message costs
/// only the message's SHA-256 blocks, not the per-message key setup. The key bytes handed in
/// are zeroized as soon as the state is keyed, and the keyed state itself (SHA-256 midstates
/// of the key, with `sha2`'s `zeroize` feature) is zeroized when the `Secret` is dropped.
///
/// `Debug` prints `Secret(..)`: a secret never reaches a log line by accident.
///
/// ```
/// use quickassist_webhooks::Secret;
///
/// let secret = Secret::from("whsec_example");
/// assert_eq!(format!("{secret:?}"), "Secret(..)");
/// ```
#[derive(Clone)]
pub struct Secret {
    keyed: HmacSha256,
}

impl Secret {
    /// Keys a secret from raw bytes. Any length is accepted (HMAC hashes long keys).
    ///
    /// ```
    /// let secret = quickassist_webhooks::Secret::new(b"whsec_example");
    /// # let _ = secret;
    /// ```
    #[must_use]
    pub fn new(key: impl AsRef<[u8]>) -> Self {
        Self {
            // HMAC accepts keys of every length, so this cannot fail.
            keyed: <HmacSha256 as KeyInit>::new_from_slice(key.as_ref())
                .expect("HMAC-SHA256 accepts keys of any length"),
        }
    }

    /// A fresh HMAC state keyed with this secret, ready for `update`.
    pub(crate) fn mac(&self) -> HmacSha256 {
        self.keyed.clone()
    }
}

impl From<&str> for Secret {
    fn from(key: &str) -> Self {
        Self::new(key)
    }
}

impl From<&[u8]> for Secret {
    fn from(key: &[u8]) -> Self {
        Self::new(key)
    }
}

impl From<String> for Secret {
    /// Takes the string and zeroizes its bytes once keyed.
    fn from(key: String) -> Self {
        let key = Zeroizing::new(key);
        Self::new(key.as_bytes())
    }
}

impl From<Vec<u8>> for Secret {
    /// Takes the bytes and zeroizes them once keyed.
    fn from(key: Vec<u8>) -> Self {
        let key = Zeroizing::new(key);
        Self::new(key.as_slice())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::Mac;

    #[test]
    fn every_constructor_keys_the_same_state() {
        let tags: Vec<Vec<u8>> = [
            Secret::from("k3y"),
            Secret::from(&b"k3y"[..]),
            Secret::from(String::from("k3y")),
            Secret::from(b"k3y".to_vec()),
            Secret::new("k3y"),
        ]
        .iter()
        .map(|secret| {
            let mut mac = secret.mac();
            mac.update(b"body");
            mac.finalize().into_bytes().to_vec()
        })
        .collect();
        assert!(tags.windows(2).all(|pair| pair[0] == pair[1]));
        // RFC 4231-style cross-check against a per-message keyed HMAC.
        let mut fresh = <HmacSha256 as KeyInit>::new_from_slice(b"k3y").unwrap();
        fresh.update(b"body");
        assert_eq!(tags[0], fresh.finalize().into_bytes().to_vec());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let secret = Secret::from("super-secret-value");
        assert_eq!(format!("{secret:?}"), "Secret(..)");
        assert_eq!(format!("{secret:#?}"), "Secret(..)");
    }
}
