//! [`Verifier`]: is this request really from the provider?
//!
//! The provider signs `hex(HMAC-SHA256(secret, JSON.stringify(body)))`. When its sender
//! serializes the body with `JSON.stringify` (the usual case) the raw bytes are what was
//! signed; a body that reached us in another JSON form (re-indented by a proxy, or sent by a
//! different serializer) carries the signature of its `JSON.stringify` form instead. So the
//! verifier checks the raw bytes first and, only if that fails, their
//! [canonical form](crate::canonical), unless switched to [`raw_only`](Verifier::raw_only).
//!
//! ```
//! use quickassist_webhooks::{sign, Secret, SignedForm, Verifier};
//!
//! let verifier = Verifier::new("whsec_example");
//! let body = br#"{"event":"message.read","timestamp":"2024-01-15T10:30:00Z","data":{"messageId":"m"},"webhookId":"whk_1"}"#;
//! let signature = sign(&Secret::from("whsec_example"), body);
//!
//! let verified = verifier.verify(Some(&signature), body)?;
//! assert_eq!(verified.form(), SignedForm::Raw);
//! assert_eq!(verified.parse::<quickassist_webhooks::Event>()?.webhook_id, "whk_1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::{fmt, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use hmac::Mac;
use serde::{de::DeserializeOwned, Deserialize};

use crate::{
    canonical::canonicalize_bounded,
    event::{parse_envelope, Envelope, PayloadError},
    signature::ClaimedTag,
    Secret,
};

/// Default largest body a [`Verifier`] accepts: 64 KiB.
///
/// The provider's events are a few hundred bytes; 64 KiB leaves room for long template
/// names and fields it may add, while a stranger's forged body costs little to refuse.
pub const DEFAULT_MAX_BODY: usize = 64 * 1024;

/// How far ahead of this machine's clock a signed `timestamp` may be by default: 5 minutes
/// (the sender's clock may run a little ahead of ours).
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// The clock the replay window reads; injectable for tests.
type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Verifies webhook signatures: one or more secrets (key rotation), the canonical-form
/// fallback, a body size limit and an optional replay window.
///
/// Cheap to clone (an `Arc` inside); build it once and share it.
///
/// ```
/// use std::time::Duration;
/// use quickassist_webhooks::Verifier;
///
/// let verifier = Verifier::new("whsec_new")
///     .with_secret("whsec_old") // still valid while the provider switches over
///     .with_max_body(64 * 1024)
///     .with_timestamp_tolerance(Duration::from_secs(300));
/// assert_eq!(verifier.max_body(), 64 * 1024);
/// assert_eq!(verifier.timestamp_tolerance(), Some(Duration::from_secs(300)));
/// ```
#[derive(Clone)]
#[must_use]
pub struct Verifier {
    config: Arc<Config>,
}

#[derive(Clone)]
struct Config {
    secrets: Vec<Secret>,
    canonical_fallback: bool,
    max_body: usize,
    window: ReplayWindow,
    clock_skew: Duration,
    clock: Option<Clock>,
}

/// How old a signed `timestamp` may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReplayWindow {
    /// Not chosen: no window on a bare verifier; a [`Receiver`](crate::receive::Receiver)
    /// sets the one its de-duplication memory covers.
    Unset,
    /// At most this old.
    Max(Duration),
    /// Any age (turned off on purpose).
    Off,
}

impl Verifier {
    /// A verifier for one secret, with the canonical fallback on, the [`DEFAULT_MAX_BODY`]
    /// limit and no replay window of its own: a [`Receiver`](crate::receive::Receiver) built
    /// with it refuses timestamps older than its de-duplication remembers (see
    /// [`with_timestamp_tolerance`](Self::with_timestamp_tolerance)).
    pub fn new(secret: impl Into<Secret>) -> Self {
        Self {
            config: Arc::new(Config {
                secrets: vec![secret.into()],
                canonical_fallback: true,
                max_body: DEFAULT_MAX_BODY,
                window: ReplayWindow::Unset,
                clock_skew: DEFAULT_CLOCK_SKEW,
                clock: None,
            }),
        }
    }

    /// This verifier's settings (body limit, replay window, canonical fallback, clock) with
    /// `secrets` instead of its own: one account's verifier, made from the receiver's.
    pub(crate) fn with_secrets(&self, secrets: Vec<Secret>) -> Self {
        let mut config = (*self.config).clone();
        config.secrets = secrets;
        Self {
            config: Arc::new(config),
        }
    }

    /// Settings without any secret: the template of per-account verifiers, which never
    /// verifies anything by itself.
    pub(crate) fn template() -> Self {
        Self::new(Secret::from("")).with_secrets(Vec::new())
    }

    /// Adds another accepted secret, for key rotation: a signature made with any one of them
    /// is valid, and [`Verified::key_index`] says which (0 is the first, in order of adding).
    pub fn with_secret(mut self, secret: impl Into<Secret>) -> Self {
        Arc::make_mut(&mut self.config).secrets.push(secret.into());
        self
    }

    /// Accepts only signatures of the raw bytes, never of the canonical form.
    ///
    /// For senders you control that sign exactly the bytes they send; it saves the parse a
    /// forged request would otherwise cost.
    pub fn raw_only(mut self) -> Self {
        Arc::make_mut(&mut self.config).canonical_fallback = false;
        self
    }

    /// Sets the largest body accepted, in bytes (default [`DEFAULT_MAX_BODY`]). The
    /// integrations enforce it while streaming, before buffering more.
    pub fn with_max_body(mut self, limit: usize) -> Self {
        Arc::make_mut(&mut self.config).max_body = limit;
        self
    }

    /// Refuses a correctly signed body whose `timestamp` is older than `tolerance`
    /// ([`VerifyError::StaleTimestamp`], answered `401 stale_timestamp`) or further ahead of
    /// now than the [clock skew](Self::with_clock_skew) ([`VerifyError::FutureTimestamp`]),
    /// so a captured request cannot be replayed later.
    ///
    /// The provider signs a delivery once, so its retries carry the original timestamp: a
    /// window shorter than the provider's retry horizon refuses real retries. The window that
    /// fits is the one the idempotency store remembers, and that is the default of a
    /// [`Receiver`](crate::receive::Receiver): its de-duplication's done-TTL less the clock
    /// skew (24 h less 5 minutes by default). A delivery older than anything the store can
    /// still recognise is then refused instead of processed a second time. Set the done-TTL,
    /// and with it the window, to the provider's retry horizon; a *first* delivery older
    /// than that is refused too. A longer window than the done-TTL covers is refused when
    /// the receiver is built.
    ///
    /// ```
    /// use std::time::Duration;
    /// use quickassist_webhooks::Verifier;
    ///
    /// let verifier = Verifier::new("k").with_timestamp_tolerance(Duration::from_secs(3600));
    /// assert_eq!(verifier.timestamp_tolerance(), Some(Duration::from_secs(3600)));
    /// ```
    pub fn with_timestamp_tolerance(mut self, tolerance: Duration) -> Self {
        Arc::make_mut(&mut self.config).window = ReplayWindow::Max(tolerance);
        self
    }

    /// Accepts signed timestamps of any age, even in a receiver: a replay older than the
    /// de-duplication's done-TTL is then processed again. For senders whose timestamps
    /// mean nothing.
    ///
    /// ```
    /// let verifier = quickassist_webhooks::Verifier::new("k").without_timestamp_tolerance();
    /// assert_eq!(verifier.timestamp_tolerance(), None);
    /// ```
    pub fn without_timestamp_tolerance(mut self) -> Self {
        Arc::make_mut(&mut self.config).window = ReplayWindow::Off;
        self
    }

    /// How far ahead of now a signed `timestamp` may be while a replay window is on
    /// (default [`DEFAULT_CLOCK_SKEW`]); further ahead is [`VerifyError::FutureTimestamp`].
    ///
    /// ```
    /// use std::time::Duration;
    /// let verifier = quickassist_webhooks::Verifier::new("k").with_clock_skew(Duration::from_secs(30));
    /// assert_eq!(verifier.clock_skew(), Duration::from_secs(30));
    /// ```
    pub fn with_clock_skew(mut self, skew: Duration) -> Self {
        Arc::make_mut(&mut self.config).clock_skew = skew;
        self
    }

    /// This verifier with the replay window `tolerance` if none was chosen: what a receiver
    /// does with the window its de-duplication covers.
    pub(crate) fn with_default_tolerance(self, tolerance: Duration) -> Self {
        match self.config.window {
            ReplayWindow::Unset => self.with_timestamp_tolerance(tolerance),
            _ => self,
        }
    }

    /// Whether a replay window was chosen (set, or turned off).
    pub(crate) fn has_chosen_tolerance(&self) -> bool {
        self.config.window != ReplayWindow::Unset
    }

    /// Replaces the clock the replay window reads (for tests).
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use quickassist_webhooks::Verifier;
    ///
    /// let verifier = Verifier::new("k").clock(|| Utc.with_ymd_and_hms(2024, 1, 15, 10, 30, 0).unwrap());
    /// # let _ = verifier;
    /// ```
    pub fn clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        Arc::make_mut(&mut self.config).clock = Some(Arc::new(clock));
        self
    }

    /// The largest body accepted, in bytes.
    #[must_use]
    pub fn max_body(&self) -> usize {
        self.config.max_body
    }

    /// The replay window (how old a signed timestamp may be), if one is set.
    #[must_use]
    pub fn timestamp_tolerance(&self) -> Option<Duration> {
        match self.config.window {
            ReplayWindow::Max(tolerance) => Some(tolerance),
            ReplayWindow::Unset | ReplayWindow::Off => None,
        }
    }

    /// How far ahead of now a signed timestamp may be while a replay window is on.
    #[must_use]
    pub fn clock_skew(&self) -> Duration {
        self.config.clock_skew
    }

    /// Verifies `body` against the `x-webhook-signature` header value (`None` when absent).
    ///
    /// # Errors
    ///
    /// - [`VerifyError::PayloadTooLarge`]: the body exceeds the limit.
    /// - [`VerifyError::MissingSignature`] / [`VerifyError::MalformedSignature`]: no header, or
    ///   not 64 hex digits (after trimming whitespace and an optional `sha256=`).
    /// - [`VerifyError::InvalidSignature`]: no secret signed these bytes or their canonical form.
    /// - [`VerifyError::MissingTimestamp`], [`VerifyError::StaleTimestamp`] or
    ///   [`VerifyError::FutureTimestamp`]: with a replay window, the signed `timestamp` is
    ///   absent, older than the window, or further ahead than the clock skew.
    pub fn verify<'b>(
        &self,
        signature: Option<&str>,
        body: &'b [u8],
    ) -> Result<Verified<'b>, VerifyError> {
        self.verify_bytes(signature.map(str::as_bytes), body)
    }

    /// [`verify`](Self::verify) with the header value as raw bytes, as HTTP delivers it
    /// (a header that is not ASCII hex is [`VerifyError::MalformedSignature`]).
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify).
    pub fn verify_bytes<'b>(
        &self,
        signature: Option<&[u8]>,
        body: &'b [u8],
    ) -> Result<Verified<'b>, VerifyError> {
        if body.len() > self.config.max_body {
            return Err(self.too_large());
        }
        let claimed = ClaimedTag::parse(signature.ok_or(VerifyError::MissingSignature)?)
            .ok_or(VerifyError::MalformedSignature)?;
        self.verify_claimed(&claimed, body)
    }

    /// [`verify_bytes`](Self::verify_bytes) for a header already parsed (by the receiving
    /// pipeline's head check).
    pub(crate) fn verify_claimed<'b>(
        &self,
        claimed: &ClaimedTag,
        body: &'b [u8],
    ) -> Result<Verified<'b>, VerifyError> {
        if body.len() > self.config.max_body {
            return Err(self.too_large());
        }
        let claimed = *claimed;
        let verified = match self.match_secret(&claimed, body, SignedForm::Raw) {
            Some(info) => Verified {
                received: body,
                canonical: None,
                info,
            },
            None => {
                let (info, canonical) = self
                    .match_canonical(&claimed, body)
                    .ok_or(VerifyError::InvalidSignature)?;
                Verified {
                    received: body,
                    canonical: Some(canonical),
                    info,
                }
            }
        };
        if let Some(tolerance) = self.timestamp_tolerance() {
            // What was signed, not what was sent: the two may disagree (duplicate keys).
            self.check_timestamp(verified.body(), tolerance)?;
        }
        Ok(verified)
    }

    fn match_secret(
        &self,
        claimed: &ClaimedTag,
        message: &[u8],
        form: SignedForm,
    ) -> Option<Verification> {
        self.config
            .secrets
            .iter()
            .position(|secret| {
                let mut mac = secret.mac();
                mac.update(message);
                claimed.matches(&mac.finalize().into_bytes())
            })
            .map(|key_index| Verification { form, key_index })
    }

    fn match_canonical(
        &self,
        claimed: &ClaimedTag,
        body: &[u8],
    ) -> Option<(Verification, Vec<u8>)> {
        if !self.config.canonical_fallback {
            return None;
        }
        // Not JSON at all (or too costly a form: a forgery's trick): nothing else was signed.
        let canonical = canonicalize_bounded(body).ok()?;
        if canonical == body {
            return None; // the raw check already covered these exact bytes
        }
        let info = self.match_secret(claimed, &canonical, SignedForm::Canonical)?;
        Some((info, canonical))
    }

    fn check_timestamp(&self, body: &[u8], tolerance: Duration) -> Result<(), VerifyError> {
        #[derive(Deserialize)]
        struct Stamp {
            timestamp: Option<DateTime<Utc>>,
        }
        let stamp = serde_json::from_slice::<Stamp>(body)
            .ok()
            .and_then(|stamp| stamp.timestamp)
            .ok_or(VerifyError::MissingTimestamp)?;
        let now = self
            .config
            .clock
            .as_ref()
            .map_or_else(Utc::now, |clock| clock());
        // A negative age (a timestamp ahead of now) fails `to_std`: then it is how far ahead.
        match (now - stamp).to_std() {
            Ok(age) if age > tolerance => Err(VerifyError::StaleTimestamp {
                age,
                max_age: tolerance,
            }),
            Ok(_) => Ok(()),
            Err(_) => {
                let ahead = (stamp - now).to_std().unwrap_or(Duration::MAX);
                let allowed = self.config.clock_skew;
                if ahead > allowed {
                    Err(VerifyError::FutureTimestamp { ahead, allowed })
                } else {
                    Ok(())
                }
            }
        }
    }

    fn too_large(&self) -> VerifyError {
        VerifyError::PayloadTooLarge {
            limit: self.config.max_body,
        }
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only counts and settings: never a secret.
        f.debug_struct("Verifier")
            .field("secrets", &self.config.secrets.len())
            .field("canonical_fallback", &self.config.canonical_fallback)
            .field("max_body", &self.config.max_body)
            .field("timestamp_tolerance", &self.timestamp_tolerance())
            .field("clock_skew", &self.config.clock_skew)
            .finish_non_exhaustive()
    }
}

/// Which bytes the matching signature was computed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignedForm {
    /// The body exactly as received.
    Raw,
    /// The body's `JSON.stringify(JSON.parse(body))` form, as the provider's documented
    /// receiver computes it.
    Canonical,
}

/// How a request was verified: which form of the body and which secret matched.
///
/// `Copy` and `'static`, so integrations put it in request extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Verification {
    /// Which bytes were signed.
    pub form: SignedForm,
    /// Which secret signed them: its position in the order the secrets were added.
    pub key_index: usize,
}

/// A body whose signature checked out, ready to [`parse`](Self::parse).
///
/// When the body verified through its `JSON.stringify` form
/// ([`SignedForm::Canonical`]), that form is what was signed, and it is what
/// [`body`](Self::body) returns and [`parse`](Self::parse) reads: the bytes as received may
/// say something the signature does not cover. `JSON.stringify(JSON.parse(…))` rounds
/// integers above 2^53, so `{"n":12345678901234567890}` verifies with the signature of
/// `{"n":12345678901234567000}`; the digits that reach you are the signed ones.
///
/// ```
/// use quickassist_webhooks::{sign, Secret, SignedForm, Verifier};
///
/// let signature = sign(&Secret::from("k"), br#"{"n":12345678901234567000}"#);
/// let sent = br#"{"n":12345678901234567890}"#;
/// let verified = Verifier::new("k").verify(Some(&signature), sent)?;
/// assert_eq!(verified.form(), SignedForm::Canonical);
/// assert_eq!(verified.body(), br#"{"n":12345678901234567000}"#);
/// assert_eq!(verified.received(), sent);
/// # Ok::<(), quickassist_webhooks::VerifyError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Verified<'b> {
    received: &'b [u8],
    canonical: Option<Vec<u8>>,
    info: Verification,
}

impl<'b> Verified<'b> {
    /// Which form of the body matched.
    #[must_use]
    pub fn form(&self) -> SignedForm {
        self.info.form
    }

    /// Which secret matched (0 = the first added).
    #[must_use]
    pub fn key_index(&self) -> usize {
        self.info.key_index
    }

    /// The bytes the signature covers: the body as received, or its canonical form when
    /// that is what verified.
    #[must_use]
    pub fn body(&self) -> &[u8] {
        self.canonical.as_deref().unwrap_or(self.received)
    }

    /// The body exactly as received, whichever form verified. Only its canonical form is
    /// authentic when [`form`](Self::form) is [`SignedForm::Canonical`].
    #[must_use]
    pub fn received(&self) -> &'b [u8] {
        self.received
    }

    /// The canonical form that verified, owned; `None` when the raw bytes did.
    ///
    /// ```
    /// use quickassist_webhooks::{sign, Secret, Verifier};
    ///
    /// let raw = br#"{"a":1}"#;
    /// let verified = Verifier::new("k").verify(Some(&sign(&Secret::from("k"), raw)), raw)?;
    /// assert_eq!(verified.into_canonical(), None);
    /// # Ok::<(), quickassist_webhooks::VerifyError>(())
    /// ```
    #[must_use]
    pub fn into_canonical(self) -> Option<Vec<u8>> {
        self.canonical
    }

    /// Form and key index together, to store beside the request.
    #[must_use]
    pub fn info(&self) -> Verification {
        self.info
    }

    /// Parses the signed bytes ([`body`](Self::body)) into a typed [`Envelope`].
    ///
    /// # Errors
    ///
    /// [`PayloadError`] naming the JSON path of the offending field, when the authentic body
    /// is not a valid envelope.
    pub fn parse<E: DeserializeOwned>(&self) -> Result<Envelope<E>, PayloadError> {
        parse_envelope(self.body())
    }
}

/// Why a request's signature was not accepted.
///
/// Messages never contain a secret, the expected signature or the body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `x-webhook-signature` header.
    #[error("the request has no x-webhook-signature header")]
    MissingSignature,
    /// The header is not 64 hex digits (optionally after `sha256=`).
    #[error("the x-webhook-signature header is not 64 hexadecimal digits")]
    MalformedSignature,
    /// No configured secret signed the body (raw or canonical).
    #[error("the signature does not match the body under any configured secret")]
    InvalidSignature,
    /// The replay window is on and the signed body has no valid `timestamp`.
    #[error("the signed body has no valid `timestamp`, which the replay window requires")]
    MissingTimestamp,
    /// The signed `timestamp` is older than the replay window.
    #[error("the signed timestamp is {age:?} old, beyond the {max_age:?} replay window")]
    StaleTimestamp {
        /// How old the timestamp is.
        age: Duration,
        /// The replay window.
        max_age: Duration,
    },
    /// The signed `timestamp` is further ahead of now than the clock skew allows.
    #[error("the signed timestamp is {ahead:?} ahead of now, beyond the {allowed:?} clock skew")]
    FutureTimestamp {
        /// How far ahead of now the timestamp is.
        ahead: Duration,
        /// The clock skew allowed.
        allowed: Duration,
    },
    /// The body is larger than the limit.
    #[error("the body is larger than the {limit}-byte limit")]
    PayloadTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign;
    use chrono::TimeZone;

    const BODY: &[u8] = br#"{"event":"message.read","timestamp":"2024-01-15T10:30:00Z","data":{"messageId":"m"},"webhookId":"whk_1"}"#;

    fn signed(secret: &str, body: &[u8]) -> String {
        sign(&Secret::from(secret), body)
    }

    #[test]
    fn raw_signature_verifies() {
        let verified = Verifier::new("s")
            .verify(Some(&signed("s", BODY)), BODY)
            .unwrap();
        assert_eq!(
            verified.info(),
            Verification {
                form: SignedForm::Raw,
                key_index: 0
            }
        );
        assert_eq!(verified.body(), BODY);
    }

    #[test]
    fn rotated_secrets_report_which_matched() {
        let verifier = Verifier::new("a").with_secret("b").with_secret("c");
        for (index, secret) in ["a", "b", "c"].iter().enumerate() {
            let verified = verifier.verify(Some(&signed(secret, BODY)), BODY).unwrap();
            assert_eq!(verified.key_index(), index);
        }
        assert_eq!(
            verifier.verify(Some(&signed("d", BODY)), BODY).unwrap_err(),
            VerifyError::InvalidSignature
        );
    }

    #[test]
    fn pretty_body_verifies_through_its_canonical_form_unless_raw_only() {
        let pretty = b"{\n  \"event\": \"message.read\",\n  \"n\": 1.0\n}";
        let signature = signed("s", br#"{"event":"message.read","n":1}"#);
        let verified = Verifier::new("s").verify(Some(&signature), pretty).unwrap();
        assert_eq!(verified.form(), SignedForm::Canonical);
        assert_eq!(
            Verifier::new("s")
                .raw_only()
                .verify(Some(&signature), pretty)
                .unwrap_err(),
            VerifyError::InvalidSignature
        );
    }

    #[test]
    fn header_problems_have_their_own_errors() {
        let verifier = Verifier::new("s");
        assert_eq!(
            verifier.verify(None, BODY).unwrap_err(),
            VerifyError::MissingSignature
        );
        assert_eq!(
            verifier.verify(Some("abc"), BODY).unwrap_err(),
            VerifyError::MalformedSignature
        );
        assert_eq!(
            verifier.verify_bytes(Some(&[0xff; 64]), BODY).unwrap_err(),
            VerifyError::MalformedSignature
        );
        let upper = format!(" sha256={} ", signed("s", BODY).to_uppercase());
        assert!(verifier.verify(Some(&upper), BODY).is_ok());
    }

    #[test]
    fn size_limit_applies_before_anything_else() {
        let verifier = Verifier::new("s").with_max_body(BODY.len() - 1);
        assert_eq!(
            verifier.verify(None, BODY).unwrap_err(),
            VerifyError::PayloadTooLarge {
                limit: BODY.len() - 1
            }
        );
    }

    #[test]
    fn replay_window_refuses_old_and_far_future_timestamps() {
        // BODY is signed at 10:30.
        let at = |hour, minute| move || Utc.with_ymd_and_hms(2024, 1, 15, hour, minute, 0).unwrap();
        let window = Duration::from_secs(3600);
        let signature = signed("s", BODY);
        let verifier = |now| {
            Verifier::new("s")
                .with_timestamp_tolerance(window)
                .clock(now)
        };
        assert!(verifier(at(11, 30)).verify(Some(&signature), BODY).is_ok());
        assert_eq!(
            verifier(at(11, 31))
                .verify(Some(&signature), BODY)
                .unwrap_err(),
            VerifyError::StaleTimestamp {
                age: Duration::from_secs(3660),
                max_age: window
            }
        );
        // Ahead of our clock: within the 5-minute skew, then beyond it.
        assert!(verifier(at(10, 25)).verify(Some(&signature), BODY).is_ok());
        assert_eq!(
            verifier(at(10, 24))
                .verify(Some(&signature), BODY)
                .unwrap_err(),
            VerifyError::FutureTimestamp {
                ahead: Duration::from_secs(360),
                allowed: DEFAULT_CLOCK_SKEW
            }
        );
        let tight = verifier(at(10, 29)).with_clock_skew(Duration::from_secs(30));
        assert!(matches!(
            tight.verify(Some(&signature), BODY),
            Err(VerifyError::FutureTimestamp { .. })
        ));
        let no_stamp = br#"{"event":"x"}"#;
        assert_eq!(
            verifier(at(10, 30))
                .verify(Some(&signed("s", no_stamp)), no_stamp)
                .unwrap_err(),
            VerifyError::MissingTimestamp
        );
        // A bare verifier has no window unless one is set; off means off.
        assert!(Verifier::new("s").verify(Some(&signature), BODY).is_ok());
        let off = Verifier::new("s")
            .with_timestamp_tolerance(window)
            .without_timestamp_tolerance();
        assert_eq!(off.timestamp_tolerance(), None);
        assert!(off.has_chosen_tolerance());
        assert!(off.verify(Some(&signature), BODY).is_ok());
    }

    #[test]
    fn debug_and_errors_never_show_secrets_or_signatures() {
        let verifier = Verifier::new("top-secret-key");
        let debug = format!("{verifier:?}");
        assert!(!debug.contains("top-secret"), "{debug}");
        let expected = signed("top-secret-key", BODY);
        let wrong = signed("other", BODY);
        let err = verifier.verify(Some(&wrong), BODY).unwrap_err();
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(
                !text.contains(&expected) && !text.contains(&wrong),
                "{text}"
            );
        }
    }
}
