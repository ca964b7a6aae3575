use std::{
    future::{ready, Ready},
    rc::Rc,
    time::Duration,
};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    Error,
};
use futures_util::future::LocalBoxFuture;
use quickassist_webhooks::Verifier;

use super::steps::{reject_with, verify, VerifySettings};
use crate::response::rejection_response;

/// Middleware that verifies webhook signatures before the handler runs: 401 for a missing,
/// malformed or wrong signature (or a timestamp outside the replay window), 413 for a body
/// over the limit (a `Content-Length` over it before reading), 400 for an authentic body
/// that is not a webhook envelope.
///
/// The handler gets the verified bytes as its payload, and the parsed
/// [`Envelope`](quickassist_webhooks::Envelope) and the
/// [`Verification`](quickassist_webhooks::Verification) in the request extensions.
#[derive(Clone, Debug)]
#[must_use]
pub struct VerifyWebhook {
    settings: Rc<VerifySettings>,
}

impl VerifyWebhook {
    /// Verifies with `verifier` (its secrets, size limit and replay window).
    pub fn new(verifier: Verifier) -> Self {
        Self {
            settings: Rc::new(VerifySettings {
                verifier,
                body_timeout: None,
            }),
        }
    }

    /// Refuses (400) a body that stalls longer than `timeout` between two chunks.
    pub fn body_timeout(self, timeout: Duration) -> Self {
        let mut settings = (*self.settings).clone();
        settings.body_timeout = Some(timeout);
        Self {
            settings: Rc::new(settings),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for VerifyWebhook
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = VerifyWebhookMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(VerifyWebhookMiddleware {
            service: Rc::new(service),
            settings: Rc::clone(&self.settings),
        }))
    }
}

/// The service [`VerifyWebhook`] wraps around yours.
#[derive(Debug)]
pub struct VerifyWebhookMiddleware<S> {
    service: Rc<S>,
    settings: Rc<VerifySettings>,
}

impl<S, B> Service<ServiceRequest> for VerifyWebhookMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, mut request: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let settings = Rc::clone(&self.settings);
        Box::pin(async move {
            if let Err(rejection) = verify(&settings, &mut request).await {
                return Ok(reject_with(request, rejection_response(rejection)));
            }
            service
                .call(request)
                .await
                .map(ServiceResponse::map_into_left_body)
        })
    }
}
