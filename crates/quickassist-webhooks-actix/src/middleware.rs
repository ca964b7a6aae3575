//! [`WebhookMiddleware`]: the receiving pipeline as actix-web middleware.

use std::{
    future::{ready, Ready},
    rc::Rc,
};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    http::header::CONTENT_LENGTH,
    Error, HttpMessage, HttpRequest,
};
use futures_util::future::LocalBoxFuture;
use quickassist_webhooks::{
    receive::{
        integration::{Received, RequestHead},
        Receiver, VerifiedDelivery,
    },
    SIGNATURE_HEADER,
};

use crate::response::answered_response;

/// Middleware that runs each request through a core
/// [`Receiver`](quickassist_webhooks::receive::Receiver): rejections (401 / 413 / 408 /
/// 400), duplicates (200 + `x-webhook-duplicate: true`), in-flight copies (409 +
/// `Retry-After`) and an unavailable store (503) are answered without calling the handler;
/// a first delivery reaches it with the verified bytes as its payload and the
/// [`VerifiedDelivery`] (and, for a receiver of many accounts, the
/// [`AccountId`](quickassist_webhooks::accounts::AccountId)) in its extensions: what the
/// [`Webhook`](crate::Webhook) extractor reads.
///
/// A 2xx from the handler completes the delivery; any other status, an error or a client
/// that went away before it answered releases it, so the provider's retry is processed.
/// Every response carries the [`Outcome`](quickassist_webhooks::receive::Outcome) in its
/// extensions, and an answer given after verification (a duplicate, a copy in flight, an
/// unavailable store) the verified `Envelope` too.
///
/// `WebhookMiddleware` is `Send + Sync + Clone`: build it once, outside `HttpServer::new`, and clone
/// it into the factory, so all workers share one configuration and one store. (Built inside
/// the factory it still de-duplicates across workers when no store was given: receivers
/// without a store share the process-wide in-memory one.)
///
/// ```no_run
/// use actix_web::{web, App, HttpResponse, HttpServer};
/// use quickassist_webhooks::{receive::Receiver, Verifier};
/// use quickassist_webhooks_actix::{Webhook, WebhookMiddleware};
///
/// async fn receive(Webhook(envelope): Webhook) -> HttpResponse {
///     println!("{} {}", envelope.event.name(), envelope.webhook_id);
///     HttpResponse::Ok().finish()
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let webhooks = WebhookMiddleware::new(Receiver::builder(Verifier::new("whsec_example")).build()?);
/// HttpServer::new(move || {
///     App::new().service(
///         web::resource("/webhooks/thequickassist")
///             .wrap(webhooks.clone())
///             .route(web::post().to(receive)),
///     )
/// })
/// .bind(("127.0.0.1", 3000))?
/// .run()
/// .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct WebhookMiddleware {
    receiver: Receiver,
}

impl WebhookMiddleware {
    /// Middleware driving `receiver` (its verifier, deduplicator, body limit and timeout).
    pub fn new(receiver: Receiver) -> Self {
        Self { receiver }
    }

    /// The receiver requests go through.
    pub fn receiver(&self) -> &Receiver {
        &self.receiver
    }
}

impl<S, B> Transform<S, ServiceRequest> for WebhookMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = WebhookMiddlewareService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(WebhookMiddlewareService {
            service: Rc::new(service),
            receiver: self.receiver.clone(),
        }))
    }
}

/// The service [`WebhookMiddleware`] wraps around yours.
#[doc(hidden)]
#[derive(Debug)]
pub struct WebhookMiddlewareService<S> {
    service: Rc<S>,
    receiver: Receiver,
}

impl<S, B> Service<ServiceRequest> for WebhookMiddlewareService<S>
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
        let receiver = self.receiver.clone();
        let head = request_head(&receiver, request.request());
        let payload = request.take_payload();
        Box::pin(async move {
            let call = |mut request: ServiceRequest, delivery: VerifiedDelivery| {
                request.set_payload(delivery.body.clone().into());
                {
                    let mut extensions = request.extensions_mut();
                    if let Some(account) = &delivery.account {
                        extensions.insert(account.clone());
                    }
                    extensions.insert(delivery);
                }
                service.call(request)
            };
            let status = |response: &ServiceResponse<B>| response.status().as_u16();
            match receiver.receive(request, head, payload, call, status).await {
                Received::Handled { response, outcome } => response.map(|mut response| {
                    response.response_mut().extensions_mut().insert(outcome);
                    response.map_into_left_body()
                }),
                Received::Answered {
                    request,
                    answer,
                    envelope,
                } => {
                    let response = answered_response(answer, envelope);
                    Ok(request.into_response(response).map_into_right_body())
                }
            }
        })
    }
}

/// The head the pipeline decides on: `Content-Length`, the signature header values and, for
/// a receiver of many accounts, the account named.
pub(crate) fn request_head(receiver: &Receiver, request: &HttpRequest) -> RequestHead {
    let headers = request.headers();
    let query = Some(request.query_string()).filter(|query| !query.is_empty());
    let account = receiver.account_in(request.path(), query, |name| {
        headers.get(name).map(|value| value.as_bytes())
    });
    RequestHead::new(
        RequestHead::content_length(headers.get(CONTENT_LENGTH).map(|value| value.as_bytes())),
        headers
            .get_all(SIGNATURE_HEADER)
            .map(|value| value.as_bytes()),
    )
    .with_account(account)
}
