//! The receiving pipeline, written once for every integration.
//!
//! A [`Receiver`] holds what is decided about a webhook request: the [`Verifier`] (and its
//! replay window), the [`Deduplicator`](crate::idempotency::Deduplicator) and the body
//! policy (size limit, time allowed, the memory all bodies share). The tower/axum and actix-web integrations only translate their
//! framework's types into its steps and its [`Answer`](integration::Answer)s back into responses:
//!
//! 1. **head**: a [`RequestHead`](integration::RequestHead) (declared length, signature header values). A declared
//!    length over the limit is refused with 413 before a byte is read; an absent, repeated
//!    or malformed signature with 401; a declared length the [`BodyBudget`] has no room
//!    for with 503 and `Retry-After`.
//! 2. **body**: read into a buffer that refuses past the limit (413) and never reserves
//!    more than 16 KiB up front, whatever the declared length. Its
//!    bytes are taken from the [`BodyBudget`] as they arrive (503 when it runs out). A body
//!    that stalls longer than the body timeout between chunks, arrives slower than the
//!    minimum rate after its grace period, or is not complete by the body deadline gets
//!    408.
//! 3. **verify + parse**: 401 for a wrong signature, a timestamp older than the replay
//!    window or further ahead than the clock skew, 400 for an authentic body that is not
//!    an envelope (or has an empty `webhookId`).
//! 4. **admit**: a duplicate of a processed delivery is answered 200 with
//!    `x-webhook-duplicate: true`; one in flight 409 with `Retry-After`; a store that cannot
//!    answer 503 (fail-closed).
//! 5. **handler, then settle**: a 2xx completes the claim, anything else releases it so the
//!    provider's retry is processed. The completion is recorded even if the request's
//!    future is dropped once the handler returned.
//!
//! | request                                                 | answer                         |
//! |---------------------------------------------------------|--------------------------------|
//! | declared length or streamed body over the limit          | `413 payload_too_large`        |
//! | body stalled, too slow, or past its deadline              | `408 body_timeout`             |
//! | bodies in flight over the memory budget                   | `503 overloaded` + `Retry-After` |
//! | body not readable to its end                              | `400 body_read_failed`         |
//! | no / repeated or malformed / wrong signature             | `401` with the reason          |
//! | timestamp older than the replay window / far ahead        | `401 stale_timestamp` / `future_timestamp` |
//! | authentic, not an envelope                                | `400 invalid_payload`          |
//! | already processed                                         | `200` + `x-webhook-duplicate`  |
//! | being processed right now                                 | `409` + `Retry-After`          |
//! | idempotency store unreachable (fail-closed)               | `503 store_unavailable`        |
//! | first delivery                                            | the handler's response         |
//!
//! The intake mode is a type of its own, [`IntakeReceiver`]
//! ([`ReceiverBuilder::build_intake`] with an [`Intake`], a durable inbox): steps 4 and 5 are
//! replaced by storing the delivery: `200 {"status":"accepted"}` once stored, `200` +
//! `x-webhook-duplicate` for a copy already stored, `503 store_unavailable` when the store
//! fails. It has no handler: integrations mount it as an endpoint of its own.
//!
//! # Observability
//!
//! Each delivery runs in a `debug` span named `webhook` with `webhook_id` and `event`
//! (recorded only once the signature verified; never the body, a phone number or a
//! signature). Each outcome is one log event: `debug` with `reason` and `webhook_id`, `warn`
//! when the store is unavailable.
//!
//! With the `metrics` feature, through the [`metrics`](https://docs.rs/metrics) facade:
//!
//! | name | kind | labels | unit |
//! |------|------|--------|------|
//! | `quickassist_webhooks_deliveries_total` | counter | `outcome` (`processed`, `handler_failed`, `accepted`, `duplicate`, `rejected`), `reason` (the rejection code, or `none`) | deliveries |
//! | `quickassist_webhooks_delivery_lag_seconds` | histogram | | seconds from the signed `timestamp` to receipt |
//! | `quickassist_webhooks_handler_duration_seconds` | histogram | | seconds in the handler |
//! | `quickassist_webhooks_memory_store_early_evictions_total` | counter | | keys a full `MemoryStore` forgot before their done-TTL ended (a late retry of one would be processed again) |
//!
//! No id or phone number is ever a label.
//!
//! [`Verifier`]: crate::Verifier

mod answer;
mod body;
mod budget;
mod builder;
mod delivery;
mod flow;
mod head;
mod intake;
mod intake_receiver;
mod observe;
mod serverless;

pub mod integration {
    //! What only an integration (a framework adapter) needs to drive the pipeline: the
    //! request's [`RequestHead`], the pipeline's [`Received`] and [`Answered`], and the
    //! [`Answer`] to copy into a response. Applications do not need this module.

    pub use super::{answer::Answer, flow::Received, head::RequestHead, intake_receiver::Answered};
}

pub use answer::Outcome;
pub use body::{
    DEFAULT_BODY_DEADLINE, DEFAULT_BODY_RATE_GRACE, DEFAULT_BODY_TIMEOUT, DEFAULT_MIN_BODY_RATE,
};
pub use budget::{BodyBudget, DEFAULT_BODY_BUDGET, SMALL_BODY};
pub use builder::{Receiver, ReceiverBuilder};
pub use delivery::{Delivery, VerifiedDelivery};
pub use intake::{Intake, IntakeError, IntakeFuture, Stored};
pub use intake_receiver::IntakeReceiver;
pub use observe::{DELIVERIES_TOTAL, DELIVERY_LAG_SECONDS, HANDLER_DURATION_SECONDS};
