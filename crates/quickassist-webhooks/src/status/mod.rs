//! Status timelines: status events that arrive out of order never move a message (or a
//! template) backwards.
//!
//! The provider reports a message's fate in separate deliveries (`message.delivered`,
//! `message.read`, `message.failed`), each retried on its own schedule and received by
//! whichever replica gets it, so they arrive out of order: a `read` before its `delivered`, a
//! retried `delivered` an hour after the `read`. Writing "the latest event's status" moves
//! messages backwards. Templates have the same problem with `template.status_update`.
//!
//! This module keeps, per message and per template, the greatest state seen under one
//! fixed precedence, so the final state is the same whatever order the events arrive in,
//! and however often each is repeated:
//!
//! 1. **a higher rank wins**:
//!
//!    | subject | rank 3 | rank 2 | rank 1 | rank 0 |
//!    |---------|--------|--------|--------|--------|
//!    | message | `read` | `delivered` | `failed` | any other `message.*` (`sent`, `deleted`…) |
//!    | template | | `approved`, `rejected`, any other value (`paused`, `disabled`…) | `pending` | |
//!
//! 2. **between equal ranks, the later event time wins**: the payload's own time
//!    (`deliveredAt`, `readAt`, `failedAt`) or else the envelope's `timestamp`, both signed,
//!    compared to the millisecond;
//! 3. **between equal times, the status name greater byte by byte wins**; the same state
//!    again is stale.
//!
//! **Why `failed` ranks below `delivered` and `read`**: delivery and read receipts come from
//! the recipient's device and prove the message arrived; a `failed` that contradicts one is
//! a failed attempt reported late (or a provider-side error after the fact), and marking a
//! message the recipient *read* as failed would prompt a resend, a duplicate message to the
//! customer. `failed` still beats no state and unknown statuses, and it is final in
//! practice: nothing but a receipt from the device overrides it. Unknown message statuses
//! rank lowest because they cannot be placed; they are recorded only while no known status
//! has arrived. For templates, `pending` is the only status that surely precedes a review's
//! outcome; decisions can follow each other (an appeal approves a rejected template, a
//! quality drop pauses an approved one), so among them the latest wins, and a retried
//! `pending` never undoes a decision.
//!
//! The pieces:
//!
//! - [`MessageStatus`], [`TemplateStatus`] and their [`rank`](MessageStatus::rank);
//! - [`StatusUpdate`] (id, status, time), read from a typed delivery by
//!   [`Envelope::status_update`](crate::Envelope::status_update), with accessors on
//!   [`Event`](crate::Event) ([`message_id`](crate::Event::message_id),
//!   [`message_status`](crate::Event::message_status),
//!   [`template_status`](crate::Event::template_status),
//!   [`status_time`](crate::Event::status_time), …);
//! - [`merge`], the pure rule, answering [`Merge::Applied`] or [`Merge::Stale`];
//! - [`StatusTracker`], which applies an update atomically where timelines are kept:
//!   [`MemoryStatusTracker`] (feature `memory-store`) in this process, or
//!   `quickassist-webhooks-redis`'s `RedisStatusTracker` across replicas, or
//!   `quickassist-webhooks-postgres`'s `PostgresStatusTracker` inside the inbox worker's
//!   transaction.
//!
//! # Example: update a message row only when its status really moved
//!
//! ```
//! use std::{collections::HashMap, sync::Mutex};
//! use quickassist_webhooks::{
//!     status::{Merge, MemoryStatusTracker, StatusTracker},
//!     testing::sample_at,
//!     Envelope, Event,
//! };
//!
//! /// Your messages table: message id → status.
//! type Messages = Mutex<HashMap<String, String>>;
//!
//! async fn on_webhook(
//!     tracker: &dyn StatusTracker,
//!     messages: &Messages,
//!     envelope: &Envelope,
//! ) -> Result<(), Box<dyn std::error::Error>> {
//!     let Some(update) = envelope.status_update() else {
//!         return Ok(()); // not a status event
//!     };
//!     match tracker.apply(&update).await? {
//!         Merge::Applied { .. } => {
//!             // UPDATE messages SET status = $2 WHERE id = $1
//!             let mut rows = messages.lock().unwrap();
//!             rows.insert(update.id().to_owned(), update.status().to_string());
//!         }
//!         Merge::Stale { .. } => {} // late or duplicate: the row already says more
//!     }
//!     Ok(())
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let tracker = MemoryStatusTracker::new();
//! let messages = Messages::default();
//! let at = "2024-01-15T10:30:00Z".parse()?;
//! // `read` overtakes `delivered`: the row still ends up `read`.
//! on_webhook(&tracker, &messages, &sample_at(Event::MESSAGE_READ, "whk_2", at)).await?;
//! on_webhook(&tracker, &messages, &sample_at(Event::MESSAGE_DELIVERED, "whk_1", at)).await?;
//! assert_eq!(messages.lock().unwrap()["msg_123456789"], "read");
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod extract;
#[cfg(feature = "memory-store")]
mod memory;
mod merge;
mod precedence;
mod tracker;
mod update;

pub use crate::event::{MessageStatus, TemplateStatus};
#[cfg(feature = "memory-store")]
pub use memory::{MemoryStatusTracker, MemoryStatusTrackerBuilder, DEFAULT_CAPACITY};
pub use merge::{merge, Merge};
pub use tracker::{StatusTracker, TrackerError, TrackerFuture, DEFAULT_TTL};
pub use update::{State, Status, StatusUpdate, SubjectKind};
