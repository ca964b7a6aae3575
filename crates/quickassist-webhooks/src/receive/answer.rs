//! [`Outcome`] and [`Answer`]: what the pipeline decided, and what the sender is told.

use crate::rejection::{Rejection, ACCEPTED_BODY, DUPLICATE_BODY};

/// What became of one delivery. The integrations put it in the response extensions, so
/// logging, metrics and tools read the decision instead of parsing bodies.
///
/// ```
/// use quickassist_webhooks::{receive::Outcome, rejection::Rejection};
///
/// assert_eq!(Outcome::Duplicate.code(), "duplicate");
/// assert_eq!(Outcome::Rejected(Rejection::InvalidSignature).reason(), Some("invalid_signature"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The handler answered 2xx: the delivery is remembered as done.
    Processed,
    /// The handler answered something else, or failed: the delivery was released, so the
    /// provider's retry is processed.
    HandlerFailed,
    /// The delivery had already been processed (or, with an
    /// [`Intake`](super::Intake), stored): answered 200 without calling the handler.
    Duplicate,
    /// The delivery was stored by the receiver's [`Intake`](super::Intake), to be
    /// processed later: answered `200 {"status":"accepted"}`.
    Accepted,
    /// Refused before the handler (the [`Rejection`] says why and how it was answered).
    Rejected(Rejection),
}

impl Outcome {
    /// A stable name: `processed`, `handler_failed`, `accepted`, `duplicate` or `rejected`
    /// (the metric label `outcome`).
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::HandlerFailed => "handler_failed",
            Self::Duplicate => "duplicate",
            Self::Accepted => "accepted",
            Self::Rejected(_) => "rejected",
        }
    }

    /// For a rejection, its [`code`](Rejection::code) (the metric label `reason`).
    #[must_use]
    pub const fn reason(&self) -> Option<&'static str> {
        match self {
            Self::Rejected(rejection) => Some(rejection.code()),
            _ => None,
        }
    }
}

/// A response the pipeline gives itself, without the handler: a rejection, a duplicate's
/// acknowledgement, or a stored delivery's acknowledgement. Each integration copies it into its own response type: the
/// [`status`](Self::status), `content-type: application/json`, the
/// [`body`](Self::body), a `Retry-After` header when [`retry_after`](Self::retry_after) is
/// set, `x-webhook-duplicate: true` when [`is_duplicate`](Self::is_duplicate), and the
/// [`outcome`](Self::outcome) in the extensions.
///
/// ```
/// use quickassist_webhooks::{receive::integration::Answer, rejection::Rejection};
///
/// let answer = Answer::rejected(Rejection::DuplicateInFlight { retry_after: 60 });
/// assert_eq!(answer.status(), 409);
/// assert_eq!(answer.retry_after(), Some(60));
/// assert_eq!(answer.body(), r#"{"error":"duplicate_in_flight"}"#);
/// assert!(!answer.is_duplicate());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    outcome: Outcome,
}

impl Answer {
    /// The answer to a refused request.
    #[must_use]
    pub const fn rejected(rejection: Rejection) -> Self {
        Self {
            outcome: Outcome::Rejected(rejection),
        }
    }

    /// The answer to a delivery that was already processed: `200`, marked duplicate.
    #[must_use]
    pub const fn duplicate() -> Self {
        Self {
            outcome: Outcome::Duplicate,
        }
    }

    /// The answer to a delivery an [`Intake`](super::Intake) stored: `200`,
    /// `{"status":"accepted"}`.
    ///
    /// ```
    /// use quickassist_webhooks::receive::{Outcome, integration::Answer};
    ///
    /// let answer = Answer::accepted();
    /// assert_eq!((answer.status(), answer.body()), (200, r#"{"status":"accepted"}"#));
    /// assert_eq!(answer.outcome(), Outcome::Accepted);
    /// assert!(!answer.is_duplicate());
    /// ```
    #[must_use]
    pub const fn accepted() -> Self {
        Self {
            outcome: Outcome::Accepted,
        }
    }

    /// The HTTP status.
    #[must_use]
    pub const fn status(&self) -> u16 {
        match &self.outcome {
            Outcome::Rejected(rejection) => rejection.status(),
            _ => 200,
        }
    }

    /// The JSON body: `{"error":"<code>"}`, `{"status":"duplicate"}` or
    /// `{"status":"accepted"}`.
    #[must_use]
    pub const fn body(&self) -> &'static str {
        match &self.outcome {
            Outcome::Rejected(rejection) => rejection.json_body(),
            Outcome::Accepted => ACCEPTED_BODY,
            _ => DUPLICATE_BODY,
        }
    }

    /// Seconds for a `Retry-After` header, when the sender should come back later.
    #[must_use]
    pub const fn retry_after(&self) -> Option<u64> {
        match &self.outcome {
            Outcome::Rejected(rejection) => rejection.retry_after(),
            _ => None,
        }
    }

    /// Whether to mark the response `x-webhook-duplicate: true`.
    #[must_use]
    pub const fn is_duplicate(&self) -> bool {
        matches!(self.outcome, Outcome::Duplicate)
    }

    /// The decision, for the response extensions.
    #[must_use]
    pub const fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// The rejection, when the request was refused.
    #[must_use]
    pub const fn rejection(&self) -> Option<Rejection> {
        match self.outcome {
            Outcome::Rejected(rejection) => Some(rejection),
            _ => None,
        }
    }
}

impl From<Rejection> for Answer {
    fn from(rejection: Rejection) -> Self {
        Self::rejected(rejection)
    }
}
