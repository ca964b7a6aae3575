use std::{
    future::{ready, Ready},
    rc::Rc,
};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    Error,
};
use futures_util::future::LocalBoxFuture;
use quickassist_webhooks::idempotency::Deduplicator;

use super::steps::deduplicate;

/// Middleware that lets each delivery reach the handler once, though the provider retries.
///
/// It reads the [`Envelope`](quickassist_webhooks::Envelope) that [`VerifyWebhook`]
/// (registered *after* it with `wrap`, so it runs first) left in the extensions: forged ids
/// never reach the store.
///
/// - first delivery: the handler runs; a 2xx response completes the claim, anything else,
///   an error or a dropped future (client gone) releases it, so the retry is processed;
/// - already processed: `200` with `x-webhook-duplicate: true`, handler not called;
/// - being processed right now: `409` with `Retry-After`;
/// - store unavailable: `503` (fail-closed, the default) or processed unguarded (fail-open).
///
/// [`VerifyWebhook`]: super::VerifyWebhook
#[derive(Clone, Debug)]
#[must_use]
pub struct Deduplicate {
    dedup: Deduplicator,
}

impl Deduplicate {
    /// De-duplicates with `dedup` (its store, key function, TTL, lease and failure mode).
    pub fn new(dedup: Deduplicator) -> Self {
        Self { dedup }
    }
}

impl<S, B> Transform<S, ServiceRequest> for Deduplicate
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = DeduplicateMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(DeduplicateMiddleware {
            service: Rc::new(service),
            dedup: self.dedup.clone(),
        }))
    }
}

/// The service [`Deduplicate`] wraps around yours.
#[derive(Debug)]
pub struct DeduplicateMiddleware<S> {
    service: Rc<S>,
    dedup: Deduplicator,
}

impl<S, B> Service<ServiceRequest> for DeduplicateMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let dedup = self.dedup.clone();
        Box::pin(async move { deduplicate(&dedup, request, service).await })
    }
}
