//! The extractor [`Webhook`]: the verified, typed event in your handler's arguments.

use std::ops::Deref;

use actix_web::{
    dev::Payload, web, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError,
};
use futures_util::future::LocalBoxFuture;
use quickassist_webhooks::{
    receive::{integration::Answer, Receiver, VerifiedDelivery},
    rejection::Rejection,
    Envelope, Event, Verifier,
};
use serde::de::DeserializeOwned;

use crate::{middleware::request_head, response::answer_response};

/// Extracts the verified [`Envelope`] of a webhook delivery.
///
/// Behind [`WebhookMiddleware`](crate::WebhookMiddleware) it takes the envelope from the
/// [`VerifiedDelivery`] the middleware put in the request extensions (with your own event
/// type `E`, the signed bytes are parsed into it); only the pipeline makes one, so nothing
/// another middleware inserts passes for a verified delivery. Used without the
/// middleware, it verifies the request itself with a [`Receiver`] or a [`Verifier`]
/// registered as app data (`App::new().app_data(web::Data::new(verifier))`); it does not
/// de-duplicate then.
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use quickassist_webhooks::{Event, Verifier};
/// use quickassist_webhooks_actix::Webhook;
///
/// async fn receive(Webhook(envelope): Webhook<Event>) -> HttpResponse {
///     match envelope.event {
///         Event::MessageRead(read) => println!("{} read", read.message_id),
///         other => println!("{}", other.name()),
///     }
///     HttpResponse::Ok().finish()
/// }
///
/// // Verification only, without the middleware:
/// let app = App::new()
///     .app_data(web::Data::new(Verifier::new("whsec_example")))
///     .route("/webhooks/thequickassist", web::post().to(receive));
/// # let _ = app;
/// ```
#[derive(Clone, Debug)]
pub struct Webhook<E = Event>(pub Envelope<E>);

impl<E> Webhook<E> {
    /// The envelope.
    pub fn into_inner(self) -> Envelope<E> {
        self.0
    }
}

impl<E> Deref for Webhook<E> {
    type Target = Envelope<E>;

    fn deref(&self) -> &Envelope<E> {
        &self.0
    }
}

impl<E: DeserializeOwned + 'static> FromRequest for Webhook<E> {
    type Error = WebhookRejection;
    type Future = LocalBoxFuture<'static, Result<Self, WebhookRejection>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Only the pipeline makes a `VerifiedDelivery`: finding one means the middleware
        // verified this request, whatever else another middleware inserted.
        if let Some(verified) = request.extensions_mut().remove::<VerifiedDelivery>() {
            let envelope = verified.into_envelope().map(Self).map_err(Into::into);
            return Box::pin(std::future::ready(envelope));
        }
        let receiver = configured_receiver(request);
        let head = receiver
            .as_ref()
            .map(|receiver| request_head(receiver, request));
        let payload = payload.take();
        Box::pin(async move {
            let (Some(receiver), Some(head)) = (receiver, head) else {
                return Err(Rejection::NotConfigured.into());
            };
            let verified = receiver.verify(&head, payload).await?;
            Ok(Self(verified.into_envelope()?))
        })
    }
}

/// The receiver registered as app data, or a verify-only one from a registered verifier.
fn configured_receiver(request: &HttpRequest) -> Option<Receiver> {
    let receiver = request
        .app_data::<web::Data<Receiver>>()
        .map(|data| data.get_ref())
        .or_else(|| request.app_data::<Receiver>());
    if let Some(receiver) = receiver {
        return Some(receiver.clone());
    }
    request
        .app_data::<web::Data<Verifier>>()
        .map(|data| data.get_ref())
        .or_else(|| request.app_data::<Verifier>())
        .map(|verifier| Receiver::verify_only(verifier.clone()))
}

/// Why [`Webhook`] refused a request; answered with the core [`Rejection`]'s status, JSON
/// body and headers, exactly as the middleware answers (401, 413, 408, 400; 500 when
/// nothing is configured to verify with).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(transparent)]
pub struct WebhookRejection(#[from] pub Rejection);

impl ResponseError for WebhookRejection {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::from_u16(self.0.status())
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        answer_response(Answer::rejected(self.0))
    }
}
