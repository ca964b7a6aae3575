//! [`WebhookService`]: the service the layer wraps around yours.

use std::task::{Context, Poll};

use futures_util::TryStreamExt;
use http::{header::CONTENT_LENGTH, Request, Response};
use http_body::Body;
use http_body_util::BodyDataStream;
use quickassist_webhooks::{
    receive::{
        integration::{Received, RequestHead},
        Receiver, VerifiedDelivery,
    },
    SIGNATURE_HEADER,
};
use tower_service::Service;

use crate::{
    body::{ResponseBody, VerifiedBody},
    future::ResponseFuture,
    response::answered_response,
    WebhookLayer,
};

/// The error type request bodies must convert their errors into.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Middleware that runs each request through a core
/// [`Receiver`](quickassist_webhooks::receive::Receiver): rejections (401 / 413 / 408 /
/// 400), duplicates (200 + `x-webhook-duplicate: true`), in-flight copies (409 +
/// `Retry-After`) and an unavailable store (503) are answered without calling the inner
/// service; a first delivery reaches it with the verified bytes as its body
/// ([`VerifiedBody`]) and the
/// [`VerifiedDelivery`] (and, for a receiver of many accounts, the
/// [`AccountId`](quickassist_webhooks::accounts::AccountId)) in its extensions: what the
/// [`Webhook`](crate::Webhook) extractor reads.
///
/// A 2xx from the inner service completes the delivery; any other status, an error, a
/// panic or a dropped future releases it, so the provider's retry is processed. Every
/// response carries the [`Outcome`](quickassist_webhooks::receive::Outcome) in its
/// extensions, and an answer given after verification (a duplicate, a copy in flight, an
/// unavailable store) the verified `Envelope` too.
#[derive(Clone, Debug)]
pub struct WebhookService<S> {
    inner: S,
    receiver: Receiver,
}

impl<S> WebhookService<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, receiver: Receiver) -> Self {
        Self { inner, receiver }
    }

    /// A [`WebhookLayer`] for this middleware.
    pub fn layer(receiver: Receiver) -> WebhookLayer {
        WebhookLayer::new(receiver)
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

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for WebhookService<S>
where
    S: Service<Request<VerifiedBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
    ResBody: Send,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The body is read before the inner call: take the service that was polled ready
        // and leave a fresh clone in its place (tower-http's async authorization pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let receiver = self.receiver.clone();
        ResponseFuture::new(async move {
            let (parts, body) = request.into_parts();
            let head = request_head(&receiver, &parts, &body);
            let chunks = BodyDataStream::new(body).map_err(Into::<BoxError>::into);
            let call = |mut parts: http::request::Parts, delivery: VerifiedDelivery| {
                let body = VerifiedBody::new(delivery.body.clone());
                if let Some(account) = &delivery.account {
                    parts.extensions.insert(account.clone());
                }
                parts.extensions.insert(delivery);
                inner.call(Request::from_parts(parts, body))
            };
            let status = |response: &Response<ResBody>| response.status().as_u16();
            match receiver.receive(parts, head, chunks, call, status).await {
                Received::Handled { response, outcome } => response.map(|mut response| {
                    response.extensions_mut().insert(outcome);
                    response.map(ResponseBody::inner)
                }),
                Received::Answered {
                    answer, envelope, ..
                } => Ok(answered_response(answer, envelope).map(ResponseBody::answer)),
            }
        })
    }
}

/// The head the pipeline decides on: the declared length (the `Content-Length` header, or
/// the body's own lower bound, which hyper makes exact when the header was sent), the
/// signature header values and, for a receiver of many accounts, the account named.
pub(crate) fn request_head<B: Body>(
    receiver: &Receiver,
    parts: &http::request::Parts,
    body: &B,
) -> RequestHead {
    let headers = &parts.headers;
    let header = RequestHead::content_length(headers.get(CONTENT_LENGTH).map(|v| v.as_bytes()));
    let at_least = Some(body.size_hint().lower()).filter(|&lower| lower > 0);
    let account = receiver.account_in(parts.uri.path(), parts.uri.query(), |name| {
        headers.get(name).map(|value| value.as_bytes())
    });
    RequestHead::new(
        header.max(at_least),
        headers
            .get_all(SIGNATURE_HEADER)
            .iter()
            .map(|value| value.as_bytes()),
    )
    .with_account(account)
}
