use std::task::{Context, Poll};

use http::{Request, Response};
use quickassist_webhooks::{
    idempotency::{Admission, Deduplicator},
    rejection::Rejection,
    Envelope,
};
use tower_service::Service;

use super::IdempotencyLayer;
use crate::future::ResponseFuture;
use crate::{
    body::ResponseBody,
    response::{duplicate_response, rejection_response},
};

/// Middleware that lets each delivery reach the inner service once: duplicates of a
/// processed delivery get `200` (marked `x-webhook-duplicate: true`) without calling it,
/// duplicates of one being processed `409` with `Retry-After`, and an unreachable store `503`
/// (or a pass-through, fail-open).
///
/// The claim of a delivery that reaches the inner service is completed on a 2xx response and
/// released otherwise (non-2xx, an error, or the response future dropped because the client
/// went away), so the provider's retry is processed.
///
/// Reads the [`Envelope`] left in the request extensions by [`VerifyLayer`](crate::VerifyLayer);
/// without one the request passes through unguarded (logged at `warn`).
#[derive(Clone, Debug)]
pub struct Idempotency<S> {
    inner: S,
    dedup: Deduplicator,
}

impl<S> Idempotency<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, dedup: Deduplicator) -> Self {
        Self { inner, dedup }
    }

    /// An [`IdempotencyLayer`] for this middleware.
    pub fn layer(dedup: Deduplicator) -> IdempotencyLayer {
        IdempotencyLayer::new(dedup)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes `self`, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Idempotency<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
    ReqBody: Send + 'static,
    // Held while the claim is settled, after the inner call returned.
    ResBody: Send,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The claim is awaited before the inner call: take the service that was polled ready
        // and leave a fresh clone in its place (tower-http's async authorization pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let dedup = self.dedup.clone();
        ResponseFuture::new(async move {
            let admission = match request.extensions().get::<Envelope>() {
                Some(envelope) => dedup.admit(envelope).await,
                None => {
                    tracing::warn!(
                        "IdempotencyLayer: no Envelope in the request extensions (is VerifyLayer \
                         in front of it?); processing without de-duplication"
                    );
                    Ok(Admission::Unguarded)
                }
            };
            match admission {
                Ok(Admission::Process(guard)) => {
                    // If this future is dropped while the inner call runs, `guard` is dropped
                    // unsettled and releases the claim: the provider's retry is processed.
                    let result = inner.call(request).await;
                    let success = matches!(&result, Ok(response) if response.status().is_success());
                    if let Err(error) = guard.settle(success).await {
                        tracing::warn!(
                            %error,
                            success,
                            "could not settle the delivery's claim; it expires with its lease"
                        );
                    }
                    result.map(|response| response.map(ResponseBody::inner))
                }
                Ok(Admission::Unguarded) => inner
                    .call(request)
                    .await
                    .map(|response| response.map(ResponseBody::inner)),
                // The deduplicator logged these at `debug` with the reason and webhook id.
                Ok(Admission::Duplicate) => Ok(duplicate_response().map(ResponseBody::answer)),
                Err(rejection) => {
                    Ok(rejection_response(Rejection::from(&rejection)).map(ResponseBody::answer))
                }
            }
        })
    }
}
