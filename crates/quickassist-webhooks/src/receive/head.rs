//! [`RequestHead`]: what the pipeline needs from a request's head, before its body.

use crate::{accounts::AccountId, rejection::Rejection, signature::ClaimedTag};

/// The parts of a request head the pipeline decides on: the length the sender declared and
/// the `x-webhook-signature` header(s).
///
/// Integrations build it from their own header types; the rules (a length over the limit,
/// an absent, repeated or malformed signature) are applied by the
/// [`Receiver`](super::Receiver), the same for every framework.
///
/// ```
/// use quickassist_webhooks::receive::integration::RequestHead;
///
/// let head = RequestHead::new(Some(241), [b"sha256=00".as_slice()]);
/// assert_eq!(head.declared_length(), Some(241));
/// ```
#[derive(Clone)]
pub struct RequestHead {
    declared_length: Option<u64>,
    signature: Result<ClaimedTag, Rejection>,
    account: Option<AccountId>,
}

impl RequestHead {
    /// Reads a head: the declared body length (from `Content-Length`, or an exact size the
    /// body type knows) and every value of the signature header, in order.
    ///
    /// The header rule: no value is [`Rejection::MissingSignature`]; more than one, or one
    /// that is not 64 hex digits (optionally after `sha256=`), is
    /// [`Rejection::MalformedSignature`]. A sender that repeats the header could mean either
    /// value, so none is guessed.
    pub fn new<'a>(
        declared_length: Option<u64>,
        signatures: impl IntoIterator<Item = &'a [u8]>,
    ) -> Self {
        let mut values = signatures.into_iter();
        let signature = match (values.next(), values.next()) {
            (None, _) => Err(Rejection::MissingSignature),
            (Some(_), Some(_)) => Err(Rejection::MalformedSignature),
            (Some(value), None) => ClaimedTag::parse(value).ok_or(Rejection::MalformedSignature),
        };
        Self {
            declared_length,
            signature,
            account: None,
        }
    }

    /// The account the request names (from [`Receiver::account_in`](super::Receiver::account_in)),
    /// for a receiver of many accounts.
    #[must_use]
    pub fn with_account(mut self, account: Option<AccountId>) -> Self {
        self.account = account;
        self
    }

    /// The account the request names, if any.
    #[must_use]
    pub fn account(&self) -> Option<&AccountId> {
        self.account.as_ref()
    }

    /// Parses a `Content-Length` header value; `None` when absent or not a number (the
    /// body is then bounded while it is read).
    ///
    /// ```
    /// use quickassist_webhooks::receive::integration::RequestHead;
    /// assert_eq!(RequestHead::content_length(Some(b" 42 ")), Some(42));
    /// assert_eq!(RequestHead::content_length(Some(b"x")), None);
    /// ```
    #[must_use]
    pub fn content_length(value: Option<&[u8]>) -> Option<u64> {
        std::str::from_utf8(value?).ok()?.trim().parse().ok()
    }

    /// The body length the sender declared, if any.
    #[must_use]
    pub fn declared_length(&self) -> Option<u64> {
        self.declared_length
    }

    /// Whether the signature header passed the header rule (its value is never shown).
    fn signature_state(&self) -> &'static str {
        match self.signature {
            Ok(_) => "well-formed",
            Err(rejection) => rejection.code(),
        }
    }

    pub(super) fn signature(&self) -> Result<&ClaimedTag, Rejection> {
        self.signature.as_ref().map_err(|rejection| *rejection)
    }
}

impl std::fmt::Debug for RequestHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestHead")
            .field("declared_length", &self.declared_length)
            .field("signature", &self.signature_state())
            .field("account", &self.account)
            .finish()
    }
}
