//! [`intake_route`]: the intake mode as an actix-web route, with no handler.

use actix_web::{web, HttpRequest, HttpResponse, Route};
use quickassist_webhooks::receive::IntakeReceiver;

use crate::{middleware::request_head, response::answered_response};

/// A `POST` route serving the intake mode: each request is verified, stored in the
/// [`IntakeReceiver`]'s intake (a durable inbox) and answered, with no handler of yours.
///
/// It answers `200 {"status":"accepted"}` once stored, `200` + `x-webhook-duplicate: true`
/// for a copy already stored, `503 store_unavailable` when the intake fails, and the same
/// rejections as [`WebhookMiddleware`](crate::WebhookMiddleware) before that. Each response carries the
/// [`Outcome`](quickassist_webhooks::receive::Outcome) in its extensions, and an answer given
/// after verification the `Envelope` too.
///
/// Build the [`IntakeReceiver`] once, outside `HttpServer::new`, and clone it into the
/// factory.
///
/// ```
/// use actix_web::App;
/// use quickassist_webhooks::{receive::{Delivery, Intake, IntakeFuture, Receiver, Stored}, Verifier};
/// use quickassist_webhooks_actix::intake_route;
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
/// let app = App::new().route("/webhooks/thequickassist", intake_route(intake));
/// # Ok::<_, quickassist_webhooks::idempotency::ConfigError>(())
/// ```
pub fn intake_route(intake: IntakeReceiver) -> Route {
    web::post().to(move |request: HttpRequest, payload: web::Payload| {
        let intake = intake.clone();
        async move { answer(&intake, &request, payload).await }
    })
}

async fn answer(
    intake: &IntakeReceiver,
    request: &HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let head = request_head(intake.receiver(), request);
    let answered = intake.receive(&head, payload).await;
    answered_response(answered.answer, answered.envelope)
}
