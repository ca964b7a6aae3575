//! Receiving on AWS Lambda, through the official runtime's HTTP adapter
//! ([`lambda_http`](https://docs.rs/lambda_http)), re-exported here so that this crate stays
//! the function's one webhook dependency.
//!
//! `lambda_http` turns each invocation from a Function URL, an API Gateway HTTP API
//! (payload v2) or a REST API (v1) into an `http::Request` whose body is the bytes the
//! provider sent, base64-decoded when the gateway encoded them, and serves a tower
//! `Service`: the [`WebhookLayer`](crate::WebhookLayer) runs there as on any server, with
//! the same answers (401 forged, 413 too large, 400 not an envelope, 200 +
//! `x-webhook-duplicate`, 503 when the store is down). A body that a gateway re-serialised
//! with other spacing still verifies through the `JSON.stringify` form.
//!
//! An axum `MethodRouter` is itself a service: a function that only receives webhooks
//! answers on whatever path its Function URL or route gives it.
//!
//! ```no_run
//! use axum::{http::StatusCode, routing::post};
//! use quickassist_webhooks_tower::{lambda, Receiver, Verifier, Webhook, WebhookLayer};
//! use quickassist_webhooks_redis::RedisStore;
//!
//! async fn receive(Webhook(envelope): Webhook) -> StatusCode {
//!     println!("{} {}", envelope.event.name(), envelope.webhook_id);
//!     StatusCode::OK
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), lambda::Error> {
//!     // Once per execution environment (the init phase): the secret, the shared store and
//!     // its connections are reused by every invocation this instance serves.
//!     let secret = std::env::var("QUICKASSIST_WEBHOOK_SECRET")?;
//!     let store = RedisStore::connect(&std::env::var("REDIS_URL")?).await?;
//!     let receiver = Receiver::builder(Verifier::new(secret)).store(store).build()?;
//!     lambda::run(post(receive).route_layer(WebhookLayer::new(receiver))).await
//! }
//! ```
//!
//! # Testing with a recorded event
//!
//! `lambda_http::request::from_str` reads an event as the runtime receives it, so a
//! function's answers can be checked without the runtime:
//!
//! ```
//! use axum::{http::StatusCode, routing::post};
//! use quickassist_webhooks::testing::{sample, SignedRequest};
//! use quickassist_webhooks_tower::{lambda, Event, Receiver, Secret, Verifier, Webhook, WebhookLayer};
//! use tower::ServiceExt;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let receiver = Receiver::builder(Verifier::new("whsec_example")).build()?;
//! let function = post(|Webhook(_): Webhook| async { StatusCode::OK })
//!     .route_layer(WebhookLayer::new(receiver));
//!
//! let signed = SignedRequest::new(&Secret::from("whsec_example"), &sample(Event::MESSAGE_READ, "whk_1"));
//! // A Function URL invocation (payload v2), as the runtime hands it to the function.
//! let event = serde_json::json!({
//!     "version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
//!     "headers": {"content-type": "application/json", "x-webhook-signature": signed.signature},
//!     "requestContext": {
//!         "accountId": "123456789012", "apiId": "id", "domainName": "id.lambda-url.eu-west-1.on.aws",
//!         "http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "provider"},
//!         "requestId": "r1", "routeKey": "$default", "stage": "$default", "time": "04/Dec/2026:10:00:00 +0000", "timeEpoch": 0
//!     },
//!     "body": String::from_utf8(signed.body)?,
//!     "isBase64Encoded": false
//! });
//! let request = lambda::lambda_http::request::from_str(&event.to_string())?;
//! let response = function.oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # The store
//!
//! Concurrent invocations run in separate instances of the function, each with its own
//! memory: the in-memory store de-duplicates only the retries that reach the same instance.
//! Share the claims in Redis (`quickassist-webhooks-redis`), or acknowledge after one
//! `INSERT` into the PostgreSQL intake (an [`IntakeService`](crate::IntakeService), with a
//! `Worker` processing elsewhere). A receiver built with the in-memory store on Lambda logs a
//! warning, unless [`allow_process_local_store`] says it is deliberate.
//!
//! [`allow_process_local_store`]: crate::receive::ReceiverBuilder::allow_process_local_store

pub use lambda_http::{self, run, Body, Error, Request};
