//! End-to-end scenarios over real HTTP on loopback, run against every receiver integration
//! (axum through `quickassist-webhooks-tower`, actix-web through `quickassist-webhooks-actix`),
//! so the two cannot drift apart.
//!
//! A [`Target`] is a running server plus the [`RecordingSink`] its handler feeds; the
//! [`servers`] start them as the READMEs show, and the [`scenarios`] take a target and
//! assert what the provider would see.

pub mod adversarial;
pub mod cancellation;
pub mod inbox;
pub mod raw;
pub mod scenarios;
pub mod servers;
mod sink;

pub use sink::RecordingSink;

/// Every scenario, for [`scenario_tests!`].
#[doc(hidden)]
pub mod all {
    pub use crate::{adversarial::*, scenarios::*};
}

use std::sync::Arc;

/// The secret every target is configured with.
pub const SECRET: &str = "whsec_e2e_scenarios";

/// The path the receivers serve.
pub const PATH: &str = "/webhooks/thequickassist";

/// A receiver under test: where it listens and what its handler processed.
#[derive(Debug, Clone)]
pub struct Target {
    /// `127.0.0.1:port`.
    pub addr: std::net::SocketAddr,
    /// What the handler processed.
    pub sink: Arc<RecordingSink>,
}

impl Target {
    /// The webhook URL.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}{PATH}", self.addr)
    }
}

/// Declares one `#[tokio::test]` per scenario for a target started by `$start`
/// (an `async fn() -> Target`).
#[macro_export]
macro_rules! scenario_tests {
    ($start:path: $($scenario:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $scenario() {
            let target = $start().await;
            $crate::all::$scenario(&target).await;
        }
    )*};
    ($start:path) => {
        $crate::scenario_tests!($start:
            valid_event_is_processed_once,
            same_delivery_again_is_200_and_not_reprocessed,
            concurrent_copies_are_processed_exactly_once,
            failed_handler_lets_the_retry_through,
            bad_signatures_get_401,
            pretty_body_with_the_documented_signature_is_accepted,
            invalid_payload_behind_a_valid_signature_gets_400,
            oversized_body_with_content_length_gets_413_and_server_keeps_serving,
            oversized_chunked_body_gets_413_and_server_keeps_serving,
            unknown_event_type_is_delivered_as_unknown,
            pipelined_requests_are_answered_in_order,
            expect_100_continue_is_honoured,
            odd_signature_headers_get_401,
            hostile_json_gets_a_clear_answer,
            simultaneous_oversized_bodies_are_all_refused,
        );
    };
}
