//! [`IntakeService`]: the intake mode as an endpoint service, with no handler.

use std::{
    convert::Infallible,
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use futures_util::TryStreamExt;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{BodyDataStream, Full};
use quickassist_webhooks::receive::IntakeReceiver;
use tower_service::Service;

use crate::{
    response::answered_response,
    service::{request_head, BoxError},
};

/// The endpoint of the intake mode: each request is verified, stored in the
/// [`IntakeReceiver`]'s intake (a durable inbox) and answered, with no handler behind it.
///
/// Mount it as a route's service: `post_service(IntakeService::new(intake))` in axum. It
/// answers `200 {"status":"accepted"}` once stored, `200` + `x-webhook-duplicate: true` for
/// a copy already stored, `503 store_unavailable` when the intake fails, and the same
/// rejections as [`WebhookLayer`](crate::WebhookLayer) before that. Each response carries
/// the [`Outcome`](quickassist_webhooks::receive::Outcome) in its extensions, and an answer
/// given after verification the `Envelope` too.
///
/// ```
/// use axum::{routing::post_service, Router};
/// use quickassist_webhooks::{receive::{Delivery, Intake, IntakeFuture, Receiver, Stored}, Verifier};
/// use quickassist_webhooks_tower::IntakeService;
///
/// #[derive(Debug)]
/// struct Inbox; // a durable store: `quickassist_webhooks_postgres::Inbox`
///
/// impl Intake for Inbox {
///     fn store<'a>(&'a self, _: &'a Delivery) -> IntakeFuture<'a> {
///         Box::pin(async { Ok(Stored::New) })
///     }
/// }
///
/// let intake = Receiver::builder(Verifier::new("whsec_example")).build_intake(Inbox)?;
/// let app: Router = Router::new()
///     .route("/webhooks/thequickassist", post_service(IntakeService::new(intake)));
/// # Ok::<_, quickassist_webhooks::idempotency::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct IntakeService {
    intake: IntakeReceiver,
}

impl IntakeService {
    /// Serves `intake`.
    pub fn new(intake: IntakeReceiver) -> Self {
        Self { intake }
    }

    /// The receiver it serves.
    pub fn intake(&self) -> &IntakeReceiver {
        &self.intake
    }
}

impl<B> Service<Request<B>> for IntakeService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = IntakeResponseFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let intake = self.intake.clone();
        IntakeResponseFuture(Box::pin(async move {
            let (parts, body) = request.into_parts();
            let head = request_head(intake.receiver(), &parts, &body);
            let chunks = BodyDataStream::new(body).map_err(Into::<BoxError>::into);
            let answered = intake.receive(&head, chunks).await;
            let response = answered_response(answered.answer, answered.envelope);
            Ok(response.map(|body| Full::new(Bytes::from_static(body.as_bytes()))))
        }))
    }
}

/// Response future of [`IntakeService`] (boxed: reading, verifying and storing form one
/// `async` block).
pub struct IntakeResponseFuture(Pin<Box<dyn Future<Output = IntakeResult> + Send>>);

type IntakeResult = Result<Response<Full<Bytes>>, Infallible>;

impl Future for IntakeResponseFuture {
    type Output = IntakeResult;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl fmt::Debug for IntakeResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntakeResponseFuture")
            .finish_non_exhaustive()
    }
}
