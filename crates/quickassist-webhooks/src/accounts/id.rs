//! [`AccountId`] and [`AccountFrom`]: which account a request is for.

use std::{fmt, sync::Arc};

/// The id of one provider account, as the request names it.
///
/// 1 to 128 characters of `A-Z a-z 0-9 . _ -`: anything else is refused as an unknown
/// account before any lookup, so ids never need decoding and are safe in logs and keys.
///
/// ```
/// use quickassist_webhooks::accounts::AccountId;
///
/// assert_eq!(AccountId::new("acme-eu").unwrap().as_str(), "acme-eu");
/// assert!(AccountId::new("a/b").is_none());
/// assert!(AccountId::new("").is_none());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(Arc<str>);

impl AccountId {
    /// The longest id accepted.
    pub const MAX_LEN: usize = 128;

    /// An account id, or `None` when `id` is empty, too long or has other characters.
    #[must_use]
    pub fn new(id: &str) -> Option<Self> {
        let valid = (1..=Self::MAX_LEN).contains(&id.len())
            && id
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'));
        valid.then(|| Self(Arc::from(id)))
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.0)
    }
}

/// Where a request names its account.
///
/// ```
/// use quickassist_webhooks::accounts::AccountFrom;
///
/// let no_headers = |_: &str| None;
/// let id = AccountFrom::LastPathSegment.extract("/webhooks/thequickassist/acme", None, no_headers);
/// assert_eq!(id.unwrap().as_str(), "acme");
/// let id = AccountFrom::Query("account".into()).extract("/hook", Some("x=1&account=globex"), no_headers);
/// assert_eq!(id.unwrap().as_str(), "globex");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccountFrom {
    /// The last segment of the path: `/webhooks/thequickassist/{account}` (axum's
    /// `/{account}` route parameter, actix's `{account}` match info).
    LastPathSegment,
    /// A request header, by name.
    Header(String),
    /// A query parameter, by name (its first occurrence).
    Query(String),
}

impl AccountFrom {
    /// The account a request names: `path` and `query` from its URI, `header` looks a
    /// header up by name. `None` when it names none, or not a valid [`AccountId`].
    pub fn extract<'h>(
        &self,
        path: &str,
        query: Option<&str>,
        header: impl Fn(&str) -> Option<&'h [u8]>,
    ) -> Option<AccountId> {
        match self {
            Self::LastPathSegment => AccountId::new(path.trim_end_matches('/').rsplit('/').next()?),
            Self::Header(name) => AccountId::new(std::str::from_utf8(header(name)?).ok()?.trim()),
            Self::Query(name) => query?
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(key, _)| key == name)
                .and_then(|(_, value)| AccountId::new(value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_segment_ignores_a_trailing_slash_and_refuses_odd_ids() {
        let none = |_: &str| None;
        let from = AccountFrom::LastPathSegment;
        assert_eq!(
            from.extract("/hooks/acme/", None, none).unwrap().as_str(),
            "acme"
        );
        assert!(from.extract("/hooks/ac%2Fme", None, none).is_none());
        assert!(from.extract("/", None, none).is_none());
    }

    #[test]
    fn header_is_trimmed_and_must_be_utf8() {
        let from = AccountFrom::Header("x-account".into());
        let id = from.extract("/", None, |name| {
            (name == "x-account").then_some(&b" acme "[..])
        });
        assert_eq!(id.unwrap().as_str(), "acme");
        assert!(from.extract("/", None, |_| Some(&[0xff][..])).is_none());
    }

    #[test]
    fn too_long_ids_are_refused() {
        assert!(AccountId::new(&"a".repeat(AccountId::MAX_LEN)).is_some());
        assert!(AccountId::new(&"a".repeat(AccountId::MAX_LEN + 1)).is_none());
    }
}
