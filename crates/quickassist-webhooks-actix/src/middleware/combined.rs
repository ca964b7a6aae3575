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
use quickassist_webhooks::{
    idempotency::{ConfigError, Deduplicator, IdempotencyStore},
    Verifier,
};

use super::steps::{deduplicate, reject_with, verify, VerifySettings};
use crate::response::rejection_response;

/// Verification and de-duplication in one middleware, built from one configuration: the
/// common case. Behaves exactly as [`VerifyWebhook`](super::VerifyWebhook) followed by
/// [`Deduplicate`](super::Deduplicate), and as the tower crate's `WebhookLayer`.
///
/// De-duplicates in a `MemoryStore` unless given another [`store`](Self::store) or a
/// configured [`deduplicator`](Self::deduplicator).
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use quickassist_webhooks::Verifier;
/// use quickassist_webhooks_actix::QuickAssistWebhooks;
///
/// let app = App::new().service(
///     web::resource("/webhooks/thequickassist")
///         .wrap(QuickAssistWebhooks::new(Verifier::new("whsec_example")))
///         .route(web::post().to(|| async { HttpResponse::Ok().finish() })),
/// );
/// # let _ = app;
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct QuickAssistWebhooks {
    settings: Rc<VerifySettings>,
    dedup: Deduplicator,
}

impl QuickAssistWebhooks {
    /// Verifies with `verifier` and de-duplicates in memory.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            settings: Rc::new(VerifySettings {
                verifier,
                body_timeout: None,
            }),
            dedup: Deduplicator::memory(),
        }
    }

    /// De-duplicates with `dedup` (its store, key function, TTL, lease and failure mode).
    pub fn deduplicator(mut self, dedup: Deduplicator) -> Self {
        self.dedup = dedup;
        self
    }

    /// De-duplicates in `store` with the default settings.
    pub fn store(self, store: impl IdempotencyStore) -> Self {
        self.deduplicator(Deduplicator::new(store))
    }

    /// Refuses (400) a body that stalls longer than `timeout` between two chunks.
    pub fn body_timeout(self, timeout: Duration) -> Self {
        let mut settings = (*self.settings).clone();
        settings.body_timeout = Some(timeout);
        Self {
            settings: Rc::new(settings),
            dedup: self.dedup,
        }
    }

    /// Checks that the verifier's replay window is covered by the de-duplication TTL.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when a replay could arrive after its delivery was forgotten.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.dedup
            .check_replay_window(self.settings.verifier.replay_window())
    }
}

impl<S, B> Transform<S, ServiceRequest> for QuickAssistWebhooks
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = QuickAssistWebhooksMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        if let Err(error) = self.check() {
            tracing::warn!("{error}");
        }
        ready(Ok(QuickAssistWebhooksMiddleware {
            service: Rc::new(service),
            settings: Rc::clone(&self.settings),
            dedup: self.dedup.clone(),
        }))
    }
}

/// The service [`QuickAssistWebhooks`] wraps around yours.
#[derive(Debug)]
pub struct QuickAssistWebhooksMiddleware<S> {
    service: Rc<S>,
    settings: Rc<VerifySettings>,
    dedup: Deduplicator,
}

impl<S, B> Service<ServiceRequest> for QuickAssistWebhooksMiddleware<S>
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
        let dedup = self.dedup.clone();
        Box::pin(async move {
            if let Err(rejection) = verify(&settings, &mut request).await {
                return Ok(reject_with(request, rejection_response(rejection)));
            }
            deduplicate(&dedup, request, service).await
        })
    }
}
