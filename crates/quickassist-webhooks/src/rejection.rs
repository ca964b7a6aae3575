//! Why a webhook request was refused, and the one HTTP answer for each reason.
//!
//! Every integration (tower, axum, actix-web, the CLI's receiver) turns a failure into a
//! response through [`Rejection`], so the same request gets the same status, the same
//! machine-readable code and the same body whatever framework serves it. This crate stays
//! framework-free: statuses are plain `u16`s and bodies are `&'static str`s that the
//! integrations copy into their own response types.
//!
//! ```
//! use quickassist_webhooks::rejection::Rejection;
//!
//! let rejection = Rejection::InvalidSignature;
//! assert_eq!(rejection.status(), 401);
//! assert_eq!(rejection.code(), "invalid_signature");
//! assert_eq!(rejection.json_body(), r#"{"error":"invalid_signature"}"#);
//! ```

use std::fmt;

use crate::event::PayloadError;
use crate::idempotency::DedupRejection;
use crate::verify::VerifyError;

/// Response header set on the `200 OK` answered for a delivery that was already processed.
///
/// ```
/// assert_eq!(quickassist_webhooks::rejection::DUPLICATE_HEADER, "x-webhook-duplicate");
/// ```
pub const DUPLICATE_HEADER: &str = "x-webhook-duplicate";

/// Body of the `200 OK` answered for a delivery that was already processed.
///
/// The provider only looks at the status; the body tells a human reading logs what happened.
pub const DUPLICATE_BODY: &str = r#"{"status":"duplicate"}"#;

/// Body of the `200 OK` answered for a delivery an [`Intake`](crate::receive::Intake)
/// stored, to be processed later.
///
/// ```
/// assert_eq!(quickassist_webhooks::rejection::ACCEPTED_BODY, r#"{"status":"accepted"}"#);
/// ```
pub const ACCEPTED_BODY: &str = r#"{"status":"accepted"}"#;

/// Seconds in the `Retry-After` header of a [`Rejection::Overloaded`] answer.
///
/// ```
/// use quickassist_webhooks::rejection::{Rejection, OVERLOADED_RETRY_AFTER};
/// assert_eq!(Rejection::Overloaded.retry_after(), Some(OVERLOADED_RETRY_AFTER));
/// ```
pub const OVERLOADED_RETRY_AFTER: u64 = 5;

/// Content type of every rejection body.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// Why a webhook request was refused.
///
/// Each variant knows its HTTP status ([`status`](Self::status)), a stable machine-readable
/// code ([`code`](Self::code)) and a small JSON body ([`json_body`](Self::json_body)) that
/// never echoes the request, a secret or an expected signature.
///
/// ```
/// use quickassist_webhooks::rejection::Rejection;
///
/// let busy = Rejection::DuplicateInFlight { retry_after: 60 };
/// assert_eq!(busy.status(), 409);
/// assert_eq!(busy.retry_after(), Some(60));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The request carried no `x-webhook-signature` header.
    MissingSignature,
    /// The signature header is not 64 hexadecimal digits (optionally prefixed with `sha256=`).
    MalformedSignature,
    /// The signature does not match the body under any configured secret.
    InvalidSignature,
    /// The signed `timestamp` is older than the replay window: the idempotency store may
    /// no longer remember this delivery, so it is refused rather than processed again.
    StaleTimestamp,
    /// The signed `timestamp` lies further in the future than the allowed clock skew.
    FutureTimestamp,
    /// The body is larger than the configured limit.
    PayloadTooLarge,
    /// The body is authentic but is not a valid webhook envelope.
    InvalidPayload,
    /// The request body could not be read to its end (the client went away or sent garbage).
    BodyReadFailed,
    /// The body did not arrive in time: it stalled between two chunks, came slower than the
    /// minimum rate, or was not complete by the body deadline (a stalled or deliberately
    /// slow upload).
    BodyTimeout,
    /// The memory for bodies in flight is used up by other requests: refused early, before
    /// the body is read, and the provider retries (`Retry-After`).
    Overloaded,
    /// The same delivery is being processed right now; the provider should retry later.
    DuplicateInFlight {
        /// Seconds after which a retry is worth sending (the `Retry-After` header).
        retry_after: u64,
    },
    /// The idempotency store could not be reached, so the delivery was refused rather than
    /// risk processing it twice; the provider retries.
    StoreUnavailable,
    /// The request names no account, or one the secret source does not know (receivers of
    /// many accounts only).
    UnknownAccount,
    /// The source of the accounts' secrets could not answer: the provider retries.
    SecretSourceUnavailable,
    /// The server is misconfigured: an extractor found neither the middleware's work nor a
    /// receiver or verifier to verify with. A bug in the application, answered with 500.
    NotConfigured,
}

impl Rejection {
    /// The HTTP status code for this rejection.
    ///
    /// ```
    /// use quickassist_webhooks::rejection::Rejection;
    /// assert_eq!(Rejection::PayloadTooLarge.status(), 413);
    /// ```
    #[must_use]
    pub const fn status(&self) -> u16 {
        match self {
            Self::MissingSignature
            | Self::MalformedSignature
            | Self::InvalidSignature
            | Self::StaleTimestamp
            | Self::FutureTimestamp => 401,
            Self::PayloadTooLarge => 413,
            Self::InvalidPayload | Self::BodyReadFailed => 400,
            Self::BodyTimeout => 408,
            Self::DuplicateInFlight { .. } => 409,
            Self::StoreUnavailable | Self::SecretSourceUnavailable | Self::Overloaded => 503,
            Self::UnknownAccount => 404,
            Self::NotConfigured => 500,
        }
    }

    /// A stable, machine-readable code, also found in the JSON body under `"error"`.
    ///
    /// ```
    /// use quickassist_webhooks::rejection::Rejection;
    /// assert_eq!(Rejection::MissingSignature.code(), "missing_signature");
    /// ```
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::MissingSignature => "missing_signature",
            Self::MalformedSignature => "malformed_signature",
            Self::InvalidSignature => "invalid_signature",
            Self::StaleTimestamp => "stale_timestamp",
            Self::FutureTimestamp => "future_timestamp",
            Self::PayloadTooLarge => "payload_too_large",
            Self::InvalidPayload => "invalid_payload",
            Self::BodyReadFailed => "body_read_failed",
            Self::BodyTimeout => "body_timeout",
            Self::Overloaded => "overloaded",
            Self::DuplicateInFlight { .. } => "duplicate_in_flight",
            Self::StoreUnavailable => "store_unavailable",
            Self::UnknownAccount => "unknown_account",
            Self::SecretSourceUnavailable => "secret_source_unavailable",
            Self::NotConfigured => "not_configured",
        }
    }

    /// The response body: `{"error":"<code>"}`.
    ///
    /// ```
    /// use quickassist_webhooks::rejection::Rejection;
    /// assert_eq!(Rejection::StoreUnavailable.json_body(), r#"{"error":"store_unavailable"}"#);
    /// ```
    #[must_use]
    pub const fn json_body(&self) -> &'static str {
        match self {
            Self::MissingSignature => r#"{"error":"missing_signature"}"#,
            Self::MalformedSignature => r#"{"error":"malformed_signature"}"#,
            Self::InvalidSignature => r#"{"error":"invalid_signature"}"#,
            Self::StaleTimestamp => r#"{"error":"stale_timestamp"}"#,
            Self::FutureTimestamp => r#"{"error":"future_timestamp"}"#,
            Self::PayloadTooLarge => r#"{"error":"payload_too_large"}"#,
            Self::InvalidPayload => r#"{"error":"invalid_payload"}"#,
            Self::BodyReadFailed => r#"{"error":"body_read_failed"}"#,
            Self::BodyTimeout => r#"{"error":"body_timeout"}"#,
            Self::Overloaded => r#"{"error":"overloaded"}"#,
            Self::DuplicateInFlight { .. } => r#"{"error":"duplicate_in_flight"}"#,
            Self::StoreUnavailable => r#"{"error":"store_unavailable"}"#,
            Self::UnknownAccount => r#"{"error":"unknown_account"}"#,
            Self::SecretSourceUnavailable => r#"{"error":"secret_source_unavailable"}"#,
            Self::NotConfigured => r#"{"error":"not_configured"}"#,
        }
    }

    /// Seconds for a `Retry-After` header, for the rejections that have one.
    ///
    /// ```
    /// use quickassist_webhooks::rejection::Rejection;
    /// assert_eq!(Rejection::InvalidSignature.retry_after(), None);
    /// ```
    #[must_use]
    pub const fn retry_after(&self) -> Option<u64> {
        match self {
            Self::DuplicateInFlight { retry_after } => Some(*retry_after),
            Self::Overloaded => Some(OVERLOADED_RETRY_AFTER),
            _ => None,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MissingSignature => "the x-webhook-signature header is missing",
            Self::MalformedSignature => "the x-webhook-signature header is not 64 hex digits",
            Self::InvalidSignature => "the signature does not match the body",
            Self::StaleTimestamp => "the signed timestamp is older than the replay window",
            Self::FutureTimestamp => {
                "the signed timestamp is further ahead than the clock skew allowed"
            }
            Self::PayloadTooLarge => "the body is larger than the configured limit",
            Self::InvalidPayload => "the body is not a valid webhook envelope",
            Self::BodyReadFailed => "the request body could not be read",
            Self::BodyTimeout => "the request body did not arrive in time",
            Self::Overloaded => "too many request bodies are in flight; retry later",
            Self::DuplicateInFlight { .. } => "the same delivery is being processed right now",
            Self::StoreUnavailable => "the idempotency store is unavailable",
            Self::UnknownAccount => "the request names no known account",
            Self::SecretSourceUnavailable => "the source of the accounts' secrets is unavailable",
            Self::NotConfigured => {
                "no webhook receiver is configured for this route (a server misconfiguration)"
            }
        })
    }
}

impl std::error::Error for Rejection {}

impl From<&VerifyError> for Rejection {
    fn from(error: &VerifyError) -> Self {
        match error {
            VerifyError::MissingSignature => Self::MissingSignature,
            VerifyError::MalformedSignature => Self::MalformedSignature,
            VerifyError::PayloadTooLarge { .. } => Self::PayloadTooLarge,
            VerifyError::StaleTimestamp { .. } => Self::StaleTimestamp,
            VerifyError::FutureTimestamp { .. } => Self::FutureTimestamp,
            // Authentic, but not an envelope: an envelope always has a timestamp.
            VerifyError::MissingTimestamp => Self::InvalidPayload,
            // `InvalidSignature` and any variant added later: refusing is the safe answer.
            _ => Self::InvalidSignature,
        }
    }
}

impl From<VerifyError> for Rejection {
    fn from(error: VerifyError) -> Self {
        Self::from(&error)
    }
}

impl From<&PayloadError> for Rejection {
    fn from(_: &PayloadError) -> Self {
        Self::InvalidPayload
    }
}

impl From<PayloadError> for Rejection {
    fn from(_: PayloadError) -> Self {
        Self::InvalidPayload
    }
}

impl From<&DedupRejection> for Rejection {
    fn from(rejection: &DedupRejection) -> Self {
        match rejection {
            DedupRejection::InFlight { retry_after } => Self::DuplicateInFlight {
                retry_after: retry_after.as_secs().max(1),
            },
            _ => Self::StoreUnavailable,
        }
    }
}

impl From<DedupRejection> for Rejection {
    fn from(rejection: DedupRejection) -> Self {
        Self::from(&rejection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Rejection; 15] = [
        Rejection::MissingSignature,
        Rejection::MalformedSignature,
        Rejection::InvalidSignature,
        Rejection::StaleTimestamp,
        Rejection::FutureTimestamp,
        Rejection::PayloadTooLarge,
        Rejection::InvalidPayload,
        Rejection::BodyReadFailed,
        Rejection::BodyTimeout,
        Rejection::Overloaded,
        Rejection::DuplicateInFlight { retry_after: 5 },
        Rejection::StoreUnavailable,
        Rejection::UnknownAccount,
        Rejection::SecretSourceUnavailable,
        Rejection::NotConfigured,
    ];

    #[test]
    fn every_body_is_json_naming_its_code() {
        for rejection in ALL {
            let body: serde_json::Value = serde_json::from_str(rejection.json_body()).unwrap();
            assert_eq!(body, serde_json::json!({ "error": rejection.code() }));
        }
    }

    #[test]
    fn statuses_follow_the_contract() {
        let statuses: Vec<u16> = ALL.iter().map(Rejection::status).collect();
        assert_eq!(
            statuses,
            [401, 401, 401, 401, 401, 413, 400, 400, 408, 503, 409, 503, 404, 503, 500]
        );
    }

    #[test]
    fn only_in_flight_duplicates_and_overload_carry_retry_after() {
        for rejection in ALL {
            assert_eq!(
                rejection.retry_after().is_some(),
                matches!(
                    rejection,
                    Rejection::DuplicateInFlight { .. } | Rejection::Overloaded
                )
            );
        }
    }
}
