//! A TheQuickAssist webhook receiver on AWS Lambda, behind a Function URL or API Gateway
//! (HTTP API v2 or REST API v1).
//!
//! ```sh
//! # Build for Lambda (Amazon Linux 2023, arm64) and deploy with a Function URL:
//! cargo lambda build --release --arm64 --example lambda_receiver
//! cargo lambda deploy --enable-function-url --binary-name lambda_receiver \
//!     --env-var QUICKASSIST_WEBHOOK_SECRET=whsec_... --env-var REDIS_URL=redis://... qa-webhooks
//! # Locally, under cargo-lambda's emulator (Function URL at
//! # http://127.0.0.1:9000/lambda-url/_/, `_` standing for the one function it runs):
//! QUICKASSIST_WEBHOOK_SECRET=whsec_... REDIS_URL=redis://127.0.0.1:6379 \
//!     cargo lambda watch --example lambda_receiver
//! ```
//!
//! The same contract as the other receivers, on any path the function is given: forged
//! requests get 401, duplicates are acknowledged (`x-webhook-duplicate: true`) without being
//! processed again, and each processed event is printed as one JSON line on stdout (the
//! function's log). The environment:
//!
//! - `QUICKASSIST_WEBHOOK_SECRET`: the webhook secret (required).
//! - `REDIS_URL`: where de-duplication is shared by every instance of the function. Each
//!   instance has its own memory: without a shared store, a retry that reaches another
//!   instance is processed again, and the receiver logs a warning at init saying so.
//! - or `DATABASE_URL`: the intake mode instead. Each delivery is stored with one INSERT into
//!   the PostgreSQL inbox and answered at once; a `Worker` elsewhere (`inbox_receiver`, or
//!   your own service) processes it. The migrations must have been applied
//!   (`qa-webhooks inbox migrate`).
//! - `DONE_TTL`, `REPLAY_WINDOW`, `BODY_BUDGET`: as for the other receivers.
//!
//! Everything is made once per instance, at init: the secret is read, the connections are
//! opened, and every invocation the instance serves reuses them.

use std::{error::Error, process::ExitCode};

use axum::{
    http::StatusCode,
    routing::{post, post_service, MethodRouter},
};
use quickassist_examples::{exit_code, init_tracing, print_event, ReceiverConfig};
use quickassist_webhooks_postgres::Inbox;
use quickassist_webhooks_tower::{lambda, IntakeService, Webhook, WebhookLayer};

/// Runs once per authentic, first-time delivery. A non-2xx answer releases the delivery,
/// so the provider's retry is processed.
async fn receive(Webhook(envelope): Webhook) -> StatusCode {
    match print_event(&envelope).await {
        Ok(()) => StatusCode::OK,
        Err(error) => {
            tracing::warn!(webhook_id = %envelope.webhook_id, %error, "processing failed; the provider will retry");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// The function, built at init: the intake when `DATABASE_URL` is set, the handler behind the
/// layer otherwise.
async fn function(config: &ReceiverConfig) -> Result<MethodRouter, Box<dyn Error>> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        let inbox = Inbox::connect(&url).await?; // errors never show a password
        let intake = config.builder_without_store().build_intake(inbox)?;
        return Ok(post_service(IntakeService::new(intake)));
    }
    let receiver = config.receiver_builder().await?.build()?;
    Ok(post(receive).route_layer(WebhookLayer::new(receiver)))
}

async fn run() -> Result<(), Box<dyn Error>> {
    let config = ReceiverConfig::from_env()?;
    let function = function(&config).await?;
    lambda::run(function)
        .await
        .map_err(|error| -> Box<dyn Error> { error })
}

// An instance serves one invocation at a time: one thread does it with fewer wake-ups than a
// multi-thread runtime (211 µs of CPU per invocation instead of 274 in BENCHMARKS.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    init_tracing();
    exit_code(run().await)
}
